package article6

import (
	"testing"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

func TestITMOIDRoundTrip(t *testing.T) {
	cases := []struct {
		text string
		ok   bool
	}{
		{"SG-TH-IA.TGO.TH.2025.3.1001", true},
		{"CN-ID-PILOT.SRUK.ID.2026.1.1", true},
		{"SG-TH-IA.TGO.TH.2025.3.01", false}, // leading zero
		{"SG-TH-IA.TGO.THA.2025.3.1", false}, // alpha-3 party
		{"SG-TH-IA.TGO.TH.2025.3", false},    // five parts
		{"SG-TH-IA.TGO.TH.2025.0.1", false},  // issuance 0
		{"SG-TH-IA.TGO.TH.925.3.1", false},   // three-digit vintage
		{"sg.TGO.TH.2025.3.1", false},        // lower case approach
		{"SG-TH-IA.T-GO.TH.2025.3.1", false}, // hyphen in registry
		{"SG-TH-IA.TGO.TH.2025.3.+1", false}, // sign
		{"-SG.TGO.TH.2025.3.1", false},       // leading hyphen
		{"SG.TGO.TH.2025.3.1000000000000001", false},
	}
	for _, c := range cases {
		id, err := ParseITMOID(c.text)
		if (err == nil) != c.ok {
			t.Errorf("ParseITMOID(%q) error = %v, want ok=%v", c.text, err, c.ok)
			continue
		}
		if c.ok && id.String() != c.text {
			t.Errorf("round trip %q -> %q", c.text, id.String())
		}
		if !c.ok && CodeOf(err) != CodeActionInvalid {
			t.Errorf("ParseITMOID(%q) code = %q", c.text, CodeOf(err))
		}
	}
}

func TestITMORangeKeepsSerial(t *testing.T) {
	s := ledger.Serial{Registry: "TGO", UnitType: "TVER", Project: "TH-EBUS-1", Vintage: 2025, Issuance: 3, Start: 11, End: 20}
	first, last := ITMORange("SG-TH-IA", "TH", s)
	if first.String() != "SG-TH-IA.TGO.TH.2025.3.11" || last.String() != "SG-TH-IA.TGO.TH.2025.3.20" {
		t.Fatalf("range %s..%s", first, last)
	}
	if got := unitSerial(s, 11); got != "TGO-TVER-TH-EBUS-1-2025-3-11-11" {
		t.Fatalf("unit serial %s", got)
	}
}

func FuzzParseITMOID(f *testing.F) {
	for _, s := range []string{"SG-TH-IA.TGO.TH.2025.3.1001", "A.B.C.1.2.3", "CN-ID-PILOT.SRUK.ID.2026.1.1", "..", "X1.Y2.ZZ.9999.9.9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseITMOID(s)
		if err != nil {
			return
		}
		if id.String() != s {
			t.Fatalf("ParseITMOID(%q).String() = %q", s, id.String())
		}
		again, err := ParseITMOID(id.String())
		if err != nil || again != id {
			t.Fatalf("reparse of %q: %v %v", s, again, err)
		}
	})
}
