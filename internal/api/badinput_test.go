package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

func TestBadInputLeavesLedgerUnchanged(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w := newWorld(t, tg)
		tr := "/api/v1/registries/CN/transfers"
		ok := fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":5,"unit_type":"CCER"}}`, w.account, w.otherAc)
		// One good transfer to replay later.
		if st, body, _ := w.raw(t, "POST", tr, w.tokens["holder"], "good-1", ok); st != 201 {
			t.Fatalf("good transfer: %d %v", st, body)
		}
		before := w.node.Totals()
		big := `{"from_account":1,"to_account":2,"units":{"quantity":1,"unit_type":"CCER"},"pad":"` + strings.Repeat("x", 1<<20) + `"}`
		tests := []struct {
			name, key, body string
			status          int
			code, field     string
		}{
			{"malformed JSON", "b1", `{"from_account":`, 400, "malformed_json", ""},
			{"not an object", "b2", `[1,2]`, 400, "body_not_object", ""},
			{"empty body", "b3", ``, 415, "unsupported_media_type", "Content-Type"},
			{"unknown field", "b4", `{"from_account":1,"to_account":2,"units":{"quantity":1,"unit_type":"CCER"},"fee":3}`, 400, "unknown_field", "fee"},
			{"trailing data", "b5", ok + `{}`, 400, "malformed_json", ""},
			{"negative quantity", "b6", fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":-5,"unit_type":"CCER"}}`, w.account, w.otherAc), 400, "quantity_invalid", "units.quantity"},
			{"fractional quantity", "b7", fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":1.5,"unit_type":"CCER"}}`, w.account, w.otherAc), 400, "type_invalid", "units.quantity"},
			{"huge quantity", "b8", fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":99999999999999999999,"unit_type":"CCER"}}`, w.account, w.otherAc), 400, "type_invalid", "units.quantity"},
			{"quantity above max", "b9", fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":1000000000000001,"unit_type":"CCER"}}`, w.account, w.otherAc), 400, "quantity_invalid", "units.quantity"},
			{"quantity as string", "b10", fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":"5","unit_type":"CCER"}}`, w.account, w.otherAc), 400, "type_invalid", "units.quantity"},
			{"unknown receiving account", "b11", fmt.Sprintf(`{"from_account":%d,"to_account":9999,"units":{"quantity":5,"unit_type":"CCER"}}`, w.account), 422, "acquiring_not_found", "to_account"},
			{"unknown sending account", "b12", `{"from_account":9999,"to_account":1,"units":{"quantity":5,"unit_type":"CCER"}}`, 422, "account_not_found", "from_account"},
			{"serial does not parse", "b13", fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"serials":["CN-CCER-x"]}}`, w.account, w.otherAc), 400, "serial_invalid", "units.serials[0]"},
			{"more than held", "b14", fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":100000000,"unit_type":"CCER"}}`, w.account, w.otherAc), 409, "insufficient_units", "units.quantity"},
			{"same key, other body", "good-1", fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":6,"unit_type":"CCER"}}`, w.account, w.otherAc), 409, "idempotency_conflict", "Idempotency-Key"},
			{"no idempotency key", "", ok, 400, "idempotency_key_missing", "Idempotency-Key"},
			{"body too large", "b15", big, 413, "body_too_large", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				st, body, _ := w.raw(t, "POST", tr, w.tokens["holder"], tt.key, tt.body)
				if st != tt.status || body["code"] != tt.code || (tt.field != "" && body["field"] != tt.field) {
					t.Fatalf("status %d body %v; want %d code %s field %s", st, body, tt.status, tt.code, tt.field)
				}
			})
		}
		if after := w.node.Totals(); after.JournalSeq != before.JournalSeq || after.JournalHash != before.JournalHash {
			t.Fatalf("bad input changed the ledger: seq %d -> %d", before.JournalSeq, after.JournalSeq)
		}
		// A replay returns the first result with 200 and a header, moving nothing.
		st, body, hdr := w.raw(t, "POST", tr, w.tokens["holder"], "good-1", ok)
		if st != 200 || hdr.Get("Idempotent-Replayed") != "true" || body["replayed"] != true {
			t.Fatalf("replay: %d %v", st, body)
		}
		if after := w.node.Totals(); after.JournalSeq != before.JournalSeq {
			t.Fatal("a replay wrote to the journal")
		}
		// Other malformed requests.
		for _, c := range []struct {
			method, path string
			status       int
			code         string
		}{
			{"GET", "/api/v1/registries/XX", 404, "registry_not_found"},
			{"GET", "/api/v1/registries/CN/serials/CN-CCER-1-2", 400, "serial_invalid"},
			{"GET", "/api/v1/registries/CN/serials/CN-CCER-NOPE-2024-1-1-1", 404, "not_found"},
			{"GET", "/api/v1/registries/CN/issuances/abc", 400, "invalid_id"},
			{"GET", "/api/v1/registries/CN/retirements?limit=-1", 400, "invalid_query"},
			{"GET", "/api/v1/nothing-here", 404, "not_found"},
		} {
			st, body, _ := w.raw(t, c.method, c.path, "", "", "")
			if st != c.status || body["code"] != c.code {
				t.Errorf("%s %s: %d %v; want %d %s", c.method, c.path, st, body, c.status, c.code)
			}
		}
	})
}

// FuzzTransferBody posts arbitrary bodies to the transfer endpoint: the
// answer is never a 5xx, and the ledger stays consistent.
func FuzzTransferBody(f *testing.F) {
	for _, s := range []string{`{"from_account":2,"to_account":3,"units":{"quantity":1,"unit_type":"CCER"}}`,
		`{"from_account":2,"to_account":3,"units":{"serials":["CN-CCER-CCER-DEMO-0001-2024-1-1-3"]}}`, `{}`, `null`, `{"units":{"quantity":-1}}`} {
		f.Add(s)
	}
	w := newWorld(f, storetest.SQLite(f))
	h := api.New(w.node).Handler()
	n := 0
	f.Fuzz(func(t *testing.T, body string) {
		n++
		req := httptest.NewRequest("POST", "/api/v1/registries/CN/transfers", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+w.tokens["holder"])
		req.Header.Set("Idempotency-Key", fmt.Sprintf("fuzz-%d-%d", n, len(body)))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		if rec.Code != http.StatusCreated && !strings.Contains(rec.Header().Get("Content-Type"), "problem+json") {
			t.Fatalf("error without problem+json for %q", body)
		}
	})
	if rep, err := registry.Verify(f.Context(), w.node.DB()); err == nil && !rep.OK() {
		f.Fatalf("ledger inconsistent after fuzzing: %v", rep.Violations)
	}
}
