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
	}}}
	res := mustSolve(t, sc)
	// Autarky price of M0 is 1·10 = 10, linked (1+1)/… = 20.
	if res.Markets[0].AutarkyPrice != 10 || !near(res.Markets[0].LinkedPrice, 20, 1e-12) {
		t.Fatalf("prices %g %g", res.Markets[0].AutarkyPrice, res.Markets[0].LinkedPrice)
	}
	eff, err := ComputeCBAM(sc, res)
	if err != nil {
		t.Fatal(err)
	}
	d := decimal.RequireFromString
	f := eff.Flows[0]
	// 2027: mark-up 20%, CBAM factor 0.95, CSCF 1 (cbam package).
	checks := []struct {
		name      string
		got, want decimal.Decimal
	}{
		{"SEE = 3.186893 × 1.20", f.EmbeddedEmissions, d("3.8242716")},
		{"emissions = 2,000,000 t × SEE", f.Emissions, d("7648543.2")},
		{"FAA = 0.95 × 1 × 1.370 × 2,000,000", f.FreeAllocation, d("2603000")},
		{"deduction at 10 = 10 × 0.5 × E / 80", f.AutarkyDeduction, d("478033.95")},
		{"deduction at 20", f.LinkedDeduction, d("956067.9")},
		{"certificates autarky = E − FAA − CPD", f.AutarkyCertificates, d("4567509.25")},
		{"cost autarky = certificates × 80", f.AutarkyCost, d("365400740")},
		{"cost linked", f.LinkedCost, d("327158024")},
		{"kept in Asia", eff.KeptInAsia, d("38242716")},
	}
	for _, c := range checks {
		if !c.got.Equal(c.want) {
			t.Errorf("%s: got %s, want %s", c.name, c.got, c.want)
		}
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
