package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestUnknownUnitType: a unit type the registry has never issued or
// imported is 400 unit_type_unknown naming the types it knows (it read as
// insufficient_units, as if the account merely held too few), on every
// move that selects by quantity; nothing is written.
func TestUnknownUnitType(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w := newWorld(t, tg)
		seq := w.node.Totals().JournalSeq
		units := `"units":{"quantity":5,"unit_type":"BOGUS"}`
		for _, c := range []struct{ name, path, body string }{
			{"transfer", "/api/v1/registries/CN/transfers", fmt.Sprintf(`{"from_account":%d,"to_account":%d,%s}`, w.account, w.otherAc, units)},
			{"retire", "/api/v1/registries/CN/retirements", fmt.Sprintf(`{"from_account":%d,%s,"beneficiary":"x","purpose":"voluntary"}`, w.account, units)},
			{"cancel", "/api/v1/registries/CN/cancellations", fmt.Sprintf(`{"from_account":%d,%s}`, w.account, units)},
			{"reserve", "/api/v1/registries/CN/reservations", fmt.Sprintf(`{"from_account":%d,"to_account":%d,%s}`, w.account, w.otherAc, units)},
		} {
			st, m, _ := w.raw(t, "POST", c.path, w.tokens["holder"], "ut-"+c.name, c.body)
			d, _ := m["detail"].(string)
			if st != 400 || m["code"] != "unit_type_unknown" || m["field"] != "units.unit_type" || !strings.Contains(d, `"BOGUS"`) || !strings.Contains(d, "CCER") {
				t.Errorf("%s: %d %v; want 400 unit_type_unknown naming CCER", c.name, st, m)
			}
		}
		// A known type the account lacks is still insufficient_units.
		st, m, _ := w.raw(t, "POST", "/api/v1/registries/CN/transfers", w.tokens["holder"], "ut-many",
			fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":100000000,"unit_type":"CCER"}}`, w.account, w.otherAc))
		if st != 409 || m["code"] != "insufficient_units" {
			t.Errorf("too many CCER: %d %v", st, m)
		}
		if got := w.node.Totals().JournalSeq; got != seq {
			t.Fatalf("refused moves moved the journal from %d to %d", seq, got)
		}
	})
}

// TestIssueUnknownHostCountry: host_country ZZ is 400
// host_country_unknown, on a plain and on an authorised issuance; an
// assigned code is issued.
func TestIssueUnknownHostCountry(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w := newWorld(t, tg)
		body := func(c string) string {
			return fmt.Sprintf(`{"standard":"CCER","unit_type":"CCER","project":"P-ZZ","host_country":%q,"vintage":2025,"quantity":10,"account_id":%d}`, c, w.account)
		}
		seq := w.node.Totals().JournalSeq
		for _, c := range []struct{ path, body, field string }{
			{"/api/v1/registries/CN/issuances", body("ZZ"), "host_country"},
			{"/api/v1/registries/CN/issuances/authorised", `{"issue":` + body("ZZ") + `,"authorisation":"A-1"}`, "issue.host_country"},
		} {
			st, m, _ := w.raw(t, "POST", c.path, w.tokens["admin"], "hc-"+c.field, c.body)
			if st != 400 || m["code"] != "host_country_unknown" || m["field"] != c.field {
				t.Errorf("%s: %d %v; want 400 host_country_unknown [%s]", c.path, st, m, c.field)
			}
		}
		if got := w.node.Totals().JournalSeq; got != seq {
			t.Fatalf("refused issues moved the journal from %d to %d", seq, got)
		}
		if st, m, _ := w.raw(t, "POST", "/api/v1/registries/CN/issuances", w.tokens["admin"], "hc-ok", body("KH")); st != 201 {
			t.Fatalf("host_country KH: %d %v", st, m)
		}
	})
}
