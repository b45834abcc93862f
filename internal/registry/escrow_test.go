package registry

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// clock is a settable time source for a node.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestEscrowAuthority: only the escrow's authority settles it; the owner
// cannot void it; an actor who may not settle it gets the answer for an
// escrow that does not exist; authority and expiry survive a restart.
func TestEscrowAuthority(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		f := newFixture(t, tg)
		hubOrg := f.must(t, system, CreateOrganisation{Name: "Corridor hub", Country: "SG"}).ID
		venueOrg := f.must(t, system, CreateOrganisation{Name: "Venue", Country: "SG"}).ID
		otherOrg := f.must(t, system, CreateOrganisation{Name: "Other", Country: "CN"}).ID
		hub := Actor{OrgID: hubOrg, Role: RoleHub}
		venue := Actor{OrgID: venueOrg, Role: RoleVenue}
		otherHolder := Actor{OrgID: otherOrg, Role: ledger.RoleHolder}
		q := Units{Quantity: 10, UnitType: "CCER"}
		byHub := f.must(t, f.holder, Reserve{From: f.a1, Units: q, ToRegistry: "TH", ToAccountRef: "TH-1", Authority: &Authority{Role: AuthorityHub, OrgID: hubOrg}})
		byVenue := f.must(t, f.holder, Reserve{From: f.a1, Units: q, ToAccount: f.a2, Authority: &Authority{Role: AuthorityVenue, OrgID: venueOrg}, ExpiresIn: 3600})
		local := f.must(t, f.holder, Reserve{From: f.a1, Units: q, ToAccount: f.a2})
		if local.Authority == nil || local.Authority.Role != AuthorityRegistry || !local.ExpiresAt.Equal(local.At.Add(DefaultEscrowSeconds*time.Second)) {
			t.Fatalf("default authority and expiry: %+v %v", local.Authority, local.ExpiresAt)
		}
		if !byVenue.ExpiresAt.Equal(byVenue.At.Add(time.Hour)) {
			t.Fatalf("expires_in: %v", byVenue.ExpiresAt)
		}
		// Restart: the escrows are rebuilt from the journal.
		f.n.Close()
		f.n = openNode(t, tg)
		notFound := func(err error) bool {
			e, ok := ledger.AsError(err)
			return ok && e.Code == ledger.CodePendingNotFound
		}
		for _, c := range []struct {
			name    string
			actor   Actor
			req     Request
			refused func(error) bool
		}{
			{"owner voids", f.holder, Void{Pending: local.Pending}, isForbidden},
			{"owner completes", f.holder, Complete{Pending: byVenue.Pending}, isForbidden},
			{"other holder voids", otherHolder, Void{Pending: local.Pending}, isForbidden},
			{"hub settles the venue's", hub, Complete{Pending: byVenue.Pending}, notFound},
			{"venue settles the hub's", venue, Void{Pending: byHub.Pending}, notFound},
			{"hub settles a local one", hub, Void{Pending: local.Pending}, notFound},
			{"another hub organisation", Actor{OrgID: otherOrg, Role: RoleHub}, Complete{Pending: byHub.Pending}, notFound},
			{"admin settles the hub's", system, Void{Pending: byHub.Pending}, isForbidden},
			{"an API caller expires", system, Expire{Pending: local.Pending, AsOf: time.Now().Add(48 * time.Hour)}, isForbidden},
		} {
			if _, err := f.do(t, c.actor, c.req); !c.refused(err) {
				t.Errorf("%s: %v", c.name, err)
			}
		}
		// Same answer for a nonexistent escrow as for someone else's.
		_, errOther := f.do(t, hub, Complete{Pending: byVenue.Pending})
		_, errNone := f.do(t, hub, Complete{Pending: 99999})
		if !sameShape(errOther, errNone) {
			t.Errorf("someone else's escrow answered %v, a missing one %v", errOther, errNone)
		}
		if held(t, f.n, f.a1) != 1000-30 {
			t.Fatalf("refused settlements moved units: %d held", held(t, f.n, f.a1))
		}
		f.must(t, hub, Complete{Pending: byHub.Pending})
		f.must(t, venue, Complete{Pending: byVenue.Pending})
		f.must(t, system, Void{Pending: local.Pending})
		if held(t, f.n, f.a1) != 1000-20 || held(t, f.n, f.a2) != 10 || f.n.Totals().ByState[ledger.Exported] != 10 {
			t.Fatalf("settlements: a1 %d a2 %d", held(t, f.n, f.a1), held(t, f.n, f.a2))
		}
		for _, c := range []struct {
			name string
			req  Reserve
		}{
			{"expiry too short", Reserve{From: f.a1, Units: q, ToAccount: f.a2, ExpiresIn: MinEscrowSeconds - 1}},
			{"expiry too long", Reserve{From: f.a1, Units: q, ToAccount: f.a2, ExpiresIn: MaxEscrowSeconds + 1}},
			{"unknown authority role", Reserve{From: f.a1, Units: q, ToAccount: f.a2, Authority: &Authority{Role: "bank"}}},
			{"hub without organisation", Reserve{From: f.a1, Units: q, ToAccount: f.a2, Authority: &Authority{Role: AuthorityHub}}},
			{"registry with organisation", Reserve{From: f.a1, Units: q, ToAccount: f.a2, Authority: &Authority{Role: AuthorityRegistry, OrgID: hubOrg}}},
		} {
			if _, err := f.do(t, f.holder, c.req); err == nil {
				t.Errorf("%s accepted", c.name)
			}
		}
		verifyOK(t, f.n)
	})
}

func isForbidden(err error) bool {
	e, ok := ledger.AsError(err)
	return ok && e.Kind == ledger.KindPermission
}

// sameShape: both errors have the same kind, code, check and field.
func sameShape(a, b error) bool {
	ea, ok1 := ledger.AsError(a)
	eb, ok2 := ledger.AsError(b)
	return ok1 && ok2 && ea.Kind == eb.Kind && ea.Code == eb.Code && ea.Check == eb.Check && ea.Field == eb.Field
}

// TestEscrowExpiry: the node's own ticker voids an escrow once its expiry
// has passed, with a journaled expire entry that verify replays; not before.
func TestEscrowExpiry(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		clk := &clock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
		n, err := Open(context.Background(), tg.Open(t), Options{Code: "CN", Now: clk.now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Close)
		f := &fixture{n: n}
		f.org = f.must(t, system, CreateOrganisation{Name: "Org", Country: "CN"}).ID
		f.holder = Actor{OrgID: f.org, Role: ledger.RoleHolder}
		f.a1 = f.must(t, system, OpenAccount{OrgID: f.org, Type: ledger.Holding, Name: "A1"}).ID
		f.a2 = f.must(t, system, OpenAccount{OrgID: f.org, Type: ledger.Holding, Name: "A2"}).ID
		f.must(t, system, Issue{IssuanceFacts: IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "P1", HostCountry: "CN", Vintage: 2024, Quantity: 100}, AccountID: f.a1})
		r := f.must(t, f.holder, Reserve{From: f.a1, Units: Units{Quantity: 40, UnitType: "CCER"}, ToAccount: f.a2, ExpiresIn: 600})
		// Before the expiry nothing happens, and an early expire is refused.
		clk.add(599 * time.Second)
		if k, err := n.ExpireDue(context.Background()); k != 0 || err != nil {
			t.Fatalf("expired early: %d %v", k, err)
		}
		if _, err := n.Do(context.Background(), Actor{Role: RoleSystem}, "system:early", Expire{Pending: r.Pending, AsOf: clk.now()}); err == nil {
			t.Fatal("an expire before the expiry was accepted")
		}
		if _, err := n.Do(context.Background(), Actor{Role: RoleSystem}, "system:future", Expire{Pending: r.Pending, AsOf: clk.now().Add(time.Hour)}); err == nil {
			t.Fatal("an expire dated after its own commit was accepted")
		}
		// The ticker (one tick a second) expires it once the clock passes.
		clk.add(time.Second)
		deadline := time.Now().Add(10 * time.Second)
		for held(t, n, f.a1) != 100 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if held(t, n, f.a1) != 100 || held(t, n, f.a2) != 0 {
			t.Fatalf("not expired by the ticker: a1 %d a2 %d", held(t, n, f.a1), held(t, n, f.a2))
		}
		// Exactly once: nothing more to expire, and settling it is a duplicate.
		if k, err := n.ExpireDue(context.Background()); k != 0 || err != nil {
			t.Fatalf("expired twice: %d %v", k, err)
		}
		if _, err := f.do(t, system, Complete{Pending: r.Pending}); err == nil {
			t.Fatal("an expired escrow was completed")
		}
		es, err := n.db.Entries(context.Background(), store.EntryFilter{Kind: "expire"})
		if err != nil || len(es) != 1 || es[0].Actor != "system@org:0" {
			t.Fatalf("expire entries: %v %+v", err, es)
		}
		verifyOK(t, n)
	})
}

// TestEscrowProperties drives escrows with several authorities (the
// registry, two hubs, a venue) and settlement attempts by every kind of
// actor, clock jumps and expiry runs, against an independent model: only the
// authority settles, each escrow is settled or expired exactly once, and no
// unit is lost or duplicated; verify passes at the end.
func TestEscrowProperties(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		// One node for all runs (a database per run costs seconds on
		// PostgreSQL): each run opens its own organisations and accounts
		// and leaves no escrow pending.
		clk := &clock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
		n, err := Open(context.Background(), tg.Open(t), Options{Code: "CN", Now: clk.now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Close)
		run := 0
		rapid.Check(t, func(rt *rapid.T) {
			run++
			runEscrowMachine(t, rt, n, clk, run)
		})
		verifyOK(t, n)
	})
}

type escrowModel struct {
	auth    Authority
	qty     int64
	to      int64 // 0: out of the registry
	expires time.Time
}

func runEscrowMachine(t *testing.T, rt *rapid.T, n *Node, clk *clock, run int) {
	ctx := context.Background()
	key := 0
	do := func(a Actor, r Request) (Result, error) {
		key++
		return n.Do(ctx, a, fmt.Sprintf("r%d-p%d", run, key), r)
	}
	must := func(a Actor, r Request) Result {
		res, err := do(a, r)
		if err != nil {
			rt.Fatalf("%s: %v", r.Kind(), err)
		}
		return res
	}
	seller := must(system, CreateOrganisation{Name: "Seller", Country: "CN"}).ID
	buyer := must(system, CreateOrganisation{Name: "Buyer", Country: "CN"}).ID
	hubA := must(system, CreateOrganisation{Name: "Hub A", Country: "SG"}).ID
	hubB := must(system, CreateOrganisation{Name: "Hub B", Country: "SG"}).ID
	venue := must(system, CreateOrganisation{Name: "Venue", Country: "SG"}).ID
	from := must(system, OpenAccount{OrgID: seller, Type: ledger.Holding, Name: "S"}).ID
	to := must(system, OpenAccount{OrgID: buyer, Type: ledger.Holding, Name: "B"}).ID
	const issued = 10000
	must(system, Issue{IssuanceFacts: IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "P1", HostCountry: "CN", Vintage: 2024, Quantity: issued}, AccountID: from})
	start := n.Totals()
	authorities := []Authority{{Role: AuthorityRegistry}, {Role: AuthorityHub, OrgID: hubA}, {Role: AuthorityHub, OrgID: hubB}, {Role: AuthorityVenue, OrgID: venue}}
	actors := []Actor{system, {OrgID: hubA, Role: RoleHub}, {OrgID: hubB, Role: RoleHub}, {OrgID: venue, Role: RoleVenue},
		{OrgID: seller, Role: ledger.RoleHolder}, {OrgID: buyer, Role: ledger.RoleHolder}, {OrgID: seller, Role: ledger.RoleAuditor}, {OrgID: hubA, Role: RoleVenue}}
	pending := map[int64]*escrowModel{}
	done := map[int64]bool{}
	var heldFrom, heldTo, exported int64 = issued, 0, 0
	settle := func(seq int64, complete bool) {
		m := pending[seq]
		switch {
		case !complete:
			heldFrom += m.qty
		case m.to == 0:
			exported += m.qty
		default:
			heldTo += m.qty
		}
		delete(pending, seq)
		done[seq] = true
	}
	steps := rapid.IntRange(5, 40).Draw(rt, "steps")
	for range steps {
		switch rapid.IntRange(0, 3).Draw(rt, "action") {
		case 0: // reserve
			qty := rapid.Int64Range(1, 500).Draw(rt, "qty")
			au := authorities[rapid.IntRange(0, len(authorities)-1).Draw(rt, "authority")]
			secs := rapid.Int64Range(MinEscrowSeconds, 7200).Draw(rt, "expires_in")
			r := Reserve{From: from, Units: Units{Quantity: qty, UnitType: "CCER"}, Authority: &au, ExpiresIn: secs}
			dest := int64(0)
			// Only a hub escrow may name another registry (CodeAbroadNeedsHub).
			if au.Role != AuthorityHub || rapid.Bool().Draw(rt, "local") {
				r.ToAccount, dest = to, to
			} else {
				r.ToRegistry, r.ToAccountRef = "TH", "TH-9"
			}
			res, err := do(Actor{OrgID: seller, Role: ledger.RoleHolder}, r)
			if qty > heldFrom {
				if err == nil {
					rt.Fatalf("reserved %d with %d held", qty, heldFrom)
				}
				continue
			}
			if err != nil {
				rt.Fatalf("reserve: %v", err)
			}
			heldFrom -= qty
			pending[res.Pending] = &escrowModel{auth: au, qty: qty, to: dest, expires: clk.now().Add(time.Duration(secs) * time.Second)}
		case 1: // someone tries to settle an escrow (or one already settled)
			var seqs []int64
			for s := range pending {
				seqs = append(seqs, s)
			}
			for s := range done {
				seqs = append(seqs, s)
			}
			if len(seqs) == 0 {
				continue
			}
			slices.Sort(seqs)
			seq := rapid.SampledFrom(seqs).Draw(rt, "pending")
			a := rapid.SampledFrom(actors).Draw(rt, "actor")
			complete := rapid.Bool().Draw(rt, "complete")
			var req Request = Void{Pending: seq}
			if complete {
				req = Complete{Pending: seq}
			}
			_, err := do(a, req)
			m := pending[seq]
			if may := m != nil && m.auth.permits(a); may != (err == nil) {
				rt.Fatalf("%s of %d by %s (authority %s): err %v", req.Kind(), seq, a, authOf(m), err)
			}
			if err == nil {
				settle(seq, complete)
			}
		case 2: // time passes, and the expiry run follows at once
			// The node's own ticker may run the expiry too, at any moment
			// after the clock moves; either way each escrow past its expiry
			// is voided exactly once, which the balances below check. No
			// settlement is tried between the clock moving and this run.
			clk.add(time.Duration(rapid.Int64Range(1, 3600).Draw(rt, "seconds")) * time.Second)
			if _, err := n.ExpireDue(ctx); err != nil {
				rt.Fatal(err)
			}
			for seq, m := range pending {
				if !clk.now().Before(m.expires) {
					settle(seq, false)
				}
			}
		case 3: // an expiry run with the clock unchanged expires nothing
			if k, err := n.ExpireDue(ctx); err != nil || k != 0 {
				rt.Fatalf("expired %d with nothing due (%v)", k, err)
			}
		}
		// The ledger agrees with the model; the units add up.
		var reserved int64
		for _, m := range pending {
			reserved += m.qty
		}
		tot := n.Totals()
		gotExported := tot.ByState[ledger.Exported] - start.ByState[ledger.Exported]
		gotReserved := tot.ByState[ledger.Reserved] - start.ByState[ledger.Reserved]
		if held(t, n, from) != heldFrom || held(t, n, to) != heldTo || gotExported != exported || gotReserved != reserved ||
			heldFrom+heldTo+exported+reserved != issued {
			rt.Fatalf("ledger: from %d/%d to %d/%d exported %d/%d reserved %d/%d", held(t, n, from), heldFrom, held(t, n, to), heldTo,
				gotExported, exported, gotReserved, reserved)
		}
	}
	// Leave nothing pending for the next run: past every expiry, each
	// remaining escrow expires exactly once and its units come back.
	clk.add((MaxEscrowSeconds + 1) * time.Second)
	if _, err := n.ExpireDue(ctx); err != nil {
		rt.Fatal(err)
	}
	left, err := n.Escrows(Operator)
	if err != nil || len(left) != 0 {
		rt.Fatalf("escrows left after every expiry: %v %+v", err, left)
	}
	for seq := range pending {
		settle(seq, false)
	}
	if held(t, n, from) != heldFrom || heldFrom+heldTo+exported != issued {
		rt.Fatalf("after expiry: from %d/%d", held(t, n, from), heldFrom)
	}
}

func authOf(m *escrowModel) string {
	if m == nil {
		return "none (settled)"
	}
	return m.auth.String()
}

// TestReserveAbroadOnlyThroughHub: a reservation towards another registry
// that the registry administrator would settle is refused (only the hub
// relays units between registries), and the administrator cannot complete
// one the hub settles: the units never leave.
func TestReserveAbroadOnlyThroughHub(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		f := newFixture(t, tg)
		before := held(t, f.n, f.a1)
		q := Units{Quantity: 5, UnitType: "CCER"}
		for _, au := range []*Authority{nil, {Role: AuthorityRegistry}} {
			_, err := f.do(t, f.holder, Reserve{From: f.a1, Units: q, ToRegistry: "TH", ToAccountRef: "TH-7", Authority: au})
			if e, ok := ledger.AsError(err); !ok || e.Code != CodeAbroadNeedsHub || e.Kind != ledger.KindInvalid || !strings.Contains(e.Detail, "corridor transfer --to-registry TH") {
				t.Fatalf("reserve abroad settled by the administrator (%v): %v", au, err)
			}
		}
		hubOrg := f.must(t, system, CreateOrganisation{Name: "Corridor hub", Country: "SG"}).ID
		r := f.must(t, f.holder, Reserve{From: f.a1, Units: q, ToRegistry: "TH", ToAccountRef: "TH-7", Authority: &Authority{Role: AuthorityHub, OrgID: hubOrg}})
		if _, err := f.do(t, system, Complete{Pending: r.Pending}); err == nil {
			t.Fatal("the administrator completed an escrow the hub settles")
		}
		if got := held(t, f.n, f.a1); got != before-5 {
			t.Fatalf("held %d after the refused complete, want %d (5 still reserved)", got, before-5)
		}
		if tot := f.n.Totals(); tot.ByState[ledger.Exported] != 0 || tot.ByState[ledger.Reserved] != 5 {
			t.Fatalf("totals after the refused complete: %+v, want 5 reserved, 0 exported", tot)
		}
	})
}
