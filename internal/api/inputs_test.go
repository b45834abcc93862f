package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// apiPaths lists the document's operations by method.
func apiPaths(t *testing.T, method string) []string {
	t.Helper()
	rec := httptest.NewRecorder()
	api.New().Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	raw := rec.Body.Bytes()
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	for p, item := range doc.Paths {
		if _, ok := item[method]; ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func concrete(path string, account int64) string {
	r := strings.NewReplacer("{registry}", "CN", "{id}", fmt.Sprint(account), "{serial}", "CN-CCER-X-2024-1-1-1", "{code}", "CN")
	return r.Replace(path)
}

// TestWriteMissingFieldIsFieldMissing: a write without a field its schema
// requires is 400 field_missing naming that field, before the registry
// reads account 0 or a quantity of 0 (the newcomer saw account_not_found
// "account 0 does not exist" and quantity_invalid "not 0").
func TestWriteMissingFieldIsFieldMissing(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	transfers := "/api/v1/registries/CN/transfers"
	for i, c := range []struct {
		path, token, body, field string
	}{
		{transfers, "holder", fmt.Sprintf(`{"to_account":%d,"units":{"quantity":5,"unit_type":"CCER"}}`, w.otherAc), "from_account"},
		{transfers, "holder", fmt.Sprintf(`{"from_account":%d,"to_account":%d}`, w.account, w.otherAc), "units"},
		{transfers, "holder", fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"serials":[]}}`, w.account, w.otherAc), "units.quantity"},
		{transfers, "holder", fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{}}`, w.account, w.otherAc), "units.quantity"},
		{transfers, "holder", fmt.Sprintf(`{"from_account":%d,"to_account":null,"units":{"quantity":1,"unit_type":"CCER"}}`, w.account), "to_account"},
		{"/api/v1/registries/CN/retirements", "holder", fmt.Sprintf(`{"from_account":%d,"units":{"quantity":1,"unit_type":"CCER"},"purpose":"voluntary"}`, w.account), "beneficiary"},
		{"/api/v1/registries/CN/issuances", "admin", `{"standard":"CCER","unit_type":"CCER","project":"P","host_country":"CN","vintage":2024,"account_id":1}`, "quantity"},
		{"/api/v1/cbam/obligations", "", `{"lines":[{"origin":"CN","cn":"72081000","year":2026}]}`, "lines[0].tonnes"},
		{"/api/v1/rulebook/eligibility", "", `{"unit":{"instrument":"CCER"}}`, "use"},
	} {
		st, m, _ := w.raw(t, "POST", c.path, w.tokens[c.token], fmt.Sprintf("miss-%d", i), c.body)
		d, _ := m["detail"].(string)
		if st != 400 || m["code"] != "field_missing" || m["field"] != c.field || !strings.Contains(d, c.field) {
			t.Errorf("%d %s %s: %d %v; want 400 field_missing %s", i, c.path, c.body, st, m, c.field)
		}
	}
	if got := w.node.Totals().JournalSeq; got == 0 {
		t.Fatal("no journal")
	}
	// Every write route with a required field answers {} the same way.
	for i := range registry.Kinds {
		k := &registry.Kinds[i]
		if k.Route == "" || k.BodyOptional {
			continue
		}
		path := concrete("/api/v1/registries/{registry}"+k.Route, 1)
		st, m, _ := w.raw(t, "POST", path, w.tokens["admin"], "empty-"+k.Name, `{}`)
		if st != 400 || m["code"] != "field_missing" || m["field"] == "" {
			t.Errorf("%s {}: %d %v; want 400 field_missing", path, st, m)
		}
	}
}

// TestWrongJSONTypeIsTypeInvalid: a value of the wrong JSON type is 400
// type_invalid naming the field on every write, a decimal that does not
// parse decimal_invalid, and a lower-case unit type unit_type_unknown; no
// message quotes the decoder's own text.
func TestWrongJSONTypeIsTypeInvalid(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	before := w.node.Totals().JournalSeq
	transfers := "/api/v1/registries/CN/transfers"
	for i, c := range []struct {
		path, body, code, field, says string
	}{
		{transfers, fmt.Sprintf(`{"from_account":"%d","to_account":%d,"units":{"quantity":5,"unit_type":"CCER"}}`, w.account, w.otherAc), "type_invalid", "from_account", "must be an integer"},
		{transfers, fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":1.5,"unit_type":"CCER"}}`, w.account, w.otherAc), "type_invalid", "units.quantity", "not the number 1.5"},
		{transfers, fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":5,"unit_type":5}}`, w.account, w.otherAc), "type_invalid", "units.unit_type", "must be a string"},
		{transfers, fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":5,"unit_type":"ccer"}}`, w.account, w.otherAc), "unit_type_unknown", "units.unit_type", `did you mean "CCER"`},
		{"/api/v1/cbam/obligations", `{"lines":[{"origin":"CN","cn":"72081000","tonnes":"abc","year":2026}]}`, "decimal_invalid", "lines[0].tonnes", "must be a decimal number"},
		{"/api/v1/cbam/obligations", `{"lines":[{"origin":"CN","cn":"72081000","tonnes":"1","year":2026},{"origin":"CN","cn":"72081000","tonnes":"1","year":"2026"}]}`, "type_invalid", "lines[1].year", "must be an integer"},
		{"/api/v1/linkage/solve", `{"scenario":"bogus"}`, "type_invalid", "scenario", `must be an object ({…}), not the string "bogus"`},
		{"/api/v1/rulebook/eligibility", `{"unit":[],"use":{}}`, "type_invalid", "unit", "must be an object"},
	} {
		st, m, _ := w.raw(t, "POST", c.path, w.tokens["holder"], fmt.Sprintf("type-%d", i), c.body)
		d, _ := m["detail"].(string)
		if st != 400 || m["code"] != c.code || m["field"] != c.field || !strings.Contains(d, c.says) {
			t.Errorf("%d %s: %d %v; want 400 %s %s saying %q", i, c.body, st, m, c.code, c.field, c.says)
		}
		if strings.Contains(d, "can't convert") || strings.Contains(d, "json:") || strings.Contains(d, "error decoding") {
			t.Errorf("%d: detail leaks the decoder's text: %q", i, d)
		}
	}
	if after := w.node.Totals().JournalSeq; after != before {
		t.Errorf("refused writes changed the journal: %d -> %d", before, after)
	}
}

// TestEveryWriteNeedsJSONContentType: every POST route answers 415 to a
// form-encoded body (the newcomer found /cbam/obligations,
// /rulebook/eligibility and /linkage/solve taking one).
func TestEveryWriteNeedsJSONContentType(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	for _, p := range apiPaths(t, "post") {
		path := concrete(p, 1)
		for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain", ""} {
			req, _ := http.NewRequest("POST", w.srv.URL+path, strings.NewReader(`lines=1`))
			req.Header.Set("Authorization", "Bearer "+w.tokens["admin"])
			req.Header.Set("Idempotency-Key", "ct-"+p)
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&m)
			resp.Body.Close()
			if m["code"] == "corridor_not_served" {
				continue // a server outside a corridor serves no cross-border route (corridor_test checks its 415)
			}
			if resp.StatusCode != http.StatusUnsupportedMediaType || m["code"] != "unsupported_media_type" {
				t.Errorf("POST %s as %q: %d %v; want 415 unsupported_media_type", path, ct, resp.StatusCode, m)
			}
		}
	}
}

// TestEveryReadRefusesUnknownParameters: every GET route of the document
// answers an undeclared query parameter 400 unknown_parameter naming it,
// one given twice duplicate_parameter, and a malformed declared one 400
// naming it.
func TestEveryReadRefusesUnknownParameters(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	for _, p := range apiPaths(t, "get") {
		path := concrete(p, w.account)
		st, m, _ := w.raw(t, "GET", path+"?bogus=1", w.tokens["admin"], "", "")
		if st != 400 || m["code"] != "unknown_parameter" || m["field"] != "bogus" {
			t.Errorf("GET %s?bogus=1: %d %v; want 400 unknown_parameter", path, st, m)
		}
	}
	for _, c := range []struct{ path, code, field string }{
		{"/api/v1/cbam/factors?year=abc", "unknown_parameter", "year"},
		{"/api/v1/registries?bogus=1", "unknown_parameter", "bogus"},
		{"/api/v1/registries/CN/issuances?limit=100000", "unknown_parameter", "limit"},
		{"/api/v1/registries/CN/retirements?after=x", "invalid_query", "after"},
		{"/api/v1/registries/CN/retirements?limit=5&limit=6", "duplicate_parameter", "limit"},
	} {
		st, m, _ := w.raw(t, "GET", c.path, "", "", "")
		if st != 400 || m["code"] != c.code || m["field"] != c.field {
			t.Errorf("GET %s: %d %v; want 400 %s %s", c.path, st, m, c.code, c.field)
		}
	}
	if st, m, _ := w.raw(t, "GET", "/api/v1/registries/CN/retirements?after=0&limit=5", "", "", ""); st != 200 {
		t.Errorf("declared parameters refused: %d %v", st, m)
	}
}
