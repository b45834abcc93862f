package registry

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestVerifyFindsTampering alters a consistent database behind the
// registry's back, one way at a time, and expects verify to name it.
func TestVerifyFindsTampering(t *testing.T) {
	tests := []struct {
		name   string
		sql    string
		expect string
	}{
		{"block moved without a transaction", `UPDATE blocks SET account_id = ? WHERE issuance_id = 1 AND start_serial = 1`, "differs from the journal's replay"},
		{"block deleted (gap)", `DELETE FROM blocks WHERE issuance_id = 1 AND start_serial = 1`, "gap at serials 1-"},
		{"block widened (overlap)", `UPDATE blocks SET end_serial = end_serial + 5 WHERE issuance_id = 1 AND start_serial = 1`, "overlap"},
		{"retired units made held again", `UPDATE blocks SET state = 'held' WHERE state = 'retired'`, "differs from the journal's replay"},
		{"journal body altered", `UPDATE journal SET body = replace(body, '"quantity":300', '"quantity":301') WHERE kind = 'transfer'`, "hash does not match"},
		{"journal entry removed", `DELETE FROM journal WHERE seq = 3`, "follows entry"},
		{"movement out of a final state", `INSERT INTO movements (seq, issuance_id, start_serial, end_serial, from_account, to_account, from_state, to_state) VALUES (1, 1, 1, 1, 1, 2, 'retired', 'held')`, "out of state retired"},
	}
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var target storetest.Target
				if tg.Name == "postgres" {
					target = storetest.Postgres(t)
				} else {
					target = storetest.SQLite(t)
				}
				f := newFixture(t, target)
				f.must(t, f.holder, Transfer{From: f.a1, To: f.a2, Units: Units{Quantity: 300, UnitType: "CCER"}})
				f.must(t, f.holder, Retire{From: f.a2, Units: Units{Quantity: 10, UnitType: "CCER"}, Beneficiary: "B", Purpose: "voluntary"})
				verifyOK(t, f.n)
				f.n.Close()
				db := f.n.db
				args := []any{}
				if strings.Contains(tt.sql, "?") {
					args = append(args, f.a3)
				}
				if _, err := db.SQL().ExecContext(context.Background(), db.Rebind(tt.sql), args...); err != nil {
					t.Fatal(err)
				}
				rep, err := Verify(context.Background(), db)
				if err != nil {
					t.Fatal(err)
				}
				if rep.OK() {
					t.Fatal("verify passed a tampered database")
				}
				if !strings.Contains(strings.Join(rep.Violations, "\n"), tt.expect) {
					t.Fatalf("violations %q do not mention %q", rep.Violations, tt.expect)
				}
			})
		}
	})
}

// TestVerifyWhileWriting runs verify repeatedly while transfers commit: it
// reads one consistent snapshot, so it never reports a false violation.
func TestVerifyWhileWriting(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		f := newFixture(t, tg)
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				from, to := f.a1, f.a2
				if i%2 == 1 {
					from, to = f.a2, f.a1
				}
				if _, err := f.n.Do(context.Background(), f.holder, fmt.Sprintf("w%d", i), Transfer{From: from, To: to, Units: Units{Quantity: 7, UnitType: "CCER"}}); err != nil {
					t.Errorf("transfer: %v", err)
					return
				}
			}
		}()
		for i := 0; i < 10; i++ {
			verifyOK(t, f.n)
		}
		close(stop)
		<-done
	})
}

// TestVerifyFindsStateOutsideJournal changes organisations, accounts and
// issuances behind the registry's back, keeping the blocks a partition, and
// expects verify to report each change.
func TestVerifyFindsStateOutsideJournal(t *testing.T) {
	tests := []struct {
		name   string
		sql    []string
		expect string
	}{
		{"account handed to another organisation", []string{
			`INSERT INTO organisations (id, name, country, created_at) VALUES (99, 'Ghost', 'CN', '2024-01-01T00:00:00Z')`,
			`UPDATE accounts SET org_id = 99 WHERE id = 1`}, "account 1"},
		{"suspended account reopened", []string{`UPDATE accounts SET status = 'open' WHERE status = 'suspended'`}, "account 4"},
		{"organisation added", []string{`INSERT INTO organisations (id, name, country, created_at) VALUES (99, 'Ghost', 'CN', '2024-01-01T00:00:00Z')`}, "organisation 99"},
		{"issuance relabelled", []string{`UPDATE issuances SET unit_type = 'TVER' WHERE id = 1`}, "issuance 1"},
		{"units minted outside the journal", []string{
			`INSERT INTO issuances (id, standard, unit_type, project, project_name, methodology, host_country, vintage, quantity, account_id, seq, created_at) VALUES (9, 'CCER', 'CCER', 'P9', '', '', 'CN', 2024, 500, 1, 1, '2024-01-01T00:00:00Z')`,
			`INSERT INTO blocks (issuance_id, start_serial, end_serial, account_id, state, pending) VALUES (9, 1, 500, 1, 'held', 0)`}, "issuance 9"},
		{"issuance without blocks", []string{
			`INSERT INTO issuances (id, standard, unit_type, project, project_name, methodology, host_country, vintage, quantity, account_id, seq, created_at) VALUES (9, 'CCER', 'CCER', 'P9', '', '', 'CN', 2024, 500, 1, 1, '2024-01-01T00:00:00Z')`}, "issuance 9"},
	}
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var target storetest.Target
				if tg.Name == "postgres" {
					target = storetest.Postgres(t)
				} else {
					target = storetest.SQLite(t)
				}
				f := newFixture(t, target)
				susp := f.must(t, system, OpenAccount{OrgID: f.org, Type: ledger.Holding, Name: "S"}).ID
				f.must(t, system, SetAccountStatus{AccountID: susp, Status: ledger.Suspended})
				f.must(t, f.holder, Transfer{From: f.a1, To: f.a2, Units: Units{Quantity: 300, UnitType: "CCER"}})
				verifyOK(t, f.n)
				f.n.Close()
				db := f.n.db
				for _, q := range tt.sql {
					if _, err := db.SQL().ExecContext(context.Background(), q); err != nil {
						t.Fatal(err)
					}
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
