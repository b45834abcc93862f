package web

import (
	"net/http"
	"net/http/httptest"
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

// TestHomeMarksRegistriesNotServed: the home page lists the corridor's
// registries this server does not run (as LA in the demo) as not served,
// with no totals; those it serves keep their totals.
func TestHomeMarksRegistriesNotServed(t *testing.T) {
	cs := newCorridorSite(t, storetest.SQLite(t))
	srv := httptest.NewServer(New(cs.nodes["CN"].node).WithLink(cs.c).Handler())
	t.Cleanup(srv.Close)
	p := (&demoSite{srv: srv}).visitor(t).get("/")
	if !strings.Contains(p.body, `<tr data-registry="CN" data-serving="true">`) {
		t.Errorf("CN is not listed as serving")
	}
	for _, c := range []string{"ID", "TH"} {
		i := strings.Index(p.body, `<tr data-registry="`+c+`" data-serving="false">`)
		if i < 0 {
			t.Errorf("%s is not listed as not served", c)
			continue
		}
		row := p.body[i:]
		row = row[:strings.Index(row, "</tr>")]
		if !strings.Contains(row, "Not served by this server") || strings.Contains(row, `class="num`) {
			t.Errorf("%s row: %s", c, row)
		}
	}
}
