package registry

import (
	"fmt"
	"slices"
	"time"

	"github.com/google/btree"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

// state is a node's whole ledger in memory. A committed state (Node.view) is
// never changed again: readers query it without a lock. The writer goroutine
// changes only its own clone (Node.st) and publishes it once it is durable;
// the database holds the same state as of the last commit, and state is
// rebuilt from it at start-up.
type state struct {
	orgs      map[int64]*ledger.Organisation
	accounts  map[int64]*ledger.Account
	issuances map[int64]*ledger.Issuance
	// blocks holds, per issuance, its blocks keyed by start serial.
	blocks map[int64]*btree.BTreeG[ledger.Block]
	// held indexes, per account, its held blocks in the order a transfer by
	// quantity takes them: oldest vintage, then issuance, then serial.
	held map[int64]*btree.BTreeG[holdKey]
	// pending maps a reserve transaction's sequence number to it.
	pending map[int64]*pendingTxn
	// settled maps a settled reservation to the kind that settled it.
	settled map[int64]string
	// bal counts units per account, unit type and state.
	bal map[balKey]int64
	// byState counts units per issuance and state (conservation check).
	byState map[int64]*[nStates]int64
	// unitTypes are the unit types issued, sorted.
	unitTypes []string
	// issued is the sum of every issuance's quantity; every balance and
	// total is a part of it, so it bounds them all.
	issued int64
	// origins maps foreign issuances to their origin (crossborder.go).
	origins *originIndex
	head    ledger.Entry
	nextID  struct{ org, account, issuance int64 }
}

type holdKey struct {
	Vintage  int
	Issuance int64
	Start    int64
}

func holdLess(a, b holdKey) bool {
	if a.Vintage != b.Vintage {
		return a.Vintage < b.Vintage
	}
	if a.Issuance != b.Issuance {
		return a.Issuance < b.Issuance
	}
	return a.Start < b.Start
}

func blockLess(a, b ledger.Block) bool { return a.Start < b.Start }

type balKey struct {
	Account  int64
	UnitType string
	State    ledger.State
}

type pendingTxn struct {
	Seq       int64
	From      int64
	ToAccount int64  // 0 when the units leave this registry on completion
	ToRemote  string // destination named for an external transfer
	Blocks    []blockRef
	Authority Authority // who may complete or void it (escrow.go)
	Expires   time.Time // when the node voids it
}

type blockRef struct{ Issuance, Start int64 }

const nStates = 5

var stateIndex = map[ledger.State]int{ledger.Held: 0, ledger.Reserved: 1, ledger.Retired: 2, ledger.Cancelled: 3, ledger.Exported: 4}

func newState() *state {
	return &state{
		orgs:      map[int64]*ledger.Organisation{},
		accounts:  map[int64]*ledger.Account{},
		issuances: map[int64]*ledger.Issuance{},
		blocks:    map[int64]*btree.BTreeG[ledger.Block]{},
		held:      map[int64]*btree.BTreeG[holdKey]{},
		pending:   map[int64]*pendingTxn{},
		settled:   map[int64]string{},
		bal:       map[balKey]int64{},
		byState:   map[int64]*[nStates]int64{},
	}
}

func (s *state) addOrg(o ledger.Organisation) {
	s.orgs[o.ID] = &o
	s.nextID.org = max(s.nextID.org, o.ID)
}

func (s *state) addAccount(a ledger.Account) {
	s.accounts[a.ID] = &a
	s.nextID.account = max(s.nextID.account, a.ID)
}

func (s *state) addIssuance(x ledger.Issuance) {
	s.issuances[x.ID] = &x
	if i, found := slices.BinarySearch(s.unitTypes, x.UnitType); !found {
		s.unitTypes = slices.Insert(s.unitTypes, i, x.UnitType)
	}
	s.blocks[x.ID] = btree.NewG(32, blockLess)
	s.byState[x.ID] = new([nStates]int64)
	s.issued += x.Quantity
	s.nextID.issuance = max(s.nextID.issuance, x.ID)
}

// putBlock inserts b (a new block or a new version of one) and keeps the
// indexes and counters in step. It is the only way blocks change.
func (s *state) putBlock(b ledger.Block) {
	tree := s.blocks[b.Issuance]
	if old, ok := tree.Get(b); ok {
		s.unindex(old)
	}
	tree.ReplaceOrInsert(b)
	s.index(b)
}

// deleteBlock removes b (merged into a neighbour).
func (s *state) deleteBlock(b ledger.Block) {
	if old, ok := s.blocks[b.Issuance].Delete(b); ok {
		s.unindex(old)
	}
}

func (s *state) index(b ledger.Block) {
	iss := s.issuances[b.Issuance]
	s.bal[balKey{b.Account, iss.UnitType, b.State}] += b.Count()
	s.byState[b.Issuance][stateIndex[b.State]] += b.Count()
	switch b.State {
	case ledger.Held:
		h := s.held[b.Account]
		if h == nil {
			h = btree.NewG(32, holdLess)
			s.held[b.Account] = h
		}
		h.ReplaceOrInsert(holdKey{iss.Vintage, b.Issuance, b.Start})
	case ledger.Reserved:
		if p := s.pending[b.Pending]; p != nil {
			p.Blocks = append(p.Blocks, blockRef{b.Issuance, b.Start})
		}
	}
}

func (s *state) unindex(b ledger.Block) {
	iss := s.issuances[b.Issuance]
	k := balKey{b.Account, iss.UnitType, b.State}
	if s.bal[k] -= b.Count(); s.bal[k] == 0 {
		delete(s.bal, k)
	}
	s.byState[b.Issuance][stateIndex[b.State]] -= b.Count()
	if b.State == ledger.Held {
		s.held[b.Account].Delete(holdKey{iss.Vintage, b.Issuance, b.Start})
	}
	// Reserved blocks leave their pending transaction only when it is
	// completed or voided, which drops the whole list.
}

// block returns the block that contains serial n of issuance iss.
func (s *state) block(iss, n int64) (ledger.Block, bool) {
	tree := s.blocks[iss]
	if tree == nil {
		return ledger.Block{}, false
	}
	var found ledger.Block
	ok := false
	tree.DescendLessOrEqual(ledger.Block{Start: n}, func(b ledger.Block) bool {
		found, ok = b, b.End >= n
		return false
	})
	return found, ok
}

// checkIssuance asserts the ledger invariants around the given blocks of one
// issuance: the neighbours of each touched block are contiguous (so the
// blocks still partition [1, issued]) and the per-state counts sum to the
// quantity issued (conservation).
func (s *state) checkIssuance(iss int64, starts []int64) error {
	x := s.issuances[iss]
	var sum int64
	for _, c := range s.byState[iss] {
		if c < 0 {
			return fmt.Errorf("registry: invariant: issuance %d has a negative state count", iss)
		}
		sum += c
	}
	if sum != x.Quantity {
		return fmt.Errorf("registry: invariant: issuance %d states sum to %d, issued %d", iss, sum, x.Quantity)
	}
	tree := s.blocks[iss]
	for _, st := range starts {
		b, ok := s.block(iss, st)
		if !ok {
			return fmt.Errorf("registry: invariant: issuance %d has no block holding serial %d", iss, st)
		}
		if b.Start == 1 {
			// first block
		} else if prev, ok := s.block(iss, b.Start-1); !ok || prev.End != b.Start-1 {
			return fmt.Errorf("registry: invariant: issuance %d has a gap or overlap before serial %d", iss, b.Start)
		}
		if b.End == x.Quantity {
			continue
		}
		next, ok := tree.Get(ledger.Block{Start: b.End + 1})
		if !ok || next.Start != b.End+1 {
			return fmt.Errorf("registry: invariant: issuance %d has a gap or overlap after serial %d", iss, b.End)
		}
	}
	return nil
}

// clone returns a copy of s that can be changed without changing s: the
// writer decides each batch on a clone of the committed state, so readers of
// the committed state never see a batch that is not yet durable, and a batch
// whose commit fails is dropped by dropping its clone. Block trees are
// copied lazily (btree's copy-on-write Clone); everything apply changes in
// place (account status, pending block lists, state counters) is copied.
func (s *state) clone() *state {
	c := &state{
		orgs:      make(map[int64]*ledger.Organisation, len(s.orgs)),
		accounts:  make(map[int64]*ledger.Account, len(s.accounts)),
		issuances: make(map[int64]*ledger.Issuance, len(s.issuances)),
		blocks:    make(map[int64]*btree.BTreeG[ledger.Block], len(s.blocks)),
		held:      make(map[int64]*btree.BTreeG[holdKey], len(s.held)),
		pending:   make(map[int64]*pendingTxn, len(s.pending)),
		settled:   make(map[int64]string, len(s.settled)),
		bal:       make(map[balKey]int64, len(s.bal)),
		byState:   make(map[int64]*[nStates]int64, len(s.byState)),
		unitTypes: slices.Clone(s.unitTypes),
		issued:    s.issued,
		origins:   s.origins,
		head:      s.head,
		nextID:    s.nextID,
	}
	for id, o := range s.orgs {
		cp := *o
		c.orgs[id] = &cp
	}
	accounts := make([]ledger.Account, 0, len(s.accounts))
	for id, a := range s.accounts {
		accounts = append(accounts, *a)
		c.accounts[id] = &accounts[len(accounts)-1]
	}
	for id, x := range s.issuances {
		cp := *x
		c.issuances[id] = &cp
	}
	for id, t := range s.blocks {
		c.blocks[id] = t.Clone()
	}
	for id, t := range s.held {
		c.held[id] = t.Clone()
	}
	for seq, p := range s.pending {
		cp := *p
		cp.Blocks = slices.Clone(p.Blocks)
		c.pending[seq] = &cp
	}
	for seq, k := range s.settled {
		c.settled[seq] = k
	}
	for k, v := range s.bal {
		c.bal[k] = v
	}
	counts := make([][nStates]int64, 0, len(s.byState))
	for id, v := range s.byState {
		counts = append(counts, *v)
		c.byState[id] = &counts[len(counts)-1]
	}
	return c
}
