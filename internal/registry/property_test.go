package registry

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// pspan is a serial range of one issuance, as the model keeps it.
type pspan struct{ iss, start, end int64 }

// pplace is where units are in the model: an account, a state and, for
// reserved units, the reservation.
type pplace struct {
	acc     int64
	state   ledger.State
	pending int64
}

type pissuance struct {
	unitType, project string
	vintage           int
}

type preservation struct {
	from, to int64 // to 0: out of the registry
	spans    []pspan
}

// model is what the ledger must hold, kept from the test's own bookkeeping.
// It decides each call's outcome before the call runs (the error code, or
// the exact serials that move) and never takes the ledger's word for
// anything but the names the ledger gives new reservations.
type model struct {
	at      map[pplace][]pspan
	iss     map[int64]pissuance
	nextIss int64
	orgOf   map[int64]int64 // account -> organisation
	pending map[int64]*preservation
	settled []int64
	issued  int64
}

// shortCode is the refusal of a quantity selection the account cannot
// fill: unit_type_unknown while no issuance has the type, else
// insufficient_units.
func (m *model) shortCode(unitType string) string {
	for _, x := range m.iss {
		if x.unitType == unitType {
			return ledger.CodeInsufficientUnits
		}
	}
	return CodeUnitTypeUnknown
}

func (m *model) add(p pplace, s pspan) {
	m.at[p] = normalSpans(append(m.at[p], s))
}

func (m *model) remove(p pplace, s pspan) error {
	ss := m.at[p]
	for i, x := range ss {
		if x.iss != s.iss || s.start < x.start || s.end > x.end {
			continue
		}
		var repl []pspan
		if x.start < s.start {
			repl = append(repl, pspan{x.iss, x.start, s.start - 1})
		}
		if s.end < x.end {
			repl = append(repl, pspan{x.iss, s.end + 1, x.end})
		}
		m.at[p] = slices.Concat(ss[:i:i], repl, ss[i+1:])
		if len(m.at[p]) == 0 {
			delete(m.at, p)
		}
		return nil
	}
	return fmt.Errorf("model: %v is not all at %+v", s, p)
}

// normalSpans sorts spans by issuance and start and merges adjacent ones.
func normalSpans(ss []pspan) []pspan {
	ss = slices.Clone(ss)
	slices.SortFunc(ss, func(a, b pspan) int {
		if a.iss != b.iss {
			return cmp.Compare(a.iss, b.iss)
		}
		return cmp.Compare(a.start, b.start)
	})
	var out []pspan
	for _, x := range ss {
		if n := len(out); n > 0 && out[n-1].iss == x.iss && out[n-1].end+1 == x.start {
			out[n-1].end = x.end
			continue
		}
		out = append(out, x)
	}
	return out
}

// selectQuantity is the registry's documented selection rule for a
// quantity (oldest vintage, then issuance, then serial first; the last block
// split), applied to the model's own holdings.
func (m *model) selectQuantity(acc int64, unitType string, q int64) ([]pspan, bool) {
	var ss []pspan
	for _, s := range m.at[pplace{acc, ledger.Held, 0}] {
		if m.iss[s.iss].unitType == unitType {
			ss = append(ss, s)
		}
	}
	slices.SortFunc(ss, func(a, b pspan) int {
		if va, vb := m.iss[a.iss].vintage, m.iss[b.iss].vintage; va != vb {
			return cmp.Compare(va, vb)
		}
		if a.iss != b.iss {
			return cmp.Compare(a.iss, b.iss)
		}
		return cmp.Compare(a.start, b.start)
	})
	var out []pspan
	for _, s := range ss {
		if q == 0 {
			break
		}
		take := min(q, s.end-s.start+1)
		out = append(out, pspan{s.iss, s.start, s.start + take - 1})
		q -= take
	}
	return normalSpans(out), q == 0
}

func (m *model) serial(s pspan) string {
	is := m.iss[s.iss]
	return ledger.Serial{Registry: "CN", UnitType: is.unitType, Project: is.project, Vintage: is.vintage, Issuance: s.iss, Start: s.start, End: s.end}.String()
}

func (m *model) total(state ledger.State) int64 {
	var q int64
	for p, ss := range m.at {
		if p.state == state {
			for _, s := range ss {
				q += s.end - s.start + 1
			}
		}
	}
	return q
}

// pcall is one planned call with the outcome the model expects.
type pcall struct {
	actor Actor
	key   string
	req   Request
	// code is the expected error code; empty means success, moving spans
	// from one place to another.
	code     string
	spans    []pspan
	from, to pplace
	replayOf *pdone
	settles  int64 // the reservation a Complete or Void settles
	reserve  *preservation
	res      Result
	err      error
}

// pdone is a call decided in an earlier round: applied (res), or refused
// by a rule (code), which binds its key to the refusal.
type pdone struct {
	actor Actor
	key   string
	req   Request
	res   Result
	code  string
}

// round keeps the calls of one concurrent round commuting: no account is
// the source of two calls or both a source and a destination, and no
// reservation is settled twice, so every commit order gives each call the
// outcome the model decided from the state before the round.
type round struct {
	src, dst, pend map[int64]bool
}

func (r round) canTake(from int64) bool { return !r.src[from] && !r.dst[from] }
func (r round) canGive(to int64) bool   { return !r.src[to] }

// TestLedgerStateMachine drives random rounds of concurrent calls from
// holders of several organisations and the administrator (issue, transfer
// by quantity and by serials, retire, cancel, reserve, complete, void,
// replays, and calls a rule must refuse), with restarts between rounds. The
// calls of a round commute, so the model decides every outcome before the
// round runs; after each round every account's blocks must equal the
// model's, serial for serial, and at the end verify passes. Concurrent
// calls share group commits: the test fails unless some batch carried more
// than one call and some database commit more than one transaction.
func TestLedgerStateMachine(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		var seen batchStats
		rapid.Check(t, func(rt *rapid.T) {
			runStateMachine(t, rt, tg.Name, &seen)
		})
		t.Logf("%s: largest batch %d calls; %d decided calls in %d database commits", tg.Name, seen.largest.Load(), seen.committed.Load(), seen.commits.Load())
		if seen.largest.Load() < 2 || seen.committed.Load() <= seen.commits.Load() {
			t.Errorf("no group commit carried more than one call (largest batch %d, %d decided calls in %d commits): the calls did not run concurrently", seen.largest.Load(), seen.committed.Load(), seen.commits.Load())
		}
	})
}

// batchStats sums node Stats over the nodes of all runs.
type batchStats struct{ largest, committed, commits atomic.Int64 }

func (b *batchStats) add(n *Node) {
	st := n.Stats()
	if l := st.LargestBatch.Load(); l > b.largest.Load() {
		b.largest.Store(l)
	}
	// A database commit carries journal entries and recorded rejections.
	b.committed.Add(st.Committed.Load() + st.Rejected.Load())
	b.commits.Add(st.Commits.Load())
}

func runStateMachine(t *testing.T, rt *rapid.T, driver string, seen *batchStats) {
	var tg storetest.Target
	if driver == "postgres" {
		tg = storetest.Postgres(t)
	} else {
		tg = storetest.SQLite(t)
	}
	ctx := context.Background()
	// Each rapid run has its own database, closed when the run ends (not
	// when the whole test does), so runs do not pile up connections.
	db, err := store.Open(ctx, tg.Cfg)
	if err != nil {
		rt.Fatal(err)
	}
	defer db.Close()
	n, err := Open(ctx, db, Options{Code: "CN"})
	if err != nil {
		rt.Fatal(err)
	}
	defer func() { seen.add(n); n.Close() }()
	key := 0
	next := func() string { key++; return fmt.Sprintf("k%d", key) }

	m := &model{at: map[pplace][]pspan{}, iss: map[int64]pissuance{}, nextIss: 1, orgOf: map[int64]int64{}, pending: map[int64]*preservation{}}
	var accounts []int64
	holders := map[int64]Actor{}
	var orgs []int64
	for o := range 3 {
		org := mustDo(rt, n, system, next(), CreateOrganisation{Name: fmt.Sprintf("O%d", o), Country: "CN"}).ID
		orgs = append(orgs, org)
		holders[org] = Actor{OrgID: org, Role: ledger.RoleHolder}
		for range 2 {
			a := mustDo(rt, n, system, next(), OpenAccount{OrgID: org, Type: ledger.Holding, Name: "A"}).ID
			accounts = append(accounts, a)
			m.orgOf[a] = org
		}
	}
	// Reservations abroad name the hub, which settles them.
	hubOrg := mustDo(rt, n, system, next(), CreateOrganisation{Name: "Hub", Country: "SG"}).ID
	hubActor := Actor{OrgID: hubOrg, Role: RoleHub}
	unitTypes := []string{"CCER", "TVER"}
	var history []*pdone
	acct := func(rt *rapid.T, label string) int64 { return rapid.SampledFrom(accounts).Draw(rt, label) }
	held := func(a int64) pplace { return pplace{a, ledger.Held, 0} }

	// units draws a selection from acc's units in the model: a quantity of
	// a unit type, or one serial range inside a held span. ok is false when
	// the quantity is more than acc holds.
	units := func(rt *rapid.T, acc int64) (u Units, spans []pspan, ok, drawn bool) {
		hs := m.at[held(acc)]
		if len(hs) > 0 && rapid.Bool().Draw(rt, "bySerial") {
			s := rapid.SampledFrom(hs).Draw(rt, "span")
			lo := rapid.Int64Range(s.start, s.end).Draw(rt, "lo")
			hi := rapid.Int64Range(lo, min(s.end, lo+200)).Draw(rt, "hi")
			sp := pspan{s.iss, lo, hi}
			return Units{Serials: []string{m.serial(sp)}}, []pspan{sp}, true, true
		}
		ut := rapid.SampledFrom(unitTypes).Draw(rt, "unit")
		q := rapid.Int64Range(1, 300).Draw(rt, "q")
		spans, ok = m.selectQuantity(acc, ut, q)
		return Units{Quantity: q, UnitType: ut}, spans, ok, true
	}

	// plan draws one call for round r, or nil when the draw would not
	// commute with the round's other calls.
	plan := func(rt *rapid.T, r round) *pcall {
		c := &pcall{key: next()}
		switch kind := rapid.SampledFrom([]string{"transfer", "transfer", "retire", "cancel", "reserve", "settle", "settleTwice", "foreignSerials", "forbidden", "replay", "keyConflict"}).Draw(rt, "kind"); kind {
		case "keyConflict":
			// An earlier key with another request: refused, and the key
			// keeps its first outcome.
			if len(history) == 0 {
				return nil
			}
			h := rapid.SampledFrom(history).Draw(rt, "earlier")
			c.actor, c.key, c.code = h.actor, h.key, ledger.CodeIdempotencyConflict
			c.req = Cancel{From: accounts[0], Units: Units{Quantity: 1, UnitType: "CCER"}, Reason: "another request under " + h.key}
			return c
		case "forbidden":
			// A holder naming another organisation's account: refused
			// whatever the order, as an account that does not exist
			// (permission before existence).
			from := acct(rt, "from")
			other := rapid.SampledFrom(orgs).Draw(rt, "org")
			if other == m.orgOf[from] {
				return nil
			}
			c.actor, c.code = holders[other], ledger.CodeAccountNotFound
			c.req = Transfer{From: from, To: acct(rt, "to"), Units: Units{Quantity: 1, UnitType: "CCER"}}
			return c
		case "replay":
			if len(history) == 0 {
				return nil
			}
			h := rapid.SampledFrom(history).Draw(rt, "earlier")
			c.actor, c.key, c.req, c.replayOf = h.actor, h.key, h.req, h
			return c
		case "settleTwice":
			if len(m.settled) == 0 {
				return nil
			}
			p := rapid.SampledFrom(m.settled).Draw(rt, "settled")
			c.actor, c.code, c.req = system, ledger.CodeDuplicate, Void{Pending: p}
			return c
		case "settle":
			var ids []int64
			for id := range m.pending {
				if !r.pend[id] {
					ids = append(ids, id)
				}
			}
			if len(ids) == 0 {
				return nil
			}
			slices.Sort(ids)
			id := rapid.SampledFrom(ids).Draw(rt, "pending")
			rsv := m.pending[id]
			complete := rapid.Bool().Draw(rt, "complete")
			c.actor, c.settles, c.spans, c.from = system, id, rsv.spans, pplace{rsv.from, ledger.Reserved, id}
			var dst int64
			switch {
			case !complete:
				c.req, c.to, dst = Void{Pending: id, Reason: "test"}, held(rsv.from), rsv.from
			case rsv.to != 0:
				c.req, c.to, dst = Complete{Pending: id}, held(rsv.to), rsv.to
			default:
				c.req, c.to = Complete{Pending: id}, pplace{rsv.from, ledger.Exported, 0}
			}
			if rsv.to == 0 {
				c.actor = hubActor
			}
			if dst != 0 && !r.canGive(dst) {
				return nil
			}
			r.pend[id] = true
			if dst != 0 {
				r.dst[dst] = true
			}
			return c
		}
		from := acct(rt, "from")
		if !r.canTake(from) {
			return nil
		}
		r.src[from] = true
		c.actor, c.from = holders[m.orgOf[from]], held(from)
		switch kind := rapid.SampledFrom([]string{"transfer", "retire", "cancel", "reserve", "foreignSerials"}).Draw(rt, "what"); kind {
		case "foreignSerials":
			// Serials of units that are not the sender's: refused whatever
			// the order, as long as no other call of the round can move them
			// (final states never move; an idle owner's or an idle
			// reservation's are frozen for the round).
			var places []pplace
			for p := range m.at {
				switch {
				case p.acc == from && p.state == ledger.Held:
				case p.state.Final(), p.state == ledger.Held && r.canTake(p.acc), p.state == ledger.Reserved && !r.pend[p.pending]:
					places = append(places, p)
				}
			}
			if len(places) == 0 {
				return nil
			}
			slices.SortFunc(places, func(a, b pplace) int {
				return cmp.Or(cmp.Compare(a.acc, b.acc), cmp.Compare(a.state, b.state), cmp.Compare(a.pending, b.pending))
			})
			p := rapid.SampledFrom(places).Draw(rt, "foreign")
			s := rapid.SampledFrom(m.at[p]).Draw(rt, "span")
			switch {
			case p.state == ledger.Exported:
				c.code = ledger.CodeRangeNotHeld
			case p.state.Final():
				c.code = ledger.CodeUnitsNotActive
			case p.state == ledger.Held:
				c.code = ledger.CodeRangeNotHeld
				r.src[p.acc] = true
			default:
				c.code = ledger.CodeRangeNotHeld
				r.pend[p.pending] = true
			}
			to := acct(rt, "to")
			if to == from {
				return nil
			}
			c.req = Transfer{From: from, To: to, Units: Units{Serials: []string{m.serial(s)}}}
			return c
		case "transfer":
			to := acct(rt, "to")
			u, spans, ok, _ := units(rt, from)
			c.req = Transfer{From: from, To: to, Units: u}
			switch {
			case to == from:
				c.code = ledger.CodeSameAccount
			case !r.canGive(to):
				return nil
			case !ok:
				c.code = m.shortCode(u.UnitType)
			default:
				r.dst[to] = true
				c.spans, c.to = spans, held(to)
			}
			return c
		case "retire", "cancel":
			u, spans, ok, _ := units(rt, from)
			if kind == "retire" {
				c.req, c.to = Retire{From: from, Units: u, Beneficiary: "B", Purpose: "voluntary"}, pplace{from, ledger.Retired, 0}
			} else {
				c.req, c.to = Cancel{From: from, Units: u}, pplace{from, ledger.Cancelled, 0}
			}
			if !ok {
				c.code = m.shortCode(u.UnitType)
			}
			c.spans = spans
			return c
		default: // reserve
			u, spans, ok, _ := units(rt, from)
			rsv := &preservation{from: from, spans: spans}
			req := Reserve{From: from, Units: u, ToRegistry: "TH", ToAccountRef: "x", Authority: &Authority{Role: AuthorityHub, OrgID: hubOrg}}
			if rapid.Bool().Draw(rt, "internal") {
				to := acct(rt, "to")
				if to == from {
					return nil
				}
				rsv.to, req = to, Reserve{From: from, Units: u, ToAccount: to}
			}
			c.req, c.reserve, c.spans = req, rsv, spans
			c.to = pplace{from, ledger.Reserved, 0} // the pending id is the ledger's name for it
			if !ok {
				c.code = m.shortCode(u.UnitType)
			}
			return c
		}
	}

	// check compares a call's answer with the model's expectation.
	check := func(rt *rapid.T, c *pcall) {
		res, err := c.res, c.err
		if h := c.replayOf; h != nil && h.code != "" {
			// A refusal is recorded under its key: the same request is
			// refused again, whatever the state now.
			if e, ok := ledger.AsError(err); !ok || e.Code != h.code {
				rt.Fatalf("replay of refused %s %s: got %v (%+v), first answer %s", h.req.Kind(), h.key, err, res, h.code)
			}
			return
		}
		if h := c.replayOf; h != nil {
			if err != nil || !res.Replayed {
				rt.Fatalf("replay of %s %s: %+v, %v", h.req.Kind(), h.key, res, err)
			}
			first, again := h.res, res
			first.Replayed, again.Replayed, first.Token = false, false, ""
			if !reflect.DeepEqual(first, again) {
				rt.Fatalf("replay of %s %s answered %+v; first answer %+v", h.req.Kind(), h.key, again, first)
			}
			return
		}
		if c.code != "" {
			if e, ok := ledger.AsError(err); !ok || e.Code != c.code {
				rt.Fatalf("%s %+v: got %v (%+v), the model expects %s", c.req.Kind(), c.req, err, res, c.code)
			}
			return
		}
		if err != nil {
			rt.Fatalf("%s %+v: %v; the model expects it to move %v", c.req.Kind(), c.req, err, c.spans)
		}
		var got []pspan
		var q int64
		for _, b := range res.Blocks {
			got = append(got, pspan{b.IssuanceID, b.Start, b.End})
			q += b.Quantity
		}
		if !slices.Equal(normalSpans(got), normalSpans(c.spans)) || res.Quantity != q || res.Replayed {
			rt.Fatalf("%s %+v moved %v (quantity %d, replayed %v); the model expects %v", c.req.Kind(), c.req, normalSpans(got), res.Quantity, res.Replayed, normalSpans(c.spans))
		}
		if c.settles != 0 && res.Pending != c.settles {
			rt.Fatalf("%s of %d answered pending %d", c.req.Kind(), c.settles, res.Pending)
		}
	}

	// commit applies a successful call to the model.
	commit := func(rt *rapid.T, c *pcall) {
		if c.replayOf != nil || c.code == ledger.CodeIdempotencyConflict {
			return
		}
		if c.code != "" {
			history = append(history, &pdone{actor: c.actor, key: c.key, req: c.req, code: c.code})
			return
		}
		to := c.to
		if c.reserve != nil {
			to.pending = c.res.Pending
			m.pending[c.res.Pending] = c.reserve
		}
		if c.settles != 0 {
			delete(m.pending, c.settles)
			m.settled = append(m.settled, c.settles)
		}
		for _, s := range c.spans {
			if err := m.remove(c.from, s); err != nil {
				rt.Fatalf("%s: %v", c.req.Kind(), err)
			}
			m.add(to, s)
		}
		history = append(history, &pdone{actor: c.actor, key: c.key, req: c.req, res: c.res})
	}

	rt.Repeat(map[string]func(*rapid.T){
		"issue": func(rt *rapid.T) {
			to, ut := acct(rt, "to"), rapid.SampledFrom(unitTypes).Draw(rt, "unit")
			q := rapid.Int64Range(1, 1000).Draw(rt, "q")
			vintage := rapid.IntRange(2021, 2025).Draw(rt, "vintage")
			k := next()
			req := Issue{IssuanceFacts: IssuanceFacts{Standard: ut, UnitType: ut, Project: "P-" + ut, HostCountry: "CN", Vintage: vintage, Quantity: q}, AccountID: to}
			res := mustDo(rt, n, system, k, req)
			if res.ID != m.nextIss {
				rt.Fatalf("issue answered issuance %d, the model expects %d", res.ID, m.nextIss)
			}
			m.iss[res.ID] = pissuance{unitType: ut, project: "P-" + ut, vintage: vintage}
			m.nextIss++
			m.add(held(to), pspan{res.ID, 1, q})
			m.issued += q
			history = append(history, &pdone{actor: system, key: k, req: req, res: res})
		},
		"round": func(rt *rapid.T) {
			r := round{src: map[int64]bool{}, dst: map[int64]bool{}, pend: map[int64]bool{}}
			var calls []*pcall
			for range rapid.IntRange(2, 12).Draw(rt, "calls") {
				if c := plan(rt, r); c != nil {
					calls = append(calls, c)
				}
			}
			// Release all calls at once so that they queue together.
			startGun := make(chan struct{})
			var wg sync.WaitGroup
			for _, c := range calls {
				wg.Go(func() {
					<-startGun
					c.res, c.err = n.Do(ctx, c.actor, c.key, c.req)
				})
			}
			close(startGun)
			wg.Wait()
			for _, c := range calls {
				check(rt, c)
			}
			for _, c := range calls {
				commit(rt, c)
			}
		},
		"restart": func(rt *rapid.T) {
			seen.add(n)
			n.Close()
			var err error
			if n, err = Open(ctx, db, Options{Code: "CN"}); err != nil {
				rt.Fatal(err)
			}
		},
		"": func(rt *rapid.T) {
			tot := n.Totals()
			if tot.Issued != m.issued {
				rt.Fatalf("issued %d, model %d", tot.Issued, m.issued)
			}
			for _, s := range ledger.States {
				if tot.ByState[s] != m.total(s) {
					rt.Fatalf("%s = %d, model %d", s, tot.ByState[s], m.total(s))
				}
			}
			for _, a := range accounts {
				blocks, err := n.Holdings(Operator, a, 0, 1_000_000)
				if err != nil {
					rt.Fatal(err)
				}
				got := map[pplace][]pspan{}
				for _, b := range blocks {
					p := pplace{b.AccountID, b.State, b.Pending}
					got[p] = append(got[p], pspan{b.IssuanceID, b.Start, b.End})
				}
				for _, st := range []ledger.State{ledger.Held, ledger.Reserved} {
					for p, want := range m.at {
						if p.acc == a && p.state == st && !slices.Equal(normalSpans(got[p]), want) {
							rt.Fatalf("account %d %s (pending %d) has %v, the model %v", a, st, p.pending, normalSpans(got[p]), want)
						}
					}
				}
				for p, ss := range got {
					if !slices.Equal(normalSpans(ss), m.at[p]) {
						rt.Fatalf("account %d has %v at %+v, the model %v", a, normalSpans(ss), p, m.at[p])
					}
				}
			}
		},
	})
	rep, err := Verify(ctx, db)
	if err != nil || !rep.OK() {
		rt.Fatalf("verify: %v %v", err, rep.Violations)
	}
}

func mustDo(rt *rapid.T, n *Node, a Actor, key string, req Request) Result {
	res, err := n.Do(context.Background(), a, key, req)
	if err != nil {
		rt.Fatalf("%s: %v", req.Kind(), err)
	}
	return res
}

// TestConcurrentTransfers runs 32 goroutines transferring among the same 8
// accounts for a few seconds; afterwards verify passes and the balances sum
// to what was issued.
func TestConcurrentTransfers(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		n := openNode(t, tg)
		org := mustDoT(t, n, system, "org", CreateOrganisation{Name: "O", Country: "CN"}).ID
		holder := Actor{OrgID: org, Role: ledger.RoleHolder}
		var accounts []int64
		for i := 0; i < 8; i++ {
			a := mustDoT(t, n, system, fmt.Sprintf("acc%d", i), OpenAccount{OrgID: org, Type: ledger.Holding, Name: "A"}).ID
			accounts = append(accounts, a)
			mustDoT(t, n, system, fmt.Sprintf("iss%d", i), Issue{IssuanceFacts: IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "P", HostCountry: "CN", Vintage: 2024, Quantity: 10_000}, AccountID: a})
		}
		deadline := time.Now().Add(3 * time.Second)
		var wg sync.WaitGroup
		var ok, rejected atomic.Int64
		for g := 0; g < 32; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; time.Now().Before(deadline); i++ {
					from, to := accounts[(g+i)%8], accounts[(g*7+i*3+1)%8]
					if from == to {
						continue
					}
					req := Transfer{From: from, To: to, Units: Units{Quantity: int64(1 + (g*31+i)%200), UnitType: "CCER"}}
					if i%5 == 0 {
						req = Transfer{From: from, To: to, Units: Units{Serials: []string{fmt.Sprintf("CN-CCER-P-2024-%d-%d-%d", 1+(g+i)%8, 1+i%9000, 1+i%9000+g)}}}
					}
					_, err := n.Do(ctx, holder, fmt.Sprintf("g%d-%d", g, i), req)
					if err == nil {
						ok.Add(1)
					} else if _, isRule := ledger.AsError(err); isRule {
						rejected.Add(1)
					} else {
						t.Errorf("transfer: %v", err)
						return
					}
				}
			}(g)
		}
		wg.Wait()
		t.Logf("%s: %d transfers committed, %d rejected by rules", tg.Name, ok.Load(), rejected.Load())
		if ok.Load() < 100 {
			t.Fatalf("only %d transfers went through", ok.Load())
		}
		var sum int64
		for _, a := range accounts {
			sum += held(t, n, a)
		}
		if sum != 80_000 {
			t.Fatalf("balances sum to %d, issued 80000", sum)
		}
		rep := verifyOK(t, n)
		if rep.Entries < ok.Load() {
			t.Fatalf("journal has %d entries for %d committed transfers", rep.Entries, ok.Load())
		}
	})
}

func mustDoT(t *testing.T, n *Node, a Actor, key string, req Request) Result {
	t.Helper()
	res, err := n.Do(context.Background(), a, key, req)
	if err != nil {
		t.Fatalf("%s: %v", req.Kind(), err)
	}
	return res
}

// TestTwoWritersOneDatabase runs two nodes (as two server processes would)
// on one database: every commit either lands on the current journal head or
// is retried on fresh state, so no update is lost.
func TestTwoWritersOneDatabase(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		a := openSharedNode(t, tg)
		org := mustDoT(t, a, system, "org", CreateOrganisation{Name: "O", Country: "CN"}).ID
		holder := Actor{OrgID: org, Role: ledger.RoleHolder}
		acc1 := mustDoT(t, a, system, "a1", OpenAccount{OrgID: org, Type: ledger.Holding, Name: "1"}).ID
		acc2 := mustDoT(t, a, system, "a2", OpenAccount{OrgID: org, Type: ledger.Holding, Name: "2"}).ID
		mustDoT(t, a, system, "iss", Issue{IssuanceFacts: IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "P", HostCountry: "CN", Vintage: 2024, Quantity: 1000}, AccountID: acc1})
		b := openSharedNode(t, tg)
		var wg sync.WaitGroup
		var moved atomic.Int64
		for w, n := range []*Node{a, b} {
			for g := 0; g < 4; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 25; i++ {
						_, err := n.Do(ctx, holder, fmt.Sprintf("w%d-g%d-%d", w, g, i), Transfer{From: acc1, To: acc2, Units: Units{Quantity: 1, UnitType: "CCER"}})
						if err != nil {
							t.Errorf("writer %d: %v", w, err)
							return
						}
						moved.Add(1)
					}
				}()
			}
		}
		wg.Wait()
		c := openSharedNode(t, tg) // a fresh view of the database
		if got := held(t, c, acc2); got != moved.Load() || held(t, c, acc1) != 1000-moved.Load() {
			t.Fatalf("acc2 holds %d after %d acknowledged transfers of 1 unit", got, moved.Load())
		}
		verifyOK(t, c)
	})
}
