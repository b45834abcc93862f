package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/corridor-carbon/corridor/internal/store"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestOpenReadOnly: a read-only open reads what a normal open wrote,
// refuses every write, and finds nothing (creating nothing) where no
// database is.
func TestOpenReadOnly(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		t.Parallel()
		ctx := context.Background()
		missing := tg.Cfg
		if missing.URL != "" {
			missing.Schema += "_none"
		} else {
			missing.Path = filepath.Join(filepath.Dir(missing.Path), "none", "node.db")
		}
		if _, err := store.OpenReadOnly(ctx, missing); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("read-only open of a missing database: %v, want ErrNotFound", err)
		}
		if missing.Path != "" {
			if _, err := os.Stat(filepath.Dir(missing.Path)); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a read-only open created %s: %v", filepath.Dir(missing.Path), err)
			}
		} else {
			var n int
			if err := tg.Open(t).SQL().QueryRowContext(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, missing.Schema).Scan(&n); err != nil || n != 0 {
				t.Fatalf("a read-only open created schema %s: %d %v", missing.Schema, n, err)
			}
		}

		rw := tg.Open(t)
		if err := rw.SetMeta(ctx, "registry_code", "XX"); err != nil {
			t.Fatal(err)
		}
		ro, err := store.OpenReadOnly(ctx, tg.Cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		if code, err := ro.Meta(ctx, "registry_code"); err != nil || code != "XX" {
			t.Fatalf("read-only Meta = %q, %v", code, err)
		}
		if err := ro.SetMeta(ctx, "registry_code", "YY"); err == nil {
			t.Fatal("a read-only database accepted a write")
		}
		if code, _ := rw.Meta(ctx, "registry_code"); code != "XX" {
			t.Fatalf("the refused write changed the database: %q", code)
		}
		// A database missing a migration is refused, not migrated.
		if _, err := rw.SQL().ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = '0002_movement_span_level'`); err != nil {
			t.Fatal(err)
		}
		if _, err := store.OpenReadOnly(ctx, tg.Cfg); err == nil {
			t.Fatal("a read-only open accepted a database that lacks a migration")
		}
	})
}
