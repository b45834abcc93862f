package hubhttp

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub"
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

// Values of Readiness.Article6.
const (
	// Article6OK: the last sync read every node's Article 6 facts.
	Article6OK = "ok"
	// Article6Stale: a node's facts could not be read at the last sync;
	// the hub refuses Article 6 transfers (article6_unavailable) until
	// they are, and still passes voluntary ones, so it stays ready.
	Article6Stale = "stale"
	// Article6None: the hub keeps no Article 6 ledger.
	Article6None = "none"
)

// readyTimeout bounds the database check of /readyz.
const readyTimeout = time.Second

// Readiness is the body of the hub's /readyz.
type Readiness struct {
	Ready bool   `json:"ready"`
	Hub   string `json:"hub"`
	// Article6 is the state of the hub's Article 6 facts (Article6OK,
	// Article6Stale, Article6None); Article6Unreachable the registries
	// whose facts could not be read, and since when.
	Article6            string     `json:"article6,omitempty"`
	Article6Unreachable []string   `json:"article6_unreachable,omitempty"`
	Article6StaleSince  *time.Time `json:"article6_stale_since,omitempty"`
}

// ReadyHandler serves the hub's /readyz: 200 when the hub still holds its
// database's serving lock (lost: nil) and the database answers ping
// within a second; 503 with Retry-After and a code otherwise, so a load
// balancer stops sending to a hub that cannot record anything. The body
// also says whether the hub's Article 6 facts are up to date (article6,
// from a6; nil: the hub keeps no Article 6 ledger): stale facts do not
// make the hub unready, since it still passes voluntary transfers.
func ReadyHandler(ping func(context.Context) error, lost func() error, a6 func() hub.Article6Status, log *slog.Logger) http.Handler {
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
		out.Article6 = Article6None
		if a6 != nil {
			out.Article6 = Article6OK
			if st := a6(); st.Stale() {
				since := st.Since.UTC()
				out.Article6, out.Article6Unreachable, out.Article6StaleSince = Article6Stale, st.Unreachable, &since
			}
		}
		readyz.Write(w, out.Ready, out)
	})
}
