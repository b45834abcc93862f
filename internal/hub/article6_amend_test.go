package hub

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestArticle6AmendAfterFirstInternationalTransfer: Lao PDR authorises a
// JCM project for NDC use (no OMGE under the JCM, so nothing is
// first-transferred at issuance) and issues its share; an amendment is
// taken while no unit has left. Then 100 t go to Japan through the
// corridor (1 2 8 4), their first international transfer and so their
// first transfer: Lao PDR's node now refuses an amendment itself
// (article6_authorisation_frozen, the code the hub's ledger gives), also
// after a restart; a revocation is still taken, and Japan's use of the
// first-transferred units towards its NDC is not stopped by it; verify
// replays Lao PDR's journal.
func TestArticle6AmendAfterFirstInternationalTransfer(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		clk := &clock{t: a6start}
		open := func(db storetest.Target, code string) (*a6site, registry.Actor, int64) {
			s := &a6site{db: db.Open(t)}
			n, err := registry.Open(ctx, s.db, registry.Options{Code: code, Now: clk.now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(n.Close)
			s.node = n
			s.hubOrg = s.do(t, admin, registry.CreateOrganisation{Name: "Corridor hub", Country: "SG"}).ID
			actor, acc := s.holder(t, "JCM holder "+code)
			return s, actor, acc
		}
		la, laActor, laAcc := open(tg, "LA")
		jp, jpActor, jpAcc := open(tg.Fresh(t), "JP")
		set, err := agreements.Default()
		if err != nil {
			t.Fatal(err)
		}
		members := []Member{{Node: la.node, HubOrg: la.hubOrg}, {Node: jp.node, HubOrg: jp.hubOrg}}
		hubDB := tg.Fresh(t).Open(t)
		a6, err := EmbeddedArticle6(ctx, hubDB, members, defaultApproaches(t))
		if err != nil {
			t.Fatal(err)
		}
		c, err := Embedded(ctx, EmbeddedConfig{HubDB: hubDB, Members: members, Agreements: set, Now: clk.now, Article6: a6})
		if err != nil {
			t.Fatal(err)
		}
		auth := registry.Authorisation{ID: "LA-JCM-0002", Version: 1, Host: "LA", Approach: "JP-LA-JCM", Purposes: []string{"NDC"},
			Quantity: 10_000, From: "2025-01-01", Until: "2030-12-31", VintageFrom: 2025, VintageTo: 2030, Activities: []string{"LA-BIOGAS-02"}, AcquiringParties: []string{"JP"}}
		la.do(t, admin, registry.Authorise{Authorisation: auth})
		la.do(t, admin, registry.IssueAuthorised{Issue: registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "JCM", UnitType: "JCM", Project: "LA-BIOGAS-02",
			HostCountry: "LA", Vintage: 2026, Quantity: 600}, AccountID: laAcc}, Authorisation: auth.ID, Decision: "JC-LA-0008", DecisionQuantity: 600})
		amend := func(node *registry.Node, version int) error {
			next := auth
			next.Version, next.Quantity = version, 10_000-int64(version)
			_, err := node.Do(ctx, admin, fmt.Sprintf("amend-%d", version), registry.AmendAuthorisation{Authorisation: next})
			return err
		}
		frozen := func(node *registry.Node) bool {
			for _, v := range node.Authorisations() {
				if v.Authorisation.ID == auth.ID {
					return v.Frozen
				}
			}
			t.Fatalf("%s: no authorisation %s", node.Code(), auth.ID)
			return false
		}
		refusedFrozen := func(what string, err error) {
			t.Helper()
			if e, ok := ledger.AsError(err); !ok || e.Code != string(article6.CodeAuthFrozen) {
				t.Fatalf("%s: amendment after the first transfer: %v, want %s", what, err, article6.CodeAuthFrozen)
			}
		}
		if err := amend(la.node, 2); err != nil || frozen(la.node) {
			t.Fatalf("amendment before any unit left: %v (frozen %v)", err, frozen(la.node))
		}
		clk.set(a6start.Add(24 * time.Hour))
		sent, err := c.Send(ctx, "LA", Send{Actor: laActor, Key: "to-japan", From: laAcc, ToRegistry: "JP", ToAccount: jpAcc, Units: registry.Units{Quantity: 100, UnitType: "JCM"}, Purpose: "ndc"})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Run(ctx); err != nil {
			t.Fatal(err)
		}
		tr, err := c.Transfer(ctx, sent.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(tr.Statuses(), st(1, 2, 8, 4)) {
			t.Fatalf("statuses %v (findings %v), want 1 2 8 4", tr.Statuses(), a6codes(tr))
		}
		if !frozen(la.node) {
			t.Fatal("the authorisation is not frozen after its units' first international transfer")
		}
		refusedFrozen("live", amend(la.node, 3))
		// The node, restarted, rebuilds the freeze from its journal.
		la.node.Close()
		again, err := registry.Open(ctx, la.db, registry.Options{Code: "LA", Now: clk.now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(again.Close)
		if !frozen(again) {
			t.Fatal("the freeze was lost at restart")
		}
		refusedFrozen("after restart", amend(again, 3))
		// A revocation is taken; it stops no unit already first-transferred:
		// Japan uses them towards its NDC and the hub's ledger takes it.
		clk.set(a6start.Add(48 * time.Hour))
		if _, err := again.Do(ctx, admin, "revoke", registry.RevokeAuthorisation{ID: auth.ID, Reason: "project suspended"}); err != nil {
			t.Fatalf("revocation after the first transfer: %v", err)
		}
		jp.do(t, jpActor, registry.Retire{From: jpAcc, Units: registry.Units{Quantity: 100, UnitType: "JCM"}, Beneficiary: "Japan", Purpose: "ndc", ComplianceYear: 2026})
		// The hub's ledger reads Lao PDR's journal (the source is the
		// closed node's; its journal is the database the restarted node
		// writes).
		if err := a6.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		for _, f := range a6.Facts() {
			if f.Refused != "" {
				t.Fatalf("the hub's ledger refused fact %d: %s %s", f.Fact.Seq, f.Refused, f.Detail)
			}
		}
		var used int64
		var revoked string
		if err := a6.Ledger(ctx, func(l *article6.Ledger) error {
			revoked = l.Log().Revoked(auth.ID)
			for _, r := range l.State().Records() {
				if r.Type == article6.RecordUse && r.UsingParty == "JP" {
					used += r.Units.Count()
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if used != 100 || revoked == "" {
			t.Fatalf("Japan used %d t towards its NDC in the hub's ledger (revocation read: %q), want 100 after the revocation", used, revoked)
		}
		again.Close()
		for _, s := range []*a6site{la, jp} {
			if rep, err := registry.Verify(ctx, s.db); err != nil || !rep.OK() {
				t.Fatalf("verify: %v %v", err, rep.Violations)
			}
		}
	})
}
