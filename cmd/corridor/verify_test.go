package main

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/host"
)

// TestVerifyCommand: a seeded data directory verifies (exit 0); after a
// block is moved behind the registry's back, verify exits 3 naming it.
func TestVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	nodes, err := host.Open(context.Background(), host.Storage{DataDir: dir}, host.OpenOptions{SeedDemo: true})
	if err != nil {
		t.Fatal(err)
	}
	nodes.Close()
	run := func() (string, error) {
		root := newRootCmd()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs([]string{"verify", "--data-dir", dir})
		err := root.ExecuteContext(context.Background())
		return out.String(), err
	}
	out, err := run()
	// The served demo registries and the stopped one (LA), whose
	// database is there too.
	if err != nil || strings.Count(out, ": ok") != len(demo.Registries)+len(demo.Stopped) {
		t.Fatalf("verify of a fresh demo: %v\n%s", err, out)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "registries", "TH.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE blocks SET state = 'held' WHERE state = 'retired'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out, err = run()
	ee, ok := err.(*exitError)
	if !ok || ee.code != 3 || !strings.Contains(err.Error(), "TH:") || !strings.Contains(out, "VIOLATION") {
		t.Fatalf("verify of a tampered ledger: %v\n%s", err, out)
	}
}
