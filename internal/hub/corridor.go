package hub

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
)

// Member is a registry node of an embedded corridor.
type Member struct {
	Node *registry.Node
	// HubOrg is the organisation acting for the hub in the node.
	HubOrg int64
	// Suspense is the node's account for imports its acquiring account
	// can no longer take (Endpoint.Suspense); 0 for none.
	Suspense int64
}

// EmbeddedConfig wires a hub and its nodes in one process.
type EmbeddedConfig struct {
	HubDB      *store.DB
	Members    []Member
	Agreements agreements.Set
	Now        func() time.Time
	// Rand is the key source (crypto/rand when nil).
	Rand io.Reader
	// AnswerTimeout, RetryMin, RetryMax: the hub's and endpoints' timers
	// (zero: the defaults).
	AnswerTimeout, RetryMin, RetryMax time.Duration
	// Article6 is the hub's Article 6 ledger (EmbeddedArticle6); nil: none.
	Article6 *Article6
}

// Corridor is a hub and its registry nodes in one process, talking through
// the in-process transport with signed envelopes.
type Corridor struct {
	Hub       *Hub
	Endpoints map[string]*Endpoint
	Transport *Local
	Trust     envelope.TrustList
	cfg       EmbeddedConfig
	hubSigner envelope.Signer
}

// HubCode is the embedded hub's code in the trust list.
const HubCode = "HUB"

// Embedded builds the keys, the trust list, the hub and an endpoint per
// node, and attaches them to one in-process transport.
func Embedded(ctx context.Context, cfg EmbeddedConfig) (*Corridor, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	now := cfg.Now()
	c := &Corridor{Endpoints: map[string]*Endpoint{}, Transport: NewLocal(), cfg: cfg}
	list := envelope.TrustList{Version: 1, IssuedAt: now, Issuer: HubCode}
	entry := func(code string, role envelope.Role, party string) (envelope.Signer, error) {
		kid := strings.ToLower(code) + "-1"
		s, pub, err := envelope.GenerateSigner(code, kid, cfg.Rand)
		if err != nil {
			return s, err
		}
		list.Entries = append(list.Entries, envelope.Entry{Code: code, Role: role, Party: party, Endpoint: "https://corridor.invalid/" + strings.ToLower(code) + "/",
			Keys: []envelope.Key{{KID: kid, Public: ed25519.PublicKey(pub), From: now.Add(-time.Hour), Until: now.Add(365 * 24 * time.Hour)}}})
		return s, nil
	}
	hs, err := entry(HubCode, envelope.RoleHub, "")
	if err != nil {
		return nil, err
	}
	c.hubSigner = hs
	origins := NodeOrigins{}
	signers := map[string]envelope.Signer{}
	for _, m := range cfg.Members {
		code := m.Node.Code()
		party := code
		if len(party) > 2 {
			party = party[:2]
		}
		s, err := entry(code, envelope.RoleNode, party)
		if err != nil {
			return nil, err
		}
		signers[code] = s
		origins[code] = m.Node
	}
	if err := list.Validate(); err != nil {
		return nil, fmt.Errorf("hub: embedded trust list: %w", err)
	}
	c.Trust = list
	trust := func() envelope.TrustList { return c.Trust }
	for _, m := range cfg.Members {
		code := m.Node.Code()
		e, err := NewEndpoint(EndpointConfig{Code: code, Node: m.Node, HubOrg: m.HubOrg, HubCode: HubCode, Signer: signers[code], Transport: c.Transport,
			Trust: trust, Origins: origins, Now: cfg.Now, Suspense: m.Suspense, RetryMin: cfg.RetryMin, RetryMax: cfg.RetryMax})
		if err != nil {
			return nil, err
		}
		c.Endpoints[code] = e
		c.Transport.Attach(code, e)
	}
	if err := c.OpenHub(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// OpenHub (re)opens the hub from its database, as after a restart.
func (c *Corridor) OpenHub(ctx context.Context) error {
	h, err := Open(ctx, Config{Code: HubCode, DB: c.cfg.HubDB, Signer: c.hubSigner, Trust: func() envelope.TrustList { return c.Trust },
		Agreements: c.cfg.Agreements, Transport: c.Transport, Now: c.cfg.Now, AnswerTimeout: c.cfg.AnswerTimeout, RetryMin: c.cfg.RetryMin, RetryMax: c.cfg.RetryMax, Article6: c.cfg.Article6})
	if err != nil {
		return err
	}
	c.Hub = h
	c.Transport.Attach(HubCode, h)
	return nil
}

// Run delivers messages until the corridor is quiet.
func (c *Corridor) Run(ctx context.Context) error {
	_, err := c.Transport.Run(ctx, 100000)
	return err
}

// Tick runs the hub's and every endpoint's timers once (re-sends that are
// due, the hub's timeouts, the relays' view of their journals).
func (c *Corridor) Tick(ctx context.Context) error {
	var errs []error
	if err := c.Hub.Tick(ctx); err != nil {
		errs = append(errs, err)
	}
	codes := make([]string, 0, len(c.Endpoints))
	for code := range c.Endpoints {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		if err := c.Endpoints[code].Tick(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// CheckCorridor checks corridor-wide conservation: for every origin
// issuance, the serials its origin registry shows as exported are in
// exactly one other registry in a state other than exported (held,
// reserved, retired or cancelled there), and no other registry has any
// serial the origin did not export. Every origin registry named by a
// foreign block must be among nodes. It returns every violation found.
func CheckCorridor(nodes ...*registry.Node) []string {
	exported := map[registry.Origin][]span{}
	present := map[registry.Origin][]span{}
	codes := map[string]bool{}
	for _, n := range nodes {
		codes[n.Code()] = true
	}
	var bad []string
	for _, n := range nodes {
		for _, b := range n.OriginBlocks() {
			h := span{b.Start, b.End, n.Code()}
			switch {
			case b.Origin.Registry == n.Code() && b.State == ledger.Exported:
				exported[b.Origin] = append(exported[b.Origin], h)
			case b.Origin.Registry != n.Code() && b.State != ledger.Exported:
				present[b.Origin] = append(present[b.Origin], h)
				if !codes[b.Origin.Registry] {
					bad = append(bad, fmt.Sprintf("%s holds %s/%d %d-%d but its origin registry is not checked", n.Code(), b.Origin.Registry, b.Origin.Issuance, b.Start, b.End))
				}
			}
		}
	}
	keys := map[registry.Origin]bool{}
	for o := range exported {
		keys[o] = true
	}
	for o := range present {
		keys[o] = true
	}
	sorted := make([]registry.Origin, 0, len(keys))
	for o := range keys {
		sorted = append(sorted, o)
	}
	sort.Slice(sorted, func(i, j int) bool {
		return sorted[i].Registry < sorted[j].Registry || sorted[i].Registry == sorted[j].Registry && sorted[i].Issuance < sorted[j].Issuance
	})
	for _, o := range sorted {
		if !codes[o.Registry] {
			continue
		}
		ps := slices.Clone(present[o])
		sort.Slice(ps, func(i, j int) bool { return ps[i].start < ps[j].start })
		for i := 1; i < len(ps); i++ {
			if ps[i].start <= ps[i-1].end {
				bad = append(bad, fmt.Sprintf("%s/%d serials %d-%d are in both %s and %s", o.Registry, o.Issuance, ps[i].start, min(ps[i].end, ps[i-1].end), ps[i-1].registry, ps[i].registry))
			}
		}
		if want, got := cover(exported[o]), cover(ps); !slices.Equal(want, got) {
			bad = append(bad, fmt.Sprintf("%s/%d: the origin shows %v exported, the other registries hold %v", o.Registry, o.Issuance, want, got))
		}
	}
	return bad
}

// cover merges ranges into sorted disjoint [start, end] pairs.
func cover(rs []span) [][2]int64 {
	xs := slices.Clone(rs)
	sort.Slice(xs, func(i, j int) bool { return xs[i].start < xs[j].start })
	var out [][2]int64
	for _, x := range xs {
		if n := len(out); n > 0 && x.start <= out[n-1][1]+1 {
			out[n-1][1] = max(out[n-1][1], x.end)
			continue
		}
		out = append(out, [2]int64{x.start, x.end})
	}
	return out
}
