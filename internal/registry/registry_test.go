package registry

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

var system = Actor{Role: ledger.RoleAdmin}

// fixture is a node with one organisation, holding accounts a1..a3 and an
// issuance of 1000 CCER in a1.
type fixture struct {
	n          *Node
	org        int64
	holder     Actor
	a1, a2, a3 int64
	iss        int64
	seq        int
}

func (f *fixture) do(t *testing.T, actor Actor, req Request) (Result, error) {
	t.Helper()
	f.seq++
	return f.n.Do(context.Background(), actor, fmt.Sprintf("k%d", f.seq), req)
}

func (f *fixture) must(t *testing.T, actor Actor, req Request) Result {
	t.Helper()
	res, err := f.do(t, actor, req)
	if err != nil {
		t.Fatalf("%s: %v", req.Kind(), err)
	}
	return res
}

func openNode(t *testing.T, tg storetest.Target) *Node {
	t.Helper()
	n, err := Open(context.Background(), tg.Open(t), Options{Code: "CN"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	return n
}

func newFixture(t *testing.T, tg storetest.Target) *fixture {
	return setUp(t, openNode(t, tg))
}

// setUp gives n an organisation, three accounts and an issuance into a1.
func setUp(t *testing.T, n *Node) *fixture {
	f := &fixture{n: n}
	f.org = f.must(t, system, CreateOrganisation{Name: "Shanghai Steel", Country: "CN"}).ID
	f.holder = Actor{OrgID: f.org, Role: ledger.RoleHolder}
	f.a1 = f.must(t, system, OpenAccount{OrgID: f.org, Type: ledger.Holding, Name: "A1"}).ID
	f.a2 = f.must(t, system, OpenAccount{OrgID: f.org, Type: ledger.Holding, Name: "A2"}).ID
	f.a3 = f.must(t, system, OpenAccount{OrgID: f.org, Type: ledger.Holding, Name: "A3"}).ID
	f.iss = f.must(t, system, Issue{IssuanceFacts: IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "CCER-14-2024-001", Methodology: "CCER-14-001-V01",
		HostCountry: "CN", Vintage: 2024, Quantity: 1000}, AccountID: f.a1}).ID
	return f
}

func held(t *testing.T, n *Node, acc int64) int64 {
	t.Helper()
	v, err := n.Account(Operator, acc)
	if err != nil {
		t.Fatal(err)
	}
	var q int64
	for _, b := range v.Balances {
		if b.State == ledger.Held {
			q += b.Quantity
		}
	}
	return q
}

func verifyOK(t *testing.T, n *Node) Report {
	t.Helper()
	rep, err := Verify(context.Background(), n.db)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("verify: %v", rep.Violations)
	}
	return rep
}

func TestLifecycle(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		f := newFixture(t, tg)
		res := f.must(t, f.holder, Transfer{From: f.a1, To: f.a2, Units: Units{Quantity: 300, UnitType: "CCER"}})
		if res.Quantity != 300 || len(res.Blocks) != 1 || res.Blocks[0].Start != 1 || res.Blocks[0].End != 300 {
			t.Fatalf("transfer by quantity should move the lowest serials 1-300: %+v", res)
		}
		if res.Blocks[0].Serial != "CN-CCER-CCER-14-2024-001-2024-1-1-300" {
			t.Fatalf("serial = %s", res.Blocks[0].Serial)
		}
		// Explicit range out of the middle of a2's block.
		f.must(t, f.holder, Transfer{From: f.a2, To: f.a3, Units: Units{Serials: []string{"CN-CCER-CCER-14-2024-001-2024-1-101-150"}}})
		r := f.must(t, f.holder, Retire{From: f.a3, Units: Units{Quantity: 20, UnitType: "CCER"}, Beneficiary: "Acme", Purpose: "voluntary"})
		if r.Blocks[0].Start != 101 || r.Blocks[0].End != 120 || r.Blocks[0].State != ledger.Retired {
			t.Fatalf("retire: %+v", r.Blocks)
		}
		f.must(t, f.holder, Cancel{From: f.a1, Units: Units{Quantity: 5, UnitType: "CCER"}})
		if got := []int64{held(t, f.n, f.a1), held(t, f.n, f.a2), held(t, f.n, f.a3)}; got[0] != 695 || got[1] != 250 || got[2] != 30 {
			t.Fatalf("held = %v, want [695 250 30]", got)
		}
		tot := f.n.Totals()
		if tot.Issued != 1000 || tot.ByState[ledger.Retired] != 20 || tot.ByState[ledger.Cancelled] != 5 || tot.ByState[ledger.Held] != 975 {
			t.Fatalf("totals %+v", tot)
		}
		// History of serial 110: issued, moved to a2, moved to a3, retired.
		info, err := f.n.Lookup(context.Background(), Operator, "CN-CCER-CCER-14-2024-001-2024-1-110-110")
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, h := range info.History {
			kinds = append(kinds, h.Kind)
		}
		if strings.Join(kinds, ",") != "issue,transfer,transfer,retire" {
			t.Fatalf("history kinds = %v", kinds)
		}
		if len(info.Blocks) != 1 || info.Blocks[0].State != ledger.Retired {
			t.Fatalf("lookup blocks = %+v", info.Blocks)
		}
		verifyOK(t, f.n)
		// A restart rebuilds the same state from the database.
		f.n.Close()
		n2 := openNode(t, tg)
		if got := n2.Totals(); got.JournalHash != tot.JournalHash || got.ByState[ledger.Held] != 975 || held(t, n2, f.a1) != 695 {
			t.Fatalf("after restart: %+v", got)
		}
	})
}

func TestRuleChecks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		f := newFixture(t, tg)
		other := f.must(t, system, CreateOrganisation{Name: "Other", Country: "TH"}).ID
		otherAcc := f.must(t, system, OpenAccount{OrgID: other, Type: ledger.Holding, Name: "O"}).ID
		susp := f.must(t, system, OpenAccount{OrgID: f.org, Type: ledger.Holding, Name: "S"}).ID
		f.must(t, system, SetAccountStatus{AccountID: susp, Status: ledger.Suspended})
		retAcc := f.must(t, system, OpenAccount{OrgID: f.org, Type: ledger.Retirement, Name: "R"}).ID
		f.must(t, f.holder, Retire{From: f.a1, Units: Units{Serials: []string{"CN-CCER-CCER-14-2024-001-2024-1-991-1000"}}, Beneficiary: "X", Purpose: "voluntary"})
		f.must(t, system, Issue{IssuanceFacts: IssuanceFacts{Standard: "TVER", UnitType: "TVER", Project: "T1", HostCountry: "TH", Vintage: 2023, Quantity: 10}, AccountID: f.a1})
		q := func(n int64) Units { return Units{Quantity: n, UnitType: "CCER"} }
		tests := []struct {
			name  string
			actor Actor
			req   Request
			code  string
			check int
		}{
			{"missing sender", f.holder, Transfer{From: 999, To: f.a2, Units: q(1)}, ledger.CodeAccountNotFound, 1002},
			{"suspended sender", f.holder, Transfer{From: susp, To: f.a2, Units: q(1)}, ledger.CodeAccountNotOpen, 1004},
			{"suspended receiver", f.holder, Transfer{From: f.a1, To: susp, Units: q(1)}, ledger.CodeAccountNotOpen, 1004},
			{"missing receiver", f.holder, Transfer{From: f.a1, To: 999, Units: q(1)}, ledger.CodeAcquiringNotFound, 2002},
			{"same account", f.holder, Transfer{From: f.a1, To: f.a1, Units: q(1)}, ledger.CodeSameAccount, 2508},
			{"zero quantity", f.holder, Transfer{From: f.a1, To: f.a2, Units: q(0)}, ledger.CodeQuantityInvalid, 3008},
			{"negative quantity", f.holder, Transfer{From: f.a1, To: f.a2, Units: q(-5)}, ledger.CodeQuantityInvalid, 3008},
			{"huge quantity", f.holder, Transfer{From: f.a1, To: f.a2, Units: q(ledger.MaxSerial + 1)}, ledger.CodeQuantityInvalid, 3008},
			{"not enough", f.holder, Transfer{From: f.a1, To: f.a2, Units: q(991)}, ledger.CodeInsufficientUnits, 3005},
			{"no unit type", f.holder, Transfer{From: f.a1, To: f.a2, Units: Units{Quantity: 1}}, ledger.CodeMixedUnitTypes, 3009},
			{"lower-case unit type", f.holder, Transfer{From: f.a1, To: f.a2, Units: Units{Quantity: 1, UnitType: "ccer"}}, "unit_type_unknown", 0},
			{"mixed unit types", f.holder, Transfer{From: f.a1, To: f.a2, Units: Units{Serials: []string{"CN-CCER-CCER-14-2024-001-2024-1-1-1", "CN-TVER-T1-2023-2-1-1"}}}, ledger.CodeMixedUnitTypes, 3009},
			{"range not held", f.holder, Transfer{From: f.a2, To: f.a1, Units: Units{Serials: []string{"CN-CCER-CCER-14-2024-001-2024-1-1-10"}}}, ledger.CodeRangeNotHeld, 10005},
			{"retired units", f.holder, Transfer{From: f.a1, To: f.a2, Units: Units{Serials: []string{"CN-CCER-CCER-14-2024-001-2024-1-985-995"}}}, ledger.CodeUnitsNotActive, 0},
			{"serial does not parse", f.holder, Transfer{From: f.a1, To: f.a2, Units: Units{Serials: []string{"CN-CCER-1-2"}}}, ledger.CodeSerialInvalid, 0},
			{"serial of another registry", f.holder, Transfer{From: f.a1, To: f.a2, Units: Units{Serials: []string{"TH-CCER-CCER-14-2024-001-2024-1-1-1"}}}, ledger.CodeSerialInvalid, 0},
			{"serial never issued", f.holder, Transfer{From: f.a1, To: f.a2, Units: Units{Serials: []string{"CN-CCER-CCER-14-2024-001-2024-1-1-1001"}}}, ledger.CodeSerialInvalid, 0},
			// Permission before existence: another organisation's account
			// is answered as one that does not exist.
			{"other organisation's account", f.holder, Transfer{From: otherAcc, To: f.a2, Units: q(1)}, ledger.CodeAccountNotFound, 1002},
			{"holder cannot issue", f.holder, Issue{IssuanceFacts: IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "P", HostCountry: "CN", Vintage: 2024, Quantity: 5}, AccountID: f.a1}, ledger.CodeForbidden, 0},
			{"auditor cannot move", Actor{OrgID: f.org, Role: ledger.RoleAuditor}, Transfer{From: f.a1, To: f.a2, Units: q(1)}, ledger.CodeForbidden, 0},
			{"into a retirement account", f.holder, Transfer{From: f.a1, To: retAcc, Units: q(1)}, ledger.CodeAccountType, 0},
			{"issue zero", system, Issue{IssuanceFacts: IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "P", HostCountry: "CN", Vintage: 2024, Quantity: 0}, AccountID: f.a1}, ledger.CodeQuantityInvalid, 3008},
			{"complete unknown", system, Complete{Pending: 12345}, ledger.CodePendingNotFound, 0},
			{"retire without purpose", f.holder, Retire{From: f.a1, Units: q(1), Beneficiary: "B"}, ledger.CodeInvalid, 0},
		}
		before := f.n.Totals()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.do(t, tt.actor, tt.req)
				e, ok := ledger.AsError(err)
				if !ok || e.Code != tt.code || e.Check != tt.check {
					t.Fatalf("got %v, want code %s check %d", err, tt.code, tt.check)
				}
			})
		}
		if after := f.n.Totals(); after.JournalSeq != before.JournalSeq || after.ByState[ledger.Held] != before.ByState[ledger.Held] {
			t.Fatalf("rejected requests changed the ledger: %+v -> %+v", before, after)
		}
		verifyOK(t, f.n)
	})
}

func TestIdempotency(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		f := newFixture(t, tg)
		ctx := context.Background()
		req := Transfer{From: f.a1, To: f.a2, Units: Units{Quantity: 10, UnitType: "CCER"}}
		first, err := f.n.Do(ctx, f.holder, "same-key", req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := f.n.Do(ctx, f.holder, "same-key", req)
		if err != nil || !again.Replayed || again.Seq != first.Seq || again.Blocks[0].Serial != first.Blocks[0].Serial {
			t.Fatalf("replay = %+v, %v; first %+v", again, err, first)
		}
		if held(t, f.n, f.a2) != 10 {
			t.Fatal("a replay moved units again")
		}
		_, err = f.n.Do(ctx, f.holder, "same-key", Transfer{From: f.a1, To: f.a2, Units: Units{Quantity: 11, UnitType: "CCER"}})
		if e, ok := ledger.AsError(err); !ok || e.Code != ledger.CodeIdempotencyConflict {
			t.Fatalf("different body with same key: %v", err)
		}
		if _, err := f.n.Do(ctx, f.holder, "", req); err == nil {
			t.Fatal("a write without an idempotency key was accepted")
		}
		// Replays also hold across a restart.
		f.n.Close()
		n2 := openNode(t, tg)
		again, err = n2.Do(ctx, f.holder, "same-key", req)
		if err != nil || !again.Replayed || again.Seq != first.Seq {
			t.Fatalf("replay after restart = %+v, %v", again, err)
		}
	})
}

func TestTwoPhase(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		f := newFixture(t, tg)
		hub := Actor{OrgID: f.must(t, system, CreateOrganisation{Name: "Corridor hub", Country: "SG"}).ID, Role: RoleHub}
		r := f.must(t, f.holder, Reserve{From: f.a1, Units: Units{Quantity: 100, UnitType: "CCER"}, ToRegistry: "TH", ToAccountRef: "TH-100",
			Authority: &Authority{Role: AuthorityHub, OrgID: hub.OrgID}})
		if held(t, f.n, f.a1) != 900 {
			t.Fatal("reserved units still count as held")
		}
		// Reserved units cannot be moved by anyone else.
		if _, err := f.do(t, f.holder, Transfer{From: f.a1, To: f.a2, Units: Units{Serials: []string{"CN-CCER-CCER-14-2024-001-2024-1-50-60"}}}); err == nil {
			t.Fatal("reserved units moved")
		}
		if _, err := f.do(t, f.holder, Complete{Pending: r.Pending}); err == nil {
			t.Fatal("a holder completed a reservation")
		}
		// Survives a restart.
		f.n.Close()
		f.n = openNode(t, tg)
		c := f.must(t, hub, Complete{Pending: r.Pending})
		if c.Quantity != 100 || c.Blocks[0].State != ledger.Exported {
			t.Fatalf("complete: %+v", c)
		}
		if _, err := f.do(t, system, Void{Pending: r.Pending}); err == nil {
			t.Fatal("a completed reservation was voided")
		} else if e, _ := ledger.AsError(err); e.Code != ledger.CodeDuplicate || e.Check != 10006 {
			t.Fatalf("settling twice: %v, want duplicate_transaction (10006)", err)
		}
		r2 := f.must(t, f.holder, Reserve{From: f.a1, Units: Units{Quantity: 50, UnitType: "CCER"}, ToAccount: f.a2})
		// The owner cannot void its escrow; its authority (the registry) can.
		if _, err := f.do(t, f.holder, Void{Pending: r2.Pending}); err == nil {
			t.Fatal("the owner voided its own escrow")
		}
		f.must(t, system, Void{Pending: r2.Pending})
		if held(t, f.n, f.a1) != 900 || held(t, f.n, f.a2) != 0 {
			t.Fatal("void did not return the units")
		}
		r3 := f.must(t, f.holder, Reserve{From: f.a1, Units: Units{Quantity: 50, UnitType: "CCER"}, ToAccount: f.a2})
		f.must(t, system, Complete{Pending: r3.Pending})
		if held(t, f.n, f.a1) != 850 || held(t, f.n, f.a2) != 50 {
			t.Fatal("internal two-phase transfer did not land")
		}
		if f.n.Totals().ByState[ledger.Exported] != 100 {
			t.Fatal("exported count")
		}
		verifyOK(t, f.n)
	})
}

// TestHoldingsPages pages through an account's blocks and gets each block
// exactly once, held first then reserved.
func TestHoldingsPages(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	// Fragment a1's holding: every other range of 10 goes to a2.
	for s := int64(11); s < 300; s += 20 {
		f.must(t, f.holder, Transfer{From: f.a1, To: f.a2, Units: Units{Serials: []string{fmt.Sprintf("CN-CCER-CCER-14-2024-001-2024-1-%d-%d", s, s+9)}}})
	}
	f.must(t, f.holder, Reserve{From: f.a1, Units: Units{Serials: []string{"CN-CCER-CCER-14-2024-001-2024-1-1-5"}}, ToAccount: f.a3})
	all, err := f.n.Holdings(Operator, f.a1, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 16 || all[len(all)-1].State != ledger.Reserved {
		t.Fatalf("holdings: %d blocks, last %+v", len(all), all[len(all)-1])
	}
	var paged []BlockView
	for off := 0; ; off += 3 {
		page, err := f.n.Holdings(Operator, f.a1, off, 3)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, page...)
		if len(page) < 3 {
			break
		}
	}
	if fmt.Sprint(paged) != fmt.Sprint(all) {
		t.Fatalf("pages differ from the whole list:\n%v\n%v", paged, all)
	}
}

// TestSerialHistoryMatchesScan checks the bucketed history query against a
// plain scan of the movements, for every serial of a fragmented issuance.
func TestSerialHistoryMatchesScan(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		f := newFixture(t, tg)
		for i, r := range [][2]int64{{1, 1}, {2, 3}, {5, 12}, {100, 355}, {356, 356}, {400, 999}, {990, 1000}, {3, 600}} {
			from, to := f.a1, f.a2
			if i%2 == 1 {
				from, to = f.a2, f.a1
			}
			serial := fmt.Sprintf("CN-CCER-CCER-14-2024-001-2024-1-%d-%d", r[0], r[1])
			if _, err := f.do(t, f.holder, Transfer{From: from, To: to, Units: Units{Serials: []string{serial}}}); err != nil {
				if _, err := f.do(t, f.holder, Transfer{From: to, To: from, Units: Units{Serials: []string{serial}}}); err != nil {
					continue // the range is split between both accounts
				}
			}
		}
		db := f.n.db
		for s := int64(1); s <= 1000; s += 7 {
			ms, _, err := db.SerialHistory(context.Background(), f.iss, s)
			if err != nil {
				t.Fatal(err)
			}
			var want []int64
			rows, err := db.SQL().Query(db.Rebind(`SELECT seq FROM movements WHERE issuance_id = ? AND start_serial <= ? AND end_serial >= ? ORDER BY seq`), f.iss, s, s)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var seq int64
				_ = rows.Scan(&seq)
				want = append(want, seq)
			}
			rows.Close()
			var got []int64
			for _, m := range ms {
				got = append(got, m.Seq)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) || len(got) == 0 {
				t.Fatalf("serial %d: history %v, scan %v", s, got, want)
			}
		}
	})
}
