// Package protocol defines the hub protocol's versioned message types, the
// one table of them, and the status machine of a cross-registry transfer
// with the Kyoto DES status numbers.
package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

// Version is the protocol version these types encode. A change to any
// payload below is a new version that both sides accept for a while; the
// API's JSON structs may change freely, these may not.
const Version = 1

// Status is a cross-registry transfer's status, numbered as in the Kyoto
// Data Exchange Standards (kept by the UK ETS registry's TransactionStatus).
type Status int

const (
	// StatusNone: no proposal recorded yet.
	StatusNone               Status = 0
	StatusProposed           Status = 1
	StatusChecked            Status = 2 // checked, no discrepancy
	StatusCheckedDiscrepancy Status = 3
	StatusCompleted          Status = 4
	StatusTerminated         Status = 5
	StatusRejected           Status = 6
	StatusCancelled          Status = 7
	StatusAccepted           Status = 8
	maxStatus                       = StatusAccepted
)

var statusNames = map[Status]string{
	StatusNone: "none", StatusProposed: "proposed", StatusChecked: "checked",
	StatusCheckedDiscrepancy: "checked_discrepancy", StatusCompleted: "completed",
	StatusTerminated: "terminated", StatusRejected: "rejected", StatusCancelled: "cancelled",
	StatusAccepted: "accepted",
}

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Final reports whether no message moves s any more. As in the DES, 4, 5
// and 7 are final; 3 and 6 lead to 5 once the sender has voided its escrow.
func (s Status) Final() bool {
	return s == StatusCompleted || s == StatusTerminated || s == StatusCancelled
}

// Role is a participant's role in one transfer.
type Role string

const (
	RoleTransferring Role = "transferring"
	RoleAcquiring    Role = "acquiring"
	RoleHub          Role = "hub"
)

// Block is a serial range of one origin issuance. Serials never change
// across registries: the acquirer records the same origin and range.
type Block struct {
	OriginRegistry string `json:"origin_registry"`
	IssuanceID     string `json:"issuance_id"`
	UnitType       string `json:"unit_type"`
	Project        string `json:"project"`
	Vintage        int    `json:"vintage"`
	Start          int64  `json:"start"`
	End            int64  `json:"end"`
	// Article6 is the sender's Article 6 statement about the block's
	// units, absent (omitted on the wire) for units outside any
	// authorisation. An optional field of version 1: a message without it
	// decodes as before, and the hub then states the first transfer from
	// its own record.
	Article6 Article6Units `json:"article6,omitzero"`
}

// Article6Units is what the hub needs to check Article 6 at proposal: the
// authorisation (id and version) the units carry, whether the sender
// declares this transfer their first transfer (decision 2/CMA.3, annex,
// para. 2 [recall]), and the ITMO identifiers (decision 6/CMA.4: approach,
// originating registry, first transferring Party, vintage, unit) of the
// block's first and last unit, in article6.ITMOID's text form.
type Article6Units struct {
	Authorisation string `json:"authorisation"`
	Version       int    `json:"version"`
	FirstTransfer bool   `json:"first_transfer"`
	FirstITMO     string `json:"first_itmo"`
	LastITMO      string `json:"last_itmo"`
	// Purposes are the purposes the authorisation (at Version) allows, as
	// the hub's record has them ("NDC", "OIMP", "OP"), comma-separated in
	// that order: the hub states them at completion (the notice at 4) so
	// the acquiring registry can refuse a use the hub's ledger would then
	// refuse (a Singapore ICC surrender needs NDC, registry/icc.go). A
	// string, not a list, so that a Block stays comparable with ==. An
	// optional field of version 1, omitted when empty: a sender does not
	// state it, and a message without it decodes as before (the purposes
	// are then unknown to the acquirer).
	Purposes string `json:"purposes,omitempty"`
}

// Stated reports whether the sender made an Article 6 statement.
func (a Article6Units) Stated() bool { return a != Article6Units{} }

// Quantity is the number of units in the block.
func (b Block) Quantity() int64 { return b.End - b.Start + 1 }

// Finding is one check's verdict, with a stable code.
type Finding struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// Proposal: the transferring registry has put the blocks in escrow with
// the hub as settlement authority and proposes the transfer (→ 1).
type Proposal struct {
	FromRegistry string    `json:"from_registry"`
	FromAccount  string    `json:"from_account"`
	ToRegistry   string    `json:"to_registry"`
	ToAccount    string    `json:"to_account"`
	UnitType     string    `json:"unit_type"`
	Purpose      string    `json:"purpose"`
	Quantity     int64     `json:"quantity"`
	Blocks       []Block   `json:"blocks"`
	EscrowID     string    `json:"escrow_id"`
	EscrowExpiry time.Time `json:"escrow_expiry"`
}

// CheckResult: the hub's checks (→ 2, or 3 with findings).
type CheckResult struct {
	Status   Status    `json:"status"`
	Findings []Finding `json:"findings,omitempty"`
}

// Acceptance: the acquiring registry will take the units (→ 8).
type Acceptance struct {
	ToAccount string `json:"to_account"`
}

// Rejection: the acquiring registry refuses (→ 6).
type Rejection struct {
	Findings []Finding `json:"findings"`
}

// Completion: the transferring registry has completed the escrow, the
// units are exported (→ 4).
type Completion struct {
	Blocks []Block `json:"blocks"`
}

// Termination: the transferring registry's escrow ended without
// completing (→ 5): voided after a discrepancy or a rejection, or expired
// at the sender. It carries the proposal, so a hub that never received the
// proposal (lost, and the escrow expired meanwhile) still records the
// transfer as terminated and refuses a late copy of the proposal.
type Termination struct {
	EscrowID string    `json:"escrow_id"`
	Reason   string    `json:"reason,omitempty"`
	Proposal *Proposal `json:"proposal,omitempty"`
}

// Cancellation: the hub's timer for the transaction ran out (→ 7).
type Cancellation struct {
	Reason string `json:"reason"`
}

// Notice: the hub tells a registry the transfer's status; with Proposal
// for the acquirer at 2, with Blocks for the acquirer at 4 (it then
// creates the blocks with their original serials).
type Notice struct {
	Status   Status    `json:"status"`
	Proposal *Proposal `json:"proposal,omitempty"`
	Blocks   []Block   `json:"blocks,omitempty"`
	Findings []Finding `json:"findings,omitempty"`
}

// ImportAck: the acquiring registry has imported the blocks the hub
// forwarded at 4 (or holds them, see Endpoint), so the hub stops re-sending
// the 4 notice. It does not move the status: 4 is final.
type ImportAck struct {
	// ToAccount is the account the blocks were imported into: the
	// proposal's, or the registry's suspense account when that one could
	// no longer receive them.
	ToAccount string `json:"to_account"`
}

// StatusRequest asks for a transaction's status; it recovers lost answers.
type StatusRequest struct{}

// StatusReport answers a StatusRequest.
type StatusReport struct {
	Status Status `json:"status"`
}

// FreezeRange is a serial range of an origin issuance a Freeze covers.
type FreezeRange struct {
	OriginRegistry string `json:"origin_registry"`
	IssuanceID     string `json:"issuance_id"`
	Start          int64  `json:"start"`
	End            int64  `json:"end"`
}

// Freeze: the hub's reconciliation found the registry's blocks differ
// from the hub's records, and the registry blocks the serials (its
// journaled kind freeze) until its administrator unfreezes them, as the
// ITL keeps a unit block under reconciliation out of any transaction. It
// is about no transfer: its transaction id is the reconciliation's id, it
// carries no sequence number, and its message id is the freeze's
// idempotency key at the registry, so a re-sent freeze has one effect.
type Freeze struct {
	Reconciliation string        `json:"reconciliation"`
	Code           string        `json:"code"`
	Reason         string        `json:"reason"`
	Blocks         []FreezeRange `json:"blocks"`
}

// Head is a registry's signed journal head. Its JSON is fixed as a
// payload's must be: the signature covers its fields (SigningBytes), and
// the golden wire test holds its encoding.
type Head = ledger.SignedHead

// HeadSeen: the hub recorded the registry's signed head at a
// reconciliation; the registry keeps it (with this signed message) as a
// head its journal must reach. Like Freeze it is about no transfer: its
// transaction id is the reconciliation's id, and it carries no sequence
// number.
type HeadSeen struct {
	Reconciliation string `json:"reconciliation"`
	Head           Head   `json:"head"`
}

// HeadKept answers HeadSeen: the registry kept the head the hub recorded
// at the reconciliation, so the hub stops re-sending it. Not sequenced;
// its transaction id is the reconciliation's id.
type HeadKept struct {
	Reconciliation string `json:"reconciliation"`
	Seq            int64  `json:"seq"`
}

// Spec is one row of the message-type table.
type Spec struct {
	Type    string
	Payload reflect.Type
	// Senders are the roles that may send this type.
	Senders []Role
	// From are the statuses of the hub's record this type applies to, To
	// the statuses it may move it to. A type with no To does not move the
	// hub's record (notices, polls).
	From, To []Status
	// Sequenced types carry the per-transaction sequence number.
	Sequenced bool
}

func spec[T any](typ string, senders []Role, from, to []Status, sequenced bool) Spec {
	return Spec{Type: typ, Payload: reflect.TypeFor[T](), Senders: senders, From: from, To: to, Sequenced: sequenced}
}

var (
	hub          = []Role{RoleHub}
	transferring = []Role{RoleTransferring}
	acquiring    = []Role{RoleAcquiring}
	anyone       = []Role{RoleHub, RoleTransferring, RoleAcquiring}
	st           = func(s ...Status) []Status { return s }
)

// Types is the table of message types: the flow of an external transfer
// in the DES (propose → log checks → acquirer accepts or rejects → sender
// completes → log forwards completion), with the log's timeout.
var Types = []Spec{
	spec[Proposal]("proposal", transferring, st(StatusNone), st(StatusProposed), true),
	spec[CheckResult]("check_result", hub, st(StatusProposed), st(StatusChecked, StatusCheckedDiscrepancy), true),
	spec[Acceptance]("acceptance", acquiring, st(StatusChecked), st(StatusAccepted), true),
	spec[Rejection]("rejection", acquiring, st(StatusChecked), st(StatusRejected), true),
	spec[Completion]("completion", transferring, st(StatusAccepted), st(StatusCompleted), true),
	// Termination also ends a transfer whose escrow expired at the sender:
	// at 2 (the acquirer had not answered yet), at 8 (the acquirer
	// accepted but the escrow expired before the sender completed: the
	// node's expire is final, the units are back with the holder, so the
	// hub may not wait for a completion that can no longer come), and at 1
	// (the hub never got the proposal: it records the transfer from the
	// termination's copy, 1 then 5, without checks, nothing having moved).
	spec[Termination]("termination", transferring, st(StatusProposed, StatusChecked, StatusCheckedDiscrepancy, StatusRejected, StatusAccepted), st(StatusTerminated), true),
	// No cancellation after 8: once the hub has told the sender the
	// acquirer accepted, the sender may complete at any moment, so the hub
	// keeps polling instead of cancelling (a late Completed after a
	// cancellation would lose the units between two registries).
	spec[Cancellation]("cancellation", hub, st(StatusProposed, StatusChecked), st(StatusCancelled), true),
	spec[Notice]("notice", hub, nil, nil, true),
	spec[ImportAck]("import_ack", acquiring, st(StatusCompleted), nil, true),
	spec[StatusRequest]("status_request", anyone, nil, nil, false),
	spec[StatusReport]("status_report", anyone, nil, nil, false),
	// Freeze moves no transfer's status (reconciliation, not a transfer).
	spec[Freeze]("freeze", hub, nil, nil, false),
	spec[HeadSeen]("head_seen", hub, nil, nil, false),
	spec[HeadKept]("head_kept", []Role{RoleTransferring, RoleAcquiring}, nil, nil, false),
}

// Lookup returns the table row of typ.
func Lookup(typ string) (Spec, bool) {
	i := slices.IndexFunc(Types, func(s Spec) bool { return s.Type == typ })
	if i < 0 {
		return Spec{}, false
	}
	return Types[i], true
}

// Unsequenced reports types that carry no sequence number (for the
// envelope verifier).
func Unsequenced(typ string) bool {
	s, ok := Lookup(typ)
	return ok && !s.Sequenced
}

// Errors of the status machine.
var (
	ErrUnknownType   = errors.New("protocol: unknown message type")
	ErrWrongSender   = errors.New("protocol: role may not send this type")
	ErrFinal         = errors.New("protocol: transaction is final")
	ErrNotApplicable = errors.New("protocol: message does not apply to this status")
)

// Transition is the status machine of the hub's record: the status that
// a message of typ, sent by role and announcing to, moves cur to. It is
// pure; the hub journals the result.
func Transition(cur Status, typ string, role Role, to Status) (Status, error) {
	s, ok := Lookup(typ)
	if !ok {
		return cur, fmt.Errorf("%w %q", ErrUnknownType, typ)
	}
	if !slices.Contains(s.Senders, role) {
		return cur, fmt.Errorf("%w: %s sent %q", ErrWrongSender, role, typ)
	}
	if cur.Final() {
		return cur, fmt.Errorf("%w: %s at %s", ErrFinal, typ, cur)
	}
	if !slices.Contains(s.From, cur) || !slices.Contains(s.To, to) {
		return cur, fmt.Errorf("%w: %s from %s to %s", ErrNotApplicable, typ, cur, to)
	}
	return to, nil
}

// Follow moves a registry's own view of a transfer to the status the hub
// announces in a Notice. A registry sees only some steps (the acquirer
// learns of a transfer at 2), so the view may jump forward along the
// table's transitions but never back and never out of a final status.
func Follow(view, announced Status) (Status, error) {
	if view == announced {
		return view, nil
	}
	if view.Final() {
		return view, fmt.Errorf("%w: notice %s at %s", ErrFinal, announced, view)
	}
	if !reachable(view, announced) {
		return view, fmt.Errorf("%w: notice %s at %s", ErrNotApplicable, announced, view)
	}
	return announced, nil
}

func reachable(from, to Status) bool {
	seen := map[Status]bool{from: true}
	queue := []Status{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, s := range Types {
			if !slices.Contains(s.From, cur) {
				continue
			}
			for _, n := range s.To {
				if n == to {
					return true
				}
				if !seen[n] {
					seen[n] = true
					queue = append(queue, n)
				}
			}
		}
	}
	return false
}

// Decode parses body strictly (unknown fields refused) into typ's payload.
func Decode(typ string, body []byte) (any, error) {
	s, ok := Lookup(typ)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownType, typ)
	}
	v := reflect.New(s.Payload)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v.Interface()); err != nil {
		return nil, fmt.Errorf("protocol: decoding %s: %w", typ, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("protocol: decoding %s: trailing data", typ)
	}
	return v.Elem().Interface(), nil
}

// TypeOf returns the table's type name for a payload value.
func TypeOf(payload any) (string, error) {
	t := reflect.TypeOf(payload)
	for _, s := range Types {
		if s.Payload == t {
			return s.Type, nil
		}
	}
	return "", fmt.Errorf("%w: payload %T", ErrUnknownType, payload)
}
