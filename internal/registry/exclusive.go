package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
)

// One serving process per database. A node serves reads from memory, so a
// second process writing the same database would leave the first one's
// readers showing units that had already moved. Open therefore takes a lock
// held for the node's lifetime and refuses to start without it; the
// operating system (SQLite: flock on the database file itself) or the
// server (PostgreSQL: a session advisory lock, dropped with its connection)
// releases it when the process dies, so a crash never leaves it stuck.
//
// A lock can still be lost while the node runs: an administrator's
// pg_terminate_backend, a network cut or a PostgreSQL restart drops the
// session and its advisory lock without the node being told. The node
// therefore checks the lock every exclusiveCheck; when the session is gone
// it takes the lock again on a new connection, and when another process
// took it meanwhile the node stops taking writes and reports not ready
// (Ready, /readyz) with the reason, for an operator to stop one of the two.

// exclusiveKey2 is the second key of the PostgreSQL session lock (the
// first is the schema's hash). The two-key form is a key space of its own,
// apart from the one-key transaction lock the writer takes per commit
// (PostgreSQL documentation, "Advisory Lock Functions").
const exclusiveKey2 = 1

// exclusiveCheck is how often a node looks at its serving lock.
const exclusiveCheck = time.Second

// ErrDatabaseInUse is returned by Open when another process (or node)
// already serves the database.
var ErrDatabaseInUse = fmt.Errorf("registry: another process is already serving this database")

// CodeNotServing is the code of a write refused because the node lost its
// serving lock to another process.
const CodeNotServing = "registry_not_serving"

// exclusive is a node's serving lock.
type exclusive struct {
	// check looks at the lock and takes it again if its holder (the
	// session) was lost; an error wrapping ErrDatabaseInUse means another
	// process holds it now. nil for locks that cannot be lost.
	check   func(ctx context.Context) error
	release func()
	// lost is the reason the node no longer holds the lock (nil: held).
	lost atomic.Pointer[error]
}

// lostErr is why the node lost its lock, or nil.
func (x *exclusive) lostErr() error {
	if x == nil {
		return nil
	}
	if p := x.lost.Load(); p != nil {
		return *p
	}
	return nil
}

// watch checks the lock every exclusiveCheck until stop closes. A check
// that cannot reach the database leaves the lock as it was (the next check
// tries again, and the writer fails on its own); only a lock another
// process holds marks the node lost, for good: its state in memory may be
// behind what that process wrote.
func (x *exclusive) watch(stop <-chan struct{}, log *slog.Logger) {
	if x.check == nil {
		return
	}
	t := time.NewTicker(exclusiveCheck)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), exclusiveCheck)
		err := x.check(ctx)
		cancel()
		switch {
		case errors.Is(err, ErrDatabaseInUse):
			lost := fmt.Errorf("registry: the serving lock was lost and another process now holds it, so this node takes no more writes: %w", err)
			x.lost.Store(&lost)
			log.Error("registry: serving lock lost to another process; refusing writes and reporting not ready", "err", err)
			return
		case err != nil:
			log.Warn("registry: serving lock check failed; trying again", "err", err)
		}
	}
}

// errNotServing answers a write refused after the lock was lost.
func errNotServing(reason error) error {
	return &ledger.Error{Kind: ledger.KindTransient, Code: CodeNotServing,
		Detail: reason.Error() + "; nothing was written, send the write to the server that holds the lock"}
}

// Serving is nil while the node holds its serving lock; after the lock was
// lost to another process it is the registry_not_serving error every read
// is answered with. The node's state in memory is what it last committed,
// and the other process may since have moved those units: a read served
// from it would be wrong without knowing it, so reads are refused like
// writes rather than marked stale, and a client (or load balancer) goes to
// the server that holds the lock, as /readyz already tells it to.
func (n *Node) Serving() error {
	lost := n.excl.lostErr()
	if lost == nil {
		return nil
	}
	return &ledger.Error{Kind: ledger.KindTransient, Code: CodeNotServing,
		Detail: lost.Error() + "; this node's state may be behind the database, so it answers no reads either: read from the server that holds the lock"}
}

func holdExclusive(ctx context.Context, db *store.DB, log *slog.Logger) (*exclusive, error) {
	if db.Dialect() == store.Postgres {
		return holdAdvisory(ctx, db, log)
	}
	var path string
	if err := db.SQL().QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path); err != nil {
		return nil, fmt.Errorf("registry: exclusive lock: database file: %w", err)
	}
	if path == "" {
		return &exclusive{release: func() {}}, nil // an in-memory database belongs to its process
	}
	release, err := lockDatabaseFile(path)
	if err != nil {
		if errors.Is(err, errLocked) {
			return nil, fmt.Errorf("%w (SQLite %s): stop the other server first; one database has one serving process", ErrDatabaseInUse, path)
		}
		return nil, fmt.Errorf("registry: exclusive lock: %w", err)
	}
	return &exclusive{release: release}, nil
}

// holdAdvisory takes the PostgreSQL session lock on a connection of its own.
func holdAdvisory(ctx context.Context, db *store.DB, log *slog.Logger) (*exclusive, error) {
	var mu sync.Mutex // guards conn and released between check and release
	released := false
	conn, schema, err := takeAdvisory(ctx, db)
	if err != nil {
		return nil, err
	}
	x := &exclusive{}
	x.check = func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if released {
			return nil // a check racing Close must not take the lock again
		}
		if conn != nil {
			var held bool
			err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND classid = hashtext(current_schema())::oid AND objid = $1 AND objsubid = 2)`, exclusiveKey2).Scan(&held)
			if err == nil && held {
				return nil
			}
			// The session is gone (or, impossibly, lost its lock): its
			// lock went with it. Take it again on a new connection.
			log.Warn("registry: the serving lock's database session was lost; taking the lock again", "schema", schema, "err", err)
			conn.Close()
			conn = nil
		}
		c, _, err := takeAdvisory(ctx, db)
		if err != nil {
			return err
		}
		conn = c
		log.Info("registry: serving lock taken again", "schema", schema)
		return nil
	}
	x.release = func() {
		mu.Lock()
		defer mu.Unlock()
		released = true
		if conn != nil {
			_, _ = conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(hashtext(current_schema()), $1)`, exclusiveKey2)
			conn.Close()
			conn = nil
		}
	}
	return x, nil
}

// takeAdvisory takes the session lock on a new connection, which holds it.
func takeAdvisory(ctx context.Context, db *store.DB) (*sql.Conn, string, error) {
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("registry: exclusive lock: %w", err)
	}
	var ok bool
	var schema string
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(hashtext(current_schema()), $1), current_schema()`, exclusiveKey2).Scan(&ok, &schema); err != nil {
		conn.Close()
		return nil, "", fmt.Errorf("registry: exclusive lock: %w", err)
	}
	if !ok {
		conn.Close()
		return nil, schema, fmt.Errorf("%w (PostgreSQL schema %s): stop the other server first; one database has one serving process", ErrDatabaseInUse, schema)
	}
	return conn, schema, nil
}

// ServingLock is the one-serving-process lock for a server other than a
// node that keeps a database of its own (the hub): the same lock Open
// takes, checked the same way, so two hubs on one database are refused
// with ErrDatabaseInUse like two nodes are.
type ServingLock struct {
	x    *exclusive
	stop chan struct{}
	once sync.Once
}

// HoldServing takes db's serving lock for the caller's lifetime; an error
// wrapping ErrDatabaseInUse means another process serves db. Release
// gives it back.
func HoldServing(ctx context.Context, db *store.DB, log *slog.Logger) (*ServingLock, error) {
	if log == nil {
		log = slog.Default()
	}
	x, err := holdExclusive(ctx, db, log)
	if err != nil {
		return nil, err
	}
	l := &ServingLock{x: x, stop: make(chan struct{})}
	go x.watch(l.stop, log)
	return l, nil
}

// Lost is nil while the lock is held, and why it is not once another
// process took it.
func (l *ServingLock) Lost() error { return l.x.lostErr() }

// Release gives the lock back; it may be called more than once.
func (l *ServingLock) Release() {
	l.once.Do(func() {
		close(l.stop)
		l.x.release()
	})
}
