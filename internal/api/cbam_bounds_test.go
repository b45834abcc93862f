package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCBAMUnknownCostIsNull: a line without a certificate price has
// cost_eur and price null (not "0"), its year's total too, and its
// projection shows certificates without a cost (never a cost at a price the
// tool assumed); with a price, both are figures.
func TestCBAMUnknownCostIsNull(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(New().Handler())
	defer srv.Close()
	for _, body := range []string{
		`{"lines":[{"origin":"CN","cn":"72081000","tonnes":"1000","year":2026}],"projection":true}`,
		`{"lines":[{"origin":"CN","cn":"72081000","tonnes":"1000","year":2030}],"projection":true}`,
		`{"lines":[{"origin":"CN","cn":"72081000","tonnes":"1000","year":2026,"quarter":3}],"projection":true}`,
	} {
		resp, out := postJSON(t, srv, "/api/v1/cbam/obligations", body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %v", body, resp.StatusCode, out)
		}
		line := out["lines"].([]any)[0].(map[string]any)
		if line["has_price"] != false || line["cost_eur"] != nil || line["price"] != nil {
			t.Errorf("%s: line has_price %v cost_eur %#v price %#v; want false, null, null", body, line["has_price"], line["cost_eur"], line["price"])
		}
		year := out["declaration"].([]any)[0].(map[string]any)
		if _, present := year["cost_eur"]; !present || year["cost_eur"] != nil {
			t.Errorf("%s: declaration cost_eur %#v; want null", body, year["cost_eur"])
		}
		proj := out["projections"].([]any)[0].(map[string]any)
		if proj["has_price"] != false || !strings.Contains(proj["price_assumption"].(string), "unknown") {
			t.Errorf("%s: projection %v %v", body, proj["has_price"], proj["price_assumption"])
		}
		for _, y := range proj["years"].([]any) {
			if row := y.(map[string]any); row["cost_eur"] != nil || row["certificates"] == nil {
				t.Errorf("%s: projection row %v: a cost without a price", body, row)
			}
		}
	}
	resp, out := postJSON(t, srv, "/api/v1/cbam/obligations", `{"lines":[{"origin":"CN","cn":"72081000","tonnes":"1000","year":2026,"quarter":1}],"projection":true}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %v", resp.StatusCode, out)
	}
	line := out["lines"].([]any)[0].(map[string]any)
	year := out["declaration"].([]any)[0].(map[string]any)
	proj := out["projections"].([]any)[0].(map[string]any)
	first := proj["years"].([]any)[0].(map[string]any)
	if line["cost_eur"] != "163518.56" || first["cost_eur"] != "163518.56" || proj["has_price"] != true {
		t.Errorf("priced Q1: line %v projection 2026 %v", line["cost_eur"], first["cost_eur"])
	}
	// The year's cost is that of the 2170 whole certificates surrendered.
	if year["certificates_to_surrender"] != "2170" || year["cost_eur"] != "163531.2" || year["cost_eur_exact_certificates"] != "163518.56" {
		t.Errorf("priced Q1 declaration: surrender %v cost %v exact %v", year["certificates_to_surrender"], year["cost_eur"], year["cost_eur_exact_certificates"])
	}
	// A de minimis year costs nothing whether or not a price is known.
	resp, out = postJSON(t, srv, "/api/v1/cbam/obligations", `{"lines":[{"origin":"CN","cn":"72081000","tonnes":"10","year":2026}]}`)
	if year := out["declaration"].([]any)[0].(map[string]any); resp.StatusCode != 200 || year["exempt"] != true || year["cost_eur"] != "0" {
		t.Errorf("exempt year: %d %v", resp.StatusCode, year)
	}
}

// TestCBAMAbsurdInputRefused: a net mass that is zero, above 1e12 t or
// finer than a gram, a year outside 2026–2034 and a route letter no table
// has are 400 with a code and the field; a bad decimal is decimal_invalid
// naming lines[i].tonnes.
func TestCBAMAbsurdInputRefused(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(New().Handler())
	defer srv.Close()
	line := func(tonnes, year, extra string) string {
		return fmt.Sprintf(`{"lines":[{"origin":"CN","cn":"72081000","tonnes":"1","year":2026},{"origin":"CN","cn":"72081000","tonnes":%s,"year":%s%s}]}`, tonnes, year, extra)
	}
	for _, c := range []struct{ body, code, field, says string }{
		{line(`"1e400"`, "2026", ""), "tonnes_out_of_range", "lines[1].tonnes", "1e12"},
		{line(`"1000000000001"`, "2026", ""), "tonnes_out_of_range", "lines[1].tonnes", "more than"},
		{line(`"0"`, "2026", ""), "tonnes_out_of_range", "lines[1].tonnes", "positive"},
		{line(`"1.0000001"`, "2026", ""), "tonnes_out_of_range", "lines[1].tonnes", "decimal places"},
		{line(`"-1"`, "2026", ""), "negative_tonnage", "lines[1].tonnes", "egative net mass"},
		{line(`"abc"`, "2026", ""), "decimal_invalid", "lines[1].tonnes", "must be a decimal number"},
		{line(`"10"`, "99999", ""), "year_out_of_range", "lines[1].year", "2026 to 2034"},
		{line(`"10"`, "2040", ""), "year_out_of_range", "lines[1].year", "2026 to 2034"},
		{line(`"10"`, "2025", ""), "year_before_definitive_period", "lines[1].year", "2026"},
		{line(`"10"`, "2026", `,"route":"Z"`), "route_unknown", "lines[1].route", "A, B, C"},
	} {
		resp, out := postJSON(t, srv, "/api/v1/cbam/obligations", c.body)
		d, _ := out["detail"].(string)
		if resp.StatusCode != 400 || out["code"] != c.code || out["field"] != c.field || !strings.Contains(d, c.says) {
			t.Errorf("%s: %d %v; want 400 %s %s saying %q", c.body, resp.StatusCode, out, c.code, c.field, c.says)
		}
	}
	if resp, out := postJSON(t, srv, "/api/v1/cbam/obligations", line(`"1.500000"`, "2034", `,"route":"C"`)); resp.StatusCode != 200 {
		t.Errorf("bounds refuse a good line: %d %v", resp.StatusCode, out)
	}
}

// TestCBAMNoBenchmarkNamesFinerCodes: 7601 10 00 has a default value (at
// 7601) but the benchmark annex splits it into 7601 10 10 and 7601 10 90;
// the refusal names them.
func TestCBAMNoBenchmarkNamesFinerCodes(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(New().Handler())
	defer srv.Close()
	resp, out := postJSON(t, srv, "/api/v1/cbam/obligations", `{"lines":[{"origin":"CN","cn":"76011000","tonnes":"10","year":2026}]}`)
	d, _ := out["detail"].(string)
	if resp.StatusCode != 400 || out["code"] != "no_dataset_value" || !strings.Contains(d, "76011010") || !strings.Contains(d, "76011090") {
		t.Errorf("%d %v; want 400 no_dataset_value naming 76011010 and 76011090", resp.StatusCode, out)
	}
	if resp, out := postJSON(t, srv, "/api/v1/cbam/obligations", `{"lines":[{"origin":"CN","cn":"76011010","tonnes":"10","year":2026}]}`); resp.StatusCode != 200 {
		t.Errorf("76011010: %d %v", resp.StatusCode, out)
	}
}
