package registry

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestReadVisibility: every read for each kind of viewer. Anonymous callers
// see public data with no account numbers; a holder sees its own accounts
// (and their numbers) only; auditors and administrators see everything.
func TestReadVisibility(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	ctx := context.Background()
	otherOrg := f.must(t, system, CreateOrganisation{Name: "Other", Country: "CN"}).ID
	b1 := f.must(t, system, OpenAccount{OrgID: otherOrg, Type: ledger.Holding, Name: "B1"}).ID
	f.must(t, f.holder, Transfer{From: f.a1, To: b1, Units: Units{Serials: []string{"CN-CCER-CCER-14-2024-001-2024-1-1-10"}}})
	f.must(t, f.holder, Retire{From: f.a1, Units: Units{Serials: []string{"CN-CCER-CCER-14-2024-001-2024-1-11-20"}}, Beneficiary: "B", Purpose: "voluntary"})
	pend := f.must(t, f.holder, Reserve{From: f.a1, Units: Units{Serials: []string{"CN-CCER-CCER-14-2024-001-2024-1-21-30"}}, ToAccount: b1}).Pending
	viewers := map[string]Actor{
		"anonymous": Anonymous, "holder": f.holder, "other": {OrgID: otherOrg, Role: ledger.RoleHolder},
		"auditor": {OrgID: otherOrg, Role: ledger.RoleAuditor}, "admin": system,
	}
	order := []string{"anonymous", "holder", "other", "auditor", "admin"}
	// Each read is summarised as the account numbers it shows (or its error).
	accounts := func(ids ...int64) string {
		ids = slices.DeleteFunc(slices.Clone(ids), func(id int64) bool { return id == 0 })
		slices.Sort(ids)
		return fmt.Sprint(slices.Compact(ids))
	}
	errWord := func(err error) string {
		e, _ := ledger.AsError(err)
		return e.Code
	}
	a1, a2, a3 := f.a1, f.a2, f.a3
	reads := []struct {
		name string
		read func(v Actor) string
		want map[string]string
	}{
		{"organisations", func(v Actor) string {
			os, err := f.n.Organisations(v)
			if err != nil {
				return errWord(err)
			}
			return fmt.Sprint(len(os))
		}, map[string]string{"anonymous": "unauthenticated", "holder": "forbidden", "other": "forbidden", "auditor": "2", "admin": "2"}},
		{"accounts", func(v Actor) string {
			as, err := f.n.Accounts(v)
			if err != nil {
				return errWord(err)
			}
			var ids []int64
			for _, a := range as {
				ids = append(ids, a.ID)
			}
			return accounts(ids...)
		}, map[string]string{"anonymous": "unauthenticated", "holder": accounts(a1, a2, a3), "other": accounts(b1), "auditor": accounts(a1, a2, a3, b1), "admin": accounts(a1, a2, a3, b1)}},
		{"account", func(v Actor) string {
			a, err := f.n.Account(v, a1)
			if err != nil {
				return errWord(err)
			}
			return accounts(a.ID)
		}, map[string]string{"anonymous": "unauthenticated", "holder": accounts(a1), "other": ledger.CodeAccountNotFound, "auditor": accounts(a1), "admin": accounts(a1)}},
		{"holdings", func(v Actor) string {
			bs, err := f.n.Holdings(v, a1, 0, 100)
			if err != nil {
				return errWord(err)
			}
			return fmt.Sprint(len(bs) > 0)
		}, map[string]string{"anonymous": "unauthenticated", "holder": "true", "other": ledger.CodeAccountNotFound, "auditor": "true", "admin": "true"}},
		{"issuances", func(v Actor) string { return accounts(f.n.Issuances(v)[0].AccountID) },
			map[string]string{"anonymous": "[]", "holder": accounts(a1), "other": "[]", "auditor": accounts(a1), "admin": accounts(a1)}},
		{"issuance", func(v Actor) string {
			x, err := f.n.Issuance(v, f.iss)
			if err != nil {
				return errWord(err)
			}
			return accounts(x.AccountID)
		}, map[string]string{"anonymous": "[]", "holder": accounts(a1), "other": "[]", "auditor": accounts(a1), "admin": accounts(a1)}},
		// Ranges touched by one transfer to b1 (1-10), a retirement (11-20)
		// and a reservation for b1 (21-30), each after the issuance into a1.
		{"lookup blocks and history", func(v Actor) string {
			var out []string
			for _, r := range []string{"1-10", "11-20", "21-30"} {
				info, err := f.n.Lookup(ctx, v, "CN-CCER-CCER-14-2024-001-2024-1-"+r)
				if err != nil {
					return errWord(err)
				}
				var ids []int64
				pending, details := false, 0
				for _, b := range info.Blocks {
					ids = append(ids, b.AccountID)
					pending = pending || b.Pending != 0
				}
				for _, h := range info.History {
					ids = append(ids, h.FromAccount, h.ToAccount)
					if len(h.Details) > 0 {
						details++
					}
				}
				ids = append(ids, info.Issuance.AccountID)
				out = append(out, fmt.Sprintf("%s:%s/%v/%d", r, accounts(ids...), pending, details))
			}
			return strings.Join(out, " ")
		}, map[string]string{
			"anonymous": "1-10:[]/false/0 11-20:[]/false/1 21-30:[]/false/0",
			"holder":    fmt.Sprintf("1-10:%s/false/0 11-20:%s/false/1 21-30:%s/true/0", accounts(a1), accounts(a1), accounts(a1)),
			"other":     fmt.Sprintf("1-10:%s/false/0 11-20:[]/false/1 21-30:[]/false/0", accounts(b1)),
			"auditor":   fmt.Sprintf("1-10:%s/false/2 11-20:%s/false/2 21-30:%s/true/2", accounts(a1, b1), accounts(a1), accounts(a1)),
			"admin":     fmt.Sprintf("1-10:%s/false/2 11-20:%s/false/2 21-30:%s/true/2", accounts(a1, b1), accounts(a1), accounts(a1))}},
		{"transactions", func(v Actor) string {
			ts, err := f.n.Transactions(ctx, v, 0, "", 1000)
			if err != nil {
				return errWord(err)
			}
			return fmt.Sprint(len(ts) > 0)
		}, map[string]string{"anonymous": "unauthenticated", "holder": "forbidden", "other": "forbidden", "auditor": "true", "admin": "true"}},
		{"retirements", func(v Actor) string {
			rs, err := f.n.Retirements(ctx, v, 0, 100)
			if err != nil {
				return errWord(err)
			}
			return fmt.Sprintf("%d %s", len(rs), accounts(rs[0].Blocks[0].AccountID))
		}, map[string]string{"anonymous": "1 []", "holder": "1 " + accounts(a1), "other": "1 []", "auditor": "1 " + accounts(a1), "admin": "1 " + accounts(a1)}},
		{"escrows", func(v Actor) string {
			es, err := f.n.Escrows(v)
			if err != nil {
				return errWord(err)
			}
			var s []string
			for _, e := range es {
				s = append(s, fmt.Sprintf("%d:%s->%s", e.Pending, accounts(e.From), accounts(e.ToAccount)))
			}
			return strings.Join(s, ",")
		}, map[string]string{"anonymous": "unauthenticated", "holder": fmt.Sprintf("%d:%s->[]", pend, accounts(a1)), "other": "",
			"auditor": fmt.Sprintf("%d:%s->%s", pend, accounts(a1), accounts(b1)), "admin": fmt.Sprintf("%d:%s->%s", pend, accounts(a1), accounts(b1))}},
	}
	for _, rd := range reads {
		for _, who := range order {
			if got := rd.read(viewers[who]); got != rd.want[who] {
				t.Errorf("%s as %s: %q, want %q", rd.name, who, got, rd.want[who])
			}
		}
	}
}

// TestMergeHistory: events of several registries come out in time order,
// each keeping its registry; at one instant the order of the lookups
// given (origin first) and each registry's journal order hold.
func TestMergeHistory(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ev := func(reg string, seq int64, s int) HistoryItem {
		return HistoryItem{Registry: reg, Seq: seq, At: at.Add(time.Duration(s) * time.Second)}
	}
	cn := SerialInfo{History: []HistoryItem{ev("CN", 1, 0), ev("CN", 5, 10), ev("CN", 6, 20), ev("CN", 9, 40)}}
	th := SerialInfo{History: []HistoryItem{ev("TH", 3, 20), ev("TH", 4, 30), ev("TH", 7, 30)}}
	var got []string
	for _, h := range MergeHistory(cn, th) {
		got = append(got, fmt.Sprintf("%s%d", h.Registry, h.Seq))
	}
	if want := []string{"CN1", "CN5", "CN6", "TH3", "TH4", "TH7", "CN9"}; !slices.Equal(got, want) {
		t.Fatalf("merged %v, want %v", got, want)
	}
	if MergeHistory() != nil || len(MergeHistory(SerialInfo{})) != 0 {
		t.Fatal("no lookups: no events")
	}
}
