package hubhttp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// HubHandler is the hub process's protocol surface: messages in, the
// signed trust list and the transfer reads.
func HubHandler(h *hub.Hub, trust *Publisher, set agreements.Set, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/"+PathMessages, MessageHandler(h, log))
	mux.Handle("GET /"+PathTrust, trust.Handler())
	mux.HandleFunc("GET /"+PathTransfers+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		t, ok := h.Transfer(r.PathValue("id"))
		if !ok {
			writeProblem(w, Problem{Status: http.StatusNotFound, Code: "no_transfer", Detail: "the hub has no record of that transfer"})
			return
		}
		writeJSON(w, t)
	})
	mux.HandleFunc("GET /"+PathTransfers, func(w http.ResponseWriter, r *http.Request) {
		f, err := parseFilter(r.URL.Query())
		if err != nil {
			writeProblem(w, Problem{Status: http.StatusBadRequest, Code: "invalid_query", Detail: err.Error()})
			return
		}
		ts := f.Select(h.Transfers())
		if ts == nil {
			ts = []hub.Transfer{}
		}
		writeJSON(w, transfersDoc{Transfers: ts})
	})
	mux.HandleFunc("GET /"+PathParticipants, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, participantsDoc{Participants: hub.ParticipantsOf(trust.Current(), set)})
	})
	return mux
}

type transfersDoc struct {
	Transfers []hub.Transfer `json:"transfers"`
}

type participantsDoc struct {
	Participants []hub.Participant `json:"participants"`
}

func parseFilter(q url.Values) (hub.TransferFilter, error) {
	f := hub.TransferFilter{Registry: q.Get("registry")}
	if s := q.Get("active"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return f, fmt.Errorf("active=%q is not true or false", s)
		}
		f.Active = b
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return f, fmt.Errorf("limit=%q is not a count", s)
		}
		f.Limit = n
	}
	return f, nil
}

// NodeHandler is a registry node's protocol surface: the hub's messages
// in, and the public record of the node's own issuances that an acquiring
// registry needs to import their units.
func NodeHandler(e *hub.Endpoint, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/"+PathMessages, MessageHandler(e, log))
	mux.HandleFunc("GET /"+PathOrigins+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		x, ok := e.Node.OriginOf(id)
		if err != nil || !ok || x.Registry != e.Code {
			writeProblem(w, Problem{Status: http.StatusNotFound, Code: "no_issuance", Detail: "no issuance of this registry's own with that id"})
			return
		}
		writeJSON(w, x)
	})
	return mux
}

// Origins looks up origin issuances at their origin registry's endpoint
// (GET /hub/v1/origins/{id}); an issuance record never changes, so the
// answers are kept.
type Origins struct {
	Client *Client
	Trust  func() envelope.TrustList

	mu    sync.Mutex
	cache map[registry.Origin]registry.OriginIssuance
}

// Origin implements hub.Origins.
func (o *Origins) Origin(ctx context.Context, want registry.Origin) (registry.OriginIssuance, error) {
	o.mu.Lock()
	x, ok := o.cache[want]
	o.mu.Unlock()
	if ok {
		return x, nil
	}
	e, ok := o.Trust().Entry(want.Registry)
	if !ok || e.Role != envelope.RoleNode {
		return registry.OriginIssuance{}, fmt.Errorf("hubhttp: origin registry %s is not in the trust list", want.Registry)
	}
	u, err := Join(e.Endpoint, PathOrigins, strconv.FormatInt(want.Issuance, 10))
	if err != nil {
		return registry.OriginIssuance{}, err
	}
	if err := o.Client.getJSON(ctx, u, &x); err != nil {
		return registry.OriginIssuance{}, fmt.Errorf("hubhttp: origin issuance %s/%d: %w", want.Registry, want.Issuance, err)
	}
	if x.Origin != want {
		return registry.OriginIssuance{}, fmt.Errorf("hubhttp: %s answered for issuance %s/%d with %s/%d", u, want.Registry, want.Issuance, x.Registry, x.Issuance)
	}
	o.mu.Lock()
	if o.cache == nil {
		o.cache = map[registry.Origin]registry.OriginIssuance{}
	}
	o.cache[want] = x
	o.mu.Unlock()
	return x, nil
}

var _ hub.Origins = (*Origins)(nil)

// NodeLink is the hub.Link of a registry node in a networked corridor:
// it sends through the node's own endpoint and reads the hub's records
// over HTTP, so the node's API, CLI and web work as in the embedded
// corridor.
type NodeLink struct {
	Endpoint *hub.Endpoint
	Client   *Client
	// HubURL is the hub's base URL (--hub-url).
	HubURL string
}

// Send implements hub.Link: only this node's own registry can send.
func (l *NodeLink) Send(ctx context.Context, code string, s hub.Send) (hub.Sent, error) {
	if code != l.Endpoint.Code {
		return hub.Sent{}, fmt.Errorf("%w: %q is not served here (this node is %s)", hub.ErrUnknownRegistry, code, l.Endpoint.Code)
	}
	return l.Endpoint.Propose(ctx, s)
}

// Transfer implements hub.Link.
func (l *NodeLink) Transfer(ctx context.Context, id string) (hub.Transfer, error) {
	u, err := Join(l.HubURL, PathTransfers, id)
	if err != nil {
		return hub.Transfer{}, err
	}
	var t hub.Transfer
	if err := l.Client.getJSON(ctx, u, &t); err != nil {
		if errors.Is(err, errNotFound) {
			return hub.Transfer{}, fmt.Errorf("%w: %q", hub.ErrNoTransfer, id)
		}
		return hub.Transfer{}, err
	}
	return t, nil
}

// Transfers implements hub.Link.
func (l *NodeLink) Transfers(ctx context.Context, f hub.TransferFilter) ([]hub.Transfer, error) {
	u, err := Join(l.HubURL, PathTransfers)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if f.Registry != "" {
		q.Set("registry", f.Registry)
	}
	if f.Active {
		q.Set("active", "true")
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var doc transfersDoc
	if err := l.Client.getJSON(ctx, u, &doc); err != nil {
		return nil, err
	}
	return doc.Transfers, nil
}

// Participants implements hub.Link.
func (l *NodeLink) Participants(ctx context.Context) ([]hub.Participant, error) {
	u, err := Join(l.HubURL, PathParticipants)
	if err != nil {
		return nil, err
	}
	var doc participantsDoc
	if err := l.Client.getJSON(ctx, u, &doc); err != nil {
		return nil, err
	}
	return doc.Participants, nil
}

var _ hub.Link = (*NodeLink)(nil)
