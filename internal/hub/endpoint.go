package hub

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// Endpoint is a registry node's side of the hub protocol: it proposes the
// node's outgoing transfers and acts on the hub's messages through the
// node's normal write path, as the hub actor, with the hub's message id as
// the idempotency key (docs/outbox.md), so a message acted on twice has
// one effect.
type Endpoint struct {
	Code string
	Node *registry.Node
	// HubOrg is the organisation that acts for the hub in this registry
	// (the escrows' settlement authority).
	HubOrg    int64
	HubCode   string
	Signer    envelope.Signer
	Transport Transport
	// Origins describes origin issuances (their public issuance record)
	// for imports.
	Origins Origins
	Now     func() time.Time
	Log     *slog.Logger

	mu       sync.Mutex
	verifier envelope.Verifier
	inbox    *envelope.MemoryInbox
}

// Origins looks up an origin issuance as its origin registry publishes it.
type Origins interface {
	Origin(ctx context.Context, o registry.Origin) (registry.OriginIssuance, error)
}

// NodeOrigins answers from the origin nodes in this process (their public
// issuance read); over the network it will be the origin's public API.
type NodeOrigins map[string]*registry.Node

// Origin implements Origins.
func (m NodeOrigins) Origin(_ context.Context, o registry.Origin) (registry.OriginIssuance, error) {
	n := m[o.Registry]
	if n == nil {
		return registry.OriginIssuance{}, fmt.Errorf("hub: origin registry %s is not known", o.Registry)
	}
	x, ok := n.OriginOf(o.Issuance)
	if !ok || x.Origin != o {
		return registry.OriginIssuance{}, fmt.Errorf("hub: registry %s has no issuance %d of its own", o.Registry, o.Issuance)
	}
	return x, nil
}

func (e *Endpoint) init(trust func() envelope.TrustList, maxSkew time.Duration) {
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.Log == nil {
		e.Log = slog.Default()
	}
	// The endpoint's inbox is in memory: every effect it causes goes
	// through Node.Do keyed by the hub's message id, so a message acted on
	// again after a restart is answered from the node's idempotency record.
	e.inbox = envelope.NewMemoryInbox()
	e.verifier = envelope.Verifier{Trust: trust, Self: e.Code, Now: e.Now, MaxSkew: maxSkew, Versions: []int{protocol.Version}, Replay: e.inbox, Sequence: e.inbox}
}

// hubActor is who the endpoint acts as in its node.
func (e *Endpoint) hubActor() registry.Actor {
	return registry.Actor{OrgID: e.HubOrg, Role: registry.RoleHub}
}

// Send asks the node to send units abroad.
type Send struct {
	// Actor is the holder (or administrator) sending; Key the request's
	// idempotency key in the sending registry.
	Actor      registry.Actor
	Key        string
	From       int64
	ToRegistry string
	ToAccount  int64
	Units      registry.Units
	Purpose    string
	ExpiresIn  int64
}

// Sent is the answer to a Send: the transaction id (registry code + the
// escrow's journal sequence, as the DES), its status at the sender (1,
// proposed) and the blocks reserved in escrow.
type Sent struct {
	ID       string           `json:"id"`
	Status   protocol.Status  `json:"status"`
	Quantity int64            `json:"quantity"`
	Blocks   []protocol.Block `json:"blocks"`
	// EscrowExpiry is when the escrow voids itself if the transfer has not
	// completed.
	EscrowExpiry time.Time `json:"escrow_expires_at"`
}

// Propose reserves the units in escrow with the hub as settlement
// authority and sends the proposal.
func (e *Endpoint) Propose(ctx context.Context, s Send) (Sent, error) {
	res, err := e.Node.Do(ctx, s.Actor, s.Key, registry.Reserve{From: s.From, Units: s.Units, ToRegistry: s.ToRegistry,
		ToAccountRef: strconv.FormatInt(s.ToAccount, 10), Authority: &registry.Authority{Role: registry.AuthorityHub, OrgID: e.HubOrg}, ExpiresIn: s.ExpiresIn})
	if err != nil {
		return Sent{}, err
	}
	tx := e.Code + ":" + strconv.FormatInt(res.Pending, 10)
	blocks, err := protocolBlocks(res.Blocks)
	if err != nil {
		return Sent{}, err
	}
	unitType := s.Units.UnitType
	if unitType == "" && len(blocks) > 0 {
		unitType = blocks[0].UnitType
	}
	p := protocol.Proposal{FromRegistry: e.Code, FromAccount: strconv.FormatInt(s.From, 10), ToRegistry: s.ToRegistry, ToAccount: strconv.FormatInt(s.ToAccount, 10),
		UnitType: unitType, Purpose: s.Purpose, Quantity: res.Quantity, Blocks: blocks, EscrowID: strconv.FormatInt(res.Pending, 10), EscrowExpiry: res.ExpiresAt}
	sent := Sent{ID: tx, Status: protocol.StatusProposed, Quantity: res.Quantity, Blocks: blocks, EscrowExpiry: res.ExpiresAt}
	return sent, e.send(ctx, tx, 1, p)
}

// protocolBlocks turns reserved blocks (serials in their origin form) into
// the protocol's blocks.
func protocolBlocks(bs []registry.BlockView) ([]protocol.Block, error) {
	out := make([]protocol.Block, 0, len(bs))
	for _, b := range bs {
		s, err := ledger.ParseSerial(b.Serial)
		if err != nil {
			return nil, fmt.Errorf("hub: block serial %s: %w", b.Serial, err)
		}
		out = append(out, protocol.Block{OriginRegistry: s.Registry, IssuanceID: strconv.FormatInt(s.Issuance, 10), UnitType: s.UnitType,
			Project: s.Project, Vintage: s.Vintage, Start: s.Start, End: s.End})
	}
	return out, nil
}

// send seals and sends one message about tx. Its id is derived from the
// transaction and the step, so a re-sent message is the same message.
func (e *Endpoint) send(ctx context.Context, tx string, seq uint64, payload any) error {
	h := envelope.Header{ID: e.Code + ":" + tx + ":" + strconv.FormatUint(seq, 10), From: e.Code, To: e.HubCode, TransactionID: tx, Sequence: seq, SentAt: e.Now().UTC()}
	c, err := protocol.Seal(e.Signer, h, payload)
	if err != nil {
		return err
	}
	return e.Transport.Send(ctx, e.HubCode, c)
}

// Receive implements Receiver: the hub's messages to this node.
func (e *Endpoint) Receive(ctx context.Context, compact string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	m, payload, disp, err := protocol.Open(ctx, e.verifier, compact)
	if err != nil {
		return err
	}
	if disp != envelope.Act {
		return nil
	}
	if m.From != e.HubCode {
		return &envelope.Refusal{Code: protocol.CodeWrongSender, Detail: fmt.Sprintf("%s is not the hub", m.From)}
	}
	if err := e.act(ctx, m, payload); err != nil {
		return err
	}
	e.inbox.Record(m)
	return nil
}

func (e *Endpoint) act(ctx context.Context, m envelope.Message, payload any) error {
	tx := m.TransactionID
	key := "hub:" + m.ID
	switch p := payload.(type) {
	case protocol.CheckResult:
		if p.Status == protocol.StatusCheckedDiscrepancy {
			return e.settle(ctx, tx, key, false, "hub check: "+findingCodes(p.Findings))
		}
		return nil
	case protocol.Notice:
		switch p.Status {
		case protocol.StatusChecked:
			return e.answer(ctx, tx, p)
		case protocol.StatusAccepted:
			return e.settle(ctx, tx, key, true, "")
		case protocol.StatusRejected:
			return e.settle(ctx, tx, key, false, "rejected by the acquiring registry: "+findingCodes(p.Findings))
		case protocol.StatusCompleted:
			e.inbox.Finish(tx)
			return e.importBlocks(ctx, tx, key, p)
		}
		if p.Status.Final() {
			e.inbox.Finish(tx)
		}
		return nil
	}
	return &envelope.Refusal{Code: protocol.CodeWrongSender, Detail: fmt.Sprintf("a registry does not take %s", m.Type)}
}

// answer is the acquiring registry's check of a proposal: the account
// exists, is open and may receive units.
func (e *Endpoint) answer(ctx context.Context, tx string, n protocol.Notice) error {
	if n.Proposal == nil {
		return &envelope.Refusal{Code: envelope.CodeMalformed, Detail: "a notice at 2 carries the proposal"}
	}
	acc, err := strconv.ParseInt(n.Proposal.ToAccount, 10, 64)
	if err == nil {
		err = e.Node.CheckAcquiring(acc)
	}
	if err != nil {
		code := ledger.CodeAcquiringNotFound
		if le, ok := ledger.AsError(err); ok {
			code = le.Code
		}
		return e.send(ctx, tx, 1, protocol.Rejection{Findings: []protocol.Finding{{Code: code, Detail: err.Error()}}})
	}
	return e.send(ctx, tx, 1, protocol.Acceptance{ToAccount: n.Proposal.ToAccount})
}

// settle completes or voids the transfer's escrow and tells the hub.
func (e *Endpoint) settle(ctx context.Context, tx, key string, complete bool, reason string) error {
	code, seqText, ok := strings.Cut(tx, ":")
	pending, err := strconv.ParseInt(seqText, 10, 64)
	if !ok || code != e.Code || err != nil {
		return &envelope.Refusal{Code: envelope.CodeMalformed, Detail: fmt.Sprintf("transaction %s is not one of %s's", tx, e.Code)}
	}
	var req registry.Request = registry.Void{Pending: pending, Reason: reason}
	if complete {
		req = registry.Complete{Pending: pending}
	}
	res, err := e.Node.Do(ctx, e.hubActor(), key, req)
	if err != nil {
		// Already settled otherwise (expired): the hub learns it from the
		// missing completion; the escrow is the truth here.
		e.Log.Warn("hub endpoint: settling escrow", "registry", e.Code, "transfer", tx, "err", err)
		return fmt.Errorf("hub: %s settling %s: %w", e.Code, tx, err)
	}
	if !complete {
		return e.send(ctx, tx, 2, protocol.Termination{EscrowID: seqText})
	}
	blocks, err := protocolBlocks(res.Blocks)
	if err != nil {
		return err
	}
	return e.send(ctx, tx, 2, protocol.Completion{Blocks: blocks})
}

// importBlocks creates the blocks the hub forwards at 4 in the acquiring
// account, with their origin issuance and serials.
func (e *Endpoint) importBlocks(ctx context.Context, tx, key string, n protocol.Notice) error {
	if n.Proposal == nil || len(n.Blocks) == 0 {
		return &envelope.Refusal{Code: envelope.CodeMalformed, Detail: "a notice at 4 carries the proposal and its blocks"}
	}
	acc, err := strconv.ParseInt(n.Proposal.ToAccount, 10, 64)
	if err != nil {
		return &envelope.Refusal{Code: envelope.CodeMalformed, Detail: "to_account is not an account number"}
	}
	imp := registry.Import{Transfer: tx, ToAccount: acc}
	for _, b := range n.Blocks {
		id, err := strconv.ParseInt(b.IssuanceID, 10, 64)
		if err != nil {
			return &envelope.Refusal{Code: envelope.CodeMalformed, Detail: fmt.Sprintf("issuance id %q", b.IssuanceID)}
		}
		o, err := e.Origins.Origin(ctx, registry.Origin{Registry: b.OriginRegistry, Issuance: id})
		if err != nil {
			return err
		}
		if o.UnitType != b.UnitType || o.Project != b.Project || o.Vintage != b.Vintage {
			return &envelope.Refusal{Code: envelope.CodeMalformed, Detail: fmt.Sprintf("block %s/%d does not match its origin issuance", b.OriginRegistry, id)}
		}
		imp.Blocks = append(imp.Blocks, registry.ImportBlock{Origin: o, Start: b.Start, End: b.End})
	}
	if _, err := e.Node.Do(ctx, e.hubActor(), key, imp); err != nil {
		return fmt.Errorf("hub: %s importing %s: %w", e.Code, tx, err)
	}
	return nil
}

func findingCodes(fs []protocol.Finding) string {
	codes := make([]string, len(fs))
	for i, f := range fs {
		codes[i] = f.Code
	}
	return strings.Join(codes, ", ")
}
