package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// ErrNotFound means OpenReadOnly found no node database where cfg points.
var ErrNotFound = errors.New("store: no registry database there")

// OpenReadOnly opens an existing node's database for reading only, for
// tools such as verify that must never change what they inspect: it
// creates no file, directory or schema, runs no migration, and the
// connection itself refuses writes (SQLite mode=ro, PostgreSQL
// default_transaction_read_only). A database that lacks a migration this
// build knows is refused, since the current queries could misread it.
func OpenReadOnly(ctx context.Context, cfg Config) (*DB, error) { return open(ctx, cfg, true) }

// checkMigrated fails unless every migration of this build is recorded.
func (d *DB) checkMigrated(ctx context.Context) error {
	rows, err := d.sql.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("%w (no schema_migrations table: not a Corridor node, or never started): %v", ErrNotFound, err)
	}
	have := map[string]bool{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("store: read schema_migrations: %w", err)
		}
		have[v] = true
	}
	if err := closeRows(rows); err != nil {
		return fmt.Errorf("store: read schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrationsFS, "migrations/"+string(d.Dialect())+"/*.sql")
	if err != nil {
		return err
	}
	for _, name := range names {
		if v := strings.TrimSuffix(filepath.Base(name), ".sql"); !have[v] {
			return fmt.Errorf("store: the database lacks migration %s; start 'corridor serve' on it once to migrate (a read-only open never migrates)", v)
		}
	}
	return nil
}
