package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/api"
)

func postLinkage(t *testing.T, srv *httptest.Server, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(srv.URL+"/api/v1/linkage/solve", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("status %d, body not JSON: %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func linkagePrice(t *testing.T, res map[string]any, id string) float64 {
	t.Helper()
	for _, m := range res["markets"].([]any) {
		mm := m.(map[string]any)
		if mm["id"] == id {
			return mm["linked_price"].(float64)
		}
	}
	t.Fatalf("no market %s", id)
	return 0
}

func TestLinkageSolveDefaultAndEdited(t *testing.T) {
	srv := httptest.NewServer(api.New().Handler())
	defer srv.Close()

	st, res := postLinkage(t, srv, `{"runs": 300, "seed": 5}`)
	if st != 200 {
		t.Fatalf("status %d: %v", st, res)
	}
	if res["scenario"] != "corridor-2026" || res["cbam"] == nil || res["monte_carlo"] == nil {
		t.Fatalf("incomplete result: %v", res)
	}
	base := linkagePrice(t, res, "CN-ETS")
	// Welfare comes in two views: Singapore's firms gain by importing
	// credits (tax avoided), the country loses what it pays abroad.
	totals := res["totals"].(map[string]any)
	if !(totals["social_gain"].(float64) < totals["gain"].(float64)) {
		t.Errorf("total social gain %v not below the private gain %v", totals["social_gain"], totals["gain"])
	}
	for _, m := range res["markets"].([]any) {
		if mm := m.(map[string]any); mm["id"] == "SG-TAX" && !(mm["gain"].(float64) > 0 && mm["social_gain"].(float64) < 0) {
			t.Errorf("SG-TAX private gain %v, social gain %v: want > 0 and < 0", mm["gain"], mm["social_gain"])
		}
	}
	// The actual-data steel flow is priced by the cbam package with column A.
	steel := res["cbam"].(map[string]any)["flows"].([]any)[0].(map[string]any)
	if steel["method"] != "actual" || steel["line"].(map[string]any)["benchmark"].(map[string]any)["column"] != "A" {
		t.Errorf("CN steel flow: method %v, benchmark %v", steel["method"], steel["line"].(map[string]any)["benchmark"])
	}

	// Fetch the default scenario, tighten China's import limit to zero, and
	// solve it: China's price must rise (it can no longer import).
	resp, err := http.Get(srv.URL + "/api/v1/linkage/scenarios/default")
	if err != nil {
		t.Fatal(err)
	}
	var sc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&sc); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cn := sc["markets"].([]any)[0].(map[string]any)
	cn["import_limit"].(map[string]any)["share_of_cap"].(map[string]any)["value"] = 0.0
	body, _ := json.Marshal(map[string]any{"scenario": sc})
	st, res = postLinkage(t, srv, string(body))
	if st != 200 {
		t.Fatalf("status %d: %v", st, res)
	}
	if tight := linkagePrice(t, res, "CN-ETS"); !(tight > base) || math.Abs(tight-11.40) > 0.01 {
		t.Errorf("CN price with no imports %g, want its autarky price ≈ 11.40 (linked was %g)", tight, base)
	}
}

func TestLinkageSolveBadInput(t *testing.T) {
	srv := httptest.NewServer(api.New().Handler())
	defer srv.Close()
	sc := func(edit func(map[string]any)) string {
		resp, err := http.Get(srv.URL + "/api/v1/linkage/scenarios/default")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var s map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			t.Fatal(err)
		}
		edit(s)
		var b bytes.Buffer
		_ = json.NewEncoder(&b).Encode(map[string]any{"scenario": s})
		return b.String()
	}
	region := func(s map[string]any, i int) map[string]any { return s["regions"].([]any)[i].(map[string]any) }
	tests := []struct {
		name, body  string
		status      int
		code, field string
	}{
		{"malformed", `{"runs":`, 400, "malformed_json", ""},
		{"unknown field", `{"runz": 3}`, 400, "unknown_field", ""},
		{"too many runs", `{"runs": 1000000}`, 400, "runs_invalid", "runs"},
		{"negative BAU", sc(func(s map[string]any) { region(s, 3)["bau"].(map[string]any)["value"] = -1 }), 400, "invalid_scenario", "scenario.regions[3].bau"},
		{"non-monotone curve", sc(func(s map[string]any) {
			region(s, 10)["mac"].(map[string]any)["points"] = []any{[]any{5, 4}, []any{20, 3}}
		}), 400, "invalid_scenario", "scenario.regions[10].mac.points[1][1]"},
		{"cap above BAU", sc(func(s map[string]any) { region(s, 1)["cap"].(map[string]any)["value"] = 99999 }), 400, "invalid_scenario", "scenario.regions[1].cap"},
		{"unknown jurisdiction", sc(func(s map[string]any) { s["markets"].([]any)[1].(map[string]any)["jurisdiction"] = "ZZ" }), 400, "invalid_scenario", "scenario.markets[1].jurisdiction"},
		{"unknown scenario field", `{"scenario": {"name": "x", "colour": "red"}}`, 400, "unknown_field", "scenario.colour"},
		{"CBAM flow with a code outside CBAM", sc(func(s map[string]any) {
			s["cbam"].(map[string]any)["flows"].([]any)[1].(map[string]any)["cn_code"] = "25070020"
		}), 400, "invalid_scenario", "scenario.cbam.flows[1].cn"},
		{"SGD tax without its rate", sc(func(s map[string]any) { delete(s["exchange_rates"].(map[string]any)["rates"].(map[string]any), "SGD") }), 400, "invalid_scenario", "scenario.markets[5].tax.currency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, body := postLinkage(t, srv, tt.body)
			if st != tt.status || body["code"] != tt.code || (tt.field != "" && body["field"] != tt.field) {
				t.Fatalf("status %d body %v; want %d %s %s", st, body, tt.status, tt.code, tt.field)
			}
		})
	}
}

func TestLinkageInOpenAPI(t *testing.T) {
	srv := httptest.NewServer(api.New().Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Paths      map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/api/v1/linkage/solve", "/api/v1/linkage/scenarios/default"} {
		if doc.Paths[p] == nil {
			t.Errorf("openapi lacks %s", p)
		}
	}
	for _, s := range []string{"LinkageScenario", "LinkageResult", "LinkageParam"} {
		if doc.Components.Schemas[s] == nil {
			t.Errorf("openapi lacks schema %s", s)
		}
	}
}
