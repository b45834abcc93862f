package article6

import (
	"errors"
	"fmt"
)

// Code is a stable machine-readable reason for refusing an authorisation
// event or an action. Codes never change meaning once published.
type Code string

// Refusal codes. The Article 6 checks first, then integrity codes.
const (
	CodeNoAuthorisation    Code = "article6-no-authorisation"
	CodeScopeQuantity      Code = "article6-outside-scope-quantity"
	CodeScopeVintage       Code = "article6-outside-scope-vintage"
	CodeScopeActivity      Code = "article6-outside-scope-activity"
	CodeScopeTimeframe     Code = "article6-outside-scope-timeframe"
	CodeScopeAcquirer      Code = "article6-outside-scope-acquiring-party"
	CodeRevoked            Code = "article6-authorisation-revoked"
	CodeDoubleFirst        Code = "article6-double-first-transfer"
	CodeFirstMismatch      Code = "article6-first-transfer-mismatch"
	CodeITMOMismatch       Code = "article6-itmo-mismatch"
	CodeAuthMismatch       Code = "article6-authorisation-mismatch"
	CodeDecisionExceeded   Code = "article6-decision-exceeded"
	CodeDecisionTwice      Code = "article6-decision-issued-twice"
	CodeDecisionMismatch   Code = "article6-decision-mismatch"
	CodeVintageBefore2021  Code = "article6-vintage-before-2021"
	CodeEntityNotEntitled  Code = "article6-entity-not-entitled"
	CodePurposeNotAuth     Code = "article6-purpose-not-authorised"
	CodeMissingDeduction   Code = "article6-missing-deduction"
	CodeExcessDeduction    Code = "article6-excess-deduction"
	CodeTooSmall           Code = "article6-issuance-too-small"
	CodeApproachUnknown    Code = "article6-approach-unknown"
	CodeHostNotParticipant Code = "article6-host-not-participant"
	CodeAuthExists         Code = "article6-authorisation-exists"
	CodeAuthUnknown        Code = "article6-authorisation-unknown"
	CodeAuthFrozen         Code = "article6-authorisation-frozen"
	CodeAuthVersion        Code = "article6-authorisation-version"
	CodeAuthInvalid        Code = "article6-authorisation-invalid"
	CodeQuantityBelowUsed  Code = "article6-quantity-below-issued"
	CodeActionInvalid      Code = "article6-action-invalid"
	CodeDateOrder          Code = "article6-date-out-of-order"
	CodeUnitsUnknown       Code = "article6-units-unknown"
	CodeUnitsExist         Code = "article6-units-exist"
	CodeUnitsNotHeld       Code = "article6-units-not-held"
	CodeUnitsMixed         Code = "article6-units-mixed"
)

// Error is a refusal: a stable code, the field concerned and a sentence.
type Error struct {
	Code   Code
	Field  string
	Detail string
}

func (e *Error) Error() string {
	return fmt.Sprintf("article6: %s (%s, field %s)", e.Detail, e.Code, e.Field)
}

func refuse(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Detail: fmt.Sprintf(format, args...)}
}

// CodeOf returns the refusal code of err, or "" if err is not a refusal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
