package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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
	// Hub is a networked node's hub link (WithHubLink), detail only.
	Hub *HubLinkStatus `json:"hub,omitempty"`
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
		if s.hubLink != nil {
			st := s.hubLink.HubLinkStatus()
			out.Hub = &st
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

// HubLinkStatus is a networked registry node's view of its link to the
// corridor's hub, in /readyz and /metrics. A node whose hub is down keeps
// serving its own reads and writes (transfers abroad wait in its outbox),
// so the link's state is detail: it does not make the node unready.
type HubLinkStatus struct {
	// State is "up" (the hub answered the last call), "down" (it did not,
	// or answered 5xx) or "unknown" (no call yet).
	State string `json:"state"`
	// Reason is a short code when down: unreachable, hub_error,
	// protocol_mismatch.
	Reason string `json:"reason,omitempty"`
	// LastContact is when the hub last answered a call (absent: never,
	// in this process).
	LastContact *time.Time `json:"last_contact,omitempty"`
	// TrustVersion is the trust list in force; TrustSaved says that it is
	// the one saved by an earlier run (the hub has not been reached yet).
	TrustVersion uint64 `json:"trust_version"`
	TrustSaved   bool   `json:"trust_saved,omitempty"`
	// Backlog: transfers the node still owes the hub messages about (not
	// final there), and of them those the hub has not acknowledged at all.
	Backlog        int `json:"backlog"`
	Unacknowledged int `json:"unacknowledged"`
}

// HubLinkReporter gives the hub link's status now.
type HubLinkReporter interface {
	HubLinkStatus() HubLinkStatus
}

// WithHubLink makes /readyz and /metrics report the node's hub link. It
// returns s.
func (s *Server) WithHubLink(r HubLinkReporter) *Server {
	if r == nil {
		return s
	}
	s.hubLink = r
	s.metrics.reg.MustRegister(hubLinkCollector{r})
	return s
}

var (
	descHubUp      = prometheus.NewDesc("corridor_hub_link_up", "1 when the hub answered this node's last call, 0 otherwise.", nil, nil)
	descHubContact = prometheus.NewDesc("corridor_hub_last_contact_timestamp_seconds", "When the hub last answered this node (Unix time; 0: never since start).", nil, nil)
	descHubBacklog = prometheus.NewDesc("corridor_hub_outbox_backlog", "Transfers this node still owes the hub messages about, by whether the hub acknowledged any yet.", []string{"acknowledged"}, nil)
	descHubTrust   = prometheus.NewDesc("corridor_hub_trust_version", "Version of the trust list in force at this node.", nil, nil)
)

// hubLinkCollector exports the hub link's status.
type hubLinkCollector struct{ r HubLinkReporter }

func (c hubLinkCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descHubUp, descHubContact, descHubBacklog, descHubTrust} {
		ch <- d
	}
}

func (c hubLinkCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.r.HubLinkStatus()
	up, contact := 0.0, 0.0
	if st.State == "up" {
		up = 1
	}
	if st.LastContact != nil {
		contact = float64(st.LastContact.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(descHubUp, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(descHubContact, prometheus.GaugeValue, contact)
	ch <- prometheus.MustNewConstMetric(descHubBacklog, prometheus.GaugeValue, float64(st.Backlog-st.Unacknowledged), "true")
	ch <- prometheus.MustNewConstMetric(descHubBacklog, prometheus.GaugeValue, float64(st.Unacknowledged), "false")
	ch <- prometheus.MustNewConstMetric(descHubTrust, prometheus.GaugeValue, float64(st.TrustVersion))
}
