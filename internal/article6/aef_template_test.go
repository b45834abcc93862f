package article6

import (
	"slices"
	"strings"
	"testing"
)

// TestAEFActionsColumnsAsTemplate checks the Actions and Holdings cells the
// ledger knows against the CMA.6 template's footnotes as transcribed
// (docs/sources.md, decision 4/CMA.6, annex II): the transferring Party is
// reported on an acquisition only and the acquiring Party on a first
// transfer or transfer to a Party, "otherwise reported as NA"; the
// underlying unit registry and the first and last unit ID are filled for
// units of an underlying cooperative approach registry of the nomenclature
// (table 31(b)), here T-VER, with the block's unit numbers, and NA
// otherwise; a transfer's explanatory text names both Parties.
func TestAEFActionsColumnsAsTemplate(t *testing.T) {
	l := storyLedger(t)
	col := func(h []string, name string) int {
		i := slices.Index(h, name)
		if i < 0 {
			t.Fatalf("no column %q", name)
		}
		return i
	}
	checked := map[string]int{}
	for _, sub := range storySubmissions() {
		aef, err := l.BuildAEF(sub)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"Actions", "Holdings"} {
			tab, _ := aef.Table(name)
			h := tab.Header
			for _, row := range tab.Rows {
				first, last := row[col(h, ColFirstID)], row[col(h, ColLastID)]
				reg, fu, lu := row[col(h, "Underlying unit registry ID")], row[col(h, "First unit ID")], row[col(h, "Last unit ID")]
				// ITMO ids end in the unit number (APPROACH.REGISTRY.PARTY.VINTAGE.ISSUANCE.UNIT).
				start, end := first[strings.LastIndex(first, ".")+1:], last[strings.LastIndex(last, ".")+1:]
				tver := strings.Contains(first, ".TGO.")
				if tver && (reg != "T-VER" || fu != start || lu != end) || !tver && (reg != na || fu != na || lu != na) {
					t.Errorf("%s %s %s-%s: underlying %q %q %q", sub.Party, name, first, last, reg, fu, lu)
				}
				if tver {
					checked["underlying"]++
				}
				if name != "Actions" {
					continue
				}
				typ, subtype := row[col(h, ColActionType)], row[col(h, ColActionSubtype)]
				from, to, info := row[col(h, ColTransferringParty)], row[col(h, ColAcquiringParty)], row[len(row)-1]
				wantFrom := typ == TypeAcquisition
				wantTo := typ == TypeTransfer || typ == TypeFirstTransfer && subtype == SubtypeToAnotherParty
				if wantFrom == (from == na) || wantTo == (to == na) {
					t.Errorf("%s %s %s: transferring %q acquiring %q", sub.Party, typ, first, from, to)
				}
				if wantFrom || wantTo {
					checked["parties"]++
					if !strings.Contains(info, "from ") || !strings.Contains(info, " to ") {
						t.Errorf("%s %s %s: explanatory text %q names not both Parties", sub.Party, typ, first, info)
					}
				}
			}
		}
	}
	if checked["underlying"] < 5 || checked["parties"] < 4 {
		t.Fatalf("too few rows checked: %v", checked)
	}
}

// TestUnderlyingRegistry: the unit types issued in a registry of table
// 31(b) get its value and their unit numbers; others NA.
func TestUnderlyingRegistry(t *testing.T) {
	for _, c := range []struct{ typ, reg, first, last string }{
		{"JCM", "JCM", "11", "20"},
		{"TVER", "T-VER", "11", "20"},
		{"PTVER", "T-VER", "11", "20"},
		{"CCER", na, na, na},
		{"VCU", na, na, na},
	} {
		reg, first, last := underlying(units("X", c.typ, "P", 2026, 1, 11, 20))
		if reg != c.reg || first != c.first || last != c.last {
			t.Errorf("%s: %q %q %q, want %q %q %q", c.typ, reg, first, last, c.reg, c.first, c.last)
		}
	}
}
