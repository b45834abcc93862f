package hubhttp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// PathArticle6 is a node's Article 6 facts for the networked hub's ledger.
const PathArticle6 = hub.Article6Path

// Article6Page is the answer of GET /hub/v1/article6: the node's journal
// entries of registry.Article6Kinds after the request's cursor, in
// sequence order (hub.Article6Page). Empty: none after it.
type Article6Page struct {
	Registry string                 `json:"registry"`
	After    int64                  `json:"after"`
	Entries  []registry.Transaction `json:"entries"`
}

// Article6Handler is GET <endpoint>/hub/v1/article6 at a registry node:
// to an article6_request signed by the hub (hub.SignArticle6Request),
// checked as the snapshot request is (SnapshotHandler: signed by the
// hub's key of the trust list, addressed to this node, fresh, never
// replayed), it answers one page of the node's journal entries of the
// Article 6 kinds after the request's cursor. No other entry is ever in
// the answer, and the entries carry no actor (who keyed the request is
// the registry's business, not the ledger's).
type Article6Handler struct {
	Node *registry.Node
	SignedRead
}

func (s *Article6Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeProblem(w, Problem{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Detail: "the Article 6 facts are read with GET"})
		return
	}
	req, err := s.Check(r.Context(), r.Header.Get("Authorization"))
	if err != nil {
		refuseRead(w, r, err, "Article 6 request refused", s.log())
		return
	}
	limit := req.Limit
	if limit <= 0 || limit > hub.Article6PageMax {
		limit = hub.Article6PageMax
	}
	ts, err := hub.Article6Page(r.Context(), s.Node, req.After, limit)
	if err != nil {
		s.log().Error("hubhttp: article 6 entries", "err", err)
		writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: "unavailable", Detail: "the node could not read its journal now; retry"})
		return
	}
	for i := range ts {
		ts[i].Actor = ""
	}
	if ts == nil {
		ts = []registry.Transaction{}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, Article6Page{Registry: s.Node.Code(), After: req.After, Entries: ts})
}

// Check verifies the Authorization header value of an article6_request
// and returns its body; the request's id is remembered (a second use is
// refused as replayed). Refusals are *envelope.Refusal.
func (s *Article6Handler) Check(ctx context.Context, authz string) (hub.Article6Request, error) {
	var body hub.Article6Request
	now, skew := s.now(), s.skew()
	m, err := s.seen.open(ctx, authz, hubRequest{path: PathArticle6, typ: hub.Article6RequestType, self: s.Node.Code(), hubCode: s.HubCode,
		trust: s.Trust, now: now, skew: skew})
	if err != nil {
		return body, err
	}
	if err := json.Unmarshal(m.Body, &body); err != nil {
		return body, &envelope.Refusal{Code: envelope.CodeMalformed, Detail: "the article6_request body is not {registry, after, limit}: " + err.Error()}
	}
	if body.Registry != s.Node.Code() {
		return body, &envelope.Refusal{Code: envelope.CodeMisaddressed, Detail: "the request asks for the Article 6 facts of " + body.Registry + ", this node is " + s.Node.Code()}
	}
	if body.After < 0 || body.Limit < 0 {
		return body, &envelope.Refusal{Code: envelope.CodeMalformed, Detail: "after and limit must not be negative"}
	}
	return body, s.seen.take(m.ID, now, skew)
}

// refuseRead answers a refused signed read request with its problem: 401
// unauthenticated, 403 not_hub, 409 replayed, the envelope's codes as for
// messages; 503 when the check itself failed.
func refuseRead(w http.ResponseWriter, r *http.Request, err error, title string, log *slog.Logger) {
	rf, ok := err.(*envelope.Refusal)
	if !ok {
		log.Error("hubhttp: signed read request", "path", r.URL.Path, "err", err)
		writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: "unavailable", Detail: "the node could not check the request now; retry"})
		return
	}
	log.Warn("hubhttp: signed read request refused", "path", r.URL.Path, "code", rf.Code, "detail", rf.Detail, "remote", r.RemoteAddr)
	status := refusalStatus(rf.Code)
	switch rf.Code {
	case CodeUnauthenticated:
		status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", hub.SnapshotAuthScheme)
	case CodeNotHub:
		status = http.StatusForbidden
	case CodeReplayed:
		status = http.StatusConflict
	}
	writeProblem(w, Problem{Status: status, Code: string(rf.Code), Title: title, Detail: rf.Detail})
}

// Article6Source is the networked hub's hub.Article6Source for one node:
// GET <BaseURL>/hub/v1/article6 with an article6_request signed by the
// hub's key (Signer).
// After a failed read the node is not asked again for Backoff (the error
// is answered at once), so a node that hangs does not hold up every
// proposal the hub checks.
type Article6Source struct {
	Registry string
	// BaseURL is the node's endpoint from the trust list.
	BaseURL string
	Client  *http.Client
	Signer  envelope.Signer
	// Timeout bounds one read (Article6ReadTimeout when 0); Backoff is
	// the pause after a failure (Article6Backoff when 0).
	Timeout, Backoff time.Duration
	// Limit is the page asked for (hub.Article6PageMax when 0).
	Limit int

	mu        sync.Mutex
	downUntil time.Time
	lastErr   error
}

// Our choices for the Article 6 reads, not regulatory figures: a read
// that takes longer than Article6ReadTimeout is a node down; it is not
// asked again for Article6Backoff.
const (
	Article6ReadTimeout = 5 * time.Second
	Article6Backoff     = 2 * time.Second
)

// Article6Entries implements hub.Article6Source.
func (s *Article6Source) Article6Entries(ctx context.Context, after int64) ([]registry.Transaction, error) {
	s.mu.Lock()
	if time.Now().Before(s.downUntil) {
		err := s.lastErr
		s.mu.Unlock()
		return nil, err
	}
	s.mu.Unlock()
	ts, err := s.read(ctx, after)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		backoff := s.Backoff
		if backoff == 0 {
			backoff = Article6Backoff
		}
		s.downUntil, s.lastErr = time.Now().Add(backoff), err
		return nil, err
	}
	s.downUntil, s.lastErr = time.Time{}, nil
	return ts, nil
}

func (s *Article6Source) read(ctx context.Context, after int64) ([]registry.Transaction, error) {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = Article6ReadTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	limit := s.Limit
	if limit == 0 {
		limit = hub.Article6PageMax
	}
	authz, err := hub.SignArticle6Request(s.Signer, time.Now(), s.Registry, after, limit)
	if err != nil {
		return nil, err
	}
	u, err := Join(s.BaseURL, PathArticle6)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("hubhttp: request to %s: %w", u, err)
	}
	req.Header.Set("Authorization", hub.SnapshotAuthScheme+" "+authz)
	req.Header.Set("Accept", "application/json")
	c := s.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("hubhttp: reading the Article 6 facts of %s: %w", s.Registry, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("hubhttp: reading the Article 6 facts of %s: %w", s.Registry, answerError(u, resp))
	}
	var page Article6Page
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&page); err != nil {
		return nil, fmt.Errorf("hubhttp: decoding the Article 6 facts of %s: %w", s.Registry, err)
	}
	if page.Registry != s.Registry || page.After != after || len(page.Entries) > limit {
		return nil, fmt.Errorf("hubhttp: %s answered the Article 6 facts of %s after %d (%d entries), not of %s after %d (at most %d)",
			u, page.Registry, page.After, len(page.Entries), s.Registry, after, limit)
	}
	kinds := registry.Article6Kinds()
	for _, t := range page.Entries {
		if !slices.Contains(kinds, t.Kind) {
			return nil, fmt.Errorf("hubhttp: %s answered entry %d of kind %s, not an Article 6 kind", s.Registry, t.Seq, t.Kind)
		}
	}
	return page.Entries, nil
}

// RemoteArticle6 is the networked hub's Article 6 fact sources: every
// node of the trust list now, its Party from the list, read with requests
// signed by the hub's signer; and the function naming the nodes of the list in force
// (hub.Article6Config.Expect), so a node added later makes the facts
// stale instead of being left out.
func RemoteArticle6(signer envelope.Signer, trust func() envelope.TrustList, c *Client) ([]hub.Article6Member, func() []string) {
	var out []hub.Article6Member
	for _, e := range trust().Entries {
		if e.Role != envelope.RoleNode {
			continue
		}
		out = append(out, hub.Article6Member{Code: e.Code, Party: e.Party, Source: &Article6Source{Registry: e.Code, BaseURL: e.Endpoint, Client: c.HTTP, Signer: signer}})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	expect := func() []string {
		var codes []string
		for _, e := range trust().Entries {
			if e.Role == envelope.RoleNode {
				codes = append(codes, e.Code)
			}
		}
		return codes
	}
	return out, expect
}
