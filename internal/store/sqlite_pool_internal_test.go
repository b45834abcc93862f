package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

// TestSQLiteWritesOnWritePool: on SQLite every write transaction (a
// commit's, a log's append) runs on the write pool, whose connections
// carry the larger page cache, however many read connections are busy; a
// write through the read pool's connections would drop the writer's cache
// at the next commit (sqlite.go, openWritePool), and one writer's
// transactions all run on one connection, which keeps its cache.
func TestSQLiteWritesOnWritePool(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "pool.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.w == db.sql {
		t.Fatal("SQLite writes on its read pool")
	}
	// Hold read connections, so that a write on the read pool would get a
	// different one each time.
	for range 3 {
		c, err := db.sql.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	head := ledger.Entry{}
	for i := range 5 {
		w, got, err := db.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var cache int
		if err := w.tx.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache); err != nil {
			t.Fatal(err)
		}
		if cache != -sqliteWriteCacheKiB {
			t.Fatalf("write %d runs on a connection with cache_size %d, not the write pool's %d", i, cache, -sqliteWriteCacheKiB)
		}
		// A temporary table belongs to its connection: the first write
		// makes one, the others must find it (one writer, one connection,
		// one cache).
		if i == 0 {
			if _, err := w.tx.ExecContext(ctx, "CREATE TEMP TABLE writer_marker (x)"); err != nil {
				t.Fatal(err)
			}
		}
		var marked int
		if err := w.tx.QueryRowContext(ctx, "SELECT count(*) FROM temp.sqlite_schema WHERE name = 'writer_marker'").Scan(&marked); err != nil {
			t.Fatal(err)
		}
		if marked != 1 {
			t.Fatalf("write %d runs on another connection than the first write", i)
		}
		if got != head {
			t.Fatalf("head %+v, want %+v", got, head)
		}
		e := ledger.Entry{Seq: head.Seq + 1, Kind: "x", Actor: "a", IdemKey: fmt.Sprintf("k%d", i), RequestHash: "rh", Body: "{}", PrevHash: head.Hash, Hash: fmt.Sprintf("h%d", i)}
		if err := w.Commit(ctx, &Batch{Entries: []ledger.Entry{e}}); err != nil {
			t.Fatal(err)
		}
		head, err = db.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
	}
}
