package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/linkage"
)

var updateLinkGolden = flag.Bool("update-link", false, "rewrite testdata/link-*.golden")

func runLinkArgs(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newLinkCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), err
}

func TestLinkTableGolden(t *testing.T) {
	out, err := runLinkArgs(t, "--runs", "200", "--seed", "7", "--progress", "never")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "link-default-runs200-seed7.golden")
	if *updateLinkGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run TestLinkTableGolden -update-link writes it)", err)
	}
	if out != string(want) {
		t.Errorf("table differs from %s (go test -update-link rewrites it):\n%s", path, out)
	}
}

func TestLinkEditedScenarioFromFile(t *testing.T) {
	// Print the default, edit it as a user would, run it back.
	def, err := runLinkArgs(t, "--print-default")
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(def, "value: 0.05\n        source: \"CCER", "value: 0.0\n        source: \"CCER", 1)
	if edited == def {
		t.Fatal("the CCER limit line moved; update the test's edit")
	}
	file := filepath.Join(t.TempDir(), "my.yaml")
	if err := os.WriteFile(file, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runLinkArgs(t, "--scenario", file, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var res linkage.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if cn := res.Markets[0]; cn.ID != "CN-ETS" || cn.NetExports != 0 || cn.LinkedPrice != cn.AutarkyPrice {
		t.Errorf("with a zero import limit China should stay at autarky: %+v", cn)
	}
	csvOut, err := runLinkArgs(t, "--scenario", file, "--format", "csv")
	if err != nil || !strings.HasPrefix(csvOut, "market,jurisdiction") {
		t.Errorf("csv output: %v %q", err, csvOut[:min(len(csvOut), 60)])
	}
}

func TestLinkBadInputExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	def, _ := runLinkArgs(t, "--print-default")
	if err := os.WriteFile(bad, []byte(strings.Replace(def, "jurisdiction: VN", "jurisdiction: XX", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--runs", "-3"}, "--runs"},
		{[]string{"--seed", "x"}, "--seed"},
		{[]string{"--format", "xml"}, "--format"},
		{[]string{"--scenario", filepath.Join(dir, "missing.yaml")}, "read scenario"},
		{[]string{"--scenario", bad}, "markets[2].jurisdiction"},
	} {
		_, err := runLinkArgs(t, tc.args...)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%v: error %v, want exit %d naming %q", tc.args, err, exitUsage, tc.msg)
		}
	}
}

// negativeZero is a number that prints as zero with a minus sign: -0,
// -0.0, -0.00 …, not followed by another digit.
var negativeZero = regexp.MustCompile(`(^|[^0-9A-Za-z.])-0(\.0+)?([^0-9.]|$)`)

// TestLinkPrintsNoNegativeZero: a value that rounds to zero prints as 0.0,
// never -0.0 (the default scenario's revenue columns showed -0.0).
func TestLinkPrintsNoNegativeZero(t *testing.T) {
	out, err := runLinkArgs(t, "--runs", "20", "--seed", "7", "--progress", "never")
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(out, "\n") {
		if negativeZero.MatchString(line) {
			t.Errorf("line %d prints a negative zero: %q", i+1, line)
		}
	}
}
