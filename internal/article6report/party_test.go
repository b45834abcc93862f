package article6report_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/article6report"
)

// TestParseParty: a Party of an approach is accepted in either case; a
// well-formed code of no approach is unknown, anything else invalid.
func TestParseParty(t *testing.T) {
	aps, err := article6.DefaultApproaches()
	if err != nil {
		t.Fatal(err)
	}
	if ps := article6report.Parties(aps); !slices.Contains(ps, "ID") || !slices.Contains(ps, "CN") || slices.Contains(ps, "FR") || !slices.IsSorted(ps) {
		t.Fatalf("Parties %v", ps)
	}
	for _, c := range []struct{ in, want, code string }{
		{"ID", "ID", ""},
		{"id", "ID", ""},
		{" th ", "TH", ""},
		{"XX", "", article6report.CodePartyUnknown},
		{"zz", "", article6report.CodePartyUnknown},
		{"FR", "", article6report.CodePartyUnknown},
		{"", "", article6report.CodePartyInvalid},
		{"IDN", "", article6report.CodePartyInvalid},
		{"I1", "", article6report.CodePartyInvalid},
		{"ÀB", "", article6report.CodePartyInvalid},
	} {
		got, err := article6report.ParseParty(aps, c.in)
		var pe *article6report.PartyError
		if c.code == "" && (err != nil || got != c.want) || c.code != "" && (!errors.As(err, &pe) || pe.Code != c.code || got != "") {
			t.Errorf("ParseParty(%q) = %q, %v; want %q %s", c.in, got, err, c.want, c.code)
		}
	}
}
