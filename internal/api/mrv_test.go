package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/strictjson"
)

const kilnJSON = `{
  "name": "Clinker kiln", "country": "VN", "year": 2026,
  "streams": [
    {"id": "coal", "process": "kiln", "kind": "combustion", "quantity": "1000", "ncv": "0.0255", "ef": "94.6"},
    {"id": "raw meal", "process": "kiln", "kind": "process", "quantity": 12000, "ef": 0.44}
  ],
  "electricity": [{"process": "kiln", "mwh": "800", "factor": "0.58"}],
  "processes": [{"id": "kiln", "cn": "25231000", "activity_level": "10000"}]
}`

func postMRV(t *testing.T, srv *httptest.Server, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(srv.URL+"/api/v1/mrv/report", "application/json", strings.NewReader(body))
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

func TestMRVReport(t *testing.T) {
	srv := httptest.NewServer(api.New().Handler())
	defer srv.Close()
	st, res := postMRV(t, srv, kilnJSON)
	if st != 200 {
		t.Fatalf("status %d: %v", st, res)
	}
	em := res["emissions"].(map[string]any)
	// Coal 1000 × 0.0255 × 94.6 = 2412.3; raw meal 12000 × 0.44 = 5280; electricity 800 × 0.58 = 464.
	if em["direct"] != "7692.3" || em["indirect"] != "464" {
		t.Errorf("direct %v indirect %v", em["direct"], em["indirect"])
	}
	good := em["goods"].([]any)[0].(map[string]any)
	// Clinker counts indirect emissions under CBAM: (7692.3 + 464) / 10000.
	if good["see_cbam"] != "0.81563" || good["indirect_counted"] != true {
		t.Errorf("good %v", good)
	}
	cn := res["china_ets"].(map[string]any)
	if cn["total"] != "7692.3" || cn["covered"] != false {
		t.Errorf("china_ets %v", cn)
	}
	var topics []string
	for _, d := range res["differences"].([]any) {
		topics = append(topics, d.(map[string]any)["topic"].(string))
	}
	for _, want := range []string{"indirect emissions (electricity)", "precursors", "coverage threshold"} {
		if !strings.Contains(strings.Join(topics, "|"), want) {
			t.Errorf("differences lack %q: %v", want, topics)
		}
	}
	if res["cbam"] == nil || res["units"] == nil {
		t.Errorf("cbam report or units missing: %v", res)
	}
}

func TestMRVReportBadInputNamesField(t *testing.T) {
	srv := httptest.NewServer(api.New().Handler())
	defer srv.Close()
	for _, tc := range []struct{ body, code, field string }{
		{strings.Replace(kilnJSON, `"ef": 0.44`, `"ef": [1]`, 1), "type_invalid", "streams[1].ef"},
		{strings.Replace(kilnJSON, `"ef": 0.44`, `"ef": "0.4x"`, 1), "decimal_invalid", "streams[1].ef"},
		{strings.Replace(kilnJSON, `"name"`, `"colour": "red", "name"`, 1), "unknown_field", "colour"},
		{strings.Replace(kilnJSON, `"quantity": 12000`, `"quantity": -12000`, 1), "invalid_installation", "streams[1].quantity"},
		{`{"name": "empty", "year": 2026, "processes": []}`, "field_missing", "processes"},
		{`{"name": "no year", "processes": [{"id": "p"}]}`, "field_missing", "year"},
		{``, "malformed_json", ""},
	} {
		st, res := postMRV(t, srv, tc.body)
		if st != 400 || res["code"] != tc.code || (tc.field != "" && res["field"] != tc.field) {
			t.Errorf("%.60q: status %d code %v field %v (%v), want %s %s", tc.body, st, res["code"], res["field"], res["detail"], tc.code, tc.field)
		}
	}
}

func TestMRVReportInOpenAPI(t *testing.T) {
	rec := httptest.NewRecorder()
	api.New().Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	var doc struct {
		Paths      map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Paths["/api/v1/mrv/report"]["post"] == nil || doc.Components.Schemas["MRVInstallation"] == nil {
		t.Error("OpenAPI lacks POST /api/v1/mrv/report or its schema")
	}
}

// Through the API: own sinter feeding pig iron counts the sinter's indirect
// emissions (IR (EU) 2025/2547 Annex I point 3.1), pellets' 28,000 t over
// 1,500,000 t come out exactly, and unflagged biomass is counted.
func TestMRVReportPrecursorsPrecisionBiomass(t *testing.T) {
	srv := httptest.NewServer(api.New().Handler())
	defer srv.Close()
	st, res := postMRV(t, srv, `{"name": "Mill", "country": "CN", "year": 2026,
	  "streams": [
	    {"id": "sinter", "process": "sinter", "kind": "process", "quantity": "319000", "ef": "1"},
	    {"id": "pellets", "process": "pellets", "kind": "process", "quantity": "28000", "ef": "1"},
	    {"id": "bf", "process": "bf", "kind": "process", "quantity": "1500000", "ef": "1"},
	    {"id": "wood", "process": "bf", "kind": "combustion", "quantity": "100", "ncv": "0.01", "ef": "100", "biomass_fraction": "1"}
	  ],
	  "electricity": [{"process": "sinter", "mwh": "1000000", "factor": "0.6"}],
	  "processes": [
	    {"id": "sinter", "cn": "26011200", "activity_level": "1000000"},
	    {"id": "pellets", "cn": "26011200", "activity_level": "1500000"},
	    {"id": "bf", "cn": "72011011", "activity_level": "1000000",
	     "precursors": [{"from_process": "sinter", "tonnes": "1000000"}, {"from_process": "pellets", "tonnes": "1500000"}]}
	  ]}`)
	if st != 200 {
		t.Fatalf("status %d: %v", st, res)
	}
	em := res["emissions"].(map[string]any)
	bf := em["goods"].([]any)[2].(map[string]any)
	// Direct (1,500,000 + 100 biomass counted + 319,000 + 28,000) / 1,000,000 = 1.8471; + sinter indirect 0.6 = 2.4471.
	want := map[string]string{"precursor_direct": "347000", "precursor_indirect_counted": "600000", "see_direct": "1.8471", "see_cbam": "2.4471"}
	for k, v := range want {
		if bf[k] != v {
			t.Errorf("pig iron %s = %v, want %s", k, bf[k], v)
		}
	}
	if em["biomass_counted_co2"] != "100" || em["rounding"] == "" {
		t.Errorf("biomass counted %v rounding %v", em["biomass_counted_co2"], em["rounding"])
	}
}

// TestMRVReportStrictBody: the MRV body is read like every write's
// (before, the endpoint used encoding/json alone: a repeated key kept its
// last value, "Name" filled name, a body that was not an object was read as
// YAML, and any Content-Type or none was taken).
func TestMRVReportStrictBody(t *testing.T) {
	srv := httptest.NewServer(api.New().Handler())
	defer srv.Close()
	body := strings.TrimSuffix(strings.TrimSpace(kilnJSON), "}")
	for _, tc := range []struct {
		name, body, ctype string
		status            int
		code, field       string
	}{
		{"key repeated", body + `, "year": 2027}`, "application/json", 400, "duplicate_key", "year"},
		{"key repeated in other case", body + `, "NAME": "Other kiln"}`, "application/json", 400, "duplicate_key", "NAME"},
		{"nested key repeated", strings.Replace(kilnJSON, `"mwh": "800"`, `"mwh": "800", "mwh": "8"`, 1), "application/json", 400, "duplicate_key", "electricity[0].mwh"},
		{"field in other case", strings.Replace(kilnJSON, `"name"`, `"Name"`, 1), "application/json", 400, "unknown_field", "Name"},
		{"data after the object", kilnJSON + ` {"name": "again"}`, "application/json", 400, "malformed_json", ""},
		{"array body", `[1, 2]`, "application/json", 400, "body_not_object", ""},
		{"null body", `null`, "application/json", 400, "body_not_object", ""},
		{"string body", `"kiln"`, "application/json", 400, "body_not_object", ""},
		{"YAML body", "name: Clinker kiln\nyear: 2026\n", "application/json", 400, "malformed_json", ""},
		{"invalid UTF-8", strings.Replace(kilnJSON, `"Clinker kiln"`, "\"Clinker\xffkiln\"", 1), "application/json", 400, "text_invalid", "name"},
		{"no Content-Type", kilnJSON, "", 415, "unsupported_media_type", "Content-Type"},
		{"text Content-Type", kilnJSON, "text/plain", 415, "unsupported_media_type", "Content-Type"},
		{"YAML Content-Type", kilnJSON, "application/yaml", 415, "unsupported_media_type", "Content-Type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", srv.URL+"/api/v1/mrv/report", strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			st, res := doMRV(t, req)
			if st != tc.status || res["code"] != tc.code || (tc.field != "" && res["field"] != tc.field) || res["detail"] == "" {
				t.Fatalf("status %d %v; want %d code %s field %q", st, res, tc.status, tc.code, tc.field)
			}
		})
	}
	// JSON with parameters is still JSON.
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/mrv/report", strings.NewReader(kilnJSON))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if st, res := doMRV(t, req); st != 200 {
		t.Fatalf("exact body with charset: %d %v", st, res)
	}
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		req, _ := http.NewRequest(m, srv.URL+"/api/v1/mrv/report", strings.NewReader(kilnJSON))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var res map[string]any
		_ = json.Unmarshal(raw, &res)
		if resp.StatusCode != 405 || res["code"] != "method_not_allowed" || resp.Header.Get("Allow") != "POST" {
			t.Errorf("%s: %d Allow %q %s; want 405 method_not_allowed, Allow POST", m, resp.StatusCode, resp.Header.Get("Allow"), raw)
		}
	}
}

func doMRV(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
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

// FuzzMRVReportBody posts arbitrary bodies to the MRV endpoint: the answer
// is 200 with a report or a 4xx problem+json, never a 5xx; and a body the
// endpoint accepts has no key given twice (strictjson's check agrees).
func FuzzMRVReportBody(f *testing.F) {
	for _, s := range []string{kilnJSON, `{}`, `null`, `[]`, `{"name":"a","name":"b"}`, `{"processes":[{"id":"k","activity_level":"1"}]}`,
		`{"streams":[{"id":"s","process":"k","kind":"combustion","quantity":"1e400","ncv":"1","ef":"1"}],"processes":[{"id":"k","cn":"25231000","activity_level":"0.000001"}]}`} {
		f.Add(s)
	}
	h := api.New().Handler()
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", "/api/v1/mrv/report", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch {
		case rec.Code >= 500:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		case rec.Code == http.StatusOK:
			if err := strictjson.CheckKeys([]byte(body)); err != nil {
				t.Fatalf("accepted %q, which strictjson refuses: %v", body, err)
			}
		case !strings.Contains(rec.Header().Get("Content-Type"), "problem+json"):
			t.Fatalf("status %d without problem+json for %q", rec.Code, body)
		}
	})
}
