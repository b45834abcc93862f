package rulebook

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

// embeddedFS copies the shipped data files into a MapFS that tests can break.
func embeddedFS(t testing.TB) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(embedded, "data", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(embedded, path)
		m[strings.TrimPrefix(path, "data/")] = &fstest.MapFile{Data: raw}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEmbeddedDataLoads(t *testing.T) {
	rb, err := Default()
	if err != nil {
		t.Fatalf("embedded rulebook does not load: %v", err)
	}
	for _, code := range []string{"CN", "SG", "ID", "VN", "TH", "MY", "KH", "LA", "MM", "PH", "BN", "JP", "EU", "CH"} {
		if _, ok := rb.Jurisdiction(code); !ok {
			t.Errorf("jurisdiction %s missing", code)
		}
	}
	for _, code := range []string{"CEA", "CCER", "PTBAE-PU", "SPE-GRK", "VN-QUOTA", "T-VER", "PREMIUM-T-VER", "JCM-CREDIT", "VCU", "GS-VER", "A6.4ER", "ITMO"} {
		if _, ok := rb.Instrument(code); !ok {
			t.Errorf("instrument %s missing", code)
		}
	}
	for _, id := range []string{"CN-ETS", "SG-CT", "VN-ETS", "JP-GX-ETS", "ID-ETS"} {
		if _, ok := rb.Scheme(id); !ok {
			t.Errorf("scheme %s missing", id)
		}
	}
	if len(rb.Versions) != 7 || rb.Version() == "" {
		t.Errorf("versions = %v", rb.Versions)
	}
	// Every rule's citation resolves to a titled, dated source.
	var rules []Rule
	for _, s := range rb.Schemes("") {
		rules = append(rules, s.Rules...)
	}
	rules = append(rules, rb.GlobalRules()...)
	for _, r := range rules {
		if r.Cite.Title == "" || r.Cite.Date == "" {
			t.Errorf("rule %s: citation not resolved: %+v", r.ID, r.Cite)
		}
		if r.Kind == KindQuantityCap && r.Share == nil {
			t.Errorf("rule %s: share not parsed", r.ID)
		}
	}
	if len(rules) < 15 {
		t.Errorf("only %d rules loaded", len(rules))
	}
}

func TestLoadRejectsBrokenData(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		old, new  string
		wantField string
		wantText  string
	}{
		{"unknown jurisdiction in scheme", "schemes.yaml", "jurisdiction: CN\n", "jurisdiction: XX\n", "schemes[0].jurisdiction", `unknown jurisdiction "XX"`},
		{"unknown host in rule", "schemes.yaml", "hosts: [CN]", "hosts: [ZZ]", "schemes[0].rules[2].hosts[0]", "unknown jurisdiction"},
		{"missing source", "schemes.yaml", "cite: {source: cn-mee-order-19-2020, pin: \"Art. 29\"}", "cite: {pin: \"Art. 29\"}", "schemes[0].rules[0].cite.source", "missing"},
		{"unknown source", "jurisdictions.yaml", "cite: {source: sg-nea-el-2023}", "cite: {source: nowhere}", "jurisdictions[1].cite.source", `unknown source "nowhere"`},
		{"unknown field", "instruments.yaml", "    kind: allowance\n", "    kind: allowance\n    colour: red\n", "", "field colour not found"},
		{"share out of range", "schemes.yaml", `share: "0.05"`, `share: "5"`, "schemes[0].rules[1].share", "must be in (0, 1]"},
		{"share not a number", "schemes.yaml", `share: "0.05"`, `share: "five percent"`, "schemes[0].rules[1].share", "decimal fraction"},
		{"bad status", "schemes.yaml", "status: unverified", "status: maybe", ".status", `not "maybe"`},
		{"missing version", "mrv.yaml", `version: "2026-12-01"`, "", "version", "missing"},
		// Sources shown to users name the primary text; notes kept outside
		// the repository are not a source a reader can follow.
		{"source of kind domain", "sources.yaml", "    kind: official\n    seen: \"Arts. 1-3 (scope", "    kind: domain\n    seen: \"Arts. 1-3 (scope", "sources[", "must be official or secondary"},
		{"agreement operational before it was signed", "schemes.yaml", `operational_from: "2026-03-31"`, `operational_from: "2025-01-01"`, "agreements[7].operational_from", "before the signing date"},
		{"agreement date not a date", "schemes.yaml", `signed: "2025-08-19"`, `signed: "19 Aug 2025"`, "agreements[7].signed", "YYYY-MM-DD"},
		{"registration cutoff without a date", "schemes.yaml", `registered_before: "2017-03-14"`, `registered_before: ""`, "registered_before", "missing"},
		{"official source without url", "sources.yaml", `url: "https://sso.agc.gov.sg/SL-Supp/S661-2023/Published/20231006?DocDate=20231006"`, `url: ""`, "sources[4].url", "missing"},
		{"duplicate rule id", "schemes.yaml", "id: CN-ETS.offset-cap", "id: CN-ETS.offset-instrument", "schemes[0].rules[1].id", "duplicate rule id"},
		{"duplicate MRV cell", "mrv.yaml", "  - {sector: power, aspect: threshold, regime: CN-ETS,", "  - {sector: power, aspect: threshold, regime: VN-ETS,", "cells", "duplicate cell"},
		{"missing MRV cell", "mrv.yaml", "  - {sector: power, aspect: threshold, regime: CN-ETS, status: confirmed,\n     text: \"Entities with annual emissions above 26,000 tCO2.\",\n     cite: {source: icap-china-ets}}\n", "", "cells", "missing cell for sector power, aspect threshold, regime CN-ETS"},
		{"unknown programme in matrix", "recognition.yaml", "matrix_programmes: [CCER,", "matrix_programmes: [NOPE,", "matrix_programmes[0]", "unknown programme"},
		{"registry lock outside global rules", "schemes.yaml", "kind: host_allowed\n        status: confirmed\n        text: \"CCERs", "kind: registry_lock\n        status: confirmed\n        text: \"CCERs", "schemes[0].rules[2].kind", "belong in global_rules"},
		{"not yaml", "sources.yaml", "version:", "version: [", "", "did not find"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := embeddedFS(t)
			raw := string(fsys[tt.file].Data)
			if !strings.Contains(raw, tt.old) {
				t.Fatalf("test fixture: %q not found in %s", tt.old, tt.file)
			}
			fsys[tt.file] = &fstest.MapFile{Data: []byte(strings.Replace(raw, tt.old, tt.new, 1))}
			_, err := Load(fsys)
			var de *DataError
			if !errors.As(err, &de) {
				t.Fatalf("Load: got %v, want a *DataError", err)
			}
			if de.File != tt.file {
				t.Errorf("file = %q, want %q (%v)", de.File, tt.file, err)
			}
			if !strings.Contains(de.Field, tt.wantField) {
				t.Errorf("field = %q, want it to contain %q (%v)", de.Field, tt.wantField, err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not mention %q", err, tt.wantText)
			}
		})
	}
}

func TestLoadRejectsMissingFile(t *testing.T) {
	fsys := embeddedFS(t)
	delete(fsys, "recognition.yaml")
	_, err := Load(fsys)
	var de *DataError
	if !errors.As(err, &de) || de.File != "recognition.yaml" {
		t.Fatalf("got %v, want a DataError for recognition.yaml", err)
	}
}
