package linkage

import (
	"fmt"
	"math"
	"testing"
)

// src marks a test parameter as an assumption, as a scenario file must.
func num(v float64) *Param { return &Param{Value: v, Assumption: true} }

// linearMarket is a one-region ETS market with MAC = slope·a and required
// abatement req out of BAU bau.
func linearMarket(id string, slope, req, bau float64) (MarketSpec, RegionSpec) {
	return MarketSpec{ID: id, Jurisdiction: "CN", Instrument: ETS},
		RegionSpec{ID: id + "-r", Market: id, BAU: *num(bau), Cap: num(bau - req),
			MAC: MACSpec{Kind: Linear, Coefficients: []float64{slope}, Assumption: true}}
}

// fullLink builds a scenario of linear markets, all linked in a chain
// (hence one component) with unit rates.
func chainScenario(slopes, reqs []float64) *Scenario {
	sc := &Scenario{Name: "test", Currency: "EUR", Year: 2026}
	for i := range slopes {
		m, r := linearMarket(fmt.Sprintf("M%d", i), slopes[i], reqs[i], 1000)
		sc.Markets = append(sc.Markets, m)
		sc.Regions = append(sc.Regions, r)
		if i > 0 {
			sc.Links = append(sc.Links, LinkSpec{Between: []string{fmt.Sprintf("M%d", i-1), fmt.Sprintf("M%d", i)}})
		}
	}
	return sc
}

func mustSolve(t *testing.T, sc *Scenario) *Result {
	t.Helper()
	res, err := Solve(sc)
	if err != nil {
		t.Fatalf("solve: %v", err)
	}
	return res
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*(1+math.Abs(b)) }

func market(res *Result, id string) MarketResult {
	for _, m := range res.Markets {
		if m.ID == id {
			return m
		}
	}
	panic("no market " + id)
}

func TestLinearClosedForm(t *testing.T) {
	tests := []struct {
		name   string
		slopes []float64
		reqs   []float64
	}{
		{"two regions", []float64{2, 0.5}, []float64{10, 40}},
		{"two regions, one in surplus of need", []float64{1, 4}, []float64{0, 30}},
		{"five regions", []float64{0.3, 1.7, 5, 0.01, 2}, []float64{12, 3, 50, 7, 0}},
		{"twelve regions", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, []float64{5, 1, 9, 0, 3, 3, 8, 2, 2, 7, 1, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := mustSolve(t, chainScenario(tc.slopes, tc.reqs))
			sumR, sumInv := 0.0, 0.0
			for i := range tc.slopes {
				sumR += tc.reqs[i]
				sumInv += 1 / tc.slopes[i]
			}
			want := sumR / sumInv // p* = ΣR / Σ(1/c)
			for i, m := range res.Markets {
				if !near(m.LinkedPrice, want, 1e-9) {
					t.Errorf("%s linked price %.12g, want ΣR/Σ(1/c) = %.12g", m.ID, m.LinkedPrice, want)
				}
				if wantA := tc.slopes[i] * tc.reqs[i]; !near(m.AutarkyPrice, wantA, 1e-12) {
					t.Errorf("%s autarky price %g, want c·R = %g", m.ID, m.AutarkyPrice, wantA)
				}
				if wantN := want/tc.slopes[i] - tc.reqs[i]; !near(m.NetExports, wantN, 1e-8) {
					t.Errorf("%s net exports %g, want p*/c − R = %g", m.ID, m.NetExports, wantN)
				}
			}
		})
	}
}

func TestImportLimitClosedForm(t *testing.T) {
	// A (steep, c=4, R=50) imports from B (flat, c=1, R=10). Unlimited, A
	// would import 50 − p*/4 with p* = 60/(1/4+1) = 48, i.e. 38 Mt. With
	// an import limit L = 10 on A: p_A = 4·(50 − 10) = 160, p_B = 1·(10 + 10) = 20.
	for _, limit := range []float64{10, 38, 60} {
		t.Run(fmt.Sprint("L=", limit), func(t *testing.T) {
			sc := chainScenario([]float64{4, 1}, []float64{50, 10})
			sc.Markets[0].ImportLimit = &Limit{Tonnes: num(limit)}
			res := mustSolve(t, sc)
			a, b := market(res, "M0"), market(res, "M1")
			imports := min(limit, 38)
			wantA, wantB := 4*(50-imports), 1*(10+imports)
			if !near(a.LinkedPrice, wantA, 1e-8) || !near(b.LinkedPrice, wantB, 1e-8) {
				t.Fatalf("prices A %g B %g, want %g %g", a.LinkedPrice, b.LinkedPrice, wantA, wantB)
			}
			if !near(a.NetExports, -imports, 1e-8) {
				t.Errorf("A net exports %g, want %g", a.NetExports, -imports)
			}
			if limit < 38 {
				if a.Binding != "import_limit" {
					t.Errorf("binding %q, want import_limit", a.Binding)
				}
				// Quota rent (p_A − p_B)·L stays with A's importers.
				if want := (wantA - wantB) * limit; !near(a.QuotaRent, want, 1e-8) {
					t.Errorf("quota rent %g, want %g", a.QuotaRent, want)
				}
			} else if a.Binding != "" || a.QuotaRent > 1e-6 {
				t.Errorf("slack limit binds: %q rent %g", a.Binding, a.QuotaRent)
			}
		})
	}
}

func TestExportLimitClosedForm(t *testing.T) {
	sc := chainScenario([]float64{4, 1}, []float64{50, 10})
	sc.Markets[1].ExportLimit = &Limit{Tonnes: num(5)}
	res := mustSolve(t, sc)
	a, b := market(res, "M0"), market(res, "M1")
	if !near(a.LinkedPrice, 4*45, 1e-9) || !near(b.LinkedPrice, 15, 1e-9) || b.Binding != "export_limit" {
		t.Fatalf("A %g B %g (%s), want 180, 15, export_limit", a.LinkedPrice, b.LinkedPrice, b.Binding)
	}
	if want := (180.0 - 15) * 5; !near(b.QuotaRent, want, 1e-9) {
		t.Errorf("exporter's quota rent %g, want %g", b.QuotaRent, want)
	}
}

func TestExchangeRateClosedForm(t *testing.T) {
	// One A unit counts as r units in B: p_A = r·p_B, and with π = p_B,
	// r(π·r/c_A − R_A) + (π/c_B − R_B) = 0 ⇒ π = (r·R_A + R_B)/(r²/c_A + 1/c_B).
	for _, r := range []float64{0.5, 1, 1.25, 3} {
		t.Run(fmt.Sprint("r=", r), func(t *testing.T) {
			cA, rA, cB, rB := 2.0, 30.0, 0.5, 10.0
			sc := chainScenario([]float64{cA, cB}, []float64{rA, rB})
			sc.Links[0].Rate = num(r)
			res := mustSolve(t, sc)
			a, b := market(res, "M0"), market(res, "M1")
			pi := (r*rA + rB) / (r*r/cA + 1/cB)
			if !near(b.LinkedPrice, pi, 1e-9) || !near(a.LinkedPrice, r*pi, 1e-9) {
				t.Fatalf("prices A %g B %g, want %g %g", a.LinkedPrice, b.LinkedPrice, r*pi, pi)
			}
			// Emissions change by (r − 1)·flow when A exports to B.
			flow := a.NetExports
			if !near(res.Totals.EmissionsChange, (r-1)*flow, 1e-8) {
				t.Errorf("emissions change %g, want (r−1)·flow = %g", res.Totals.EmissionsChange, (r-1)*flow)
			}
		})
	}
}

func TestExchangeRateWithImportLimit(t *testing.T) {
	// B (c=3, R=40) imports A units at rate r = 2 (one A unit covers 2 t in
	// B), limited to L = 10 t counted in B: A exports 5 units.
	sc := chainScenario([]float64{1, 3}, []float64{20, 40})
	sc.Links[0].Rate = num(2)
	sc.Markets[1].ImportLimit = &Limit{Tonnes: num(10)}
	res := mustSolve(t, sc)
	a, b := market(res, "M0"), market(res, "M1")
	if !near(b.NetExports, -10, 1e-9) || !near(a.NetExports, 5, 1e-9) {
		t.Fatalf("net exports A %g B %g, want 5, −10", a.NetExports, b.NetExports)
	}
	if !near(a.LinkedPrice, 25, 1e-9) || !near(b.LinkedPrice, 90, 1e-9) {
		t.Errorf("prices A %g B %g, want 25 (c·(R+5)), 90 (c·(R−10))", a.LinkedPrice, b.LinkedPrice)
	}
}

func TestPriceFloor(t *testing.T) {
	// Unconstrained p* = 48 (see the import-limit test). A floor of 60 in
	// B, without limits, lifts the common price to 60; B's authority
	// withdraws the surplus.
	sc := chainScenario([]float64{4, 1}, []float64{50, 10})
	sc.Markets[1].PriceFloor = num(60)
	res := mustSolve(t, sc)
	a, b := market(res, "M0"), market(res, "M1")
	if !near(a.LinkedPrice, 60, 1e-9) || !near(b.LinkedPrice, 60, 1e-9) {
		t.Fatalf("prices %g %g, want 60", a.LinkedPrice, b.LinkedPrice)
	}
	if !near(a.NetExports, 60.0/4-50, 1e-9) || !near(a.NetExports+b.NetExports, 0, 1e-9) {
		t.Errorf("net exports %g %g", a.NetExports, b.NetExports)
	}
	if want := (60.0 - 10) + a.NetExports; !near(b.Withdrawn, want, 1e-9) || b.Binding != "floor" {
		t.Errorf("withdrawn %g (%s), want %g at the floor", b.Withdrawn, b.Binding, want)
	}
	// A floor below the linked price changes nothing.
	sc.Markets[1].PriceFloor = num(20)
	res = mustSolve(t, sc)
	if p := market(res, "M0").LinkedPrice; !near(p, 48, 1e-9) {
		t.Errorf("slack floor moved the price to %g", p)
	}
}

func TestPriceCeilingWithLimit(t *testing.T) {
	// A has a ceiling of 100 and an import limit of 10: it imports 10 at
	// B's price 20 and holds its own price at the ceiling, issuing units.
	sc := chainScenario([]float64{4, 1}, []float64{50, 10})
	sc.Markets[0].ImportLimit = &Limit{Tonnes: num(10)}
	sc.Markets[0].PriceCeiling = num(100)
	res := mustSolve(t, sc)
	a, b := market(res, "M0"), market(res, "M1")
	if !near(a.LinkedPrice, 100, 1e-9) || !near(b.LinkedPrice, 20, 1e-9) {
		t.Fatalf("prices %g %g, want 100, 20", a.LinkedPrice, b.LinkedPrice)
	}
	if want := (25 - 50) + 10.0; !near(a.Withdrawn, want, 1e-9) {
		t.Errorf("A withdrawn %g, want %g (issued at the ceiling)", a.Withdrawn, want)
	}
}

func TestTaxMarketImportsUpToLimit(t *testing.T) {
	sc := chainScenario([]float64{1}, []float64{10})
	sc.Markets = append(sc.Markets, MarketSpec{ID: "T", Jurisdiction: "SG", Instrument: Tax, Tax: num(40),
		ImportLimit: &Limit{ShareOfCap: num(0.05)}})
	sc.Regions = append(sc.Regions, RegionSpec{ID: "T-r", Market: "T", BAU: *num(100),
		MAC: MACSpec{Kind: Linear, Coefficients: []float64{10}, Assumption: true}})
	sc.Links = append(sc.Links, LinkSpec{Between: []string{"M0", "T"}})
	res := mustSolve(t, sc)
	tm, m0 := market(res, "T"), market(res, "M0")
	taxed := 100 - 40.0/10
	if !near(tm.LinkedPrice, 40, 1e-12) || !near(tm.NetExports, -0.05*taxed, 1e-9) {
		t.Fatalf("tax market price %g net %g, want 40, %g", tm.LinkedPrice, tm.NetExports, -0.05*taxed)
	}
	if !near(m0.LinkedPrice, 10+0.05*taxed, 1e-9) {
		t.Errorf("partner price %g, want %g", m0.LinkedPrice, 10+0.05*taxed)
	}
	// The tax market gains the tax saved on imported tonnes less their price.
	if want := (40 - m0.LinkedPrice) * 0.05 * taxed; !near(tm.Gain, want, 1e-9) {
		t.Errorf("tax market gain %g, want %g", tm.Gain, want)
	}
}

func TestPartialLinks(t *testing.T) {
	// Four markets, links M0–M1 and M2–M3 only: two components, each with
	// its own closed-form price.
	sc := chainScenario([]float64{1, 2, 3, 4}, []float64{10, 20, 30, 40})
	sc.Links = []LinkSpec{{Between: []string{"M0", "M1"}}, {Between: []string{"M2", "M3"}}}
	res := mustSolve(t, sc)
	if len(res.Components) != 2 {
		t.Fatalf("components %v, want 2", res.Components)
	}
	p01 := 30 / (1 + 1/2.0)
	p23 := 70 / (1/3.0 + 1/4.0)
	for id, want := range map[string]float64{"M0": p01, "M1": p01, "M2": p23, "M3": p23} {
		if got := market(res, id).LinkedPrice; !near(got, want, 1e-9) {
			t.Errorf("%s price %g, want %g", id, got, want)
		}
	}
	for _, f := range res.Flows {
		if (f.From < "M2") != (f.To < "M2") {
			t.Errorf("flow across unlinked components: %+v", f)
		}
	}
}

func TestUnusedSurplusAtZeroPrice(t *testing.T) {
	sc := chainScenario([]float64{1, 1}, []float64{5, 0})
	sc.Regions[1].Cap = num(1100) // 100 Mt of hot air
	sc.Regions[1].AllowSurplus = true
	res := mustSolve(t, sc)
	if p := market(res, "M0").LinkedPrice; p != 0 {
		t.Errorf("price %g, want 0 with surplus", p)
	}
	if !near(res.Totals.Unused, 95, 1e-12) || !near(market(res, "M1").NetExports, 5, 1e-12) {
		t.Errorf("unused %g, exports %g; want 95, 5", res.Totals.Unused, market(res, "M1").NetExports)
	}
}

func TestDefaultScenarioSolves(t *testing.T) {
	sc, err := DefaultScenario()
	if err != nil {
		t.Fatal(err)
	}
	res := mustSolve(t, sc)
	if len(res.Regions) != 12 {
		t.Errorf("default scenario has %d regions, the benchmark assumes 12", len(res.Regions))
	}
	if res.Totals.ClearingError > 1e-9 {
		t.Errorf("clearing error %g", res.Totals.ClearingError)
	}
	if res.Totals.Gain <= 0 {
		t.Errorf("linking the corridor should save money, gain %g", res.Totals.Gain)
	}
	eu := market(res, "EU-ETS")
	if eu.LinkedPrice != eu.AutarkyPrice || eu.NetExports != 0 {
		t.Errorf("the unlinked EU moved: %+v", eu)
	}
	for _, m := range res.Markets {
		if m.Gain < -1e-9 {
			t.Errorf("%s loses %g from linking", m.ID, -m.Gain)
		}
	}
}
