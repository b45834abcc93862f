package api_test

import (
	"fmt"
	"testing"

	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestIssueStandardAndVintage: through the HTTP API, a VCU issued under
// standard CCER is 400 unit_type_standard_mismatch and vintage 1990 is 400
// vintage_out_of_range, on a plain and on an authorised issuance; nothing
// is written, and CCER under CCER of 2025 is issued.
func TestIssueStandardAndVintage(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w := newWorld(t, tg)
		body := func(unitType string, vintage int) string {
			return fmt.Sprintf(`{"standard":"CCER","unit_type":%q,"project":"P-SV","host_country":"CN","vintage":%d,"quantity":10,"account_id":%d}`, unitType, vintage, w.account)
		}
		seq := w.node.Totals().JournalSeq
		for _, c := range []struct{ name, path, body, code, field string }{
			{"VCU under CCER", "/api/v1/registries/CN/issuances", body("VCU", 2025), "unit_type_standard_mismatch", "unit_type"},
			{"vintage 1990", "/api/v1/registries/CN/issuances", body("CCER", 1990), "vintage_out_of_range", "vintage"},
			{"authorised VCU under CCER", "/api/v1/registries/CN/issuances/authorised", `{"issue":` + body("VCU", 2025) + `,"authorisation":"A-1"}`, "unit_type_standard_mismatch", "issue.unit_type"},
			{"authorised vintage 1990", "/api/v1/registries/CN/issuances/authorised", `{"issue":` + body("CCER", 1990) + `,"authorisation":"A-1"}`, "vintage_out_of_range", "issue.vintage"},
		} {
			st, m, _ := w.raw(t, "POST", c.path, w.tokens["admin"], "sv-"+c.name, c.body)
			if st != 400 || m["code"] != c.code || m["field"] != c.field {
				t.Errorf("%s: %d %v; want 400 %s [%s]", c.name, st, m, c.code, c.field)
			}
		}
		if got := w.node.Totals().JournalSeq; got != seq {
			t.Fatalf("refused issues moved the journal from %d to %d", seq, got)
		}
		if st, m, _ := w.raw(t, "POST", "/api/v1/registries/CN/issuances", w.tokens["admin"], "sv-ok", body("CCER", 2025)); st != 201 {
			t.Fatalf("CCER under CCER, 2025: %d %v", st, m)
		}
	})
}
