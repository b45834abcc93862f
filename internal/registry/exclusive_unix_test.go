//go:build unix

package registry

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// lockBackend is the PostgreSQL backend holding the node's serving lock of
// the schema db works in (0: none).
func lockBackend(t *testing.T, db *store.DB) int {
	t.Helper()
	var pid int
	err := db.SQL().QueryRow(`SELECT COALESCE((SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = hashtext(current_schema())::oid AND objid = $1 AND objsubid = 2), 0)`, exclusiveKey2).Scan(&pid)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// TestServingLockCannotBeTakenAway: the serving lock survives what used to
// drop it silently while a node ran. PostgreSQL: the lock's session is
// terminated (pg_terminate_backend); the node notices and takes its lock
// again, so a second Open is still refused. SQLite: the old lock file
// beside the database is deleted; the lock is on the database file, so a
// second Open, and an flock from another open file description (as another
// process would take it), are still refused.
func TestServingLockCannotBeTakenAway(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		a := openNode(t, tg)
		if a.DB().Dialect() == store.Postgres {
			admin := tg.Open(t)
			pid := lockBackend(t, admin)
			if pid == 0 {
				t.Fatal("no backend holds the serving lock")
			}
			if _, err := admin.SQL().Exec(`SELECT pg_terminate_backend($1)`, pid); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * exclusiveCheck)
			for p := lockBackend(t, admin); p == 0 || p == pid; p = lockBackend(t, admin) {
				if time.Now().After(deadline) {
					t.Fatalf("the node did not take its serving lock again after its session %d was terminated", pid)
				}
				time.Sleep(50 * time.Millisecond)
			}
		} else {
			matches, _ := filepath.Glob(filepath.Join(filepath.Dir(tg.Cfg.Path), "*"))
			for _, m := range matches {
				if m != tg.Cfg.Path && !strings.HasSuffix(m, "-wal") && !strings.HasSuffix(m, "-shm") {
					if err := os.Remove(m); err != nil {
						t.Fatal(err)
					}
				}
			}
			f, err := os.Open(tg.Cfg.Path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close() // no SQLite record locks of this test's own on the file
			if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); !errors.Is(err, syscall.EWOULDBLOCK) {
				t.Fatalf("flock of the database file from another description: %v, want EWOULDBLOCK", err)
			}
		}
		if _, err := Open(context.Background(), tg.Open(t), Options{Code: "CN"}); !errors.Is(err, ErrDatabaseInUse) {
			t.Fatalf("second Open after the lock was attacked: %v, want ErrDatabaseInUse", err)
		}
		if err := a.Ready(); err != nil {
			t.Fatalf("the node holding its lock is not ready: %v", err)
		}
		f := setUp(t, a)
		f.must(t, f.holder, Transfer{From: f.a1, To: f.a2, Units: Units{Quantity: 1, UnitType: "CCER"}})
	})
}

// TestServingLockLostToAnother: when another process takes the serving
// lock in the moment the node's session is gone (PostgreSQL), the node
// stops taking writes with registry_not_serving and Ready says why.
// SQLite's lock cannot be lost while the process lives, so there the
// attack is refused and the node keeps serving.
func TestServingLockLostToAnother(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		a := openNode(t, tg)
		f := setUp(t, a)
		thief := tg.Open(t)
		if a.DB().Dialect() == store.Postgres {
			admin := tg.Open(t)
			pid := lockBackend(t, admin)
			conn, err := thief.SQL().Conn(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := admin.SQL().Exec(`SELECT pg_terminate_backend($1)`, pid); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				var ok bool
				if err := conn.QueryRowContext(context.Background(), `SELECT pg_try_advisory_lock(hashtext(current_schema()), $1)`, exclusiveKey2).Scan(&ok); err != nil {
					t.Fatal(err)
				}
				if ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the terminated session's lock was never free")
				}
				time.Sleep(5 * time.Millisecond)
			}
			deadline = time.Now().Add(10 * exclusiveCheck)
			for a.Ready() == nil {
				if time.Now().After(deadline) {
					t.Fatal("the node stayed ready after another process took its serving lock")
				}
				time.Sleep(50 * time.Millisecond)
			}
			if err := a.Ready(); !strings.Contains(err.Error(), "serving lock was lost") {
				t.Fatalf("Ready: %v, want it to name the lost serving lock", err)
			}
			_, err = f.do(t, f.holder, Transfer{From: f.a1, To: f.a2, Units: Units{Quantity: 1, UnitType: "CCER"}})
			var le *ledger.Error
			if !errors.As(err, &le) || le.Code != CodeNotServing {
				t.Fatalf("write after the lock was lost: %v, want %s", err, CodeNotServing)
			}
			return
		}
		if _, err := Open(context.Background(), thief, Options{Code: "CN"}); !errors.Is(err, ErrDatabaseInUse) {
			t.Fatalf("second Open: %v, want ErrDatabaseInUse", err)
		}
		time.Sleep(2 * exclusiveCheck)
		if err := a.Ready(); err != nil {
			t.Fatalf("Ready: %v", err)
		}
		f.must(t, f.holder, Transfer{From: f.a1, To: f.a2, Units: Units{Quantity: 1, UnitType: "CCER"}})
	})
}
