package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	_ "modernc.org/sqlite"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/host"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// TestVerifyCommand: a seeded data directory verifies (exit 0), each line
// telling the units issued here from the units in the registry (a record
// of a foreign issuance is not counted whole); after a block is moved
// behind the registry's back, verify exits 3 naming it.
func TestVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	nodes, err := host.Open(context.Background(), host.Storage{DataDir: dir}, host.OpenOptions{SeedDemo: true})
	if err != nil {
		t.Fatal(err)
	}
	nodes.Close()
	runWith := func(extra ...string) (string, error) {
		root := newRootCmd()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs(append([]string{"verify", "--data-dir", dir}, extra...))
		err := root.ExecuteContext(context.Background())
		return out.String(), err
	}
	run := func() (string, error) { return runWith() }
	runArgs := func(extra ...string) string {
		out, err := runWith(extra...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// A registry the storage does not hold is a usage error (exit 2)
	// naming those it does.
	if _, err := runWith("--registry", "XX"); (cliRun{err: err}).code() != exitUsage || !strings.Contains(err.Error(), "XX") || !strings.Contains(err.Error(), "CNETS") {
		t.Fatalf("verify --registry XX: exit %d, %v", cliRun{err: err}.code(), err)
	}
	out, err := run()
	// The served demo registries and the stopped one (LA), whose
	// database is there too.
	if err != nil || strings.Count(out, ": ok") != len(demo.Registries)+len(demo.Stopped) {
		t.Fatalf("verify of a fresh demo: %v\n%s", err, out)
	}
	// ID holds CCER of a CN issuance (a demo pilot): the record of that
	// issuance spans CN's whole quantity, so "units" must not add it up.
	// ID issued 120,000 + 300,000 and the project abroad's issuance, and
	// holds those plus the 10,000 CCER, less the investor's share sent to
	// China (the OMGE cancelled stays in ID, cancelled).
	aps, err := article6.DefaultApproaches()
	if err != nil {
		t.Fatal(err)
	}
	sh, err := article6.Split(aps[demo.Abroad.Authorisation.Approach], demo.Abroad.Issue.Quantity, decimal.RequireFromString(demo.Abroad.InvestorFraction))
	if err != nil {
		t.Fatal(err)
	}
	idIssued := 420000 + demo.Abroad.Issue.Quantity
	idHere := idIssued + 10000 - sh.Investor
	for _, want := range []string{
		fmt.Sprintf("ID    29 journal entries, 4 issuances (1 recorded from another registry), %d units issued here, %d units in this registry in 11 blocks: ok", idIssued, idHere),
		// SG: the demo's ICC flow imports Thailand's ICCs (and records the
		// facility's taxable emissions and its surrender).
		fmt.Sprintf("SG    14 journal entries, 1 issuance (1 recorded from another registry), 0 units issued here, %d units in this registry in 3 blocks: ok", demo.ICC.Send),
		fmt.Sprintf("JP    14 journal entries, 2 issuances, %d units issued here,", 8000+demo.JPShare.Quantity), // Japan's share of the JCM decision,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("verify lacks %q:\n%s", want, out)
		}
	}
	var reports map[string]registry.Report
	if err := json.Unmarshal([]byte(runArgs("--json")), &reports); err != nil {
		t.Fatal(err)
	}
	if r := reports["ID"]; r.Issuances != 4 || r.ForeignIssuances != 1 || r.UnitsIssued != idIssued || r.UnitsHere != idHere {
		t.Errorf("verify --json ID: %+v", r)
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
