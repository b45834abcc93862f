package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func postJSON(t *testing.T, srv *httptest.Server, path, body string) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp, out
}

func dec(t *testing.T, v any) decimal.Decimal {
	t.Helper()
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%v is not a decimal string", v)
	}
	return decimal.RequireFromString(s)
}

func TestCBAMObligationsAPI(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(New().Handler())
	defer srv.Close()
	resp, out := postJSON(t, srv, "/api/v1/cbam/obligations", `{
		"lines": [
			{"id": "a", "origin": "CN", "cn": "72081000", "tonnes": "1000", "year": 2026, "quarter": 1},
			{"id": "b", "origin": "VN", "cn": "72081000", "tonnes": 20, "year": 2026, "quarter": 1,
			 "actual": {"direct": "0.1", "benchmark_a": "0.044",
			   "precursors": [{"cn": "72071111", "origin": "CN", "tonnes_per_tonne": "1.05"}]}}
		],
		"projection": true,
		"domestic_carbon_price": {"currency": "EUR", "price_per_tonne": "40", "covered_share": "1", "rebated_share": "0.5"}
	}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %v", resp.StatusCode, out)
	}
	lines := out["lines"].([]any)
	a := lines[0].(map[string]any)
	// China 7208, 2026: 3.505582 × 1000 − 0.975 × 1.370 × 1000 = 2169.832 certificates; × 75.36 EUR.
	for field, want := range map[string]string{"see": "3.505582", "embedded_emissions": "3505.582", "cbam_factor": "0.975",
		"sefa": "1.33575", "free_allocation_adjustment": "1335.75", "certificates": "2169.832", "price": "75.36", "cost_eur": "163518.54"} {
		if !dec(t, a[field]).Equal(decimal.RequireFromString(want)) {
			t.Errorf("line a %s = %v, want %s", field, a[field], want)
		}
	}
	if !strings.Contains(a["dataset_version"].(string), "20260204") {
		t.Errorf("dataset version %v", a["dataset_version"])
	}
	b := lines[1].(map[string]any)
	// Semi-finished CN 72071111 default 2026: 3.485664, SEFA 0.975 × 1.364 (C).
	wantSEE := decimal.RequireFromString("0.1").Add(decimal.RequireFromString("1.05").Mul(decimal.RequireFromString("3.485664")))
	if !dec(t, b["see"]).Equal(wantSEE) || b["method"] != "actual" {
		t.Errorf("line b see %v method %v, want %s actual", b["see"], b["method"], wantSEE)
	}
	projections := out["projections"].([]any)
	years := projections[0].(map[string]any)["years"].([]any)
	last := years[len(years)-1].(map[string]any)
	if last["year"].(float64) != 2034 || !dec(t, last["free_allocation_adjustment"]).IsZero() {
		t.Errorf("2034 projection %v", last)
	}
	if len(out["what_if"].([]any)) != 2 {
		t.Errorf("what_if %v", out["what_if"])
	}
	decl := out["declaration"].([]any)[0].(map[string]any)
	if decl["certificates_to_surrender"] == nil || decl["exempt"] != false {
		t.Errorf("declaration %v", decl)
	}
}

func TestCBAMObligationsAPIErrorsNameTheField(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(New().Handler())
	defer srv.Close()
	tests := []struct {
		name, line, field, code string
	}{
		{"unknown CN", `{"origin":"CN","cn":"99999999","tonnes":"1","year":2026}`, "lines[0].cn", "unknown_cn_code"},
		{"unknown country", `{"origin":"ZZ","cn":"72081000","tonnes":"1","year":2026}`, "lines[0].origin", "unknown_country"},
		{"negative tonnage", `{"origin":"CN","cn":"72081000","tonnes":"-3","year":2026}`, "lines[0].tonnes", "negative_tonnage"},
		{"year before 2026", `{"origin":"CN","cn":"72081000","tonnes":"1","year":2025}`, "lines[0].year", "year_before_definitive_period"},
		{"precursor CN", `{"origin":"CN","cn":"72081000","tonnes":"1","year":2026,"actual":{"direct":"1","benchmark_a":"0.044","precursors":[{"cn":"1234","origin":"CN","tonnes_per_tonne":"1"}]}}`, "lines[0].actual.precursors[0].cn", "unknown_cn_code"},
		{"route needed", `{"origin":"CN","cn":"25231000","tonnes":"1","year":2026}`, "lines[0].route", "route_required"},
	}
	for _, tt := range tests {
		resp, out := postJSON(t, srv, "/api/v1/cbam/obligations", `{"lines":[`+tt.line+`]}`)
		if resp.StatusCode != http.StatusBadRequest || out["field"] != tt.field || out["code"] != tt.code {
			t.Errorf("%s: %d %v, want field %s code %s", tt.name, resp.StatusCode, out, tt.field, tt.code)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" || out["detail"] == "" {
			t.Errorf("%s: content type %s detail %v", tt.name, ct, out["detail"])
		}
	}
	resp, out := postJSON(t, srv, "/api/v1/cbam/obligations", `{"lines":[],"extra":1}`)
	if resp.StatusCode != http.StatusBadRequest || out["code"] != "malformed_json" {
		t.Errorf("unknown field: %d %v", resp.StatusCode, out)
	}
}

func TestCBAMDefaultsAndFactorsAPI(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(New().Handler())
	defer srv.Close()
	get := func(path string) (int, map[string]any) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	code, out := get("/api/v1/cbam/defaults?origin=MY&cn=72081000")
	// Malaysia has no 7208 value in the dataset: other countries apply (7208 total 4.048689, route C).
	if code != 200 || out["fallback"] != true || out["matched_cn"] != "7208" || out["route"] != "C" {
		t.Errorf("%d %v", code, out)
	}
	if bm := out["benchmark_b"].(map[string]any); !dec(t, bm["value"]).Equal(decimal.RequireFromString("1.37")) {
		t.Errorf("benchmark %v", bm)
	}
	code, out = get("/api/v1/cbam/defaults?origin=CN&cn=123")
	if code != 400 || out["field"] != "cn" {
		t.Errorf("bad cn: %d %v", code, out)
	}
	code, out = get("/api/v1/cbam/factors")
	years := out["years"].([]any)
	if code != 200 || len(years) != 9 || !dec(t, years[4].(map[string]any)["cbam_factor"]).Equal(decimal.RequireFromString("0.515")) {
		t.Errorf("factors %d %v", code, years)
	}
	code, out = get("/api/v1/cbam/dataset")
	if code != 200 || len(out["malformed_rows"].([]any)) != 8 {
		t.Errorf("dataset %d %v", code, out["malformed_rows"])
	}
}

func TestCBAMOpenAPIFragmentMerges(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(New().Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	for _, want := range []string{"/api/v1/cbam/obligations", "/api/v1/cbam/defaults", "CBAMLineResult"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("openapi lacks %s", want)
		}
	}
}
