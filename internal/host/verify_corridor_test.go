package host

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
)

// corridorStorage fills s with a small corridor — CN, TH and ID nodes and
// the hub's database — after CN → TH 100 and CN → ID 100 went through the
// hub, and closes it. It returns the transaction ids.
func corridorStorage(t *testing.T, s Storage) []string {
	t.Helper()
	ctx := context.Background()
	if s.DatabaseURL == "" {
		if err := os.MkdirAll(filepath.Join(s.DataDir, "registries"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	admin := registry.Actor{Role: ledger.RoleAdmin}
	type site struct {
		n           *registry.Node
		db          *store.DB
		holder, acc int64
	}
	sites := map[string]*site{}
	var members []hub.Member
	for _, code := range []string{"CN", "ID", "TH"} {
		db, err := store.Open(ctx, s.Store(code))
		if err != nil {
			t.Fatal(err)
		}
		n, err := registry.Open(ctx, db, registry.Options{Code: code})
		if err != nil {
			t.Fatal(err)
		}
		st := &site{n: n, db: db}
		do := func(key string, r registry.Request) registry.Result {
			res, err := n.Do(ctx, admin, key, r)
			if err != nil {
				t.Fatalf("%s %s: %v", code, r.Kind(), err)
			}
			return res
		}
		st.holder = do("org", registry.CreateOrganisation{Name: "Holder", Country: code}).ID
		st.acc = do("acc", registry.OpenAccount{OrgID: st.holder, Type: ledger.Holding, Name: "Main"}).ID
		org := do("hub", registry.CreateOrganisation{Name: "Corridor hub", Country: "SG"}).ID
		if code == "CN" {
			do("iss", registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "CCER-14-2024-001", Methodology: "CCER-14-001-V01",
				HostCountry: "CN", Vintage: 2024, Quantity: 1000}, AccountID: st.acc})
		}
		sites[code] = st
		members = append(members, hub.Member{Node: n, HubOrg: org})
	}
	hdb, err := store.Open(ctx, hubDatabase(s))
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
	var txs []string
	for i, to := range []string{"TH", "ID"} {
		cn := sites["CN"]
		sent, err := c.Send(ctx, "CN", hub.Send{Actor: registry.Actor{OrgID: cn.holder, Role: ledger.RoleHolder}, Key: "send-" + to, From: cn.acc, ToRegistry: to,
			ToAccount: sites[to].acc, Units: registry.Units{Quantity: 100, UnitType: "CCER"}, Purpose: "voluntary"})
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		txs = append(txs, sent.ID)
		if err := c.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if rec, err := c.Transfer(ctx, sent.ID); err != nil || rec.Status != 4 {
			t.Fatalf("transfer %s: %+v %v", sent.ID, rec.Status, err)
		}
	}
	for _, st := range sites {
		st.n.Close()
		st.db.Close()
	}
	hdb.Close()
	return txs
}

func execOn(t *testing.T, cfg store.Config, q string, args ...any) {
	t.Helper()
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.SQL().ExecContext(context.Background(), db.Rebind(q), args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestVerifyCorridor: a clean corridor passes verify --corridor (every
// node, conservation, the hub's records); units present in two registries
// and a hub record deleted each fail it with the violation named; and it
// wrote nothing.
func TestVerifyCorridor(t *testing.T) {
	eachStorage(t, func(t *testing.T, s Storage) {
		ctx := context.Background()
		txs := corridorStorage(t, s)
		rep, err := VerifyCorridor(ctx, s)
		if err != nil || !rep.OK() || !rep.Hub || len(rep.Nodes) != 3 {
			t.Fatalf("clean corridor: %+v %v", rep, err)
		}

		// A hub record deleted: the hub no longer knows CN → TH, so it
		// places 1-100 at CN, where they are exported, and TH has them.
		execOn(t, hubDatabase(s), `DELETE FROM hub_events WHERE body LIKE ?`, `%"`+txs[0]+`"%`)
		rep, err = VerifyCorridor(ctx, s)
		if err != nil || rep.OK() {
			t.Fatalf("hub record deleted: %+v %v", rep, err)
		}
		want := []string{"hub: CN: reconcile_missing: the hub places CN/1 1-100 in CN", "hub: TH: reconcile_unexpected: TH has CN/1 1-100; the hub places them in CN"}
		for _, w := range want {
			if !slices.ContainsFunc(rep.Violations, func(v string) bool { return strings.HasPrefix(v, w) }) {
				t.Fatalf("hub record deleted: no %q in %q", w, rep.Violations)
			}
		}
		for _, v := range rep.Nodes {
			if !v.Report.OK() {
				t.Fatalf("%s: %v", v.Code, v.Report.Violations)
			}
		}
	})
}

// TestVerifyCorridorCopies: serials imported at two registries (ID's
// record of 1-100 turned held behind its back) break conservation.
func TestVerifyCorridorCopies(t *testing.T) {
	eachStorage(t, func(t *testing.T, s Storage) {
		ctx := context.Background()
		corridorStorage(t, s)
		execOn(t, s.Store("ID"), `UPDATE blocks SET state = 'held' WHERE start_serial = 1 AND state = 'exported'`)
		rep, err := VerifyCorridor(ctx, s)
		if err != nil || rep.OK() {
			t.Fatalf("copies: %+v %v", rep, err)
		}
		if !slices.ContainsFunc(rep.Violations, func(v string) bool { return strings.Contains(v, "CN/1 serials 1-100 are in both ID and TH") }) {
			t.Fatalf("no double presence named: %q", rep.Violations)
		}
	})
}

// TestReconcileStorage: corridor hub reconcile's work on a stopped
// corridor: clean, then after a hub record is lost the discrepancy is
// found at both nodes, recorded and frozen there.
func TestReconcileStorage(t *testing.T) {
	eachStorage(t, func(t *testing.T, s Storage) {
		ctx := context.Background()
		txs := corridorStorage(t, s)
		rs, err := Reconcile(ctx, s, hub.ReconcileOptions{Grace: -1})
		if err != nil || len(rs) != 3 {
			t.Fatalf("reconcile: %+v %v", rs, err)
		}
		for _, r := range rs {
			if !r.Clean() || r.Head.Seq == 0 {
				t.Fatalf("%s: %+v", r.Registry, r.Findings)
			}
		}
		execOn(t, hubDatabase(s), `DELETE FROM hub_events WHERE body LIKE ?`, `%"`+txs[0]+`"%`)
		rs, err = Reconcile(ctx, s, hub.ReconcileOptions{Grace: -1})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, r := range rs {
			for _, f := range r.Findings {
				if f.Freeze == 0 {
					t.Fatalf("%s finding not frozen: %+v", r.Registry, f)
				}
				got[r.Registry] = append(got[r.Registry], f.Code)
			}
		}
		if !slices.Equal(got["CN"], []string{hub.CodeReconcileMissing}) || !slices.Equal(got["TH"], []string{hub.CodeReconcileUnexpected}) || len(got["ID"]) != 0 {
			t.Fatalf("findings %v", got)
		}
		rep, err := VerifyCorridor(ctx, s)
		if err != nil || rep.OK() {
			t.Fatalf("verify after: %v", err)
		}
		for _, v := range rep.Nodes {
			if !v.Report.OK() {
				t.Fatalf("%s: freezes broke verify: %v", v.Code, v.Report.Violations)
			}
		}
	})
}
