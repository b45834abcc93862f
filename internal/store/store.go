// Package store persists a registry node's ledger on SQLite (embedded, the
// default) or PostgreSQL, with embedded migrations per dialect.
//
// The registry keeps its working state in memory and writes each group of
// transactions through Commit as one database transaction, so every write
// path is a handful of multi-row statements whatever the group's size (group
// commit). The journal's sequence number is the optimistic lock between
// writers: a writer whose view is stale fails with ErrStale and reloads.
//
// What differs between databases is one driver each (sqlite.go,
// postgres.go) behind the unexported driver interface; the SQL and the
// rules are shared, and the conformance suite (TestConformance) holds every
// driver to the same contract. The rules every driver keeps:
//   - a duplicate key in a batch is ErrStale, read from the driver's error
//     code, and the batch writes nothing;
//   - text is valid UTF-8 without NUL: anything else is refused with a
//     *TextError (ErrInvalidText) before it is sent, and looked up, matches
//     nothing;
//   - a Commit whose outcome the driver cannot know (the connection broke
//     during COMMIT) is ErrOutcomeUnknown, never a plain failure;
//   - CommitOn writes a batch only on the journal head it names, and is
//     ErrStale otherwise (a writer behind, ahead or on another branch
//     cannot append); on PostgreSQL it is one round trip;
//   - Config.Fault lets tests fail a Commit or CommitOn at each point.
//
// A new table is a migration in each migrations folder, a tableSpec and a
// Batch field planned in planBatch (writePlan.rows checks its text), a read
// method, and a conformance case; a new database is a driver file, its
// migrations folder, a case in Open and a target in storetest.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
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
	// w is the pool write transactions begin on: sql, or on SQLite a pool
	// of its own whose connections keep their page cache (writePooler).
	w *sql.DB
	// rq runs the read queries: the pool, or one transaction for a snapshot.
	rq    querier
	drv   driver
	fault func(FaultPoint) error
	prep  *stmtCache // statements prepared on sql
	wprep *stmtCache // statements prepared on w (prep when w is sql)
}

// Config says which database to open.
type Config struct {
	// URL is a PostgreSQL connection string (a postgres:// URL or
	// key=value pairs); empty means SQLite at Path.
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
func Open(ctx context.Context, cfg Config) (*DB, error) { return open(ctx, cfg, false) }

// open opens a pool on cfg's driver, pings it, and migrates it, or for a
// read-only open checks that it is migrated.
func open(ctx context.Context, cfg Config, readOnly bool) (*DB, error) {
	drv, err := newDriver(cfg)
	if err != nil {
		return nil, err
	}
	openPool, prepare := drv.open, (*DB).migrate
	if readOnly {
		openPool, prepare = drv.openReadOnly, (*DB).checkMigrated
	}
	db, err := openPool(ctx, cfg)
	if err != nil {
		return nil, err
	}
	d := &DB{sql: db, w: db, rq: db, drv: drv, fault: cfg.Fault, prep: newStmtCache()}
	d.wprep = d.prep
	if err := ping(ctx, db, drv.dialect()); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", drv.dialect(), err)
	}
	if wp, ok := drv.(writePooler); ok && !readOnly {
		w, err := wp.openWritePool(ctx, cfg)
		if err != nil {
			db.Close()
			return nil, err
		}
		d.w, d.wprep = w, newStmtCache()
	}
	if err := prepare(d, ctx); err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

// newDriver picks the driver cfg names.
func newDriver(cfg Config) (driver, error) {
	switch {
	case cfg.URL != "":
		return &pgDriver{schema: cfg.Schema}, nil
	case cfg.Path != "":
		return &sqliteDriver{}, nil
	}
	return nil, errors.New("store: neither a database URL nor a SQLite path was given")
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
func (d *DB) Dialect() Dialect { return d.drv.dialect() }

// Close closes the database.
func (d *DB) Close() error {
	d.prep.close()
	if d.w != d.sql {
		d.wprep.close()
		if err := d.w.Close(); err != nil {
			d.sql.Close()
			return err
		}
	}
	return d.sql.Close()
}

// stmtCache holds the statements prepared on a pool, by text.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func newStmtCache() *stmtCache { return &stmtCache{m: map[string]*sql.Stmt{}} }

// prepared returns query prepared on the pool: database/sql prepares it
// once on each connection it then runs on (also inside a transaction,
// through Tx.StmtContext), so a fixed text is parsed once per connection,
// not once per use.
func (d *DB) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	return d.prep.get(ctx, d.sql, query)
}

// preparedWrite is prepared for the write pool, whose transactions
// (BeginWrite's, a log's append, a migration's) run it through
// Tx.StmtContext.
func (d *DB) preparedWrite(ctx context.Context, query string) (*sql.Stmt, error) {
	return d.wprep.get(ctx, d.w, query)
}

// get returns query prepared on pool, the cache's pool.
func (c *stmtCache) get(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[query]; ok {
		return s, nil
	}
	s, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("store: prepare: %w", err)
	}
	c.m[query] = s
	return s, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.m {
		s.Close()
		delete(c.m, q)
	}
}

// q rewrites a query written with ? placeholders for the driver.
func (d *DB) q(query string) string { return d.drv.rebind(query) }

// migrate applies the dialect's migrations not yet recorded, each in its
// own transaction under the node's write lock, so two processes opening the
// same database at once apply each migration once.
func (d *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrationsFS, "migrations/"+string(d.Dialect())+"/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, name := range names {
		if err := d.migrateOne(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

func (d *DB) migrateOne(ctx context.Context, name string) error {
	version := strings.TrimSuffix(filepath.Base(name), ".sql")
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migrate %s: %w", version, err)
	}
	defer tx.Rollback()
	if err := d.drv.lock(ctx, tx); err != nil {
		return fmt.Errorf("store: migrate %s: %w", version, err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	var one int
	err = tx.QueryRowContext(ctx, d.q(`SELECT 1 FROM schema_migrations WHERE version = ?`), version).Scan(&one)
	if err == nil {
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: read schema_migrations: %w", err)
	}
	body, err := fs.ReadFile(migrationsFS, name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("store: migrate %s: %w", version, err)
	}
	if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), version, timeText(time.Now())); err != nil {
		return fmt.Errorf("store: record migration %s: %w", version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit migration %s: %w", version, err)
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

// Rebind rewrites a query written with ? placeholders for this database.
func (d *DB) Rebind(query string) string { return d.q(query) }

// Snapshot returns a read-only view of the database as of one moment, for
// readers that must see a consistent whole (verify, loading state) while
// writers go on. Call done when finished; the view must not be written to.
func (d *DB) Snapshot(ctx context.Context) (view *DB, done func(), err error) {
	rq, done, err := d.drv.snapshot(ctx, d.sql)
	if err != nil {
		return nil, nil, err
	}
	v := *d
	v.rq = rq
	return &v, done, nil
}

// ping opens the pool's first connection. A new SQLite connection runs its
// pragmas, and journal_mode(WAL) on a file another process is opening at
// the same moment can answer SQLITE_BUSY without waiting on busy_timeout
// (https://www.sqlite.org/rescode.html#busy): that is retried for a few
// seconds; any other error, or any error from PostgreSQL, is returned.
func ping(ctx context.Context, db *sql.DB, d Dialect) error {
	for try := 0; ; try++ {
		err := db.PingContext(ctx)
		if err == nil || d != SQLite || try >= 100 || !strings.Contains(err.Error(), "SQLITE_BUSY") {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}
