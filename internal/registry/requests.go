package registry

import (
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

// Actor is who asks for a change: an organisation acting in a role. The
// registry enforces what each role may do to whose accounts.
type Actor struct {
	OrgID int64       `json:"organisation_id"`
	Role  ledger.Role `json:"role"`
}

func (a Actor) String() string { return string(a.Role) + "@org:" + itoa(a.OrgID) }

// Request is one ledger transaction. The concrete types below are also the
// API's request bodies.
type Request interface{ Kind() string }

// CreateOrganisation registers an organisation (admin).
type CreateOrganisation struct {
	Name    string `json:"name" limit:"200"`
	Country string `json:"country" limit:"2"`
}

// OpenAccount opens an account for an organisation (admin).
type OpenAccount struct {
	OrgID int64              `json:"organisation_id"`
	Type  ledger.AccountType `json:"type" limit:"32"`
	Name  string             `json:"name" limit:"200"`
}

// SetAccountStatus opens, suspends or closes an account (admin).
type SetAccountStatus struct {
	AccountID int64                `json:"account_id"`
	Status    ledger.AccountStatus `json:"status" limit:"16"`
}

// Issue creates units into an account (admin). Serials 1..Quantity.
type Issue struct {
	IssuanceFacts
	AccountID int64 `json:"account_id"`
}

// IssuanceFacts describe an issuance as every registry of the corridor
// records it: what an Issue creates, and what the origin registry publishes
// about it to an acquirer (OriginIssuance). Embedded without a JSON name,
// its fields stand in the embedding object itself.
type IssuanceFacts struct {
	Standard    string `json:"standard" limit:"200"`
	UnitType    string `json:"unit_type" limit:"12"`
	Project     string `json:"project" limit:"64"`
	ProjectName string `json:"project_name" limit:"200"`
	Methodology string `json:"methodology" limit:"200"`
	HostCountry string `json:"host_country" limit:"2"`
	Vintage     int    `json:"vintage"`
	Quantity    int64  `json:"quantity"`
}

// Units selects the units a transaction moves: either a quantity of one
// unit type (oldest vintage, issuance and serial first; the last block is
// split), or explicit serial ranges.
type Units struct {
	Quantity int64  `json:"quantity,omitempty"`
	UnitType string `json:"unit_type,omitempty" limit:"12"`
	// Optional filters for a quantity selection.
	IssuanceID int64 `json:"issuance_id,omitempty"`
	Vintage    int   `json:"vintage,omitempty"`
	// Serials are block serials in the documented text form.
	Serials []string `json:"serials,omitempty" limit:"200"`
}

// Transfer moves units between two accounts of this registry.
type Transfer struct {
	From  int64 `json:"from_account"`
	To    int64 `json:"to_account"`
	Units Units `json:"units"`
}

// Retire uses units for a claim; they never move again.
type Retire struct {
	From           int64  `json:"from_account"`
	Units          Units  `json:"units"`
	Beneficiary    string `json:"beneficiary" limit:"200"`
	Purpose        string `json:"purpose" limit:"200"`
	ComplianceYear int    `json:"compliance_year,omitempty"`
	Reason         string `json:"reason,omitempty" limit:"1000"`
}

// Cancel removes units without a claim; they never move again.
type Cancel struct {
	From   int64  `json:"from_account"`
	Units  Units  `json:"units"`
	Reason string `json:"reason,omitempty" limit:"1000"`
}

// Reserve puts units in escrow for a two-phase transaction: to an account
// of this registry (ToAccount) or out of it (ToRegistry and ToAccountRef).
// Only the settlement authority completes or voids it (not the owner), and
// at its expiry the node voids it itself (kind expire).
type Reserve struct {
	From         int64  `json:"from_account"`
	Units        Units  `json:"units"`
	ToAccount    int64  `json:"to_account,omitempty"`
	ToRegistry   string `json:"to_registry,omitempty" limit:"12"`
	ToAccountRef string `json:"to_account_ref,omitempty" limit:"100"`
	// Authority settles the escrow; nil means the registry administrator
	// (a local two-phase transfer).
	Authority *Authority `json:"authority,omitempty"`
	// ExpiresIn is the escrow's lifetime in seconds from its commit, from
	// MinEscrowSeconds to MaxEscrowSeconds; 0 means DefaultEscrowSeconds.
	// A relative time keeps a retry under the same Idempotency-Key the same
	// request.
	ExpiresIn int64 `json:"expires_in,omitempty"`
	// Purpose is a cross-registry transfer's purpose as the hub's
	// agreements name it (e.g. "voluntary"); journaled with the escrow so
	// the hub endpoint can re-derive the proposal from the journal alone.
	Purpose string `json:"purpose,omitempty" limit:"64"`
	// Article6 is the sender's Article 6 statement for a cross-registry
	// transfer of authorised units, journaled with the escrow for the same
	// reason as Purpose; the hub checks it against its Article 6 ledger.
	Article6 *Article6Claim `json:"article6,omitempty"`
}

// Article6Claim states which authorisation the units of a cross-registry
// transfer carry and whether the sender declares the transfer their first
// transfer. Approach and Party (the first transferring Party) make the
// ITMO identifiers the proposal carries.
type Article6Claim struct {
	Authorisation string `json:"authorisation" limit:"64"`
	Version       int    `json:"version"`
	Approach      string `json:"approach" limit:"24"`
	Party         string `json:"party" limit:"2"`
	FirstTransfer bool   `json:"first_transfer,omitempty"`
}

// Complete settles a reservation: units go to the target account, or are
// marked exported when they left the registry.
type Complete struct {
	Pending int64 `json:"pending"`
}

// Void cancels a reservation: units return to the sending account.
type Void struct {
	Pending int64  `json:"pending"`
	Reason  string `json:"reason,omitempty" limit:"1000"`
}

// Expire voids a reservation whose expiry has passed. Only the node submits
// it (role system); AsOf is the time the node decided, journaled so that a
// replay takes the same decision: it is refused before the expiry and after
// the entry's own commit time.
type Expire struct {
	Pending int64     `json:"pending"`
	AsOf    time.Time `json:"as_of"`
}

// CreateToken issues an API token for an organisation (admin). The token
// text is returned once and stored only as a hash.
type CreateToken struct {
	OrgID int64       `json:"organisation_id"`
	Role  ledger.Role `json:"role" limit:"16"`
	Name  string      `json:"name" limit:"200"`
}

func (CreateOrganisation) Kind() string { return "create_organisation" }
func (OpenAccount) Kind() string        { return "open_account" }
func (SetAccountStatus) Kind() string   { return "set_account_status" }
func (Issue) Kind() string              { return "issue" }
func (Transfer) Kind() string           { return "transfer" }
func (Retire) Kind() string             { return "retire" }
func (Cancel) Kind() string             { return "cancel" }
func (Reserve) Kind() string            { return "reserve" }
func (Complete) Kind() string           { return "complete" }
func (Void) Kind() string               { return "void" }
func (Expire) Kind() string             { return "expire" }
func (CreateToken) Kind() string        { return "create_token" }

// Result is what a committed transaction returns; a replay of its
// idempotency key returns the same Result.
type Result struct {
	Seq      int64       `json:"seq"`
	Kind     string      `json:"kind"`
	At       time.Time   `json:"at"`
	ID       int64       `json:"id,omitempty"`
	Quantity int64       `json:"quantity,omitempty"`
	Blocks   []BlockView `json:"blocks,omitempty"`
	Pending  int64       `json:"pending,omitempty"`
	// ExpiresAt and Authority describe the escrow a reserve created.
	ExpiresAt time.Time  `json:"expires_at,omitzero"`
	Authority *Authority `json:"authority,omitempty"`
	// Token is the new API token's text; it is present only in the first
	// response to CreateToken, never in the journal or in replays.
	Token string `json:"token,omitempty"`
	// Replayed is true when the result comes from an earlier request with
	// the same idempotency key.
	Replayed bool `json:"replayed,omitempty"`
}

// BlockView is a block as users see it.
type BlockView struct {
	Serial     string       `json:"serial"`
	IssuanceID int64        `json:"issuance_id"`
	Start      int64        `json:"start"`
	End        int64        `json:"end"`
	Quantity   int64        `json:"quantity"`
	AccountID  int64        `json:"account_id"`
	State      ledger.State `json:"state"`
	Pending    int64        `json:"pending,omitempty"`
}
