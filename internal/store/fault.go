package store

import (
	"errors"
	"fmt"
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
