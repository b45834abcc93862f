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
	// China 7208, 2026: 3.186893 × 1.10 × 1000 − 0.975 × 1.370 × 1000 = 2169.8323 certificates; × 75.36 EUR.
	for field, want := range map[string]string{"see": "3.5055823", "embedded_emissions": "3505.5823", "cbam_factor": "0.975",
		"sefa": "1.33575", "free_allocation_adjustment": "1335.75", "certificates": "2169.8323", "price": "75.36", "cost_eur": "163518.56"} {
		if !dec(t, a[field]).Equal(decimal.RequireFromString(want)) {
			t.Errorf("line a %s = %v, want %s", field, a[field], want)
		}
	}
	if !strings.Contains(a["dataset_version"].(string), "20260204") {
		t.Errorf("dataset version %v", a["dataset_version"])
	}
	// The shipped dataset is the annex IR (EU) 2026/1740 replaced: said per line and per response.
	for what, v := range map[string]any{"line": a["dataset_superseded"], "response": out["dataset_superseded"]} {
		if s, _ := v.(string); !strings.Contains(s, "2026/1740") {
			t.Errorf("%s dataset_superseded %v", what, v)
		}
	}
	if a["price_status"] != "published" {
		t.Errorf("price status %v", a["price_status"])
	}
	b := lines[1].(map[string]any)
	// Semi-finished CN 72071111 default 2026: total 3.168785 × 1.10, SEFA 0.975 × 1.364 (C).
	wantSEE := decimal.RequireFromString("0.1").Add(decimal.RequireFromString("1.05").Mul(decimal.RequireFromString("3.168785").Mul(decimal.RequireFromString("1.1"))))
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

// 2026-Q3 has no price in the built-in table: the line says so plainly; the
// caller's prices fill it.
func TestCBAMObligationsAPIPrices(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(New().Handler())
	defer srv.Close()
	line := `{"origin":"CN","cn":"72081000","tonnes":"1000","year":2026,"quarter":3}`
	resp, out := postJSON(t, srv, "/api/v1/cbam/obligations", `{"lines":[`+line+`]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %v", resp.StatusCode, out)
	}
	a := out["lines"].([]any)[0].(map[string]any)
	notes, _ := json.Marshal(a["notes"])
	if a["has_price"] != false || a["price_status"] != "unknown" || !strings.Contains(string(notes), "no certificate price for 2026-Q3") || !strings.Contains(string(notes), "API prices") {
		t.Errorf("Q3 without price: %v %v %s", a["has_price"], a["price_status"], notes)
	}
	resp, out = postJSON(t, srv, "/api/v1/cbam/obligations", `{"lines":[`+line+`],"prices":[{"period":"2026-Q3","price":"70.10"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %v", resp.StatusCode, out)
	}
	a = out["lines"].([]any)[0].(map[string]any)
	// 2169.8323 × 70.10 = 152105.24423.
	if a["price_status"] != "user" || !dec(t, a["cost_eur"]).Equal(decimal.RequireFromString("152105.24")) {
		t.Errorf("Q3 with the caller's price: %v %v", a["price_status"], a["cost_eur"])
	}
	for body, field := range map[string]string{
		`"prices":[{"period":"2026-Q5","price":"70"}]`:                                   "prices[0].period",
		`"prices":[{"period":"2026-Q3","price":"0"}]`:                                    "prices[0].price",
		`"prices":[{"period":"2026-Q3","price":"70"},{"period":"2026-Q3","price":"71"}]`: "prices[1].period",
	} {
		resp, out = postJSON(t, srv, "/api/v1/cbam/obligations", `{"lines":[`+line+`],`+body+`}`)
		if resp.StatusCode != http.StatusBadRequest || out["code"] != "invalid_price" || out["field"] != field {
			t.Errorf("%s: %d %v", body, resp.StatusCode, out)
		}
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
		{"kaolin is not a CBAM good", `{"origin":"CN","cn":"25070020","tonnes":"1","year":2026}`, "lines[0].cn", "unknown_cn_code"},
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
	if resp.StatusCode != http.StatusBadRequest || out["code"] != "unknown_field" {
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
	// With mark-up = total × (1 + mark-up): 4.048689 × 1.30 = 5.2632957 (the superseded column said 5.263296).
	if wm := out["with_mark_up"].(map[string]any); wm["2028"] != "5.2632957" || !strings.Contains(out["dataset_superseded"].(string), "2026/1740") {
		t.Errorf("with mark-up %v superseded %v", wm, out["dataset_superseded"])
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
	prices := map[string]string{}
	for _, p := range out["certificate_prices"].([]any) {
		row := p.(map[string]any)
		prices[row["period"].(string)] = row["status"].(string)
	}
	if prices["2026-Q1"] != "published" || prices["2026-Q2"] != "unverified" || prices["2026-Q3"] != "unknown" {
		t.Errorf("certificate prices %v", prices)
	}
	code, out = get("/api/v1/cbam/dataset")
	if code != 200 || len(out["malformed_rows"].([]any)) != 8 || !strings.Contains(out["superseded"].(string), "2026/1740") {
		t.Errorf("dataset %d %v superseded %v", code, out["malformed_rows"], out["superseded"])
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
