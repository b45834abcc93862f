package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/corridor-carbon/corridor/internal/corridorjson"
)

// The corridor's routes: send units abroad, follow the hub's records. The
// bodies are package corridorjson's, which the server writes.
type (
	CrossBorder  = corridorjson.CrossBorder
	Sent         = corridorjson.Sent
	Block        = corridorjson.Block
	Finding      = corridorjson.Finding
	StatusChange = corridorjson.StatusChange
	Transfer     = corridorjson.Transfer
	Registry     = corridorjson.Registry
)

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
