package api_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestSingaporeICCPurposes: the hub's import statement carries the
// purposes of the ITMOs' authorisation, and Singapore's registry refuses
// an ICC surrender of ITMOs not authorised for use towards an NDC
// (icc_purpose_not_authorised) before anything is retired, instead of
// recording a surrender the hub's Article 6 ledger then refuses
// (article6_purpose_not_authorised). Thailand authorises 2026 units for
// NDC use and 2025 units for OIMP only, both for acquisition by
// Singapore, and sends 1,000 t of each to the Singapore facility through
// the hub; the OIMP-only ones are refused (alone or mixed with NDC ones),
// the NDC ones accepted; after a restart (the purposes rebuilt from the
// journal) the OIMP-only ones are still refused, and verify replays.
func TestSingaporeICCPurposes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		cw, do, adapt := newICCWorld(t, tg)
		th, sg := cw.nodes["TH"], cw.nodes["SG"]
		facility := cw.accs["SG/holder"]
		for _, c := range []struct {
			id      string
			purpose string
			vintage int
		}{{"TH-ICC-NDC", "NDC", 2026}, {"TH-ICC-OIMP", "OIMP", 2025}} {
			a := registry.Authorisation{ID: c.id, Version: 1, Host: "TH", Approach: "SG-TH-IA", Purposes: []string{c.purpose},
				Quantity: 10_000, From: "2026-01-01", Until: "2030-12-31", VintageFrom: 2025, VintageTo: 2030, Activities: []string{"TH-ICC-EBUS"}, AcquiringParties: []string{"SG"},
				Sector: "Transport", ActivityType: "Electric buses", MitigationType: "emission reductions"}
			if c.purpose == "OIMP" {
				a.OIMPUse = "CORSIA"
			}
			do(th, "auth-"+c.id, registry.Authorise{Authorisation: a})
			iss := do(th, "issue-"+c.id, registry.IssueAuthorised{Issue: registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "T-VER", UnitType: "PTVER", Project: "TH-ICC-EBUS",
				Methodology: "T-VER-METH-TM-01", HostCountry: "TH", Vintage: c.vintage, Quantity: 10_000}, AccountID: cw.accs["TH/holder"]}, Authorisation: c.id, AdaptationAccount: adapt}).ID
			st, m, _ := cw.raw(t, "POST", "/api/v1/registries/TH/transfers/cross-border", cw.tokens["TH/holder"], "to-sg-"+c.id,
				fmt.Sprintf(`{"from_account":%d,"to_registry":"SG","to_account":%d,"quantity":1000,"unit_type":"PTVER","issuance_id":%d,"purpose":"icc"}`, cw.accs["TH/holder"], facility, iss))
			if st != 202 {
				t.Fatalf("send %s to SG: %d %v", c.id, st, m)
			}
			cw.deliver(t)
		}
		if got := cw.balance(t, "SG", "holder", ledger.Held); got != 2000 {
			t.Fatalf("the facility holds %d t after the transfers, want 2000", got)
		}
		st, m, _ := cw.raw(t, "POST", "/api/v1/registries/SG/emissions", cw.tokens["SG/admin"], "em", fmt.Sprintf(`{"account_id":%d,"year":2026,"tonnes":100000}`, facility))
		if st != 201 {
			t.Fatalf("emissions: %d %v", st, m)
		}

		n := 0
		retire := func(units string) (int, map[string]any) {
			t.Helper()
			n++
			st, m, _ := cw.raw(t, "POST", "/api/v1/registries/SG/retirements", cw.tokens["SG/holder"], fmt.Sprintf("icc-%d", n),
				fmt.Sprintf(`{"from_account":%d,"units":{%s},"beneficiary":"Jurong Island Refinery (demo)","purpose":"icc","compliance_year":2026}`, facility, units))
			return st, m
		}
		for _, c := range []struct {
			name   string
			units  string
			status int
			code   string
		}{
			{"OIMP-only ITMOs", `"quantity":100,"unit_type":"PTVER","vintage":2025`, 400, registry.CodeICCPurposeNotAuth},
			{"all the facility's ITMOs, OIMP-only ones among them", `"quantity":2000,"unit_type":"PTVER"`, 400, registry.CodeICCPurposeNotAuth},
			{"NDC ITMOs", `"quantity":600,"unit_type":"PTVER","vintage":2026`, 201, ""},
		} {
			st, m := retire(c.units)
			if st != c.status || c.code != "" && m["code"] != c.code {
				t.Fatalf("%s: %d %v, want %d %s", c.name, st, m, c.status, c.code)
			}
		}
		// Nothing of the refused surrenders was retired; the accepted one
		// counts against the year.
		if held, retired := cw.balance(t, "SG", "holder", ledger.Held), cw.balance(t, "SG", "holder", ledger.Retired); held != 1400 || retired != 600 {
			t.Fatalf("after the surrenders the facility holds %d t and retired %d t, want 1400 and 600", held, retired)
		}
		v, err := sg.Account(registry.Operator, facility)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.CarbonTax) != 1 || v.CarbonTax[0].ICCSurrendered != 600 {
			t.Fatalf("carbon tax position %+v, want 600 surrendered", v.CarbonTax)
		}

		// Restart: the purposes are rebuilt from the journal's imports.
		sg.Close()
		re, err := registry.Open(ctx, sg.DB(), registry.Options{Code: "SG"})
		if err != nil {
			t.Fatal(err)
		}
		defer re.Close()
		holder := registry.Actor{Role: ledger.RoleHolder, OrgID: v.OrgID}
		surrender := func(key string, vintage int) error {
			_, err := re.Do(ctx, holder, key, registry.Retire{From: facility, Units: registry.Units{Quantity: 100, UnitType: "PTVER", Vintage: vintage},
				Beneficiary: "x", Purpose: "icc", ComplianceYear: 2026})
			return err
		}
		if err := surrender("oimp-after-restart", 2025); !isCode(err, registry.CodeICCPurposeNotAuth) {
			t.Fatalf("after a restart, OIMP-only ITMOs: %v, want %s", err, registry.CodeICCPurposeNotAuth)
		}
		if err := surrender("ndc-after-restart", 2026); err != nil {
			t.Fatalf("after a restart, NDC ITMOs: %v", err)
		}
		if rep, err := registry.Verify(ctx, re.DB()); err != nil || !rep.OK() {
			t.Fatalf("verify: %v %+v", err, rep)
		}
	})
}
