package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
)

// Freezing (issue 9, scope 5). When the hub's reconciliation finds that a
// node's blocks differ from the hub's copy, the units concerned are blocked
// until the registry corrects its records: the UK ETS transaction log
// "blocks" units in a discrepancy and the Kyoto ITL keeps a unit block
// under reconciliation out of any transaction until the inconsistency is
// resolved (domain: article6.md, reconciliation). Here a freeze is a
// journaled transaction of the hub actor naming serial ranges by origin
// issuance; while it is active the serials cannot be transferred, retired,
// cancelled, reserved, or exported (an escrow holding them cannot
// complete). A freeze moves no unit: quantities, balances and block states
// are unchanged, so every ledger invariant holds across it. It names
// serials by origin, not by local issuance, because the serials concerned
// may not be in this registry at all (an import the node lost): the
// correcting transaction (the import re-delivered) can then still arrive,
// and the units stay frozen until an administrator unfreezes them with a
// reason, after checking the correction.

// FreezeBlock is a serial range of an origin issuance a freeze covers.
type FreezeBlock struct {
	Origin Origin `json:"origin"`
	Start  int64  `json:"start"`
	End    int64  `json:"end"`
}

// Freeze blocks serial ranges after a reconciliation discrepancy (hub only).
type Freeze struct {
	// Code is the reconciliation finding's code (reconcile_missing, …).
	Code string `json:"code" limit:"64"`
	// Reconciliation is the hub's id of the reconciliation that found it.
	Reconciliation string        `json:"reconciliation,omitempty" limit:"100"`
	Reason         string        `json:"reason" limit:"1000"`
	Blocks         []FreezeBlock `json:"blocks"`
}

// Unfreeze lifts a freeze (registry administrator), with a reason: the
// correcting transaction it was waiting for.
type Unfreeze struct {
	// Freeze is the journal sequence number of the freeze lifted.
	Freeze int64  `json:"freeze"`
	Reason string `json:"reason" limit:"1000"`
}

func (Freeze) Kind() string   { return "freeze" }
func (Unfreeze) Kind() string { return "unfreeze" }

// Codes of freezing.
const (
	// CodeUnitsFrozen: the units are frozen by a reconciliation
	// discrepancy and cannot move until an administrator unfreezes them.
	CodeUnitsFrozen = "units_frozen"
	// CodeFreezeNotFound: no active freeze with that sequence number.
	CodeFreezeNotFound = "freeze_not_found"
)

// maxFreezeBlocks bounds one freeze, like an import.
const maxFreezeBlocks = 1000

// frozenIndex is the active freezes. It is copy-on-write (freezes are
// rare), so a state clone shares it, and nil means nothing is frozen.
type frozenIndex struct {
	active   map[int64]Freeze
	byOrigin map[Origin][]frozenRange
}

type frozenRange struct{ start, end, seq int64 }

func (x *frozenIndex) build(active map[int64]Freeze) *frozenIndex {
	c := &frozenIndex{active: active, byOrigin: map[Origin][]frozenRange{}}
	for seq, f := range active {
		for _, b := range f.Blocks {
			c.byOrigin[b.Origin] = append(c.byOrigin[b.Origin], frozenRange{b.Start, b.End, seq})
		}
	}
	for o, rs := range c.byOrigin {
		sort.Slice(rs, func(i, j int) bool {
			return rs[i].start < rs[j].start || rs[i].start == rs[j].start && rs[i].seq < rs[j].seq
		})
		c.byOrigin[o] = rs
	}
	return c
}

func (x *frozenIndex) with(seq int64, f Freeze) *frozenIndex {
	m := map[int64]Freeze{}
	if x != nil {
		maps.Copy(m, x.active)
	}
	m[seq] = f
	return x.build(m)
}

func (x *frozenIndex) without(seq int64) *frozenIndex {
	m := maps.Clone(x.active)
	delete(m, seq)
	if len(m) == 0 {
		return nil
	}
	return x.build(m)
}

// overlap returns the first frozen range meeting [start, end] of o.
func (x *frozenIndex) overlap(o Origin, start, end int64) (frozenRange, bool) {
	if x == nil {
		return frozenRange{}, false
	}
	for _, r := range x.byOrigin[o] {
		if r.start <= end && start <= r.end {
			return r, true
		}
	}
	return frozenRange{}, false
}

// free returns the parts of [start, end] of o that no freeze covers, in
// serial order.
func (x *frozenIndex) free(o Origin, start, end int64) [][2]int64 {
	if x == nil || len(x.byOrigin[o]) == 0 {
		return [][2]int64{{start, end}}
	}
	var out [][2]int64
	at := start
	for _, r := range x.byOrigin[o] {
		if r.end < at || r.start > end {
			continue
		}
		if r.start > at {
			out = append(out, [2]int64{at, r.start - 1})
		}
		at = max(at, r.end+1)
		if at > end {
			return out
		}
	}
	return append(out, [2]int64{at, end})
}

// unfrozen splits the pieces of a quantity selection's block into the
// parts that may move.
func (n *Node) unfrozen(iss, start, end int64) [][2]int64 {
	return n.st.frozen.free(n.origin(iss), start, end)
}

// checkFrozen refuses pieces that meet an active freeze.
func (n *Node) checkFrozen(field string, ps []piece) error {
	if n.st.frozen == nil {
		return nil
	}
	for _, p := range ps {
		o := n.origin(p.Issuance)
		if r, ok := n.st.frozen.overlap(o, p.Start, p.End); ok {
			return ledger.Errorf(ledger.KindConflict, CodeUnitsFrozen, 0, field, "units %d-%d of %s/%d are frozen by freeze %d (reconciliation discrepancy) until an administrator unfreezes them",
				max(p.Start, r.start), min(p.End, r.end), o.Registry, o.Issuance, r.seq)
		}
	}
	return nil
}

func (n *Node) freeze(w *writeSet, a Actor, r Freeze, res *Result) error {
	if n.st.orgs.Get(a.OrgID) == nil {
		return forbidden("the hub acts for an organisation of this registry; organisation %d is not one", a.OrgID)
	}
	if err := text("code", r.Code, 64, true); err != nil {
		return err
	}
	if err := text("reconciliation", r.Reconciliation, 100, false); err != nil {
		return err
	}
	if err := text("reason", r.Reason, 1000, true); err != nil {
		return err
	}
	if len(r.Blocks) == 0 || len(r.Blocks) > maxFreezeBlocks {
		return invalid("blocks", "a freeze names 1 to %d blocks, not %d", maxFreezeBlocks, len(r.Blocks))
	}
	for i, b := range r.Blocks {
		field := fmt.Sprintf("blocks[%d]", i)
		switch {
		case !ledger.ValidCode(b.Origin.Registry):
			return invalid(field+".origin.registry", "origin registry %q is not a registry code", b.Origin.Registry)
		case b.Origin.Issuance <= 0:
			return invalid(field+".origin.issuance_id", "origin issuance id must be positive, not %d", b.Origin.Issuance)
		case b.Start < 1 || b.End < b.Start || b.End > ledger.MaxSerial:
			return invalid(field, "serials %d-%d are not a serial range", b.Start, b.End)
		}
	}
	n.st.frozen = n.st.frozen.with(res.Seq, r)
	return nil
}

func (n *Node) unfreeze(w *writeSet, a Actor, r Unfreeze, res *Result) error {
	if err := text("reason", r.Reason, 1000, true); err != nil {
		return err
	}
	if n.st.frozen == nil {
		return ledger.Errorf(ledger.KindNotExist, CodeFreezeNotFound, 0, "freeze", "no active freeze %d", r.Freeze)
	}
	if _, ok := n.st.frozen.active[r.Freeze]; !ok {
		return ledger.Errorf(ledger.KindNotExist, CodeFreezeNotFound, 0, "freeze", "no active freeze %d", r.Freeze)
	}
	n.st.frozen = n.st.frozen.without(r.Freeze)
	return nil
}

// FreezeView is an active freeze.
type FreezeView struct {
	Seq int64 `json:"seq"`
	Freeze
}

// Freezes lists the active freezes, by sequence number (administrators,
// auditors and the hub).
func (n *Node) Freezes(v Actor) ([]FreezeView, error) {
	n = n.reader()
	if !n.seesAll(v) && v.Role != RoleHub {
		return nil, notPermitted(v)
	}
	return n.freezeViews(), nil
}

func (n *Node) freezeViews() []FreezeView {
	var out []FreezeView
	if n.st.frozen == nil {
		return out
	}
	for seq, f := range n.st.frozen.active {
		out = append(out, FreezeView{Seq: seq, Freeze: f})
	}
	slices.SortFunc(out, func(a, b FreezeView) int { return int(a.Seq - b.Seq) })
	return out
}

// Snapshot is a node's blocks by origin issuance at one journal position:
// what the hub reconciles against its copy.
type Snapshot struct {
	Registry string        `json:"registry"`
	Seq      int64         `json:"seq"`
	Hash     string        `json:"hash"`
	Blocks   []OriginBlock `json:"blocks"`
	Frozen   []FreezeView  `json:"frozen"`
}

// Snapshot returns the node's blocks by origin issuance and its active
// freezes, all from one committed state, with that state's journal head
// (administrators, auditors and the hub).
func (n *Node) Snapshot(v Actor) (Snapshot, error) {
	r := n.reader()
	if !r.seesAll(v) && v.Role != RoleHub {
		return Snapshot{}, notPermitted(v)
	}
	hash := r.st.head.Hash
	if r.st.head.Seq == 0 {
		hash = ledger.GenesisHash
	}
	return Snapshot{Registry: r.code, Seq: r.st.head.Seq, Hash: hash, Blocks: r.originBlocks(), Frozen: r.freezeViews()}, nil
}

// loadFreezes rebuilds the active freezes from the journal.
func loadFreezes(ctx context.Context, db *store.DB, st *state) error {
	fs, err := db.Entries(ctx, store.EntryFilter{Kind: (Freeze{}).Kind()})
	if err != nil {
		return err
	}
	if len(fs) == 0 {
		return nil
	}
	active := map[int64]Freeze{}
	for _, e := range fs {
		var body struct {
			Request Freeze `json:"request"`
		}
		if err := json.Unmarshal([]byte(e.Body), &body); err != nil {
			return fmt.Errorf("registry: load: freeze entry %d: %w", e.Seq, err)
		}
		active[e.Seq] = body.Request
	}
	us, err := db.Entries(ctx, store.EntryFilter{Kind: (Unfreeze{}).Kind()})
	if err != nil {
		return err
	}
	for _, e := range us {
		var body struct {
			Request Unfreeze `json:"request"`
		}
		if err := json.Unmarshal([]byte(e.Body), &body); err != nil {
			return fmt.Errorf("registry: load: unfreeze entry %d: %w", e.Seq, err)
		}
		delete(active, body.Request.Freeze)
	}
	if len(active) > 0 {
		st.frozen = (*frozenIndex)(nil).build(active)
	}
	return nil
}

// LoadView reads the committed state of the node whose database is db
// into a node that only reads: no writer, no serving lock, nothing
// written (db may be opened read-only). Corridor-wide checks (verify
// --corridor) read every registry's blocks through it while the servers
// run or not.
func LoadView(ctx context.Context, db *store.DB) (*Node, error) {
	code, err := db.Meta(ctx, "registry_code")
	if err != nil {
		return nil, err
	}
	if code == "" {
		return nil, fmt.Errorf("registry: the database has no registry code; is it a Corridor node?")
	}
	n := &Node{code: code, db: db}
	st, err := n.load(ctx)
	if err != nil {
		return nil, err
	}
	n.pub.Store(st)
	return n, nil
}
