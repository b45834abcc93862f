package api

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the API's Prometheus collectors, in a registry of their own so
// several servers can live in one process.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// routes caches each route's collectors: finding a labelled child
	// hashes its label values on every request.
	routes sync.Map // route pattern -> *routeMetrics
}

// routeMetrics are one route's collectors.
type routeMetrics struct {
	latency prometheus.Observer
	byCode  sync.Map // status code -> prometheus.Counter
}

// observe counts a request to route answered with code after d.
func (m *metrics) observe(route string, code int, d time.Duration) {
	rm, ok := m.routes.Load(route)
	if !ok {
		rm, _ = m.routes.LoadOrStore(route, &routeMetrics{latency: m.latency.WithLabelValues(route)})
	}
	r := rm.(*routeMetrics)
	c, ok := r.byCode.Load(code)
	if !ok {
		c, _ = r.byCode.LoadOrStore(code, m.requests.WithLabelValues(route, strconv.Itoa(code)))
	}
	c.(prometheus.Counter).Inc()
	r.latency.Observe(d.Seconds())
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "corridor_http_requests_total", Help: "HTTP API requests by route pattern and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "corridor_http_request_seconds", Help: "HTTP API request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
	}
	m.reg.MustRegister(m.requests, m.latency, prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// nodeCollector exports each registry node's counters.
type nodeCollector struct{ s *Server }

var (
	descCommits   = prometheus.NewDesc("corridor_registry_commits_total", "Database transactions committed (each carries a group of ledger transactions).", []string{"registry"}, nil)
	descTx        = prometheus.NewDesc("corridor_registry_transactions_total", "Ledger transactions by outcome.", []string{"registry", "outcome"}, nil)
	descReloads   = prometheus.NewDesc("corridor_registry_reloads_total", "State reloads from the database (another writer, or a failed commit).", []string{"registry"}, nil)
	descBatchSecs = prometheus.NewDesc("corridor_registry_batch_seconds_total", "Time spent deciding and committing batches.", []string{"registry"}, nil)
	descQueued    = prometheus.NewDesc("corridor_registry_queued", "Transactions waiting for the writer.", []string{"registry"}, nil)
	descIssued    = prometheus.NewDesc("corridor_registry_units", "Units by state.", []string{"registry", "state"}, nil)
	descSeq       = prometheus.NewDesc("corridor_registry_journal_seq", "Sequence number of the last journal entry.", []string{"registry"}, nil)
)

func (c nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCommits, descTx, descReloads, descBatchSecs, descQueued, descIssued, descSeq} {
		ch <- d
	}
}

func (c nodeCollector) Collect(ch chan<- prometheus.Metric) {
	for _, code := range c.s.codes {
		n := c.s.nodes[code]
		st := n.Stats()
		ch <- prometheus.MustNewConstMetric(descCommits, prometheus.CounterValue, float64(st.Commits.Load()), code)
		for outcome, v := range map[string]int64{"committed": st.Committed.Load(), "rejected": st.Rejected.Load(), "replayed": st.Replayed.Load(), "failed": st.Failed.Load()} {
			ch <- prometheus.MustNewConstMetric(descTx, prometheus.CounterValue, float64(v), code, outcome)
		}
		ch <- prometheus.MustNewConstMetric(descReloads, prometheus.CounterValue, float64(st.Reloads.Load()), code)
		ch <- prometheus.MustNewConstMetric(descBatchSecs, prometheus.CounterValue, float64(st.CommitNanos.Load())/1e9, code)
		ch <- prometheus.MustNewConstMetric(descQueued, prometheus.GaugeValue, float64(n.Queued()), code)
		t := n.Totals()
		for state, v := range t.ByState {
			ch <- prometheus.MustNewConstMetric(descIssued, prometheus.GaugeValue, float64(v), code, string(state))
		}
		ch <- prometheus.MustNewConstMetric(descSeq, prometheus.GaugeValue, float64(t.JournalSeq), code)
	}
}

// MetricsHandler serves /metrics.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// instrument counts requests (by mux's route) and recovers from panics
// without leaking their text to the client; next serves them.
func (s *Server) instrument(mux *http.ServeMux, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				internalError(rec, r, panicError{p})
			}
			// The mux has set the pattern it routed r to; a request it did
			// not route (refused before, or redirected) is looked up.
			route := r.Pattern
			if route == "" {
				_, route = mux.Handler(r)
			}
			s.metrics.observe(route, rec.code, time.Since(start))
		}()
		next.ServeHTTP(rec, r)
	})
}

type panicError struct{ v any }

func (p panicError) Error() string { return "panic: " + strconv.Quote(toString(p.v)) }

func toString(v any) string {
	if e, ok := v.(error); ok {
		return e.Error()
	}
	if s, ok := v.(string); ok {
		return s
	}
	return "non-string panic value"
}
