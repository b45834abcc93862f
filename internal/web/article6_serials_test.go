package web

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"testing"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

var serialITMORE = regexp.MustCompile(`<tr data-registry="([A-Z]+)"><td class="registry">[A-Z]+</td><td>(\d+)–(\d+)</td><td class="itmo-first">([^<]+)</td><td class="itmo-last">([^<]+)</td>`)

// TestSerialLookupShowsITMOs: Indonesia authorises a project for China's
// NDC and issues under it; 40 t go to China through the hub (no Article 6
// statement from the sender: the hub attaches its record's). The serial
// page of the range shows China's import as ITMOs with their identifiers,
// which name the approach, Indonesia's registry, Indonesia as first
// transferring Party, the vintage, the issuance and the units.
func TestSerialLookupShowsITMOs(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		cs := newCorridorSite(t, tg, func(t testing.TB, cfg *hub.EmbeddedConfig) {
			aps, err := article6.DefaultApproaches()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Article6, err = hub.EmbeddedArticle6(ctx, cfg.HubDB, cfg.Members, aps); err != nil {
				t.Fatal(err)
			}
		})
		id := cs.nodes["ID"]
		admin := registry.Actor{Role: ledger.RoleAdmin}
		do := func(key string, req registry.Request) registry.Result {
			res, err := id.node.Do(ctx, admin, key, req)
			if err != nil {
				t.Fatalf("ID %s: %v", req.Kind(), err)
			}
			return res
		}
		do("a6-auth", registry.Authorise{Authorisation: registry.Authorisation{ID: "ID-A6-0001", Version: 1, Host: "ID", Approach: "CN-ID-PILOT", Purposes: []string{"NDC"},
			Quantity: 10_000, From: "2026-01-01", Until: "2030-12-31", VintageFrom: 2026, VintageTo: 2030, Activities: []string{"ID-SOLAR-01"}, AcquiringParties: []string{"CN"}}})
		iss := do("a6-issue", registry.IssueAuthorised{Issue: registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "ID-SOLAR-01", Methodology: "CCER-01-001-V01",
			HostCountry: "ID", Vintage: 2026, Quantity: 1000}, AccountID: id.acc}, Authorisation: "ID-A6-0001", AdaptationAccount: id.acc}).ID
		sent, err := cs.c.Send(ctx, "ID", hub.Send{Actor: id.holder, Key: "a6-send", From: id.acc, ToRegistry: "CN", ToAccount: cs.nodes["CN"].acc,
			Units: registry.Units{Quantity: 40, UnitType: "CCER", IssuanceID: iss}, Purpose: "ndc"})
		if err != nil {
			t.Fatal(err)
		}
		cs.deliver(t)
		b := sent.Blocks[0]
		p := cs.visitor(t).get(fmt.Sprintf("/serials?q=ID-CCER-ID-SOLAR-01-2026-%d-%d-%d", iss, b.Start, b.End))
		if p.status != http.StatusOK {
			t.Fatalf("serial page: %d", p.status)
		}
		m := serialITMORE.FindAllStringSubmatch(p.body, -1)
		want := []string{"CN", fmt.Sprint(b.Start), fmt.Sprint(b.End), fmt.Sprintf("CN-ID-PILOT.ID.ID.2026.%d.%d", iss, b.Start), fmt.Sprintf("CN-ID-PILOT.ID.ID.2026.%d.%d", iss, b.End)}
		if len(m) != 1 || fmt.Sprint(m[0][1:]) != fmt.Sprint(want) {
			t.Fatalf("ITMO rows %v, want one %v:\n%s", m, want, p.body)
		}
	})
}
