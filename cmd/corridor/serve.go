package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/web"
)

func newServeCmd() *cobra.Command {
	var addr, dataDir, dbURL, codes string
	var seed bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a Corridor node: API, web dashboard and demo data",
		Long: `Run a Corridor server: one registry node per code in --registries (each on its own
SQLite file under --data-dir/registries, or its own schema registry_<code> in the
PostgreSQL database of --database-url), the JSON API under /api/v1, the web dashboard
at /, /healthz and /metrics. On first start the demo registries (CN, ID, TH) are
seeded with demo data and their API tokens written to --data-dir/demo-tokens.json;
--seed-demo=false leaves them empty (create the first admin token with
'corridor bootstrap').

Environment: CORRIDOR_ADDR, CORRIDOR_DATA_DIR, CORRIDOR_DATABASE_URL, CORRIDOR_REGISTRIES.`,
		Example: `  corridor serve
  corridor serve --addr 0.0.0.0:8080 --database-url postgres://corridor@db/corridor --seed-demo=false`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return serve(cmd.Context(), addr, nodeSet{dataDir: dataDir, dbURL: dbURL, codes: splitCodes(codes), seedDemo: seed})
		},
	}
	cmd.Flags().StringVar(&addr, "addr", envDefault("CORRIDOR_ADDR", "127.0.0.1:8080"), "listen address (env CORRIDOR_ADDR)")
	cmd.Flags().StringVar(&dataDir, "data-dir", envDefault("CORRIDOR_DATA_DIR", "./corridor-data"), "directory of the embedded SQLite database (env CORRIDOR_DATA_DIR)")
	cmd.Flags().StringVar(&dbURL, "database-url", envDefault("CORRIDOR_DATABASE_URL", ""), "PostgreSQL URL (postgres://…); empty uses embedded SQLite (env CORRIDOR_DATABASE_URL)")
	cmd.Flags().StringVar(&codes, "registries", envDefault("CORRIDOR_REGISTRIES", "CN,ID,TH"), "comma-separated registry codes to run (env CORRIDOR_REGISTRIES)")
	cmd.Flags().BoolVar(&seed, "seed-demo", true, "seed empty demo registries (CN, ID, TH) with demo data")
	return cmd
}

func splitCodes(s string) []string {
	var out []string
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

func serve(ctx context.Context, addr string, ns nodeSet) error {
	nodes, closeNodes, err := ns.open(ctx)
	if err != nil {
		return err
	}
	defer closeNodes()
	apiSrv := api.New(nodes...)
	mux := http.NewServeMux()
	mux.Handle("/api/", apiSrv.Handler())
	mux.Handle("GET /metrics", apiSrv.MetricsHandler())
	mux.Handle("/", web.New(nodes...).Handler())
	mux.Handle("GET /healthz", apiSrv.HealthHandler())
	mux.Handle("GET /readyz", apiSrv.ReadyHandler())
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", addr, err)
	}
	srv := api.NewHTTPServer(mux)
	slog.Info("corridor serving", "addr", "http://"+ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
