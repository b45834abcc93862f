package registry

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestIssueAuthorisedDecision: under an approach with coordinated issuance
// (JP-LA-JCM, the JCM) issue_authorised names the Joint Committee decision
// it is this registry's share of, with the decision's quantity; without
// one, with no quantity, or with a share above it the node refuses with
// the article6-decision-* codes, and under an approach without
// coordinated issuance a decision is refused. The journal entry keeps the
// decision and the Article 6 action the hub reads from it carries it.
func TestIssueAuthorisedDecision(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		db := tg.Open(t)
		n, err := Open(ctx, db, Options{Code: "LA"})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		f := &fixture{n: n}
		f.org = f.must(t, system, CreateOrganisation{Name: "Vientiane biogas", Country: "LA"}).ID
		f.a1 = f.must(t, system, OpenAccount{OrgID: f.org, Type: ledger.Holding, Name: "Project"}).ID
		f.must(t, system, Authorise{Authorisation: Authorisation{ID: "LA-JCM-0001", Version: 1, Host: "LA", Approach: "JP-LA-JCM", Purposes: []string{"NDC"}, Quantity: 10_000,
			From: "2025-01-01", Until: "2030-12-31", VintageFrom: 2025, VintageTo: 2030, Activities: []string{"LA-BIOGAS-01"}, AcquiringParties: []string{"JP"}}})
		issue := func(decision string, decisionQty, q int64) IssueAuthorised {
			return IssueAuthorised{Issue: Issue{IssuanceFacts: IssuanceFacts{Standard: "JCM", UnitType: "JCM", Project: "LA-BIOGAS-01", HostCountry: "LA", Vintage: 2026, Quantity: q}, AccountID: f.a1},
				Authorisation: "LA-JCM-0001", Decision: decision, DecisionQuantity: decisionQty}
		}
		for _, c := range []struct {
			name  string
			req   IssueAuthorised
			code  article6.Code
			field string
		}{
			{"no decision", issue("", 0, 600), article6.CodeDecisionMismatch, "decision"},
			{"no decision quantity", issue("JC-LA-0007", 0, 600), article6.CodeDecisionMismatch, "decision_quantity"},
			{"a share above the decision", issue("JC-LA-0007", 500, 600), article6.CodeDecisionExceeded, "issue.quantity"},
		} {
			_, err := f.do(t, system, c.req)
			if e, ok := ledger.AsError(err); !ok || e.Code != string(c.code) || e.Field != c.field {
				t.Errorf("%s: %v, want %s on %s", c.name, err, c.code, c.field)
			}
		}
		req := issue("JC-LA-0007", 1000, 600)
		res := f.must(t, system, req)
		ts, err := n.Transactions(ctx, Operator, 0, (IssueAuthorised{}).Kind(), 10)
		if err != nil || len(ts) != 1 {
			t.Fatalf("journal: %v %v", ts, err)
		}
		var journaled IssueAuthorised
		if err := json.Unmarshal(ts[0].Request, &journaled); err != nil || journaled.Decision != "JC-LA-0007" || journaled.DecisionQuantity != 1000 {
			t.Fatalf("journaled request %s (%v)", ts[0].Request, err)
		}
		a, err := n.IssuanceAction(req, res)
		if err != nil || a.Decision != "JC-LA-0007" || a.DecisionQuantity != 1000 || a.Units.Count() != 600 {
			t.Fatalf("issuance action %+v, %v", a, err)
		}

		th, err := Open(ctx, tg.Fresh(t).Open(t), Options{Code: "TH"})
		if err != nil {
			t.Fatal(err)
		}
		defer th.Close()
		g := &fixture{n: th}
		g.org = g.must(t, system, CreateOrganisation{Name: "Bangkok E-Bus", Country: "TH"}).ID
		g.a1 = g.must(t, system, OpenAccount{OrgID: g.org, Type: ledger.Holding, Name: "Project"}).ID
		g.a2 = g.must(t, system, OpenAccount{OrgID: g.org, Type: ledger.Holding, Name: "Adaptation"}).ID
		g.must(t, system, Authorise{Authorisation: thaiAuthorisation()})
		_, err = g.do(t, system, IssueAuthorised{Issue: Issue{IssuanceFacts: IssuanceFacts{Standard: "T-VER", UnitType: "PTVER", Project: "TH-EBUS-01", HostCountry: "TH", Vintage: 2026, Quantity: 1000}, AccountID: g.a1},
			Authorisation: thaiAuthorisation().ID, AdaptationAccount: g.a2, Decision: "JC-TH-0001", DecisionQuantity: 1000})
		if e, ok := ledger.AsError(err); !ok || e.Code != string(article6.CodeDecisionMismatch) {
			t.Errorf("a decision under %s: %v, want %s", thaiAuthorisation().Approach, err, article6.CodeDecisionMismatch)
		}
	})
}

// TestDecisionShareOnce: each side issues its share of a Joint Committee
// decision once, in its own registry. Japan's registry refuses a second
// partner share of one decision, and Lao PDR's a second share of its
// own, with article6_decision_issued_twice, also after a restart (the
// decisions are rebuilt from the journal); a share of another decision
// passes, and the journal replays (verify).
func TestDecisionShareOnce(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		open := func(db *store.DB, code string) (*Node, *fixture) {
			n, err := Open(ctx, db, Options{Code: code})
			if err != nil {
				t.Fatal(err)
			}
			return n, &fixture{n: n}
		}
		issue := func(acc, q int64) Issue {
			return Issue{IssuanceFacts: IssuanceFacts{Standard: "JCM", UnitType: "JCM", Project: "LA-BIOGAS-01", HostCountry: "LA", Vintage: 2026, Quantity: q}, AccountID: acc}
		}
		twice := func(name string, f *fixture, req IssueAuthorised) {
			t.Helper()
			_, err := f.do(t, system, req)
			if e, ok := ledger.AsError(err); !ok || e.Code != string(article6.CodeDecisionTwice) || e.Field != "decision" {
				t.Errorf("%s: %v, want %s on decision", name, err, article6.CodeDecisionTwice)
			}
		}
		laDB := tg.Open(t)
		la, f := open(laDB, "LA")
		f.org = f.must(t, system, CreateOrganisation{Name: "Vientiane biogas", Country: "LA"}).ID
		f.a1 = f.must(t, system, OpenAccount{OrgID: f.org, Type: ledger.Holding, Name: "Project"}).ID
		f.must(t, system, Authorise{Authorisation: Authorisation{ID: "LA-JCM-0001", Version: 1, Host: "LA", Approach: "JP-LA-JCM", Purposes: []string{"NDC"}, Quantity: 10_000,
			From: "2025-01-01", Until: "2030-12-31", VintageFrom: 2025, VintageTo: 2030, Activities: []string{"LA-BIOGAS-01"}, AcquiringParties: []string{"JP"}}})
		own := func(decision string) IssueAuthorised {
			return IssueAuthorised{Issue: issue(f.a1, 300), Authorisation: "LA-JCM-0001", Decision: decision, DecisionQuantity: 1000}
		}
		f.must(t, system, own("JC-LA-0007"))
		twice("a second Lao share", f, own("JC-LA-0007"))

		jpDB := tg.Fresh(t).Open(t)
		jp, g := open(jpDB, "JP")
		g.org = g.must(t, system, CreateOrganisation{Name: "Japan JCM holder", Country: "JP"}).ID
		g.a1 = g.must(t, system, OpenAccount{OrgID: g.org, Type: ledger.Holding, Name: "Holding"}).ID
		share := func(decision string) IssueAuthorised {
			return IssueAuthorised{Issue: issue(g.a1, 200), Authorisation: "LA-JCM-0001", Decision: decision, DecisionQuantity: 1000,
				Partner: &PartnerShare{Host: "LA", Approach: "JP-LA-JCM"}}
		}
		g.must(t, system, share("JC-LA-0007"))
		twice("a second Japanese share", g, share("JC-LA-0007"))
		g.must(t, system, share("JC-LA-0008"))

		la.Close()
		jp.Close()
		laAcc, laSeq, jpAcc, jpSeq := f.a1, f.seq, g.a1, g.seq
		la, f = open(laDB, "LA")
		defer la.Close()
		jp, g = open(jpDB, "JP")
		defer jp.Close()
		f.a1, f.seq, g.a1, g.seq = laAcc, laSeq, jpAcc, jpSeq
		twice("a second Lao share after a restart", f, own("JC-LA-0007"))
		twice("a second Japanese share after a restart", g, share("JC-LA-0008"))
		for _, db := range []*store.DB{laDB, jpDB} {
			rep, err := Verify(ctx, db)
			if err != nil || !rep.OK() {
				t.Fatalf("verify: %v %v", err, rep.Violations)
			}
		}
	})
}
