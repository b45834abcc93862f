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
