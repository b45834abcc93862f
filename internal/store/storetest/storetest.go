// Package storetest runs a test against every store driver: SQLite always,
// PostgreSQL when CORRIDOR_TEST_DATABASE_URL is set (each test in its own
// schema). Without the variable the PostgreSQL half is skipped with a note.
package storetest

import (
	"context"
	"os"
	"testing"

	"github.com/corridor-carbon/corridor/internal/store"
)

// EnvURL names the PostgreSQL test database variable.
const EnvURL = "CORRIDOR_TEST_DATABASE_URL"

// Target is one database a test runs on; Open may be called again to reopen
// the same database (a restart).
type Target struct {
	Name string
	Cfg  store.Config
}

// Open opens the target's database and closes it when the test ends.
func (tg Target) Open(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), tg.Cfg)
	if err != nil {
		t.Fatalf("open %s: %v", tg.Name, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Fresh returns a new, empty database on the same driver as tg.
func (tg Target) Fresh(t testing.TB) Target {
	t.Helper()
	if tg.Cfg.URL != "" {
		return Postgres(t)
	}
	return SQLite(t)
}

// SQLite returns a fresh SQLite target in the test's temporary directory.
func SQLite(t testing.TB) Target {
	t.Helper()
	return scratch(t, "sqlite", "")
}

// Postgres returns a fresh PostgreSQL target (a new schema, dropped when
// the test ends), or skips.
func Postgres(t testing.TB) Target {
	t.Helper()
	url := os.Getenv(EnvURL)
	if url == "" {
		t.Skipf("SKIPPED PostgreSQL half: set %s (e.g. postgres://postgres@127.0.0.1:5432/test) to run it", EnvURL)
	}
	return scratch(t, "postgres", url)
}

func scratch(t testing.TB, name, url string) Target {
	t.Helper()
	cfg, remove, err := store.Scratch(url, t.TempDir(), "t")
	if err != nil {
		t.Fatalf("scratch %s database: %v", name, err)
	}
	t.Cleanup(func() {
		if err := remove(); err != nil {
			t.Logf("remove scratch %s database: %v", name, err)
		}
	})
	return Target{Name: name, Cfg: cfg}
}

// ForEach runs fn as a subtest on each driver, each on a fresh database.
// fn may call t.Parallel: every target is its own database (a directory or
// a schema), so tests never share state.
func ForEach(t *testing.T, fn func(t *testing.T, tg Target)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}
