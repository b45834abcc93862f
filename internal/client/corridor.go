package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/corridor-carbon/corridor/internal/registry"
)

// The corridor's routes: send units abroad, follow the hub's records. The
// types mirror the API's JSON (internal/api/corridor.go) rather than
// importing it, so that the client depends on no server package.

// CrossBorder is the body of a cross-border send. Units are a quantity of
// one unit type (optionally of one issuance or vintage) or serial blocks.
type CrossBorder struct {
	FromAccount int64    `json:"from_account"`
	ToRegistry  string   `json:"to_registry"`
	ToAccount   int64    `json:"to_account"`
	Quantity    int64    `json:"quantity,omitempty"`
	UnitType    string   `json:"unit_type,omitempty"`
	IssuanceID  int64    `json:"issuance_id,omitempty"`
	Vintage     int      `json:"vintage,omitempty"`
	Serials     []string `json:"serials,omitempty"`
	Purpose     string   `json:"purpose,omitempty"`
	ExpiresIn   int64    `json:"expires_in,omitempty"`
}

// Block is a serial range of one origin issuance; Serial is its block in
// the origin registry's form.
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

// Sent answers a cross-border send: the transfer goes on at the hub.
type Sent struct {
	ID              string    `json:"id"`
	Status          int       `json:"status"`
	StatusName      string    `json:"status_name"`
	Final           bool      `json:"final"`
	Quantity        int64     `json:"quantity"`
	Blocks          []Block   `json:"blocks"`
	EscrowExpiresAt time.Time `json:"escrow_expires_at"`
	Location        string    `json:"location"`
}

// Finding is one check's verdict, with its stable code.
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

// Transfer is the hub's record of a cross-registry transfer; the account
// numbers are empty unless the token is a party's.
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
	EscrowExpiresAt time.Time      `json:"escrow_expires_at"`
	StartedAt       time.Time      `json:"started_at"`
	UpdatedAt       time.Time      `json:"updated_at"`
	History         []StatusChange `json:"history"`
}

// Registry is one registry of the corridor (or the hub, Role "hub"), with
// its totals when the server runs it (Served; Totals nil otherwise).
type Registry struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Party  string `json:"party"`
	Role   string `json:"role"`
	Served bool   `json:"served"`
	*registry.Totals
}

// SendAbroad sends units of registry reg to another registry of the
// corridor. The answer is 202: check the transfer with Transfer.
func (c *Client) SendAbroad(ctx context.Context, reg, key string, req CrossBorder) (Sent, error) {
	var out Sent
	_, err := c.Do(ctx, http.MethodPost, regPath(reg, "/transfers/cross-border"), key, req, &out)
	return out, err
}

// Transfer returns the hub's record of transfer id.
func (c *Client) Transfer(ctx context.Context, id string) (Transfer, error) {
	var out Transfer
	_, err := c.Do(ctx, http.MethodGet, "/api/v1/transfers/"+url.PathEscape(id), "", nil, &out)
	return out, err
}

// TransferQuery selects transfer records.
type TransferQuery struct {
	Registry string // from or to this registry ("" for all)
	Active   bool   // only those not final
	Limit    int    // 0: the server's default
}

// Transfers lists the hub's records, newest first.
func (c *Client) Transfers(ctx context.Context, q TransferQuery) ([]Transfer, error) {
	var out struct {
		Transfers []Transfer `json:"transfers"`
	}
	v := url.Values{}
	if q.Registry != "" {
		v.Set("registry", q.Registry)
	}
	if q.Active {
		v.Set("active", "true")
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	path := "/api/v1/transfers"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	_, err := c.Do(ctx, http.MethodGet, path, "", nil, &out)
	return out.Transfers, err
}
