package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
)

// TestArticle6AEFCommand: an embedded corridor (SQLite files) runs the
// Indonesia project abroad: authorisation, issuance with OMGE and share of
// proceeds, the investor's share sent to China; then `corridor article6 aef`
// reads the hub's database read-only and prints Indonesia's actions with
// the first transfer of 5,580 t to China, and writes the five-sheet XLSX.
func TestArticle6AEFCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	at := time.Date(2026, 6, 15, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { return at }
	admin := registry.Actor{Role: ledger.RoleAdmin}
	openDB := func(name string) *store.DB {
		db, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, name+".db")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	key := 0
	do := func(n *registry.Node, a registry.Actor, r registry.Request) registry.Result {
		t.Helper()
		key++
		res, err := n.Do(ctx, a, "k"+strconv.Itoa(key), r)
		if err != nil {
			t.Fatalf("%s: %v", r.Kind(), err)
		}
		return res
	}
	var members []hub.Member
	nodes := map[string]*registry.Node{}
	for _, code := range []string{"ID", "CN"} {
		n, err := registry.Open(ctx, openDB(code), registry.Options{Code: code, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Close)
		nodes[code] = n
		members = append(members, hub.Member{Node: n, HubOrg: do(n, admin, registry.CreateOrganisation{Name: "Corridor hub", Country: "SG"}).ID})
	}
	id, cn := nodes["ID"], nodes["CN"]
	account := func(n *registry.Node, name string) (registry.Actor, int64) {
		org := do(n, admin, registry.CreateOrganisation{Name: name, Country: n.Code()}).ID
		return registry.Actor{OrgID: org, Role: ledger.RoleHolder}, do(n, admin, registry.OpenAccount{OrgID: org, Type: ledger.Holding, Name: name}).ID
	}
	_, dev := account(id, "Developer")
	_, adapt := account(id, "Adaptation")
	inv, invAcc := account(id, "Investor")
	_, cnAcc := account(cn, "China national holding")
	set, err := agreements.Default()
	if err != nil {
		t.Fatal(err)
	}
	for i := range set.Agreements {
		if set.Agreements[i].ID == "pilot-cn-id" {
			set.Agreements[i].Purposes = append(set.Agreements[i].Purposes, "ndc")
		}
	}
	aps, err := article6.DefaultApproaches()
	if err != nil {
		t.Fatal(err)
	}
	hubDB := openDB("hub")
	a6, err := hub.EmbeddedArticle6(ctx, hubDB, members, aps)
	if err != nil {
		t.Fatal(err)
	}
	c, err := hub.Embedded(ctx, hub.EmbeddedConfig{HubDB: hubDB, Members: members, Agreements: set, Now: now, Article6: a6})
	if err != nil {
		t.Fatal(err)
	}
	do(id, admin, registry.Authorise{Authorisation: registry.Authorisation{ID: "ID-A6-0001", Version: 1, Host: "ID", Approach: "CN-ID-PILOT", Purposes: []string{"NDC"},
		Quantity: 100_000, From: "2026-01-01", Until: "2030-12-31", VintageFrom: 2026, VintageTo: 2030, Activities: []string{"ID-SOLAR-01"}}})
	do(id, admin, registry.IssueAuthorised{Issue: registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "ID-SOLAR-01", HostCountry: "ID", Vintage: 2026, Quantity: 10_000}, AccountID: dev},
		Authorisation: "ID-A6-0001", AdaptationAccount: adapt, Investor: "CN", InvestorFraction: "0.6", InvestorAccount: invAcc})
	if _, err := c.Send(ctx, "ID", hub.Send{Actor: inv, Key: "send-1", From: invAcc, ToRegistry: "CN", ToAccount: cnAcc, Units: registry.Units{Quantity: 5580, UnitType: "CCER"}, Purpose: "ndc"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Run(ctx); err != nil {
		t.Fatal(err)
	}
	hubFile := filepath.Join(dir, "hub.db")
	r := mustRun(t, "article6", "aef", "--hub-db", hubFile, "--party", "ID", "--year", "2026", "--table", "actions", "--format", "csv")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "Action date,Action type,Action subtype,Cooperative approach ID,") {
		t.Fatalf("want a header and 3 actions (OMGE first transfer and cancellation, first transfer to China), got:\n%s", r.stdout)
	}
	if !strings.HasPrefix(lines[3], "15/06/2026,First transfer,First transfer to another Party,CN-ID-PILOT,ID-A6-0001,IDN,IDN01,") || !strings.Contains(lines[3], ",5580,NA,not stated,2026,NA,CHN,") {
		t.Fatalf("no first transfer of 5580 t from ID to CN in:\n%s", lines[3])
	}
	if lower := mustRun(t, "article6", "aef", "--hub-db", hubFile, "--party", "id", "--year", "2026", "--table", "actions", "--format", "csv"); lower.stdout != r.stdout {
		t.Errorf("--party id differs from --party ID:\n%s", lower.stdout)
	}
	out := filepath.Join(dir, "id.xlsx")
	mustRun(t, "article6", "aef", "--hub-db", hubFile, "--party", "ID", "--year", "2026", "--format", "xlsx", "--out", out)
	if b, err := os.ReadFile(out); err != nil || !strings.HasPrefix(string(b), "PK") {
		t.Fatalf("xlsx: %v (%d bytes)", err, len(b))
	}
	for _, args := range [][]string{
		{"article6", "aef", "--party", "ID", "--year", "2026"},
		{"article6", "aef", "--hub-db", hubFile, "--party", "I1", "--year", "2026"},
		{"article6", "aef", "--hub-db", hubFile, "--party", "XX", "--year", "2026"},
		{"article6", "aef", "--hub-db", hubFile, "--party", "FR", "--year", "2026"},
		{"article6", "aef", "--hub-db", hubFile, "--party", "ID", "--year", "2026", "--table", "nope"},
		{"article6", "aef", "--hub-db", hubFile, "--party", "ID", "--year", "2026", "--format", "pdf"},
	} {
		if r := run(args...); r.code() != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, r.code(), exitUsage)
		}
	}
	// A year before 2021 is the flag's fault (the API's 400 year_invalid,
	// field year), not the ledger's refusal naming the party.
	for _, args := range [][]string{{"--year", "2019"}, {"--year", "2026", "--ndc-period", "2030-2021"}, {"--year", "2026", "--version", "0"}} {
		r := run(append([]string{"article6", "aef", "--hub-db", hubFile, "--party", "ID"}, args...)...)
		if r.code() != exitUsage || !strings.Contains(r.err.Error(), args[len(args)-2]) || strings.Contains(r.err.Error(), "field party") {
			t.Errorf("%v: exit %d (%v), want %d naming %s", args, r.code(), r.err, exitUsage, args[len(args)-2])
		}
	}
}
