package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestRegistryPageInLowerCase: /registries/th is TH's page, as the API
// reads /api/v1/registries/th; an unknown code is still a 404.
func TestRegistryPageInLowerCase(t *testing.T) {
	cs := newCorridorSite(t, storetest.SQLite(t))
	anon := cs.visitor(t)
	if p := anon.get("/registries/th"); p.status != http.StatusOK || !strings.Contains(p.body, `/registries/TH`) {
		t.Fatalf("/registries/th: %d", p.status)
	}
	if p := anon.get("/registries/xx"); p.status != http.StatusNotFound || !strings.Contains(p.body, "XX") {
		t.Fatalf("/registries/xx: %d", p.status)
	}
}
