package linkage

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/corridor-carbon/corridor/internal/cbam"
)

// hotRolledChain is actual data for hot-rolled flat steel made by BF-BOF:
// the rolling step, the crude (semi-finished) steel it consumes and the pig
// iron that consumes. Numbers are the hand-check's own, not a real plant.
func hotRolledChain() *CBAMActual {
	return &CBAMActual{Direct: *num(0.10), BenchmarkA: *num(0.044), Precursors: []CBAMPrecursor{{
		CN: "72071114", TonnesPerTonne: *num(1.03),
		Actual: &CBAMActual{Direct: *num(0.20), BenchmarkA: *num(0.188), Precursors: []CBAMPrecursor{{
			CN: "72011011", TonnesPerTonne: *num(0.9),
			Actual: &CBAMActual{Direct: *num(1.95), BenchmarkA: *num(1.089)},
		}}},
	}}}
}

// TestComputeCBAMByHand: every figure is the cbam package's, checked here
// against the formulas of Reg. (EU) 2023/956 Annex IV and IR (EU) 2025/2620:
// with actual data the free-allocation adjustment applies column A of each
// production step over the precursors, not the column-B benchmark of the
// final good (which stands for the whole chain and is meant for default
// values only).
func TestComputeCBAMByHand(t *testing.T) {
	sc := chainScenario([]float64{1, 1}, []float64{10, 30})
	sc.CBAM = &CBAMSpec{Year: 2027, CertificatePrice: *num(80), Flows: []CBAMFlow{{
		Market: "M0", Sector: "steel", CNCode: "72083900", Goods: *num(2), PaidShare: *num(0.5),
	}, {
		Market: "M0", Sector: "steel", CNCode: "72083900", Goods: *num(2), Actual: hotRolledChain(), PaidShare: *num(0.5),
	}}}
	res := mustSolve(t, sc)
	// Autarky price of M0 is 1·10 = 10, linked (10+30)/(1+1) = 20.
	if res.Markets[0].AutarkyPrice != 10 || !near(res.Markets[0].LinkedPrice, 20, 1e-12) {
		t.Fatalf("prices %g %g", res.Markets[0].AutarkyPrice, res.Markets[0].LinkedPrice)
	}
	eff, err := ComputeCBAM(sc, res)
	if err != nil {
		t.Fatal(err)
	}
	d := decimal.RequireFromString
	def, act := eff.Flows[0], eff.Flows[1]
	// 2027: mark-up 20%, CBAM factor 0.95, CSCF 1. The chain, per tonne of
	// flat steel: SEE = 0.10 + 1.03 × (0.20 + 0.9 × 1.95) = 2.11365;
	// SEFA = 0.95 × (0.044 + 1.03 × (0.188 + 0.9 × 1.089)) = 0.95 × 1.247143
	// = 1.18478585 (column B of 7208 route C, 1.370, would give 1.3015).
	checks := []struct {
		name      string
		got, want decimal.Decimal
	}{
		// The default SEE itself (China 7208, route C, with the 2027
		// mark-up) is the cbam package's to decide (IR 2026/1740 changed
		// it); here it only has to be used consistently.
		{"default: emissions = 2,000,000 t × SEE", def.Emissions, def.EmbeddedEmissions.Mul(d("2000000"))},
		{"default: FAA = 0.95 × 1 × 1.370 (column B, route C) × 2,000,000", def.FreeAllocation, d("2603000")},
		// Art. 9: with default values no carbon price paid is deducted.
		{"default: no deduction at 10", def.AutarkyDeduction, d("0")},
		{"default: no deduction at 20", def.LinkedDeduction, d("0")},
		{"default: certificates = E − FAA", def.AutarkyCertificates, def.Emissions.Sub(d("2603000"))},
		{"default: cost = certificates × 80", def.AutarkyCost, def.AutarkyCertificates.Mul(d("80")).Round(2)},
		{"default: the same linked", def.LinkedCost, def.AutarkyCost},
		{"default: nothing kept", def.KeptInAsia, d("0")},
		{"actual: SEE over the chain", act.EmbeddedEmissions, d("2.11365")},
		{"actual: emissions = 2,000,000 × 2.11365", act.Emissions, d("4227300")},
		{"actual: FAA = column A over the precursors × 2,000,000", act.FreeAllocation, d("2369571.7")},
		{"actual: deduction at 10 = 10 × 0.5 × 4,227,300 / 80", act.AutarkyDeduction, d("264206.25")},
		{"actual: deduction at 20", act.LinkedDeduction, d("528412.5")},
		{"actual: certificates autarky = 4,227,300 − 2,369,571.7 − 264,206.25", act.AutarkyCertificates, d("1593522.05")},
		{"actual: certificates linked = 4,227,300 − 2,369,571.7 − 528,412.5", act.LinkedCertificates, d("1329315.8")},
		{"actual: cost autarky = 1,593,522.05 × 80", act.AutarkyCost, d("127481764")},
		{"actual: cost linked = 1,329,315.8 × 80", act.LinkedCost, d("106345264")},
		{"kept in Asia = 264,206.25 × 80", eff.KeptInAsia, d("21136500")},
	}
	for _, c := range checks {
		if !c.got.Equal(c.want) {
			t.Errorf("%s: got %s, want %s", c.name, c.got, c.want)
		}
	}
	if def.Note == "" || act.Method != "actual" || def.Method != "default" {
		t.Errorf("methods %q / %q, default note %q: the default-value flow must say why nothing is deducted", def.Method, act.Method, def.Note)
	}
}

// TestComputeCBAMAgreesWithCalculator: each flow of the shipped scenario is
// priced exactly as the cbam package prices the same import line, so the
// simulator and the CBAM calculator cannot disagree.
func TestComputeCBAMAgreesWithCalculator(t *testing.T) {
	sc, err := DefaultScenario()
	if err != nil {
		t.Fatal(err)
	}
	res := mustSolve(t, sc)
	eff, err := ComputeCBAM(sc, res)
	if err != nil {
		t.Fatal(err)
	}
	data, err := cbam.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	calc := cbam.NewCalculator(data, cbam.Params{})
	if len(eff.Flows) != len(sc.CBAM.Flows) {
		t.Fatalf("%d flow results for %d flows", len(eff.Flows), len(sc.CBAM.Flows))
	}
	for i, f := range sc.CBAM.Flows {
		got := eff.Flows[i]
		line := cbam.Line{Origin: market(res, f.Market).Jurisdiction, CN: f.CNCode, Route: f.Route, Year: sc.CBAM.Year,
			Tonnes: decimal.NewFromFloat(f.Goods.Value * 1e6), Price: decimal.NewFromFloat(sc.CBAM.CertificatePrice.Value)}
		if f.Actual != nil {
			line.Actual = f.Actual.cbamData(line.Origin)
			line.CarbonPricePaid = &cbam.CarbonPricePaid{Currency: "EUR", PricePerTonne: got.LinkedHomePrice, CoveredShare: decimal.NewFromFloat(f.PaidShare.Value)}
		}
		want, err := calc.Obligation(line)
		if err != nil {
			t.Fatalf("flow %d: %v", i, err)
		}
		if !got.LinkedCertificates.Equal(want.Certificates) || !got.FreeAllocation.Equal(want.FreeAllocationAdjustment) ||
			!got.Emissions.Equal(want.EmbeddedEmissions) || !got.LinkedCost.Equal(want.CostEUR) {
			t.Errorf("flow %d (%s %s): certificates %s FAA %s emissions %s cost %s; cbam says %s %s %s %s", i, f.Market, f.CNCode,
				got.LinkedCertificates, got.FreeAllocation, got.Emissions, got.LinkedCost,
				want.Certificates, want.FreeAllocationAdjustment, want.EmbeddedEmissions, want.CostEUR)
		}
		if f.Actual != nil && want.Benchmark.Column != "A" {
			t.Errorf("flow %d: actual data priced with column %s", i, want.Benchmark.Column)
		}
	}
}

func TestComputeCBAMNeverNegative(t *testing.T) {
	// A home price far above the certificate price would deduct more than
	// is owed: certificates stop at zero.
	sc := chainScenario([]float64{100, 100}, []float64{10, 10})
	sc.CBAM = &CBAMSpec{Year: 2026, CertificatePrice: *num(75), Flows: []CBAMFlow{{
		Market: "M1", Sector: "steel", CNCode: "72083900", Goods: *num(1), Actual: hotRolledChain(), PaidShare: *num(1),
	}}}
	eff, err := ComputeCBAM(sc, mustSolve(t, sc))
	if err != nil {
		t.Fatal(err)
	}
	if !eff.Flows[0].LinkedCertificates.IsZero() || !eff.LinkedCost.IsZero() {
		t.Errorf("certificates %s cost %s, want 0", eff.Flows[0].LinkedCertificates, eff.LinkedCost)
	}
}

// TestCBAMFlowErrorsNameTheField: what the cbam package refuses is reported
// when the scenario is checked, under the flow's own field path.
func TestCBAMFlowErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*CBAMFlow)
		field string
	}{
		{"CN code not a CBAM good", func(f *CBAMFlow) { f.CNCode = "25070020" }, "cbam.flows[0].cn"},
		{"CN code too short", func(f *CBAMFlow) { f.CNCode = "7208" }, "cbam.flows[0].cn"},
		{"origin in the EU", func(f *CBAMFlow) { f.Origin = "DE" }, "cbam.flows[0].origin"},
		{"precursor not a CBAM good", func(f *CBAMFlow) { f.Actual = hotRolledChain(); f.Actual.Precursors[0].CN = "99999999" }, "cbam.flows[0].actual.precursors[0].cn"},
		{"negative direct emissions", func(f *CBAMFlow) { f.Actual = hotRolledChain(); f.Actual.Direct = *num(-1) }, "cbam.flows[0].actual.direct"},
		{"old embedded_emissions field", func(f *CBAMFlow) { f.EmbeddedEmissions = num(2.1) }, "cbam.flows[0].embedded_emissions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := chainScenario([]float64{1, 1}, []float64{10, 30})
			sc.CBAM = &CBAMSpec{Year: 2026, CertificatePrice: *num(75), Flows: []CBAMFlow{{Market: "M0", Sector: "steel", CNCode: "72083900", Goods: *num(1), PaidShare: *num(0)}}}
			tt.edit(&sc.CBAM.Flows[0])
			err := sc.Validate()
			ve, ok := err.(*ValidationError)
			if !ok {
				t.Fatalf("got %v, want a *ValidationError", err)
			}
			found := false
			for _, p := range ve.Problems {
				found = found || p.Field == tt.field
			}
			if !found {
				t.Errorf("problems %v do not name %s", ve.Problems, tt.field)
			}
		})
	}
}
