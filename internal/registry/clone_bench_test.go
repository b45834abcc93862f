package registry

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

// BenchmarkTransferBatch decides one batch of one transfer (clone the
// committed state, apply, seal: the writer's whole in-memory work for a
// batch, without the database) on a registry of 10 and of 100,000
// accounts, each holding units. The working copy is copy-on-write, so the
// two must cost about the same (issue 7 item 7: a batch's cost follows what
// it touches, not the registry's size).
func BenchmarkTransferBatch(b *testing.B) {
	for _, accounts := range []int{10, 100_000} {
		b.Run(fmt.Sprintf("accounts=%d", accounts), func(b *testing.B) {
			base := benchState(accounts)
			at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			n := &Node{code: "BN", log: slog.Default(), now: func() time.Time { return at }}
			from, to := int64(1), int64(2)
			actor := Actor{OrgID: 1, Role: ledger.RoleHolder}
			req := Transfer{From: from, To: to, Units: Units{Quantity: 1, UnitType: "BU"}}
			i := 0
			for b.Loop() {
				i++
				c := &call{actor: actor, key: fmt.Sprintf("k%d", i), req: req, hash: requestHash(actor, req)}
				n.st = base.clone()
				w, err := n.applyBatch([]*call{c}, nil)
				if err != nil || c.err != nil || len(w.batch.Entries) != 1 {
					b.Fatalf("transfer: %v, %v, %d entries", err, c.err, len(w.batch.Entries))
				}
			}
			n.st = nil
			// The committed state is unchanged by the batches decided on it.
			if got := base.bal.Get(balKey{from, "BU", ledger.Held}); got != 10 {
				b.Fatalf("base state changed: account %d holds %d", from, got)
			}
		})
	}
}

// benchState is a registry of the given number of accounts (one
// organisation each), each holding a block of 10 units of one issuance.
func benchState(accounts int) *state {
	st := newState()
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 1; i <= accounts; i++ {
		st.addOrg(ledger.Organisation{ID: int64(i), Name: fmt.Sprintf("org %d", i), Country: "SG", CreatedAt: at})
		st.addAccount(ledger.Account{ID: int64(i), OrgID: int64(i), Type: ledger.Holding, Status: ledger.Open, Name: fmt.Sprintf("acc %d", i), CreatedAt: at})
	}
	q := int64(accounts) * 10
	st.addIssuance(ledger.Issuance{ID: 1, Standard: "Benchmark", UnitType: "BU", Project: "P", ProjectName: "P", Methodology: "m", HostCountry: "SG",
		Vintage: 2025, Quantity: q, AccountID: 1, Seq: 1, CreatedAt: at})
	for i := 1; i <= accounts; i++ {
		st.putBlock(ledger.Block{Issuance: 1, Start: int64(i-1)*10 + 1, End: int64(i) * 10, Account: int64(i), State: ledger.Held})
	}
	st.head = ledger.Entry{Seq: 1, Hash: ledger.GenesisHash}
	return st
}
