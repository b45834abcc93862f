package rulebook

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenRequests are one representative request per scheme; their decisions
// (reasons, sources, rounding) are kept in testdata/decisions.golden.json so
// that any change to the data or the engine shows up in review.
var goldenRequests = map[string]EligibilityRequest{
	"cn-ets-ccer": {Unit: Unit{Instrument: "CCER", Host: "CN", Vintage: 2024, Registered: "2024-06-01", Quantity: 1000},
		Use: Use{Scheme: "CN-ETS", Entity: "example power plant", ComplianceYear: 2025, Obligation: 12345}},
	"sg-ct-vcu-thailand": {Unit: Unit{Instrument: "VCU", Host: "TH", Vintage: 2023, Authorised: true, CorrespondingAdjustment: true},
		Use: Use{Scheme: "SG-CT", ComplianceYear: 2026, Obligation: 100000, AlreadyUsed: 1200}},
	"sg-ct-idx-held": {Unit: Unit{Instrument: "GS-VER", Host: "ID", Vintage: 2024, Authorised: true, CorrespondingAdjustment: true, Registry: "IDX"},
		Use: Use{Scheme: "SG-CT", ComplianceYear: 2026, Obligation: 100000}},
	"vn-ets-gs": {Unit: Unit{Instrument: "GS-VER", Host: "VN", Vintage: 2024},
		Use: Use{Scheme: "VN-ETS", ComplianceYear: 2025, Obligation: 250001}},
	"jp-gx-ets-jcm": {Unit: Unit{Instrument: "JCM-CREDIT", Host: "TH", Vintage: 2025},
		Use: Use{Scheme: "JP-GX-ETS", ComplianceYear: 2026, Obligation: 150000}},
	"id-ets-spe-grk": {Unit: Unit{Instrument: "SPE-GRK", Host: "ID", Vintage: 2024, Registry: "IDX"},
		Use: Use{Scheme: "ID-ETS", ComplianceYear: 2025, Obligation: 8000}},
}

func TestDecisionsGolden(t *testing.T) {
	rb := mustDefault(t)
	got := map[string]Decision{}
	for name, req := range goldenRequests {
		d, err := rb.Eligibility(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got[name] = d
	}
	raw, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	raw = append(raw, '\n')
	path := filepath.Join("testdata", "decisions.golden.json")
	if *update {
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(raw, want) {
		t.Errorf("decisions differ from %s; review and rerun with -update if intended.\ngot:\n%s", path, raw)
	}
}

// FuzzLoadSchemes feeds arbitrary schemes.yaml content to the loader: it must
// either load or return a *DataError naming schemes.yaml, never panic.
func FuzzLoadSchemes(f *testing.F) {
	base := embeddedFS(f)
	f.Add(string(base["schemes.yaml"].Data))
	f.Add("version: x\nschemes: [{id: A, jurisdiction: CN, rules: [{id: r, kind: quantity_cap, share: '2'}]}]")
	f.Add("version: x\nglobal_rules: [{kind: registry_lock}]")
	f.Add("")
	f.Fuzz(func(t *testing.T, doc string) {
		fsys := fstest.MapFS{}
		for k, v := range base {
			fsys[k] = v
		}
		fsys["schemes.yaml"] = &fstest.MapFile{Data: []byte(doc)}
		rb, err := Load(fsys)
		if err == nil {
			if rb.Version() == "" {
				t.Fatal("loaded without a version")
			}
			return
		}
		var de *DataError
		if !errors.As(err, &de) || de.File != "schemes.yaml" {
			t.Fatalf("error %v is not a DataError for schemes.yaml", err)
		}
	})
}
