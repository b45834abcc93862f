package linkage

import (
	"testing"

	"github.com/shopspring/decimal"
)

func TestComputeCBAMByHand(t *testing.T) {
	sc := chainScenario([]float64{1, 1}, []float64{10, 30})
	sc.CBAM = &CBAMSpec{Year: 2027, CertificatePrice: *num(80), Flows: []CBAMFlow{{
		Market: "M0", Sector: "steel", CNCode: "72081000",
		Goods: *num(2), DefaultValue: num(3.186893), Benchmark: *num(1.370), PaidShare: *num(0.5),
	}, {
		Market: "M0", Sector: "steel", CNCode: "72081000",
		Goods: *num(2), EmbeddedEmissions: num(2.1), Benchmark: *num(1.370), PaidShare: *num(0.5),
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
	// 2027: mark-up 20%, CBAM factor 0.95, CSCF 1 (cbam package).
	checks := []struct {
		name      string
		got, want decimal.Decimal
	}{
		{"default: SEE = 3.186893 × 1.20", def.EmbeddedEmissions, d("3.8242716")},
		{"default: emissions = 2,000,000 t × SEE", def.Emissions, d("7648543.2")},
		{"default: FAA = 0.95 × 1 × 1.370 × 2,000,000", def.FreeAllocation, d("2603000")},
		// Art. 9: with default values no carbon price paid is deducted.
		{"default: no deduction at 10", def.AutarkyDeduction, d("0")},
		{"default: no deduction at 20", def.LinkedDeduction, d("0")},
		{"default: certificates = E − FAA", def.AutarkyCertificates, d("5045543.2")},
		{"default: cost = 5,045,543.2 × 80", def.AutarkyCost, d("403643456")},
		{"default: the same linked", def.LinkedCost, d("403643456")},
		{"default: nothing kept", def.KeptInAsia, d("0")},
		{"actual: emissions = 2,000,000 × 2.1", act.Emissions, d("4200000")},
		{"actual: deduction at 10 = 10 × 0.5 × 4,200,000 / 80", act.AutarkyDeduction, d("262500")},
		{"actual: deduction at 20", act.LinkedDeduction, d("525000")},
		{"actual: certificates autarky = 4,200,000 − 2,603,000 − 262,500", act.AutarkyCertificates, d("1334500")},
		{"actual: certificates linked = 4,200,000 − 2,603,000 − 525,000", act.LinkedCertificates, d("1072000")},
		{"actual: cost autarky = 1,334,500 × 80", act.AutarkyCost, d("106760000")},
		{"actual: cost linked = 1,072,000 × 80", act.LinkedCost, d("85760000")},
		{"kept in Asia = 262,500 × 80", eff.KeptInAsia, d("21000000")},
	}
	for _, c := range checks {
		if !c.got.Equal(c.want) {
			t.Errorf("%s: got %s, want %s", c.name, c.got, c.want)
		}
	}
	if def.Note == "" || act.Note != "" {
		t.Errorf("notes %q / %q: the default-value flow must say why nothing is deducted", def.Note, act.Note)
	}
}

func TestComputeCBAMNeverNegative(t *testing.T) {
	// A home price far above the certificate price would deduct more than
	// is owed: certificates stop at zero.
	sc := chainScenario([]float64{100, 100}, []float64{10, 10})
	sc.CBAM = &CBAMSpec{Year: 2026, CertificatePrice: *num(75), Flows: []CBAMFlow{{
		Market: "M1", Sector: "steel", CNCode: "7208", Goods: *num(1), EmbeddedEmissions: num(2), Benchmark: *num(1.37), PaidShare: *num(1),
	}}}
	eff, err := ComputeCBAM(sc, mustSolve(t, sc))
	if err != nil {
		t.Fatal(err)
	}
	if !eff.Flows[0].LinkedCertificates.IsZero() || !eff.LinkedCost.IsZero() {
		t.Errorf("certificates %s cost %s, want 0", eff.Flows[0].LinkedCertificates, eff.LinkedCost)
	}
}
