package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/hub/hubhttp"
)

// hubLink is a node's view of its link to the hub: every call the node
// makes to the hub's host passes through RoundTrip, which records whether
// the hub answered. It reports that, the trust list in force and the
// endpoint's backlog to /readyz and /metrics.
type hubLink struct {
	next    http.RoundTripper
	hubHost string
	src     *hubhttp.Source

	mu      sync.Mutex
	state   string // "unknown", "up", "down"
	reason  string
	contact time.Time
	saved   bool // the trust list in force was read from the saved file
	ep      *hub.Endpoint
}

func newHubLink(next http.RoundTripper, hubURL string, src *hubhttp.Source) (*hubLink, error) {
	u, err := url.Parse(hubURL)
	if err != nil {
		return nil, fmt.Errorf("host: --hub-url: %w: %w", err, ErrInvalid)
	}
	return &hubLink{next: next, hubHost: u.Host, src: src, state: "unknown"}, nil
}

// RoundTrip implements http.RoundTripper.
func (l *hubLink) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(req)
	if req.URL.Host != l.hubHost {
		return resp, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case errors.Is(err, hubhttp.ErrProtocolMismatch):
		l.state, l.reason = "down", "protocol_mismatch"
	case err != nil:
		if req.Context().Err() == nil {
			l.state, l.reason = "down", "unreachable"
		}
	case resp.StatusCode >= 500:
		l.state, l.reason, l.contact = "down", "hub_error", time.Now()
	default:
		l.state, l.reason, l.contact, l.saved = "up", "", time.Now(), false
	}
	return resp, err
}

func (l *hubLink) setEndpoint(ep *hub.Endpoint) {
	l.mu.Lock()
	l.ep = ep
	l.mu.Unlock()
}

func (l *hubLink) fromSaved() {
	l.mu.Lock()
	l.saved = true
	l.mu.Unlock()
}

// HubLinkStatus implements api.HubLinkReporter.
func (l *hubLink) HubLinkStatus() api.HubLinkStatus {
	l.mu.Lock()
	st := api.HubLinkStatus{State: l.state, Reason: l.reason, TrustSaved: l.saved}
	if !l.contact.IsZero() {
		c := l.contact.UTC()
		st.LastContact = &c
	}
	ep := l.ep
	l.mu.Unlock()
	st.TrustVersion = l.src.Current().Version
	if ep != nil {
		b := ep.Backlog()
		st.Backlog, st.Unacknowledged = b.Owed, b.Unacknowledged
	}
	return st
}

// TrustFile is where a node keeps the last trust list it took from the
// hub (signed, as served), to start from it while the hub is down:
// DataDir/registries/CODE.trust.jws, beside the SQLite file (with
// PostgreSQL too: the list is the hub's, not the registry's data).
func (s Storage) TrustFile(code string) string {
	return filepath.Join(s.DataDir, "registries", code+".trust.jws")
}

// saveTrust writes the list atomically (a crash leaves the old one).
func saveTrust(path, compact string) {
	tmp := path + ".tmp"
	err := os.WriteFile(tmp, []byte(compact+"\n"), 0o644)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		slog.Warn("host: saving the hub's trust list", "file", path, "err", err)
	}
}

// firstTrust installs the trust list a node starts from. It asks the hub;
// when the hub does not answer and a list saved by an earlier run
// verifies against the pin, the node starts from that one (reads and
// writes are local; transfers abroad wait in the outbox until the hub is
// back) and the link reads down. Without a saved list it waits for the
// hub. A hub that answers with another protocol or a list the pin
// refuses is an error either way.
func firstTrust(ctx context.Context, src *hubhttp.Source, saved string, link *hubLink) error {
	raw, err := os.ReadFile(saved)
	if errors.Is(err, os.ErrNotExist) {
		return fetchTrust(ctx, src)
	}
	if err != nil {
		return fmt.Errorf("host: the saved trust list: %w", err)
	}
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err = src.Fetch(fctx)
	cancel()
	var pm *hubhttp.ProtocolMismatchError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pm):
		return fmt.Errorf("host: --hub-url: the hub at %w", pm)
	case errors.Is(err, hubhttp.ErrTrustRefused):
		return fmt.Errorf("host: %w", err)
	}
	if ierr := src.Install(strings.TrimSpace(string(raw))); ierr != nil {
		slog.Warn("host: the saved trust list does not verify against --hub-public-key; waiting for the hub", "file", saved, "err", ierr)
		return fetchTrust(ctx, src)
	}
	link.fromSaved()
	slog.Warn("host: the hub does not answer; serving from the trust list saved by an earlier run (transfers abroad wait until the hub is back)",
		"file", saved, "trust_version", src.Current().Version, "err", err)
	return nil
}

// nodeLink is a networked node's hub.Link: the hub's records over HTTP
// (hubhttp.NodeLink), and what the node knows itself when the hub has no
// record of one of its transfers yet or cannot be reached: the
// transfer from its relay (a reserved transfer is never "not found" at
// its sender), the participants from the trust list in force.
type nodeLink struct {
	*hubhttp.NodeLink
	src *hubhttp.Source
}

// unreachable reports whether err is a failed call to the hub (nothing
// answered, or a 5xx), not an answer.
func unreachable(err error) bool {
	var se *hubhttp.StatusError
	if errors.As(err, &se) {
		return se.Status >= 500
	}
	return err != nil && !errors.Is(err, hub.ErrNoTransfer) && envelope.RefusalCode(err) == ""
}

// Transfer implements hub.Link.
func (l nodeLink) Transfer(ctx context.Context, id string) (hub.Transfer, error) {
	t, err := l.NodeLink.Transfer(ctx, id)
	if err == nil || (!errors.Is(err, hub.ErrNoTransfer) && !unreachable(err)) {
		return t, err
	}
	if own, ok := l.Endpoint.LocalTransfer(id); ok {
		return own, nil
	}
	return t, err
}

// Participants implements hub.Link.
func (l nodeLink) Participants(ctx context.Context) ([]hub.Participant, error) {
	ps, err := l.NodeLink.Participants(ctx)
	if err == nil || !unreachable(err) {
		return ps, err
	}
	cur := l.src.Current()
	if len(cur.Entries) == 0 {
		return nil, err
	}
	out := make([]hub.Participant, 0, len(cur.Entries))
	for _, e := range cur.Entries {
		out = append(out, hub.Participant{Code: e.Code, Role: e.Role, Party: e.Party, Endpoint: e.Endpoint})
	}
	return out, nil
}
