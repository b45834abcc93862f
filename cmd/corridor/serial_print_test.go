package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// TestPrintSerialOptionalFacts: an issuance without a project name or a
// methodology (both optional at issuance) prints neither an empty quoted
// name nor an empty methodology line; one with both prints both.
func TestPrintSerialOptionalFacts(t *testing.T) {
	view := func(name, methodology string) serialAcross {
		x := registry.IssuanceView{Issuance: ledger.Issuance{ID: 1, Standard: "CCER", UnitType: "CCER", Project: "P1", ProjectName: name, Methodology: methodology, HostCountry: "CN", Vintage: 2025, Quantity: 10},
			Serial: "CN-CCER-P1-2025-1-1-10"}
		return serialAcross{SerialInfo: registry.SerialInfo{Serial: "CN-CCER-P1-2025-1-1-10", Issuance: x}}
	}
	for _, c := range []struct {
		name, projectName, methodology string
		want, wantNot                  []string
	}{
		{"bare", "", "", []string{"  project       P1\n", "  vintage       2025"}, []string{`""`, "methodology"}},
		{"full", "Wind (test)", "CCER-01-001-V01", []string{"  project       P1 \"Wind (test)\"\n", "  methodology   CCER-01-001-V01\n"}, nil},
	} {
		var out bytes.Buffer
		if err := printSerial(&out, "CN", view(c.projectName, c.methodology)); err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: no %q in\n%s", c.name, w, out.String())
			}
		}
		for _, w := range c.wantNot {
			if strings.Contains(out.String(), w) {
				t.Errorf("%s: %q in\n%s", c.name, w, out.String())
			}
		}
	}
}
