package article6report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/corridor-carbon/corridor/internal/article6"
)

// Party refusal codes: the same on every read (API, web, CLI).
const (
	CodePartyInvalid = "party_invalid" // not an ISO 3166-1 alpha-2 code
	CodePartyUnknown = "party_unknown" // a code, but no approach's Party
)

// PartyError refuses a Party a read was asked for.
type PartyError struct {
	Code   string // CodePartyInvalid or CodePartyUnknown
	Party  string // as given
	Detail string
}

func (e *PartyError) Error() string { return "article6report: " + e.Detail }

// Parties lists, sorted, the Parties of the cooperative approaches (a
// ledger's: l.Config().Approaches, from the corridor agreements): the only
// Parties the ledger can hold anything of.
func Parties(aps article6.Approaches) []string {
	var out []string
	for _, ap := range aps {
		for _, p := range ap.Parties {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	slices.Sort(out)
	return out
}

// ParseParty reads a Party code as a person types it: surrounding space
// dropped, letters upper-cased ("id" is ID). A code that is not two
// letters, or names no Party of the approaches, is refused, so a mistyped
// code gets an answer instead of an empty table.
func ParseParty(aps article6.Approaches, s string) (string, error) {
	p := strings.ToUpper(strings.TrimSpace(s))
	if len(p) != 2 || p[0] < 'A' || p[0] > 'Z' || p[1] < 'A' || p[1] > 'Z' {
		return "", &PartyError{Code: CodePartyInvalid, Party: s, Detail: fmt.Sprintf("party must be an ISO 3166-1 alpha-2 code such as ID, not %q", s)}
	}
	known := Parties(aps)
	if !slices.Contains(known, p) {
		return "", &PartyError{Code: CodePartyUnknown, Party: s, Detail: fmt.Sprintf("%s is not a Party of any cooperative approach in the corridor agreements (Parties: %s)", p, strings.Join(known, ", "))}
	}
	return p, nil
}
