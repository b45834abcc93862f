package web

import (
	"context"
	"sync"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
)

// HubReconciler shows the hub's reconciliation records on the corridor
// page. latest is the hub's latest record per registry (for the embedded
// corridor: func(ctx) { return c.Hub.LatestReconciliations(ctx) }, read
// through c.Hub each time, as the hub is reopened after a restart). The
// records live in the hub's database and grow with every scheduled run,
// so the answer is kept for ttl: the page reads memory, not the table.
func HubReconciler(latest func(context.Context) ([]hub.Reconciliation, error), ttl time.Duration) Reconciler {
	return &hubReconciler{latest: latest, ttl: ttl, now: time.Now}
}

type hubReconciler struct {
	latest func(context.Context) ([]hub.Reconciliation, error)
	ttl    time.Duration
	now    func() time.Time

	mu     sync.Mutex
	at     time.Time
	cached []Reconciliation
}

func (h *hubReconciler) Reconciliations(ctx context.Context) ([]Reconciliation, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cached != nil && h.now().Sub(h.at) < h.ttl {
		return h.cached, nil
	}
	rs, err := h.latest(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Reconciliation, 0, len(rs))
	for _, r := range rs {
		v := Reconciliation{Registry: r.Registry, At: r.At, Snapshot: r.SnapshotSeq}
		for _, f := range r.Findings {
			v.Findings = append(v.Findings, protocol.Finding{Code: f.Code, Detail: f.Detail})
			// A finding names the serials it froze at the node.
			if f.Freeze != 0 && f.End >= f.Start && f.Start > 0 {
				v.Frozen += f.End - f.Start + 1
			}
		}
		out = append(out, v)
	}
	h.cached, h.at = out, h.now()
	return out, nil
}
