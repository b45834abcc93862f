package store

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrOutcomeUnknown: the commit may or may not have happened (e.g. the connection dropped during COMMIT).
var ErrOutcomeUnknown = errors.New("store: commit outcome unknown")

// FaultPoint names a moment in a write transaction's Commit where a test
// can inject a failure (Config.Fault).
type FaultPoint int

const (
	// FaultBeforeCommit: the batch is written but COMMIT is not yet sent.
	FaultBeforeCommit FaultPoint = iota + 1
	// FaultDuringCommit: COMMIT was (as far as the caller can tell) sent and
	// no answer came back.
	FaultDuringCommit
	// FaultAfterCommit: the database committed, and the answer is lost.
	FaultAfterCommit
)

func (p FaultPoint) String() string {
	switch p {
	case FaultBeforeCommit:
		return "before-commit"
	case FaultDuringCommit:
		return "during-commit"
	case FaultAfterCommit:
		return "after-commit"
	}
	return fmt.Sprintf("FaultPoint(%d)", int(p))
}

// outcomeUnknown wraps err so that errors.Is(result, ErrOutcomeUnknown) and
// errors.Is(result, err) both hold.
func outcomeUnknown(err error) error {
	return fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
}

// classifyPostgresCommit says what a failed PostgreSQL COMMIT means. The
// server answers a COMMIT it refused with an ERROR (a deferred constraint,
// a serialization failure): the transaction is rolled back, known not
// committed. Anything else — the connection broke, a read timed out, the
// context ended (database/sql may then not have sent COMMIT at all, but
// unknown is the answer that is never wrong), or the server sent FATAL/PANIC (e.g. 57P01
// admin_shutdown, class 08 connection exception), which ends the session
// and may come after the commit record was written — leaves the outcome
// unknown (PostgreSQL protocol, "Message Flow", §55.2.2: the client learns
// of a commit only from its CommandComplete).
func classifyPostgresCommit(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Severity == "ERROR" && !strings.HasPrefix(pgErr.Code, "08") {
		if pgErr.Code == pgUniqueViolation {
			return ErrStale
		}
		return fmt.Errorf("store: commit: %w", err)
	}
	return outcomeUnknown(fmt.Errorf("store: commit: %w", err))
}

// pgUniqueViolation is SQLSTATE unique_violation (PostgreSQL documentation,
// Appendix A "PostgreSQL Error Codes").
const pgUniqueViolation = "23505"
