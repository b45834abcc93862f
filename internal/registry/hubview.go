package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/corridor-carbon/corridor/internal/store"
)

// The hub endpoint's read of its node (internal/hub, docs/outbox.md): the
// messages a sending registry owes the hub are derived from its own
// journal, so a crash between the reserve commit and the send loses
// nothing. This file gives it the escrows the hub settles, pending and
// settled, as the journal records them.

// HubEscrow is an escrow whose settlement authority is the hub, as its
// reserve entry records it, with how it was settled so far.
type HubEscrow struct {
	// Pending is the reserve entry's sequence number (the escrow id).
	Pending      int64     `json:"pending"`
	At           time.Time `json:"at"`
	From         int64     `json:"from_account"`
	ToRegistry   string    `json:"to_registry"`
	ToAccountRef string    `json:"to_account_ref"`
	UnitType     string    `json:"unit_type,omitempty"`
	Purpose      string    `json:"purpose,omitempty"`
	// Article6 is the reserve's Article 6 statement, if it made one.
	Article6  *Article6Claim `json:"article6,omitempty"`
	ExpiresAt time.Time      `json:"expires_at"`
	Quantity  int64          `json:"quantity"`
	Blocks    []BlockView    `json:"blocks"`
	// Settled is "" while pending, else "completed", "voided" or "expired".
	Settled string `json:"settled,omitempty"`
}

// HubEscrows lists, oldest first, the escrows after journal sequence after
// (at most limit) whose authority is the hub acting as organisation org.
// Only that hub actor (or the administrator) may read them. An escrow the
// journal holds but the published state does not know yet is left out, so
// a caller reading again from the last sequence it got sees it later.
func (n *Node) HubEscrows(ctx context.Context, v Actor, org int64, after int64, limit int) ([]HubEscrow, error) {
	au := Authority{Role: AuthorityHub, OrgID: org}
	if !au.permits(v) && !n.seesAll(v) {
		return nil, forbidden("only the hub acting as organisation %d reads its escrows", org)
	}
	if limit <= 0 {
		return []HubEscrow{}, nil
	}
	r := n.reader()
	es, err := n.db.Entries(ctx, store.EntryFilter{AfterSeq: after, Kind: (Reserve{}).Kind(), Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("registry: reading hub escrows: %w", err)
	}
	out := []HubEscrow{}
	for _, e := range es {
		if e.Seq > r.st.head.Seq {
			break // committed after the state this read sees
		}
		var body struct {
			Request Reserve `json:"request"`
			Result  Result  `json:"result"`
		}
		if err := json.Unmarshal([]byte(e.Body), &body); err != nil {
			return nil, fmt.Errorf("registry: reserve entry %d: %w", e.Seq, err)
		}
		q, res := body.Request, body.Result
		if res.Authority == nil || *res.Authority != au || q.ToRegistry == "" {
			continue
		}
		x := HubEscrow{Pending: e.Seq, At: e.At, From: q.From, ToRegistry: q.ToRegistry, ToAccountRef: q.ToAccountRef, UnitType: q.Units.UnitType,
			Purpose: q.Purpose, Article6: q.Article6, ExpiresAt: res.ExpiresAt, Quantity: res.Quantity, Blocks: res.Blocks}
		if r.st.pending.Get(e.Seq) == nil {
			x.Settled = r.st.settled.Get(e.Seq)
		}
		out = append(out, x)
	}
	return out, nil
}

// EscrowSettled reports how escrow seq was settled: "" while pending (or
// unknown), else "completed", "voided" or "expired".
func (n *Node) EscrowSettled(seq int64) string {
	r := n.reader()
	if r.st.pending.Get(seq) != nil {
		return ""
	}
	return r.st.settled.Get(seq)
}
