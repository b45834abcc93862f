package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"sort"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
)

// Units that arrive from another registry keep their serials (DESIGN.md,
// ledger rules: "an import keeps the serials"). A node records them as
// blocks of the ORIGIN issuance, never as a new issuance of its own:
//
//   - the first import of an origin issuance creates a local record of it
//     (same standard, unit type, project, vintage and quantity as at the
//     origin) whose blocks partition [1, quantity] like any issuance here;
//     the serials that are not in this registry sit in one block state
//     exported in the corridor account (an account of the hub's
//     organisation, suspended, that nothing can move into or out of);
//   - an import moves the serials it brings from exported to held in the
//     acquiring account: exported here means "not in this registry", so a
//     unit that leaves again (TH → SG) becomes exported again and one that
//     returns to its origin registry (TH → CN) becomes held again there,
//     the same block, never a second copy.
//
// So every invariant the node already checks (partition, conservation per
// issuance, replay) holds for foreign issuances unchanged; corridor-wide
// conservation (CheckCorridor in package hub) compares the nodes.

// Origin names an issuance in its origin registry.
type Origin struct {
	Registry string `json:"registry" limit:"12"`
	Issuance int64  `json:"issuance_id"`
}

// OriginIssuance is what the origin registry publishes about an issuance
// (its public issuance read), carried by an import so the acquirer records
// the same issuance.
type OriginIssuance struct {
	Origin
	IssuanceFacts
}

// ImportBlock is a serial range of an origin issuance arriving here.
type ImportBlock struct {
	Origin OriginIssuance `json:"origin"`
	Start  int64          `json:"start"`
	End    int64          `json:"end"`
	// ITMO is the Article 6 statement the hub attaches to ITMOs: the
	// authorisation they carry and their ITMO identifiers (article6.go).
	ITMO *ImportITMO `json:"itmo,omitempty"`
}

// ImportITMO names the ITMOs an import block brings: the authorisation
// and version they carry and the identifiers of its first and last unit
// (APPROACH.REGISTRY.PARTY.VINTAGE.ISSUANCE.UNIT, internal/article6),
// unchanged by every later transfer.
type ImportITMO struct {
	Authorisation string `json:"authorisation" limit:"64"`
	Version       int    `json:"version"`
	First         string `json:"first" limit:"100"`
	Last          string `json:"last" limit:"100"`
	// Purposes are the purposes the authorisation allows as the hub's
	// record has them ("NDC", "OIMP", "OP", comma-separated in that
	// order; protocol.Article6Units.Purposes); empty when the hub did not
	// state them (an import journaled before it did): unknown, not none.
	// A Singapore registry keeps them with the ITMO ranges (icc.go).
	Purposes string `json:"purposes,omitempty" limit:"16"`
}

// Import records units another registry exported to this one through the
// hub: the blocks are created in the acquiring account with their original
// serials. Only the hub submits it, after the sender completed its escrow
// (DES status 4), with the hub's message id as the idempotency key.
type Import struct {
	// Transfer is the hub's cross-registry transaction id.
	Transfer  string        `json:"transfer" limit:"100"`
	ToAccount int64         `json:"to_account"`
	Blocks    []ImportBlock `json:"blocks"`
}

func (Import) Kind() string { return "import" }

// Codes of an import's refusals.
const (
	// CodeUnitsPresent: some serials of the import are already in this
	// registry (held, reserved, retired or cancelled here): a second copy.
	CodeUnitsPresent = "units_present"
	// CodeOriginMismatch: the origin issuance described differs from the
	// one recorded here.
	CodeOriginMismatch = "origin_mismatch"
)

// originIndex maps foreign issuances to their origin and back. It is
// copy-on-write (imports are rare), so a state clone shares it.
type originIndex struct {
	of    map[int64]Origin
	local map[Origin]int64
	// corridor is the account holding the serials of foreign issuances that
	// are not in this registry (0 until the first foreign import).
	corridor int64
}

func (x *originIndex) copy() *originIndex {
	c := &originIndex{of: map[int64]Origin{}, local: map[Origin]int64{}}
	if x != nil {
		maps.Copy(c.of, x.of)
		maps.Copy(c.local, x.local)
		c.corridor = x.corridor
	}
	return c
}

func (x *originIndex) with(id int64, o Origin) *originIndex {
	c := x.copy()
	c.of[id], c.local[o] = o, id
	return c
}

func (x *originIndex) withCorridor(account int64) *originIndex {
	c := x.copy()
	c.corridor = account
	return c
}

// origin returns the origin of local issuance id: its own registry for an
// issuance made here.
func (n *Node) origin(id int64) Origin {
	if n.st.origins != nil {
		if o, ok := n.st.origins.of[id]; ok {
			return o
		}
	}
	return Origin{Registry: n.code, Issuance: id}
}

// localIssuance returns the local id of an origin issuance, if recorded here.
func (n *Node) localIssuance(o Origin) (int64, bool) {
	if o.Registry == n.code {
		return o.Issuance, n.st.issuances.Get(o.Issuance) != nil
	}
	if n.st.origins == nil {
		return 0, false
	}
	id, ok := n.st.origins.local[o]
	return id, ok
}

// IsForeign reports whether local issuance id is a record of another
// registry's issuance.
func (n *Node) IsForeign(id int64) bool {
	n = n.reader()
	return n.origin(id).Registry != n.code
}

// serialOf is the serial text of [start, end] of local issuance x: the
// origin registry and issuance id, whichever registry holds the units.
func (n *Node) serialOf(x *ledger.Issuance, start, end int64) ledger.Serial {
	o := n.origin(x.ID)
	return ledger.Serial{Registry: o.Registry, UnitType: x.UnitType, Project: x.Project, Vintage: x.Vintage, Issuance: o.Issuance, Start: start, End: end}
}

// localSerial maps a serial naming an origin issuance recorded here to the
// local issuance id; other serials come back unchanged.
func (n *Node) localSerial(s ledger.Serial) ledger.Serial {
	if s.Registry == n.code {
		return s
	}
	if id, ok := n.localIssuance(Origin{s.Registry, s.Issuance}); ok {
		s.Registry, s.Issuance = n.code, id
	}
	return s
}

// hubKeyPrefix starts the idempotency keys the hub submits with (its
// message ids); only the hub actor may use it.
const hubKeyPrefix = "hub:"

// MaxImportBlocks bounds one import, like the serial ranges of a transfer
// (the hub splits no notice above it).
const MaxImportBlocks = 1000

func (n *Node) importUnits(w *writeSet, a Actor, r Import, res *Result) error {
	if n.st.orgs.Get(a.OrgID) == nil {
		return forbidden("the hub acts for an organisation of this registry; organisation %d is not one", a.OrgID)
	}
	if err := text("transfer", r.Transfer, 100, true); err != nil {
		return err
	}
	to, err := n.account("to_account", r.ToAccount, ledger.CodeAcquiringNotFound, 2002)
	if err != nil {
		return err
	}
	if !receivable(to) {
		return ledger.Errorf(ledger.KindInvalid, ledger.CodeAccountType, 0, "to_account", "units cannot be imported into a %s account", to.Type)
	}
	if len(r.Blocks) == 0 || len(r.Blocks) > MaxImportBlocks {
		return invalid("blocks", "an import carries 1 to %d blocks, not %d", MaxImportBlocks, len(r.Blocks))
	}
	// Validate every block before changing anything.
	type planned struct {
		b     ImportBlock
		local int64 // 0: a foreign issuance recorded by this import
	}
	plan := make([]planned, 0, len(r.Blocks))
	fresh := map[Origin]OriginIssuance{}
	var added int64
	for i, b := range r.Blocks {
		field := fmt.Sprintf("blocks[%d]", i)
		o := b.Origin
		if err := checkOrigin(field, o); err != nil {
			return err
		}
		if b.Start < 1 || b.End < b.Start || b.End > o.Quantity {
			return ledger.Errorf(ledger.KindInvalid, ledger.CodeSerialInvalid, 0, field, "serials %d-%d are not inside the issuance's 1-%d", b.Start, b.End, o.Quantity)
		}
		if err := checkImportITMO(field+".itmo", b); err != nil {
			return err
		}
		if err := checkImportPurposes(field+".itmo.purposes", b.ITMO); err != nil {
			return err
		}
		if b.Origin.UnitType != r.Blocks[0].Origin.UnitType {
			return ledger.Errorf(ledger.KindInvalid, ledger.CodeMixedUnitTypes, 3009, field, "one transaction may move one unit type; %s and %s given", r.Blocks[0].Origin.UnitType, o.UnitType)
		}
		id, ok := n.localIssuance(o.Origin)
		switch {
		case ok:
			if x := n.st.issuances.Get(id); !sameIssuance(x, o) {
				return ledger.Errorf(ledger.KindConflict, CodeOriginMismatch, 0, field, "issuance %s/%d is recorded here with other attributes", o.Registry, o.Issuance)
			}
			if err := n.allExported(field, id, b.Start, b.End); err != nil {
				return err
			}
		case o.Registry == n.code:
			return ledger.Errorf(ledger.KindNotExist, ledger.CodeSerialInvalid, 0, field, "issuance %d was never issued here", o.Issuance)
		default:
			if prev, seen := fresh[o.Origin]; seen && prev != o {
				return ledger.Errorf(ledger.KindInvalid, CodeOriginMismatch, 0, field, "issuance %s/%d is described twice, differently", o.Registry, o.Issuance)
			} else if !seen {
				fresh[o.Origin] = o
				added += o.Quantity
			}
		}
		plan = append(plan, planned{b, id})
	}
	if n.st.issued > math.MaxInt64-added {
		return ledger.Errorf(ledger.KindInvalid, ledger.CodeQuantityInvalid, 3011, "blocks", "recording these issuances would take the units recorded here above %d", int64(math.MaxInt64))
	}
	sort.Slice(plan, func(i, j int) bool {
		a, b := plan[i].b, plan[j].b
		if a.Origin.Origin != b.Origin.Origin {
			return a.Origin.Registry < b.Origin.Registry || a.Origin.Registry == b.Origin.Registry && a.Origin.Issuance < b.Origin.Issuance
		}
		return a.Start < b.Start
	})
	for i := 1; i < len(plan); i++ {
		if plan[i].b.Origin.Origin == plan[i-1].b.Origin.Origin && plan[i].b.Start <= plan[i-1].b.End {
			return invalid("blocks", "blocks overlap")
		}
	}
	// Mutate: record new foreign issuances (deterministic order), then move
	// each range from exported to held.
	if len(fresh) > 0 && (n.st.origins == nil || n.st.origins.corridor == 0) {
		acc := ledger.Account{ID: n.st.nextID.account + 1, OrgID: a.OrgID, Type: ledger.Holding, Status: ledger.Suspended,
			Name: "Corridor: serials of foreign issuances not in this registry", CreatedAt: res.At}
		n.st.addAccount(acc)
		w.batch.Accounts = append(w.batch.Accounts, acc)
		n.st.origins = n.st.origins.withCorridor(acc.ID)
	}
	for i := range plan {
		p := &plan[i]
		if p.local != 0 {
			continue
		}
		if id, ok := n.localIssuance(p.b.Origin.Origin); ok {
			p.local = id
			continue
		}
		o := p.b.Origin
		x := ledger.Issuance{ID: n.st.nextID.issuance + 1, Standard: o.Standard, UnitType: o.UnitType, Project: o.Project, ProjectName: o.ProjectName,
			Methodology: o.Methodology, HostCountry: o.HostCountry, Vintage: o.Vintage, Quantity: o.Quantity, AccountID: n.st.origins.corridor, Seq: res.Seq, CreatedAt: res.At}
		n.st.addIssuance(x)
		w.batch.Issuances = append(w.batch.Issuances, x)
		n.st.origins = n.st.origins.with(x.ID, o.Origin)
		b := ledger.Block{Issuance: x.ID, Start: 1, End: x.Quantity, Account: x.AccountID, State: ledger.Exported}
		n.st.putBlock(b)
		w.dirty[blockRef{b.Issuance, b.Start}] = struct{}{}
		p.local = x.ID
	}
	// One piece per block the range covers: move works inside one block,
	// and an imported range may span several exported blocks (serials that
	// left from different accounts, or never were here, in the corridor
	// account).
	ps := make([]piece, 0, len(plan))
	for _, p := range plan {
		ps = append(ps, n.piecesIn(p.local, p.b.Start, p.b.End)...)
	}
	n.moveAll(w, res, ps, to.ID, ledger.Held, 0)
	if n.singapore() {
		n.st.rememberITMOs(n.code, r) // for ICC surrenders (icc.go)
	}
	return nil
}

// piecesIn splits serials [start, end] of issuance id at its block
// boundaries.
func (n *Node) piecesIn(id, start, end int64) []piece {
	var ps []piece
	n.st.blocks.Get(id).AscendGreaterOrEqual(ledger.Block{Start: n.blockStart(id, start)}, func(b ledger.Block) bool {
		if b.Start > end {
			return false
		}
		ps = append(ps, piece{id, max(b.Start, start), min(b.End, end)})
		return true
	})
	return ps
}

func checkOrigin(field string, o OriginIssuance) error {
	switch {
	case !ledger.ValidCode(o.Registry):
		return invalid(field+".origin.registry", "origin registry %q is not a registry code", o.Registry)
	case o.Issuance <= 0:
		return invalid(field+".origin.issuance_id", "origin issuance id must be positive, not %d", o.Issuance)
	case !ledger.ValidCode(o.UnitType):
		return invalid(field+".origin.unit_type", "unit type %q must be 2-12 upper-case letters or digits", o.UnitType)
	case !ledger.ValidProject(o.Project):
		return invalid(field+".origin.project", "project %q must be 1-64 letters, digits, '.', '_' or single '-'", o.Project)
	case o.Vintage < 1990 || o.Vintage > 2100:
		return invalid(field+".origin.vintage", "vintage %d must be a year between 1990 and 2100", o.Vintage)
	case o.Quantity <= 0 || o.Quantity > ledger.MaxSerial:
		return ledger.Errorf(ledger.KindInvalid, ledger.CodeQuantityInvalid, 3008, field+".origin.quantity", "quantity must be a positive integer of at most %d, not %d", ledger.MaxSerial, o.Quantity)
	}
	for _, f := range []struct{ name, v string }{{"standard", o.Standard}, {"project_name", o.ProjectName}, {"methodology", o.Methodology}} {
		if err := text(field+".origin."+f.name, f.v, 200, f.name == "standard"); err != nil {
			return err
		}
	}
	return country(field+".origin.host_country", o.HostCountry)
}

func sameIssuance(x *ledger.Issuance, o OriginIssuance) bool { return factsOf(x) == o.IssuanceFacts }

// factsOf returns the facts of issuance x.
func factsOf(x *ledger.Issuance) IssuanceFacts {
	return IssuanceFacts{Standard: x.Standard, UnitType: x.UnitType, Project: x.Project, ProjectName: x.ProjectName,
		Methodology: x.Methodology, HostCountry: x.HostCountry, Vintage: x.Vintage, Quantity: x.Quantity}
}

// allExported checks that serials [start, end] of local issuance id are
// not in this registry (state exported), so importing them makes no copy.
func (n *Node) allExported(field string, id, start, end int64) error {
	var bad error
	n.st.blocks.Get(id).AscendGreaterOrEqual(ledger.Block{Start: n.blockStart(id, start)}, func(b ledger.Block) bool {
		if b.Start > end {
			return false
		}
		if b.State != ledger.Exported {
			bad = ledger.Errorf(ledger.KindConflict, CodeUnitsPresent, 0, field, "units %d-%d are %s in this registry already", max(b.Start, start), min(b.End, end), b.State)
			return false
		}
		return true
	})
	return bad
}

// OriginOf describes local issuance id as its origin registry publishes it:
// what a sender attaches to blocks leaving this registry.
func (n *Node) OriginOf(id int64) (OriginIssuance, bool) {
	n = n.reader()
	x := n.st.issuances.Get(id)
	if x == nil {
		return OriginIssuance{}, false
	}
	return OriginIssuance{Origin: n.origin(id), IssuanceFacts: factsOf(x)}, true
}

// LocalIssuance returns the local id of an origin issuance recorded here.
func (n *Node) LocalIssuance(o Origin) (int64, bool) { return n.reader().localIssuance(o) }

// OriginBlock is a block as the corridor sees it: by origin issuance.
type OriginBlock struct {
	Origin    Origin       `json:"origin"`
	Start     int64        `json:"start"`
	End       int64        `json:"end"`
	AccountID int64        `json:"account_id"`
	State     ledger.State `json:"state"`
}

// OriginBlocks lists every block here by origin issuance, for corridor-wide
// checks (operator reads only: it shows accounts).
func (n *Node) OriginBlocks() []OriginBlock { return n.reader().originBlocks() }

func (n *Node) originBlocks() []OriginBlock {
	var out []OriginBlock
	ids := make([]int64, 0, n.st.blocks.Len())
	for id := range n.st.blocks.All() {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		o := n.origin(id)
		n.st.blocks.Get(id).Ascend(func(b ledger.Block) bool {
			out = append(out, OriginBlock{Origin: o, Start: b.Start, End: b.End, AccountID: b.Account, State: b.State})
			return true
		})
	}
	return out
}

// CheckAcquiring reports whether account id may receive an import: the
// acquiring registry's answer to a proposal (accept, or reject with this
// error's code).
func (n *Node) CheckAcquiring(id int64) error {
	n = n.reader()
	acc, err := n.account("to_account", id, ledger.CodeAcquiringNotFound, 2002)
	if err != nil {
		return err
	}
	if !receivable(acc) {
		return ledger.Errorf(ledger.KindInvalid, ledger.CodeAccountType, 0, "to_account", "units cannot be imported into a %s account", acc.Type)
	}
	return nil
}

// loadOrigins rebuilds the origin index from the import entries: an
// import records the origin issuances it is the first to bring in the
// order of its sorted blocks, with consecutive new issuance ids, so the
// issuances created in an entry's seq map back to their origins.
func loadOrigins(ctx context.Context, db *store.DB, st *state, code string) error {
	es, err := db.Entries(ctx, store.EntryFilter{Kind: (Import{}).Kind()})
	if err != nil {
		return err
	}
	bySeq := map[int64][]*ledger.Issuance{}
	for _, x := range st.issuances.All() {
		bySeq[x.Seq] = append(bySeq[x.Seq], x)
	}
	for _, e := range es {
		created := bySeq[e.Seq]
		if len(created) == 0 {
			continue
		}
		sort.Slice(created, func(i, j int) bool { return created[i].ID < created[j].ID })
		var body struct {
			Request Import `json:"request"`
		}
		if err := json.Unmarshal([]byte(e.Body), &body); err != nil {
			return fmt.Errorf("registry: load: import entry %d: %w", e.Seq, err)
		}
		for _, o := range freshOrder(body.Request.Blocks) {
			if o.Registry == code || st.origins != nil && st.origins.local[o] != 0 {
				continue
			}
			if len(created) == 0 {
				return fmt.Errorf("registry: load: import entry %d names more new issuances than it created", e.Seq)
			}
			x := created[0]
			created = created[1:]
			if st.origins == nil || st.origins.corridor == 0 {
				st.origins = st.origins.withCorridor(x.AccountID)
			}
			st.origins = st.origins.with(x.ID, o)
		}
	}
	return nil
}

// freshOrder lists the foreign origins of an import's blocks in the order
// the import records them (sorted by registry, then issuance).
func freshOrder(blocks []ImportBlock) []Origin {
	seen := map[Origin]bool{}
	var out []Origin
	for _, b := range blocks {
		if !seen[b.Origin.Origin] {
			seen[b.Origin.Origin] = true
			out = append(out, b.Origin.Origin)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Registry < out[j].Registry || out[i].Registry == out[j].Registry && out[i].Issuance < out[j].Issuance
	})
	return out
}
