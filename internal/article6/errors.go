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
	CodeNoAuthorisation    Code = "article6_no_authorisation"
	CodeScopeQuantity      Code = "article6_outside_scope_quantity"
	CodeScopeVintage       Code = "article6_outside_scope_vintage"
	CodeScopeActivity      Code = "article6_outside_scope_activity"
	CodeScopeTimeframe     Code = "article6_outside_scope_timeframe"
	CodeScopeAcquirer      Code = "article6_outside_scope_acquiring_party"
	CodeRevoked            Code = "article6_authorisation_revoked"
	CodeDoubleFirst        Code = "article6_double_first_transfer"
	CodeFirstMismatch      Code = "article6_first_transfer_mismatch"
	CodeITMOMismatch       Code = "article6_itmo_mismatch"
	CodeAuthMismatch       Code = "article6_authorisation_mismatch"
	CodeDecisionExceeded   Code = "article6_decision_exceeded"
	CodeDecisionTwice      Code = "article6_decision_issued_twice"
	CodeDecisionMismatch   Code = "article6_decision_mismatch"
	CodeVintageBefore2021  Code = "article6_vintage_before_2021"
	CodeEntityNotEntitled  Code = "article6_entity_not_entitled"
	CodePurposeNotAuth     Code = "article6_purpose_not_authorised"
	CodeMissingDeduction   Code = "article6_missing_deduction"
	CodeExcessDeduction    Code = "article6_excess_deduction"
	CodeTooSmall           Code = "article6_issuance_too_small"
	CodeApproachUnknown    Code = "article6_approach_unknown"
	CodeHostNotParticipant Code = "article6_host_not_participant"
	CodeAuthExists         Code = "article6_authorisation_exists"
	CodeAuthUnknown        Code = "article6_authorisation_unknown"
	CodeAuthFrozen         Code = "article6_authorisation_frozen"
	CodeAuthVersion        Code = "article6_authorisation_version"
	CodeAuthInvalid        Code = "article6_authorisation_invalid"
	CodeQuantityBelowUsed  Code = "article6_quantity_below_issued"
	CodeActionInvalid      Code = "article6_action_invalid"
	CodeDateOrder          Code = "article6_date_out_of_order"
	CodeUnitsUnknown       Code = "article6_units_unknown"
	CodeUnitsExist         Code = "article6_units_exist"
	CodeUnitsNotHeld       Code = "article6_units_not_held"
	CodeUnitsMixed         Code = "article6_units_mixed"
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
