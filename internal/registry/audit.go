package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
)

// JournalFilter selects journal entries for an auditor.
type JournalFilter struct {
	After   int64  // entries after this sequence number
	Kind    string // "" for every kind
	Account int64  // entries that moved units into or out of this account (0: all)
	// Since and Until keep the entries of those UTC days, inclusive (zero: open).
	Since, Until time.Time
	Limit        int
}

// Journal lists journal entries, oldest first, as Transactions does, with
// the filters an auditor uses. Only an administrator or auditor reads it.
func (n *Node) Journal(ctx context.Context, v Actor, f JournalFilter) ([]Transaction, error) {
	if err := auditorOnly(v); err != nil {
		return nil, err
	}
	if f.Limit <= 0 {
		return []Transaction{}, nil // the store reads no limit as "all"
	}
	return n.transactions(ctx, store.EntryFilter{AfterSeq: f.After, Kind: f.Kind, Limit: f.Limit, Account: f.Account, Since: f.Since, Until: f.Until})
}

// transactions reads the journal entries f selects as Transactions.
func (n *Node) transactions(ctx context.Context, f store.EntryFilter) ([]Transaction, error) {
	es, err := n.db.Entries(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]Transaction, 0, len(es))
	for _, e := range es {
		var b entryBody
		if err := json.Unmarshal([]byte(e.Body), &b); err != nil {
			return nil, fmt.Errorf("registry: journal entry %d: %w", e.Seq, err)
		}
		out = append(out, Transaction{Seq: e.Seq, At: e.At, Kind: e.Kind, Actor: e.Actor, Request: b.Request, Result: b.Result, Hash: e.Hash})
	}
	return out, nil
}

// auditorOnly refuses every viewer but an administrator or auditor.
func auditorOnly(v Actor) error {
	if v.Role != ledger.RoleAdmin && v.Role != ledger.RoleAuditor {
		return forbidden("only a registry administrator or auditor may read this (role %q)", v.Role)
	}
	return nil
}
