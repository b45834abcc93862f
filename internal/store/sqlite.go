package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

// sqliteDriver is the embedded database: one file per node.
type sqliteDriver struct{}

func (*sqliteDriver) dialect() Dialect { return SQLite }

var (
	_ driver      = (*sqliteDriver)(nil)
	_ writePooler = (*sqliteDriver)(nil)
)

func (*sqliteDriver) open(_ context.Context, cfg Config) (*sql.DB, error) {
	if err := mkdirAllDurable(filepath.Dir(cfg.Path)); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	db, err := openSQLite(cfg.Path)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8) // database/sql keeps only 2 by default: under load every other query reopened a connection
	return db, nil
}

// sqliteWriteCacheKiB is the page cache of each write connection
// (https://www.sqlite.org/pragma.html#pragma_cache_size, negative: KiB).
// The default, 2 MiB, held less than a transfer's commit touches once the
// journal's key index outgrew it.
const sqliteWriteCacheKiB = 32 << 10

// openWritePool opens the pool write transactions run on: two connections
// (database/sql hands out the one used last, so one writer keeps taking
// the same; the second lets a write wait on busy_timeout rather than on
// the pool if a writer ever begins inside another's transaction), each
// with a larger page cache. A connection keeps its cache from one of its
// transactions to the next as long as no other connection wrote the file
// between them (in WAL mode a connection that finds the WAL changed at
// the start of a transaction drops its whole cache,
// https://www.sqlite.org/wal.html): on the shared pool, where the readers'
// connections took turns with the writer, every commit read its b-tree
// pages again.
func (*sqliteDriver) openWritePool(_ context.Context, cfg Config) (*sql.DB, error) {
	db, err := openSQLite(cfg.Path, fmt.Sprintf("cache_size(-%d)", sqliteWriteCacheKiB))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(2)
	db.SetMaxIdleConns(2)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	return db, nil
}

// openSQLite opens a pool on the file at path whose connections run the
// pragmas below, then extra.
func openSQLite(path string, extra ...string) (*sql.DB, error) {
	// WAL lets readers run beside the writer; synchronous(FULL) makes every
	// commit durable (the WAL is synced at each commit); _txlock=immediate
	// takes the write lock at BEGIN so two writers queue instead of deadlocking.
	// temp_store(MEMORY) keeps statement journals in memory: a multi-row
	// INSERT that may fail on a constraint journals the pages it changes so
	// it can be undone alone (https://www.sqlite.org/tempfiles.html, 2.5),
	// which otherwise opened and wrote a temporary file in every commit. It
	// is not needed after a crash (the WAL is), so durability is unchanged.
	// busy_timeout comes first: the driver runs it before the others on
	// each new connection (the rest in lexicographic order, not as listed:
	// modernc.org/sqlite's applyQueryParams), and journal_mode(WAL) on a
	// new file needs a lock that a process opening the same file at the
	// same moment may hold. (So a page_size here would come after
	// journal_mode and never apply; 2048- and 1024-byte pages, measured,
	// wrote fewer bytes per commit but more frames, and were no faster.)
	q := url.Values{}
	for _, p := range append([]string{"busy_timeout(10000)", "journal_mode(WAL)", sqliteSynchronous, "foreign_keys(ON)", "temp_store(MEMORY)"}, extra...) {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	return db, nil
}

// openReadOnly opens the file with mode=ro (https://www.sqlite.org/uri.html,
// "mode"): SQLite refuses every write on the connection.
func (*sqliteDriver) openReadOnly(_ context.Context, cfg Config) (*sql.DB, error) {
	path := cfg.Path
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

func (*sqliteDriver) rebind(query string) string { return query }

// lock: BEGIN IMMEDIATE (the pool's _txlock) already holds the write lock.
func (*sqliteDriver) lock(context.Context, *sql.Tx) error { return nil }

// sqliteChunks are the row counts of the statements a write is cut into,
// largest first: a fixed set of statement texts, each prepared once per
// connection (DB.preparedWrite), so a commit parses no SQL. They are the
// powers of two, so a count below 512 is at most one statement of each
// size (its binary digits): a transfer's commit of 37 entries and 74
// blocks ran 4 and 5 statements with sizes 256, 64, 16, 4 and 1, and runs
// 3 and 3, each statement costing its call, binding and reset.
var sqliteChunks = []int{256, 128, 64, 32, 16, 8, 4, 2, 1}

// sqliteChunk is the largest chunk size of at most n rows.
func sqliteChunk(n int) int {
	for _, c := range sqliteChunks {
		if c <= n {
			return c
		}
	}
	return 1
}

// exec runs each write as prepared statements of fixed row counts: SQLite
// runs in-process, so a statement is a function call, not a round trip, and
// what costs is parsing (a batch of varying size made a new statement
// text every commit).
func (*sqliteDriver) exec(ctx context.Context, d *DB, tx *sql.Tx, writes []tableWrite) error {
	for _, w := range writes {
		for lo := 0; lo < w.n; {
			size := sqliteChunk(w.n - lo)
			ps, err := d.preparedWrite(ctx, w.spec.sqlite[size])
			if err != nil {
				return err
			}
			if _, err := tx.StmtContext(ctx, ps).ExecContext(ctx, w.rowArgs(lo, lo+size)...); err != nil {
				return fmt.Errorf("store: write: %w", err)
			}
			lo += size
		}
	}
	return nil
}

// commitOn: BEGIN IMMEDIATE, the head read and the comparison cost no
// round trip here.
func (*sqliteDriver) commitOn(ctx context.Context, d *DB, head ledger.Entry, writes []tableWrite) error {
	return commitOnTx(ctx, d, head, writes)
}

// keyed reads the keys from one JSON array (json_each,
// https://www.sqlite.org/json1.html#jeach); SQLite then searches the
// key's index once per key.
func (*sqliteDriver) keyed(table string, keys []string) (string, any) {
	b, _ := json.Marshal(keys)
	return table + " WHERE idem_key IN (SELECT value FROM json_each(?))", string(b)
}

// isUniqueViolation reads SQLite's extended result code (the driver turns
// extended codes on): SQLITE_CONSTRAINT_PRIMARYKEY or _UNIQUE
// (https://www.sqlite.org/rescode.html#constraint_primarykey).
func (*sqliteDriver) isUniqueViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// commitError: SQLite runs in this process, but a COMMIT that failed on
// the disk is still not known to have failed. SQLITE_BUSY and a deferred
// constraint leave the transaction open, uncommitted, for the caller's
// Rollback (https://www.sqlite.org/lang_transaction.html, "Response To
// Errors Within A Transaction"); an error that is not SQLite's comes from
// database/sql before COMMIT was run. Any other failure (IOERR, FULL,
// CORRUPT, NOMEM…) may come after the commit frame reached the WAL file,
// and a WAL frame that completes a transaction with valid checksums is
// committed when the WAL is next recovered
// (https://www.sqlite.org/fileformat2.html#walformat): outcome unknown.
func (d *sqliteDriver) commitError(err error) error {
	if d.isUniqueViolation(err) {
		return ErrStale
	}
	var e *sqlite.Error
	if errors.As(err, &e) && !sqliteCommitNotRun(e.Code()) {
		return outcomeUnknown(fmt.Errorf("store: commit: %w", err))
	}
	return fmt.Errorf("store: commit: %w", err)
}

// sqliteCommitNotRun reports whether a COMMIT that failed with the
// (extended) result code certainly committed nothing.
func sqliteCommitNotRun(code int) bool {
	switch code & 0xff { // the primary code (https://www.sqlite.org/rescode.html)
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CONSTRAINT:
		return true
	}
	return false
}

// snapshot: a deferred transaction on one connection reads one WAL
// snapshot from its first read on, without taking the write lock (the
// pool's transactions are BEGIN IMMEDIATE, so this one is begun by hand).
func (*sqliteDriver) snapshot(ctx context.Context, db *sql.DB) (querier, func(), error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("store: snapshot connection: %w", err)
	}
	end := func() {
		_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		conn.Close()
	}
	if _, err := conn.ExecContext(ctx, "BEGIN DEFERRED"); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("store: begin snapshot: %w", err)
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM meta").Scan(&n); err != nil {
		end()
		return nil, nil, fmt.Errorf("store: start snapshot: %w", err)
	}
	return conn, end, nil
}
