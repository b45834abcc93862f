package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/corridor-carbon/corridor/internal/article6"
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
//
// What the node owes the hub as a sender is derived from its own journal
// (the relay): every escrow whose authority is the hub is a transfer; while
// it is pending the endpoint re-sends the proposal until the hub answers,
// then polls (status_request) until the hub says to complete or void; once
// settled it re-sends the completion (completed) or termination (voided or
// expired) until the hub reports the final status. Re-sends back off
// exponentially up to RetryMax and are driven by Tick, so a crash between
// the reserve commit and the send loses nothing and no commit waits on a
// send.
type Endpoint struct {
	EndpointConfig

	mu       sync.Mutex
	verifier envelope.Verifier
	inbox    *envelope.MemoryInbox
	relay    map[string]*owed // sender side, by transaction id
	scanned  int64            // last reserve entry read from the journal
	loaded   bool
	answers  map[string]any // acquirer side: the answer given, by transaction
	polls    uint64
}

// owed is one transfer this node sends, as its relay tracks it.
type owed struct {
	esc registry.HubEscrow
	// heard is the last status the hub told this node (0: nothing yet).
	heard   protocol.Status
	done    bool
	attempt int
	next    time.Time
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

func (e *Endpoint) init() {
	if e.MaxSkew == 0 {
		e.MaxSkew = 5 * time.Minute
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.Log == nil {
		e.Log = slog.Default()
	}
	if e.RetryMin == 0 {
		e.RetryMin = DefaultRetryMin
	}
	if e.RetryMax == 0 {
		e.RetryMax = DefaultRetryMax
	}
	// The endpoint's inbox is in memory: every effect it causes goes
	// through Node.Do keyed by the hub's message id, so a message acted on
	// again after a restart is answered from the node's idempotency record.
	// Gaps: after a restart the inbox has forgotten the sequence numbers
	// already acted on, and the hub's messages about one transfer each
	// trigger an effect guarded by the ledger (an escrow settles once, an
	// import of serials already here is refused), so order adds nothing.
	e.inbox = envelope.NewMemoryInbox()
	e.relay = map[string]*owed{}
	e.answers = map[string]any{}
	e.verifier = envelope.Verifier{Trust: e.Trust, Self: e.Code, Now: e.Now, MaxSkew: e.MaxSkew, Versions: []int{protocol.Version}, Replay: e.inbox, Sequence: e.inbox, Gaps: true}
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
	// Article6 is the sender's Article 6 statement (authorised units
	// only); the proposal carries it per block with the ITMO identifiers.
	Article6 *registry.Article6Claim
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
// authority and sends the proposal. The reserve is the commit: if the send
// fails (or the process dies before it) the relay re-sends the proposal
// derived from the journal, so Propose answers once the reserve committed.
func (e *Endpoint) Propose(ctx context.Context, s Send) (Sent, error) {
	if err := registry.CheckArticle6Claim("article6", s.Article6); err != nil {
		return Sent{}, err
	}
	req := registry.Reserve{From: s.From, Units: s.Units, ToRegistry: s.ToRegistry, ToAccountRef: strconv.FormatInt(s.ToAccount, 10),
		Authority: &registry.Authority{Role: registry.AuthorityHub, OrgID: e.HubOrg}, ExpiresIn: s.ExpiresIn, Purpose: s.Purpose, Article6: s.Article6}
	res, err := e.Node.Do(ctx, s.Actor, s.Key, req)
	if err != nil {
		return Sent{}, err
	}
	esc := registry.HubEscrow{Pending: res.Pending, At: res.At, From: s.From, ToRegistry: s.ToRegistry, ToAccountRef: req.ToAccountRef, UnitType: s.Units.UnitType,
		Purpose: s.Purpose, Article6: s.Article6, ExpiresAt: res.ExpiresAt, Quantity: res.Quantity, Blocks: res.Blocks}
	p, err := e.proposal(esc)
	if err != nil {
		return Sent{}, err
	}
	tx := e.txID(esc.Pending)
	e.mu.Lock()
	if e.relay[tx] == nil {
		e.relay[tx] = &owed{esc: esc}
	}
	e.mu.Unlock()
	e.flush(ctx)
	return Sent{ID: tx, Status: protocol.StatusProposed, Quantity: res.Quantity, Blocks: p.Blocks, EscrowExpiry: res.ExpiresAt}, nil
}

func (e *Endpoint) txID(pending int64) string { return e.Code + ":" + strconv.FormatInt(pending, 10) }

// proposal builds the proposal of escrow x. It depends only on the
// journal's reserve entry, so a proposal re-derived after a restart is
// the same message (same content hash) as the first.
func (e *Endpoint) proposal(x registry.HubEscrow) (protocol.Proposal, error) {
	blocks, err := protocolBlocks(x.Blocks)
	if err != nil {
		return protocol.Proposal{}, err
	}
	if c := x.Article6; c != nil {
		for i, b := range blocks {
			s := ledger.Serial{Registry: b.OriginRegistry, UnitType: b.UnitType, Project: b.Project, Vintage: b.Vintage, Start: b.Start, End: b.End}
			s.Issuance, _ = strconv.ParseInt(b.IssuanceID, 10, 64)
			first, last := article6.ITMORange(c.Approach, c.Party, s)
			blocks[i].Article6 = protocol.Article6Units{Authorisation: c.Authorisation, Version: c.Version, FirstTransfer: c.FirstTransfer,
				FirstITMO: first.String(), LastITMO: last.String()}
		}
	}
	unitType := x.UnitType
	if unitType == "" && len(blocks) > 0 {
		unitType = blocks[0].UnitType
	}
	return protocol.Proposal{FromRegistry: e.Code, FromAccount: strconv.FormatInt(x.From, 10), ToRegistry: x.ToRegistry, ToAccount: x.ToAccountRef,
		UnitType: unitType, Purpose: x.Purpose, Quantity: x.Quantity, Blocks: blocks, EscrowID: strconv.FormatInt(x.Pending, 10), EscrowExpiry: x.ExpiresAt.UTC()}, nil
}

// Tick brings the relay up to date with the node's journal (new escrows,
// settlements, expiries) and sends every message that is due.
func (e *Endpoint) Tick(ctx context.Context) error {
	err := e.scan(ctx)
	e.flush(ctx)
	return err
}

// scan reads the hub escrows the relay has not seen and refreshes how the
// open ones are settled.
func (e *Endpoint) scan(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for {
		xs, err := e.Node.HubEscrows(ctx, e.hubActor(), e.HubOrg, e.scanned, 1000)
		if err != nil {
			return fmt.Errorf("hub: %s reading escrows: %w", e.Code, err)
		}
		for _, x := range xs {
			e.scanned = max(e.scanned, x.Pending)
			tx := e.txID(x.Pending)
			if e.relay[tx] == nil {
				e.relay[tx] = &owed{esc: x}
			}
		}
		if len(xs) < 1000 {
			break
		}
	}
	e.loaded = true
	for _, o := range e.relay {
		if !o.done && o.esc.Settled == "" {
			e.refresh(o)
		}
	}
	return nil
}

// refresh reads how o's escrow is settled now; a change makes the next
// message due at once.
func (e *Endpoint) refresh(o *owed) {
	if s := e.Node.EscrowSettled(o.esc.Pending); s != o.esc.Settled {
		o.esc.Settled = s
		o.attempt, o.next = 0, time.Time{}
	}
}

// flush sends the relay's due messages, outside the lock.
func (e *Endpoint) flush(ctx context.Context) {
	e.mu.Lock()
	now := e.Now()
	var sealed []string
	txs := make([]string, 0, len(e.relay))
	for tx := range e.relay {
		txs = append(txs, tx)
	}
	sort.Strings(txs)
	for _, tx := range txs {
		o := e.relay[tx]
		if o.done || now.Before(o.next) {
			continue
		}
		c, err := e.owedMessage(tx, o)
		if err != nil {
			e.Log.Warn("hub endpoint: building message", "registry", e.Code, "transfer", tx, "err", err)
			continue
		}
		o.attempt++
		o.next = now.Add(backoff(o.attempt, e.RetryMin, e.RetryMax))
		sealed = append(sealed, c)
	}
	e.mu.Unlock()
	for _, c := range sealed {
		if err := e.Transport.Send(ctx, e.HubCode, c); err != nil {
			e.Log.Debug("hub endpoint: send failed, will retry", "registry", e.Code, "err", err)
		}
	}
}

// owedMessage is what the relay sends for o now.
func (e *Endpoint) owedMessage(tx string, o *owed) (string, error) {
	p, err := e.proposal(o.esc)
	if err != nil {
		return "", err
	}
	switch o.esc.Settled {
	case "":
		if o.heard == protocol.StatusNone {
			return e.seal(tx, 1, p)
		}
		e.polls++
		h := envelope.Header{ID: fmt.Sprintf("%s:poll:%s:%d:%d", e.Code, tx, e.Now().UnixNano(), e.polls), From: e.Code, To: e.HubCode, TransactionID: tx, SentAt: e.Now().UTC()}
		return protocol.Seal(e.Signer, h, protocol.StatusRequest{})
	case "completed":
		return e.seal(tx, 2, protocol.Completion{Blocks: p.Blocks})
	default: // voided, expired
		return e.seal(tx, 2, protocol.Termination{EscrowID: p.EscrowID, Reason: "escrow " + o.esc.Settled, Proposal: &p})
	}
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

// seal seals one message about tx. Its id is derived from the
// transaction and the step, so a re-sent message is the same message.
func (e *Endpoint) seal(tx string, seq uint64, payload any) (string, error) {
	h := envelope.Header{ID: e.Code + ":" + tx + ":" + strconv.FormatUint(seq, 10), From: e.Code, To: e.HubCode, TransactionID: tx, Sequence: seq, SentAt: e.Now().UTC()}
	return protocol.Seal(e.Signer, h, payload)
}

// Receive implements Receiver: the hub's messages to this node. A
// duplicate is not acted on again, but still tells the relay what the hub
// knows, and a duplicate question (the notice at 2 or 4) is answered again
// (the hub re-sends it because the answer was lost). Replies are sent
// after the lock is released.
func (e *Endpoint) Receive(ctx context.Context, compact string) error {
	reply, err := e.receive(ctx, compact)
	for _, c := range reply {
		if err := e.Transport.Send(ctx, e.HubCode, c); err != nil {
			e.Log.Debug("hub endpoint: send failed", "registry", e.Code, "err", err)
		}
	}
	e.flush(ctx)
	return err
}

func (e *Endpoint) receive(ctx context.Context, compact string) ([]string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	m, payload, disp, err := protocol.Open(ctx, e.verifier, compact)
	if err != nil {
		return nil, err
	}
	if m.From != e.HubCode {
		return nil, &envelope.Refusal{Code: protocol.CodeWrongSender, Detail: fmt.Sprintf("%s is not the hub", m.From)}
	}
	if !e.loaded {
		// After a restart, know the transfers this node sends before acting.
		e.mu.Unlock()
		err := e.scan(ctx)
		e.mu.Lock()
		if err != nil {
			return nil, err
		}
	}
	if hs, ok := payload.(protocol.HeadSeen); ok {
		// Kept with the hub's signed message itself, the hub's word.
		if disp == envelope.Act {
			if err := e.headSeen(ctx, hs, compact); err != nil {
				return nil, err
			}
			e.inbox.Record(m)
		}
		// Answered (a duplicate too: the hub re-sends until it hears it).
		c, err := e.seal(hs.Reconciliation, 0, protocol.HeadKept{Reconciliation: hs.Reconciliation, Seq: hs.Head.Seq})
		if err != nil {
			return nil, err
		}
		return []string{c}, nil
	}
	reply, err := e.act(ctx, m, payload, disp == envelope.Act)
	if err != nil {
		return nil, err
	}
	if disp == envelope.Act {
		e.inbox.Record(m)
	}
	return reply, nil
}

// act handles one hub message; fresh is false for a duplicate, which
// causes no ledger effect but is still answered.
func (e *Endpoint) act(ctx context.Context, m envelope.Message, payload any, fresh bool) ([]string, error) {
	tx := m.TransactionID
	key := "hub:" + m.ID
	o := e.relay[tx]
	switch p := payload.(type) {
	case protocol.CheckResult:
		if o == nil {
			return nil, nil
		}
		e.hear(o, p.Status)
		if p.Status == protocol.StatusCheckedDiscrepancy && fresh {
			return nil, e.settle(ctx, o, key, false, "hub check: "+findingCodes(p.Findings))
		}
		return nil, nil
	case protocol.Freeze:
		if !fresh {
			return nil, nil
		}
		return nil, e.freeze(ctx, key, p)
	case protocol.StatusReport:
		if o != nil {
			e.hear(o, p.Status)
		}
		return nil, nil
	case protocol.Notice:
		switch p.Status {
		case protocol.StatusChecked:
			if p.Proposal != nil && p.Proposal.ToRegistry == e.Code {
				return e.answer(tx, p)
			}
		case protocol.StatusCompleted:
			if p.Proposal != nil && p.Proposal.ToRegistry == e.Code {
				return e.importBlocks(ctx, tx, key, p)
			}
		}
		if o == nil {
			return nil, nil
		}
		e.hear(o, p.Status)
		if !fresh {
			return nil, nil
		}
		switch p.Status {
		case protocol.StatusAccepted:
			return nil, e.settle(ctx, o, key, true, "")
		case protocol.StatusRejected:
			return nil, e.settle(ctx, o, key, false, "rejected by the acquiring registry: "+findingCodes(p.Findings))
		case protocol.StatusCancelled:
			return nil, e.settle(ctx, o, key, false, "cancelled by the hub: "+findingCodes(p.Findings))
		}
		return nil, nil
	}
	return nil, &envelope.Refusal{Code: protocol.CodeWrongSender, Detail: fmt.Sprintf("a registry does not take %s", m.Type)}
}

// hear records what the hub told the sender: any answer stops the
// proposal's re-sends (polls follow); a final status ends the relay's
// work for the transfer; a hub that does not know the transfer gets the
// proposal again.
func (e *Endpoint) hear(o *owed, s protocol.Status) {
	switch {
	case s.Final():
		o.done = true
	case s == protocol.StatusNone:
		if o.heard != protocol.StatusNone && o.esc.Settled == "" {
			o.heard, o.attempt, o.next = protocol.StatusNone, 0, time.Time{}
		}
	case o.heard == protocol.StatusNone:
		o.heard = s
		o.attempt = 1
		o.next = e.Now().Add(backoff(1, e.RetryMin, e.RetryMax))
	default:
		o.heard = s
	}
}

// answer is the acquiring registry's check of a proposal: the account
// exists, is open and may receive units. A question asked again gets the
// answer given before (the same message).
func (e *Endpoint) answer(tx string, n protocol.Notice) ([]string, error) {
	ans, ok := e.answers[tx]
	if !ok {
		acc, err := strconv.ParseInt(n.Proposal.ToAccount, 10, 64)
		if err == nil {
			err = e.Node.CheckAcquiring(acc)
		}
		ans = protocol.Acceptance{ToAccount: n.Proposal.ToAccount}
		if err != nil {
			code, detail := ledger.CodeAcquiringNotFound, err.Error()
			if le, ok := ledger.AsError(err); ok {
				// The finding has the code: its detail is the sentence
				// (err.Error() would print the code a second time).
				code, detail = le.Code, le.Detail
				if le.Check != 0 {
					detail += fmt.Sprintf(" (ITL check %d)", le.Check)
				}
			}
			ans = protocol.Rejection{Findings: []protocol.Finding{{Code: code, Detail: detail}}}
		}
		e.answers[tx] = ans
	}
	c, err := e.seal(tx, 1, ans)
	if err != nil {
		return nil, err
	}
	return []string{c}, nil
}

// settle completes or voids the transfer's escrow; the relay then sends
// the completion or termination (derived from how the escrow settled, so
// an escrow that expired first is reported as such).
func (e *Endpoint) settle(ctx context.Context, o *owed, key string, complete bool, reason string) error {
	var req registry.Request = registry.Void{Pending: o.esc.Pending, Reason: reason}
	if complete {
		req = registry.Complete{Pending: o.esc.Pending}
	}
	_, err := e.Node.Do(ctx, e.hubActor(), key, req)
	e.refresh(o)
	if err != nil {
		if _, rule := ledger.AsError(err); rule && o.esc.Settled != "" {
			// Settled otherwise already (expired): the relay reports how.
			e.Log.Info("hub endpoint: escrow already settled", "registry", e.Code, "pending", o.esc.Pending, "settled", o.esc.Settled, "err", err)
			return nil
		}
		return fmt.Errorf("hub: %s settling escrow %d: %w", e.Code, o.esc.Pending, err)
	}
	return nil
}

// importBlocks creates the blocks the hub forwards at 4 in the acquiring
// account, with their origin issuance and serials, and acknowledges. If
// that account can no longer receive them (closed or suspended after it
// accepted), they go to the Suspense account: the sender has already
// exported them, so a refusal would leave them in no registry.
func (e *Endpoint) importBlocks(ctx context.Context, tx, key string, n protocol.Notice) ([]string, error) {
	if len(n.Blocks) == 0 {
		return nil, &envelope.Refusal{Code: envelope.CodeMalformed, Detail: "a notice at 4 carries the proposal and its blocks"}
	}
	acc, err := strconv.ParseInt(n.Proposal.ToAccount, 10, 64)
	if err != nil {
		return nil, &envelope.Refusal{Code: envelope.CodeMalformed, Detail: "to_account is not an account number"}
	}
	imp := registry.Import{Transfer: tx, ToAccount: acc}
	for _, b := range n.Blocks {
		id, err := strconv.ParseInt(b.IssuanceID, 10, 64)
		if err != nil {
			return nil, &envelope.Refusal{Code: envelope.CodeMalformed, Detail: fmt.Sprintf("issuance id %q", b.IssuanceID)}
		}
		o, err := e.Origins.Origin(ctx, registry.Origin{Registry: b.OriginRegistry, Issuance: id})
		if err != nil {
			return nil, err
		}
		if o.UnitType != b.UnitType || o.Project != b.Project || o.Vintage != b.Vintage {
			return nil, &envelope.Refusal{Code: envelope.CodeMalformed, Detail: fmt.Sprintf("block %s/%d does not match its origin issuance", b.OriginRegistry, id)}
		}
		ib := registry.ImportBlock{Origin: o, Start: b.Start, End: b.End}
		if a := b.Article6; a.Stated() {
			ib.ITMO = &registry.ImportITMO{Authorisation: a.Authorisation, Version: a.Version, First: a.FirstITMO, Last: a.LastITMO, Purposes: a.Purposes}
		}
		imp.Blocks = append(imp.Blocks, ib)
	}
	_, err = e.Node.Do(ctx, e.hubActor(), key, imp)
	if le, rule := ledger.AsError(err); rule && e.Suspense != 0 && accountCodes[le.Code] {
		e.Log.Warn("hub endpoint: acquiring account cannot receive the import; importing into the suspense account", "registry", e.Code, "transfer", tx, "account", acc, "err", err)
		imp.ToAccount = e.Suspense
		_, err = e.Node.Do(ctx, e.hubActor(), key+":suspense", imp)
	}
	if err != nil {
		return nil, fmt.Errorf("hub: %s importing %s: %w", e.Code, tx, err)
	}
	c, err := e.seal(tx, 2, protocol.ImportAck{ToAccount: strconv.FormatInt(imp.ToAccount, 10)})
	if err != nil {
		return nil, err
	}
	return []string{c}, nil
}

// freeze records the hub's freeze at the node as the hub actor, keyed by
// the message id, so a freeze delivered again (after a restart the inbox
// is empty) is the same journal entry. A rule refusal (a block that does
// not name an origin issuance, an empty freeze) is refused to the hub with
// its code; anything else is an error, and the hub re-sends.
func (e *Endpoint) freeze(ctx context.Context, key string, p protocol.Freeze) error {
	f := registry.Freeze{Code: p.Code, Reconciliation: p.Reconciliation, Reason: p.Reason}
	for _, b := range p.Blocks {
		id, err := strconv.ParseInt(b.IssuanceID, 10, 64)
		if err != nil {
			return &envelope.Refusal{Code: envelope.CodeMalformed, Detail: fmt.Sprintf("issuance id %q", b.IssuanceID)}
		}
		f.Blocks = append(f.Blocks, registry.FreezeBlock{Origin: registry.Origin{Registry: b.OriginRegistry, Issuance: id}, Start: b.Start, End: b.End})
	}
	if _, err := e.Node.Do(ctx, e.hubActor(), key, f); err != nil {
		if le, rule := ledger.AsError(err); rule {
			return &envelope.Refusal{Code: envelope.Code(le.Code), Detail: err.Error()}
		}
		return fmt.Errorf("hub: %s freezing for %s: %w", e.Code, p.Reconciliation, err)
	}
	e.Log.Info("hub endpoint: frozen by the hub's reconciliation", "registry", e.Code, "reconciliation", p.Reconciliation, "code", p.Code, "blocks", len(f.Blocks))
	return nil
}

// headSeen records the head the hub recorded of this node's journal. A
// head this node did not sign is refused: the node keeps only its own
// promises.
func (e *Endpoint) headSeen(ctx context.Context, p protocol.HeadSeen, compact string) error {
	h := p.Head
	if err := e.Node.RecordHubHead(ctx, h, p.Reconciliation, compact); err != nil {
		if errors.Is(err, registry.ErrNotOwnHead) {
			return &envelope.Refusal{Code: envelope.CodeMalformed, Detail: err.Error()}
		}
		return fmt.Errorf("hub: %s recording the hub's head %d: %w", e.Code, h.Seq, err)
	}
	return nil
}

// accountCodes are the refusals of an import that concern the acquiring
// account, not the units: the import then goes to the suspense account.
var accountCodes = map[string]bool{ledger.CodeAcquiringNotFound: true, ledger.CodeAccountNotOpen: true, ledger.CodeAccountType: true}

func findingCodes(fs []protocol.Finding) string {
	codes := make([]string, len(fs))
	for i, f := range fs {
		codes[i] = f.Code
	}
	return strings.Join(codes, ", ")
}

// Backlog counts the transfers the relay still owes the hub messages
// about: Owed are not final at the hub yet; Unacknowledged of them the
// hub has not answered at all (its proposal not yet taken).
type Backlog struct {
	Owed           int `json:"owed"`
	Unacknowledged int `json:"unacknowledged"`
}

// Backlog is the relay's backlog now (for /readyz and /metrics).
func (e *Endpoint) Backlog() Backlog {
	e.mu.Lock()
	defer e.mu.Unlock()
	var b Backlog
	for _, o := range e.relay {
		if o.done {
			continue
		}
		b.Owed++
		if o.heard == protocol.StatusNone {
			b.Unacknowledged++
		}
	}
	return b
}

// LocalTransfer is the sending node's own record of transfer tx, from its
// relay: the proposal as it sends it, the last status the hub told it
// (0: none) and its SenderState. A node answers it when the hub has no
// record of the transfer yet or cannot be reached.
func (e *Endpoint) LocalTransfer(tx string) (Transfer, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	o := e.relay[tx]
	if o == nil {
		return Transfer{}, false
	}
	p, err := e.proposal(o.esc)
	if err != nil {
		return Transfer{}, false
	}
	state := SenderReservedNotSent
	switch {
	case o.esc.Settled != "" && !o.done:
		state = SenderSettledNotReported
	case o.heard != protocol.StatusNone:
		state = SenderAcknowledged
	case o.attempt > 0:
		state = SenderSentNotAcknowledged
	}
	return Transfer{ID: tx, Proposal: p, Status: o.heard, History: []StatusChange{{Status: o.heard, At: o.esc.At}}, SenderState: state}, true
}
