package hubhttp

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
)

// Paths of the hub's reconciliation surface.
const (
	// PathReconciliations (GET) lists the latest reconciliation of each
	// node (?all=true: every one recorded, oldest first).
	PathReconciliations = "hub/v1/reconciliations"
	// PathReconcile (POST, the hub administrator's token) reconciles with
	// every node now and answers the results.
	PathReconcile = "hub/v1/reconcile"
)

// ErrNoHubAPI means the server asked to reconcile has no hub API there (an
// embedded server or a registry node, not 'serve --role hub').
var ErrNoHubAPI = errors.New("no hub API")

// RemoteNodes is every node of the trust list as the networked hub h
// reads it for reconciliation: the snapshot with a request signed by h,
// the head and key from the node's API, freezes as protocol messages.
func RemoteNodes(h *hub.Hub, trust func() envelope.TrustList, c *Client) []hub.NodeView {
	var out []hub.NodeView
	for _, e := range trust().Entries {
		if e.Role != envelope.RoleNode {
			continue
		}
		out = append(out, hub.HTTPNode{Registry: e.Code, BaseURL: e.Endpoint, Client: c.HTTP, Hub: h})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code() < out[j].Code() })
	return out
}

// Reconciler runs a networked hub's reconciliations: on its schedule
// (Run) and on demand (POST /hub/v1/reconcile); one at a time.
type Reconciler struct {
	Hub   *hub.Hub
	Nodes func() []hub.NodeView
	// AdminToken is the hub administrator's token for POST
	// /hub/v1/reconcile; empty: the endpoint answers 403
	// reconcile_disabled.
	AdminToken string
	Options    hub.ReconcileOptions
	Log        *slog.Logger

	mu sync.Mutex
}

// Reconcile reconciles with every node now.
func (r *Reconciler) Reconcile(ctx context.Context) ([]hub.Reconciliation, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Hub.Reconcile(ctx, r.Nodes(), r.Options)
}

// Run reconciles at once and then every interval until ctx ends.
func (r *Reconciler) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		rs, err := r.Reconcile(ctx)
		if err != nil && ctx.Err() == nil {
			r.log().Warn("hub: scheduled reconciliation", "err", err)
		}
		findings := 0
		for _, x := range rs {
			findings += len(x.Findings)
		}
		if err == nil {
			r.log().Info("hub: reconciled", "nodes", len(rs), "findings", findings)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Reconciler) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

type reconciliationsDoc struct {
	Reconciliations []hub.Reconciliation `json:"reconciliations"`
}

// Register mounts GET /hub/v1/reconciliations and POST /hub/v1/reconcile
// on mux.
func (r *Reconciler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /"+PathReconciliations, func(w http.ResponseWriter, req *http.Request) {
		var rs []hub.Reconciliation
		var err error
		if req.URL.Query().Get("all") == "true" {
			rs, err = r.Hub.Reconciliations(req.Context())
		} else {
			rs, err = r.Hub.LatestReconciliations(req.Context())
		}
		if err != nil {
			r.log().Error("hubhttp: reading reconciliations", "err", err)
			writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: "unavailable", Detail: "the hub could not read its reconciliations now; retry"})
			return
		}
		if rs == nil {
			rs = []hub.Reconciliation{}
		}
		writeJSON(w, reconciliationsDoc{Reconciliations: rs})
	})
	mux.HandleFunc("POST /"+PathReconcile, func(w http.ResponseWriter, req *http.Request) {
		if r.AdminToken == "" {
			writeProblem(w, Problem{Status: http.StatusForbidden, Code: "reconcile_disabled", Detail: "this hub has no administrator token (--hub-admin-token), so it reconciles only on its schedule"})
			return
		}
		tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(r.AdminToken)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="corridor-hub"`)
			writeProblem(w, Problem{Status: http.StatusUnauthorized, Code: "unauthenticated", Detail: "POST /" + PathReconcile + " needs the hub administrator's token as 'Authorization: Bearer <token>'"})
			return
		}
		rs, err := r.Reconcile(req.Context())
		if err != nil {
			r.log().Error("hubhttp: reconciling on demand", "err", err)
			writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: "unavailable", Detail: "the hub could not record the reconciliation: " + err.Error()})
			return
		}
		if rs == nil {
			rs = []hub.Reconciliation{}
		}
		writeJSON(w, reconciliationsDoc{Reconciliations: rs})
	})
}

// Reconcile POSTs to url (a hub's /hub/v1/reconcile) with the hub
// administrator's token and returns the reconciliations it ran. An answer
// other than 200 is a *ProblemError (the hub's problem, with its status)
// or a *StatusError.
func (c *Client) Reconcile(ctx context.Context, url, token string) ([]hub.Reconciliation, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return nil, fmt.Errorf("hubhttp: request to %s: %w", url, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("hubhttp: %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var p Problem
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(body, &p) == nil && p.Code != "" {
			p.Status = resp.StatusCode
			return nil, &ProblemError{URL: url, Problem: p}
		}
		// Not the hub's answer: never the body, which is often a web page.
		mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			return nil, fmt.Errorf("hubhttp: %s answered %s (%s): %w", url, resp.Status, mt, ErrNoHubAPI)
		}
		return nil, &StatusError{URL: url, Status: resp.StatusCode, Body: fmt.Sprintf("a %s body, not a problem document", mt)}
	}
	var doc reconciliationsDoc
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return nil, fmt.Errorf("hubhttp: %s: %w", url, err)
	}
	return doc.Reconciliations, nil
}

// ProblemError is a hub's problem answer to an administrator's request.
type ProblemError struct {
	URL string
	Problem
}

func (e *ProblemError) Error() string {
	return fmt.Sprintf("hubhttp: %s answered %d %s: %s", e.URL, e.Status, e.Code, e.Detail)
}
