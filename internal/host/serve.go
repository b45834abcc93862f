package host

import (
	"context"
	"fmt"
	"net"
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
	h, _ := handler(nodes, link, nil, "", false)
	return h
}

// Handler is the HTTP surface of the open nodes (as the package's Handler),
// with the demo's notes on the pages when they hold the demo's data.
func (ns *Nodes) Handler() http.Handler {
	h, _ := handler(ns.List, ns.Link, nil, "", ns.Demo)
	return h
}

// handler is Handler with a networked node's hub link for /readyz and
// /metrics (nil: none), the demo tokens file the dashboard's sign-in
// hint names ("": none) and whether the pages show the demo's notes; it
// returns the dashboard too.
func handler(nodes []*registry.Node, link hub.Link, hl api.HubLinkReporter, tokensFile string, demo bool) (http.Handler, *web.Site) {
	apiSrv := api.New(nodes...).WithLink(link).WithHubLink(hl)
	site := web.New(nodes...).WithLink(link).WithTokensFile(tokensFile).WithDemo(demo)
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

// Listen binds addr for Serve. Commands bind before they open or seed
// any registry, so a busy port or a malformed address fails with nothing
// written; a malformed address is ErrInvalid.
func Listen(addr string) (net.Listener, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("host: --addr %q is not host:port (such as 127.0.0.1:8080): %w", addr, ErrInvalid)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("host: listen on %s: %w", addr, err)
	}
	return ln, nil
}

// Serve answers HTTP on ln (from Listen) for the nodes and their corridor link (tokensFile: the demo tokens file the dashboard names, "" for none) until ctx
// ends, then shuts down gracefully (up to 10 s for requests in flight). It
// closes ln.
func Serve(ctx context.Context, ln net.Listener, ns *Nodes, tokensFile string) error {
	h, site := handler(ns.List, ns.Link, nil, tokensFile, ns.Demo)
	// Expired dashboard sessions are swept while the server runs, not only
	// when someone signs in.
	sweepCtx, stopSweep := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		site.SweepSessions(sweepCtx, web.SessionSweepEvery)
	}()
	defer func() { stopSweep(); <-swept }() // before the nodes close
	return serveOn(ctx, ln, h, nil)
}
