package registry

import (
	"context"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestIssuanceStandardAndVintage: an issuance whose unit type its standard's
// programme does not issue (VCU under CCER, CEA under CCER), or a crediting
// programme's unit type under a standard naming another programme, is
// unit_type_standard_mismatch; a vintage before 2000 or after the current
// year is vintage_out_of_range; both on either driver, nothing journaled.
// The demo's pairs and a standard and unit type the rulebook does not know
// pass.
func TestIssuanceStandardAndVintage(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		n, err := Open(ctx, tg.Open(t), Options{Code: "CN"})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		f := &fixture{n: n}
		f.org = f.must(t, system, CreateOrganisation{Name: "Shanxi Methane", Country: "CN"}).ID
		f.a1 = f.must(t, system, OpenAccount{OrgID: f.org, Type: ledger.Holding, Name: "Project"}).ID
		issue := func(standard, unitType string, vintage int) Issue {
			return Issue{IssuanceFacts: IssuanceFacts{Standard: standard, UnitType: unitType, Project: "P-1", HostCountry: "CN", Vintage: vintage, Quantity: 10}, AccountID: f.a1}
		}
		// The ceiling is the wall clock's year (at UTC+14, where a year
		// begins first): next year's vintage is refused only once no
		// place on Earth has reached it, so refuse the one after.
		thisYear, farYear := time.Now().UTC().Year(), time.Now().UTC().Year()+2
		seq := n.Totals().JournalSeq
		for _, c := range []struct {
			name        string
			req         Request
			code, field string
		}{
			{"VCU under CCER", issue("CCER", "VCU", 2024), CodeUnitTypeStandardMismatch, "unit_type"},
			{"CEA under CCER", issue("CCER", "CEA", 2024), CodeUnitTypeStandardMismatch, "unit_type"},
			{"unknown unit type under Verra", issue("Verra VCS", "XYZ", 2024), CodeUnitTypeStandardMismatch, "unit_type"},
			{"CCER under Gold Standard", issue("gold standard", "CCER", 2024), CodeUnitTypeStandardMismatch, "unit_type"},
			{"CCER under an unknown standard", issue("Acme Carbon", "CCER", 2024), CodeUnitTypeStandardMismatch, "standard"},
			{"VCU under CCER (pointer)", &Issue{IssuanceFacts: issue("CCER", "VCU", 2024).IssuanceFacts, AccountID: f.a1}, CodeUnitTypeStandardMismatch, "unit_type"},
			{"issue_authorised VCU under T-VER", IssueAuthorised{Issue: issue("T-VER", "VCU", 2026)}, CodeUnitTypeStandardMismatch, "issue.unit_type"},
			{"vintage 1990", issue("CCER", "CCER", 1990), CodeVintageOutOfRange, "vintage"},
			{"vintage 1999", issue("CCER", "CCER", 1999), CodeVintageOutOfRange, "vintage"},
			{"vintage in two years", issue("CCER", "CCER", farYear), CodeVintageOutOfRange, "vintage"},
			{"issue_authorised vintage in two years", &IssueAuthorised{Issue: issue("T-VER", "TVER", farYear)}, CodeVintageOutOfRange, "issue.vintage"},
		} {
			_, err := f.do(t, system, c.req)
			if e, ok := ledger.AsError(err); !ok || e.Code != c.code || e.Field != c.field {
				t.Errorf("%s: %v, want %s on %s", c.name, err, c.code, c.field)
			}
		}
		if got := n.Totals().JournalSeq; got != seq {
			t.Fatalf("refused issuances moved the journal from %d to %d", seq, got)
		}
		for _, r := range []Issue{
			issue("CCER", "CCER", 2000),
			issue("T-VER", "PTVER", 2025),
			issue("t-ver", "TVER", 2025),
			issue("Verra VCS", "VCU", 2022),
			issue("SRN-PPI", "SPEGRK", 2023),
			issue("JCM", "JCM", 2024),
			issue("China national ETS", "CEA", 2025),
			issue("Benchmark", "BU", 2024),
			issue("CCER", "CCER", thisYear),
		} {
			f.must(t, system, r)
		}
	})
}

// TestVintageCeilingAtUTCPlus14: on 31 December at noon UTC it is already
// the new year at UTC+14, so that year's vintage passes; the year after
// does not.
func TestVintageCeilingAtUTCPlus14(t *testing.T) {
	noon := time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC)
	facts := func(v int) Issue {
		return Issue{IssuanceFacts: IssuanceFacts{Standard: "CCER", UnitType: "CCER", Vintage: v}}
	}
	if err := CheckIssuanceFacts(facts(2027), noon); err != nil {
		t.Errorf("vintage 2027 at %v: %v", noon, err)
	}
	if err := CheckIssuanceFacts(facts(2027), noon.Add(-3*time.Hour)); err == nil {
		t.Errorf("vintage 2027 at %v passed; it is 2026 everywhere", noon.Add(-3*time.Hour))
	}
	if e, ok := ledger.AsError(CheckIssuanceFacts(facts(2028), noon)); !ok || e.Code != CodeVintageOutOfRange {
		t.Errorf("vintage 2028 at %v: %v, want %s", noon, e, CodeVintageOutOfRange)
	}
}
