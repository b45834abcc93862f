package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/export"
	"github.com/corridor-carbon/corridor/internal/host"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestUnknownCommand: an unknown command is a usage error (exit 2) that
// suggests the near name; no argument prints the help (exit 0).
func TestUnknownCommand(t *testing.T) {
	r := run("verfy")
	if r.code() != exitUsage || !strings.Contains(r.err.Error(), `unknown command "verfy"`) || !strings.Contains(r.err.Error(), "verify") {
		t.Fatalf("unknown command: exit %d, %v", r.code(), r.err)
	}
	if r := run("--no-such-flag"); r.code() != exitUsage {
		t.Fatalf("unknown root flag: exit %d, %v", r.code(), r.err)
	}
	if r := run(); r.code() != 0 || !strings.Contains(r.stdout, "Available Commands") {
		t.Fatalf("no command: exit %d, %v\n%s", r.code(), r.err, r.stdout)
	}
}

// TestVersion: --version names the program, a version and the Go toolchain.
func TestVersion(t *testing.T) {
	r := mustRun(t, "--version")
	if !strings.HasPrefix(r.stdout, "corridor ") || !strings.Contains(r.stdout, "go1.") {
		t.Fatalf("--version printed %q", r.stdout)
	}
}

// TestVerifyNoRegistry: verify of an empty data directory fails (exit 1)
// saying there is no registry, and creates nothing.
func TestVerifyNoRegistry(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	r := run("verify", "--data-dir", dir)
	if r.code() != exitFailure || !strings.Contains(r.err.Error(), "no registry") {
		t.Fatalf("verify of an empty data directory: exit %d, %v", r.code(), r.err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("verify created %s", dir)
	}
	if r := run("verify", "--data-dir", dir, "--registry", "cn"); r.code() != exitUsage {
		t.Fatalf("verify --registry cn: exit %d, %v", r.code(), r.err)
	}
}

// TestBenchDriver: --database-url alone selects PostgreSQL (it used to
// benchmark SQLite silently); --driver still decides when given.
func TestBenchDriver(t *testing.T) {
	tests := []struct {
		driver, url, want string
		bad               bool
	}{
		{"", "", "sqlite", false},
		{"", "postgres://db/x", "postgres", false},
		{"sqlite", "postgres://db/x", "sqlite", false},
		{"postgres", "postgres://db/x", "postgres", false},
		{"postgres", "", "", true},
		{"mysql", "", "", true},
	}
	for _, tt := range tests {
		f := benchRegistryFlags{driver: tt.driver}
		f.DatabaseURL = tt.url
		got, err := f.resolveDriver()
		if got != tt.want || (err != nil) != tt.bad {
			t.Errorf("driver %q, url %q: %q, %v; want %q (error %v)", tt.driver, tt.url, got, err, tt.want, tt.bad)
		}
	}
	url := os.Getenv(storetest.EnvURL)
	if url == "" {
		t.Skipf("SKIPPED PostgreSQL half: set %s to run the PostgreSQL benchmark", storetest.EnvURL)
	}
	r := mustRun(t, "bench", "registry", "--database-url", url, "--data-dir", t.TempDir(),
		"--duration", "300ms", "--fsync-duration", "100ms", "--clients", "2", "--accounts", "2")
	if !strings.Contains(r.stdout, "registry postgres,") {
		t.Fatalf("bench registry --database-url did not run on PostgreSQL:\n%s", r.stdout)
	}
}

// TestExportOutDash: --out - writes to stdout, as a missing --out does (it
// used to create a file named "-").
func TestExportOutDash(t *testing.T) {
	s := startCLIServer(t)
	t.Chdir(t.TempDir())
	r := mustRun(t, "export", "--server", s.url, "--registry", "TH", "--what", "retirements", "--out", "-")
	header := strings.Join(export.Columns(export.Retirements), ",")
	if lines := strings.Split(r.stdout, "\n"); lines[0] != header || len(lines) < 3 {
		t.Fatalf("export --out - stdout: %q", r.stdout)
	}
	if !strings.Contains(r.stderr, "to stdout") {
		t.Fatalf("summary: %q", r.stderr)
	}
	if _, err := os.Stat("-"); !errors.Is(err, os.ErrNotExist) {
		t.Fatal(`export --out - created a file named "-"`)
	}
}

// TestEveryCommandRefusesBogusArgs walks the whole command tree (help and
// completion included): one positional argument more than a command's Use
// names is an unknown subcommand or an extra argument, exit 2 with a
// message naming it, before any flag check or request.
func TestEveryCommandRefusesBogusArgs(t *testing.T) {
	var walk func(c *cobra.Command, path []string)
	n := 0
	walk = func(c *cobra.Command, path []string) {
		if c.Hidden {
			return
		}
		// "show ID" names one argument; "help [command]" one at most.
		args := append(slices.Clone(path), make([]string, len(strings.Fields(c.Use)))...)
		for i := len(path); i < len(args); i++ {
			args[i] = fmt.Sprintf("nosuch%d", i-len(path))
		}
		bogus := args[len(args)-1]
		r := run(args...)
		// cobra's ExactArgs counts rather than names the extra one.
		if r.code() != exitUsage || !strings.Contains(r.err.Error(), bogus) && !strings.Contains(r.err.Error(), fmt.Sprintf("received %d", len(args)-len(path))) {
			t.Errorf("corridor %s: exit %d, %v; want exit %d naming %q or counting the arguments", strings.Join(args, " "), r.code(), r.err, exitUsage, bogus)
		}
		n++
		for _, sub := range c.Commands() {
			walk(sub, append(slices.Clone(path), sub.Name()))
		}
	}
	walk(newRootCmd(), nil)
	if n < 40 {
		t.Fatalf("walked only %d commands", n)
	}
}

// TestDemoTokensFile: serve names the tokens file of its own --data-dir
// to the dashboard, and none when that directory has no demo tokens.
func TestDemoTokensFile(t *testing.T) {
	dir := t.TempDir()
	s := host.Storage{DataDir: dir}
	if got := demoTokensFile(s); got != "" {
		t.Fatalf("no tokens yet: %q", got)
	}
	want := filepath.Join(dir, "demo-tokens.json")
	if err := os.WriteFile(want, []byte(`{"tokens":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := demoTokensFile(s); got != want {
		t.Fatalf("tokens file %q, want %q", got, want)
	}
}
