package hub

import (
	"context"
	"errors"
	"testing"

	"pgregory.net/rapid"

	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// triangle is a test-only set of agreements letting CCER move both ways
// between CN, TH and SG, so random transfers exercise onward and return
// moves; it is not a statement about any real agreement.
const triangle = `revision: 1
purposes:
  - {code: voluntary, name: "Voluntary use"}
registries:
  - {code: CN, party: CN, name: "China"}
  - {code: TH, party: TH, name: "Thailand"}
  - {code: SG, party: SG, name: "Singapore"}
sources:
  - {id: test, title: "Test corridor", issuer: "Corridor tests", kind: proposal}
agreements:
  - {id: test-cn-th, kind: pilot, title: "Test CN-TH", status: proposal, parties: [CN, TH], routes: [{from: CN, to: TH, unit_types: [CCER]}, {from: TH, to: CN, unit_types: [CCER]}], purposes: [voluntary], sources: [{id: test}]}
  - {id: test-th-sg, kind: pilot, title: "Test TH-SG", status: proposal, parties: [TH, SG], routes: [{from: TH, to: SG, unit_types: [CCER]}, {from: SG, to: TH, unit_types: [CCER]}], purposes: [voluntary], sources: [{id: test}]}
  - {id: test-sg-cn, kind: pilot, title: "Test SG-CN", status: proposal, parties: [SG, CN], routes: [{from: SG, to: CN, unit_types: [CCER]}, {from: CN, to: SG, unit_types: [CCER]}], purposes: [voluntary], sources: [{id: test}]}
`

// TestCorridorConservesUnits: random transfers among CN, TH and SG, some
// to unknown accounts, some left in flight while others start, with hub
// restarts in between (re-sending what it sent): once the corridor is
// quiet every transfer is final, no escrow is left, every node verifies
// and every unit is in exactly one registry.
func TestCorridorConservesUnits(t *testing.T) {
	set, err := agreements.Parse([]byte(triangle))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	finals := map[protocol.Status]int{}
	defer func() { t.Logf("final statuses over all runs: %v", finals) }()
	rapid.Check(t, func(rt *rapid.T) {
		w := newWorldWith(t, storetest.SQLite(t), set)
		sites := []*site{w.cn, w.th, w.sg}
		steps := rapid.IntRange(1, 10).Draw(rt, "steps")
		for i := range steps {
			from := rapid.SampledFrom(sites).Draw(rt, "from")
			to := rapid.SampledFrom(sites).Draw(rt, "to")
			acc := to.acc
			if rapid.IntRange(0, 9).Draw(rt, "unknown account") == 0 {
				acc = 999
			}
			from.keys++
			_, err := w.c.Endpoints[from.node.Code()].Propose(ctx, Send{Actor: from.holder, Key: "p" + string(rune('a'+i)), From: from.acc, ToRegistry: to.node.Code(),
				ToAccount: acc, Units: registry.Units{Quantity: rapid.Int64Range(1, 400).Draw(rt, "quantity"), UnitType: "CCER"}, Purpose: "voluntary"})
			if _, rule := ledger.AsError(err); err != nil && !rule {
				rt.Fatalf("propose: %v", err)
			}
			if rapid.Bool().Draw(rt, "deliver now") {
				if _, err := w.c.Transport.Run(ctx, rapid.IntRange(1, 8).Draw(rt, "deliveries")); err != nil && !errors.Is(err, ErrBusy) {
					rt.Fatal(err)
				}
			}
			if rapid.IntRange(0, 4).Draw(rt, "restart hub") == 0 {
				if err := w.c.OpenHub(ctx); err != nil {
					rt.Fatal(err)
				}
			}
		}
		if err := w.c.Run(ctx); err != nil {
			rt.Fatal(err)
		}
		if r := w.c.Transport.Refusals(); len(r) > 0 {
			rt.Fatalf("refused: %+v", r)
		}
		for _, x := range w.c.Hub.Transfers() {
			finals[x.Status]++
			if !x.Status.Final() {
				rt.Fatalf("transfer %s ended at %v", x.ID, x.Statuses())
			}
			if x.Status == protocol.StatusCompleted && x.Proposal.ToAccount == "999" {
				rt.Fatalf("transfer %s to an unknown account completed", x.ID)
			}
		}
		for _, s := range sites {
			if es, _ := s.node.Escrows(registry.Operator); len(es) != 0 {
				rt.Fatalf("%s has escrows left: %+v", s.node.Code(), es)
			}
			rep, err := registry.Verify(ctx, s.db)
			if err != nil || !rep.OK() {
				rt.Fatalf("%s verify: %v %v", s.node.Code(), err, rep.Violations)
			}
		}
		if bad := CheckCorridor(w.cn.node, w.th.node, w.sg.node); len(bad) > 0 {
			rt.Fatalf("corridor: %v", bad)
		}
	})
}
