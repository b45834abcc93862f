package registry

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
)

// load rebuilds the in-memory state from the database.
func (n *Node) load(ctx context.Context) (*state, error) {
	db, done, err := n.db.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	st := newState()
	snap, err := db.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("registry: load: %w", err)
	}
	for _, o := range snap.Orgs {
		st.addOrg(o)
	}
	for _, a := range snap.Accounts {
		st.addAccount(a)
	}
	for _, x := range snap.Issuances {
		st.addIssuance(x)
	}
	pendingSeqs := map[int64]bool{}
	err = db.EachBlock(ctx, func(b ledger.Block) error {
		if st.issuances.Get(b.Issuance) == nil {
			return fmt.Errorf("registry: load: block of unknown issuance %d", b.Issuance)
		}
		if b.State == ledger.Reserved {
			pendingSeqs[b.Pending] = true
		}
		st.putBlock(b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	st.head = snap.Head
	if err := loadOrigins(ctx, db, st, n.code); err != nil {
		return nil, err
	}
	if err := loadFreezes(ctx, db, st); err != nil {
		return nil, err
	}
	if err := loadArticle6(ctx, db, st, n.code); err != nil {
		return nil, err
	}
	if err := loadICC(ctx, db, st, n.code); err != nil {
		return nil, err
	}
	// Reserved blocks were indexed before their pending transactions were
	// known: rebuild each transaction from its reserve entry.
	for seq := range pendingSeqs {
		e, ok, err := db.Entry(ctx, seq)
		if err != nil {
			return nil, err
		}
		if !ok || e.Kind != (Reserve{}).Kind() {
			return nil, fmt.Errorf("registry: load: reserved blocks name pending %d, which is not a reserve entry", seq)
		}
		p, err := pendingFromEntry(e)
		if err != nil {
			return nil, fmt.Errorf("registry: load: %w", err)
		}
		st.putPending(p)
	}
	// Settled reservations, so that settling one again is reported as a
	// duplicate rather than as unknown.
	for kind, word := range settledWord {
		es, err := db.Entries(ctx, store.EntryFilter{Kind: kind})
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			var body struct {
				Request struct {
					Pending int64 `json:"pending"`
				} `json:"request"`
			}
			if err := json.Unmarshal([]byte(e.Body), &body); err != nil {
				return nil, fmt.Errorf("registry: load: %s entry %d: %w", kind, e.Seq, err)
			}
			st.settled.Set(body.Request.Pending, word)
		}
	}
	for iss, tree := range st.blocks.All() {
		tree.Ascend(func(b ledger.Block) bool {
			if b.State == ledger.Reserved {
				p := st.wpending(b.Pending)
				p.Blocks = append(p.Blocks, blockRef{iss, b.Start})
			}
			return true
		})
	}
	return st, nil
}
