package cbam_test

import (
	"fmt"

	"github.com/corridor-carbon/corridor/internal/cbam"
	"github.com/shopspring/decimal"
)

func ExampleRetainedFreeAllocationShare() {
	for _, y := range []int{2026, 2030, 2034} {
		f, _ := cbam.RetainedFreeAllocationShare(y)
		fmt.Println(y, f)
	}
	// Output:
	// 2026 0.975
	// 2030 0.515
	// 2034 0
}

func ExampleCalculator_Obligation() {
	data, err := cbam.Embedded()
	if err != nil {
		panic(err)
	}
	calc := cbam.NewCalculator(data, cbam.Params{})
	r, err := calc.Obligation(cbam.Line{Origin: "CN", CN: "72081000", Tonnes: decimal.NewFromInt(1000), Year: 2026, Quarter: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println("SEE", r.SEE, "tCO2e/t, route", r.Route)
	fmt.Println("embedded", r.EmbeddedEmissions, "- FAA", r.FreeAllocationAdjustment, "=", r.Certificates, "certificates")
	fmt.Println("at", r.Price, "EUR:", r.CostEUR, "EUR")
	// Output:
	// SEE 3.5055823 tCO2e/t, route C
	// embedded 3505.5823 - FAA 1335.75 = 2169.8323 certificates
	// at 75.36 EUR: 163518.56 EUR
}

func ExampleCalculator_WhatIf() {
	data, _ := cbam.Embedded()
	calc := cbam.NewCalculator(data, cbam.Params{})
	line := cbam.Line{Origin: "CN", CN: "72081000", Tonnes: decimal.NewFromInt(1000), Year: 2026, Price: decimal.NewFromInt(80)}
	// A linked corridor price of EUR 40 on every tonne, 50 % allocated free.
	w, _ := calc.WhatIf(line, cbam.CarbonPricePaid{Currency: "EUR", PricePerTonne: decimal.NewFromInt(40),
		CoveredShare: decimal.NewFromInt(1), RebatedShare: decimal.RequireFromString("0.5")})
	fmt.Println("saved", w.CertificatesSaved.StringFixed(3), "certificates,", w.EURSaved, "EUR")
	// Output:
	// saved 876.396 certificates, 70111.64 EUR
}
