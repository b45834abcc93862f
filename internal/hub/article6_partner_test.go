package hub

import (
	"context"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestCoordinatedPartnerShare: one Joint Committee decision of 1,000 t
// under Lao PDR's JCM authorisation, Lao PDR's share (600 t) issued in its
// registry and Japan's (400 t) in Japan's, under Lao PDR's authorisation
// (registry.PartnerShare). Japan's node checks its share against the
// decision and refuses a partner share it cannot hold; the hub's ledger,
// fed from both journals, completes the decision, records Japan's share
// as first-transferred at issuance (its first international transfer)
// with Lao PDR's corresponding adjustment, reports it in Lao PDR's AEF
// Actions. Japan's node refuses a second share of the decision
// (article6_decision_issued_twice); the hub's ledger refuses a share
// stating another host and approach than its authorisation's
// (article6_authorisation_mismatch).
func TestCoordinatedPartnerShare(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		open := func(tg storetest.Target, code string) (*a6site, int64) {
			db := tg.Open(t)
			// One instant for both registries: the hub cannot order Japan's
			// share after Lao PDR's authorisation by time.
			n, err := registry.Open(ctx, db, registry.Options{Code: code, Now: func() time.Time { return a6start }})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(n.Close)
			s := &a6site{node: n, db: db}
			_, acc := s.holder(t, "JCM holder "+code)
			return s, acc
		}
		la, laAcc := open(tg, "LA")
		jp, jpAcc := open(tg.Fresh(t), "JP")
		la.do(t, admin, registry.Authorise{Authorisation: registry.Authorisation{ID: "LA-JCM-0001", Version: 1, Host: "LA", Approach: "JP-LA-JCM", Purposes: []string{"NDC"},
			Quantity: 10_000, From: "2025-01-01", Until: "2030-12-31", VintageFrom: 2025, VintageTo: 2030, Activities: []string{"LA-BIOGAS-01"}, AcquiringParties: []string{"JP"}}})
		issue := func(acc, q int64) registry.Issue {
			return registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "JCM", UnitType: "JCM", Project: "LA-BIOGAS-01", HostCountry: "LA", Vintage: 2026, Quantity: q}, AccountID: acc}
		}
		la.do(t, admin, registry.IssueAuthorised{Issue: issue(laAcc, 600), Authorisation: "LA-JCM-0001", Decision: "JC-LA-0007", DecisionQuantity: 1000})
		share := func(q int64, p registry.PartnerShare, decision string) registry.IssueAuthorised {
			return registry.IssueAuthorised{Issue: issue(jpAcc, q), Authorisation: "LA-JCM-0001", Decision: decision, DecisionQuantity: 1000, Partner: &p}
		}
		jcm := registry.PartnerShare{Host: "LA", Approach: "JP-LA-JCM"}
		for _, c := range []struct {
			name        string
			req         registry.IssueAuthorised
			code, field string
		}{
			{"a share above the decision", share(1200, jcm, "JC-LA-0007"), string(article6.CodeDecisionExceeded), "issue.quantity"},
			{"no decision", share(400, jcm, ""), string(article6.CodeDecisionMismatch), "decision"},
			{"an approach without coordinated issuance", share(400, registry.PartnerShare{Host: "TH", Approach: "SG-TH-IA"}, "JC-LA-0007"), string(article6.CodeDecisionMismatch), "partner.approach"},
			{"a host outside the approach", share(400, registry.PartnerShare{Host: "VN", Approach: "JP-LA-JCM"}, "JC-LA-0007"), string(article6.CodeScopeAcquirer), "partner.host"},
			{"Japan as its own partner", share(400, registry.PartnerShare{Host: "JP", Approach: "JP-LA-JCM"}, "JC-LA-0007"), ledger.CodeInvalid, "partner"},
		} {
			_, err := jp.node.Do(ctx, admin, "bad-"+c.name, c.req)
			if e, ok := ledger.AsError(err); !ok || e.Code != c.code || e.Field != c.field {
				t.Errorf("%s: %v, want %s on %s", c.name, err, c.code, c.field)
			}
		}
		jp.do(t, admin, share(400, jcm, "JC-LA-0007"))
		// Lao PDR's journal unread at first (its node down): Japan's share
		// waits for the authorisation rather than being refused for good.
		laSrc := &gatedSource{src: NodeSource{Node: la.node}}
		a6, err := OpenArticle6(ctx, Article6Config{DB: tg.Fresh(t).Open(t), Ledger: article6.Config{Approaches: defaultApproaches(t), Registries: map[string]string{"LA": "LA", "JP": "JP"}},
			Sources: map[string]Article6Source{"LA": laSrc, "JP": NodeSource{Node: jp.node}}, Log: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if err := a6.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if fs := a6.Facts(); len(fs) != 0 {
			t.Fatalf("facts taken before the host's authorisation was read: %+v", fs)
		}
		laSrc.open = true
		var d article6.Decision
		adj := map[string]int64{}
		var firsts []article6.Record
		if err := a6.Ledger(ctx, func(l *article6.Ledger) error {
			d = l.State().Decisions()["JC-LA-0007"]
			for _, a := range l.State().Adjustments() {
				adj[a.Party] += a.Quantity
			}
			for _, r := range l.State().Records() {
				if r.Type == article6.RecordFirstTransfer {
					firsts = append(firsts, r)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if d.Issued["LA"] != 600 || d.Issued["JP"] != 400 || !d.Complete() {
			t.Fatalf("decision at the hub: %+v; want LA 600 + JP 400 = 1000, complete", d)
		}
		if len(firsts) != 1 || firsts[0].Units.Registry != "JP" || firsts[0].Units.Count() != 400 || firsts[0].AcquiringParty != "JP" || firsts[0].FirstTransferringParty != "LA" || adj["LA"] != 400 || len(adj) != 1 {
			t.Fatalf("first transfers %+v, adjustments %v; want Japan's 400 t first-transferred by LA, LA +400", firsts, adj)
		}
		for _, f := range a6.Facts() {
			if f.Refused != "" {
				t.Fatalf("fact %d refused: %s %s", f.Fact.Seq, f.Refused, f.Detail)
			}
		}
		aef, err := a6.AEF(ctx, article6.Submission{Party: "LA", Version: 1, Year: 2026, Date: "2027-04-10", NDCFirstYear: 2021, NDCLastYear: 2030})
		if err != nil {
			t.Fatal(err)
		}
		tab, _ := aef.Table("Actions")
		var reported bool
		for _, row := range tab.Rows {
			m := map[string]string{}
			for i, h := range tab.Header {
				m[h] = row[i]
			}
			if m[article6.ColActionType] == article6.TypeFirstTransfer && m[article6.ColAcquiringParty] == "JPN" && m[article6.ColQuantity] == "400" {
				reported = true
			}
		}
		if !reported {
			t.Fatalf("Lao PDR's AEF Actions do not report the first transfer of Japan's share: %v", tab.Rows)
		}
		// A second Japanese share of the decision: Japan's node refuses it
		// itself, as the hub's ledger would.
		if _, err := jp.node.Do(ctx, admin, "second-share", share(100, jcm, "JC-LA-0007")); err == nil {
			t.Fatal("Japan's node took a second share of decision JC-LA-0007")
		} else if e, ok := ledger.AsError(err); !ok || e.Code != string(article6.CodeDecisionTwice) {
			t.Fatalf("a second JP share of the decision: %v, want %s", err, article6.CodeDecisionTwice)
		}
		// A share stating another host and approach than the
		// authorisation's (Japan's node cannot see Lao PDR's authorisation,
		// so it takes it): the hub's ledger refuses it.
		other := share(100, registry.PartnerShare{Host: "TH", Approach: "JP-TH-JCM"}, "JC-TH-0001")
		other.Issue.HostCountry = "TH"
		jp.do(t, admin, other)
		if err := a6.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		fs := a6.Facts()
		if last := fs[len(fs)-1]; last.Refused != article6.CodeAuthMismatch {
			t.Fatalf("a share stating another approach than its authorisation's: %+v, want %s", last, article6.CodeAuthMismatch)
		}
		if views := jp.node.Authorisations(); len(views) != 0 {
			t.Fatalf("Japan's registry records the host's authorisation as its own: %+v", views)
		}
		// The share replays: verify rebuilds Japan's ledger from its journal.
		rep, err := registry.Verify(ctx, jp.db)
		if err != nil || !rep.OK() {
			t.Fatalf("JP verify: %v %v", err, rep.Violations)
		}
	})
}

// gatedSource reads nothing until open.
type gatedSource struct {
	src  Article6Source
	open bool
}

func (g *gatedSource) Article6Entries(ctx context.Context, after int64) ([]registry.Transaction, error) {
	if !g.open {
		return nil, nil
	}
	return g.src.Article6Entries(ctx, after)
}
