package client

import (
	"context"
	"net/url"

	"github.com/corridor-carbon/corridor/internal/article6report"
)

// Article6Query filters the Article 6 reads; empty fields are not sent.
type Article6Query struct {
	Party string
	// Balances only.
	Method     string
	FirstYear  string
	LastYear   string
	TargetYear string
	AsOf       string
}

func (q Article6Query) encode() string {
	v := url.Values{}
	for name, val := range map[string]string{"party": q.Party, "method": q.Method, "first_year": q.FirstYear, "last_year": q.LastYear, "target_year": q.TargetYear, "as_of": q.AsOf} {
		if val != "" {
			v.Set(name, val)
		}
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// Article6Authorisations reads GET /api/v1/article6/authorisations.
func (c *Client) Article6Authorisations(ctx context.Context, q Article6Query) ([]article6report.Authorisation, error) {
	var out struct {
		Authorisations []article6report.Authorisation `json:"authorisations"`
	}
	_, err := c.Do(ctx, "GET", "/api/v1/article6/authorisations"+Article6Query{Party: q.Party}.encode(), "", nil, &out)
	return out.Authorisations, err
}

// Article6ITMOs reads GET /api/v1/article6/itmos.
func (c *Client) Article6ITMOs(ctx context.Context, q Article6Query) ([]article6report.ITMO, error) {
	var out struct {
		ITMOs []article6report.ITMO `json:"itmos"`
	}
	_, err := c.Do(ctx, "GET", "/api/v1/article6/itmos"+Article6Query{Party: q.Party}.encode(), "", nil, &out)
	return out.ITMOs, err
}

// Article6Balances reads GET /api/v1/article6/balances.
func (c *Client) Article6Balances(ctx context.Context, q Article6Query) ([]article6report.Balance, error) {
	var out struct {
		Balances []article6report.Balance `json:"balances"`
	}
	_, err := c.Do(ctx, "GET", "/api/v1/article6/balances"+q.encode(), "", nil, &out)
	return out.Balances, err
}
