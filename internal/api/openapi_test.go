package api_test

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/corridor-carbon/corridor/internal/api"
)

// TestOpenAPIDocument checks the merged document parses and documents the
// registry routes and the problem schema.
func TestOpenAPIDocument(t *testing.T) {
	rec := httptest.NewRecorder()
	api.New().Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	var doc struct {
		OpenAPI    string                    `json:"openapi"`
		Paths      map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Components.Schemas["Problem"] == nil {
		t.Fatalf("document header or Problem schema missing")
	}
	p := "/api/v1/registries/{registry}"
	for path, methods := range map[string][]string{
		p: {"get"}, p + "/issuances": {"get", "post"}, p + "/transfers": {"post"}, p + "/retirements": {"get", "post"},
		p + "/cancellations": {"post"}, p + "/reservations": {"post"}, p + "/reservations/{id}/complete": {"post"},
		p + "/reservations/{id}/void": {"post"}, p + "/serials/{serial}": {"get"}, p + "/accounts": {"get", "post"},
		p + "/accounts/{id}": {"get"}, p + "/accounts/{id}/holdings": {"get"}, p + "/accounts/{id}/status": {"post"},
		p + "/transactions": {"get"}, p + "/organisations": {"get", "post"}, p + "/tokens": {"post"},
	} {
		for _, m := range methods {
			if doc.Paths[path][m] == nil {
				t.Errorf("OpenAPI lacks %s %s", m, path)
			}
		}
	}
}
