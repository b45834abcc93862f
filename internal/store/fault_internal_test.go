package store

import (
	"errors"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
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
