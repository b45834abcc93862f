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

// TestPostgresPipelineError: a pipeline's ERROR (for a statement or at its
// Sync's commit) rolled it back; a moved head and a taken key are
// ErrStale; any other failure, even one pgconn calls safe to retry, leaves
// the outcome unknown.
func TestPostgresPipelineError(t *testing.T) {
	t.Parallel()
	headMoved := &pgconn.PgError{Severity: "ERROR", Code: pgHeadMoved, Message: "journal head is 4 h4, not 3 h3"}
	for _, tc := range []struct {
		name           string
		results        []*pgconn.Result
		err            error
		stale, unknown bool
	}{
		{"success", []*pgconn.Result{{}, {}}, nil, false, false},
		{"head moved", []*pgconn.Result{{}, {Err: headMoved}}, headMoved, true, false},
		{"key taken", []*pgconn.Result{{}, {}, {Err: &pgconn.PgError{Severity: "ERROR", Code: "23505"}}}, nil, true, false},
		{"deferred constraint at Sync", []*pgconn.Result{{}, {}}, &pgconn.PgError{Severity: "ERROR", Code: "23503"}, false, false},
		{"an ERROR, then the connection broke", []*pgconn.Result{{Err: &pgconn.PgError{Severity: "ERROR", Code: "40001"}}}, io.ErrUnexpectedEOF, false, false},
		{"admin shutdown", []*pgconn.Result{{}}, &pgconn.PgError{Severity: "FATAL", Code: "57P01"}, false, true},
		{"connection failure reported as ERROR", nil, &pgconn.PgError{Severity: "ERROR", Code: "08006"}, false, true},
		{"unexpected EOF", []*pgconn.Result{{}}, io.ErrUnexpectedEOF, false, true},
		{"conn closed after a failed read", nil, pgconn.ErrConnClosed, false, true},
	} {
		got := pipelineError(tc.results, tc.err)
		if (got == nil) != (tc.name == "success") {
			t.Errorf("%s: %v", tc.name, got)
		}
		if errors.Is(got, ErrStale) != tc.stale || errors.Is(got, ErrOutcomeUnknown) != tc.unknown {
			t.Errorf("%s: %v: stale %v unknown %v, want %v %v", tc.name, got, errors.Is(got, ErrStale), errors.Is(got, ErrOutcomeUnknown), tc.stale, tc.unknown)
		}
	}
}
