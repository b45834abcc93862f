// Package ledger holds Corridor's pure ledger types: unit states, serial blocks
// and their serial-number format, and the error kinds every layer maps from.
package ledger

import (
	"errors"
	"fmt"
)

// Kind classifies an error so that transports can map it once (Upspin style).
type Kind int

const (
	KindOther      Kind = iota
	KindInvalid         // the request is malformed or breaks a rule
	KindNotExist        // a named thing does not exist
	KindPermission      // the caller may not do this
	KindConflict        // the request conflicts with the current state or an earlier request
	KindExist           // the thing already exists
	KindTransient       // try again later
)

// Error is a ledger rule violation with a stable code. Code is the
// machine-readable name used in API problems; Check is the UK ETS registry /
// ITL check number where one maps (docs/sources.md), else 0.
type Error struct {
	Kind   Kind
	Code   string
	Check  int
	Field  string
	Detail string
}

func (e *Error) Error() string {
	if e.Check != 0 {
		return fmt.Sprintf("%s (check %d): %s", e.Code, e.Check, e.Detail)
	}
	return e.Code + ": " + e.Detail
}

// Errorf builds an *Error.
func Errorf(kind Kind, code string, check int, field, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Check: check, Field: field, Detail: fmt.Sprintf(format, args...)}
}

// AsError returns err's *Error, if it has one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Stable error codes. The number in the comment is the UK ETS registry check
// (ITL code in brackets), listed with its source in docs/sources.md.
const (
	CodeAccountNotFound     = "account_not_found"   // 1002 transferring account does not exist
	CodeAccountNotOpen      = "account_not_open"    // 1004 account suspended (or closed)
	CodeAcquiringNotFound   = "acquiring_not_found" // 2002 (ITL 5902) acquiring account does not exist
	CodeSameAccount         = "same_account"        // 2508 transferring and acquiring account are the same
	CodeQuantityInvalid     = "quantity_invalid"    // 3008 quantity must be a positive integer
	CodeInsufficientUnits   = "insufficient_units"  // 3005 / 10003 quantity not available in balance
	CodeMixedUnitTypes      = "mixed_unit_types"    // 3009 more than one unit type in one transaction
	CodeRangeNotHeld        = "range_not_held"      // 10005 transferring account must hold the serial range
	CodeUnitsNotActive      = "units_retired_or_cancelled"
	CodeDuplicate           = "duplicate_transaction"  // 10006 transaction already exists
	CodeIdempotencyConflict = "idempotency_conflict"   // same key, different request
	CodeSerialInvalid       = "serial_invalid"         // serial number does not parse
	CodeNotFound            = "not_found"              // a named object does not exist
	CodeInvalid             = "invalid_request"        // a field is missing or out of range
	CodeAccountType         = "account_type_forbidden" // the account type may not do this
	CodePendingNotFound     = "pending_not_found"      // no pending (reserved) transaction with that id
	CodeForbidden           = "forbidden"              // the token's role or organisation may not do this
)
