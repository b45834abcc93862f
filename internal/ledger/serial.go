package ledger

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxSerial bounds block ends and quantities: 10^15 tonnes is far above any
// real issuance and keeps every sum of quantities inside int64.
const MaxSerial int64 = 1_000_000_000_000_000

// Serial names a block of units of one issuance. Its text form is
//
//	{REGISTRY}-{UNITTYPE}-{PROJECT}-{VINTAGE}-{ISSUANCE}-{START}-{END}
//
// for example CN-CCER-CCER-14-2024-001-2024-3-1-5000: registry CN, unit type
// CCER, project CCER-14-2024-001, vintage 2024, issuance 3 of this registry,
// units 1 to 5000. REGISTRY and UNITTYPE are upper-case letters and digits
// (no hyphen); PROJECT may contain hyphens, so the text is parsed from both
// ends. A single unit is a block whose START equals END. The issuance number
// makes a serial unique even when one project has several issuances for the
// same vintage; the fields follow the UNDP national registry serial
// (registry, project, block start and end, vintage; docs/sources.md).
type Serial struct {
	Registry string
	UnitType string
	Project  string
	Vintage  int
	Issuance int64
	Start    int64
	End      int64
}

func (s Serial) String() string {
	return fmt.Sprintf("%s-%s-%s-%d-%d-%d-%d", s.Registry, s.UnitType, s.Project, s.Vintage, s.Issuance, s.Start, s.End)
}

// Count is the number of units in the block.
func (s Serial) Count() int64 { return s.End - s.Start + 1 }

func serialErr(format string, args ...any) *Error {
	return Errorf(KindInvalid, CodeSerialInvalid, 0, "serial", format, args...)
}

// ValidCode reports whether c is a registry or unit-type code: 2 to 12
// upper-case ASCII letters or digits, starting with a letter.
func ValidCode(c string) bool {
	if len(c) < 2 || len(c) > 12 || c[0] < 'A' || c[0] > 'Z' {
		return false
	}
	for i := 0; i < len(c); i++ {
		if !(c[i] >= 'A' && c[i] <= 'Z' || c[i] >= '0' && c[i] <= '9') {
			return false
		}
	}
	return true
}

// ValidProject reports whether p is a project identifier usable in a serial:
// 1 to 64 ASCII letters, digits, '.', '_' or '-', not starting or ending with '-'.
func ValidProject(p string) bool {
	if len(p) == 0 || len(p) > 64 || p[0] == '-' || p[len(p)-1] == '-' {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
		if c == '-' && p[i-1] == '-' {
			return false
		}
	}
	return true
}

// ParseSerial parses the text form documented on Serial. It accepts only the
// canonical form (no leading zeros, no spaces), so String(ParseSerial(s)) == s.
func ParseSerial(text string) (Serial, error) {
	if len(text) > 200 {
		return Serial{}, serialErr("serial is longer than 200 characters")
	}
	parts := strings.Split(text, "-")
	if len(parts) < 7 {
		return Serial{}, serialErr("serial %q has %d fields; the form is REGISTRY-UNITTYPE-PROJECT-VINTAGE-ISSUANCE-START-END", text, len(parts))
	}
	n := len(parts)
	var s Serial
	s.Registry, s.UnitType = parts[0], parts[1]
	s.Project = strings.Join(parts[2:n-4], "-")
	if !ValidCode(s.Registry) {
		return Serial{}, serialErr("registry code %q must be 2-12 upper-case letters or digits", s.Registry)
	}
	if !ValidCode(s.UnitType) {
		return Serial{}, serialErr("unit type %q must be 2-12 upper-case letters or digits", s.UnitType)
	}
	if !ValidProject(s.Project) {
		return Serial{}, serialErr("project %q is not a valid project identifier", s.Project)
	}
	nums := make([]int64, 4)
	for i, p := range parts[n-4:] {
		v, err := parseCanonical(p)
		if err != nil {
			return Serial{}, serialErr("field %d (%q) of serial: %v", n-4+i+1, p, err)
		}
		nums[i] = v
	}
	if nums[0] < 1000 || nums[0] > 9999 {
		return Serial{}, serialErr("vintage %d must be a four-digit year", nums[0])
	}
	s.Vintage, s.Issuance, s.Start, s.End = int(nums[0]), nums[1], nums[2], nums[3]
	if s.Issuance < 1 || s.Start < 1 {
		return Serial{}, serialErr("issuance number and block start must be at least 1")
	}
	if s.End < s.Start {
		return Serial{}, serialErr("block end %d is before block start %d", s.End, s.Start)
	}
	if s.End > MaxSerial {
		return Serial{}, serialErr("block end %d exceeds %d", s.End, MaxSerial)
	}
	return s, nil
}

// parseCanonical parses a decimal integer without sign or leading zeros.
func parseCanonical(p string) (int64, error) {
	if p == "" {
		return 0, fmt.Errorf("empty number")
	}
	if len(p) > 1 && p[0] == '0' {
		return 0, fmt.Errorf("leading zero")
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return 0, fmt.Errorf("not a decimal number")
		}
	}
	v, err := strconv.ParseInt(p, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("out of range")
	}
	return v, nil
}
