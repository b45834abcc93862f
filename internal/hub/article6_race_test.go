package hub

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestArticle6RevocationReadBeforeCompletion: the host revokes the
// authorisation after the hub accepted a first transfer (8), and the hub
// reads the revocation before the transfer completes: at a report read
// (revocation the next day, which the completion, dated at acceptance,
// would follow out of date order) or at another proposal's check
// (revocation the same day, which would refuse the completion as
// revoked). The hub holds the revocation back until the transfer is
// final, so the ledger takes the completion first: the transfer is 1 2 8 4,
// China's import carries the ITMO identifiers, the ledger has the first
// transfer and exactly one adjustment (Indonesia +100) and refused no
// fact; the other proposal, checked while the revocation was held, is
// refused as revoked, and so is the next transfer after the completion.
// The same after the hub and its ledger restart while the transfer is at 8.
func TestArticle6RevocationReadBeforeCompletion(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		for _, c := range []struct {
			name     string
			revokeIn time.Duration
			proposal bool // else a report read
			// restart: the hub and its ledger are reopened from the hub's
			// database while the transfer is at 8 (the ledger learns the
			// accepted transfer from the hub's replayed events).
			restart bool
		}{
			{"report read, revoked the next day", 24 * time.Hour, false, false},
			{"second proposal, revoked the same day", time.Hour, true, false},
			{"hub restarted at 8, report read", 24 * time.Hour, false, true},
		} {
			t.Run(c.name, func(t *testing.T) {
				w := newA6World(t, tg.Fresh(t), defaultApproaches(t))
				w.id.do(t, admin, registry.Authorise{Authorisation: solarAuthorisation("ID-A6-0001", "2030-12-31")})
				w.issueSolar(t, "ID-A6-0001", 1000) // the investor holds 558 t
				hundred := registry.Units{Quantity: 100, UnitType: "CCER"}
				first, err := w.c.Send(ctx, "ID", Send{Actor: w.invActor, Key: "first", From: w.inv, ToRegistry: "CN", ToAccount: w.cnAcc, Units: hundred, Purpose: "ndc"})
				if err != nil {
					t.Fatal(err)
				}
				w.runUntil(t, first.ID, protocol.StatusAccepted)
				if c.restart {
					a6, err := OpenArticle6(ctx, w.a6.cfg)
					if err != nil {
						t.Fatal(err)
					}
					w.a6, w.c.cfg.Article6 = a6, a6
					if err := w.c.OpenHub(ctx); err != nil {
						t.Fatal(err)
					}
				}
				w.clk.set(a6start.Add(c.revokeIn))
				w.id.do(t, admin, registry.RevokeAuthorisation{ID: "ID-A6-0001", Reason: "project suspended"})
				var second string
				if c.proposal {
					s, err := w.c.Send(ctx, "ID", Send{Actor: w.invActor, Key: "second", From: w.inv, ToRegistry: "CN", ToAccount: w.cnAcc, Units: hundred, Purpose: "ndc"})
					if err != nil {
						t.Fatal(err)
					}
					second = s.ID
					// The hub's 8 notice to Indonesia goes first (its completion
					// is queued behind the proposal), then the proposal.
					w.runUntil(t, second, protocol.StatusCheckedDiscrepancy)
					if tr, _ := w.c.Hub.Transfer(first.ID); tr.Status != protocol.StatusAccepted {
						t.Fatalf("the first transfer is %s at the second proposal's check, want it still accepted", tr.Status)
					}
				} else if _, err := w.a6.AEF(ctx, article6.Submission{Party: "ID", Version: 1, Year: 2026, Date: "2027-04-10", NDCFirstYear: 2021, NDCLastYear: 2030}); err != nil {
					t.Fatal(err)
				}
				w.clk.set(a6start.Add(48 * time.Hour))
				if err := w.c.Run(ctx); err != nil {
					t.Fatal(err)
				}
				tr := w.transfer(t, first.ID)
				if !slices.Equal(tr.Statuses(), st(1, 2, 8, 4)) {
					t.Fatalf("statuses %v, findings %v; want 1 2 8 4", tr.Statuses(), a6codes(tr))
				}
				if second != "" {
					if s := w.transfer(t, second); s.Status != protocol.StatusTerminated || !slices.Contains(a6codes(s), string(article6.CodeRevoked)) {
						t.Fatalf("the proposal checked while the revocation was held: status %d, findings %v; want 5 with %s", s.Status, a6codes(s), article6.CodeRevoked)
					}
				}
				if inv, cn := w.id.held(t, w.inv), w.cn.held(t, w.cnAcc); inv != 458 || cn != 100 {
					t.Fatalf("investor holds %d, China %d; want 458 and 100", inv, cn)
				}
				b := tr.Proposal.Blocks[0]
				wantITMOs(t, w, b, importedITMOs(t, w.cn, b, first.ID), 1)
				var firsts int
				var adj []article6.Adjustment
				if err := w.a6.Ledger(ctx, func(l *article6.Ledger) error {
					for _, r := range l.State().Records() {
						if r.Type == article6.RecordFirstTransfer && r.AcquiringParty == "CN" {
							firsts++
						}
					}
					// The OMGE's cancellation at issuance has its own
					// adjustment; the transfer's units exactly one.
					for _, a := range l.State().Adjustments() {
						if a.Units.Issuance == serialOf(b).Issuance && a.Units.Start <= b.End && b.Start <= a.Units.End {
							adj = append(adj, a)
						}
					}
					if l.Log().Revoked("ID-A6-0001") == "" {
						t.Error("the ledger has not taken the revocation")
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if firsts != 1 || len(adj) != 1 || adj[0].Party != "ID" || adj[0].Quantity != 100 {
					t.Fatalf("%d first transfers to China, adjustments %+v; want 1 and one of the transfer's units, ID +100", firsts, adj)
				}
				for _, f := range w.a6.Facts() {
					if f.Refused != "" {
						t.Fatalf("the ledger refused fact %d: %s %s", f.Fact.Seq, f.Refused, f.Detail)
					}
				}
				next := w.transfer(t, w.send(t, w.invActor, w.inv, "CN", w.cnAcc, hundred, "ndc"))
				if next.Status != protocol.StatusTerminated || !slices.Contains(a6codes(next), string(article6.CodeRevoked)) {
					t.Fatalf("a transfer after the completion: status %d, findings %v; want 5 with %s", next.Status, a6codes(next), article6.CodeRevoked)
				}
				if bad := CheckCorridor(w.id.node, w.cn.node, w.my.node); len(bad) > 0 {
					t.Fatal(bad)
				}
			})
		}
	})
}

// TestMustFollow: which entries read while a transfer is accepted must
// wait for its completion: one dated after the acceptance's day, or one
// revoking or amending an authorisation its units carry; not one of the
// same day (or earlier) about anything else, so those are taken at once.
func TestMustFollow(t *testing.T) {
	accepted := time.Date(2026, 6, 15, 9, 0, 0, 0, time.UTC)
	carried := map[string]bool{"ID-A6-0001": true}
	revoke := func(id string) *article6.AuthEvent { return &article6.AuthEvent{Kind: article6.EventRevoke, ID: id} }
	amend := func(id string) *article6.AuthEvent {
		return &article6.AuthEvent{Kind: article6.EventAmend, Authorisation: article6.Authorisation{ID: id}}
	}
	issue := []article6.Action{{Kind: article6.ActionIssue, Authorisation: "ID-A6-0002"}}
	for _, c := range []struct {
		name string
		f    Article6Fact
		want bool
	}{
		{"an issuance the next day", Article6Fact{At: accepted.Add(15 * time.Hour), Actions: issue}, true},
		{"an issuance the same day", Article6Fact{At: accepted.Add(14 * time.Hour), Actions: issue}, false},
		{"an issuance the day before (skew)", Article6Fact{At: accepted.Add(-10 * time.Hour), Actions: issue}, false},
		{"the same day, revoking the units' authorisation", Article6Fact{At: accepted.Add(time.Hour), Event: revoke("ID-A6-0001")}, true},
		{"the same day, amending the units' authorisation", Article6Fact{At: accepted.Add(time.Hour), Event: amend("ID-A6-0001")}, true},
		{"the same day, revoking another authorisation", Article6Fact{At: accepted.Add(time.Hour), Event: revoke("ID-A6-0002")}, false},
		{"the same day, amending another authorisation", Article6Fact{At: accepted.Add(time.Hour), Event: amend("ID-A6-0002")}, false},
	} {
		if got := mustFollow(c.f, accepted, carried); got != c.want {
			t.Errorf("%s: must follow %v, want %v", c.name, got, c.want)
		}
	}
}
