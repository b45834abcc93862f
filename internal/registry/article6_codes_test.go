package registry

import (
	"context"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestCountryAndUnitTypeCodes: two letters that are no ISO 3166-1 code
// are country_unknown for an organisation's country and for the investor
// Party of a project abroad (as host_country_unknown is for a host
// country), and an issuance's lower-case unit type is unit_type_unknown
// naming the upper-case form (as a quantity selection's is), not
// invalid_request; nothing is journaled.
func TestCountryAndUnitTypeCodes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		n, err := Open(ctx, tg.Open(t), Options{Code: "TH"})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		f := &fixture{n: n}
		f.org = f.must(t, system, CreateOrganisation{Name: "Bangkok E-Bus", Country: "TH"}).ID
		f.a1 = f.must(t, system, OpenAccount{OrgID: f.org, Type: ledger.Holding, Name: "Project"}).ID
		f.a2 = f.must(t, system, OpenAccount{OrgID: f.org, Type: ledger.Holding, Name: "Adaptation"}).ID
		f.must(t, system, Authorise{Authorisation: thaiAuthorisation()})
		authorised := func(unitType, investor string) IssueAuthorised {
			r := IssueAuthorised{Issue: Issue{IssuanceFacts: IssuanceFacts{Standard: "T-VER", UnitType: unitType, Project: "TH-EBUS-01", HostCountry: "TH", Vintage: 2026, Quantity: 1000}, AccountID: f.a1},
				Authorisation: thaiAuthorisation().ID, AdaptationAccount: f.a2}
			if investor != "" {
				r.Investor, r.InvestorFraction, r.InvestorAccount = investor, "0.5", f.a1
			}
			return r
		}
		seq := n.Totals().JournalSeq
		for _, c := range []struct {
			name        string
			req         Request
			code, field string
		}{
			{"organisation in ZZ", CreateOrganisation{Name: "Nowhere Ltd", Country: "ZZ"}, CodeCountryUnknown, "country"},
			{"organisation in QQ (pointer)", &CreateOrganisation{Name: "Nowhere Ltd", Country: "QQ"}, CodeCountryUnknown, "country"},
			{"investor ZZ", authorised("PTVER", "ZZ"), CodeCountryUnknown, "investor"},
			{"issue ptver", Issue{IssuanceFacts: IssuanceFacts{Standard: "T-VER", UnitType: "ptver", Project: "TH-X", HostCountry: "TH", Vintage: 2026, Quantity: 10}, AccountID: f.a1}, CodeUnitTypeUnknown, "unit_type"},
			{"issue_authorised ptver", authorised("ptver", ""), CodeUnitTypeUnknown, "issue.unit_type"},
		} {
			_, err := f.do(t, system, c.req)
			if e, ok := ledger.AsError(err); !ok || e.Code != c.code || e.Field != c.field {
				t.Errorf("%s: %v, want %s on %s", c.name, err, c.code, c.field)
			}
		}
		if _, err := f.do(t, system, Issue{IssuanceFacts: IssuanceFacts{Standard: "T-VER", UnitType: "ptver", Project: "TH-X", HostCountry: "TH", Vintage: 2026, Quantity: 10}, AccountID: f.a1}); err == nil || !strings.Contains(err.Error(), `"PTVER"`) {
			t.Errorf("a lower-case unit type names its upper-case form: %v", err)
		}
		if got := n.Totals().JournalSeq; got != seq {
			t.Fatalf("refused requests moved the journal from %d to %d", seq, got)
		}
		f.must(t, system, CreateOrganisation{Name: "Phnom Penh Co", Country: "KH"})
	})
}
