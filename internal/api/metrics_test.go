package api_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

func TestMetrics(t *testing.T) {
	n, err := registry.Open(context.Background(), storetest.SQLite(t).Open(t), registry.Options{Code: "TH"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	if _, err := demo.Seed(context.Background(), n, demo.Registries[2]); err != nil {
		t.Fatal(err)
	}
	s := api.New(n)
	h := s.Handler()
	for _, path := range []string{"/api/v1/registries/TH", "/api/v1/registries/TH/accounts", "/api/v1/registries/TH/accounts",
		"/api/v1/registries/TH/accounts?bogus=1", "/api/v1/nowhere"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	rec := httptest.NewRecorder()
	s.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	committed := n.Stats().Committed.Load()
	for _, want := range []string{
		`corridor_registry_transactions_total{outcome="committed",registry="TH"} ` + strconv.FormatInt(committed, 10),
		`corridor_registry_units{registry="TH",state="retired"} 2500`,
		`corridor_http_requests_total{code="200",route="GET /api/v1/registries/{registry}"} 1`,
		// Each route's counters are cached; a query the guard refuses
		// before the mux routes it is still counted under its route.
		`corridor_http_requests_total{code="401",route="GET /api/v1/registries/{registry}/accounts"} 2`,
		`corridor_http_requests_total{code="400",route="GET /api/v1/registries/{registry}/accounts"} 1`,
		`corridor_http_requests_total{code="404",route="/api/"} 1`,
		`corridor_http_request_seconds_count{route="GET /api/v1/registries/{registry}/accounts"} 3`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
