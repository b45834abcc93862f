package hubhttp

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// PathSnapshot is a node's snapshot for the hub's reconciliation.
const PathSnapshot = hub.SnapshotPath

// Refusal codes of a snapshot request (besides the envelope's forged,
// misaddressed, stale, future, malformed, unsupported_version).
const (
	// CodeUnauthenticated: no snapshot request in the Authorization header.
	CodeUnauthenticated envelope.Code = "unauthenticated"
	// CodeReplayed: a snapshot request whose id the node has seen before.
	CodeReplayed envelope.Code = "replayed"
	// CodeNotHub: a request signed by a participant that is not the hub,
	// or of another type than snapshot_request.
	CodeNotHub envelope.Code = "not_hub"
)

// SnapshotHandler is GET <endpoint>/hub/v1/snapshot at a registry node: it
// answers the node's snapshot (registry.Snapshot, as the hub's actor) to
// a snapshot request signed by the hub (hub.SignSnapshotRequest) and
// refuses anything else with a problem and its code. The hub's key is the
// one of the trust list the node fetched under its pinned hub key.
type SnapshotHandler struct {
	Node *registry.Node
	// HubOrg is the organisation acting for the hub at the node.
	HubOrg int64
	SignedRead
}

func (s *SnapshotHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeProblem(w, Problem{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Detail: "the snapshot is read with GET"})
		return
	}
	if err := s.Check(r.Context(), r.Header.Get("Authorization")); err != nil {
		refuseRead(w, r, err, "Snapshot request refused", s.log())
		return
	}
	snap, err := s.Node.Snapshot(registry.Actor{OrgID: s.HubOrg, Role: registry.RoleHub})
	if err != nil {
		s.log().Error("hubhttp: snapshot", "err", err)
		writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: "unavailable", Detail: "the node could not take its snapshot now; retry"})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, snap)
}

// Check verifies the Authorization header value of a snapshot request and,
// when it passes, remembers its id (a second use is refused as replayed).
// Refusals are *envelope.Refusal.
func (s *SnapshotHandler) Check(ctx context.Context, authz string) error {
	m, err := s.seen.open(ctx, authz, hubRequest{path: PathSnapshot, typ: hub.SnapshotRequestType, self: s.Node.Code(), hubCode: s.HubCode,
		trust: s.Trust, now: s.now(), skew: s.skew()})
	if err != nil {
		return err
	}
	var body hub.SnapshotRequest
	if err := json.Unmarshal(m.Body, &body); err != nil || body.Registry != s.Node.Code() {
		return &envelope.Refusal{Code: envelope.CodeMisaddressed, Detail: "the request asks for the snapshot of " + body.Registry + ", this node is " + s.Node.Code()}
	}
	return s.seen.take(m.ID, s.now(), s.skew())
}

// hubRequest is what a node checks of a signed read request of the hub
// (snapshot_request, article6_request).
type hubRequest struct {
	path, typ, self, hubCode string
	trust                    func() envelope.TrustList
	now                      time.Time
	skew                     time.Duration
}

// seenRequests remembers the ids of the hub's read requests a node took,
// for twice the request window.
type seenRequests struct {
	mu  sync.Mutex
	ids map[string]time.Time
}

// open verifies authz ("Corridor-Hub <compact>"): signed by the hub's
// key of the trust list, addressed to the node, fresh, of type q.typ.
// The caller checks the body, then take()s the id.
func (s *seenRequests) open(ctx context.Context, authz string, q hubRequest) (envelope.Message, error) {
	compact, ok := strings.CutPrefix(authz, hub.SnapshotAuthScheme+" ")
	if !ok || strings.TrimSpace(compact) == "" {
		return envelope.Message{}, &envelope.Refusal{Code: CodeUnauthenticated, Detail: "GET /" + q.path + " needs 'Authorization: " + hub.SnapshotAuthScheme + " <request signed by the hub>'"}
	}
	now := q.now
	v := envelope.Verifier{Trust: q.trust, Self: q.self, Now: func() time.Time { return now }, MaxSkew: q.skew,
		Versions: []int{protocol.Version}, Replay: noReplay{}, Unsequenced: func(string) bool { return true }}
	m, _, err := v.Open(ctx, strings.TrimSpace(compact))
	if err != nil {
		return m, err
	}
	if m.From != q.hubCode {
		return m, &envelope.Refusal{Code: CodeNotHub, Detail: "the request is signed by " + m.From + ", not the hub " + q.hubCode}
	}
	if m.Type != q.typ {
		return m, &envelope.Refusal{Code: CodeNotHub, Detail: "a message of type " + m.Type + " is not a " + q.typ}
	}
	return m, nil
}

// take records id, refusing one seen before as replayed.
func (s *seenRequests) take(id string, now time.Time, skew time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.ids[id]; dup {
		return &envelope.Refusal{Code: CodeReplayed, Detail: "request " + id + " was used before"}
	}
	if s.ids == nil {
		s.ids = map[string]time.Time{}
	}
	// Forget ids older than the window on both sides: a request that old
	// is refused as stale anyway.
	for k, at := range s.ids {
		if now.Sub(at) > 2*skew {
			delete(s.ids, k)
		}
	}
	s.ids[id] = now
	return nil
}

// noReplay is the envelope verifier's replay store: none; Check keeps
// the ids taken itself and refuses a second use as replayed.
type noReplay struct{}

func (noReplay) Lookup(context.Context, string, string) (envelope.Hash, bool, error) {
	return envelope.Hash{}, false, nil
}
