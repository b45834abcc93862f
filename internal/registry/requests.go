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
	Name    string `json:"name"`
	Country string `json:"country"`
}

// OpenAccount opens an account for an organisation (admin).
type OpenAccount struct {
	OrgID int64              `json:"organisation_id"`
	Type  ledger.AccountType `json:"type"`
	Name  string             `json:"name"`
}

// SetAccountStatus opens, suspends or closes an account (admin).
type SetAccountStatus struct {
	AccountID int64                `json:"account_id"`
	Status    ledger.AccountStatus `json:"status"`
}

// Issue creates units into an account (admin). Serials 1..Quantity.
type Issue struct {
	Standard    string `json:"standard"`
	UnitType    string `json:"unit_type"`
	Project     string `json:"project"`
	ProjectName string `json:"project_name"`
	Methodology string `json:"methodology"`
	HostCountry string `json:"host_country"`
	Vintage     int    `json:"vintage"`
	Quantity    int64  `json:"quantity"`
	AccountID   int64  `json:"account_id"`
}

// Units selects the units a transaction moves: either a quantity of one
// unit type (oldest vintage, issuance and serial first; the last block is
// split), or explicit serial ranges.
type Units struct {
	Quantity int64  `json:"quantity,omitempty"`
	UnitType string `json:"unit_type,omitempty"`
	// Optional filters for a quantity selection.
	IssuanceID int64 `json:"issuance_id,omitempty"`
	Vintage    int   `json:"vintage,omitempty"`
	// Serials are block serials in the documented text form.
	Serials []string `json:"serials,omitempty"`
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
	Beneficiary    string `json:"beneficiary"`
	Purpose        string `json:"purpose"`
	ComplianceYear int    `json:"compliance_year,omitempty"`
	Reason         string `json:"reason,omitempty"`
}

// Cancel removes units without a claim; they never move again.
type Cancel struct {
	From   int64  `json:"from_account"`
	Units  Units  `json:"units"`
	Reason string `json:"reason,omitempty"`
}

// Reserve locks units for a two-phase transaction: to an account of this
// registry (ToAccount) or out of it (ToRegistry and ToAccountRef). Complete
// or Void settles it.
type Reserve struct {
	From         int64  `json:"from_account"`
	Units        Units  `json:"units"`
	ToAccount    int64  `json:"to_account,omitempty"`
	ToRegistry   string `json:"to_registry,omitempty"`
	ToAccountRef string `json:"to_account_ref,omitempty"`
}

// Complete settles a reservation: units go to the target account, or are
// marked exported when they left the registry.
type Complete struct {
	Pending int64 `json:"pending"`
}

// Void cancels a reservation: units return to the sending account.
type Void struct {
	Pending int64  `json:"pending"`
	Reason  string `json:"reason,omitempty"`
}

// CreateToken issues an API token for an organisation (admin). The token
// text is returned once and stored only as a hash.
type CreateToken struct {
	OrgID int64       `json:"organisation_id"`
	Role  ledger.Role `json:"role"`
	Name  string      `json:"name"`
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
