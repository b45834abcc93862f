package web

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestEscrowsPageOffersSettleOnlyToTheAuthority: the administrator's
// escrows page shows Complete and Void on an escrow the registry
// administrator settles, and not on one the hub or a venue settles (the
// registry would refuse the administrator), though it still lists it.
func TestEscrowsPageOffersSettleOnlyToTheAuthority(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		d := newDemoSite(t, 1, func(testing.TB) storetest.Target { return tg })
		n := d.nodes["CN"]
		ctx := context.Background()
		admin := registry.Actor{Role: ledger.RoleAdmin}
		hubOrg, err := n.Do(ctx, admin, "hub-org", registry.CreateOrganisation{Name: "Corridor Hub", Country: "SG"})
		if err != nil {
			t.Fatal(err)
		}
		acc := allAccounts(n)[1]
		var units registry.Units
		for _, b := range acc.Balances {
			if b.State == ledger.Held {
				units = registry.Units{Quantity: 5, UnitType: b.UnitType}
			}
		}
		owner := registry.Actor{OrgID: acc.OrgID, Role: ledger.RoleHolder}
		to := allAccounts(n)[0].ID
		reserve := func(key string, au *registry.Authority) int64 {
			res, err := n.Do(ctx, owner, key, registry.Reserve{From: acc.ID, ToAccount: to, Units: units, Authority: au})
			if err != nil {
				t.Fatal(err)
			}
			return res.Pending
		}
		mine := reserve("e-registry", nil)
		hubs := reserve("e-hub", &registry.Authority{Role: registry.AuthorityHub, OrgID: hubOrg.ID})
		venues := reserve("e-venue", &registry.Authority{Role: registry.AuthorityVenue, OrgID: hubOrg.ID})

		v := d.visitor(t)
		v.signIn("CN", d.tokens["CN"][ledger.RoleAdmin].Token)
		p := v.get("/registries/CN/escrows")
		if p.status != 200 {
			t.Fatalf("escrows page: %d", p.status)
		}
		for _, c := range []struct {
			pending int64
			buttons bool
		}{{mine, true}, {hubs, false}, {venues, false}} {
			row := regexp.MustCompile(fmt.Sprintf(`(?s)<tr data-pending="%d">.*?</tr>`, c.pending)).FindString(p.body)
			if row == "" {
				t.Fatalf("escrow %d not listed", c.pending)
			}
			has := regexp.MustCompile(`button[^>]*value="complete"`).MatchString(row) || regexp.MustCompile(`button[^>]*value="void"`).MatchString(row)
			if has != c.buttons {
				t.Fatalf("escrow %d: settle buttons %v, want %v\n%s", c.pending, has, c.buttons, row)
			}
		}
	})
}
