package client

import (
	"context"
	"net/http"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// Head returns registry reg's journal head, signed by the node (public).
func (c *Client) Head(ctx context.Context, reg string) (ledger.SignedHead, error) {
	var out ledger.SignedHead
	_, err := c.Do(ctx, http.MethodGet, regPath(reg, "/head"), "", nil, &out)
	return out, err
}

// NodeKey returns the public key registry reg signs its heads with.
func (c *Client) NodeKey(ctx context.Context, reg string) (registry.PublicKey, error) {
	var out registry.PublicKey
	_, err := c.Do(ctx, http.MethodGet, regPath(reg, "/key"), "", nil, &out)
	return out, err
}
