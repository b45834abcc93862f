package registry

import (
	"context"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestVerifyFindsOrphans: a block in an account that does not exist and a
// movement of no journal entry, the two properties PostgreSQL's foreign
// keys no longer check (store migration 0014), are reported by verify.
// SQLite keeps those foreign keys and refuses the write itself.
func TestVerifyFindsOrphans(t *testing.T) {
	tests := []struct {
		name   string
		sql    string
		expect string
	}{
		{"block of no account", `UPDATE blocks SET account_id = 999 WHERE issuance_id = 1 AND start_serial = 1`, "differs from the journal's replay"},
		{"movement of no entry", `INSERT INTO movements (seq, issuance_id, start_serial, end_serial, from_account, to_account, from_state, to_state) VALUES (999, 1, 1, 1, 1, 2, 'held', 'held')`, "moved by entry 999, which is not in the journal"},
	}
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, tg.Fresh(t))
				f.must(t, f.holder, Transfer{From: f.a1, To: f.a2, Units: Units{Quantity: 300, UnitType: "CCER"}})
				verifyOK(t, f.n)
				f.n.Close()
				db := f.n.db
				if _, err := db.SQL().ExecContext(context.Background(), tt.sql); err != nil {
					if tg.Name == "sqlite" && strings.Contains(err.Error(), "FOREIGN KEY") {
						return
					}
					t.Fatal(err)
				}
				rep, err := Verify(context.Background(), db)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(strings.Join(rep.Violations, "\n"), tt.expect) {
					t.Fatalf("violations %q do not mention %q", rep.Violations, tt.expect)
				}
			})
		}
	})
}
