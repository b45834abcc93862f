package linkage

import (
	"fmt"
	"math"
	"testing"

	"pgregory.net/rapid"
)

// genScenario draws a scenario of one-region markets with random curve forms,
// requirements, a random spanning tree of links (so that any exchange rates
// are consistent), and optionally import/export limits.
func genScenario(t *rapid.T, withRates, withLimits bool) *Scenario {
	n := rapid.IntRange(2, 12).Draw(t, "markets")
	sc := &Scenario{Name: "prop", Currency: "EUR", Year: 2026}
	for i := range n {
		id := fmt.Sprintf("M%d", i)
		bau := rapid.Float64Range(10, 2000).Draw(t, "bau")
		share := rapid.Float64Range(0, 0.3).Draw(t, "share")
		if share < 1e-4 {
			share = 0 // a requirement of grams is below the solver's stated tolerance
		}
		req := bau * share
		m := MarketSpec{ID: id, Jurisdiction: "CN", Instrument: ETS}
		r := RegionSpec{ID: id + "-r", Market: id, BAU: *num(bau), Cap: num(bau - req)}
		switch rapid.IntRange(0, 3).Draw(t, "kind") {
		case 0:
			r.MAC = MACSpec{Kind: Linear, Coefficients: []float64{rapid.Float64Range(0.01, 10).Draw(t, "c")}}
		case 1:
			r.MAC = MACSpec{Kind: Quadratic, Coefficients: []float64{rapid.Float64Range(0, 5).Draw(t, "c1"), rapid.Float64Range(0.0001, 0.1).Draw(t, "c2")}}
		case 2:
			r.MAC = MACSpec{Kind: PolynomialShare, Coefficients: []float64{rapid.Float64Range(1, 500).Draw(t, "a"), 0, 0, rapid.Float64Range(0, 1000).Draw(t, "b")}}
		case 3:
			a1 := bau * rapid.Float64Range(0.05, 0.5).Draw(t, "a1")
			p1 := rapid.Float64Range(0.5, 50).Draw(t, "p1")
			r.MAC = MACSpec{Kind: Piecewise, Points: [][]float64{{a1, p1}, {bau, p1 + rapid.Float64Range(1, 500).Draw(t, "dp")}}}
		}
		r.MAC.Assumption = true
		if withLimits && rapid.Bool().Draw(t, "limited") {
			if rapid.Bool().Draw(t, "import") {
				m.ImportLimit = &Limit{Tonnes: num(rapid.Float64Range(0, 50).Draw(t, "L"))}
			} else {
				m.ExportLimit = &Limit{ShareOfCap: num(rapid.Float64Range(0, 0.05).Draw(t, "E"))}
			}
		}
		sc.Markets = append(sc.Markets, m)
		sc.Regions = append(sc.Regions, r)
		if i > 0 {
			l := LinkSpec{Between: []string{fmt.Sprintf("M%d", rapid.IntRange(0, i-1).Draw(t, "parent")), id}}
			if withRates {
				l.Rate = num(rapid.Float64Range(0.5, 2).Draw(t, "rate"))
			}
			sc.Links = append(sc.Links, l)
		}
	}
	return sc
}

func TestPropertiesOfTheLinkedEquilibrium(t *testing.T) {
	for _, variant := range []struct {
		name          string
		rates, limits bool
	}{{"full link", false, false}, {"exchange rates", true, false}, {"limits", false, true}, {"rates and limits", true, true}} {
		t.Run(variant.name, func(t *testing.T) {
			rapid.Check(t, func(t *rapid.T) {
				sc := genScenario(t, variant.rates, variant.limits)
				res, err := Solve(sc)
				if err != nil {
					t.Fatalf("solve: %v", err)
				}
				scale := 0.0
				for _, m := range res.Markets {
					scale += math.Abs(m.AutarkyCost) + math.Abs(m.Required)
				}
				tol := 1e-7 * (1 + scale)
				// Linked total cost ≤ autarky total cost (autarky is feasible).
				if res.Totals.LinkedCost > res.Totals.AutarkyCost+tol {
					t.Fatalf("linking raised total cost: %g > %g", res.Totals.LinkedCost, res.Totals.AutarkyCost)
				}
				valueSum, paymentSum, paymentScale := 0.0, 0.0, 0.0
				for _, m := range res.Markets {
					// Private cost = social cost + the authority's revenue,
					// in autarky and linked; payments abroad cancel overall.
					if !near(m.AutarkyCost, m.AutarkySocialCost+m.AutarkyRevenue, 1e-9) || !near(m.LinkedCost, m.LinkedSocialCost+m.LinkedRevenue, 1e-9) {
						t.Fatalf("%s: private %g/%g ≠ social %g/%g + revenue %g/%g", m.ID, m.AutarkyCost, m.LinkedCost, m.AutarkySocialCost, m.LinkedSocialCost, m.AutarkyRevenue, m.LinkedRevenue)
					}
					paymentSum += m.PermitPayments
					paymentScale += math.Abs(m.PermitPayments)
					// Every market weakly gains once permit payments are counted.
					if m.Gain < -tol {
						t.Fatalf("%s loses %g", m.ID, -m.Gain)
					}
					valueSum += m.UnitValue * m.NetExports
					// Unconstrained markets trade at the component price times
					// their unit value: p_a / p_b equals the exchange rate.
					if m.Binding == "" && !near(m.LinkedPrice, m.WorldPrice, 1e-9) {
						t.Fatalf("%s price %g differs from world price %g with no binding constraint", m.ID, m.LinkedPrice, m.WorldPrice)
					}
					if m.ImportLimit != nil && m.NetExports < -*m.ImportLimit-1e-9 {
						t.Fatalf("%s imports %g beyond its limit %g", m.ID, -m.NetExports, *m.ImportLimit)
					}
					if m.ExportLimit != nil && m.NetExports > *m.ExportLimit+1e-9 {
						t.Fatalf("%s exports %g beyond its limit %g", m.ID, m.NetExports, *m.ExportLimit)
					}
				}
				// Flows sum to zero (in reference tonnes).
				bau := 0.0
				for _, r := range res.Regions {
					bau += r.BAU
				}
				if math.Abs(valueSum) > 1e-11*bau*4 {
					t.Fatalf("net flows sum to %g", valueSum)
				}
				// Σ payments = p*·Σ v·N: zero up to the clearing residual
				// (bounded as valueSum is below) times the component price.
				maxPrice := 0.0
				for _, m := range res.Markets {
					if m.UnitValue > 0 {
						maxPrice = max(maxPrice, math.Abs(m.WorldPrice/m.UnitValue))
					}
				}
				if math.Abs(paymentSum) > 1e-9*(1+paymentScale)+maxPrice*1e-11*bau*4*float64(len(res.Markets)) {
					t.Fatalf("net payments abroad sum to %g, not 0", paymentSum)
				}
				if !near(res.Totals.SocialGain, res.Totals.AutarkySocialCost-res.Totals.LinkedSocialCost, 1e-12) {
					t.Fatalf("total social gain %g", res.Totals.SocialGain)
				}
				if !variant.rates && !variant.limits {
					p := res.Markets[0].LinkedPrice
					for _, m := range res.Markets {
						if !near(m.LinkedPrice, p, 1e-9) {
							t.Fatalf("fully linked prices differ: %s %g vs %g", m.ID, m.LinkedPrice, p)
						}
					}
				}
				if variant.rates && !variant.limits {
					for i, l := range sc.Links {
						a, b := market(res, l.Between[0]), market(res, l.Between[1])
						if !near(a.LinkedPrice, l.Rate.Value*b.LinkedPrice, 1e-8) {
							t.Fatalf("link %d: p_a %g ≠ r·p_b = %g·%g", i, a.LinkedPrice, l.Rate.Value, b.LinkedPrice)
						}
					}
				}
			})
		})
	}
}

func TestPropertyLinkedPriceBetweenAutarkyPrices(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		res, err := Solve(genScenario(t, false, false))
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, m := range res.Markets {
			lo, hi = min(lo, m.AutarkyPrice), max(hi, m.AutarkyPrice)
		}
		p := res.Markets[0].LinkedPrice
		if p < lo*(1-1e-9)-1e-9 || p > hi*(1+1e-9)+1e-9 {
			t.Fatalf("linked price %g outside the autarky range [%g, %g]", p, lo, hi)
		}
	})
}

// TestPropertyFloorsAndCeilingsClear adds hard floors (with import limits)
// and ceilings (with export limits) to random scenarios: every market's
// books balance (abatement = requirement + net exports + withdrawn) and
// the component clears, including when the price settles on a step of a
// market whose units are worth other than one reference tonne.
func TestPropertyFloorsAndCeilingsClear(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sc := genScenario(t, rapid.Bool().Draw(t, "rates"), rapid.Bool().Draw(t, "limits"))
		for i := range sc.Markets {
			m := &sc.Markets[i]
			switch rapid.IntRange(0, 2).Draw(t, "bound") {
			case 1:
				m.PriceFloor = num(rapid.Float64Range(0, 50).Draw(t, "floor"))
				if m.ImportLimit == nil {
					m.ImportLimit = &Limit{Tonnes: num(rapid.Float64Range(0, 50).Draw(t, "L"))}
				}
			case 2:
				m.PriceCeiling = num(rapid.Float64Range(1, 100).Draw(t, "ceiling"))
				if m.ExportLimit == nil {
					m.ExportLimit = &Limit{Tonnes: num(rapid.Float64Range(0, 50).Draw(t, "E"))}
				}
			}
		}
		res, err := Solve(sc)
		if err != nil {
			t.Fatalf("solve: %v", err)
		}
		bau := 0.0
		for _, r := range res.Regions {
			bau += r.BAU
		}
		if res.Totals.ClearingError > 1e-9*bau {
			t.Fatalf("clearing error %g", res.Totals.ClearingError)
		}
		for _, m := range res.Markets {
			if d := m.LinkedAbatement - m.Required - m.NetExports - m.Withdrawn; math.Abs(d) > 1e-9*bau {
				t.Fatalf("%s: abatement − requirement − net exports − withdrawn = %g", m.ID, d)
			}
			if m.ImportLimit != nil && m.NetExports < -*m.ImportLimit-1e-9 {
				t.Fatalf("%s imports %g beyond its limit %g", m.ID, -m.NetExports, *m.ImportLimit)
			}
			if m.ExportLimit != nil && m.NetExports > *m.ExportLimit+1e-9 {
				t.Fatalf("%s exports %g beyond its limit %g", m.ID, m.NetExports, *m.ExportLimit)
			}
		}
	})
}
