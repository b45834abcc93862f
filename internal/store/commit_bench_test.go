package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/bench"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// BenchmarkCommit times one writer's sequential commits of a 32-entry
// batch through each write path, so the round trips a commit costs show:
// BeginWrite + Commit (BEGIN, lock, head read, writes, COMMIT) against
// CommitOn (one pipeline on PostgreSQL).
//
//	CORRIDOR_TEST_DATABASE_URL=… go test -run XXX -bench BenchmarkCommit -benchtime 2s -count 3 ./internal/store/
func BenchmarkCommit(b *testing.B) {
	paths := []struct {
		name string
		fn   func(ctx context.Context, db *store.DB, head ledger.Entry, b *store.Batch) error
	}{
		{"WriteTx", func(ctx context.Context, db *store.DB, _ ledger.Entry, b *store.Batch) error {
			w, _, err := db.BeginWrite(ctx)
			if err != nil {
				return err
			}
			defer w.Rollback()
			return w.Commit(ctx, b)
		}},
		{"CommitOn", func(ctx context.Context, db *store.DB, head ledger.Entry, b *store.Batch) error {
			return db.CommitOn(ctx, head, b)
		}},
	}
	for _, tg := range []func(testing.TB) storetest.Target{storetest.SQLite, storetest.Postgres} {
		for _, p := range paths {
			target := tg(b)
			db := target.Open(b)
			ctx := context.Background()
			head := ledger.Entry{}
			b.Run(target.Name+"/"+p.name, func(b *testing.B) {
				for b.Loop() {
					batch := &store.Batch{}
					prev := head
					for range 32 {
						seq := head.Seq + 1
						e := ledger.Entry{Seq: seq, Kind: "x", Actor: "a", IdemKey: fmt.Sprintf("k%d", seq), RequestHash: "rh", Body: "{}", PrevHash: head.Hash, Hash: fmt.Sprintf("h%d", seq)}
						batch.Entries = append(batch.Entries, e)
						head = e
					}
					if err := p.fn(ctx, db, prev, batch); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkCommitTransfers is the registry's commit of one group of 37
// one-unit transfers (the mean batch of corridor bench registry), as the
// writer makes it: the batch's keys looked up (Outcomes), then entries,
// one movement, one shrunk block (a new start: a delete and an insert) and
// one grown block each, prepared (Batch.Prepare) and committed through
// CommitOn. cpu-µs/transfer is this process's CPU time, which load on the
// machine disturbs less than ns/op; commit-cpu-µs/transfer the part of it
// inside CommitOn, which the registry's committer runs one batch at a time.
//
//	CORRIDOR_TEST_DATABASE_URL=… go test -run XXX -bench BenchmarkCommitTransfers -benchtime 3s ./internal/store/
func BenchmarkCommitTransfers(b *testing.B) {
	const perCommit, holders = 37, 64
	for _, tg := range []func(testing.TB) storetest.Target{storetest.SQLite, storetest.Postgres} {
		target := tg(b)
		db := target.Open(b)
		ctx := context.Background()
		at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
		setup := &store.Batch{Entries: []ledger.Entry{{Seq: 1, At: at, Kind: "setup", Actor: "admin", RequestHash: "rh", Body: "{}", PrevHash: "g", Hash: "h1"}}}
		// Holder h holds issuance h's serials [start[h], 10^9], and holder
		// h+1 the serials before.
		start := make([]int64, holders+1)
		for h := int64(1); h <= holders; h++ {
			setup.Orgs = append(setup.Orgs, ledger.Organisation{ID: h, Name: "o", Country: "SG", CreatedAt: at})
			setup.Accounts = append(setup.Accounts, ledger.Account{ID: h, OrgID: h, Type: ledger.Holding, Status: ledger.Open, Name: "a", CreatedAt: at})
			setup.Issuances = append(setup.Issuances, ledger.Issuance{ID: h, Standard: "B", UnitType: "BU", Project: "P", Quantity: 1e9, AccountID: h, Seq: 1, CreatedAt: at})
			setup.PutBlocks = append(setup.PutBlocks, ledger.Block{Issuance: h, Start: 1, End: 1, Account: h%holders + 1, State: ledger.Held},
				ledger.Block{Issuance: h, Start: 2, End: 1e9, Account: h, State: ledger.Held})
			start[h] = 2
		}
		if err := db.CommitOn(ctx, ledger.Entry{}, setup); err != nil {
			b.Fatal(err)
		}
		head := setup.Entries[0]
		body := `{"request":{"from_account":1,"to_account":2,"units":{"quantity":1,"unit_type":"BU"}},"result":{"seq":1,"kind":"transfer","at":"2026-12-01T08:00:00Z","quantity":1,"blocks":[{"serial":"BENCH-BU-P-2025-1-1-1"}]}}`
		next := int64(0)
		b.Run(target.Name, func(b *testing.B) {
			cpu0 := bench.ProcessCPU()
			var inCommit time.Duration // in CommitOn: the committer's share, the serial bound
			for b.Loop() {
				batch := &store.Batch{}
				prev := head
				keys := make([]string, 0, perCommit)
				for range perCommit {
					from := next%holders + 1
					to := from%holders + 1
					next++
					seq := head.Seq + 1
					e := ledger.Entry{Seq: seq, At: at, Kind: "transfer", Actor: fmt.Sprintf("holder:%d", from), IdemKey: fmt.Sprintf("run-%d", seq),
						RequestHash: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Body: body,
						PrevHash: head.Hash, Hash: fmt.Sprintf("%064d", seq)}
					keys = append(keys, e.IdemKey)
					batch.Entries = append(batch.Entries, e)
					head = e
					s := start[from]
					batch.Movements = append(batch.Movements, ledger.Movement{Seq: seq, Issuance: from, Start: s, End: s, FromAccount: from, ToAccount: to, FromState: ledger.Held, ToState: ledger.Held})
					batch.DeleteBlocks = append(batch.DeleteBlocks, ledger.Block{Issuance: from, Start: s})
					start[from] = s + 1
					batch.PutBlocks = append(batch.PutBlocks, ledger.Block{Issuance: from, Start: s + 1, End: 1e9, Account: from, State: ledger.Held})
					batch.PutBlocks = append(batch.PutBlocks, ledger.Block{Issuance: from, Start: 1, End: s, Account: to, State: ledger.Held})
				}
				if _, _, err := db.Outcomes(ctx, keys); err != nil {
					b.Fatal(err)
				}
				batch.Prepare() // as the writer does while the commit before runs
				c0 := bench.ProcessCPU()
				if err := db.CommitOn(ctx, prev, batch); err != nil {
					b.Fatal(err)
				}
				inCommit += bench.ProcessCPU() - c0
			}
			b.ReportMetric(float64((bench.ProcessCPU()-cpu0).Nanoseconds())/1000/float64(b.N*perCommit), "cpu-µs/transfer")
			b.ReportMetric(float64(inCommit.Nanoseconds())/1000/float64(b.N*perCommit), "commit-cpu-µs/transfer")
		})
	}
}
