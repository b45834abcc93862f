package store

import (
	"context"
	"database/sql"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

// driver is what differs between databases; everything else in this
// package is one SQL text run on either. Each driver lives in its own file
// (sqlite.go, postgres.go) and is checked against this interface at
// compile time. The conformance suite (conformance_test.go) runs every
// public method on every driver.
type driver interface {
	// dialect names the database, and its migrations folder.
	dialect() Dialect
	// open returns the connection pool for cfg, creating the database if
	// needed; Open pings and migrates it.
	open(ctx context.Context, cfg Config) (*sql.DB, error)
	// openReadOnly returns a pool that creates nothing and refuses writes,
	// or an error wrapping ErrNotFound when there is no database at cfg.
	openReadOnly(ctx context.Context, cfg Config) (*sql.DB, error)
	// rebind rewrites a query written with ? placeholders.
	rebind(query string) string
	// lock takes the node's write lock inside tx, which BeginWrite has
	// just begun; writers in other processes wait for it.
	lock(ctx context.Context, tx *sql.Tx) error
	// exec runs a write plan's writes, in order, in tx (a transaction on
	// d's pool).
	exec(ctx context.Context, d *DB, tx *sql.Tx, writes []tableWrite) error
	// commitOn runs a write plan's statements in one transaction of their
	// own, under the write lock, if and only if the journal head is head
	// (DB.CommitOn); d's fault hook is called as in WriteTx.Commit.
	commitOn(ctx context.Context, d *DB, head ledger.Entry, writes []tableWrite) error
	// keyed is what follows FROM in a query of table's rows whose idem_key
	// is one of keys, with one parameter, arg: a statement looking up any
	// number of keys has one text. It finds each key through the key's
	// index whatever the table's size was when the statement was planned.
	keyed(table string, keys []string) (from string, arg any)
	// isUniqueViolation says, from the driver's error code, whether err is
	// a duplicate key.
	isUniqueViolation(err error) bool
	// commitError classifies a failed COMMIT: ErrStale, a plain error
	// (known not committed) or one wrapped with ErrOutcomeUnknown.
	commitError(err error) error
	// snapshot opens a read-only view of one moment; done ends it.
	snapshot(ctx context.Context, db *sql.DB) (view querier, done func(), err error)
}

// writePooler is a driver whose write transactions run on a pool of their
// own (DB.w), opened after open's pool is pinged; other drivers write on
// open's pool.
type writePooler interface {
	openWritePool(ctx context.Context, cfg Config) (*sql.DB, error)
}

// stmt is one planned statement, written with ? placeholders.
type stmt struct {
	sql  string
	args []any
}

// querier is what reads run on: the pool, a transaction or a connection.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}
