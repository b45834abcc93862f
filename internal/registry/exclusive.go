package registry

import (
	"context"
	"fmt"
	"os"

	"github.com/corridor-carbon/corridor/internal/store"
)

// One serving process per database. A node serves reads from memory, so a
// second process writing the same database would leave the first one's
// readers showing units that had already moved. Open therefore takes a lock
// held for the node's lifetime and refuses to start without it; the
// operating system (SQLite: flock on a file beside the database) or the
// server (PostgreSQL: a session advisory lock, dropped with its connection)
// releases it when the process dies, so a crash never leaves it stuck.

// exclusiveKey2 is the second key of the PostgreSQL session lock (the
// first is the schema's hash). The two-key form is a key space of its own,
// apart from the one-key transaction lock the writer takes per commit
// (PostgreSQL documentation, "Advisory Lock Functions").
const exclusiveKey2 = 1

// ErrDatabaseInUse is returned by Open when another process (or node)
// already serves the database.
var ErrDatabaseInUse = fmt.Errorf("registry: another process is already serving this database")

func holdExclusive(ctx context.Context, db *store.DB) (release func(), err error) {
	if db.Dialect() == store.Postgres {
		conn, err := db.SQL().Conn(ctx)
		if err != nil {
			return nil, fmt.Errorf("registry: exclusive lock: %w", err)
		}
		var ok bool
		var schema string
		if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(hashtext(current_schema()), $1), current_schema()`, exclusiveKey2).Scan(&ok, &schema); err != nil {
			conn.Close()
			return nil, fmt.Errorf("registry: exclusive lock: %w", err)
		}
		if !ok {
			conn.Close()
			return nil, fmt.Errorf("%w (PostgreSQL schema %s): stop the other server first; one database has one serving process", ErrDatabaseInUse, schema)
		}
		return func() {
			_, _ = conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(hashtext(current_schema()), $1)`, exclusiveKey2)
			conn.Close()
		}, nil
	}
	var path string
	if err := db.SQL().QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path); err != nil {
		return nil, fmt.Errorf("registry: exclusive lock: database file: %w", err)
	}
	if path == "" {
		return func() {}, nil // an in-memory database belongs to its process
	}
	f, err := os.OpenFile(path+".serving", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("registry: exclusive lock: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w (SQLite %s): stop the other server first; one database has one serving process", ErrDatabaseInUse, path)
	}
	return func() { f.Close() }, nil // closing the file drops the lock
}
