package host

import (
	"context"
	"net/http"
	"time"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/web"
)

// Handler is a server's HTTP surface for these nodes: the JSON API under
// /api/, /metrics, /healthz, /readyz and the web dashboard at /. link is
// the corridor the nodes belong to (Nodes.Link; nil for none), for the
// API's and the pages' cross-registry parts.
func Handler(nodes []*registry.Node, link hub.Link) http.Handler {
	h, _ := handler(nodes, link, "")
	return h
}

// handler is Handler with the demo tokens file the dashboard's sign-in
// hint names ("": none); it returns the dashboard too.
func handler(nodes []*registry.Node, link hub.Link, tokensFile string) (http.Handler, *web.Site) {
	apiSrv := api.New(nodes...).WithLink(link)
	site := web.New(nodes...).WithLink(link).WithTokensFile(tokensFile)
	if c, ok := link.(*hub.Corridor); ok && c != nil {
		// The corridor page's reconciliation section, cached: the hub reads
		// its reconciliation table on every call.
		site = site.WithReconciler(web.HubReconciler(c.Hub.LatestReconciliations, 5*time.Second))
		if a6 := c.Article6(); a6 != nil {
			site = site.WithArticle6(a6)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", apiSrv.Handler())
	mux.Handle("GET /metrics", apiSrv.MetricsHandler())
	mux.Handle("/", site.Handler())
	mux.Handle("GET /healthz", apiSrv.HealthHandler())
	mux.Handle("GET /readyz", apiSrv.ReadyHandler())
	return mux, site
}

// Serve answers HTTP on addr for the nodes and their corridor link until
// ctx ends, then shuts down gracefully (up to 10 s for requests in flight).
// tokensFile is the demo tokens file the dashboard names ("": none).
func Serve(ctx context.Context, addr string, nodes []*registry.Node, link hub.Link, tokensFile string) error {
	h, site := handler(nodes, link, tokensFile)
	// Expired dashboard sessions are swept while the server runs, not only
	// when someone signs in.
	sweepCtx, stopSweep := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		site.SweepSessions(sweepCtx, web.SessionSweepEvery)
	}()
	defer func() { stopSweep(); <-swept }() // before the nodes close
	return listenAndServe(ctx, addr, h, nil)
}
