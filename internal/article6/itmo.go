package article6

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

// ITMOID is the unique identifier of one ITMO (one tonne). Decision 6/CMA.4,
// annex I, para. 5 defines it (cited, secondary: the AEF template's footnote
// to "First ID", docs/sources.md); that it holds at least the cooperative
// approach, the originating registry, the first transferring Party, the
// vintage and a unique serial number is unverified (para. 5 not read; AEF
// tables 3 and 4 carry those parts as their own columns). The AEF wants an
// integer in "First ID"/"Last ID"; we report this whole identifier there
// because our serial numbers restart in each issuance (docs/article6.md,
// "AEF: where we differ from the template"). The serial number is the
// unit's place in its issuance: the originating registry numbers issuances
// uniquely and units within each from 1, so (registry, issuance, unit) is
// unique. The
// identifier is fixed at first transfer and never changes afterwards; the
// unit keeps its own ledger serial alongside it.
//
// Text form: APPROACH.REGISTRY.PARTY.VINTAGE.ISSUANCE.UNIT, for example
// SG-TH-IA.TGO.TH.2025.3.1001. No part may contain '.', so parsing splits on
// it; numbers are canonical (no sign, no leading zero), so
// ParseITMOID(id.String()) == id.
type ITMOID struct {
	Approach string
	Registry string // originating registry
	Party    string // first transferring Party
	Vintage  int
	Issuance int64
	Unit     int64
}

func (id ITMOID) String() string {
	return fmt.Sprintf("%s.%s.%s.%d.%d.%d", id.Approach, id.Registry, id.Party, id.Vintage, id.Issuance, id.Unit)
}

// ParseITMOID parses the text form documented on ITMOID.
func ParseITMOID(text string) (ITMOID, error) {
	bad := func(format string, args ...any) (ITMOID, error) {
		return ITMOID{}, refuse(CodeActionInvalid, "itmo", "ITMO identifier %q: %s", text, fmt.Sprintf(format, args...))
	}
	if len(text) > 120 {
		return bad("longer than 120 characters")
	}
	p := strings.Split(text, ".")
	if len(p) != 6 {
		return bad("has %d parts; the form is APPROACH.REGISTRY.PARTY.VINTAGE.ISSUANCE.UNIT", len(p))
	}
	id := ITMOID{Approach: p[0], Registry: p[1], Party: p[2]}
	if !validApproachID(id.Approach) {
		return bad("approach %q must be 2-24 upper-case letters, digits or '-'", id.Approach)
	}
	if !ledger.ValidCode(id.Registry) {
		return bad("registry %q must be 2-12 upper-case letters or digits", id.Registry)
	}
	if !validParty(id.Party) {
		return bad("party %q must be an ISO 3166-1 alpha-2 code", id.Party)
	}
	var nums [3]int64
	for i, s := range p[3:] {
		v, err := canonical(s)
		if err != nil {
			return bad("part %d: %v", i+4, err)
		}
		nums[i] = v
	}
	if nums[0] < 1000 || nums[0] > 9999 {
		return bad("vintage %d is not a four-digit year", nums[0])
	}
	if nums[1] < 1 || nums[2] < 1 || nums[2] > ledger.MaxSerial {
		return bad("issuance and unit must be between 1 and %d", ledger.MaxSerial)
	}
	id.Vintage, id.Issuance, id.Unit = int(nums[0]), nums[1], nums[2]
	return id, nil
}

func canonical(s string) (int64, error) {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("%q is not a canonical number", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%q is not a canonical number", s)
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	return v, nil
}

// ITMORange names the ITMOs of a serial block first-transferred by party
// under approach: the identifiers of its first and last unit.
func ITMORange(approach, party string, s ledger.Serial) (first, last ITMOID) {
	first = ITMOID{Approach: approach, Registry: s.Registry, Party: party, Vintage: s.Vintage, Issuance: s.Issuance, Unit: s.Start}
	last = first
	last.Unit = s.End
	return first, last
}

// unitSerial is the ledger serial of the single unit n of block s.
func unitSerial(s ledger.Serial, n int64) string {
	s.Start, s.End = n, n
	return s.String()
}
