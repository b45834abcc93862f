// Package store persists a registry node's ledger on SQLite (embedded, the
// default) or PostgreSQL, with embedded migrations per dialect.
//
// The registry keeps its working state in memory and writes each group of
// transactions through Commit as one database transaction, so every write
// path is a handful of multi-row statements whatever the group's size (group
// commit). The journal's sequence number is the optimistic lock between
// writers: a writer whose view is stale fails with ErrStale and reloads.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// Dialect names a supported database.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// ErrStale means another writer appended to the journal first: reload and retry.
var ErrStale = errors.New("store: journal head moved (another writer committed first)")

//go:embed migrations
var migrationsFS embed.FS

// DB is one node's database.
type DB struct {
	sql *sql.DB
	// rq runs the read queries: the pool, or one transaction for a snapshot.
	rq      querier
	dialect Dialect
	// schema is the PostgreSQL schema this node lives in ("" = public).
	schema string
	fault  func(FaultPoint) error
}

// Config says which database to open.
type Config struct {
	// URL is a postgres:// URL; empty means SQLite at Path.
	URL string
	// Path is the SQLite database file.
	Path string
	// Schema, for PostgreSQL, is the schema the node's tables live in; it is
	// created if missing. Several nodes can share one database this way.
	Schema string
	// Fault, when set (tests only), is called at each point of a write transaction's Commit:
	// FaultBeforeCommit: a non-nil error rolls back and is returned as is (known not committed);
	// FaultDuringCommit: a non-nil error rolls back and is returned wrapped with ErrOutcomeUnknown;
	// FaultAfterCommit: the transaction has committed; a non-nil error is returned wrapped with ErrOutcomeUnknown.
	Fault func(FaultPoint) error
}

// Open opens (creating if needed) and migrates the database.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	d := DB{fault: cfg.Fault}
	var err error
	switch {
	case cfg.URL != "":
		d.dialect, d.schema = Postgres, cfg.Schema
		d.sql, err = openPostgres(ctx, cfg)
	case cfg.Path != "":
		d.dialect = SQLite
		d.sql, err = openSQLite(cfg.Path)
	default:
		return nil, errors.New("store: neither a database URL nor a SQLite path was given")
	}
	if err != nil {
		return nil, err
	}
	d.rq = d.sql
	if err := d.sql.PingContext(ctx); err != nil {
		d.sql.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", d.dialect, err)
	}
	if err := d.migrate(ctx); err != nil {
		d.sql.Close()
		return nil, err
	}
	return &d, nil
}

func openSQLite(path string) (*sql.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	// WAL lets readers run beside the writer; synchronous(FULL) makes every
	// commit durable (the WAL is synced at each commit); _txlock=immediate
	// takes the write lock at BEGIN so two writers queue instead of deadlocking.
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(ON)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8) // database/sql keeps only 2 by default: under load every other query reopened a connection
	return db, nil
}

func openPostgres(ctx context.Context, cfg Config) (*sql.DB, error) {
	u := cfg.URL
	if cfg.Schema != "" {
		if !validIdent(cfg.Schema) {
			return nil, fmt.Errorf("store: schema name %q must be lower-case letters, digits and _", cfg.Schema)
		}
		boot, err := sql.Open("pgx", cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		_, err = boot.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+cfg.Schema)
		boot.Close()
		if err != nil {
			return nil, fmt.Errorf("store: create schema %s: %w", cfg.Schema, err)
		}
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + "search_path=" + cfg.Schema
	}
	db, err := sql.Open("pgx", u)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16) // the default 2 made most queries under load open a new (TLS) connection
	return db, nil
}

func validIdent(s string) bool {
	if s == "" || len(s) > 60 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Dialect reports which database this is.
func (d *DB) Dialect() Dialect { return d.dialect }

// Close closes the database.
func (d *DB) Close() error { return d.sql.Close() }

// q rewrites a query written with ? placeholders for the dialect.
func (d *DB) q(query string) string {
	if d.dialect != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

func (d *DB) migrate(ctx context.Context) error {
	if _, err := d.sql.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	dir := "migrations/" + string(d.dialect)
	names, err := fs.Glob(migrationsFS, dir+"/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		version := strings.TrimSuffix(filepath.Base(name), ".sql")
		var one int
		err := d.sql.QueryRowContext(ctx, d.q(`SELECT 1 FROM schema_migrations WHERE version = ?`), version).Scan(&one)
		if err == nil {
			continue
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: read schema_migrations: %w", err)
		}
		body, err := fs.ReadFile(migrationsFS, name)
		if err != nil {
			return err
		}
		tx, err := d.sql.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("store: migrate %s: %w", version, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migrate %s: %w", version, err)
		}
		if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), version, timeText(time.Now())); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: record migration %s: %w", version, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("store: commit migration %s: %w", version, err)
		}
	}
	return nil
}

func timeText(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// SQL exposes the underlying database, for tests that tamper with it and
// for tools; registry code goes through the methods above.
func (d *DB) SQL() *sql.DB { return d.sql }

// Rebind rewrites a query written with ? placeholders for this dialect.
func (d *DB) Rebind(query string) string { return d.q(query) }

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Snapshot returns a read-only view of the database as of one moment, for
// readers that must see a consistent whole (verify, loading state) while
// writers go on. Call done when finished; the view must not be written to.
func (d *DB) Snapshot(ctx context.Context) (view *DB, done func(), err error) {
	v := *d
	if d.dialect == Postgres {
		tx, err := d.sql.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
		if err != nil {
			return nil, nil, fmt.Errorf("store: begin snapshot: %w", err)
		}
		v.rq = tx
		return &v, func() { _ = tx.Rollback() }, nil
	}
	// SQLite: a deferred transaction on one connection reads one WAL
	// snapshot from its first read on, without taking the write lock (the
	// pool's transactions are BEGIN IMMEDIATE).
	conn, err := d.sql.Conn(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("store: snapshot connection: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN DEFERRED"); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("store: begin snapshot: %w", err)
	}
	var one int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM meta").Scan(&one); err != nil {
		_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		conn.Close()
		return nil, nil, fmt.Errorf("store: start snapshot: %w", err)
	}
	v.rq = conn
	return &v, func() {
		_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		conn.Close()
	}, nil
}
