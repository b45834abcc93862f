package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/rulebook"
)

func rulebookDo(t testing.TB, h http.Handler, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	raw, _ := io.ReadAll(res.Body)
	return res, raw
}

func TestRulebookReadEndpoints(t *testing.T) {
	h := New().Handler()
	tests := []struct {
		path     string
		status   int
		contains []string
	}{
		{"/api/v1/rulebook", 200, []string{`"rulebook_version"`, `"schemes": 5`, `"eligibility"`}},
		{"/api/v1/rulebook/jurisdictions", 200, []string{`"code": "CN"`, `"code": "CH"`, `"code": "BN"`}},
		{"/api/v1/rulebook/jurisdictions/sg", 200, []string{`"code": "SG"`, `"id": "SG-CT"`}},
		{"/api/v1/rulebook/programmes", 200, []string{`"code": "PACM"`}},
		{"/api/v1/rulebook/instruments?jurisdiction=ID", 200, []string{`"code": "SPE-GRK"`, `"code": "PTBAE-PU"`}},
		{"/api/v1/rulebook/schemes?jurisdiction=JP", 200, []string{`"id": "JP-GX-ETS"`, `"status": "unverified"`}},
		{"/api/v1/rulebook/schemes/cn-ets", 200, []string{`"share": "0.05"`, `"pin": "Art. 29, first paragraph"`, `"GLOBAL.idx-stay-on-exchange"`}},
		{"/api/v1/rulebook/methodologies?sector=cement", 200, []string{`"VCS-CDM-ACM0005"`}},
		{"/api/v1/rulebook/recognition?sector=power", 200, []string{`"not recognised (no agreement found)"`, `"recognised with conditions"`, `"CDM-ACM0002"`}},
		{"/api/v1/rulebook/recognition?sector=steel&a=SPE-GRK&b=GS", 200, []string{`"status": "recognised_with_conditions"`}},
		{"/api/v1/rulebook/mrv?sector=aluminium", 200, []string{`"EU-CBAM"`, `"Not covered by the pilot."`}},
		{"/api/v1/rulebook/sources", 200, []string{`"id": "cn-mee-order-19-2020"`}},
	}
	for _, tt := range tests {
		res, raw := rulebookDo(t, h, "GET", tt.path, "")
		if res.StatusCode != tt.status {
			t.Errorf("GET %s: %d, want %d: %s", tt.path, res.StatusCode, tt.status, raw)
			continue
		}
		for _, c := range tt.contains {
			if !bytes.Contains(raw, []byte(c)) {
				t.Errorf("GET %s: body lacks %s", tt.path, c)
			}
		}
	}
}

func TestRulebookProblems(t *testing.T) {
	h := New().Handler()
	tests := []struct {
		method, path, body string
		status             int
		code, field        string
	}{
		{"GET", "/api/v1/rulebook/jurisdictions/XX", "", 404, "not_found", "code"},
		{"GET", "/api/v1/rulebook/schemes/EU-ETS", "", 404, "not_found", "id"},
		{"GET", "/api/v1/rulebook/schemes?jurisdiction=QQ", "", 400, "invalid_field", "jurisdiction"},
		{"GET", "/api/v1/rulebook/recognition", "", 400, "missing_parameter", "sector"},
		{"GET", "/api/v1/rulebook/recognition?sector=tourism", "", 400, "invalid_field", "sector"},
		{"GET", "/api/v1/rulebook/recognition?sector=power&a=CCER&b=NOPE", "", 400, "invalid_field", "programme"},
		{"GET", "/api/v1/rulebook/mrv?sector=hydrogen", "", 400, "invalid_field", "sector"},
		{"POST", "/api/v1/rulebook/eligibility", `{"unit":{"instrument":"CCER","host":"CN","vintage":2024},"use":{"scheme":"CN-ETS","compliance_year":2025,"obligation_tonnes":-1}}`, 400, "invalid_field", "use.obligation_tonnes"},
		{"POST", "/api/v1/rulebook/eligibility", `{"unit":{"instrument":"CCER","host":"XX","vintage":2024},"use":{"scheme":"CN-ETS","compliance_year":2025}}`, 400, "invalid_field", "unit.host"},
		{"POST", "/api/v1/rulebook/eligibility", `{"unit":{"instrument":"CCER","host":"CN","vintage":2024},"use":{"scheme":"NOPE","compliance_year":2025}}`, 400, "invalid_field", "use.scheme"},
		{"POST", "/api/v1/rulebook/eligibility", `{"unit":{"instrument":"CCER"},"colour":1}`, 400, "unknown_field", "colour"},
		{"POST", "/api/v1/rulebook/eligibility", `{"unit":`, 400, "malformed_json", ""},
		{"POST", "/api/v1/rulebook/eligibility", `{"unit":{"instrument":"CCER","host":"CN","vintage":2024},"use":{"scheme":"CN-ETS","compliance_year":2025,"obligation_tonnes":10}}`, 400, "invalid_field", "unit.registered"},
		{"POST", "/api/v1/rulebook/eligibility", `{"unit":{"instrument":"CCER","host":"CN","vintage":2024,"registered":"2024-13-01"},"use":{"scheme":"CN-ETS","compliance_year":2025}}`, 400, "invalid_field", "unit.registered"},
		{"POST", "/api/v1/rulebook/eligibility", `{"unit":{"instrument":"VCU","host":"TH","vintage":2024},"use":{"scheme":"SG-CT","compliance_year":2026,"date":"tomorrow"}}`, 400, "invalid_field", "use.date"},
		{"DELETE", "/api/v1/rulebook/schemes", "", 405, "method_not_allowed", ""},
	}
	for _, tt := range tests {
		res, raw := rulebookDo(t, h, tt.method, tt.path, tt.body)
		if res.StatusCode != tt.status {
			t.Errorf("%s %s: %d, want %d: %s", tt.method, tt.path, res.StatusCode, tt.status, raw)
			continue
		}
		if tt.code == "" {
			continue
		}
		var p Problem
		if err := json.Unmarshal(raw, &p); err != nil || res.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s: not a problem document: %s", tt.method, tt.path, raw)
			continue
		}
		if p.Code != tt.code || p.Field != tt.field {
			t.Errorf("%s %s: code %q field %q, want %q %q (%s)", tt.method, tt.path, p.Code, p.Field, tt.code, tt.field, p.Detail)
		}
	}
}

func TestRulebookEligibilityEndpoint(t *testing.T) {
	h := New().Handler()
	body := `{"unit":{"instrument":"ccer","host":"cn","vintage":2024,"registered":"2024-06-01","quantity":1000},
	          "use":{"scheme":"cn-ets","entity":"Guangdong Power Co.","compliance_year":2025,"obligation_tonnes":12345}}`
	res, raw := rulebookDo(t, h, "POST", "/api/v1/rulebook/eligibility", body)
	if res.StatusCode != 200 {
		t.Fatalf("%d: %s", res.StatusCode, raw)
	}
	var d rulebook.Decision
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if !d.Allowed || d.MaxQuantity != 617 || d.Granted != 617 || d.Cap == nil || d.Cap.Exact != "617.25" {
		t.Errorf("decision = %+v", d)
	}
	if d.Confirmed {
		t.Error("decision relying on an unverified rule is marked confirmed")
	}
	for _, r := range d.Reasons {
		if r.Cite.Source == "" || r.Cite.Title == "" {
			t.Errorf("reason %s without source", r.Rule)
		}
	}
}

// TestRulebookRoutesDocumented keeps the OpenAPI fragment in step with the routes.
func TestRulebookRoutesDocumented(t *testing.T) {
	h := New().Handler()
	_, raw := rulebookDo(t, h, "GET", "/api/v1/openapi.json", "")
	var doc struct {
		Paths      map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	for path, method := range map[string]string{
		"/api/v1/rulebook": "get", "/api/v1/rulebook/sources": "get", "/api/v1/rulebook/jurisdictions": "get",
		"/api/v1/rulebook/jurisdictions/{code}": "get", "/api/v1/rulebook/programmes": "get", "/api/v1/rulebook/instruments": "get",
		"/api/v1/rulebook/schemes": "get", "/api/v1/rulebook/schemes/{id}": "get", "/api/v1/rulebook/methodologies": "get",
		"/api/v1/rulebook/recognition": "get", "/api/v1/rulebook/mrv": "get", "/api/v1/rulebook/eligibility": "post",
	} {
		if _, ok := doc.Paths[path][method]; !ok {
			t.Errorf("OpenAPI lacks %s %s", method, path)
		}
	}
	for _, s := range []string{"EligibilityRequest", "EligibilityDecision", "RulebookRule", "RulebookCitation"} {
		if _, ok := doc.Components.Schemas[s]; !ok {
			t.Errorf("OpenAPI lacks schema %s", s)
		}
	}
	// Every $ref in the fragment resolves.
	for _, m := range bytes.Split(raw, []byte(`"$ref": "#/components/schemas/`))[1:] {
		name := string(m[:bytes.IndexByte(m, '"')])
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("dangling $ref %s", name)
		}
	}
}

// FuzzRulebookEligibilityBody: whatever the body, the endpoint answers 200
// with a sane decision or a 4xx problem, never a 5xx.
func FuzzRulebookEligibilityBody(f *testing.F) {
	f.Add(`{"unit":{"instrument":"CCER","host":"CN","vintage":2024,"registered":"2016-02-01"},"use":{"scheme":"CN-ETS","compliance_year":2025,"obligation_tonnes":12345}}`)
	f.Add(`{"unit":{"instrument":"VCU","host":"TH","vintage":2023,"authorised":true,"corresponding_adjustment":true,"registry":"IDX"},"use":{"scheme":"SG-CT","compliance_year":2026,"obligation_tonnes":100000,"already_used_tonnes":5}}`)
	f.Add(`{"unit":{"vintage":1e99}}`)
	f.Add(`[]`)
	f.Add(``)
	h := New().Handler()
	f.Fuzz(func(t *testing.T, body string) {
		res, raw := rulebookDo(t, h, "POST", "/api/v1/rulebook/eligibility", body)
		switch {
		case res.StatusCode == 200:
			var d rulebook.Decision
			if err := json.Unmarshal(raw, &d); err != nil {
				t.Fatalf("200 with undecodable body: %v", err)
			}
			if d.MaxQuantity < 0 || (d.Allowed && d.MaxQuantity == 0) || len(d.Reasons) == 0 {
				t.Fatalf("insane decision %+v", d)
			}
		case res.StatusCode >= 400 && res.StatusCode < 500:
			var p Problem
			if err := json.Unmarshal(raw, &p); err != nil || p.Code == "" {
				t.Fatalf("%d without a problem document: %s", res.StatusCode, raw)
			}
		default:
			t.Fatalf("status %d: %s", res.StatusCode, raw)
		}
	})
}
