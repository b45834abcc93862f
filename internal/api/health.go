package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/corridor-carbon/corridor/internal/readyz"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// Timeouts of the HTTP server. A write waits for its group commit, which a
// healthy database finishes in milliseconds and a failing one gives up on
// after its commit timeout (registry.Options.CommitTimeout, 15 s by default,
// a few attempts): WriteTimeout leaves room for that, so a slow commit is
// answered with its outcome rather than cut off.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 90 * time.Second
	IdleTimeout       = 120 * time.Second
	// RequestTimeout is the deadline of a request's context: a write not
	// queued by then is answered not committed (nothing was decided).
	RequestTimeout = 60 * time.Second
	// readyTimeout bounds the database check of /readyz.
	readyTimeout = 1 * time.Second
)

// NewHTTPServer returns an http.Server for h with the timeouts above.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: ReadHeaderTimeout, ReadTimeout: ReadTimeout, WriteTimeout: WriteTimeout, IdleTimeout: IdleTimeout}
}

// withDeadline gives every request a deadline.
func withDeadline(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), RequestTimeout)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// HealthHandler serves /healthz: the process is alive and serving HTTP.
// It checks nothing else, so an orchestrator restarts only a dead process.
func (s *Server) HealthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
}

// errPing marks a registry whose database did not answer /readyz's ping.
var errPing = errors.New("api: database ping failed")

// readiness is the body of /readyz.
type readiness struct {
	Ready      bool              `json:"ready"`
	Registries map[string]string `json:"registries"`
}

// ReadyHandler serves /readyz: 200 when every registry node's database
// answers within a second, it still holds its serving lock, its writer is
// not stuck on a group commit (deciding or committing it), no commit's
// outcome is unresolved and its queue is below the bound; 503 otherwise,
// naming what is wrong per registry. Reads keep being served
// from memory either way.
func (s *Server) ReadyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := readiness{Ready: true, Registries: map[string]string{}}
		for _, code := range s.codes {
			n := s.nodes[code]
			err := n.Ready()
			if err == nil {
				ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
				if err = n.Ping(ctx); err != nil {
					err = errors.Join(errPing, err)
				}
				cancel()
			}
			out.Registries[code] = "ok"
			if err != nil {
				out.Ready, out.Registries[code] = false, readyReason(code, err)
			}
		}
		readyz.Write(w, out.Ready, out)
	})
}

// ReadyDatabaseUnreachable is a registry's /readyz value when its database
// does not answer.
const ReadyDatabaseUnreachable = "database_unreachable"

// readyReason is what /readyz says of a registry that is not ready. The
// body is unauthenticated: a database that does not answer is a short code
// (the driver's error names the database's user and name, and goes to the
// log), a lost lock its code and a sentence without the schema or file;
// the node's own sentences (a stuck group commit, a full queue) name no
// database.
func readyReason(code string, err error) string {
	slog.Warn("api: registry not ready", "registry", code, "err", err)
	switch {
	case errors.Is(err, errPing):
		return ReadyDatabaseUnreachable
	case errors.Is(err, registry.ErrDatabaseInUse):
		return registry.CodeNotServing + ": the serving lock was lost and another process now holds it"
	}
	return err.Error()
}
