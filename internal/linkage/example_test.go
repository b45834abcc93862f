package linkage_test

import (
	"fmt"

	"github.com/corridor-carbon/corridor/internal/linkage"
)

// Two markets with linear MACs: A (MAC = 2·a, must abate 10 Mt) and B
// (MAC = 0.5·a, must abate 80 Mt). Linked, p* = ΣR / Σ(1/c) = 90 / 2.5 = 36.
func ExampleSolve() {
	assumed := func(v float64) *linkage.Param { return &linkage.Param{Value: v, Assumption: true} }
	sc := &linkage.Scenario{
		Name: "two-markets", Currency: "EUR", Year: 2026,
		Markets: []linkage.MarketSpec{
			{ID: "A", Jurisdiction: "CN", Instrument: linkage.ETS},
			{ID: "B", Jurisdiction: "VN", Instrument: linkage.ETS},
		},
		Regions: []linkage.RegionSpec{
			{ID: "a", Market: "A", BAU: *assumed(100), Cap: assumed(90), MAC: linkage.MACSpec{Kind: linkage.Linear, Coefficients: []float64{2}, Assumption: true}},
			{ID: "b", Market: "B", BAU: *assumed(100), Cap: assumed(20), MAC: linkage.MACSpec{Kind: linkage.Linear, Coefficients: []float64{0.5}, Assumption: true}},
		},
		Links: []linkage.LinkSpec{{Between: []string{"A", "B"}}},
	}
	res, err := linkage.Solve(sc)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range res.Markets {
		fmt.Printf("%s: autarky %.2f, linked %.2f, net exports %+.2f Mt, gain %.2f m\n", m.ID, m.AutarkyPrice, m.LinkedPrice, m.NetExports, m.Gain)
	}
	fmt.Printf("total gain %.2f m\n", res.Totals.Gain)
	// Output:
	// A: autarky 20.00, linked 36.00, net exports +8.00 Mt, gain 64.00 m
	// B: autarky 40.00, linked 36.00, net exports -8.00 Mt, gain 16.00 m
	// total gain 80.00 m
}

// A RICE-style curve MAC(μ) = 271·μ + 550·μ⁴ on 300 Mt of BAU emissions:
// at μ = 54.679/300 = 0.18226, 271·μ + 550·μ⁴ = 49.393 + 0.607 = 50.
func ExampleNewCurve() {
	c, err := linkage.NewCurve(linkage.PolynomialShare, []float64{271, 0, 0, 550}, nil, 300)
	if err != nil {
		fmt.Println(err)
		return
	}
	a := c.Abatement(50) // Mt abated at EUR 50/t
	fmt.Printf("at EUR 50/t: %.3f Mt abated, MAC there %.2f, total cost EUR %.1f m\n", a, c.Price(a), c.Cost(a))
	// Output:
	// at EUR 50/t: 54.679 Mt abated, MAC there 50.00, total cost EUR 1357.0 m
}
