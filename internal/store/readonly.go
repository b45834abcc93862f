package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// ErrNotFound means OpenReadOnly found no node database where cfg points.
var ErrNotFound = errors.New("store: no registry database there")

// OpenReadOnly opens an existing node's database for reading only, for
// tools such as verify that must never change what they inspect: it
// creates no file, directory or schema, runs no migration, and the
// connection itself refuses writes (SQLite mode=ro, PostgreSQL
// default_transaction_read_only). A database that lacks a migration this
// build knows is refused, since the current queries could misread it.
func OpenReadOnly(ctx context.Context, cfg Config) (*DB, error) {
	var drv driver
	var db *sql.DB
	var err error
	switch {
	case cfg.URL != "":
		drv = &pgDriver{schema: cfg.Schema}
		db, err = openPostgresReadOnly(ctx, cfg)
	case cfg.Path != "":
		drv = &sqliteDriver{}
		db, err = openSQLiteReadOnly(cfg.Path)
	default:
		return nil, errors.New("store: neither a database URL nor a SQLite path was given")
	}
	if err != nil {
		return nil, err
	}
	d := &DB{sql: db, rq: db, drv: drv}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", drv.dialect(), err)
	}
	if err := d.checkMigrated(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

func openSQLiteReadOnly(path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s does not exist", ErrNotFound, path)
		}
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(10000)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	return db, nil
}

func openPostgresReadOnly(ctx context.Context, cfg Config) (*sql.DB, error) {
	cc, err := pgx.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("store: parse postgres URL: %w", err)
	}
	cc.RuntimeParams["default_transaction_read_only"] = "on"
	if cfg.Schema != "" {
		if !validIdent(cfg.Schema) {
			return nil, fmt.Errorf("store: schema name %q must be lower-case letters, digits and _", cfg.Schema)
		}
		cc.RuntimeParams["search_path"] = cfg.Schema
	}
	db := stdlib.OpenDB(*cc)
	db.SetMaxOpenConns(4)
	if cfg.Schema != "" {
		var found bool
		err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, cfg.Schema).Scan(&found)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("store: connect to postgres: %w", err)
		}
		if !found {
			db.Close()
			return nil, fmt.Errorf("%w: PostgreSQL has no schema %s", ErrNotFound, cfg.Schema)
		}
	}
	return db, nil
}

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
