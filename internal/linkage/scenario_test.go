package linkage

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestDefaultScenarioEveryNumberHasProvenance(t *testing.T) {
	sc, err := DefaultScenario()
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "corridor-2026" || len(sc.Markets) < 7 || sc.CBAM == nil {
		t.Fatalf("unexpected default scenario: %s, %d markets", sc.Name, len(sc.Markets))
	}
	want := map[string]bool{"CN": false, "ID": false, "VN": false, "TH": false, "MY": false, "SG": false, "EU": false}
	for _, m := range sc.Markets {
		if _, ok := want[m.Jurisdiction]; ok {
			want[m.Jurisdiction] = true
		}
	}
	for j, ok := range want {
		if !ok {
			t.Errorf("default scenario lacks jurisdiction %s", j)
		}
	}
	sectors := map[string]bool{}
	for _, r := range sc.Regions {
		if r.Market == "CN-ETS" {
			sectors[r.Sector] = true
		}
	}
	for _, s := range []string{"power", "steel", "cement", "aluminium"} {
		if !sectors[s] {
			t.Errorf("China ETS lacks sector %s", s)
		}
	}
	// Dropping a source must be caught: validation is what guarantees provenance.
	sc.Regions[0].BAU.Source = ""
	sc.Regions[0].BAU.Assumption = false
	assertField(t, sc.Validate(), "regions[0].bau")
}

func assertField(t *testing.T, err error, field string) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v, want a ValidationError naming %s", err, field)
	}
	for _, p := range ve.Problems {
		if p.Field == field {
			return
		}
	}
	t.Fatalf("problems %v do not name %s", ve.Problems, field)
}

func TestBadScenariosNameTheField(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Scenario)
		field string
	}{
		{"non-monotone piecewise curve", func(s *Scenario) {
			s.Regions[10].MAC.Points = [][]float64{{5, 4}, {20, 3}}
		}, "regions[10].mac.points[1][1]"},
		{"negative polynomial coefficient", func(s *Scenario) {
			s.Regions[4].MAC.Coefficients[1] = -3
		}, "regions[4].mac.coefficients[1]"},
		{"negative BAU", func(s *Scenario) { s.Regions[3].BAU.Value = -400 }, "regions[3].bau"},
		{"cap above BAU", func(s *Scenario) { s.Regions[0].Cap.Value = 6000 }, "regions[0].cap"},
		{"cap range above BAU", func(s *Scenario) { h := 5200.0; s.Regions[0].Cap.High = &h }, "regions[0].cap"},
		{"unknown jurisdiction", func(s *Scenario) { s.Markets[2].Jurisdiction = "XX" }, "markets[2].jurisdiction"},
		{"unknown market of a region", func(s *Scenario) { s.Regions[5].Market = "Atlantis" }, "regions[5].market"},
		{"link to an unknown market", func(s *Scenario) { s.Links[1].Between[1] = "Atlantis" }, "links[1].between[1]"},
		{"missing source", func(s *Scenario) { s.Markets[0].ImportLimit.ShareOfCap.Source = "" }, "markets[0].import_limit.share_of_cap"},
		{"share above one", func(s *Scenario) { s.Markets[0].ImportLimit.ShareOfCap.Value = 1.5 }, "markets[0].import_limit.share_of_cap"},
		{"floor above ceiling", func(s *Scenario) {
			s.Markets[0].PriceFloor, s.Markets[0].PriceCeiling = num(30), num(20)
		}, "markets[0].price_floor"},
		{"inconsistent exchange rates around a cycle", func(s *Scenario) {
			s.Links[4].Rate = num(1.5) // SG–TH closes the cycle CN–TH–SG–VN–CN
		}, "links[5].rate"},
		{"cap on a tax market", func(s *Scenario) { s.Regions[8].Cap = num(10) }, "regions[8].cap"},
		{"missing cap on an ETS region", func(s *Scenario) { s.Regions[0].Cap = nil }, "regions[0].cap"},
		{"bad Monte Carlo range", func(s *Scenario) { lo := 3.0; s.Regions[0].MAC.Scale.Low = &lo }, "regions[0].mac.scale.low"},
		{"CBAM flow of an unknown market", func(s *Scenario) { s.CBAM.Flows[0].Market = "XX" }, "cbam.flows[0].market"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := DefaultScenario()
			if err != nil {
				t.Fatal(err)
			}
			tc.edit(sc)
			assertField(t, sc.Validate(), tc.field)
		})
	}
}

func TestParseRejectsUnknownFieldsAndRoundTripsJSON(t *testing.T) {
	bad := strings.Replace(string(DefaultScenarioYAML()), "currency: EUR", "currency: EUR\ncurency: USD", 1)
	if _, err := ParseScenario([]byte(bad)); err == nil || !strings.Contains(err.Error(), "curency") {
		t.Fatalf("unknown YAML field accepted: %v", err)
	}
	sc, err := DefaultScenario()
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseScenario(js)
	if err != nil {
		t.Fatalf("JSON of the default scenario does not parse: %v", err)
	}
	a, b := mustSolve(t, sc), mustSolve(t, back)
	if a.Totals.Gain != b.Totals.Gain {
		t.Errorf("JSON round trip changed the result: %g vs %g", a.Totals.Gain, b.Totals.Gain)
	}
	if _, err := ParseScenario([]byte(`{"name":"x","currency":"EUR","extra":1}`)); err == nil {
		t.Error("unknown JSON field accepted")
	}
}

func FuzzParseScenario(f *testing.F) {
	f.Add(DefaultScenarioYAML())
	f.Add([]byte(`{"name":"x","currency":"EUR","markets":[{"id":"A","jurisdiction":"CN","instrument":"ets"}],"regions":[{"id":"a","market":"A","bau":{"value":10,"assumption":true},"cap":{"value":9,"assumption":true},"mac":{"kind":"linear","coefficients":[1],"assumption":true}}]}`))
	f.Add([]byte("name: y\ncurrency: EUR\nmarkets: []\n"))
	f.Add([]byte("regions:\n  - mac: {kind: piecewise, points: [[1, 2], [0.5]]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := ParseScenario(data)
		if err != nil {
			return
		}
		// Whatever parses and validates must solve without panicking, and
		// a solved result must clear.
		res, err := Solve(sc)
		if err != nil {
			if !errors.Is(err, ErrNoEquilibrium) {
				var ve *ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("unexpected error kind: %v", err)
				}
			}
			return
		}
		if res.Totals.ClearingError > 1e-6*(1+res.Totals.AutarkyEmissions) {
			t.Fatalf("clearing error %g", res.Totals.ClearingError)
		}
	})
}

// TestDefaultScenarioFlagsDerivedNumbers: a number calibrated to assumed
// requirements or converted at an assumed exchange rate is itself an
// assumption, even when the price it starts from has a source.
func TestDefaultScenarioFlagsDerivedNumbers(t *testing.T) {
	sc, err := DefaultScenario()
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range sc.Regions {
		if strings.Contains(r.MAC.Source, "calibrated") && !r.MAC.Assumption {
			t.Errorf("regions[%d].mac (%s) is calibrated to assumed numbers but not flagged: %s", i, r.ID, r.MAC.Source)
		}
	}
	for i, m := range sc.Markets {
		// A tax quoted in S$ is given in SGD, so that the model converts it
		// at exchange_rates (whose rate carries its own provenance), not in
		// a note.
		if m.Tax != nil && sc.Currency != "SGD" && strings.Contains(m.Tax.Source, "S$") && m.Tax.Currency != "SGD" && !m.Tax.Assumption {
			t.Errorf("markets[%d].tax (%s) converts S$ outside the model and is not flagged", i, m.ID)
		}
	}
	if sc.ExchangeRates == nil || !strings.Contains(sc.ExchangeRates.Series, "ECB") {
		t.Fatalf("the default scenario's exchange rates name no ECB series: %+v", sc.ExchangeRates)
	}
	for code, r := range sc.ExchangeRates.Rates {
		if !r.Assumption && !strings.Contains(r.Source, "EXR.A."+code+".EUR") {
			t.Errorf("rate %s has neither the ECB series key nor an assumption flag: %+v", code, r)
		}
	}
}

// taxAndCredits is a tax market A (tax t in currency cur, MAC 10·a, BAU
// 100, imports ≤ 5 units) linked to an ETS market B (MAC a, required 10);
// one B unit counts as rate A units.
func taxAndCredits(t float64, cur string, rate float64) *Scenario {
	tax := num(t)
	tax.Currency = cur
	return &Scenario{Name: "fx", Currency: "EUR", Year: 2026,
		Markets: []MarketSpec{
			{ID: "A", Jurisdiction: "SG", Instrument: Tax, Tax: tax, ImportLimit: &Limit{Tonnes: num(5)}},
			{ID: "B", Jurisdiction: "TH", Instrument: ETS},
		},
		Regions: []RegionSpec{
			{ID: "A-r", Market: "A", BAU: *num(100), MAC: MACSpec{Kind: Linear, Coefficients: []float64{10}, Assumption: true}},
			{ID: "B-r", Market: "B", BAU: *num(1000), Cap: num(990), MAC: MACSpec{Kind: Linear, Coefficients: []float64{1}, Assumption: true}},
		},
		Links: []LinkSpec{{Between: []string{"B", "A"}, Rate: num(rate)}},
	}
}

// TestPricesInAnotherCurrency: a tax given in SGD is converted at the
// exchange_rates block, so that replacing one rate moves every SGD price.
func TestPricesInAnotherCurrency(t *testing.T) {
	sc := taxAndCredits(45, "SGD", 1)
	sc.ExchangeRates = &ExchangeRates{Series: "ECB euro foreign exchange reference rates, annual average", Year: 2025, Rates: map[string]Param{"SGD": *num(1.5)}}
	if p := market(mustSolve(t, sc), "A").AutarkyPrice; !near(p, 30, 1e-12) {
		t.Errorf("S$45 at SGD 1.5 per EUR priced at %g, want 30", p)
	}
	sc.ExchangeRates.Rates["SGD"] = *num(1.8)
	if p := market(mustSolve(t, sc), "A").AutarkyPrice; !near(p, 25, 1e-12) {
		t.Errorf("S$45 at SGD 1.8 per EUR priced at %g, want 25", p)
	}
	for _, tt := range []struct {
		name  string
		edit  func(*Scenario)
		field string
	}{
		{"no rate for the currency", func(sc *Scenario) { sc.ExchangeRates.Rates = map[string]Param{"THB": *num(38)} }, "markets[0].tax.currency"},
		{"no exchange_rates block", func(sc *Scenario) { sc.ExchangeRates = nil }, "markets[0].tax.currency"},
		{"a currency on a quantity", func(sc *Scenario) { sc.Regions[0].BAU.Currency = "SGD" }, "regions[0].bau.currency"},
		{"a rate of zero", func(sc *Scenario) { sc.ExchangeRates.Rates["SGD"] = *num(0) }, "exchange_rates.rates.SGD"},
		{"no series named", func(sc *Scenario) { sc.ExchangeRates.Series = "" }, "exchange_rates.series"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc := taxAndCredits(45, "SGD", 1)
			sc.ExchangeRates = &ExchangeRates{Series: "ECB", Year: 2025, Rates: map[string]Param{"SGD": *num(1.5)}}
			tt.edit(sc)
			var ve *ValidationError
			if err := sc.Validate(); !errors.As(err, &ve) || !slices.ContainsFunc(ve.Problems, func(p FieldError) bool { return p.Field == tt.field }) {
				t.Errorf("got %v, want a problem at %s", err, tt.field)
			}
		})
	}
}

// TestOMGECancellation: under a Singapore implementation agreement 2% of
// the authorised credits are cancelled at first issuance, so one tonne
// abated by the host delivers 0.98 ICC (the link rate). Singapore's 5 ICCs
// need 5 / 0.98 = 5.10204 t of the host's abatement; the extra 0.10204 t is
// the overall mitigation, and global emissions fall by 5 / 0.98.
func TestOMGECancellation(t *testing.T) {
	res := mustSolve(t, taxAndCredits(30, "", 0.98))
	a, b := market(res, "A"), market(res, "B")
	if !near(a.NetExports, -5, 1e-9) || !near(b.NetExports, 5/0.98, 1e-9) {
		t.Errorf("A imports %g ICC, B exports %g units; want 5 and %g", -a.NetExports, b.NetExports, 5/0.98)
	}
	if !near(res.Totals.EmissionsChange, -5/0.98, 1e-9) {
		t.Errorf("emissions change %g, want %g", res.Totals.EmissionsChange, -5/0.98)
	}
	// B abates 10 + 5/0.98 at MAC = a, and A pays B's price per B unit.
	pB := 10 + 5/0.98
	if !near(b.LinkedPrice, pB, 1e-9) || !near(a.PermitPayments, pB*5/0.98, 1e-9) {
		t.Errorf("B price %g, A pays %g; want %g and %g", b.LinkedPrice, a.PermitPayments, pB, pB*5/0.98)
	}
}
