package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/web"
)

func newServeCmd() *cobra.Command {
	var addr, dataDir, dbURL string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a Corridor node: API, web dashboard and demo data",
		Long: `Run a Corridor node. With no flags it stores its data in an embedded SQLite
database under --data-dir and seeds a demo corridor on first start.

Environment: CORRIDOR_ADDR, CORRIDOR_DATA_DIR, CORRIDOR_DATABASE_URL.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return serve(cmd.Context(), addr, dataDir, dbURL)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", envDefault("CORRIDOR_ADDR", "127.0.0.1:8080"), "listen address (env CORRIDOR_ADDR)")
	cmd.Flags().StringVar(&dataDir, "data-dir", envDefault("CORRIDOR_DATA_DIR", "./corridor-data"), "directory of the embedded SQLite database (env CORRIDOR_DATA_DIR)")
	cmd.Flags().StringVar(&dbURL, "database-url", envDefault("CORRIDOR_DATABASE_URL", ""), "PostgreSQL URL (postgres://…); empty uses embedded SQLite (env CORRIDOR_DATABASE_URL)")
	return cmd
}

func serve(ctx context.Context, addr, dataDir, dbURL string) error {
	nodes, closeNodes, err := openNodes(ctx, dataDir, dbURL)
	if err != nil {
		return err
	}
	defer closeNodes()
	apiSrv := api.New(nodes...)
	mux := http.NewServeMux()
	mux.Handle("/api/", apiSrv.Handler())
	mux.Handle("GET /metrics", apiSrv.MetricsHandler())
	mux.Handle("/", web.New(nodes...).Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintln(w, "ok")
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
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
