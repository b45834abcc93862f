package registry

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/rulebook"
)

// CodeUnitTypeStandardMismatch is the code of an issuance whose unit type
// is not one the programme named by its standard issues (a VCU under the
// CCER programme), or whose unit type belongs to a crediting programme the
// standard does not name (a CCER under "Gold Standard").
const CodeUnitTypeStandardMismatch = "unit_type_standard_mismatch"

// CodeVintageOutOfRange is the code of an issuance whose vintage is before
// MinVintage or after the current year.
const CodeVintageOutOfRange = "vintage_out_of_range"

// MinVintage is the earliest vintage a registry issues. The Kyoto
// Protocol's clean development mechanism, the first international crediting
// programme, credits reductions "from the year 2000" (Kyoto Protocol,
// Art. 12, para. 10); no programme in the rulebook (internal/rulebook/data/
// instruments.yaml) is older. That no programme credits earlier years is
// our reading, not a rule any registry publishes.
const MinVintage = 2000

// latestZone is UTC+14 (Kiribati's Line Islands), the first place where a
// new year begins: a vintage is in the future only once it is so
// everywhere, so that a registry in Asia is not refused its own year's
// units in the hours when it is already the new year there and not in UTC.
const latestZone = 14 * time.Hour

// CheckIssuanceFacts refuses an issuance (Issue or IssueAuthorised) whose
// standard and unit type disagree or whose vintage is outside
// [MinVintage, the year at now]; other requests pass. Node.Do calls it
// before the call is queued, the CLI before it sends. Like checkHostCountry
// it is not applied where the journal is replayed, so that a journal
// written before these checks still verifies.
func CheckIssuanceFacts(req Request, now time.Time) error {
	var f IssuanceFacts
	prefix := ""
	switch r := req.(type) {
	case Issue:
		f = r.IssuanceFacts
	case *Issue:
		f = r.IssuanceFacts
	case IssueAuthorised:
		f, prefix = r.Issue.IssuanceFacts, "issue."
	case *IssueAuthorised:
		f, prefix = r.Issue.IssuanceFacts, "issue."
	default:
		return nil
	}
	if this := now.UTC().Add(latestZone).Year(); f.Vintage != 0 && (f.Vintage < MinVintage || f.Vintage > this) {
		return ledger.Errorf(ledger.KindInvalid, CodeVintageOutOfRange, 0, prefix+"vintage",
			"vintage %d must be a year from %d (the first crediting programme's first year, Kyoto Protocol Art. 12(10)) to %d (the current year: units are issued for reductions that have happened)",
			f.Vintage, MinVintage, this)
	}
	return checkStandardUnitType(prefix, f.Standard, f.UnitType)
}

// checkStandardUnitType refuses a unit type the programme named by standard
// does not issue, and a crediting programme's unit type under a standard
// naming no programme. A standard the rulebook does not know (a national
// programme not in it) with a unit type it does not know either, or an
// allowance under the name of its emissions trading system, passes: there
// is nothing to compare.
func checkStandardUnitType(prefix, standard, unitType string) error {
	if standard == "" || !ledger.ValidCode(unitType) {
		return nil // apply's and issueUnitType's refusals
	}
	rb, err := rulebook.Default()
	if err != nil {
		return fmt.Errorf("registry: unit type check: %w", err)
	}
	in, typed := rb.InstrumentByUnitType(unitType)
	if p, named := rb.ProgrammeByStandard(standard); named {
		own := rb.ProgrammeUnitTypes(p.Code)
		if len(own) == 0 || slices.Contains(own, unitType) {
			return nil
		}
		return ledger.Errorf(ledger.KindInvalid, CodeUnitTypeStandardMismatch, 0, prefix+"unit_type",
			"standard %q is the %s, which issues %s units, not %s%s", standard, p.Name, strings.Join(own, " or "), unitType, underProgramme(rb, unitType, in, typed))
	}
	if typed && in.Kind != "allowance" {
		p, _ := rb.ProgrammeByStandard(in.Programme)
		return ledger.Errorf(ledger.KindInvalid, CodeUnitTypeStandardMismatch, 0, prefix+"standard",
			"%s units are issued under the %s (standard %q); standard %q names no programme that issues them", unitType, p.Name, p.Code, standard)
	}
	return nil
}

// underProgramme says which programme issues a unit type the rulebook knows.
func underProgramme(rb *rulebook.Rulebook, unitType string, in rulebook.Instrument, typed bool) string {
	if !typed {
		return ""
	}
	if in.Kind == "allowance" {
		return fmt.Sprintf(" (%s is an emissions trading system's allowance, %s)", unitType, in.Name)
	}
	p, _ := rb.ProgrammeByStandard(in.Programme)
	return fmt.Sprintf(" (%s units are issued under standard %q, the %s)", unitType, p.Code, p.Name)
}
