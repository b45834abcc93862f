package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runMRVArgs(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newMRVCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), err
}

const exampleInstallation = "../../internal/mrv/testdata/installation.yaml"

func TestMRVCommandText(t *testing.T) {
	out, err := runMRVArgs(t, "--file", exampleInstallation)
	if err != nil {
		t.Fatal(err)
	}
	// Coal 241,230 + raw meal 528,000 direct; 130,000 MWh × 0.58 indirect.
	for _, want := range []string{"direct        769230 tCO2e", "indirect      75400 tCO2e", "25231000", "0.81563", "precursors", "coverage threshold"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestMRVCommandJSON(t *testing.T) {
	out, err := runMRVArgs(t, "--file", exampleInstallation, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Emissions struct {
			Direct string `json:"direct"`
		} `json:"emissions"`
		ChinaETS    map[string]any `json:"china_ets"`
		Differences []any          `json:"differences"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if res.Emissions.Direct != "769230" || res.ChinaETS["covered"] != true || len(res.Differences) == 0 {
		t.Errorf("%+v", res)
	}
}

func TestMRVCommandBadInputNamesField(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: x\nyear: 2026\nelectricity:\n  - process: p\n    mwh: -1\n    factor: 0.5\nprocesses:\n  - id: p\n    cn: \"25231000\"\n    activity_level: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--file", bad}, "electricity[0].mwh"},
		{[]string{"--file", filepath.Join(dir, "missing.yaml")}, "missing.yaml"},
		{[]string{}, "--file"},
		{[]string{"--file", exampleInstallation, "--format", "xml"}, "--format"},
	} {
		_, err := runMRVArgs(t, tc.args...)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want exit %d naming %q", tc.args, err, exitUsage, tc.want)
		}
	}
}
