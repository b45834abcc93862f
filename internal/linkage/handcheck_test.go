package linkage

import "testing"

// TestSolveByHand compares Solve with small cases worked out on paper. Every
// want value is derived in the case's comment from the textbook formulas:
// autarky p_i = c_i·R_i, linked p* = ΣR/Σ(1/c), a_i = p/c_i, cost =
// c·a²/2 + p·(net imports), gain = autarky cost − linked cost.
func TestSolveByHand(t *testing.T) {
	type mkt struct {
		price, net, cost, gain, rent float64
	}
	tests := []struct {
		name      string
		build     func() *Scenario
		want      map[string]mkt
		totalGain float64
		emissions float64 // linked minus autarky emissions
	}{
		{
			// A: c=2, R=30 → p_A = 60, cost 2·30²/2 = 900.
			// B: c=1, R=10 → p_B = 10, cost 1·10²/2 = 50.
			// p* = 40 / (1/2 + 1) = 26.6667; a_A = 13.3333, a_B = 26.6667;
			// A imports 16.6667 paying 26.6667·16.6667 = 444.444.
			// A linked: 2·13.3333²/2 + 444.444 = 177.778 + 444.444 = 622.222, gain 277.778.
			// B linked: 26.6667²/2 − 444.444 = 355.556 − 444.444 = −88.889, gain 138.889.
			// Total gain 416.667 = abatement cost 950 − 533.333.
			name:  "full link",
			build: func() *Scenario { return chainScenario([]float64{2, 1}, []float64{30, 10}) },
			want: map[string]mkt{
				"M0": {price: 80.0 / 3, net: -50.0 / 3, cost: 5600.0 / 9, gain: 2500.0 / 9},
				"M1": {price: 80.0 / 3, net: 50.0 / 3, cost: -800.0 / 9, gain: 1250.0 / 9},
			},
			totalGain: 1250.0 / 3,
		},
		{
			// As above with an import limit L = 5 on A: A abates R_A − L = 25
			// itself, so p_A = MAC_A(R_A − L) = 2·25 = 50 (not MAC_A(R_A + L) =
			// 70, which would have A abate more than in autarky); B abates
			// R_B + L = 15, p_B = 15 = world price. Quota rent (p_A − p_B)·L =
			// 35·5 = 175 stays with A's importers.
			// A: 2·25²/2 + 15·5 = 625 + 75 = 700, gain 200.
			// B: 15²/2 − 15·5 = 112.5 − 75 = 37.5, gain 12.5.
			name: "import limit",
			build: func() *Scenario {
				sc := chainScenario([]float64{2, 1}, []float64{30, 10})
				sc.Markets[0].ImportLimit = &Limit{Tonnes: num(5)}
				return sc
			},
			want: map[string]mkt{
				"M0": {price: 50, net: -5, cost: 700, gain: 200, rent: 175},
				"M1": {price: 15, net: 5, cost: 37.5, gain: 12.5},
			},
			totalGain: 212.5,
		},
		{
			// Exchange rate r = 2: one A unit counts as 2 t in B, so p_A = 2·p_B.
			// A: c=1, R=10; B: c=1, R=10; autarky both 10, cost 50.
			// Clearing in B tonnes: 2·(p_A − 10) + (p_B − 10) = 5·p_B − 30 = 0
			// ⇒ p_B = 6, p_A = 12. A abates 12 and exports 2 units (= 4 t in
			// B); B abates 6 and imports 4. Payment 12·2 = 6·4 = 24.
			// A: 12²/2 − 24 = 48, gain 2. B: 6²/2 + 24 = 42, gain 8.
			// Emissions: A −2, B +4: (r − 1)·flow = +2.
			name: "exchange rate",
			build: func() *Scenario {
				sc := chainScenario([]float64{1, 1}, []float64{10, 10})
				sc.Links[0].Rate = num(2)
				return sc
			},
			want: map[string]mkt{
				"M0": {price: 12, net: 2, cost: 48, gain: 2},
				"M1": {price: 6, net: -4, cost: 42, gain: 8},
			},
			totalGain: 10,
			emissions: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := mustSolve(t, tc.build())
			for id, w := range tc.want {
				m := market(res, id)
				if !near(m.LinkedPrice, w.price, 1e-9) || !near(m.NetExports, w.net, 1e-9) ||
					!near(m.LinkedCost, w.cost, 1e-9) || !near(m.Gain, w.gain, 1e-9) || !near(m.QuotaRent, w.rent, 1e-9) {
					t.Errorf("%s: price %g net %g cost %g gain %g rent %g; want %+v",
						id, m.LinkedPrice, m.NetExports, m.LinkedCost, m.Gain, m.QuotaRent, w)
				}
			}
			if !near(res.Totals.Gain, tc.totalGain, 1e-9) || !near(res.Totals.EmissionsChange, tc.emissions, 1e-9) {
				t.Errorf("total gain %g, emissions change %g; want %g, %g", res.Totals.Gain, res.Totals.EmissionsChange, tc.totalGain, tc.emissions)
			}
		})
	}
}

// TestFloorStepWithExchangeRate covers a component whose price settles on a
// floor step of a market whose units are not worth one reference tonne: the
// market at its floor must absorb the residual (it may import less, the
// authority withdrawing the rest), whatever v·(floor/v) rounds to.
func TestFloorStepWithExchangeRate(t *testing.T) {
	tests := []struct {
		name string
		// A: MAC = a, must abate rA of bauA, export limit eA (0 = none).
		rA, bauA, eA float64
		// B: MAC = a, must abate rB of bauB, floor f, import limit lB.
		rB, bauB, f, lB float64
		rate            float64 // one A unit counts as rate B units
	}{
		// π (A's price) = rate·f = 1.376953125·1.75 = 2.40966796875.
		// A: net = π − 3 = −0.59033203125 (imports), in B units
		// 0.59033203125·rate = 0.812859… which B sells out of its floor
		// surplus 1.75 − 0.5 = 1.25; B withdraws 1.25 − 0.812859… = 0.437140….
		// Before the fix v_B·(f/v_B) = 1.7500000000000002 > f and B never
		// absorbed the residual: a clearing error of 0.59 Mt.
		{name: "importer facing a floor", rA: 3, bauA: 10, rB: 0.5, bauB: 10, f: 1.75, lB: 1, rate: 1.376953125},
		// A exports its limit 0.029296875·7 = 0.205078125 at A's price
		// 3.205078125 (its world price is rate·f = 9.1018…, above its own:
		// export_limit binds). B imports 0.205078125·rate = 0.116201… B
		// units below its limit 4, holding its floor 16.0633… and
		// withdrawing (f − 5.4) − (−0.116201…). Before the fix the final
		// bracket ended an ulp short of f/v_B: B imported its full limit
		// 4 and 6.85 Mt of B's demand went uncleared.
		{name: "floor market importing", rA: 3, bauA: 10, eA: 0.029296875 * 7, rB: 5.400000134110449, bauB: 18.000000447034836, f: 16.063333531426778, lB: 4.000000000000001, rate: 0.566621082543632},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := chainScenario([]float64{1, 1}, []float64{tc.rA, tc.rB})
			sc.Regions[0].BAU, sc.Regions[0].Cap = *num(tc.bauA), num(tc.bauA-tc.rA)
			sc.Regions[1].BAU, sc.Regions[1].Cap = *num(tc.bauB), num(tc.bauB-tc.rB)
			if tc.eA > 0 {
				sc.Markets[0].ExportLimit = &Limit{Tonnes: num(tc.eA)}
			}
			sc.Markets[1].PriceFloor = num(tc.f)
			sc.Markets[1].ImportLimit = &Limit{Tonnes: num(tc.lB)}
			sc.Links[0].Rate = num(tc.rate)
			res := mustSolve(t, sc)
			a, b := market(res, "M0"), market(res, "M1")
			wantNetA := tc.rate*tc.f - tc.rA // A trades at π = rate·f
			if tc.eA > 0 {
				wantNetA = min(wantNetA, tc.eA)
			}
			wantNetB := -wantNetA * tc.rate
			if !near(a.NetExports, wantNetA, 1e-9) || !near(b.NetExports, wantNetB, 1e-9) {
				t.Errorf("net exports A %.12g B %.12g, want %.12g %.12g", a.NetExports, b.NetExports, wantNetA, wantNetB)
			}
			if b.LinkedPrice != tc.f || b.Binding != "floor" || !near(b.Withdrawn, (tc.f-tc.rB)-wantNetB, 1e-9) {
				t.Errorf("B price %g (%s) withdrawn %g, want the floor %g withdrawing %g", b.LinkedPrice, b.Binding, b.Withdrawn, tc.f, (tc.f-tc.rB)-wantNetB)
			}
			if res.Totals.ClearingError > 1e-12 {
				t.Errorf("clearing error %g", res.Totals.ClearingError)
			}
		})
	}
}

// TestTaxMarketWelfareByHand: a tax market that imports credits saves its
// firms tax, which its government loses; for the country only the payment
// abroad counts. Worked on paper:
//
//	A (tax 30, MAC 10·a, BAU 100, imports ≤ 5): abates 30/10 = 3 at cost
//	  10·3²/2 = 45 either way (its price stays the tax).
//	  Autarky: tax on 97 t = 2910; private 45 + 2910 = 2955; social 45.
//	  Linked: imports 5 at B's price 15 = 75 paid abroad; tax on 92 t = 2760;
//	  private 45 + 75 + 2760 = 2880 (gain 75); social 45 + 75 = 120 (gain −75).
//	B (ETS, MAC a, required 10): autarky price 10, cost 50. Exports 5, abates
//	  15 at price 15: cost 112.5 − 75 = 37.5, gain 12.5 (no revenue: private
//	  = social).
//	Totals: private gain 87.5; social gain −62.5 = abatement 95 − 157.5;
//	revenue 2910 → 2760.
func TestTaxMarketWelfareByHand(t *testing.T) {
	sc := &Scenario{Name: "tax", Currency: "EUR", Year: 2026,
		Markets: []MarketSpec{
			{ID: "A", Jurisdiction: "SG", Instrument: Tax, Tax: num(30), ImportLimit: &Limit{Tonnes: num(5)}},
			{ID: "B", Jurisdiction: "TH", Instrument: ETS},
		},
		Regions: []RegionSpec{
			{ID: "A-r", Market: "A", BAU: *num(100), MAC: MACSpec{Kind: Linear, Coefficients: []float64{10}, Assumption: true}},
			{ID: "B-r", Market: "B", BAU: *num(1000), Cap: num(990), MAC: MACSpec{Kind: Linear, Coefficients: []float64{1}, Assumption: true}},
		},
		Links: []LinkSpec{{Between: []string{"A", "B"}}},
	}
	res := mustSolve(t, sc)
	type want struct{ privA, privL, revA, revL, socA, socL float64 }
	for id, w := range map[string]want{
		"A": {2955, 2880, 2910, 2760, 45, 120},
		"B": {50, 37.5, 0, 0, 50, 37.5},
	} {
		m := market(res, id)
		got := want{m.AutarkyCost, m.LinkedCost, m.AutarkyRevenue, m.LinkedRevenue, m.AutarkySocialCost, m.LinkedSocialCost}
		for i, pair := range [][2]float64{{got.privA, w.privA}, {got.privL, w.privL}, {got.revA, w.revA}, {got.revL, w.revL}, {got.socA, w.socA}, {got.socL, w.socL}} {
			if !near(pair[0], pair[1], 1e-9) {
				t.Errorf("%s: figure %d (private A/L, revenue A/L, social A/L) = %g, want %g", id, i, pair[0], pair[1])
			}
		}
		if !near(m.SocialGain, w.socA-w.socL, 1e-9) || !near(m.Gain, w.privA-w.privL, 1e-9) {
			t.Errorf("%s: gains private %g social %g", id, m.Gain, m.SocialGain)
		}
	}
	tt := res.Totals
	if !near(tt.Gain, 87.5, 1e-9) || !near(tt.SocialGain, -62.5, 1e-9) || !near(tt.AutarkyRevenue, 2910, 1e-9) || !near(tt.LinkedRevenue, 2760, 1e-9) {
		t.Errorf("totals: private gain %g social gain %g revenue %g → %g; want 87.5, −62.5, 2910 → 2760", tt.Gain, tt.SocialGain, tt.AutarkyRevenue, tt.LinkedRevenue)
	}
}
