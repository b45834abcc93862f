package store_test

import (
	"context"
	"fmt"
	"testing"

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
