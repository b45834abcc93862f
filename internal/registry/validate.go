package registry

import (
	"fmt"
	"iter"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

// Text inputs are checked before a call is queued, the same way whatever the
// database: a string PostgreSQL would refuse (a NUL, invalid UTF-8) must not
// reach a group commit and fail the other calls in it, and SQLite must not
// store what PostgreSQL would refuse.

// MaxKeyLength bounds an Idempotency-Key, in characters.
const MaxKeyLength = 200

// CheckText reports whether v is valid UTF-8 without control characters
// (C0, DEL, C1) and at most maxLen characters; field names it in the error.
func CheckText(field, v string, maxLen int) error {
	if !utf8.ValidString(v) {
		return ledger.Errorf(ledger.KindInvalid, "text_invalid", 0, field, "%s is not valid UTF-8", field)
	}
	n := 0
	for _, r := range v {
		if r < 0x20 || r >= 0x7f && r < 0xa0 {
			return ledger.Errorf(ledger.KindInvalid, "text_invalid", 0, field, "%s contains the control character U+%04X", field, r)
		}
		n++
	}
	if n > maxLen {
		return ledger.Errorf(ledger.KindInvalid, "text_too_long", 0, field, "%s is %d characters long; at most %d are allowed", field, n, maxLen)
	}
	return nil
}

// CheckKey checks an Idempotency-Key as a caller sends it.
func CheckKey(key string) error {
	if key == "" {
		return ledger.Errorf(ledger.KindInvalid, "idempotency_key_missing", 0, "Idempotency-Key", "every write needs an Idempotency-Key (any unique string of up to %d characters)", MaxKeyLength)
	}
	if err := CheckText("Idempotency-Key", key, MaxKeyLength); err != nil {
		e, _ := ledger.AsError(err)
		e.Code = "idempotency_key_invalid"
		return e
	}
	if strings.HasPrefix(key, systemKeyPrefix) {
		return ledger.Errorf(ledger.KindInvalid, "idempotency_key_invalid", 0, "Idempotency-Key", "keys starting with %q are reserved for the registry's own transactions", systemKeyPrefix)
	}
	// The hub's keys are its message ids (docs/outbox.md); a caller who
	// took one first would block the hub's completion of a transfer.
	if strings.HasPrefix(key, hubKeyPrefix) {
		return ledger.Errorf(ledger.KindInvalid, "idempotency_key_invalid", 0, "Idempotency-Key", "keys starting with %q are reserved for the hub", hubKeyPrefix)
	}
	return nil
}

// checkCall is what Do checks before queueing a call: the key (callers'
// keys may not use the system prefix) and every text field of the request.
func checkCall(actor Actor, key string, req Request) error {
	if actor.Role == RoleSystem && strings.HasPrefix(key, systemKeyPrefix) || actor.Role == RoleHub && strings.HasPrefix(key, hubKeyPrefix) {
		if err := CheckText("Idempotency-Key", key, MaxKeyLength); err != nil {
			return err
		}
	} else if err := CheckKey(key); err != nil {
		return err
	}
	if req == nil {
		return ledger.Errorf(ledger.KindInvalid, ledger.CodeInvalid, 0, "", "no request")
	}
	if err := CheckRequestText(req); err != nil {
		return err
	}
	return checkHostCountry(req)
}

// CodeHostCountryUnknown is the code of an issuance whose host country is
// two letters but no assigned ISO 3166-1 alpha-2 code (ZZ).
const CodeHostCountryUnknown = "host_country_unknown"

// CodeCountryUnknown is the code of an organisation's country, or a
// project abroad's investor Party, that is two letters but no assigned
// ISO 3166-1 alpha-2 code.
const CodeCountryUnknown = "country_unknown"

// checkHostCountry refuses a country that does not exist: a new
// issuance's host country, an organisation's country, the investor Party
// of an issuance under an authorisation. It also refuses an issuance's
// unit type that is no unit-type code (a lower-case "ccer") with
// unit_type_unknown, as a quantity selection's is. These are checked here,
// before the call is queued, and not where the journal is applied, so
// that replaying a journal written before the check still reproduces it.
func checkHostCountry(req Request) error {
	var c, field, unitType string
	code := CodeHostCountryUnknown
	switch r := req.(type) {
	case Issue:
		c, field, unitType = r.HostCountry, "host_country", r.UnitType
	case *Issue:
		c, field, unitType = r.HostCountry, "host_country", r.UnitType
	case IssueAuthorised:
		return checkIssueAuthorisedCountries(r)
	case *IssueAuthorised:
		return checkIssueAuthorisedCountries(*r)
	case CreateOrganisation:
		c, field, code = r.Country, "country", CodeCountryUnknown
	case *CreateOrganisation:
		c, field, code = r.Country, "country", CodeCountryUnknown
	default:
		return nil
	}
	if err := knownCountry(field, c, code); err != nil {
		return err
	}
	return issueUnitType("unit_type", unitType)
}

func checkIssueAuthorisedCountries(r IssueAuthorised) error {
	if err := knownCountry("issue.host_country", r.Issue.HostCountry, CodeHostCountryUnknown); err != nil {
		return err
	}
	if r.Investor != "" {
		if err := knownCountry("investor", r.Investor, CodeCountryUnknown); err != nil {
			return err
		}
	}
	return issueUnitType("issue.unit_type", r.Issue.UnitType)
}

// knownCountry refuses two letters that are no assigned ISO 3166-1 alpha-2
// code with code, and any other form with apply's refusal.
func knownCountry(field, c, code string) error {
	if err := country(field, c); err != nil || ISOCountry(c) {
		return err
	}
	return ledger.Errorf(ledger.KindInvalid, code, 0, field,
		"%s %q is not an assigned ISO 3166-1 alpha-2 country code (such as CN, ID or TH)", field, c)
}

// issueUnitType refuses an issuance's unit type that is not a unit-type
// code, naming the upper-case form when that is one; an empty one is
// apply's check.
func issueUnitType(field, unitType string) error {
	if unitType == "" || ledger.ValidCode(unitType) {
		return nil
	}
	hint := ""
	if up := strings.ToUpper(unitType); ledger.ValidCode(up) {
		hint = fmt.Sprintf("; did you mean %q?", up)
	}
	return ledger.Errorf(ledger.KindInvalid, CodeUnitTypeUnknown, 0, field,
		"unit type %q is not a unit-type code (2-12 upper-case letters or digits, e.g. CCER)%s", unitType, hint)
}

// CheckRequestText checks every string field of a request (at any depth)
// against the limit in its `limit` struct tag.
func CheckRequestText(req Request) error {
	return walkText(reflect.ValueOf(req), "", func(field, v string, limit int) error {
		return CheckText(field, v, limit)
	})
}

// TextLimits lists the text fields of a request type with their limits, by
// JSON path (a slice of strings as path[]); a string field without a limit
// tag is an error. The OpenAPI test compares it with the document.
func TextLimits(t reflect.Type) (map[string]int, error) {
	out := map[string]int{}
	err := walkTextType(t, "", out)
	return out, err
}

var timeType = reflect.TypeFor[time.Time]()

func walkText(v reflect.Value, path string, check func(field, v string, limit int) error) error {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return walkText(v.Elem(), path, check)
	case reflect.Struct:
		for _, f := range textFieldsOf(v.Type()) {
			p := join(path, f.name)
			fv := v.Field(f.index)
			limit := f.limit
			switch {
			case fv.Kind() == reflect.String:
				if err := check(p, fv.String(), limit); err != nil {
					return err
				}
			case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String:
				for j := range fv.Len() {
					if err := check(p+"["+strconv.Itoa(j)+"]", fv.Index(j).String(), limit); err != nil {
						return err
					}
				}
			default:
				if err := walkText(fv, p, check); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func walkTextType(t reflect.Type, path string, out map[string]int) error {
	switch t.Kind() {
	case reflect.Pointer:
		return walkTextType(t.Elem(), path, out)
	case reflect.Struct:
		for i, p := range jsonFields(t, path) {
			f := t.Field(i)
			isText := f.Type.Kind() == reflect.String || f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.String
			if !isText {
				if err := walkTextType(f.Type, p, out); err != nil {
					return err
				}
				continue
			}
			limit, err := strconv.Atoi(f.Tag.Get("limit"))
			if err != nil || limit <= 0 {
				return fmt.Errorf("registry: text field %s of %s has no limit tag", p, t)
			}
			if f.Type.Kind() == reflect.Slice {
				p += "[]"
			}
			out[p] = limit
		}
	}
	return nil
}

// jsonFields yields the index and JSON path (below path) of each field
// of struct type t that JSON encodes; none for a time.Time, which holds
// no text. An embedded struct without a JSON name has path itself: JSON
// puts its fields in the embedding object (IssuanceFacts in Issue).
func jsonFields(t reflect.Type, path string) iter.Seq2[int, string] {
	return func(yield func(int, string) bool) {
		if t == timeType {
			return
		}
		for i := range t.NumField() {
			name, ok := jsonName(t.Field(i))
			if ok && !yield(i, join(path, name)) {
				return
			}
		}
	}
}

// jsonName is the JSON name of field f, "" for an embedded struct whose
// fields JSON promotes; ok is false for a field JSON leaves out.
func jsonName(f reflect.StructField) (name string, ok bool) {
	name, _, _ = strings.Cut(f.Tag.Get("json"), ",")
	switch {
	case name == "-":
		return "", false
	case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
		return "", true
	case !f.IsExported():
		return "", false
	case name == "":
		return f.Name, true
	}
	return name, true
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	if name == "" {
		return path
	}
	return path + "." + name
}

// CodeUnitTypeUnknown is the code of a quantity selection whose unit type
// this registry has never issued nor imported.
const CodeUnitTypeUnknown = "unit_type_unknown"

// checkUnitTypeKnown refuses a unit type no issuance here has (its own or
// an origin's it imported), naming those it has: "holds 0 BOGUS units"
// would read as too few units rather than a mistyped type.
func (n *Node) checkUnitTypeKnown(unitType string) error {
	if _, found := slices.BinarySearch(n.st.unitTypes, unitType); found {
		return nil
	}
	known := "none yet"
	if len(n.st.unitTypes) > 0 {
		known = strings.Join(n.st.unitTypes, ", ")
	}
	return ledger.Errorf(ledger.KindInvalid, CodeUnitTypeUnknown, 0, "units.unit_type",
		"unit type %q is not one registry %s knows (it has: %s)", unitType, n.code, known)
}
