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
