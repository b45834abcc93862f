// Package storetest runs a test against every store driver: SQLite always,
// PostgreSQL when CORRIDOR_TEST_DATABASE_URL is set (each test in its own
// schema). Without the variable the PostgreSQL half is skipped with a note.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
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
	return Target{Name: "sqlite", Cfg: store.Config{Path: filepath.Join(t.TempDir(), "node.db")}}
}

// Postgres returns a fresh PostgreSQL target (a new schema), or skips.
func Postgres(t testing.TB) Target {
	t.Helper()
	url := os.Getenv(EnvURL)
	if url == "" {
		t.Skipf("SKIPPED PostgreSQL half: set %s (e.g. postgres://postgres@127.0.0.1:5432/test) to run it", EnvURL)
	}
	raw := make([]byte, 6)
	_, _ = rand.Read(raw)
	schema := "t_" + hex.EncodeToString(raw)
	t.Cleanup(func() {
		db, err := sql.Open("pgx", url)
		if err == nil {
			_, _ = db.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE")
			db.Close()
		}
	})
	return Target{Name: "postgres", Cfg: store.Config{URL: url, Schema: schema}}
}

// ForEach runs fn as a subtest on each driver.
func ForEach(t *testing.T, fn func(t *testing.T, tg Target)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}
