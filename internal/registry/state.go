package registry

import (
	"fmt"
	"slices"

	"github.com/google/btree"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

// state is a node's whole ledger in memory. The writer goroutine mutates it
// (under Node.mu) and readers query it; the database holds the same state as
// of the last commit, and state is rebuilt from it at start-up.
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
	head   ledger.Entry
	nextID struct{ org, account, issuance int64 }
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
