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
// rebuilt from it at start-up. Every map is a pmap (copy-on-write), so a
// clone costs what the batch decided on it touches, not the registry's
// size.
type state struct {
	orgs      pmap[int64, *ledger.Organisation]
	accounts  pmap[int64, *ledger.Account]
	issuances pmap[int64, *ledger.Issuance]
	// blocks holds, per issuance, its blocks keyed by start serial.
	blocks pmap[int64, *btree.BTreeG[ledger.Block]]
	// held indexes, per account, its held blocks in the order a transfer by
	// quantity takes them: oldest vintage, then issuance, then serial.
	held pmap[int64, *btree.BTreeG[holdKey]]
	// pending maps a reserve transaction's sequence number to it.
	pending pmap[int64, *pendingTxn]
	// settled maps a settled reservation to the kind that settled it.
	settled pmap[int64, string]
	// bal counts units per account, unit type and state (ordered by
	// account first, so one account's balances are one range).
	bal pmap[balKey, int64]
	// byState counts units per issuance and state (conservation check).
	byState pmap[int64, [nStates]int64]
	// unitTypes are the unit types issued, sorted; shared with clones, so
	// it is replaced, never changed in place.
	unitTypes []string
	// issued is the sum of every issuance's quantity; every balance and
	// total is a part of it, so it bounds them all.
	issued int64
	// origins maps foreign issuances to their origin (crossborder.go).
	origins *originIndex
	// frozen is the active freezes (freeze.go); nil when none.
	frozen *frozenIndex
	// auths are the Article 6 authorisations recorded here (article6.go).
	auths pmap[string, authState]
	// authOf maps an issuance made here under one of those authorisations
	// to its id (article6.go, freezeExported).
	authOf pmap[int64, string]
	// decisions are the coordinated-issuance decisions a share was issued
	// under here, with the share's gross quantity (article6.go).
	decisions pmap[string, int64]
	// emissions, iccUsed and itmos are a Singapore registry's carbon-tax
	// facts (icc.go): taxable emissions and ICCs surrendered per account
	// and year, and the serial ranges per issuance that arrived as ITMOs.
	emissions, iccUsed pmap[iccKey, int64]
	itmos              pmap[int64, []iccSpan]
	head               ledger.Entry
	nextID             struct{ org, account, issuance int64 }
	// ownBlocks, ownHeld and ownPending name the trees and escrows this
	// state made itself since it was cloned (or created): only those may
	// be changed in place; any other is shared with the state it was
	// cloned from and is copied first (wtree, wheld, wpending).
	ownBlocks, ownHeld, ownPending map[int64]bool
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

func balLess(a, b balKey) bool {
	if a.Account != b.Account {
		return a.Account < b.Account
	}
	if a.UnitType != b.UnitType {
		return a.UnitType < b.UnitType
	}
	return a.State < b.State
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
		orgs:      newPmap[int64, *ledger.Organisation](),
		accounts:  newPmap[int64, *ledger.Account](),
		issuances: newPmap[int64, *ledger.Issuance](),
		blocks:    newPmap[int64, *btree.BTreeG[ledger.Block]](),
		held:      newPmap[int64, *btree.BTreeG[holdKey]](),
		pending:   newPmap[int64, *pendingTxn](),
		settled:   newPmap[int64, string](),
		bal:       newPmapFunc[balKey, int64](balLess),
		byState:   newPmap[int64, [nStates]int64](),
		auths:     newPmap[string, authState](),
		authOf:    newPmap[int64, string](),
		decisions: newPmap[string, int64](),
		emissions: newPmapFunc[iccKey, int64](iccLess),
		iccUsed:   newPmapFunc[iccKey, int64](iccLess),
		itmos:     newPmap[int64, []iccSpan](),
	}
}

func (s *state) addOrg(o ledger.Organisation) {
	s.orgs.Set(o.ID, &o)
	s.nextID.org = max(s.nextID.org, o.ID)
}

// addAccount adds a or replaces it (a new status): the old value may be
// shared with the state this one was cloned from, so it is never changed
// in place.
func (s *state) addAccount(a ledger.Account) {
	s.accounts.Set(a.ID, &a)
	s.nextID.account = max(s.nextID.account, a.ID)
}

func (s *state) addIssuance(x ledger.Issuance) {
	s.issuances.Set(x.ID, &x)
	if i, found := slices.BinarySearch(s.unitTypes, x.UnitType); !found {
		// Clip: the old slice may be a clone's too; insert into a copy.
		s.unitTypes = slices.Insert(slices.Clip(s.unitTypes), i, x.UnitType)
	}
	s.blocks.Set(x.ID, btree.NewG(32, blockLess))
	own(&s.ownBlocks, x.ID)
	s.issued += x.Quantity
	s.nextID.issuance = max(s.nextID.issuance, x.ID)
}

func own(set *map[int64]bool, id int64) {
	if *set == nil {
		*set = map[int64]bool{}
	}
	(*set)[id] = true
}

// tree returns issuance iss's blocks for reading (nil if unknown).
func (s *state) tree(iss int64) *btree.BTreeG[ledger.Block] { return s.blocks.Get(iss) }

// wtree returns issuance iss's blocks for changing: a lazy copy the first
// time this state changes them.
func (s *state) wtree(iss int64) *btree.BTreeG[ledger.Block] {
	t := s.blocks.Get(iss)
	if t != nil && !s.ownBlocks[iss] {
		t = t.Clone()
		s.blocks.Set(iss, t)
		own(&s.ownBlocks, iss)
	}
	return t
}

// wheld returns account acc's held index for changing, made if missing.
func (s *state) wheld(acc int64) *btree.BTreeG[holdKey] {
	h := s.held.Get(acc)
	switch {
	case h == nil:
		h = btree.NewG(32, holdLess)
	case !s.ownHeld[acc]:
		h = h.Clone()
	default:
		return h
	}
	s.held.Set(acc, h)
	own(&s.ownHeld, acc)
	return h
}

// putPending adds an escrow this state made.
func (s *state) putPending(p *pendingTxn) {
	s.pending.Set(p.Seq, p)
	own(&s.ownPending, p.Seq)
}

// wpending returns escrow seq for changing (nil if there is none).
func (s *state) wpending(seq int64) *pendingTxn {
	p := s.pending.Get(seq)
	if p != nil && !s.ownPending[seq] {
		cp := *p
		cp.Blocks = slices.Clone(p.Blocks)
		p = &cp
		s.putPending(p)
	}
	return p
}

// blocksNow returns s's blocks as they are now, which later changes to s
// leave as they are: s gives up owning its trees, so it copies each one
// before it next changes it (as clone does).
func (s *state) blocksNow() pmap[int64, *btree.BTreeG[ledger.Block]] {
	s.ownBlocks = nil
	return s.blocks.clone()
}

// putBlock inserts b (a new block or a new version of one) and keeps the
// indexes and counters in step. It is the only way blocks change.
func (s *state) putBlock(b ledger.Block) {
	tree := s.wtree(b.Issuance)
	if old, ok := tree.Get(b); ok {
		s.unindex(old)
	}
	tree.ReplaceOrInsert(b)
	s.index(b)
}

// deleteBlock removes b (merged into a neighbour).
func (s *state) deleteBlock(b ledger.Block) {
	if old, ok := s.wtree(b.Issuance).Delete(b); ok {
		s.unindex(old)
	}
}

func (s *state) count(b ledger.Block, sign int64) {
	c := s.byState.Get(b.Issuance)
	c[stateIndex[b.State]] += sign * b.Count()
	s.byState.Set(b.Issuance, c)
}

func (s *state) index(b ledger.Block) {
	iss := s.issuances.Get(b.Issuance)
	k := balKey{b.Account, iss.UnitType, b.State}
	s.bal.Set(k, s.bal.Get(k)+b.Count())
	s.count(b, 1)
	switch b.State {
	case ledger.Held:
		s.wheld(b.Account).ReplaceOrInsert(holdKey{iss.Vintage, b.Issuance, b.Start})
	case ledger.Reserved:
		if p := s.wpending(b.Pending); p != nil {
			p.Blocks = append(p.Blocks, blockRef{b.Issuance, b.Start})
		}
	}
}

func (s *state) unindex(b ledger.Block) {
	iss := s.issuances.Get(b.Issuance)
	k := balKey{b.Account, iss.UnitType, b.State}
	if v := s.bal.Get(k) - b.Count(); v == 0 {
		s.bal.Delete(k)
	} else {
		s.bal.Set(k, v)
	}
	s.count(b, -1)
	if b.State == ledger.Held {
		s.wheld(b.Account).Delete(holdKey{iss.Vintage, b.Issuance, b.Start})
	}
	// Reserved blocks leave their pending transaction only when it is
	// completed or voided, which drops the whole list.
}

// block returns the block that contains serial n of issuance iss.
func (s *state) block(iss, n int64) (ledger.Block, bool) {
	tree := s.tree(iss)
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
	x := s.issuances.Get(iss)
	var sum int64
	for _, c := range s.byState.Get(iss) {
		if c < 0 {
			return fmt.Errorf("registry: invariant: issuance %d has a negative state count", iss)
		}
		sum += c
	}
	if sum != x.Quantity {
		return fmt.Errorf("registry: invariant: issuance %d states sum to %d, issued %d", iss, sum, x.Quantity)
	}
	tree := s.tree(iss)
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
// whose commit fails is dropped by dropping its clone. It costs O(1): every
// map is cloned lazily (pmap, btree's copy-on-write), and the trees and
// escrows the two share are copied by whichever changes one first. Neither
// s nor the clone owns anything afterwards, so s too could change without
// changing the clone.
func (s *state) clone() *state {
	s.ownBlocks, s.ownHeld, s.ownPending = nil, nil, nil
	return &state{
		orgs:      s.orgs.clone(),
		accounts:  s.accounts.clone(),
		issuances: s.issuances.clone(),
		blocks:    s.blocks.clone(),
		held:      s.held.clone(),
		pending:   s.pending.clone(),
		settled:   s.settled.clone(),
		bal:       s.bal.clone(),
		byState:   s.byState.clone(),
		auths:     s.auths.clone(),
		authOf:    s.authOf.clone(),
		decisions: s.decisions.clone(),
		emissions: s.emissions.clone(),
		iccUsed:   s.iccUsed.clone(),
		itmos:     s.itmos.clone(),
		unitTypes: s.unitTypes,
		issued:    s.issued,
		origins:   s.origins,
		frozen:    s.frozen,
		head:      s.head,
		nextID:    s.nextID,
	}
}
