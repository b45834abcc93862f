package hubhttp

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/corridor-carbon/corridor/internal/readyz"
)

// Codes of the hub's /readyz. The body is unauthenticated, so it carries
// a short code and never the driver's error (which names the database's
// user and name); the details go to the log.
const (
	ReadyOK                  = "ok"
	ReadyDatabaseUnreachable = "database_unreachable"
	ReadyNotServing          = "hub_not_serving"
)

// readyTimeout bounds the database check of /readyz.
const readyTimeout = time.Second

// Readiness is the body of the hub's /readyz.
type Readiness struct {
	Ready bool   `json:"ready"`
	Hub   string `json:"hub"`
}

// ReadyHandler serves the hub's /readyz: 200 when the hub still holds its
// database's serving lock (lost: nil) and the database answers ping
// within a second; 503 with Retry-After and a code otherwise, so a load
// balancer stops sending to a hub that cannot record anything.
func ReadyHandler(ping func(context.Context) error, lost func() error, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := Readiness{Ready: true, Hub: ReadyOK}
		if err := lost(); err != nil {
			out = Readiness{Hub: ReadyNotServing}
			log.Warn("hub not ready: serving lock lost", "err", err)
		} else {
			ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
			err := ping(ctx)
			cancel()
			if err != nil {
				out = Readiness{Hub: ReadyDatabaseUnreachable}
				log.Warn("hub not ready: its database does not answer", "err", err)
			}
		}
		readyz.Write(w, out.Ready, out)
	})
}
