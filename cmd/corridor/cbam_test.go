package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	for _, want := range []string{"certificates          2169.832", "EUR 163518.54", "default value of CN for 7208", "v20260204"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
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
