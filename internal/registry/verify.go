package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
)

// Report is what Verify found.
type Report struct {
	Entries int64 `json:"entries"`
	// Issuances counts the issuance records, ForeignIssuances those of
	// them that record another registry's issuance (made by an import).
	Issuances        int   `json:"issuances"`
	ForeignIssuances int   `json:"foreign_issuances"`
	Blocks           int64 `json:"blocks"`
	// UnitsIssued is what this registry issued (its own issuances);
	// UnitsHere the units in this registry now, whoever issued them (held,
	// reserved, retired or cancelled: not exported). A foreign issuance's
	// record spans the origin's whole quantity, most of it elsewhere, so
	// neither is the sum of the records' quantities.
	UnitsIssued int64 `json:"units_issued"`
	UnitsHere   int64 `json:"units_here"`
	// Violations lists what is wrong, first found first; empty means the
	// ledger is consistent.
	Violations []string `json:"violations"`
}

// OK reports whether no violation was found.
func (r Report) OK() bool { return len(r.Violations) == 0 }

// maxViolations bounds the report; the first one is what matters.
const maxViolations = 20

func (r *Report) add(format string, args ...any) {
	if len(r.Violations) < maxViolations {
		r.Violations = append(r.Violations, fmt.Sprintf(format, args...))
	}
}

// Verify re-checks a whole node database, running or not: the journal's hash
// chain; that replaying every journal request reproduces each entry exactly
// (so no unit moved outside a recorded transaction); that the blocks of each
// issuance partition [1, issued] with no gap or overlap and match the replay;
// and that no movement ever left a final state (retired, cancelled, exported).
func Verify(ctx context.Context, live *store.DB) (Report, error) {
	var rep Report
	db, done, err := live.Snapshot(ctx)
	if err != nil {
		return rep, err
	}
	defer done()
	code, err := db.Meta(ctx, "registry_code")
	if err != nil {
		return rep, err
	}
	if code == "" {
		return rep, fmt.Errorf("registry: verify: the database has no registry code; is it a Corridor node?")
	}
	// Replay into a node with no database and no writer.
	rn := &Node{code: code, st: newState()}
	prev := ledger.GenesisHash
	var want int64 = 1
	err = db.EachEntry(ctx, func(e ledger.Entry) error {
		rep.Entries++
		if e.Seq != want {
			rep.add("journal: entry %d follows entry %d (a gap or reordering)", e.Seq, want-1)
			want = e.Seq
		}
		want++
		if e.PrevHash != prev {
			rep.add("journal: entry %d: prev_hash does not match the hash of entry %d", e.Seq, e.Seq-1)
		}
		if EntryHash(e) != e.Hash {
			rep.add("journal: entry %d: hash does not match its content (altered entry)", e.Seq)
		}
		prev = e.Hash
		replayEntry(rn, e, &rep)
		return nil
	})
	if err != nil {
		return rep, err
	}
	if err := checkPublishedHeads(ctx, db, &rep); err != nil {
		return rep, err
	}
	if err := checkHubHeads(ctx, db, &rep); err != nil {
		return rep, err
	}
	if m, found, err := db.FirstFinalMove(ctx); err != nil {
		return rep, err
	} else if found {
		rep.add("movements: entry %d moved units %d-%d of issuance %d out of state %s", m.Seq, m.Start, m.End, m.Issuance, m.FromState)
	}
	if m, found, err := db.FirstOrphanMovement(ctx); err != nil {
		return rep, err
	} else if found {
		rep.add("movements: units %d-%d of issuance %d moved by entry %d, which is not in the journal", m.Start, m.End, m.Issuance, m.Seq)
	}
	// Organisations, accounts (owner, status) and issuances (what the units
	// are) must be what the journal made them.
	snap, err := db.Load(ctx)
	if err != nil {
		return rep, err
	}
	compareWithReplay(&rep, "organisation", snap.Orgs, pmapToMap(rn.st.orgs), func(o *ledger.Organisation) (int64, *time.Time) { return o.ID, &o.CreatedAt })
	compareWithReplay(&rep, "account", snap.Accounts, pmapToMap(rn.st.accounts), func(a *ledger.Account) (int64, *time.Time) { return a.ID, &a.CreatedAt })
	compareWithReplay(&rep, "issuance", snap.Issuances, pmapToMap(rn.st.issuances), func(x *ledger.Issuance) (int64, *time.Time) { return x.ID, &x.CreatedAt })
	issuances := snap.Issuances
	rep.Issuances = len(issuances)
	qty := map[int64]int64{}
	for _, x := range issuances {
		qty[x.ID] = x.Quantity
		if rn.origin(x.ID).Registry != code {
			rep.ForeignIssuances++
		} else {
			rep.UnitsIssued += x.Quantity
		}
	}
	var cur int64
	var next int64 = 1
	var seenInReplay int64
	withBlocks := map[int64]bool{}
	closeIssuance := func() {
		if cur != 0 && next != qty[cur]+1 {
			rep.add("blocks: issuance %d: blocks cover 1-%d but %d were issued (conservation)", cur, next-1, qty[cur])
		}
	}
	err = db.EachBlock(ctx, func(b ledger.Block) error {
		rep.Blocks++
		if b.State != ledger.Exported {
			rep.UnitsHere += b.Count()
		}
		if b.Issuance != cur {
			closeIssuance()
			cur, next = b.Issuance, 1
			withBlocks[cur] = true
			if _, ok := qty[cur]; !ok {
				rep.add("blocks: block %d-%d belongs to unknown issuance %d", b.Start, b.End, cur)
			}
		}
		switch {
		case b.Start > next:
			rep.add("blocks: issuance %d: gap at serials %d-%d", cur, next, b.Start-1)
		case b.Start < next:
			rep.add("blocks: issuance %d: overlap at serials %d-%d", cur, b.Start, next-1)
		}
		if _, ok := stateIndex[b.State]; !ok {
			rep.add("blocks: issuance %d block %d-%d has unknown state %q", cur, b.Start, b.End, b.State)
		}
		next = b.End + 1
		if tree := rn.st.blocks.Get(b.Issuance); tree != nil {
			if r, ok := tree.Get(b); !ok || r != b {
				rep.add("blocks: issuance %d block %d-%d (%s in account %d) differs from the journal's replay", b.Issuance, b.Start, b.End, b.State, b.Account)
			} else {
				seenInReplay++
			}
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	closeIssuance()
	for _, x := range issuances {
		if !withBlocks[x.ID] {
			rep.add("blocks: issuance %d has no blocks but %d were issued (conservation)", x.ID, x.Quantity)
		}
	}
	var replayBlocks int64
	for _, tree := range rn.st.blocks.All() {
		replayBlocks += int64(tree.Len())
	}
	if replayBlocks != seenInReplay {
		rep.add("blocks: the journal's replay has %d blocks, %d of which are in the database unchanged", replayBlocks, seenInReplay)
	}
	return rep, nil
}

// compareWithReplay reports the rows of the database that the journal's
// replay does not have, has otherwise, or has and the database lacks. key
// returns a row's id and its creation time (compared as an instant).
func compareWithReplay[T comparable](rep *Report, what string, rows []T, replay map[int64]*T, key func(*T) (int64, *time.Time)) {
	found := map[int64]bool{}
	for _, row := range rows {
		id, at := key(&row)
		r, ok := replay[id]
		if !ok {
			rep.add("%ss: %s %d is not in the journal's replay", what, what, id)
			continue
		}
		found[id] = true
		want := *r
		_, wantAt := key(&want)
		if !at.Equal(*wantAt) {
			rep.add("%ss: %s %d differs from the journal's replay", what, what, id)
			continue
		}
		*at, *wantAt = time.Time{}, time.Time{}
		if row != want {
			rep.add("%ss: %s %d differs from the journal's replay", what, what, id)
		}
	}
	var missing []int64
	for id := range replay {
		if !found[id] {
			missing = append(missing, id)
		}
	}
	slices.Sort(missing)
	for _, id := range missing {
		rep.add("%ss: %s %d of the journal's replay is missing from the database", what, what, id)
	}
}

// replayEntry re-executes one journal entry on rn and compares.
func replayEntry(rn *Node, e ledger.Entry, rep *Report) {
	var body struct {
		Request json.RawMessage `json:"request"`
	}
	if err := json.Unmarshal([]byte(e.Body), &body); err != nil {
		rep.add("journal: entry %d: body is not JSON: %v", e.Seq, err)
		return
	}
	req, err := DecodeRequest(e.Kind, body.Request)
	if err != nil {
		rep.add("journal: entry %d: %v", e.Seq, err)
		return
	}
	actor, err := parseActor(e.Actor)
	if err != nil {
		rep.add("journal: entry %d: %v", e.Seq, err)
		return
	}
	at := e.At
	rn.now = func() time.Time { return at }
	// Replay from the recorded previous hash, so one altered entry is
	// reported once rather than breaking every later comparison.
	rn.st.head = ledger.Entry{Seq: e.Seq - 1, Hash: e.PrevHash}
	w := newWriteSet()
	c := &call{actor: actor, key: e.IdemKey, req: req, hash: requestHash(actor, req)}
	if _, err := rn.apply(w, c); err != nil {
		rep.add("journal: entry %d (%s) does not replay: %v", e.Seq, e.Kind, err)
		return
	}
	got := w.batch.Entries[0]
	if got.RequestHash != e.RequestHash {
		rep.add("journal: entry %d: request hash does not match its request", e.Seq)
	}
	if got.Body != e.Body {
		rep.add("journal: entry %d (%s): replay gives a different result", e.Seq, e.Kind)
	}
}

func parseActor(s string) (Actor, error) {
	role, org, ok := strings.Cut(s, "@org:")
	id, err := strconv.ParseInt(org, 10, 64)
	if !ok || err != nil {
		return Actor{}, fmt.Errorf("actor %q is not role@org:N", s)
	}
	return Actor{OrgID: id, Role: ledger.Role(role)}, nil
}
