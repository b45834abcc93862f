package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/host"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
)

// corridorDir makes a stopped corridor under a data directory: CN and TH
// nodes and the hub's database (hub.db), after CN → TH 100 through the hub.
func corridorDir(t *testing.T) (string, string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	s := host.Storage{DataDir: dir}
	if err := os.MkdirAll(filepath.Join(dir, "registries"), 0o755); err != nil {
		t.Fatal(err)
	}
	admin := registry.Actor{Role: ledger.RoleAdmin}
	var members []hub.Member
	var closers []func()
	accs := map[string]int64{}
	var holder int64
	for _, code := range []string{"CN", "TH"} {
		db, err := store.Open(ctx, s.Store(code))
		if err != nil {
			t.Fatal(err)
		}
		n, err := registry.Open(ctx, db, registry.Options{Code: code})
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, n.Close, func() { db.Close() })
		do := func(key string, r registry.Request) int64 {
			res, err := n.Do(ctx, admin, key, r)
			if err != nil {
				t.Fatalf("%s %s: %v", code, r.Kind(), err)
			}
			return res.ID
		}
		org := do("org", registry.CreateOrganisation{Name: "Holder", Country: code})
		accs[code] = do("acc", registry.OpenAccount{OrgID: org, Type: ledger.Holding, Name: "Main"})
		members = append(members, hub.Member{Node: n, HubOrg: do("hub", registry.CreateOrganisation{Name: "Corridor hub", Country: "SG"})})
		if code == "CN" {
			holder = org
			do("iss", registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "CCER-14-2024-001", Methodology: "CCER-14-001-V01",
				HostCountry: "CN", Vintage: 2024, Quantity: 1000}, AccountID: accs[code]})
		}
	}
	hdb, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, "hub.db")})
	if err != nil {
		t.Fatal(err)
	}
	set, err := agreements.Default()
	if err != nil {
		t.Fatal(err)
	}
	c, err := hub.Embedded(ctx, hub.EmbeddedConfig{HubDB: hdb, Members: members, Agreements: set})
	if err != nil {
		t.Fatal(err)
	}
	sent, err := c.Send(ctx, "CN", hub.Send{Actor: registry.Actor{OrgID: holder, Role: ledger.RoleHolder}, Key: "send", From: accs["CN"], ToRegistry: "TH",
		ToAccount: accs["TH"], Units: registry.Units{Quantity: 100, UnitType: "CCER"}, Purpose: "voluntary"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Run(ctx); err != nil {
		t.Fatal(err)
	}
	for _, f := range closers {
		f()
	}
	hdb.Close()
	return dir, sent.ID
}

func runCLI(args ...string) (string, error) {
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// TestHubReconcileAndVerifyCorridor: on a clean corridor both commands
// exit 0; once the hub has lost its record of the transfer, verify
// --corridor exits 3 naming the discrepancy at both registries and hub
// reconcile exits 3 printing the findings, frozen at the nodes.
func TestHubReconcileAndVerifyCorridor(t *testing.T) {
	dir, tx := corridorDir(t)
	out, err := runCLI("verify", "--corridor", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "corridor: 2 registries, the hub's records checked (hub.db): ok") {
		t.Fatalf("verify --corridor: %v\n%s", err, out)
	}
	out, err = runCLI("hub", "reconcile", "--data-dir", dir)
	if err != nil || strings.Count(out, ": clean") != 2 || !strings.Contains(out, "registry CN  origin CN/1  state exported=100,held=900  node 100  hub 100  in-flight 0  (compared: units exported by CN)") || !strings.Contains(out, "registry TH  origin CN/1  state held=100  node 100  hub 100") {
		t.Fatalf("hub reconcile: %v\n%s", err, out)
	}
	// Offline, each node keeps the head the hub recorded at once.
	for _, code := range []string{"CN", "TH"} {
		ndb, err := sql.Open("sqlite", filepath.Join(dir, "registries", code+".db"))
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := ndb.QueryRow(`SELECT COUNT(*) FROM hub_heads WHERE reconciliation LIKE 'REC-%'`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%s keeps %d hub heads after the offline run: %v", code, n, err)
		}
		ndb.Close()
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM hub_events WHERE body LIKE ?`, `%"`+tx+`"%`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out, err = runCLI("verify", "--corridor", "--data-dir", dir)
	if ee, ok := err.(*exitError); !ok || ee.code != exitRejected || !strings.Contains(out, "hub: CN: reconcile_missing") || !strings.Contains(out, "hub: TH: reconcile_unexpected") {
		t.Fatalf("verify --corridor after the loss: %v\n%s", err, out)
	}
	out, err = runCLI("hub", "reconcile", "--data-dir", dir)
	if ee, ok := err.(*exitError); !ok || ee.code != exitRejected || !strings.Contains(out, "reconcile_unexpected: TH has CN/1 1-100; the hub places them in CN [frozen at TH by freeze ") {
		t.Fatalf("hub reconcile after the loss: %v\n%s", err, out)
	}
	if out, err := runCLI("verify", "--corridor", "--registry", "CN", "--data-dir", dir); err == nil {
		t.Fatalf("--corridor with --registry accepted:\n%s", out)
	}
}

// TestHubAdminTokenNotInHelp: the hub administrator's token is read from
// CORRIDOR_HUB_ADMIN_TOKEN when the flag is not given, and --help never
// shows it; --hub-url without any token is a usage error.
func TestHubAdminTokenNotInHelp(t *testing.T) {
	t.Setenv("CORRIDOR_HUB_ADMIN_TOKEN", "very-secret-admin-token")
	for _, args := range [][]string{{"hub", "reconcile", "--help"}, {"serve", "--help"}} {
		out, err := runCLI(args...)
		if err != nil || strings.Contains(out, "very-secret-admin-token") || !strings.Contains(out, "CORRIDOR_HUB_ADMIN_TOKEN") {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
	}
	t.Setenv("CORRIDOR_HUB_ADMIN_TOKEN", "")
	if _, err := runCLI("hub", "reconcile", "--hub-url", "https://127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "token") {
		t.Errorf("--hub-url without a token: %v", err)
	}
}
