package hub

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/store"
)

// The hub is the corridor's transaction log, modelled on the Kyoto ITL and
// the UK ETS transaction log: it never holds units. It keeps one record
// per cross-registry transfer with its DES status history, its own copy of
// where each block of an origin issuance is (the origin registry unless a
// completed transfer moved it), runs the checks, and relays the protocol:
// proposal (1) → checks (2, or 3 → the sender voids, 5) → the acquirer
// accepts (8) or rejects (6 → the sender voids, 5) → the sender completes
// (4) → the hub forwards completion and the acquirer imports the blocks.
//
// State lives in the hub's own database as an append-only event log (table
// hub_events): each event is one acted-on message with the transfer record
// it produced and the messages it sends, written in one commit, so the
// inbox, the status and the outbox never disagree. Open replays the log and
// re-sends the messages of unfinished transfers (receivers de-duplicate).

// Hub check codes: stable, machine-readable, carried in findings. The UKTL
// numbers they correspond to are in the comments (domain: article6.md).
const (
	CodeQuantityMismatch = "quantity_mismatch" // 10003: blocks do not add up to the quantity
	CodeUnitTypeMismatch = "unit_type_mismatch"
	CodeNotAtSender      = "blocks_not_at_sender" // 10005: the hub's copy places the blocks elsewhere
	CodeBlocksPending    = "blocks_pending"       // a block is in another pending transfer
	CodeUnknownAcquirer  = "acquiring_registry_unknown"
	CodeSenderMismatch   = "sender_mismatch" // the envelope's sender is not the proposal's from_registry
	CodeNoBlocks         = "no_blocks"
)

// Config wires a hub.
type Config struct {
	// Code is the hub's code in the trust list ("HUB").
	Code string
	// DB is the hub's own database; the hub creates its tables.
	DB         *store.DB
	Signer     envelope.Signer
	Trust      func() envelope.TrustList
	Agreements agreements.Set
	Transport  Transport
	Now        func() time.Time
	MaxSkew    time.Duration
	// AnswerTimeout is how long the acquirer has to accept or reject a
	// checked proposal (2) before the hub cancels it (7). Default
	// DefaultAnswerTimeout. The DES keeps a 24 h timer per open
	// transaction [recall, domain article6.md]; ours is shorter because a
	// node's answer is automatic (an account check), and it must stay
	// below the sender's escrow lifetime so the hub, not the expiry,
	// usually ends an unanswered transfer.
	AnswerTimeout time.Duration
	// RetryMin and RetryMax bound the exponential backoff of the hub's
	// re-sends to an acquirer (defaults DefaultRetryMin, DefaultRetryMax).
	RetryMin, RetryMax time.Duration
	Log                *slog.Logger
	// Article6 is the hub's Article 6 ledger (article6.go); nil: none.
	Article6 *Article6
}

// Defaults of the hub's timers: our choice, not a regulatory figure.
const (
	DefaultAnswerTimeout = 10 * time.Minute
	DefaultRetryMin      = 2 * time.Second
	DefaultRetryMax      = 5 * time.Minute
)

// backoff is the wait before re-send number attempt (1, 2, …): doubling
// from lo, capped at hi.
func backoff(attempt int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < attempt && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

type retry struct {
	attempt int
	next    time.Time
}

// StatusChange is one step of a transfer's history.
type StatusChange struct {
	Status   protocol.Status    `json:"status"`
	At       time.Time          `json:"at"`
	Findings []protocol.Finding `json:"findings,omitempty"`
}

// Transfer is the hub's record of one cross-registry transfer.
type Transfer struct {
	ID       string            `json:"id"`
	Proposal protocol.Proposal `json:"proposal"`
	Status   protocol.Status   `json:"status"`
	History  []StatusChange    `json:"history"`
	// Completed is the event that completed it (orders the hub's copy).
	Completed int64 `json:"completed,omitempty"`
	// ImportAcknowledged: the acquirer has confirmed the import of a
	// completed transfer; until then the hub re-sends the 4 notice.
	ImportAcknowledged bool `json:"import_acknowledged,omitempty"`
	// SenderState is set only on a record the sending node answers from
	// its own relay because the hub has none (yet) or cannot be reached:
	// SenderReservedNotSent, SenderSentNotAcknowledged, SenderAcknowledged
	// or SenderSettledNotReported (Endpoint.LocalTransfer).
	SenderState string `json:"sender_state,omitempty"`
}

// Sender states of a transfer as its sending node knows it.
const (
	SenderReservedNotSent     = "reserved_not_sent"
	SenderSentNotAcknowledged = "sent_not_acknowledged"
	SenderAcknowledged        = "acknowledged"
	SenderSettledNotReported  = "settled_not_reported"
)

// Statuses lists the statuses the transfer went through, in order.
func (t Transfer) Statuses() []protocol.Status {
	out := make([]protocol.Status, len(t.History))
	for i, c := range t.History {
		out[i] = c.Status
	}
	return out
}

// Hub is a running hub.
type Hub struct {
	cfg      Config
	mu       sync.Mutex
	verifier envelope.Verifier
	events   int64
	// unsure: an insert failed with an unknown outcome and the database
	// has not been re-read since.
	unsure   bool
	xfers    map[string]*Transfer
	seen     map[[2]string]envelope.Hash
	progress map[[2]string]uint64
	out      map[string][]outMsg // per transfer, every message sent, in order
	retries  map[string]*retry   // per transfer, the re-send schedule to its acquirer
	polls    uint64
	heads    map[string]*pendingHead // per registry, a head_seen not yet answered (reconcile.go)
}

type inMsg struct {
	From     string `json:"from"`
	ID       string `json:"id"`
	Hash     string `json:"hash"`
	Tx       string `json:"tx"`
	Sequence uint64 `json:"sequence"`
}

type outMsg struct {
	Header  envelope.Header `json:"header"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

type event struct {
	In       inMsg     `json:"in"`
	Transfer *Transfer `json:"transfer"`
	Out      []outMsg  `json:"out,omitempty"`
}

// Open loads the hub's state from its database and re-sends the messages
// of unfinished transfers.
func Open(ctx context.Context, cfg Config) (*Hub, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxSkew == 0 {
		cfg.MaxSkew = 5 * time.Minute
	}
	if cfg.AnswerTimeout == 0 {
		cfg.AnswerTimeout = DefaultAnswerTimeout
	}
	if cfg.RetryMin == 0 {
		cfg.RetryMin = DefaultRetryMin
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = DefaultRetryMax
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	h := &Hub{cfg: cfg, xfers: map[string]*Transfer{}, seen: map[[2]string]envelope.Hash{}, progress: map[[2]string]uint64{}, out: map[string][]outMsg{}, retries: map[string]*retry{}}
	// Gaps: the hub's status machine (protocol.Transition) refuses a step
	// that does not apply, so order is checked there; a sender's
	// termination (sequence 2) may be the first message the hub gets.
	h.verifier = envelope.Verifier{Trust: cfg.Trust, Self: cfg.Code, Now: cfg.Now, MaxSkew: cfg.MaxSkew, Versions: []int{protocol.Version}, Replay: (*hubInbox)(h), Sequence: (*hubInbox)(h), Gaps: true}
	if err := h.catchUp(ctx); err != nil {
		return nil, err
	}
	if err := h.loadPendingHeads(ctx); err != nil {
		return nil, err
	}
	// Re-send what unfinished transfers sent (receivers de-duplicate) and
	// the 4 notices not yet acknowledged; a failed send is retried by Tick.
	var out []outMsg
	for _, t := range h.sortedTransfers() {
		switch {
		case !t.Status.Final():
			out = append(out, h.out[t.ID]...)
		case h.awaitsAck(t):
			out = append(out, h.lastTo(t.ID, t.Proposal.ToRegistry))
		}
	}
	h.transmitAll(ctx, out)
	return h, nil
}

// awaitsAck: a completed transfer whose acquirer has not acknowledged the
// import.
func (h *Hub) awaitsAck(t *Transfer) bool {
	return t.Status == protocol.StatusCompleted && !t.ImportAcknowledged
}

// lastTo is the last message the hub sent to code about tx (zero Type if
// none).
func (h *Hub) lastTo(tx, code string) outMsg {
	msgs := h.out[tx]
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Header.To == code {
			return msgs[i]
		}
	}
	return outMsg{}
}

// transmitAll sends msgs, logging failures: a lost message is re-sent by
// the hub's timers or re-requested by its receiver, so no caller waits on
// a send (and none is made with the hub's lock held).
func (h *Hub) transmitAll(ctx context.Context, msgs []outMsg) {
	for _, o := range msgs {
		if o.Type == "" {
			continue
		}
		if err := h.transmit(ctx, o); err != nil {
			h.cfg.Log.Debug("hub: send failed, will retry", "err", err)
		}
	}
}

// remember applies an event to memory (after its commit, or on replay).
func (h *Hub) remember(e event) {
	k := [2]string{e.In.From, e.In.ID}
	var hash envelope.Hash
	raw, _ := hex.DecodeString(e.In.Hash)
	copy(hash[:], raw)
	h.seen[k] = hash
	if e.In.Sequence > 0 {
		h.progress[[2]string{e.In.From, e.In.Tx}] = e.In.Sequence
	}
	if e.Transfer != nil {
		t := *e.Transfer
		h.xfers[t.ID] = &t
		h.out[t.ID] = append(h.out[t.ID], e.Out...)
		h.cfg.Article6.noteTransfer(t)
	}
}

// hubInbox exposes the hub's inbox to the envelope verifier (the hub's
// lock is held by Receive).
type hubInbox Hub

func (b *hubInbox) Lookup(_ context.Context, sender, id string) (envelope.Hash, bool, error) {
	hash, ok := b.seen[[2]string{sender, id}]
	return hash, ok, nil
}

func (b *hubInbox) Progress(_ context.Context, sender, tx string) (uint64, bool, error) {
	t := b.xfers[tx]
	final := t != nil && t.Status.Final()
	if final && sender == t.Proposal.ToRegistry && (*Hub)(b).awaitsAck(t) {
		final = false // the acquirer's import_ack is still to come
	}
	return b.progress[[2]string{sender, tx}], final, nil
}

// Receive implements Receiver. It acts on a message (one event, one
// commit) and sends what that produces after releasing the hub's lock. A
// message from a transfer's sender that the hub already took (a
// duplicate, or one about a final transfer) is answered with the last
// message the hub sent that sender, so a sender's re-send recovers a lost
// answer; duplicates from the acquirer are not answered (the hub drives
// that exchange with its own re-sends, and answering both ways would loop).
func (h *Hub) Receive(ctx context.Context, compact string) error {
	out, err := h.receive(ctx, compact)
	h.transmitAll(ctx, out)
	return err
}

func (h *Hub) receive(ctx context.Context, compact string) ([]outMsg, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out, err := h.receiveLocked(ctx, compact)
	if errors.Is(err, errCaughtUp) {
		// Memory was behind the database; decide again on the state read
		// back.
		out, err = h.receiveLocked(ctx, compact)
	}
	return out, err
}

func (h *Hub) receiveLocked(ctx context.Context, compact string) ([]outMsg, error) {
	m, payload, disp, err := protocol.Open(ctx, h.verifier, compact)
	if err != nil {
		return nil, err
	}
	t := h.xfers[m.TransactionID]
	if disp != envelope.Act {
		if t != nil && m.From == t.Proposal.FromRegistry {
			return []outMsg{h.lastTo(t.ID, m.From)}, nil
		}
		return nil, nil
	}
	now := h.cfg.Now().UTC()
	var next *Transfer
	var out []outMsg
	switch p := payload.(type) {
	case protocol.Proposal:
		next, out, err = h.propose(m, p, now)
	case protocol.Termination:
		if t == nil {
			next, out, err = h.tombstone(m, p, now)
			break
		}
		next, out, err = h.follow(m, t, p, now)
	case protocol.Acceptance, protocol.Rejection, protocol.Completion, protocol.ImportAck:
		if t == nil {
			return nil, &envelope.Refusal{Code: envelope.CodeOutOfSequence, Detail: fmt.Sprintf("no transfer %s", m.TransactionID)}
		}
		next, out, err = h.follow(m, t, p, now)
	case protocol.HeadKept:
		h.headKept(m.From, p)
		return nil, nil
	case protocol.StatusRequest:
		// A poll is answered with the transfer's status and the last
		// message the hub sent the poller (which carries what it must do).
		h.polls++
		status := protocol.StatusNone
		var answer []outMsg
		if t != nil && t.Involves(m.From) {
			status = t.Status
			answer = append(answer, h.lastTo(t.ID, m.From))
		}
		body, _ := json.Marshal(protocol.StatusReport{Status: status})
		answer = append(answer, outMsg{Header: envelope.Header{ID: h.cfg.Code + ":report:" + m.ID, From: h.cfg.Code, To: m.From, TransactionID: m.TransactionID},
			Type: "status_report", Payload: body})
		return answer, nil
	default:
		return nil, &envelope.Refusal{Code: protocol.CodeWrongSender, Detail: fmt.Sprintf("the hub does not take %s", m.Type)}
	}
	if err != nil {
		return nil, err
	}
	e := event{In: inMsg{From: m.From, ID: m.ID, Hash: hex.EncodeToString(m.Hash[:]), Tx: m.TransactionID, Sequence: m.Sequence}, Transfer: next, Out: out}
	if err := h.record(ctx, e); err != nil {
		return nil, err
	}
	return out, nil
}

// catchUp applies to memory every event the database holds past the last
// one applied: all of them at Open, and after a failed insert whose
// outcome is unknown (it may have committed).
func (h *Hub) catchUp(ctx context.Context) error {
	err := h.cfg.DB.Log(store.HubEvents).ReadFrom(ctx, h.events, func(r store.LogRecord) error {
		var e event
		if err := json.Unmarshal([]byte(r.Body), &e); err != nil {
			return fmt.Errorf("hub: event %d: %w", r.Seq, err)
		}
		h.events = r.Seq
		h.remember(e)
		return nil
	})
	if err != nil {
		return fmt.Errorf("hub: reading events: %w", err)
	}
	h.unsure = false
	return nil
}

// record commits e and applies it to memory. An insert that fails may
// still have committed (the connection dropped during COMMIT): the hub
// then reads back what the database holds, so memory never falls behind
// it (which would make every later insert collide on seq), and reports
// the event recorded if it is there. Until that read succeeds, the hub
// refuses to decide anything (unsure).
func (h *Hub) record(ctx context.Context, e event) error {
	if h.unsure {
		if err := h.catchUp(ctx); err != nil {
			return err
		}
		return errCaughtUp
	}
	if next := e.Transfer; next != nil && next.Status == protocol.StatusCompleted && next.Completed == 0 {
		next.Completed = h.events + 1
	}
	want := h.events + 1
	if err := h.commit(ctx, e); err != nil {
		h.unsure = true
		if cerr := h.catchUp(context.WithoutCancel(ctx)); cerr != nil {
			return errors.Join(err, cerr)
		}
		if h.events >= want && h.recorded(e) {
			return nil
		}
		if h.events >= want {
			// Other events were there (memory was behind): not an
			// outcome-unknown failure of ours, a stale decision.
			return fmt.Errorf("%w (%v)", errCaughtUp, err)
		}
		return err
	}
	h.remember(e)
	return nil
}

// errCaughtUp: the decision was made on memory behind the database, which
// has now been read back; decide again.
var errCaughtUp = errors.New("hub: state re-read from the database; decide again")

// recorded reports whether the inbound message of e is in memory (it was
// applied by catchUp).
func (h *Hub) recorded(e event) bool {
	_, ok := h.seen[[2]string{e.In.From, e.In.ID}]
	return ok
}

// Tick applies the hub's timers at its clock's now and sends what is due:
// an unanswered proposal past AnswerTimeout is cancelled (7) and the
// sender told to void; the notice at 2 is re-sent to an acquirer that has
// not answered, and the notice at 4 to one that has not acknowledged the
// import, with exponential backoff. Nothing is cancelled after 8. The
// caller drives it (Corridor.Start in production, the simulation's clock
// in tests).
func (h *Hub) Tick(ctx context.Context) error {
	out, err := h.tick(ctx)
	h.transmitAll(ctx, out)
	return err
}

func (h *Hub) tick(ctx context.Context) ([]outMsg, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.cfg.Now().UTC()
	var out []outMsg
	for _, t := range h.sortedTransfers() {
		switch {
		case t.Status == protocol.StatusChecked:
			if since := t.Updated(); !now.Before(since.Add(h.cfg.AnswerTimeout)) {
				next := *t
				next.History = slices.Clone(t.History)
				reason := fmt.Sprintf("the acquiring registry did not answer within %s", h.cfg.AnswerTimeout)
				if err := h.step(&next, "cancellation", protocol.RoleHub, protocol.StatusCancelled, now, []protocol.Finding{{Code: CodeAnswerTimeout, Detail: reason}}); err != nil {
					return out, err
				}
				msgs := []outMsg{h.message(t.ID, t.Proposal.FromRegistry, 2, protocol.Notice{Status: protocol.StatusCancelled, Findings: next.History[len(next.History)-1].Findings})}
				e := event{In: inMsg{From: h.cfg.Code, ID: "timeout:" + t.ID, Tx: t.ID}, Transfer: &next, Out: msgs}
				if err := h.record(ctx, e); err != nil {
					return out, err
				}
				delete(h.retries, t.ID)
				out = append(out, msgs...)
				continue
			}
			out = h.due(out, t, now)
		case h.awaitsAck(t):
			out = h.due(out, t, now)
		default:
			delete(h.retries, t.ID)
		}
	}
	return h.headsDue(out, now), nil
}

// due appends the last message to t's acquirer if its re-send is due.
func (h *Hub) due(out []outMsg, t *Transfer, now time.Time) []outMsg {
	r := h.retries[t.ID]
	if r == nil {
		// The first send happened when the status was reached.
		r = &retry{attempt: 1, next: now.Add(h.cfg.RetryMin)}
		h.retries[t.ID] = r
		return out
	}
	if now.Before(r.next) {
		return out
	}
	r.attempt++
	r.next = now.Add(backoff(r.attempt, h.cfg.RetryMin, h.cfg.RetryMax))
	return append(out, h.lastTo(t.ID, t.Proposal.ToRegistry))
}

// CodeAnswerTimeout is the finding of a cancellation (7): the acquirer did
// not answer in time.
const CodeAnswerTimeout = "answer_timeout"

func (h *Hub) commit(ctx context.Context, e event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("hub: encoding event: %w", err)
	}
	if err := h.cfg.DB.Log(store.HubEvents).Append(ctx, store.LogRecord{Seq: h.events + 1, Body: string(body)}); err != nil {
		return fmt.Errorf("hub: recording event: %w", err)
	}
	h.events++
	return nil
}

// transmit seals an outgoing message with a fresh sent_at (its content
// hash excludes sent_at, so a re-send is a duplicate) and sends it.
func (h *Hub) transmit(ctx context.Context, o outMsg) error {
	payload, err := protocol.Decode(o.Type, o.Payload)
	if err != nil {
		return err
	}
	hd := o.Header
	hd.SentAt = h.cfg.Now().UTC()
	c, err := protocol.Seal(h.cfg.Signer, hd, payload)
	if err != nil {
		return err
	}
	if err := h.cfg.Transport.Send(ctx, hd.To, c); err != nil {
		return fmt.Errorf("hub: sending %s to %s: %w", o.Type, hd.To, err)
	}
	return nil
}

// message builds an outgoing message of the hub about tx. Ids and
// sequence numbers are derived from the step, so a re-built message is
// the same message.
func (h *Hub) message(tx, to string, seq uint64, payload any) outMsg {
	typ, _ := protocol.TypeOf(payload)
	body, _ := json.Marshal(payload)
	return outMsg{Header: envelope.Header{ID: h.cfg.Code + ":" + tx + ":" + to + ":" + strconv.FormatUint(seq, 10), From: h.cfg.Code, To: to, TransactionID: tx, Sequence: seq},
		Type: typ, Payload: body}
}

func (h *Hub) step(t *Transfer, typ string, role protocol.Role, to protocol.Status, at time.Time, findings []protocol.Finding) error {
	s, err := protocol.Transition(t.Status, typ, role, to)
	if err != nil {
		return &envelope.Refusal{Code: envelope.CodeOutOfSequence, Detail: err.Error()}
	}
	t.Status = s
	t.History = append(t.History, StatusChange{Status: s, At: at, Findings: findings})
	return nil
}

func (h *Hub) propose(m envelope.Message, p protocol.Proposal, now time.Time) (*Transfer, []outMsg, error) {
	if h.xfers[m.TransactionID] != nil {
		// DES 10006: a transaction id is used once.
		return nil, nil, &envelope.Refusal{Code: envelope.CodeReplayConflict, Detail: fmt.Sprintf("transfer %s already exists", m.TransactionID)}
	}
	t := &Transfer{ID: m.TransactionID, Proposal: p}
	if err := h.step(t, "proposal", protocol.RoleTransferring, protocol.StatusProposed, now, nil); err != nil {
		return nil, nil, err
	}
	findings := h.check(m, p, now)
	if len(findings) > 0 {
		if err := h.step(t, "check_result", protocol.RoleHub, protocol.StatusCheckedDiscrepancy, now, findings); err != nil {
			return nil, nil, err
		}
		return t, []outMsg{h.message(t.ID, m.From, 1, protocol.CheckResult{Status: protocol.StatusCheckedDiscrepancy, Findings: findings})}, nil
	}
	if err := h.step(t, "check_result", protocol.RoleHub, protocol.StatusChecked, now, nil); err != nil {
		return nil, nil, err
	}
	return t, []outMsg{
		h.message(t.ID, p.FromRegistry, 1, protocol.CheckResult{Status: protocol.StatusChecked}),
		h.message(t.ID, p.ToRegistry, 1, protocol.Notice{Status: protocol.StatusChecked, Proposal: &p}),
	}, nil
}

// check runs the hub's checks in order and returns every finding.
func (h *Hub) check(m envelope.Message, p protocol.Proposal, now time.Time) []protocol.Finding {
	var fs []protocol.Finding
	add := func(code, format string, a ...any) {
		fs = append(fs, protocol.Finding{Code: code, Detail: fmt.Sprintf(format, a...)})
	}
	if m.From != p.FromRegistry {
		add(CodeSenderMismatch, "the proposal names %s as transferring registry but %s sent it", p.FromRegistry, m.From)
	}
	if e, ok := h.cfg.Trust().Entry(p.ToRegistry); !ok || e.Role != envelope.RoleNode {
		add(CodeUnknownAcquirer, "registry %q is not a node of the corridor's trust list", p.ToRegistry)
	}
	if _, err := h.cfg.Agreements.Allowed(p.FromRegistry, p.ToRegistry, p.UnitType, p.Purpose, now); err != nil {
		var r *agreements.Refusal
		if errors.As(err, &r) {
			add(string(r.Code), "%s", r.Detail)
		} else {
			add(string(agreements.CodeNoAgreement), "%v", err)
		}
	}
	if len(p.Blocks) == 0 {
		add(CodeNoBlocks, "the proposal carries no blocks")
		return fs
	}
	var sum int64
	for _, b := range p.Blocks {
		if b.Start < 1 || b.End < b.Start {
			add(CodeQuantityMismatch, "block %s/%s %d-%d is not a serial range", b.OriginRegistry, b.IssuanceID, b.Start, b.End)
			return fs
		}
		sum += b.Quantity()
		if b.UnitType != p.UnitType {
			add(CodeUnitTypeMismatch, "block %s/%s %d-%d is %s, the proposal moves %s", b.OriginRegistry, b.IssuanceID, b.Start, b.End, b.UnitType, p.UnitType)
		}
		for _, where := range h.locate(b) {
			if where.registry != p.FromRegistry {
				add(CodeNotAtSender, "the hub's copy places %s/%s %d-%d in %s, not %s", b.OriginRegistry, b.IssuanceID, where.start, where.end, where.registry, p.FromRegistry)
			}
		}
		if other := h.pendingWith(b); other != "" {
			add(CodeBlocksPending, "block %s/%s %d-%d is in pending transfer %s", b.OriginRegistry, b.IssuanceID, b.Start, b.End, other)
		}
	}
	if sum != p.Quantity || p.Quantity <= 0 {
		add(CodeQuantityMismatch, "the blocks hold %d units, the proposal says %d", sum, p.Quantity)
	}
	fs = append(fs, h.cfg.Article6.findings(p, now)...)
	return fs
}

func (h *Hub) follow(m envelope.Message, cur *Transfer, payload any, now time.Time) (*Transfer, []outMsg, error) {
	t := *cur
	t.History = slices.Clone(cur.History)
	p := t.Proposal
	party := func(want string) error {
		if m.From != want {
			return &envelope.Refusal{Code: protocol.CodeWrongSender, Detail: fmt.Sprintf("%s is not a party to %s in that role", m.From, t.ID)}
		}
		return nil
	}
	var out []outMsg
	switch v := payload.(type) {
	case protocol.Acceptance:
		if err := party(p.ToRegistry); err != nil {
			return nil, nil, err
		}
		// Accepting is the last moment the hub can refuse (nothing is
		// cancelled after 8), so the Article 6 checks run again: an
		// authorisation revoked since the proposal stops units not yet
		// first-transferred (article6.go, revocation). Passing, it counts
		// as accepted for the ledger's feed (article6.go, hold).
		if fs := h.cfg.Article6.accept(t.ID, p, now); len(fs) > 0 {
			if err := h.step(&t, "cancellation", protocol.RoleHub, protocol.StatusCancelled, now, fs); err != nil {
				return nil, nil, err
			}
			out = append(out, h.message(t.ID, p.FromRegistry, 2, protocol.Notice{Status: protocol.StatusCancelled, Findings: fs}))
			break
		}
		if err := h.step(&t, "acceptance", protocol.RoleAcquiring, protocol.StatusAccepted, now, nil); err != nil {
			return nil, nil, err
		}
		out = append(out, h.message(t.ID, p.FromRegistry, 2, protocol.Notice{Status: protocol.StatusAccepted}))
	case protocol.Rejection:
		if err := party(p.ToRegistry); err != nil {
			return nil, nil, err
		}
		if err := h.step(&t, "rejection", protocol.RoleAcquiring, protocol.StatusRejected, now, v.Findings); err != nil {
			return nil, nil, err
		}
		out = append(out, h.message(t.ID, p.FromRegistry, 2, protocol.Notice{Status: protocol.StatusRejected, Findings: v.Findings}))
	case protocol.Completion:
		if err := party(p.FromRegistry); err != nil {
			return nil, nil, err
		}
		if !slices.Equal(v.Blocks, p.Blocks) {
			return nil, nil, &envelope.Refusal{Code: envelope.CodeMalformed, Detail: "the completion's blocks are not the proposal's"}
		}
		if err := h.step(&t, "completion", protocol.RoleTransferring, protocol.StatusCompleted, now, nil); err != nil {
			return nil, nil, err
		}
		// The blocks carry the Article 6 statement the hub's record makes of
		// them, for the import (article6.go, attach).
		out = append(out, h.message(t.ID, p.ToRegistry, 2, protocol.Notice{Status: protocol.StatusCompleted, Proposal: &p, Blocks: h.cfg.Article6.attach(p, p.Blocks, now)}),
			// The final status to the sender, so it stops re-sending.
			h.message(t.ID, p.FromRegistry, 3, protocol.Notice{Status: protocol.StatusCompleted}))
	case protocol.Termination:
		if err := party(p.FromRegistry); err != nil {
			return nil, nil, err
		}
		var fs []protocol.Finding
		if v.Reason != "" {
			fs = []protocol.Finding{{Code: "escrow_ended", Detail: v.Reason}}
		}
		if err := h.step(&t, "termination", protocol.RoleTransferring, protocol.StatusTerminated, now, fs); err != nil {
			return nil, nil, err
		}
		out = append(out, h.message(t.ID, p.FromRegistry, 3, protocol.Notice{Status: protocol.StatusTerminated}))
	case protocol.ImportAck:
		if err := party(p.ToRegistry); err != nil {
			return nil, nil, err
		}
		if t.Status != protocol.StatusCompleted {
			return nil, nil, &envelope.Refusal{Code: envelope.CodeOutOfSequence, Detail: fmt.Sprintf("transfer %s is %s, not completed", t.ID, t.Status)}
		}
		t.ImportAcknowledged = true
	}
	return &t, out, nil
}

// tombstone records a transfer the hub learns of from its termination:
// the proposal never reached the hub (lost) and the sender's escrow ended
// meanwhile. The record (1 then 5, no checks: nothing moved) makes a late
// copy of the proposal a message about a final transfer.
func (h *Hub) tombstone(m envelope.Message, v protocol.Termination, now time.Time) (*Transfer, []outMsg, error) {
	if v.Proposal == nil || v.Proposal.FromRegistry != m.From {
		return nil, nil, &envelope.Refusal{Code: envelope.CodeOutOfSequence, Detail: fmt.Sprintf("no transfer %s", m.TransactionID)}
	}
	t := &Transfer{ID: m.TransactionID, Proposal: *v.Proposal}
	if err := h.step(t, "proposal", protocol.RoleTransferring, protocol.StatusProposed, now, nil); err != nil {
		return nil, nil, err
	}
	fs := []protocol.Finding{{Code: "escrow_ended", Detail: "the escrow ended before the hub received the proposal: " + v.Reason}}
	if err := h.step(t, "termination", protocol.RoleTransferring, protocol.StatusTerminated, now, fs); err != nil {
		return nil, nil, err
	}
	return t, []outMsg{h.message(t.ID, m.From, 3, protocol.Notice{Status: protocol.StatusTerminated})}, nil
}

// span is a serial range of an origin issuance in the hub's copy.
type span struct {
	start, end int64
	registry   string
}

type originKey struct{ registry, issuance string }

// locate returns where the hub's copy places each part of b: by default
// the origin registry, then every completed transfer in completion order.
func (h *Hub) locate(b protocol.Block) []span {
	parts := []span{{b.Start, b.End, b.OriginRegistry}}
	for _, t := range h.completed() {
		for _, tb := range t.Proposal.Blocks {
			if tb.OriginRegistry != b.OriginRegistry || tb.IssuanceID != b.IssuanceID {
				continue
			}
			var next []span
			for _, s := range parts {
				if tb.End < s.start || tb.Start > s.end {
					next = append(next, s)
					continue
				}
				if s.start < tb.Start {
					next = append(next, span{s.start, tb.Start - 1, s.registry})
				}
				next = append(next, span{max(s.start, tb.Start), min(s.end, tb.End), t.Proposal.ToRegistry})
				if s.end > tb.End {
					next = append(next, span{tb.End + 1, s.end, s.registry})
				}
			}
			parts = next
		}
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].start < parts[j].start })
	return parts
}

func (h *Hub) completed() []*Transfer {
	var out []*Transfer
	for _, t := range h.xfers {
		if t.Status == protocol.StatusCompleted {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Completed < out[j].Completed })
	return out
}

// pendingWith names an unfinished transfer holding any serial of b.
func (h *Hub) pendingWith(b protocol.Block) string {
	for _, t := range h.sortedTransfers() {
		if t.Status.Final() || t.Status == protocol.StatusCheckedDiscrepancy {
			continue
		}
		for _, tb := range t.Proposal.Blocks {
			if tb.OriginRegistry == b.OriginRegistry && tb.IssuanceID == b.IssuanceID && tb.Start <= b.End && b.Start <= tb.End {
				return t.ID
			}
		}
	}
	return ""
}

func (h *Hub) sortedTransfers() []*Transfer {
	out := make([]*Transfer, 0, len(h.xfers))
	for _, t := range h.xfers {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Transfer returns the hub's record of transfer id.
func (h *Hub) Transfer(id string) (Transfer, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.xfers[id]
	if !ok {
		return Transfer{}, false
	}
	c := *t
	c.History = slices.Clone(t.History)
	return c, true
}

// Transfers lists the hub's records, by id.
func (h *Hub) Transfers() []Transfer {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Transfer
	for _, t := range h.sortedTransfers() {
		out = append(out, *t)
	}
	return out
}
