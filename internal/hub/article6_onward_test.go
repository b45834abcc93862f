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

// actionRows are the rows of Party p's AEF Actions for 2026 of the given
// type, each as column name to cell.
func actionRows(t *testing.T, w *a6world, p, typ string) []map[string]string {
	t.Helper()
	aef, err := w.a6.AEF(context.Background(), article6.Submission{Party: p, Version: 1, Year: 2026, Date: "2027-04-10", NDCFirstYear: 2021, NDCLastYear: 2030})
	if err != nil {
		t.Fatal(err)
	}
	tab, _ := aef.Table("Actions")
	var out []map[string]string
	for _, row := range tab.Rows {
		m := map[string]string{}
		for i, h := range tab.Header {
			m[h] = row[i]
		}
		if m[article6.ColActionType] == typ {
			out = append(out, m)
		}
	}
	return out
}

// TestArticle6OnwardTransfer: ITMOs first-transferred from Indonesia to
// China under CN-ID-PILOT move on from China to Malaysia, a Party outside
// that approach (docs/article6.md, "Onward transfers"). Under an
// authorisation that names its acquiring Parties (China only), the hub
// refuses the onward transfer with article6_outside_scope_acquiring_party
// (status 5, the units stay in China). Under one that names none, it
// completes with no second first transfer and no adjustment, and both
// Parties report it in their AEF Actions: China a Transfer to MYS, Malaysia
// an Acquisition from CHN.
func TestArticle6OnwardTransfer(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		for _, restricted := range []bool{true, false} {
			name := map[bool]string{true: "acquirers named", false: "acquirers open"}[restricted]
			t.Run(name, func(t *testing.T) {
				ctx := context.Background()
				w := newA6World(t, tg.Fresh(t), defaultApproaches(t))
				auth := solarAuthorisation("ID-A6-0001", "2030-12-31")
				if !restricted {
					auth.AcquiringParties = nil
				}
				w.id.do(t, admin, registry.Authorise{Authorisation: auth})
				w.issueSolar(t, "ID-A6-0001", 1000)
				first := w.transfer(t, w.send(t, w.invActor, w.inv, "CN", w.cnAcc, registry.Units{Quantity: 100, UnitType: "CCER"}, "ndc"))
				if !slices.Equal(first.Statuses(), st(1, 2, 8, 4)) {
					t.Fatalf("first transfer: statuses %v, findings %v", first.Statuses(), a6codes(first))
				}
				w.clk.set(a6start.Add(24 * time.Hour))
				sent, err := w.c.Send(ctx, "CN", Send{Actor: w.cnActor, Key: "onward", From: w.cnAcc, ToRegistry: "MY", ToAccount: w.myAcc,
					Units: registry.Units{Quantity: 40, UnitType: "CCER"}, Purpose: "ndc"})
				if err != nil {
					t.Fatal(err)
				}
				if err := w.c.Run(ctx); err != nil {
					t.Fatal(err)
				}
				onward := w.transfer(t, sent.ID)
				if restricted {
					if onward.Status != protocol.StatusTerminated || !slices.Contains(a6codes(onward), string(article6.CodeScopeAcquirer)) {
						t.Fatalf("onward to MY under an authorisation for CN only: statuses %v, findings %v; want 5 with %s", onward.Statuses(), a6codes(onward), article6.CodeScopeAcquirer)
					}
					if cn, my := w.cn.held(t, w.cnAcc), w.my.held(t, w.myAcc); cn != 100 || my != 0 {
						t.Fatalf("China holds %d, Malaysia %d; want 100 and 0", cn, my)
					}
					return
				}
				if !slices.Equal(onward.Statuses(), st(1, 2, 8, 4)) {
					t.Fatalf("onward to MY: statuses %v, findings %v", onward.Statuses(), a6codes(onward))
				}
				if cn, my := w.cn.held(t, w.cnAcc), w.my.held(t, w.myAcc); cn != 60 || my != 40 {
					t.Fatalf("China holds %d, Malaysia %d; want 60 and 40", cn, my)
				}
				var firsts int
				adj := map[string]int64{}
				if err := w.a6.Ledger(ctx, func(l *article6.Ledger) error {
					for _, r := range l.State().Records() {
						if r.Type == article6.RecordFirstTransfer && r.AcquiringParty != "" {
							firsts++
						}
					}
					for _, a := range l.State().Adjustments() {
						adj[a.Party] += a.Quantity
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if firsts != 1 || adj["ID"] != 20+100 || adj["CN"] != 0 || adj["MY"] != 0 {
					t.Fatalf("%d international first transfers, adjustments %v; want 1 and ID +120 (20 OMGE + 100) only", firsts, adj)
				}
				out := actionRows(t, w, "CN", article6.TypeTransfer)
				if len(out) != 1 || out[0][article6.ColAcquiringParty] != "MYS" || out[0][article6.ColQuantity] != "40" || out[0][article6.ColFirstTransferringParty] != "IDN" {
					t.Fatalf("China's AEF Transfer rows: %v", out)
				}
				in := actionRows(t, w, "MY", article6.TypeAcquisition)
				if len(in) != 1 || in[0][article6.ColTransferringParty] != "CHN" || in[0][article6.ColQuantity] != "40" || in[0][article6.ColFirstID] != out[0][article6.ColFirstID] {
					t.Fatalf("Malaysia's AEF Acquisition rows: %v (China's Transfer %v)", in, out)
				}
				for _, f := range w.a6.Facts() {
					if f.Refused != "" {
						t.Fatalf("fact %d refused: %s %s", f.Fact.Seq, f.Refused, f.Detail)
					}
				}
			})
		}
	})
}
