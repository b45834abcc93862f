package hub

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// downSource is a registry whose fact source does not answer.
type downSource struct{}

func (downSource) Article6Entries(context.Context, int64) ([]registry.Transaction, error) {
	return nil, errors.New("dial tcp 127.0.0.1:1: connection refused")
}

// TestStaleFactsRefuseWhatTheyConcern: with one registry's facts
// unreadable (TH), the hub refuses with article6_unavailable, naming TH,
// every transfer whose check could depend on facts not taken — purpose
// ndc, units the ledger knows (sent as voluntary), units of an
// authorised issuance the ledger has not taken yet (their origin's
// entries are read but not taken) — and passes voluntary units of a
// registry read in full; the status names TH; once TH is gone, the
// facts are taken and the status is fresh again. Both drivers.
func TestStaleFactsRefuseWhatTheyConcern(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		w := newA6World(t, tg, defaultApproaches(t))
		w.id.do(t, admin, registry.Authorise{Authorisation: solarAuthorisation("ID-A6-0001", "2030-12-31")})
		w.issueSolar(t, "ID-A6-0001", 10_000)
		if err := w.a6.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		// CN's plain CCER, never authorised, for a voluntary send CN → ID.
		w.cn.do(t, admin, registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "CCER-14-2024-001", Methodology: "CCER-14-001-V01",
			HostCountry: "CN", Vintage: 2024, Quantity: 100}, AccountID: w.cnAcc})
		w.a6.mu.Lock()
		w.a6.cfg.Sources["TH"] = downSource{}
		w.a6.mu.Unlock()
		// A second issuance under the authorisation, to accounts of its
		// own, recorded while TH is down: its entry is read, not taken.
		_, dev2 := w.id.holder(t, "second developer")
		inv2Actor, inv2 := w.id.holder(t, "second investor")
		w.id.do(t, admin, registry.IssueAuthorised{Issue: registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "ID-SOLAR-01", ProjectName: "Cirata floating solar (Chinese-funded)",
			Methodology: "CCER-01-001-V01", HostCountry: "ID", Vintage: 2026, Quantity: 1000}, AccountID: dev2},
			Authorisation: "ID-A6-0001", AdaptationAccount: w.adapt, Investor: "CN", InvestorFraction: "0.6", InvestorAccount: inv2})
		units := registry.Units{Quantity: 10, UnitType: "CCER"}
		refused := func(name string, tr Transfer) {
			t.Helper()
			var detail string
			for _, h := range tr.History {
				for _, f := range h.Findings {
					if f.Code == CodeArticle6Unavailable {
						detail = f.Detail
					}
				}
			}
			if tr.Status != protocol.StatusTerminated || !strings.Contains(detail, "TH") {
				t.Errorf("%s with TH down: %v %v (%q), want refused with %s naming TH", name, tr.Statuses(), a6codes(tr), detail, CodeArticle6Unavailable)
			}
		}
		refused("ndc of known ITMOs", w.transfer(t, w.send(t, w.invActor, w.inv, "CN", w.cnAcc, units, "ndc")))
		refused("voluntary of known ITMOs", w.transfer(t, w.send(t, w.invActor, w.inv, "CN", w.cnAcc, units, "voluntary")))
		refused("voluntary of an authorised issuance not taken", w.transfer(t, w.send(t, inv2Actor, inv2, "CN", w.cnAcc, units, "voluntary")))
		if st := w.a6.Status(); !slices.Equal(st.Unreachable, []string{"TH"}) || st.Since.IsZero() {
			t.Errorf("status with TH down: %+v", st)
		}
		// CN was read in full and its units were never authorised.
		sent, err := w.c.Send(ctx, "CN", Send{Actor: w.cnActor, Key: "cn-voluntary", From: w.cnAcc, ToRegistry: "ID", ToAccount: w.dev, Units: registry.Units{Quantity: 10, UnitType: "CCER"}, Purpose: "voluntary"})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.c.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if tr := w.transfer(t, sent.ID); tr.Status != protocol.StatusCompleted {
			t.Errorf("voluntary plain units of CN with TH down: %v %v", tr.Statuses(), a6codes(tr))
		}
		// TH leaves the corridor: the second issuance is taken.
		w.a6.mu.Lock()
		delete(w.a6.cfg.Sources, "TH")
		w.a6.mu.Unlock()
		if err := w.a6.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if st := w.a6.Status(); st.Stale() {
			t.Errorf("status with TH back: %+v", st)
		}
		known := false
		for _, f := range w.a6.Facts() {
			for _, a := range f.Fact.Actions {
				if a.Units.Registry == "ID" && a.Units.Count() == 1000 {
					known = true
				}
			}
		}
		if !known {
			t.Errorf("the second issuance was not taken once TH left (%d facts)", len(w.a6.Facts()))
		}
	})
}
