package mrv

import (
	"encoding/json"
	"errors"
	"os"
	"testing"
)

func TestParseInstallationYAMLAndJSONAgree(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/installation.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fromYAML, err := ParseInstallation(raw)
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(cementPlant())
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := ParseInstallation(js)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Compute(fromYAML)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Compute(fromJSON)
	if err != nil {
		t.Fatal(err)
	}
	// The example file is the cement plant of the tests: same emissions.
	if !a.Direct.Equal(b.Direct) || !a.Indirect.Equal(b.Indirect) || !a.Goods[1].SEEDirect.Equal(b.Goods[1].SEEDirect) {
		t.Errorf("YAML %s/%s, JSON %s/%s", a.Direct, a.Indirect, b.Direct, b.Indirect)
	}
	// 0.0255 must reach the decimal as written, not through float64.
	if got := fromYAML.Streams[0].NCV.String(); got != "0.0255" {
		t.Errorf("ncv %s", got)
	}
}

func TestParseInstallationErrorsNameTheField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, field string }{
		{"name: x\nyear: 2026\nstreams:\n  - id: a\n    quantity: [1]\nprocesses: []\n", "streams[0].quantity"},
		{"name: x\nprocesses: 5\n", "processes"},
		{"name: x\nyear: 2026\ncolour: red\n", "colour"},
		{`{"name": "x", "year": "2026"}`, "year"},
	} {
		_, err := ParseInstallation([]byte(tc.in))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%q: err %v, want field %q", tc.in, err, tc.field)
		}
	}
	if _, err := ParseInstallation([]byte("  ")); err == nil {
		t.Error("empty input accepted")
	}
}

func FuzzParseInstallation(f *testing.F) {
	f.Add([]byte("name: x\nyear: 2026\nprocesses:\n  - id: p\n    cn: \"25231000\"\n    activity_level: 1\n"))
	f.Add([]byte(`{"name":"x","processes":[]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		inst, err := ParseInstallation(raw)
		if err == nil {
			_, _ = Compute(inst)
		}
	})
}
