package hub_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestReconcileOverHTTP: the hub reconciles with nodes it reads over
// their API (GET …/snapshot with an auditor's token, …/head, …/key): clean
// after a transfer; without a token the node is unreachable; units the
// origin exported outside the hub are found; without the hub's transport
// the freeze is reported as not done, with it the freeze travels as a
// protocol message and the node records it (once, when re-sent).
func TestReconcileOverHTTP(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		admin := registry.Actor{Role: ledger.RoleAdmin}
		var members []hub.Member
		nodes := map[string]*registry.Node{}
		accs, tokens := map[string]int64{}, map[string]string{}
		var holder registry.Actor
		for i, code := range []string{"CN", "TH"} {
			db := tg.Open(t)
			if i > 0 {
				db = tg.Fresh(t).Open(t)
			}
			n, err := registry.Open(ctx, db, registry.Options{Code: code})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(n.Close)
			do := func(key string, r registry.Request) registry.Result {
				res, err := n.Do(ctx, admin, key, r)
				if err != nil {
					t.Fatalf("%s %s: %v", code, r.Kind(), err)
				}
				return res
			}
			org := do("org", registry.CreateOrganisation{Name: "Holder", Country: code}).ID
			accs[code] = do("acc", registry.OpenAccount{OrgID: org, Type: ledger.Holding, Name: "Main"}).ID
			members = append(members, hub.Member{Node: n, HubOrg: do("hub", registry.CreateOrganisation{Name: "Corridor hub", Country: "SG"}).ID})
			tokens[code] = do("tok", registry.CreateToken{OrgID: org, Role: ledger.RoleAuditor, Name: "hub reconciliation"}).Token
			if code == "CN" {
				holder = registry.Actor{OrgID: org, Role: ledger.RoleHolder}
				do("iss", registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "CCER-14-2024-001", Methodology: "CCER-14-001-V01",
					HostCountry: "CN", Vintage: 2024, Quantity: 1000}, AccountID: accs[code]})
			}
			nodes[code] = n
		}
		set, err := agreements.Default()
		if err != nil {
			t.Fatal(err)
		}
		c, err := hub.Embedded(ctx, hub.EmbeddedConfig{HubDB: tg.Fresh(t).Open(t), Members: members, Agreements: set})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Send(ctx, "CN", hub.Send{Actor: holder, Key: "s1", From: accs["CN"], ToRegistry: "TH", ToAccount: accs["TH"],
			Units: registry.Units{Quantity: 100, UnitType: "CCER"}, Purpose: "voluntary"}); err != nil {
			t.Fatal(err)
		}
		if err := c.Run(ctx); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(api.New(nodes["CN"], nodes["TH"]).Handler())
		t.Cleanup(srv.Close)
		view := func(code, token string) hub.NodeView {
			return hub.HTTPNode{Registry: code, BaseURL: srv.URL, Token: token, Client: srv.Client()}
		}
		rs, err := c.Hub.Reconcile(ctx, []hub.NodeView{view("CN", tokens["CN"]), view("TH", tokens["TH"])}, hub.ReconcileOptions{Grace: -1})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if !r.Clean() || r.Head.Seq == 0 || len(r.Totals) != 1 || r.Totals[0].Hub != 100 {
				t.Fatalf("%s over HTTP: %+v totals %+v", r.Registry, r.Findings, r.Totals)
			}
		}
		rs, _ = c.Hub.Reconcile(ctx, []hub.NodeView{view("TH", "")}, hub.ReconcileOptions{Grace: -1})
		if got := rs[0].Findings; len(got) != 1 || got[0].Code != hub.CodeReconcileUnreachable {
			t.Fatalf("without a token: %+v", got)
		}

		// CN exports 10 units behind the hub's back: its hub organisation
		// settles an escrow the hub never proposed.
		cn := nodes["CN"]
		cnHub := registry.Actor{OrgID: members[0].HubOrg, Role: registry.RoleHub}
		res, err := cn.Do(ctx, holder, "r", registry.Reserve{From: accs["CN"], Units: registry.Units{Quantity: 10, UnitType: "CCER"}, ToRegistry: "TH", ToAccountRef: "1",
			Authority: &registry.Authority{Role: registry.AuthorityHub, OrgID: cnHub.OrgID}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cn.Do(ctx, cnHub, "c", registry.Complete{Pending: res.Pending}); err != nil {
			t.Fatal(err)
		}
		rs, _ = c.Hub.Reconcile(ctx, []hub.NodeView{view("CN", tokens["CN"])}, hub.ReconcileOptions{Grace: -1})
		var codes []string
		for _, f := range rs[0].Findings {
			codes = append(codes, f.Code)
		}
		if !slices.Equal(codes, []string{hub.CodeReconcileMissing, hub.CodeReconcileFreezeFailed}) || rs[0].Findings[0].Start != 101 || rs[0].Findings[0].End != 110 {
			t.Fatalf("export outside the hub, no hub transport: %+v", rs[0].Findings)
		}

		// With the hub's transport the freeze travels as a protocol
		// message and the node's endpoint records it.
		withHub := hub.HTTPNode{Registry: "CN", BaseURL: srv.URL, Token: tokens["CN"], Client: srv.Client(), Hub: c.Hub}
		rs, _ = c.Hub.Reconcile(ctx, []hub.NodeView{withHub}, hub.ReconcileOptions{Grace: -1})
		if got := rs[0].Findings; len(got) != 1 || got[0].Code != hub.CodeReconcileMissing || got[0].Freeze != 0 {
			t.Fatalf("freeze sent as a message: %+v", got)
		}
		if err := c.Run(ctx); err != nil {
			t.Fatal(err)
		}
		snap, err := cn.Snapshot(registry.Operator)
		if err != nil {
			t.Fatal(err)
		}
		if len(snap.Frozen) != 1 || snap.Frozen[0].Reconciliation != rs[0].ID || len(snap.Frozen[0].Blocks) != 1 ||
			snap.Frozen[0].Blocks[0].Start != 101 || snap.Frozen[0].Blocks[0].End != 110 {
			t.Fatalf("frozen at CN after the freeze message: %+v", snap.Frozen)
		}
		// Delivered again (a re-send), it is the same freeze.
		if err := c.Hub.SendFreeze(ctx, "CN", "reconcile:"+rs[0].ID+":0", registry.Freeze{Code: hub.CodeReconcileMissing, Reconciliation: rs[0].ID,
			Reason: "hub reconciliation " + rs[0].ID + " found the registry's blocks differ from the hub's records",
			Blocks: []registry.FreezeBlock{{Origin: *rs[0].Findings[0].Origin, Start: 101, End: 110}}}); err != nil {
			t.Fatal(err)
		}
		if err := c.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if snap, _ := cn.Snapshot(registry.Operator); len(snap.Frozen) != 1 {
			t.Fatalf("freeze re-sent: %+v", snap.Frozen)
		}
		// The next reconciliation finds the discrepancy covered by that
		// freeze and records its number.
		rs, _ = c.Hub.Reconcile(ctx, []hub.NodeView{withHub}, hub.ReconcileOptions{Grace: -1})
		if got := rs[0].Findings; len(got) != 1 || got[0].Freeze != snap.Frozen[0].Seq {
			t.Fatalf("reconciliation after the freeze: %+v (freeze %d)", got, snap.Frozen[0].Seq)
		}
	})
}
