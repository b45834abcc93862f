package store

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	sqlite3 "modernc.org/sqlite/lib"
)

// TestPostgresCommitError: only an ERROR the server reports for COMMIT
// means "rolled back"; a broken connection or a session-ending FATAL leaves
// the outcome unknown.
func TestPostgresCommitError(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		err     error
		stale   bool
		unknown bool
	}{
		{"serialization failure", &pgconn.PgError{Severity: "ERROR", Code: "40001"}, false, false},
		{"deferred unique violation", &pgconn.PgError{Severity: "ERROR", Code: "23505"}, true, false},
		{"admin shutdown", &pgconn.PgError{Severity: "FATAL", Code: "57P01"}, false, true},
		{"crash shutdown", &pgconn.PgError{Severity: "PANIC", Code: "57P02"}, false, true},
		{"connection failure reported as ERROR", &pgconn.PgError{Severity: "ERROR", Code: "08006"}, false, true},
		{"unexpected EOF", io.ErrUnexpectedEOF, false, true},
		{"closed connection", errors.New("conn closed"), false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := (&pgDriver{}).commitError(tc.err)
			if errors.Is(got, ErrStale) != tc.stale {
				t.Errorf("classify(%v) = %v: stale = %v, want %v", tc.err, got, !tc.stale, tc.stale)
			}
			if errors.Is(got, ErrOutcomeUnknown) != tc.unknown {
				t.Errorf("classify(%v) = %v: unknown = %v, want %v", tc.err, got, !tc.unknown, tc.unknown)
			}
			if !tc.stale && !errors.Is(got, tc.err) {
				t.Errorf("classify(%v) = %v: the cause is not wrapped", tc.err, got)
			}
		})
	}
}

// TestSQLiteCommitError: only a busy database or a deferred constraint
// means a SQLite COMMIT certainly did not happen.
func TestSQLiteCommitError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		code   int
		notRun bool
	}{
		{"busy", sqlite3.SQLITE_BUSY, true},
		{"busy snapshot", sqlite3.SQLITE_BUSY_SNAPSHOT, true},
		{"locked", sqlite3.SQLITE_LOCKED, true},
		{"deferred foreign key", sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, true},
		{"I/O error on fsync", sqlite3.SQLITE_IOERR_FSYNC, false},
		{"I/O error on write", sqlite3.SQLITE_IOERR_WRITE, false},
		{"disk full", sqlite3.SQLITE_FULL, false},
		{"corrupt", sqlite3.SQLITE_CORRUPT, false},
		{"out of memory", sqlite3.SQLITE_NOMEM, false},
	} {
		if got := sqliteCommitNotRun(tc.code); got != tc.notRun {
			t.Errorf("%s (%d): not run = %v, want %v", tc.name, tc.code, got, tc.notRun)
		}
	}
	// database/sql's own errors (the context ended, the transaction was
	// already over) come before COMMIT is run.
	for _, err := range []error{context.Canceled, sql.ErrTxDone} {
		if got := (&sqliteDriver{}).commitError(err); errors.Is(got, ErrOutcomeUnknown) || !errors.Is(got, err) {
			t.Errorf("commitError(%v) = %v, want a known failure wrapping it", err, got)
		}
	}
}
