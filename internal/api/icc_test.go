package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestSingaporeICCSurrender is the issue's Singapore ICC flow from
// Thailand with the 5 % limit, through the HTTP API: Thailand authorises
// and issues under the Singapore–Thailand IA (SG-TH-IA), its holder sends
// 3,000 t to the Singapore facility through the hub (purpose icc), the
// Singapore administrator records the facility's 50,000 t of taxable
// emissions for 2026 (limit 2,500 t), the facility surrenders 2,000 t and
// then 500 t (accepted: the limit is summed over the year), one tonne more
// is refused with icc_limit_exceeded, and the AEF Actions of Singapore
// show the use by SG with the facility as entity. Each other refusal has
// its code; the position survives a restart.
func TestSingaporeICCSurrender(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		cw, do, adapt := newICCWorld(t, tg)
		th, sg := cw.nodes["TH"], cw.nodes["SG"]
		do(th, "auth", registry.Authorise{Authorisation: registry.Authorisation{ID: "TH-ICC-0001", Version: 1, Host: "TH", Approach: "SG-TH-IA", Purposes: []string{"NDC"},
			Quantity: 10_000, From: "2026-01-01", Until: "2030-12-31", VintageFrom: 2026, VintageTo: 2030, Activities: []string{"TH-ICC-EBUS"}, AcquiringParties: []string{"SG"},
			Sector: "Transport", ActivityType: "Electric buses", MitigationType: "emission reductions"}})
		iss := do(th, "issue", registry.IssueAuthorised{Issue: registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "T-VER", UnitType: "PTVER", Project: "TH-ICC-EBUS",
			Methodology: "T-VER-METH-TM-01", HostCountry: "TH", Vintage: 2026, Quantity: 10_000}, AccountID: cw.accs["TH/holder"]}, Authorisation: "TH-ICC-0001", AdaptationAccount: adapt}).ID

		// Thailand → Singapore through the hub, for purpose icc.
		facility := cw.accs["SG/holder"]
		st, m, _ := cw.raw(t, "POST", "/api/v1/registries/TH/transfers/cross-border", cw.tokens["TH/holder"], "to-sg",
			fmt.Sprintf(`{"from_account":%d,"to_registry":"SG","to_account":%d,"quantity":3000,"unit_type":"PTVER","issuance_id":%d,"purpose":"icc"}`, cw.accs["TH/holder"], facility, iss))
		if st != 202 {
			t.Fatalf("send to SG: %d %v", st, m)
		}
		cw.deliver(t)
		if got := cw.balance(t, "SG", "holder", ledger.Held); got != 3000 {
			tr, _ := cw.c.Transfer(ctx, m["id"].(string))
			t.Fatalf("the facility holds %d t after the transfer, want 3000: %+v", got, tr)
		}
		// Units Singapore's registry issued itself are not ITMOs; one lot
		// of a vintage outside 2021-2030.
		for i, v := range []int{2026, 2020} {
			do(sg, fmt.Sprintf("local-%d", i), registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "SG-LOCAL", UnitType: fmt.Sprintf("LOCAL%d", i), Project: fmt.Sprintf("SG-LOCAL-%d", i),
				HostCountry: "SG", Vintage: v, Quantity: 100}, AccountID: facility})
		}

		tok := cw.tokens["SG/holder"]
		n := 0
		retire := func(qty int64, unitType string, extra string) (int, map[string]any) {
			t.Helper()
			n++
			st, m, _ := cw.raw(t, "POST", "/api/v1/registries/SG/retirements", tok, fmt.Sprintf("icc-%d", n),
				fmt.Sprintf(`{"from_account":%d,"units":{"quantity":%d,"unit_type":%q},"beneficiary":"Jurong Island Refinery (demo)","purpose":"icc"%s}`, facility, qty, unitType, extra))
			return st, m
		}
		year := `,"compliance_year":2026`
		want := func(name string, st int, m map[string]any, status int, code string) {
			t.Helper()
			if st != status || code != "" && m["code"] != code {
				t.Errorf("%s: %d %v, want %d %s", name, st, m, status, code)
			}
		}
		st, m = retire(100, "PTVER", year)
		want("before taxable emissions are recorded", st, m, 409, registry.CodeICCNoTaxableEmissions)

		// The administrator records the facility's taxable emissions; a
		// holder may not, and a year is recorded once.
		report := fmt.Sprintf(`{"account_id":%d,"year":2026,"tonnes":50000}`, facility)
		st, m, _ = cw.raw(t, "POST", "/api/v1/registries/SG/emissions", tok, "em-holder", report)
		want("a holder records emissions", st, m, 403, "")
		st, m, _ = cw.raw(t, "POST", "/api/v1/registries/SG/emissions", cw.tokens["SG/admin"], "em", report)
		want("the administrator records emissions", st, m, 201, "")
		st, m, _ = cw.raw(t, "POST", "/api/v1/registries/SG/emissions", cw.tokens["SG/admin"], "em-again", report)
		want("the same year again", st, m, 409, registry.CodeEmissionsAlreadyReport)
		st, m, _ = cw.raw(t, "POST", "/api/v1/registries/TH/emissions", cw.tokens["TH/admin"], "em-th", report)
		want("emissions in Thailand's registry", st, m, 400, registry.CodeICCNotSingapore)

		st, m = retire(100, "PTVER", "")
		want("no compliance year", st, m, 400, registry.CodeICCComplianceYear)
		st, m = retire(100, "PTVER", `,"compliance_year":2025`)
		want("a year without emissions", st, m, 409, registry.CodeICCNoTaxableEmissions)
		st, m = retire(10, "LOCAL0", year)
		want("units that are not ITMOs", st, m, 400, registry.CodeICCNotAuthorised)
		st, m = retire(10, "LOCAL1", year)
		want("vintage 2020", st, m, 400, registry.CodeICCVintage)
		st, m = retire(2501, "PTVER", year)
		want("above the limit in one surrender", st, m, 409, registry.CodeICCLimitExceeded)
		// Up to the limit in two surrenders, then one tonne more.
		st, m = retire(2000, "PTVER", year)
		want("2,000 t", st, m, 201, "")
		st, m = retire(500, "PTVER", year)
		want("500 t more, to the limit", st, m, 201, "")
		st, m = retire(1, "PTVER", year)
		want("one tonne above the limit", st, m, 409, registry.CodeICCLimitExceeded)
		if t.Failed() {
			t.FailNow()
		}

		// The position on the account (API).
		position := func() string {
			t.Helper()
			st, m, _ := cw.raw(t, "GET", fmt.Sprintf("/api/v1/registries/SG/accounts/%d", facility), tok, "", "")
			if st != 200 {
				t.Fatalf("account: %d %v", st, m)
			}
			return fmt.Sprint(m["carbon_tax"])
		}
		const wantPos = "[map[icc_headroom:0 icc_limit:2500 icc_surrendered:2500 taxable_emissions:50000 year:2026]]"
		if got := position(); got != wantPos {
			t.Fatalf("carbon_tax %s, want %s", got, wantPos)
		}

		// The AEF: Singapore's Actions show the use by SG, with the facility.
		resp, err := http.Get(cw.srv.URL + "/api/v1/article6/aef?party=SG&year=2026&table=actions&format=csv")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var uses []string
		for _, l := range strings.Split(string(body), "\n") {
			if strings.Contains(l, ",Use,") {
				uses = append(uses, l)
			}
		}
		if resp.StatusCode != 200 || len(uses) != 2 || !slices.ContainsFunc(uses, func(l string) bool { return strings.Contains(l, ",2000,") }) ||
			!strings.Contains(uses[0], ",SGP,Jurong Island Refinery (demo),2026,") {
			t.Fatalf("SG AEF actions: %d, uses %q\n%s", resp.StatusCode, uses, body)
		}

		// Restart: the node rebuilds the position from its journal.
		sg.Close()
		re, err := registry.Open(ctx, sg.DB(), registry.Options{Code: "SG"})
		if err != nil {
			t.Fatal(err)
		}
		defer re.Close()
		v, err := re.Account(registry.Operator, facility)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%+v", v.CarbonTax); got != "[{Year:2026 TaxableEmissions:50000 ICCLimit:2500 ICCSurrendered:2500 ICCHeadroom:0}]" {
			t.Fatalf("after a restart: %s", got)
		}
		if _, err := re.Do(ctx, registry.Actor{Role: ledger.RoleHolder, OrgID: v.OrgID}, "icc-after-restart", registry.Retire{From: facility,
			Units: registry.Units{Quantity: 1, UnitType: "PTVER"}, Beneficiary: "x", Purpose: "icc", ComplianceYear: 2026}); !isCode(err, registry.CodeICCLimitExceeded) {
			t.Fatalf("after a restart one tonne more: %v", err)
		}
		// verify replays the journal, report_emissions and the ICC
		// surrenders included.
		if rep, err := registry.Verify(ctx, re.DB()); err != nil || !rep.OK() {
			t.Fatalf("verify: %v %+v", err, rep)
		}
	})
}

// newICCWorld is Thailand's and Singapore's registries linked by a hub
// with an Article 6 ledger, a Do as their administrator (failing the
// test on an error), and Thailand's adaptation account for the share of
// proceeds.
func newICCWorld(t *testing.T, tg storetest.Target) (cw *corridorWorld, do func(*registry.Node, string, registry.Request) registry.Result, adapt int64) {
	var specs []demo.Registry
	for _, r := range demo.Registries {
		if r.Code == "TH" || r.Code == "SG" {
			specs = append(specs, r)
		}
	}
	cw = newCorridorWorldOf(t, tg, specs, withArticle6)
	admin := registry.Actor{Role: ledger.RoleAdmin}
	do = func(n *registry.Node, key string, req registry.Request) registry.Result {
		t.Helper()
		res, err := n.Do(context.Background(), admin, key, req)
		if err != nil {
			t.Fatalf("%s %s: %v", n.Code(), req.Kind(), err)
		}
		return res
	}
	th := cw.nodes["TH"]
	org := do(th, "adapt-org", registry.CreateOrganisation{Name: "Thailand adaptation fund", Country: "TH"}).ID
	adapt = do(th, "adapt-acc", registry.OpenAccount{OrgID: org, Type: ledger.Holding, Name: "Adaptation"}).ID
	return cw, do, adapt
}

func isCode(err error, code string) bool {
	e, ok := ledger.AsError(err)
	return ok && e.Code == code
}
