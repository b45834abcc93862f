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
	s.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/registries/TH", nil))
	rec := httptest.NewRecorder()
	s.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	committed := n.Stats().Committed.Load()
	for _, want := range []string{
		`corridor_registry_transactions_total{outcome="committed",registry="TH"} ` + strconv.FormatInt(committed, 10),
		`corridor_registry_units{registry="TH",state="retired"} 2500`,
		`corridor_http_requests_total{code="200",route="GET /api/v1/registries/{registry}"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
