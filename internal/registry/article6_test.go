package registry

import (
	"context"
	"slices"
	"testing"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

func thaiAuthorisation() Authorisation {
	return Authorisation{ID: "TH-SG-0001", Version: 1, Host: "TH", Approach: "SG-TH-IA", Purposes: []string{"NDC"}, Quantity: 5000,
		From: "2026-01-01", Until: "2030-12-31", VintageFrom: 2026, VintageTo: 2030, Activities: []string{"TH-EBUS-01"}, AcquiringParties: []string{"SG"},
		Entities: []AuthorisedEntity{{ID: "SG-UEN-1", Name: "A taxable facility", Country: "SG"}}}
}

// TestArticle6Kinds: the host registry's administrator authorises, amends
// and revokes, each refused with its article6 code when it must be; an
// issuance under the authorisation takes the OMGE and share of proceeds of
// the Singapore-Thailand agreement (2 % cancelled, 5 % to the adaptation
// account) in Split's layout; after a restart the node has the same
// authorisations (rebuilt from the journal) and verify replays it all.
func TestArticle6Kinds(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		db := tg.Open(t)
		n, err := Open(ctx, db, Options{Code: "TH"})
		if err != nil {
			t.Fatal(err)
		}
		f := &fixture{n: n}
		f.org = f.must(t, system, CreateOrganisation{Name: "Bangkok E-Bus", Country: "TH"}).ID
		f.holder = Actor{OrgID: f.org, Role: ledger.RoleHolder}
		f.a1 = f.must(t, system, OpenAccount{OrgID: f.org, Type: ledger.Holding, Name: "Project"}).ID
		f.a2 = f.must(t, system, OpenAccount{OrgID: f.org, Type: ledger.Holding, Name: "Adaptation"}).ID
		refused := func(name string, actor Actor, req Request, code string) {
			t.Helper()
			_, err := f.do(t, actor, req)
			if e, ok := ledger.AsError(err); !ok || e.Code != code {
				t.Errorf("%s: got %v, want code %s", name, err, code)
			}
		}
		auth := thaiAuthorisation()
		refused("holder authorises", f.holder, Authorise{Authorisation: auth}, ledger.CodeForbidden)
		other := auth
		other.Host = "SG"
		refused("another Party's authorisation", system, Authorise{Authorisation: other}, string(article6.CodeAuthInvalid))
		other = auth
		other.Approach = "NO-SUCH"
		refused("unknown approach", system, Authorise{Authorisation: other}, string(article6.CodeApproachUnknown))
		other = auth
		other.VintageFrom = 2020
		refused("vintage 2020", system, Authorise{Authorisation: other}, string(article6.CodeVintageBefore2021))
		f.must(t, system, Authorise{Authorisation: auth})
		refused("authorise twice", system, Authorise{Authorisation: auth}, string(article6.CodeAuthExists))
		next := auth
		next.Version = 3
		refused("skipped version", system, AmendAuthorisation{Authorisation: next}, string(article6.CodeAuthVersion))
		next.Version, next.Quantity = 2, 4000
		f.must(t, system, AmendAuthorisation{Authorisation: next})

		issue := func(project string, vintage int, q int64) IssueAuthorised {
			return IssueAuthorised{Issue: Issue{IssuanceFacts: IssuanceFacts{Standard: "T-VER", UnitType: "PTVER", Project: project, HostCountry: "TH", Vintage: vintage, Quantity: q}, AccountID: f.a1},
				Authorisation: auth.ID, AdaptationAccount: f.a2}
		}
		refused("project outside the activities", system, issue("TH-OTHER", 2026, 1000), string(article6.CodeScopeActivity))
		// Before the authorisation's vintages (2026-2030): a future one
		// is vintage_out_of_range before the authorisation is read.
		refused("vintage outside the authorisation", system, issue("TH-EBUS-01", 2025, 1000), string(article6.CodeScopeVintage))
		refused("above the authorised quantity", system, issue("TH-EBUS-01", 2026, 4001), string(article6.CodeScopeQuantity))
		refused("no authorisation", system, IssueAuthorised{Issue: issue("TH-EBUS-01", 2026, 10).Issue, Authorisation: "NONE"}, string(article6.CodeNoAuthorisation))
		noSOP := issue("TH-EBUS-01", 2026, 1000)
		noSOP.AdaptationAccount = 0
		refused("share of proceeds without an adaptation account", system, noSOP, ledger.CodeAcquiringNotFound)
		res := f.must(t, system, issue("TH-EBUS-01", 2026, 1000))
		type part struct {
			start, end, account int64
			state               ledger.State
		}
		var got []part
		for _, b := range res.Blocks {
			got = append(got, part{b.Start, b.End, b.AccountID, b.State})
		}
		// 2 % of 1,000 = 20 cancelled, 5 % = 50 to adaptation, 930 stay.
		if want := []part{{1, 20, f.a1, ledger.Cancelled}, {21, 70, f.a2, ledger.Held}, {71, 1000, f.a1, ledger.Held}}; !slices.Equal(got, want) {
			t.Fatalf("issuance layout\n got %v\nwant %v", got, want)
		}
		a, err := n.IssuanceAction(issue("TH-EBUS-01", 2026, 1000), res)
		if err != nil || a.OMGE != 20 || a.ShareOfProceeds != 50 || a.Units.Count() != 1000 || a.Units.Registry != "TH" {
			t.Fatalf("issuance action %+v, %v", a, err)
		}
		next.Version = 3
		refused("amend after the OMGE cancellation (a first transfer)", system, AmendAuthorisation{Authorisation: next}, string(article6.CodeAuthFrozen))
		refused("revoke without a reason", system, RevokeAuthorisation{ID: auth.ID}, ledger.CodeInvalid)
		f.must(t, system, RevokeAuthorisation{ID: auth.ID, Reason: "programme suspended"})
		refused("revoke twice", system, RevokeAuthorisation{ID: auth.ID, Reason: "again"}, string(article6.CodeRevoked))
		refused("issue under a revoked authorisation", system, issue("TH-EBUS-01", 2026, 100), string(article6.CodeRevoked))

		n.Close()
		n, err = Open(ctx, db, Options{Code: "TH"})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		f.n = n
		views := n.Authorisations()
		if len(views) != 1 || views[0].Authorisation.Version != 2 || views[0].Issued != 1000 || !views[0].Frozen || views[0].Revoked == "" {
			t.Fatalf("after restart: %+v", views)
		}
		refused("revoke after restart", system, RevokeAuthorisation{ID: auth.ID, Reason: "again"}, string(article6.CodeRevoked))
		rep, err := Verify(ctx, db)
		if err != nil || !rep.OK() {
			t.Fatalf("verify: %v %v", err, rep.Violations)
		}
	})
}
