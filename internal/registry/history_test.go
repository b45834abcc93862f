package registry

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestLookupRangeHistory looks up a 250,000-unit block that six later
// transactions touched in different parts: the history lists every one of
// them with the part of the looked-up range it touched (before, only the
// three that touched the block's first serial were listed).
func TestLookupRangeHistory(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		f := newFixture(t, tg)
		iss := f.must(t, system, Issue{IssuanceFacts: IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "CCER-14-2024-002", Methodology: "CCER-14-001-V01",
			HostCountry: "CN", Vintage: 2024, Quantity: 250000}, AccountID: f.a1}).ID
		ser := func(a, b int64) string { return fmt.Sprintf("CN-CCER-CCER-14-2024-002-2024-%d-%d-%d", iss, a, b) }
		units := func(a, b int64) Units { return Units{Serials: []string{ser(a, b)}} }
		f.must(t, f.holder, Transfer{From: f.a1, To: f.a2, Units: units(1, 100)})
		f.must(t, f.holder, Transfer{From: f.a1, To: f.a3, Units: units(50000, 60000)})
		f.must(t, f.holder, Retire{From: f.a1, Units: units(240001, 240200), Beneficiary: "Shanghai Steel", Purpose: "voluntary"})
		f.must(t, f.holder, Transfer{From: f.a2, To: f.a3, Units: units(1, 50)})
		f.must(t, f.holder, Cancel{From: f.a3, Units: units(55000, 55999)})
		p := f.must(t, f.holder, Reserve{From: f.a1, Units: units(100000, 100009), ToAccount: f.a2}).Seq
		f.must(t, system, Complete{Pending: p})

		type ev struct {
			kind     string
			from, to int64
		}
		cases := []struct {
			lookup string
			want   []ev
		}{
			{ser(1, 250000), []ev{{"issue", 1, 250000}, {"transfer", 1, 100}, {"transfer", 50000, 60000}, {"retire", 240001, 240200},
				{"transfer", 1, 50}, {"cancel", 55000, 55999}, {"reserve", 100000, 100009}, {"complete", 100000, 100009}}},
			{ser(40000, 70000), []ev{{"issue", 40000, 70000}, {"transfer", 50000, 60000}, {"cancel", 55000, 55999}}},
			{ser(55500, 55500), []ev{{"issue", 55500, 55500}, {"transfer", 55500, 55500}, {"cancel", 55500, 55500}}},
			{ser(100005, 240100), []ev{{"issue", 100005, 240100}, {"retire", 240001, 240100}, {"reserve", 100005, 100009}, {"complete", 100005, 100009}}},
			{ser(200000, 200000), []ev{{"issue", 200000, 200000}}},
		}
		for _, c := range cases {
			info, err := f.n.Lookup(context.Background(), Operator, c.lookup)
			if err != nil {
				t.Fatal(err)
			}
			var got []ev
			for _, h := range info.History {
				got = append(got, ev{h.Kind, h.TouchedStart, h.TouchedEnd})
				if h.TouchedStart < h.Start || h.TouchedEnd > h.End || h.TouchedStart > h.TouchedEnd {
					t.Fatalf("%s: touched %d-%d outside the movement %d-%d", c.lookup, h.TouchedStart, h.TouchedEnd, h.Start, h.End)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("lookup %s: history\n%v\nwant\n%v", c.lookup, got, c.want)
			}
			if info.HistoryTruncated {
				t.Fatalf("lookup %s: truncated", c.lookup)
			}
		}
	})
}

// TestRangeHistoryMatchesScan checks the bucketed range query against a
// plain scan of the movements overlapping a range, for random ranges of a
// fragmented issuance.
func TestRangeHistoryMatchesScan(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		f := newFixture(t, tg)
		for i, r := range [][2]int64{{1, 1}, {2, 3}, {5, 12}, {100, 355}, {356, 356}, {400, 999}, {990, 1000}, {3, 600}, {700, 701}} {
			from, to := f.a1, f.a2
			if i%2 == 1 {
				from, to = f.a2, f.a1
			}
			serial := fmt.Sprintf("CN-CCER-CCER-14-2024-001-2024-1-%d-%d", r[0], r[1])
			if _, err := f.do(t, f.holder, Transfer{From: from, To: to, Units: Units{Serials: []string{serial}}}); err != nil {
				_, _ = f.do(t, f.holder, Transfer{From: to, To: from, Units: Units{Serials: []string{serial}}})
			}
		}
		db := f.n.db
		rapid.Check(t, func(rt *rapid.T) {
			a := rapid.Int64Range(1, 1000).Draw(rt, "start")
			b := rapid.Int64Range(a, 1000).Draw(rt, "end")
			ms, _, err := db.RangeHistory(context.Background(), f.iss, a, b, 0)
			if err != nil {
				rt.Fatal(err)
			}
			rows, err := db.SQL().Query(db.Rebind(`SELECT seq, start_serial FROM movements WHERE issuance_id = ? AND start_serial <= ? AND end_serial >= ? ORDER BY seq, start_serial`), f.iss, b, a)
			if err != nil {
				rt.Fatal(err)
			}
			var want []string
			for rows.Next() {
				var seq, start int64
				_ = rows.Scan(&seq, &start)
				want = append(want, fmt.Sprintf("%d@%d", seq, start))
			}
			rows.Close()
			var got []string
			for _, m := range ms {
				got = append(got, fmt.Sprintf("%d@%d", m.Seq, m.Start))
			}
			if strings.Join(got, " ") != strings.Join(want, " ") || len(got) == 0 {
				rt.Fatalf("range %d-%d: history %v, scan %v", a, b, got, want)
			}
		})
	})
}

// TestJournalFilters reads the journal by kind, account and UTC day, and
// pages through it.
func TestJournalFilters(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		clock := time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC)
		n, err := Open(context.Background(), tg.Open(t), Options{Code: "CN", Now: func() time.Time { return clock }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Close)
		f := &fixture{n: n}
		org := f.must(t, system, CreateOrganisation{Name: "Org", Country: "CN"}).ID
		a1 := f.must(t, system, OpenAccount{OrgID: org, Type: ledger.Holding, Name: "A1"}).ID
		a2 := f.must(t, system, OpenAccount{OrgID: org, Type: ledger.Holding, Name: "A2"}).ID
		a3 := f.must(t, system, OpenAccount{OrgID: org, Type: ledger.Holding, Name: "A3"}).ID
		holder := Actor{OrgID: org, Role: ledger.RoleHolder}
		// seq 5, on 1 March; then the clock moves to 2 March, 01:00.
		f.must(t, system, Issue{IssuanceFacts: IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "P-1", Methodology: "M", HostCountry: "CN", Vintage: 2024, Quantity: 100}, AccountID: a1})
		clock = clock.Add(2 * time.Hour)
		t1 := f.must(t, holder, Transfer{From: a1, To: a2, Units: Units{Quantity: 10, UnitType: "CCER"}}).Seq
		clock = clock.Add(24 * time.Hour) // 3 March
		t2 := f.must(t, holder, Transfer{From: a2, To: a3, Units: Units{Quantity: 5, UnitType: "CCER"}}).Seq
		t3 := f.must(t, holder, Retire{From: a1, Units: Units{Quantity: 1, UnitType: "CCER"}, Beneficiary: "B", Purpose: "voluntary"}).Seq

		seqs := func(jf JournalFilter) string {
			t.Helper()
			if jf.Limit == 0 {
				jf.Limit = 100
			}
			txs, err := n.Journal(context.Background(), system, jf)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, tx := range txs {
				out = append(out, fmt.Sprint(tx.Seq))
				if tx.Hash == "" {
					t.Fatalf("entry %d without hash", tx.Seq)
				}
			}
			return strings.Join(out, ",")
		}
		day := func(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC) }
		for _, c := range []struct {
			name string
			f    JournalFilter
			want string
		}{
			{"kind", JournalFilter{Kind: "transfer"}, fmt.Sprintf("%d,%d", t1, t2)},
			{"account a2", JournalFilter{Account: a2}, fmt.Sprintf("%d,%d", t1, t2)},
			{"account a1", JournalFilter{Account: a1}, fmt.Sprintf("5,%d,%d", t1, t3)},
			{"account and kind", JournalFilter{Account: a1, Kind: "retire"}, fmt.Sprint(t3)},
			{"one day", JournalFilter{Since: day(2), Until: day(2)}, fmt.Sprint(t1)},
			{"from a day", JournalFilter{Since: day(3)}, fmt.Sprintf("%d,%d", t2, t3)},
			{"until a day", JournalFilter{Until: day(1)}, "1,2,3,4,5"},
			{"page", JournalFilter{After: 2, Limit: 2}, "3,4"},
			{"no limit lists none", JournalFilter{Limit: -1}, ""},
		} {
			if got := seqs(c.f); got != c.want {
				t.Errorf("%s: entries %s, want %s", c.name, got, c.want)
			}
		}
		// The journal and the escrows are for administrators and auditors.
		for _, v := range []Actor{holder, {}} {
			if _, err := n.Journal(context.Background(), v, JournalFilter{Limit: 10}); err == nil {
				t.Errorf("%v read the journal", v)
			}
			// A holder sees only its own organisation's escrows (escrow.go).
			if _, err := n.Escrows(v); err == nil && v == (Actor{}) {
				t.Errorf("%v read the escrows", v)
			}
		}
		if _, err := n.Escrows(Actor{OrgID: org, Role: ledger.RoleAuditor}); err != nil {
			t.Errorf("an auditor could not read the escrows: %v", err)
		}
	})
}
