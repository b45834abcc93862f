// Package corridorjson holds the JSON bodies of the corridor's API routes
// (a cross-border send, the hub's transfer records, the registry list):
// one definition the server (internal/api) writes and the client
// (internal/client) reads, with no server code behind it.
package corridorjson

import (
	"time"

	"github.com/corridor-carbon/corridor/internal/registry"
)

// CrossBorder is the body of POST …/transfers/cross-border: send units of
// from_account to an account of another registry of the corridor. Units
// are a quantity of one unit type (optionally of one issuance or vintage),
// or explicit serial blocks.
type CrossBorder struct {
	FromAccount int64    `json:"from_account"`
	ToRegistry  string   `json:"to_registry"`
	ToAccount   int64    `json:"to_account"`
	Quantity    int64    `json:"quantity,omitempty"`
	UnitType    string   `json:"unit_type,omitempty"`
	IssuanceID  int64    `json:"issuance_id,omitempty"`
	Vintage     int      `json:"vintage,omitempty"`
	Serials     []string `json:"serials,omitempty"`
	// Purpose is an agreement purpose code (the server's default,
	// voluntary use, when empty).
	Purpose string `json:"purpose,omitempty"`
	// ExpiresIn is the escrow's lifetime in seconds (the registry's
	// default when 0); the escrow voids itself if the transfer has not
	// completed by then.
	ExpiresIn int64 `json:"expires_in,omitempty"`
	// Article6 is the sender's Article 6 statement for authorised units
	// (optional; checked before anything is reserved, then by the hub
	// against its Article 6 ledger).
	Article6 *registry.Article6Claim `json:"article6,omitempty"`
}

// Sent answers a cross-border send (202): the transaction id, its status
// at the sender and the serial blocks reserved in escrow; the transfer
// goes on at the hub.
type Sent struct {
	ID              string    `json:"id"`
	Status          int       `json:"status"`
	StatusName      string    `json:"status_name"`
	Final           bool      `json:"final"`
	Quantity        int64     `json:"quantity"`
	Blocks          []Block   `json:"blocks"`
	EscrowExpiresAt time.Time `json:"escrow_expires_at,omitzero"`
	// Location is the transfer's record at the hub.
	Location string `json:"location"`
}

// Block is a serial range of one origin issuance, with its serial block
// in the origin registry's form (unchanged in every registry).
type Block struct {
	Serial         string `json:"serial"`
	OriginRegistry string `json:"origin_registry"`
	IssuanceID     int64  `json:"issuance_id"`
	UnitType       string `json:"unit_type"`
	Project        string `json:"project"`
	Vintage        int    `json:"vintage"`
	Start          int64  `json:"start"`
	End            int64  `json:"end"`
	Quantity       int64  `json:"quantity"`
}

// Finding is one of the hub's checks' verdicts, with its stable code.
type Finding struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// StatusChange is one step of a transfer's history (DES status numbers).
type StatusChange struct {
	Status     int       `json:"status"`
	StatusName string    `json:"status_name"`
	At         time.Time `json:"at"`
	Findings   []Finding `json:"findings,omitempty"`
}

// Transfer is the hub's record of one cross-registry transfer. The account
// numbers are present only for a viewer who is party to it.
type Transfer struct {
	ID              string         `json:"id"`
	Status          int            `json:"status"`
	StatusName      string         `json:"status_name"`
	Final           bool           `json:"final"`
	FromRegistry    string         `json:"from_registry"`
	FromAccount     string         `json:"from_account,omitempty"`
	ToRegistry      string         `json:"to_registry"`
	ToAccount       string         `json:"to_account,omitempty"`
	UnitType        string         `json:"unit_type"`
	Purpose         string         `json:"purpose"`
	Quantity        int64          `json:"quantity"`
	Blocks          []Block        `json:"blocks"`
	EscrowExpiresAt time.Time      `json:"escrow_expires_at,omitzero"`
	StartedAt       time.Time      `json:"started_at,omitzero"`
	UpdatedAt       time.Time      `json:"updated_at,omitzero"`
	History         []StatusChange `json:"history"`
	// SenderState is set when the sending node answers from its own
	// record because the hub has none yet or cannot be reached:
	// reserved_not_sent, sent_not_acknowledged, acknowledged or
	// settled_not_reported.
	SenderState string `json:"sender_state,omitempty"`
}

// Registry is one registry of GET /api/v1/registries: every participant
// of the corridor's trust list, and the registries the server runs with
// their totals (flattened, as the endpoint answered before the corridor
// existed; nil for a registry the server does not run).
type Registry struct {
	Code  string `json:"code"`
	Name  string `json:"name,omitempty"`
	Party string `json:"party,omitempty"`
	// Role is "node" for a registry, "hub" for the transaction log.
	Role string `json:"role"`
	// Served says the server runs the registry (its totals follow) or,
	// for the hub, runs it embedded.
	Served bool `json:"served"`
	// Serving says the server answers for the registry's current state
	// now: its totals follow. A registry not served there, or a node that
	// lost its serving lock (its state in memory may be behind its
	// database), is serving false with no totals, and NotServing says why.
	Serving    bool   `json:"serving"`
	NotServing string `json:"not_serving,omitempty"`
	*registry.Totals
}
