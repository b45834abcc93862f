package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/cbam"
)

func runCBAMArgs(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := newCBAMCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestCBAMCommandSingleLine(t *testing.T) {
	out, _, err := runCBAMArgs(t, "--origin", "CN", "--cn", "72081000", "--tonnes", "1000", "--year", "2026", "--quarter", "1")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"certificates (exact)  2169.8323", "EUR 163518.56 (2169.8323 × EUR 75.36, the line's share)",
		"to surrender          2170 whole certificates (rounded up), cost EUR 163531.20", "not exempt",
		"default value of CN for 7208", "v20260204", "SUPERSEDED", "2026/1740"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestCBAMCommandDeMinimis: a 40 t steel line is exempt in the API's
// declaration (Art. 2a, 50 t a year); the CLI says so, with the condition
// that it is the year's only import, and what is owed above the threshold.
func TestCBAMCommandDeMinimis(t *testing.T) {
	args := []string{"--origin", "CN", "--cn", "72081000", "--tonnes", "40", "--year", "2026", "--quarter", "1"}
	out, _, err := runCBAMArgs(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"de minimis            40 t ≤ 50 t: exempt if this is all you import", "owes 0 certificates, EUR 0",
		"all count: 87 whole certificates (rounded up), cost EUR 6556.32"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	js, _, err := runCBAMArgs(t, append(args, "--json")...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"exempt": true`, `"certificates_to_surrender": "0"`, `"cost_eur": "0"`} {
		if !strings.Contains(js, want) {
			t.Errorf("JSON lacks %q:\n%s", want, js)
		}
	}
	// Hydrogen does not count toward the threshold: no exemption.
	out, _, err = runCBAMArgs(t, "--origin", "ID", "--cn", "28041000", "--tonnes", "5", "--year", "2026", "--quarter", "1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "de minimis") || !strings.Contains(out, "to surrender") {
		t.Errorf("hydrogen line:\n%s", out)
	}
}

// 2026-Q3 is unpriced in the built-in table: the report says so and what to
// do; --price-table supplies it; --dataset-dir loads the 2026/1740 layout.
func TestCBAMCommandPricesAndDataset(t *testing.T) {
	out, _, err := runCBAMArgs(t, "--origin", "CN", "--cn", "72081000", "--tonnes", "1000", "--year", "2026", "--quarter", "3")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cost                  unknown", "no certificate price for 2026-Q3", "--price-table"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	table := filepath.Join(t.TempDir(), "prices.csv")
	if err := os.WriteFile(table, []byte("period,price_eur\n2026-Q3,70.10\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err = runCBAMArgs(t, "--origin", "CN", "--cn", "2523100090", "--tonnes", "10", "--year", "2026", "--quarter", "3",
		"--price-table", table, "--dataset-dir", "../../internal/cbam/testdata/ir-2026-1740")
	if err != nil {
		t.Fatal(err)
	}
	// Grey clinker 1.39 × 1.10 = 1.529; 15.29 − 10 × 0.975 × 0.666 = 8.7965 certificates × 70.10 = 616.63.
	for _, want := range []string{"certificates (exact)  8.7965", "EUR 616.63", "price table prices.csv", "v20260731"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "SUPERSEDED") {
		t.Errorf("the 2026/1740 dataset is said superseded:\n%s", out)
	}
	_, _, err = runCBAMArgs(t, "--origin", "CN", "--cn", "72081000", "--tonnes", "1", "--year", "2026", "--price-table", "/nonexistent.csv")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitUsage {
		t.Errorf("missing price table: %v", err)
	}
}

func TestCBAMCommandBadInputExitCode(t *testing.T) {
	for _, args := range [][]string{
		{"--origin", "XX", "--cn", "72081000", "--tonnes", "1", "--year", "2026"},
		{"--origin", "CN", "--cn", "72081000", "--tonnes", "-1", "--year", "2026"},
		{"--origin", "CN", "--cn", "72081000", "--tonnes", "1", "--year", "2025"},
		{"--origin", "CN", "--cn", "72081000"},
	} {
		_, _, err := runCBAMArgs(t, args...)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != exitUsage {
			t.Errorf("%v: err = %v, want exit code %d", args, err, exitUsage)
		}
	}
}

func TestCBAMCommandFile(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "lines.csv")
	if err := os.WriteFile(in, []byte("origin,cn,tonnes,year,quarter\nCN,72081000,1000,2026,1\nXX,72081000,1,2026,1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "results.xlsx")
	_, report, err := runCBAMArgs(t, "--file", in, "--out", out, "--progress", "never")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitRejected {
		t.Fatalf("err = %v, want exit %d", err, exitRejected)
	}
	if !strings.Contains(report, "2 lines") || !strings.Contains(report, "row 3: origin") {
		t.Errorf("report:\n%s", report)
	}
	if st, err := os.Stat(out); err != nil || st.Size() == 0 {
		t.Errorf("no xlsx written: %v", err)
	}
}

// TestCBAMDatasetFlagsOnSubcommand: the superseded-dataset note tells users
// to pass --dataset-dir, so `cbam dataset` takes it (and --price-table),
// before or after the subcommand name; it used to be an unknown flag.
func TestCBAMDatasetFlagsOnSubcommand(t *testing.T) {
	table := filepath.Join(t.TempDir(), "prices.csv")
	if err := os.WriteFile(table, []byte("period,price_eur\n2026-Q3,70.10\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := "../../internal/cbam/testdata/ir-2026-1740"
	for _, args := range [][]string{
		{"cbam", "dataset", "--dataset-dir", dir, "--price-table", table},
		{"cbam", "--dataset-dir", dir, "--price-table", table, "dataset"},
	} {
		r := mustRun(t, args...)
		for _, want := range []string{"v20260731", "IR (EU) 2026/1740", "price table prices.csv", "2026-Q3: EUR 70.1"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, r.stdout)
			}
		}
		if strings.Contains(r.stdout, "SUPERSEDED") {
			t.Errorf("%v: still the embedded, superseded dataset:\n%s", args, r.stdout)
		}
	}
	if r := run("cbam", "dataset", "--price-table", "/nonexistent.csv"); r.code() != exitUsage {
		t.Errorf("cbam dataset with a missing price table: exit %d, %v", r.code(), r.err)
	}
}

// TestCBAMSupersededSaidOnce: the shipped dataset's superseded sentence is
// printed once per report (a SUPERSEDED row and a note said it twice).
func TestCBAMSupersededSaidOnce(t *testing.T) {
	for _, args := range [][]string{
		{"--origin", "CN", "--cn", "72081000", "--tonnes", "1000", "--year", "2026", "--quarter", "1"},
		{"--origin", "CN", "--cn", "72081000", "--tonnes", "1000", "--year", "2026", "--projection"},
	} {
		out, _, err := runCBAMArgs(t, args...)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(out, cbam.SupersededNote); n != 1 {
			t.Errorf("%v: the superseded sentence is printed %d times:\n%s", args, n, out)
		}
	}
}
