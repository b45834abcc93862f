package hub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
)

// Reconciliation (issue 9, scope 5), after the Kyoto ITL and the UK ETS
// transaction log (domain: article6.md, reconciliation): the log compares,
// at a snapshot, the totals each registry reports with its own records,
// then the unit blocks where they differ, then the audit trail, and the
// units in a discrepancy are blocked until the registry corrects it.
//
// Here the snapshot is one committed state of the node (registry.Snapshot)
// and the node's signed journal head, checked with the node's published key
// and recorded by the hub: a head below one recorded before is a finding
// (the node's journal was cut). The hub's records are its copy of where
// each block of an origin issuance is (Placements). For every origin
// issuance the node has blocks of, or the hub's copy places anywhere:
//
//   - of another registry's issuance, the serials present at the node
//     (held, reserved, retired or cancelled) must be those the hub places
//     there;
//   - of the node's own issuance, the serials exported must be those the
//     hub places abroad.
//
// Totals (units per origin issuance and state) come first, as in the ITL;
// the blocks are then compared for every issuance, not only those whose
// totals differ: a node holding serials 101-200 instead of 1-100 has the
// right totals and the wrong units, and the comparison costs no more than
// the totals did. Serials of transfers in flight (not final at the hub, or
// completed less than Grace ago, so the acquirer may not have imported
// them yet) are left out on both sides. Each discrepancy is a finding with
// a stable code, recorded append-only in the hub's database (table
// hub_reconciliations), and its serials are frozen at the node (registry
// kind freeze) unless a freeze there covers them already.

// Reconciliation finding codes.
const (
	// CodeReconcileMissing: the hub places serials at the node that the
	// node does not have (its own: shows exported; another's: absent).
	CodeReconcileMissing = "reconcile_missing"
	// CodeReconcileUnexpected: the node has serials the hub places
	// elsewhere (its own: present though abroad; another's: present).
	CodeReconcileUnexpected = "reconcile_unexpected"
	// CodeReconcileHeadRegressed: the node's signed head is below (or
	// differs at) a head the hub recorded from it before.
	CodeReconcileHeadRegressed = "reconcile_head_regressed"
	// CodeReconcileHeadInvalid: the head does not verify with the node's
	// published key, or names another registry, or the snapshot is below it.
	CodeReconcileHeadInvalid = "reconcile_head_invalid"
	// CodeReconcileKeyChanged: the node signs with another key than the
	// one the hub recorded.
	CodeReconcileKeyChanged = "reconcile_key_changed"
	// CodeReconcileUnreachable: the node's snapshot or head could not be read.
	CodeReconcileUnreachable = "reconcile_unreachable"
	// CodeReconcileFreezeFailed: the node refused the freeze.
	CodeReconcileFreezeFailed = "reconcile_freeze_failed"
)

// DefaultReconcileGrace is how long after its completion at the hub a
// transfer's serials count as in flight (the acquirer imports them when
// the hub's notice reaches it). It is the protocol's, not a regulatory
// figure: longer than a delivery with retries, short enough that a lost
// import is found on the next scheduled run.
const DefaultReconcileGrace = 2 * time.Minute

// Placement is where the hub's copy places a serial range of an origin
// issuance that is not in its origin registry.
type Placement struct {
	Origin   registry.Origin `json:"origin"`
	Start    int64           `json:"start"`
	End      int64           `json:"end"`
	Registry string          `json:"registry"`
}

// Placements is the hub's copy of where blocks are: every serial range of
// an origin issuance that a completed transfer moved out of its origin
// registry and not back, by origin and serial. Serials not listed are in
// their origin registry.
func (h *Hub) Placements() []Placement {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.placements()
}

func (h *Hub) placements() []Placement {
	m := map[registry.Origin][]span{}
	for _, t := range h.completed() {
		for _, b := range t.Proposal.Blocks {
			o, err := blockOrigin(b)
			if err != nil {
				continue
			}
			var next []span
			for _, s := range m[o] {
				if b.End < s.start || b.Start > s.end {
					next = append(next, s)
					continue
				}
				if s.start < b.Start {
					next = append(next, span{s.start, b.Start - 1, s.registry})
				}
				if s.end > b.End {
					next = append(next, span{b.End + 1, s.end, s.registry})
				}
			}
			if t.Proposal.ToRegistry != o.Registry {
				next = append(next, span{b.Start, b.End, t.Proposal.ToRegistry})
			}
			m[o] = next
		}
	}
	var out []Placement
	for o, ss := range m {
		for _, s := range ss {
			out = append(out, Placement{Origin: o, Start: s.start, End: s.end, Registry: s.registry})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Origin != b.Origin {
			return originLess(a.Origin, b.Origin)
		}
		return a.Start < b.Start
	})
	return out
}

func blockOrigin(b protocol.Block) (registry.Origin, error) {
	id, err := strconv.ParseInt(b.IssuanceID, 10, 64)
	if err != nil {
		return registry.Origin{}, fmt.Errorf("hub: issuance id %q: %w", b.IssuanceID, err)
	}
	return registry.Origin{Registry: b.OriginRegistry, Issuance: id}, nil
}

func originLess(a, b registry.Origin) bool {
	return a.Registry < b.Registry || a.Registry == b.Registry && a.Issuance < b.Issuance
}

// inFlight lists the serial ranges of transfers that are not final, or
// completed after cutoff.
func (h *Hub) inFlight(cutoff time.Time) map[registry.Origin][][2]int64 {
	out := map[registry.Origin][][2]int64{}
	for _, t := range h.xfers {
		switch {
		case t.Status == protocol.StatusCompleted && !t.Updated().After(cutoff):
			continue
		case t.Status.Final() && t.Status != protocol.StatusCompleted:
			continue
		}
		for _, b := range t.Proposal.Blocks {
			if o, err := blockOrigin(b); err == nil {
				out[o] = append(out[o], [2]int64{b.Start, b.End})
			}
		}
	}
	return out
}

// NodeView is what the hub reads of, and asks of, a node to reconcile:
// in process the node itself (LocalNode), over the network its API
// (HTTPNode).
type NodeView interface {
	Code() string
	// Snapshot is the node's blocks by origin issuance at one journal
	// position (GET …/snapshot).
	Snapshot(ctx context.Context) (registry.Snapshot, error)
	// Head is the node's signed journal head (GET …/head).
	Head(ctx context.Context) (ledger.SignedHead, error)
	// Key is the node's published head-signing key (GET …/key).
	Key(ctx context.Context) (registry.PublicKey, error)
	// Freeze records a freeze at the node as the hub; key is its
	// idempotency key. It returns the freeze's journal sequence number.
	Freeze(ctx context.Context, key string, f registry.Freeze) (int64, error)
}

// LocalNode is a node in this process, acting for the hub as HubOrg.
type LocalNode struct {
	Node   *registry.Node
	HubOrg int64
}

func (l LocalNode) Code() string { return l.Node.Code() }

func (l LocalNode) actor() registry.Actor {
	return registry.Actor{OrgID: l.HubOrg, Role: registry.RoleHub}
}

func (l LocalNode) Snapshot(context.Context) (registry.Snapshot, error) {
	return l.Node.Snapshot(l.actor())
}

func (l LocalNode) Head(ctx context.Context) (ledger.SignedHead, error) {
	return l.Node.PublishHead(ctx)
}

func (l LocalNode) Key(context.Context) (registry.PublicKey, error) { return l.Node.PublicKey(), nil }

func (l LocalNode) Freeze(ctx context.Context, key string, f registry.Freeze) (int64, error) {
	res, err := l.Node.Do(ctx, l.actor(), key, f)
	return res.Seq, err
}

// headKeeper is a node view that can keep the hub's record of its head
// directly (a node open in this process), for a hub with no transport.
type headKeeper interface {
	KeepHubHead(ctx context.Context, rec string, head ledger.SignedHead) error
}

// KeepHubHead records at the node the head reconciliation rec recorded, as
// the head_seen message would; the message column says it came from an
// offline run (no hub envelope).
func (l LocalNode) KeepHubHead(ctx context.Context, rec string, head ledger.SignedHead) error {
	return l.Node.RecordHubHead(ctx, head, rec, "offline reconciliation "+rec+" (corridor hub reconcile on the storage; no hub envelope)")
}

// Totals is one origin issuance's figures at a node in a reconciliation.
type Totals struct {
	Origin registry.Origin `json:"origin"`
	// ByState counts the node's units of the issuance by state (of another
	// registry's issuance, only the states present there).
	ByState map[ledger.State]int64 `json:"by_state"`
	// Node and Hub are the figure compared, out of the serials not in
	// flight: of another registry's issuance the units present at the
	// node, of its own the units exported; Node as the node reports it,
	// Hub as the hub's copy has it.
	Node int64 `json:"node"`
	Hub  int64 `json:"hub"`
	// InFlight is the units of the issuance left out as in flight.
	InFlight int64 `json:"in_flight,omitempty"`
}

// ReconFinding is one discrepancy.
type ReconFinding struct {
	Code   string           `json:"code"`
	Origin *registry.Origin `json:"origin,omitempty"`
	Start  int64            `json:"start,omitempty"`
	End    int64            `json:"end,omitempty"`
	Detail string           `json:"detail"`
	// Freeze is the sequence number of the freeze at the node covering
	// the serials (0 when not frozen, or when the freeze was sent as a
	// message: the next reconciliation records its number).
	Freeze int64 `json:"freeze,omitempty"`
}

// Reconciliation is the hub's record of one reconciliation with one node.
type Reconciliation struct {
	ID       string    `json:"id"`
	Registry string    `json:"registry"`
	At       time.Time `json:"at"`
	// Head is the node's signed head; SnapshotSeq the journal position of
	// the blocks compared (not below Head.Seq).
	Head        ledger.SignedHead `json:"head"`
	SnapshotSeq int64             `json:"snapshot_seq"`
	Totals      []Totals          `json:"totals"`
	Findings    []ReconFinding    `json:"findings"`
}

// Clean reports whether the reconciliation found nothing.
func (r Reconciliation) Clean() bool { return len(r.Findings) == 0 }

// ReconcileOptions tune a reconciliation.
type ReconcileOptions struct {
	// Grace: see DefaultReconcileGrace (used when 0; negative: none).
	Grace time.Duration
	// NoFreeze records the findings without freezing (a dry run).
	NoFreeze bool
}

// reconcileMu serialises reconciliations in this process (one serving
// process per database: that is all of them).
var reconcileMu sync.Mutex

// Reconcile reconciles the hub with each node in turn and records the
// results. A node that cannot be read gives a finding, not an error; the
// error is the hub's own database failing.
func (h *Hub) Reconcile(ctx context.Context, nodes []NodeView, opt ReconcileOptions) ([]Reconciliation, error) {
	reconcileMu.Lock()
	defer reconcileMu.Unlock()
	grace := opt.Grace
	if grace == 0 {
		grace = DefaultReconcileGrace
	}
	var out []Reconciliation
	for _, n := range nodes {
		r, err := h.reconcileOne(ctx, n, grace, opt)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (h *Hub) reconcileOne(ctx context.Context, n NodeView, grace time.Duration, opt ReconcileOptions) (Reconciliation, error) {
	code := n.Code()
	prev, err := reconciliations(ctx, h.cfg.DB, code)
	if err != nil {
		return Reconciliation{}, err
	}
	seq, err := nextReconciliation(ctx, h.cfg.DB)
	if err != nil {
		return Reconciliation{}, err
	}
	now := h.cfg.Now().UTC()
	r := Reconciliation{ID: "REC-" + strconv.FormatInt(seq, 10), Registry: code, At: now, Totals: []Totals{}, Findings: []ReconFinding{}}
	add := func(f ReconFinding) { r.Findings = append(r.Findings, f) }

	// The hub's copy, taken before the node's snapshot: a transfer that
	// completes in between is in flight (Grace) on both sides.
	h.mu.Lock()
	places := h.placements()
	flying := h.inFlight(now.Add(-grace))
	h.mu.Unlock()

	head, herr := n.Head(ctx)
	key, kerr := n.Key(ctx)
	snap, serr := n.Snapshot(ctx)
	if err := errors.Join(herr, kerr, serr); err != nil {
		add(ReconFinding{Code: CodeReconcileUnreachable, Detail: fmt.Sprintf("reading %s: %v", code, err)})
		return r, h.recordReconciliation(ctx, seq, r)
	}
	r.Head, r.SnapshotSeq = head, snap.Seq
	h.checkHead(code, head, key, snap, prev, add)

	headOK := !slices.ContainsFunc(r.Findings, func(f ReconFinding) bool { return f.Code == CodeReconcileHeadInvalid })
	r.Totals = compare(code, snap, places, flying, add)
	if !opt.NoFreeze {
		freezeFindings(ctx, n, r.ID, snap, r.Findings, add)
	}
	if len(r.Findings) > 0 {
		h.log().Warn("hub: reconciliation found discrepancies", "registry", code, "reconciliation", r.ID, "findings", len(r.Findings))
	}
	if err := h.recordReconciliation(ctx, seq, r); err != nil {
		return r, err
	}
	if k, ok := n.(headKeeper); ok && headOK && head.Seq > 0 && (h.cfg.Transport == nil || h.cfg.Signer.Key == nil) {
		// Offline (corridor hub reconcile on the stopped storage): no
		// transport, but the node is open here; it keeps the head at once.
		if err := k.KeepHubHead(ctx, r.ID, head); err != nil {
			h.log().Warn("hub: the node keeping the head recorded", "registry", code, "reconciliation", r.ID, "err", err)
		}
		return r, nil
	}
	if headOK && head.Seq > 0 {
		// Recorded: the node now keeps the hub's view of its head too. Sent
		// now and again on Tick until the node answers head_kept.
		h.mu.Lock()
		h.pendHead(code, r.ID, head, now)
		h.mu.Unlock()
		if err := h.SendHeadSeen(ctx, code, r.ID, head); err != nil {
			h.log().Warn("hub: telling the node the head recorded (re-sent on Tick)", "registry", code, "reconciliation", r.ID, "err", err)
		}
	}
	return r, nil
}

// pendingHead is a head_seen the node has not answered yet.
type pendingHead struct {
	rec   string
	head  ledger.SignedHead
	retry retry
}

// pendHead schedules the re-sends of head_seen rec to code (h.mu held):
// the first send is the caller's, at now.
func (h *Hub) pendHead(code, rec string, head ledger.SignedHead, now time.Time) {
	if h.heads == nil {
		h.heads = map[string]*pendingHead{}
	}
	h.heads[code] = &pendingHead{rec: rec, head: head, retry: retry{attempt: 1, next: now.Add(h.cfg.RetryMin)}}
}

// loadPendingHeads derives, at Open, the head_seen owed to each registry
// from its latest reconciliation that recorded a valid head: it is sent
// again on the first Tick (the node keeps a head once, so a head it had
// already kept costs one message and its answer).
func (h *Hub) loadPendingHeads(ctx context.Context) error {
	rs, err := reconciliations(ctx, h.cfg.DB, "")
	if err != nil {
		return err
	}
	h.heads = map[string]*pendingHead{}
	for _, r := range rs {
		invalid := slices.ContainsFunc(r.Findings, func(f ReconFinding) bool { return f.Code == CodeReconcileHeadInvalid })
		if r.Head.KID == "" || r.Head.Seq == 0 || invalid {
			continue
		}
		h.heads[r.Registry] = &pendingHead{rec: r.ID, head: r.Head}
	}
	return nil
}

// headsDue appends the head_seen messages whose re-send is due (h.mu
// held), with the backoff of the hub's other re-sends.
func (h *Hub) headsDue(out []outMsg, now time.Time) []outMsg {
	if h.cfg.Transport == nil || h.cfg.Signer.Key == nil {
		return out
	}
	codes := make([]string, 0, len(h.heads))
	for code := range h.heads {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		p := h.heads[code]
		if now.Before(p.retry.next) {
			continue
		}
		p.retry.attempt++
		p.retry.next = now.Add(backoff(p.retry.attempt, h.cfg.RetryMin, h.cfg.RetryMax))
		out = append(out, h.headSeenMessage(code, p.rec, p.head))
	}
	return out
}

// headKept ends the re-sends of head_seen when the node answers the
// latest one (an answer to an older head_seen ends nothing).
func (h *Hub) headKept(from string, k protocol.HeadKept) {
	if p := h.heads[from]; p != nil && p.rec == k.Reconciliation {
		delete(h.heads, from)
	}
}

// PendingHeads lists, by registry, the reconciliation whose head_seen the
// node has not answered yet.
func (h *Hub) PendingHeads() map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]string{}
	for code, p := range h.heads {
		out[code] = p.rec
	}
	return out
}

func (h *Hub) headSeenMessage(code, rec string, head ledger.SignedHead) outMsg {
	body, _ := json.Marshal(protocol.HeadSeen{Reconciliation: rec, Head: head})
	return outMsg{Header: envelope.Header{ID: "head_seen:" + rec, From: h.cfg.Code, To: code, TransactionID: rec}, Type: "head_seen", Payload: body}
}

// SendHeadSeen tells registry code, through the hub's transport, that
// reconciliation rec recorded head (protocol message head_seen); the node
// keeps it as a head its journal must reach (registry.Node.RecordHubHead).
// A hub without a transport (LoadRecords) sends nothing.
func (h *Hub) SendHeadSeen(ctx context.Context, code, rec string, head ledger.SignedHead) error {
	if h.cfg.Transport == nil || h.cfg.Signer.Key == nil {
		return nil
	}
	return h.transmit(ctx, h.headSeenMessage(code, rec, head))
}

func (h *Hub) checkHead(code string, head ledger.SignedHead, key registry.PublicKey, snap registry.Snapshot, prev []Reconciliation, add func(ReconFinding)) {
	pub, err := key.Ed25519()
	if err == nil {
		err = head.Verify(pub)
	}
	switch {
	case err != nil:
		add(ReconFinding{Code: CodeReconcileHeadInvalid, Detail: fmt.Sprintf("%s's head %d does not verify with its published key %s: %v", code, head.Seq, key.KID, err)})
	case head.Registry != code:
		add(ReconFinding{Code: CodeReconcileHeadInvalid, Detail: fmt.Sprintf("%s answered the head of registry %q", code, head.Registry)})
	case snap.Seq < head.Seq:
		add(ReconFinding{Code: CodeReconcileHeadInvalid, Detail: fmt.Sprintf("%s's snapshot is at entry %d, below the head %d it signed", code, snap.Seq, head.Seq)})
	}
	// The head recorded by the latest reconciliation that read one: the
	// hub's view of the node's journal. A regression is reported (and
	// recorded) once; the shorter journal's head is then the view the next
	// reconciliation compares with, as the regrown journal differs from
	// the cut one at every entry past the cut and would be reported for
	// good otherwise.
	var best ledger.SignedHead
	for _, p := range slices.Backward(prev) {
		if p.Head.KID != "" {
			best = p.Head
			break
		}
	}
	if best.KID != "" && key.KID != best.KID {
		add(ReconFinding{Code: CodeReconcileKeyChanged, Detail: fmt.Sprintf("%s signs with key %s; the hub recorded heads signed with %s", code, key.KID, best.KID)})
	}
	switch {
	case head.Seq < best.Seq:
		add(ReconFinding{Code: CodeReconcileHeadRegressed, Detail: fmt.Sprintf("%s's journal head is %d, below head %d:%s it signed at %s", code, head.Seq, best.Seq, best.Hash, best.At.Format(time.RFC3339))})
	case head.Seq == best.Seq && best.Seq > 0 && head.Hash != best.Hash:
		add(ReconFinding{Code: CodeReconcileHeadRegressed, Detail: fmt.Sprintf("%s's journal entry %d has hash %s; the head it signed at %s has %s", code, head.Seq, head.Hash, best.At.Format(time.RFC3339), best.Hash)})
	}
}

// compare computes the totals and the block findings of a snapshot
// against the hub's copy.
func compare(code string, snap registry.Snapshot, places []Placement, flying map[registry.Origin][][2]int64, add func(ReconFinding)) []Totals {
	type side struct {
		byState   map[ledger.State]int64
		node, hub []span
		own       bool
	}
	sides := map[registry.Origin]*side{}
	get := func(o registry.Origin) *side {
		s := sides[o]
		if s == nil {
			s = &side{byState: map[ledger.State]int64{}, own: o.Registry == code}
			sides[o] = s
		}
		return s
	}
	for _, b := range snap.Blocks {
		own := b.Origin.Registry == code
		if !own && b.State == ledger.Exported {
			continue // "not in this registry" (crossborder.go)
		}
		s := get(b.Origin)
		s.byState[b.State] += b.End - b.Start + 1
		if own && b.State == ledger.Exported || !own {
			s.node = append(s.node, span{b.Start, b.End, code})
		}
	}
	for _, p := range places {
		own := p.Origin.Registry == code
		if own || p.Registry == code {
			s := get(p.Origin)
			s.hub = append(s.hub, span{p.Start, p.End, p.Registry})
		}
	}
	origins := make([]registry.Origin, 0, len(sides))
	for o := range sides {
		origins = append(origins, o)
	}
	sort.Slice(origins, func(i, j int) bool { return originLess(origins[i], origins[j]) })
	var out []Totals
	for _, o := range origins {
		s := sides[o]
		fl := cover(spansOf(flying[o]))
		node, hub := minus(cover(s.node), fl), minus(cover(s.hub), fl)
		t := Totals{Origin: o, ByState: s.byState, Node: count(node), Hub: count(hub), InFlight: count(fl)}
		out = append(out, t)
		oo := o
		// Of its own issuance the node lists what is NOT here (exported);
		// of another's, what is here: missing and unexpected swap.
		here, want := node, hub
		if s.own {
			here, want = hub, node
		}
		for _, g := range minus(want, here) {
			add(ReconFinding{Code: CodeReconcileMissing, Origin: &oo, Start: g[0], End: g[1],
				Detail: fmt.Sprintf("the hub places %s/%d %d-%d in %s; %s does not have them", o.Registry, o.Issuance, g[0], g[1], code, code)})
		}
		for _, g := range minus(here, want) {
			where := placedAt(places, o, g)
			if where == "" {
				where = o.Registry // serials no transfer moved are at their origin
			}
			add(ReconFinding{Code: CodeReconcileUnexpected, Origin: &oo, Start: g[0], End: g[1],
				Detail: fmt.Sprintf("%s has %s/%d %d-%d; the hub places them in %s", code, o.Registry, o.Issuance, g[0], g[1], where)})
		}
	}
	return out
}

// placedAt names the registries the hub's copy places any part of g of
// origin o in, other than its origin.
func placedAt(places []Placement, o registry.Origin, g [2]int64) string {
	var names []string
	for _, p := range places {
		if p.Origin == o && p.Start <= g[1] && g[0] <= p.End && !slices.Contains(names, p.Registry) {
			names = append(names, p.Registry)
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	out := names[0]
	for _, n := range names[1:] {
		out += ", " + n
	}
	return out
}

func spansOf(rs [][2]int64) []span {
	out := make([]span, len(rs))
	for i, r := range rs {
		out[i] = span{start: r[0], end: r[1]}
	}
	return out
}

// minus returns a without b (both sorted disjoint ranges).
func minus(a, b [][2]int64) [][2]int64 {
	var out [][2]int64
	for _, r := range a {
		at := r[0]
		for _, x := range b {
			if x[1] < at || x[0] > r[1] {
				continue
			}
			if x[0] > at {
				out = append(out, [2]int64{at, x[0] - 1})
			}
			at = max(at, x[1]+1)
		}
		if at <= r[1] {
			out = append(out, [2]int64{at, r[1]})
		}
	}
	return out
}

func count(rs [][2]int64) int64 {
	var n int64
	for _, r := range rs {
		n += r[1] - r[0] + 1
	}
	return n
}

// freezeFindings freezes at the node the serials of the block findings
// that no active freeze there covers, and notes the freeze in each.
func freezeFindings(ctx context.Context, n NodeView, id string, snap registry.Snapshot, fs []ReconFinding, add func(ReconFinding)) {
	covered := func(f ReconFinding) int64 {
		for _, z := range snap.Frozen {
			for _, b := range z.Blocks {
				if b.Origin == *f.Origin && b.Start <= f.Start && f.End <= b.End {
					return z.Seq
				}
			}
		}
		return 0
	}
	var todo []int
	for i := range fs {
		if fs[i].Origin == nil {
			continue
		}
		if seq := covered(fs[i]); seq != 0 {
			fs[i].Freeze = seq
			continue
		}
		todo = append(todo, i)
	}
	for part := 0; len(todo) > 0; part++ {
		chunk := todo[:min(len(todo), 1000)]
		todo = todo[len(chunk):]
		fr := registry.Freeze{Code: fs[chunk[0]].Code, Reconciliation: id, Reason: "hub reconciliation " + id + " found the registry's blocks differ from the hub's records"}
		for _, i := range chunk {
			fr.Blocks = append(fr.Blocks, registry.FreezeBlock{Origin: *fs[i].Origin, Start: fs[i].Start, End: fs[i].End})
			if fs[i].Code != fr.Code {
				fr.Code = "reconcile_discrepancy"
			}
		}
		seq, err := n.Freeze(ctx, "hub:reconcile:"+id+":"+strconv.Itoa(part), fr)
		if err != nil {
			add(ReconFinding{Code: CodeReconcileFreezeFailed, Detail: fmt.Sprintf("%s refused the freeze: %v", n.Code(), err)})
			continue
		}
		for _, i := range chunk {
			fs[i].Freeze = seq
		}
	}
}

func nextReconciliation(ctx context.Context, db *store.DB) (int64, error) {
	head, err := db.Log(store.HubReconciliations).Head(ctx)
	if err != nil {
		return 0, fmt.Errorf("hub: reading reconciliations: %w", err)
	}
	return head + 1, nil
}

func (h *Hub) recordReconciliation(ctx context.Context, seq int64, r Reconciliation) error {
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("hub: encoding reconciliation: %w", err)
	}
	if err := h.cfg.DB.Log(store.HubReconciliations).Append(ctx, store.LogRecord{Seq: seq, Key: r.Registry, Body: string(body)}); err != nil {
		return fmt.Errorf("hub: recording reconciliation %s: %w", r.ID, err)
	}
	return nil
}

// reconciliations reads the recorded reconciliations, oldest first (of
// one registry unless code is "").
// The table is made by the store's migrations (creating it at the hub's
// Open raced with a concurrent reader on PostgreSQL: two CREATE TABLE IF
// NOT EXISTS collide on the catalogue).
func reconciliations(ctx context.Context, db *store.DB, code string) ([]Reconciliation, error) {
	return readReconciliations(ctx, db, code)
}

func readReconciliations(ctx context.Context, db *store.DB, code string) ([]Reconciliation, error) {
	var out []Reconciliation
	take := func(rec store.LogRecord) error {
		var r Reconciliation
		if err := json.Unmarshal([]byte(rec.Body), &r); err != nil {
			return fmt.Errorf("hub: reconciliation record: %w", err)
		}
		out = append(out, r)
		return nil
	}
	l := db.Log(store.HubReconciliations)
	var err error
	if code == "" {
		err = l.ReadFrom(ctx, 0, take)
	} else {
		err = l.ReadKey(ctx, code, take)
	}
	if err != nil {
		return nil, fmt.Errorf("hub: reading reconciliations: %w", err)
	}
	return out, nil
}

// Reconciliations lists every recorded reconciliation, oldest first.
func (h *Hub) Reconciliations(ctx context.Context) ([]Reconciliation, error) {
	return reconciliations(ctx, h.cfg.DB, "")
}

// LatestReconciliations is the latest reconciliation of each registry, by
// registry code (the corridor page's per-node results).
func (h *Hub) LatestReconciliations(ctx context.Context) ([]Reconciliation, error) {
	all, err := h.Reconciliations(ctx)
	if err != nil {
		return nil, err
	}
	latest := map[string]Reconciliation{}
	for _, r := range all {
		latest[r.Registry] = r
	}
	out := make([]Reconciliation, 0, len(latest))
	for _, r := range latest {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Registry < out[j].Registry })
	return out, nil
}

// Redeliver sends again every message the hub sent registry code about
// transfer tx: the correcting path for a node that lost their effect (an
// import lost with a cut journal). The receiver acts on them once.
func (h *Hub) Redeliver(ctx context.Context, tx, code string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.xfers[tx] == nil {
		return fmt.Errorf("%w: %q", ErrNoTransfer, tx)
	}
	for _, o := range h.out[tx] {
		if o.Header.To == code {
			if err := h.transmit(ctx, o); err != nil {
				return err
			}
		}
	}
	return nil
}

func (h *Hub) log() *slog.Logger { return slog.Default() }

// Nodes is the corridor's nodes as the reconciliation reads them, by code.
func (c *Corridor) Nodes() []NodeView {
	codes := make([]string, 0, len(c.Endpoints))
	for code := range c.Endpoints {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	out := make([]NodeView, 0, len(codes))
	for _, code := range codes {
		e := c.Endpoints[code]
		out = append(out, LocalNode{Node: e.Node, HubOrg: e.HubOrg})
	}
	return out
}

// Reconcile reconciles the hub with every node of the corridor.
func (c *Corridor) Reconcile(ctx context.Context, opt ReconcileOptions) ([]Reconciliation, error) {
	return c.Hub.Reconcile(ctx, c.Nodes(), opt)
}

// StartReconciler reconciles every interval until ctx ends. It returns at
// once.
func (c *Corridor) StartReconciler(ctx context.Context, every time.Duration) {
	reconcile := func(ctx context.Context) error {
		_, err := c.Reconcile(ctx, ReconcileOptions{})
		return err
	}
	go Every(ctx, every, reconcile, func(err error) { c.log().Warn("hub: reconciling", "err", err) })
}

// LoadRecords reads the hub's records from its database without opening
// the hub: no message is sent and nothing is written (db may be opened
// read-only). Reconcile and CheckSnapshot work on the result; it takes no
// messages.
func LoadRecords(ctx context.Context, db *store.DB, now func() time.Time) (*Hub, error) {
	if now == nil {
		now = time.Now
	}
	h := &Hub{cfg: Config{Code: HubCode, DB: db, Now: now}, xfers: map[string]*Transfer{}, seen: map[[2]string]envelope.Hash{}, progress: map[[2]string]uint64{}, out: map[string][]outMsg{}}
	if err := h.catchUp(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

// CheckSnapshot compares a node's snapshot with the hub's copy, as
// Reconcile does, and returns the totals and the block findings without
// recording or freezing anything (verify --corridor).
func (h *Hub) CheckSnapshot(snap registry.Snapshot, grace time.Duration) ([]Totals, []ReconFinding) {
	if grace == 0 {
		grace = DefaultReconcileGrace
	}
	h.mu.Lock()
	places := h.placements()
	flying := h.inFlight(h.cfg.Now().UTC().Add(-grace))
	h.mu.Unlock()
	var fs []ReconFinding
	ts := compare(snap.Registry, snap, places, flying, func(f ReconFinding) { fs = append(fs, f) })
	return ts, fs
}

// RecordedHeads is, per registry, the head the hub recorded in its latest
// reconciliation that read one; none when the hub never reconciled. It
// only reads.
func RecordedHeads(ctx context.Context, db *store.DB) (map[string]ledger.SignedHead, error) {
	rs, err := readReconciliations(ctx, db, "")
	if err != nil {
		return nil, err
	}
	out := map[string]ledger.SignedHead{}
	for _, r := range rs {
		if r.Head.KID != "" {
			out[r.Registry] = r.Head
		}
	}
	return out, nil
}

// HTTPNode reads a node over HTTP for the reconciliation of a networked
// hub: the snapshot with a request signed by the hub (GET
// /hub/v1/snapshot, see SignSnapshotRequest; with an API token when Hub
// is not set), the head and key from the API (GET …/head, …/key).
// A freeze is a hub-only kind with no API endpoint: it travels as
// the hub protocol's freeze message through Hub's transport, and the
// node's Endpoint records it. Without Hub, Freeze answers ErrFreezeRemote
// and the reconciliation reports reconcile_freeze_failed.
type HTTPNode struct {
	Registry string
	// BaseURL is the node's API root (https://th.example/), without
	// /api/v1.
	BaseURL string
	// Token is an auditor's (or administrator's) API token of the node.
	Token  string
	Client *http.Client
	// Hub sends the freeze message (its signer and transport).
	Hub *Hub
}

// ErrFreezeRemote: the HTTPNode has no hub to send the freeze message.
var ErrFreezeRemote = errors.New("hub: freezing a remote node needs the hub's transport (HTTPNode.Hub not set)")

func (n HTTPNode) Code() string { return n.Registry }

func (n HTTPNode) get(ctx context.Context, path string, auth bool, v any) error {
	u := strings.TrimSuffix(n.BaseURL, "/") + "/api/v1/registries/" + url.PathEscape(n.Registry) + path
	return n.do(ctx, u, func(r *http.Request) {
		if auth && n.Token != "" {
			r.Header.Set("Authorization", "Bearer "+n.Token)
		}
	}, v)
}

func (n HTTPNode) do(ctx context.Context, u string, prep func(*http.Request), v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("hub: reading %s: %w", u, err)
	}
	prep(req)
	c := n.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("hub: reading %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("hub: reading %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("hub: reading %s: %s: %.300s", u, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("hub: reading %s: %w", u, err)
	}
	return nil
}

// Snapshot reads the node's snapshot: with Token, the API's GET
// …/snapshot as that auditor; otherwise, with Hub set (a networked hub),
// GET <BaseURL>/hub/v1/snapshot with a snapshot request signed by the
// hub's key (SignSnapshotRequest), so the hub needs no token of the node.
func (n HTTPNode) Snapshot(ctx context.Context) (registry.Snapshot, error) {
	var s registry.Snapshot
	if n.Token != "" || n.Hub == nil || n.Hub.cfg.Signer.Key == nil {
		err := n.get(ctx, "/snapshot", true, &s)
		return s, err
	}
	req, err := n.Hub.SignSnapshotRequest(n.Registry)
	if err != nil {
		return s, err
	}
	u := strings.TrimSuffix(n.BaseURL, "/") + "/" + SnapshotPath
	err = n.do(ctx, u, func(r *http.Request) { r.Header.Set("Authorization", SnapshotAuthScheme+" "+req) }, &s)
	return s, err
}

func (n HTTPNode) Head(ctx context.Context) (ledger.SignedHead, error) {
	var h ledger.SignedHead
	err := n.get(ctx, "/head", false, &h)
	return h, err
}

func (n HTTPNode) Key(ctx context.Context) (registry.PublicKey, error) {
	var k registry.PublicKey
	err := n.get(ctx, "/key", false, &k)
	return k, err
}

// Freeze sends the freeze as a protocol message. Delivery is
// asynchronous, so it answers 0: the freeze's sequence number at the node
// is recorded by the next reconciliation, which finds the discrepancy
// again, covered by the freeze in the node's snapshot.
func (n HTTPNode) Freeze(ctx context.Context, key string, f registry.Freeze) (int64, error) {
	if n.Hub == nil {
		return 0, ErrFreezeRemote
	}
	return 0, n.Hub.SendFreeze(ctx, n.Registry, strings.TrimPrefix(key, "hub:"), f)
}

// SendFreeze asks registry code, through the hub's transport, to freeze
// f (protocol message freeze). id is the message's id, which the node's
// Endpoint uses (as "hub:"+id) as the freeze's idempotency key: the same
// id sent again has one effect.
func (h *Hub) SendFreeze(ctx context.Context, code, id string, f registry.Freeze) error {
	p := protocol.Freeze{Reconciliation: f.Reconciliation, Code: f.Code, Reason: f.Reason, Blocks: make([]protocol.FreezeRange, 0, len(f.Blocks))}
	for _, b := range f.Blocks {
		p.Blocks = append(p.Blocks, protocol.FreezeRange{OriginRegistry: b.Origin.Registry, IssuanceID: strconv.FormatInt(b.Origin.Issuance, 10), Start: b.Start, End: b.End})
	}
	hd := envelope.Header{ID: id, From: h.cfg.Code, To: code, TransactionID: f.Reconciliation, SentAt: h.cfg.Now().UTC()}
	c, err := protocol.Seal(h.cfg.Signer, hd, p)
	if err != nil {
		return fmt.Errorf("hub: sealing freeze %s for %s: %w", id, code, err)
	}
	if err := h.cfg.Transport.Send(ctx, code, c); err != nil {
		return fmt.Errorf("hub: sending freeze %s to %s: %w", id, code, err)
	}
	return nil
}

// The snapshot request (docs/linking.md, "How the hub reads a node"): a
// networked hub reads a node's snapshot with GET <endpoint>/hub/v1/snapshot
// and, in its Authorization header, an envelope of type snapshot_request
// signed by the hub's key: addressed to the node (to), with a fresh random
// id and sent_at. The node verifies it against the hub key of the trust list
// it pinned (package hubhttp, SnapshotHandler): forged, misaddressed, stale
// or future (a window of SnapshotSkew), replayed (an id seen before) and
// other types are refused with their codes. The request is not a protocol
// message: /hub/v1/messages refuses its type (unknown_type).
const (
	SnapshotPath        = "hub/v1/snapshot"
	SnapshotRequestType = "snapshot_request"
	SnapshotAuthScheme  = "Corridor-Hub"
	// SnapshotSkew bounds |sent_at - now| of a snapshot request at the
	// node: a request lives this long, and the node remembers ids for
	// twice as long. Our choice, not a regulatory figure.
	SnapshotSkew = time.Minute
)

// SnapshotRequest is the body of a snapshot request.
type SnapshotRequest struct {
	Registry string `json:"registry"`
}

// SignSnapshotRequest seals a snapshot request to registry code.
func (h *Hub) SignSnapshotRequest(code string) (string, error) {
	return signRequest(h.cfg.Signer, h.cfg.Now(), code, SnapshotRequestType, SnapshotRequest{Registry: code})
}

// signRequest seals a signed read request of the hub (signer) of type typ
// (snapshot_request, article6_request) with body to registry code: a
// fresh random id, sent at now.
func signRequest(signer envelope.Signer, now time.Time, code, typ string, body any) (string, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", fmt.Errorf("hub: %s id: %w", typ, err)
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return "", fmt.Errorf("hub: %s: %w", typ, err)
	}
	prefix, _, _ := strings.Cut(typ, "_")
	hd := envelope.Header{ID: prefix + ":" + hex.EncodeToString(id[:]), From: signer.Code, To: code, Version: protocol.Version,
		SentAt: now.UTC(), Type: typ}
	c, err := signer.Seal(hd, raw)
	if err != nil {
		return "", fmt.Errorf("hub: sealing the %s for %s: %w", typ, code, err)
	}
	return c, nil
}
