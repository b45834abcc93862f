package envelope

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Code is a stable, machine-readable refusal code of the acknowledgement.
type Code string

const (
	// CodeMalformed: not a JWS compact EdDSA envelope with a valid payload.
	CodeMalformed Code = "malformed"
	// CodeForged: bad signature, unknown kid, kid of another participant,
	// or a key used outside its validity.
	CodeForged Code = "forged"
	// CodeUnsupportedVersion: a protocol version this receiver does not speak.
	CodeUnsupportedVersion Code = "unsupported_version"
	// CodeMisaddressed: the receiver is not this participant.
	CodeMisaddressed Code = "misaddressed"
	// CodeReplayConflict: the sender reused a message id for other content.
	CodeReplayConflict Code = "replay_conflict"
	// CodeStale and CodeFuture: sent_at is further than the allowed skew
	// from the receiver's clock.
	CodeStale  Code = "stale"
	CodeFuture Code = "future"
	// CodeOutOfSequence: not the next message expected from this sender
	// about this transaction (DES: refused at acknowledgement, never
	// answered later; the sender re-delivers in order).
	CodeOutOfSequence Code = "out_of_sequence"
)

// Refusal is a message the receiver refuses at acknowledgement.
type Refusal struct {
	Code   Code
	Detail string
}

func (r *Refusal) Error() string { return fmt.Sprintf("envelope: %s: %s", r.Code, r.Detail) }

func refuse(c Code, format string, a ...any) error {
	return &Refusal{Code: c, Detail: fmt.Sprintf(format, a...)}
}

// RefusalCode returns the refusal code inside err, or "".
func RefusalCode(err error) Code {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Code
	}
	return ""
}

// Disposition is what the receiver does with a message it did not refuse.
type Disposition int

const (
	// Act: a new message, next in sequence: record it in the inbox in the
	// same commit as its effect, then acknowledge.
	Act Disposition = iota + 1
	// Duplicate: the same content was already received; acknowledge again
	// with the first acknowledgement, do nothing.
	Duplicate
	// Finished: the transaction is already final here; acknowledge and
	// ignore (DES; UK ETS TransactionService.processReply).
	Finished
)

func (d Disposition) String() string {
	switch d {
	case Act:
		return "act"
	case Duplicate:
		return "duplicate"
	case Finished:
		return "finished"
	}
	return fmt.Sprintf("Disposition(%d)", int(d))
}

// ReplayStore looks up the inbox: the content hash recorded for a
// (sender, message id). The verifier only reads it; the caller records a
// message in the same database commit as the state change it causes, so
// a crash between the two cannot turn a message into a lost "duplicate".
type ReplayStore interface {
	Lookup(ctx context.Context, sender, id string) (h Hash, found bool, err error)
}

// SequenceStore tells the verifier the last sequence number acted on
// from sender about a transaction, and whether the transaction is final
// at this receiver. Like the inbox, the caller advances it in its commit.
type SequenceStore interface {
	Progress(ctx context.Context, sender, transactionID string) (last uint64, final bool, err error)
}

// Verifier checks incoming envelopes for one receiver.
type Verifier struct {
	// Trust returns the trust list in force (it changes when the hub
	// publishes a new version).
	Trust func() TrustList
	// Self is this receiver's registry code.
	Self string
	// Now is the receiver's clock.
	Now func() time.Time
	// MaxSkew bounds |sent_at - now|.
	MaxSkew time.Duration
	// Versions lists the protocol versions accepted.
	Versions []int
	Replay   ReplayStore
	Sequence SequenceStore
	// Gaps accepts any sequence number after the last one acted on, not
	// only the next: for a receiver whose effects are guarded by its own
	// state machine (the hub's Transition, a node's ledger), where strict
	// order would only stall a transfer whose earlier message was lost, or
	// whose progress a restart forgot. A lower number not seen before is
	// still refused out of sequence.
	Gaps bool
	// Unsequenced reports message types that carry sequence 0 and are not
	// checked for order (status polls, reconciliation requests).
	Unsequenced func(msgType string) bool
}

// Open verifies compact and decides what to do with it. Checks run in a
// fixed order so each refusal has one cause: integrity and identity
// first, then version and address, then duplicates (before the clock, so
// an acknowledgement lost long ago is still re-acknowledged), then the
// clock, then order.
func (v Verifier) Open(ctx context.Context, compact string) (Message, Disposition, error) {
	jws, kid, err := parse(compact)
	if err != nil {
		return Message{}, 0, refuse(CodeMalformed, "%v", err)
	}
	trust := v.Trust()
	key, owner, ok := trust.KeyByID(kid)
	if !ok {
		return Message{}, 0, refuse(CodeForged, "kid %q is not in trust list version %d", kid, trust.Version)
	}
	raw, err := jws.Verify(key.Public)
	if err != nil {
		return Message{}, 0, refuse(CodeForged, "signature does not verify with kid %q", kid)
	}
	h, body, err := decodePayload(raw)
	if err != nil {
		return Message{}, 0, refuse(CodeMalformed, "payload: %v", err)
	}
	if h.From != owner {
		return Message{}, 0, refuse(CodeForged, "message from %q signed with kid %q of %q", h.From, kid, owner)
	}
	if !key.ValidAt(h.SentAt) {
		return Message{}, 0, refuse(CodeForged, "kid %q is not valid at sent_at %s", kid, h.SentAt.UTC().Format(time.RFC3339))
	}
	if !slices.Contains(v.Versions, h.Version) {
		return Message{}, 0, refuse(CodeUnsupportedVersion, "version %d not in %v", h.Version, v.Versions)
	}
	if h.To != v.Self {
		return Message{}, 0, refuse(CodeMisaddressed, "message for %q delivered to %q", h.To, v.Self)
	}
	m := Message{Header: h, Body: body, Hash: ContentHash(h, body)}
	seen, found, err := v.Replay.Lookup(ctx, h.From, h.ID)
	if err != nil {
		return Message{}, 0, fmt.Errorf("envelope: inbox lookup %s/%s: %w", h.From, h.ID, err)
	}
	if found {
		if seen != m.Hash {
			return Message{}, 0, refuse(CodeReplayConflict, "message id %q from %q was received with other content", h.ID, h.From)
		}
		return m, Duplicate, nil
	}
	now := v.Now()
	if h.SentAt.Before(now.Add(-v.MaxSkew)) {
		return Message{}, 0, refuse(CodeStale, "sent_at %s is more than %s before %s", h.SentAt.UTC().Format(time.RFC3339Nano), v.MaxSkew, now.UTC().Format(time.RFC3339Nano))
	}
	if h.SentAt.After(now.Add(v.MaxSkew)) {
		return Message{}, 0, refuse(CodeFuture, "sent_at %s is more than %s after %s", h.SentAt.UTC().Format(time.RFC3339Nano), v.MaxSkew, now.UTC().Format(time.RFC3339Nano))
	}
	if v.Unsequenced != nil && v.Unsequenced(h.Type) {
		if h.Sequence != 0 {
			return Message{}, 0, refuse(CodeOutOfSequence, "type %q is not sequenced but carries sequence %d", h.Type, h.Sequence)
		}
		return m, Act, nil
	}
	if h.TransactionID == "" {
		return Message{}, 0, refuse(CodeMalformed, "type %q needs a transaction id", h.Type)
	}
	last, final, err := v.Sequence.Progress(ctx, h.From, h.TransactionID)
	if err != nil {
		return Message{}, 0, fmt.Errorf("envelope: sequence of %s/%s: %w", h.From, h.TransactionID, err)
	}
	if final {
		return m, Finished, nil
	}
	if v.Gaps && h.Sequence > last {
		return m, Act, nil
	}
	if h.Sequence != last+1 {
		return Message{}, 0, refuse(CodeOutOfSequence, "sequence %d from %q about %s, expected %d", h.Sequence, h.From, h.TransactionID, last+1)
	}
	return m, Act, nil
}

// MemoryInbox is an in-memory ReplayStore and SequenceStore for tests
// and the simulated network; a node keeps these in its database.
type MemoryInbox struct {
	mu    sync.Mutex
	seen  map[[2]string]Hash
	last  map[[2]string]uint64
	final map[string]bool
}

// NewMemoryInbox returns an empty inbox.
func NewMemoryInbox() *MemoryInbox {
	return &MemoryInbox{seen: map[[2]string]Hash{}, last: map[[2]string]uint64{}, final: map[string]bool{}}
}

// Lookup implements ReplayStore.
func (b *MemoryInbox) Lookup(_ context.Context, sender, id string) (Hash, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	h, ok := b.seen[[2]string{sender, id}]
	return h, ok, nil
}

// Progress implements SequenceStore.
func (b *MemoryInbox) Progress(_ context.Context, sender, tx string) (uint64, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last[[2]string{sender, tx}], b.final[tx], nil
}

// Record notes that m was acted on.
func (b *MemoryInbox) Record(m Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seen[[2]string{m.From, m.ID}] = m.Hash
	if m.TransactionID != "" && m.Sequence > 0 {
		b.last[[2]string{m.From, m.TransactionID}] = m.Sequence
	}
}

// Finish marks a transaction final at this receiver.
func (b *MemoryInbox) Finish(tx string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.final[tx] = true
}
