package cbam

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func calculator(t testing.TB) *Calculator {
	t.Helper()
	data, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	return NewCalculator(data, Params{})
}

// The expected figures are worked by hand from the dataset rows named in
// each case and the formulas of cbam.md, not copied from the code's output.
func TestObligationDefaultValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                         string
		line                         Line
		see, ee, sefa, faa, certs    string
		cost                         string // "" when no price
		fallback                     bool
		defaultCN, defaultCountry, r string
	}{
		{
			// China 7208 line 2721: total 3.186893 × 1.10 = 3.5055823 (IR (EU) 2026/1740: total × (1 + mark-up), not the superseded column 3.505582), route C; BM_B 72081000 (C) 1.370.
			name: "China hot-rolled 2026 Q1", line: Line{Origin: "CN", CN: "72081000", Tonnes: d("1000"), Year: 2026, Quarter: 1},
			see: "3.5055823", ee: "3505.5823", sefa: "1.33575", faa: "1335.75", certs: "2169.8323",
			cost: "163518.56", defaultCN: "7208", defaultCountry: "CN", r: "C", // 2169.8323 × 75.36 = 163518.562128
		},
		{
			// 2030: total 3.186893 × 1.30 = 4.1429609; SEFA 0.515 × 1.37 = 0.70555.
			name: "China hot-rolled 2030", line: Line{Origin: "CN", CN: "72081000", Tonnes: d("1000"), Year: 2030, Price: d("80")},
			see: "4.1429609", ee: "4142.9609", sefa: "0.70555", faa: "705.55", certs: "3437.4109",
			cost: "274992.87", defaultCN: "7208", defaultCountry: "CN", r: "C", // 3437.4109 × 80 = 274992.872
		},
		{
			// 2034: no free allocation left.
			name: "China hot-rolled 2034", line: Line{Origin: "CN", CN: "72081000", Tonnes: d("1000"), Year: 2034},
			see: "4.1429609", ee: "4142.9609", sefa: "0", faa: "0", certs: "4142.9609",
			defaultCN: "7208", defaultCountry: "CN", r: "C",
		},
		{
			// Thailand 7208 route E: 2027 2.3034; BM_B (E) 0.072 × 0.95 = 0.0684.
			name: "Thailand scrap-EAF 2027", line: Line{Origin: "th", CN: "72083900", Tonnes: d("10"), Year: 2027},
			see: "2.3034", ee: "23.034", sefa: "0.0684", faa: "0.684", certs: "22.35",
			defaultCN: "7208", defaultCountry: "TH", r: "E",
		},
		{
			// Laos has a single row (hydrogen): steel falls back to other countries (7208 total 4.048689…).
			name: "Laos falls back to other countries", line: Line{Origin: "LA", CN: "72081000", Tonnes: d("1"), Year: 2028},
			see: "5.2632957", ee: "5.2632957", sefa: "1.233", faa: "1.233", certs: "4.0302957",
			fallback: true, defaultCN: "7208", defaultCountry: OtherCountries, r: "C",
		},
		{
			// Viet Nam 7601 route L: 2026 0.396; BM_B 76011010 (L) 0.091 × 0.975 = 0.088725.
			name: "Viet Nam secondary aluminium", line: Line{Origin: "Vietnam", CN: "76011010", Tonnes: d("100"), Year: 2026},
			see: "0.396", ee: "39.6", sefa: "0.088725", faa: "8.8725", certs: "30.7275",
			defaultCN: "7601", defaultCountry: "VN", r: "L",
		},
		{
			// China grey clinker, route A chosen among white/grey: 2026 1.529; BM_B (A) 0.666 × 0.975 = 0.64935.
			name: "China grey clinker", line: Line{Origin: "CN", CN: "25231000", Route: "A", Tonnes: d("2"), Year: 2026},
			see: "1.529", ee: "3.058", sefa: "0.64935", faa: "1.2987", certs: "1.7593",
			defaultCN: "25231000", defaultCountry: "CN", r: "A",
		},
		{
			// Fertiliser mark-up is 1 % every year: Viet Nam ammonia 3.6461 in 2031; BM_B 1.522 × 0.39 = 0.59358.
			name: "Viet Nam ammonia 2031", line: Line{Origin: "VN", CN: "28141000", Tonnes: d("1"), Year: 2031},
			see: "3.6461", ee: "3.6461", sefa: "0.59358", faa: "0.59358", certs: "3.05252",
			defaultCN: "28141000", defaultCountry: "VN",
		},
	}
	c := calculator(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := c.Obligation(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			check := func(name string, got decimal.Decimal, want string) {
				t.Helper()
				if !got.Equal(d(want)) {
					t.Errorf("%s = %s, want %s", name, got, want)
				}
			}
			check("SEE", r.SEE, tt.see)
			check("embedded emissions", r.EmbeddedEmissions, tt.ee)
			check("SEFA", r.SEFA, tt.sefa)
			check("FAA", r.FreeAllocationAdjustment, tt.faa)
			check("certificates", r.Certificates, tt.certs)
			if tt.cost != "" {
				if !r.HasPrice {
					t.Fatal("no price")
				}
				check("cost", r.CostEUR, tt.cost)
			} else if r.HasPrice {
				t.Errorf("unexpected price %s", r.Price)
			}
			if r.Fallback != tt.fallback || r.DefaultValueCN != tt.defaultCN || r.DefaultValueCountry != tt.defaultCountry || r.Route != tt.r {
				t.Errorf("fallback %v cn %s country %s route %s; want %v %s %s %s", r.Fallback, r.DefaultValueCN, r.DefaultValueCountry, r.Route, tt.fallback, tt.defaultCN, tt.defaultCountry, tt.r)
			}
			if r.Method != "default" || r.DatasetVersion == "" {
				t.Errorf("method %q dataset %q", r.Method, r.DatasetVersion)
			}
		})
	}
}

func TestObligationPrecursorRecursion(t *testing.T) {
	t.Parallel()
	c := calculator(t)
	// Hot-rolled coil from China with actual data, made from Chinese
	// semi-finished steel (actual data), made from Vietnamese pig iron
	// (default values) and EU scrap-based input (counted as zero).
	line := Line{Origin: "CN", CN: "72081000", Tonnes: d("500"), Year: 2026, Quarter: 2, Actual: &ActualData{
		Direct: d("0.08"), Indirect: d("0.05"), BenchmarkA: d("0.044"),
		Precursors: []Precursor{{CN: "72071111", Origin: "CN", TonnesPerTone: d("1.02"), Actual: &ActualData{
			Direct: d("0.35"), BenchmarkA: d("0.188"),
			Precursors: []Precursor{
				{CN: "72011011", Origin: "VN", TonnesPerTone: d("0.9")},
				{CN: "72042100", Origin: "DE", TonnesPerTone: d("0.2")},
			},
		}}},
	}}
	_, err := c.Obligation(line)
	var ie *InputError
	if !errors.As(err, &ie) || ie.Field != "actual.precursors[0].actual.precursors[1].cn" {
		t.Fatalf("scrap 7204 is outside CBAM: err = %v, want field actual.precursors[0].actual.precursors[1].cn", err)
	}
	// EU-made semi-finished input instead (a CBAM good, counted as zero).
	line.Actual.Precursors[0].Actual.Precursors[1] = Precursor{CN: "72061000", Origin: "DE", TonnesPerTone: d("0.2")}
	r, err := c.Obligation(line)
	if err != nil {
		t.Fatal(err)
	}
	f := d("0.975")
	// Pig iron VN 7201 (line for Vietnam): 2026 with mark-up 2.409; BM_B 72011011 1.210.
	piSEE, piSEFA := d("2.409"), f.Mul(d("1.21"))
	semiSEE := d("0.35").Add(d("0.9").Mul(piSEE))
	semiSEFA := f.Mul(d("0.188")).Add(d("0.9").Mul(piSEFA))
	// Steel is an Annex II good: indirect 0.05 not counted.
	hotSEE := d("0.08").Add(d("1.02").Mul(semiSEE))
	hotSEFA := f.Mul(d("0.044")).Add(d("1.02").Mul(semiSEFA))
	if !r.SEE.Equal(hotSEE) || !r.SEFA.Equal(hotSEFA) {
		t.Fatalf("SEE %s SEFA %s, want %s %s", r.SEE, r.SEFA, hotSEE, hotSEFA)
	}
	certs := hotSEE.Sub(hotSEFA).Mul(d("500"))
	if !r.Certificates.Equal(certs) {
		t.Errorf("certificates %s, want %s", r.Certificates, certs)
	}
	if !r.CostEUR.Equal(certs.Mul(d("75.28")).Round(2)) {
		t.Errorf("cost %s at Q2 75.28", r.CostEUR)
	}
	pi := r.Precursors[0].Precursors
	if pi[0].Method != "default" || !pi[0].SEE.Equal(piSEE) || pi[1].Method != "eu" || !pi[1].SEE.IsZero() || !pi[1].SEFA.IsZero() {
		t.Errorf("precursor tree %+v", pi)
	}
	if len(r.Notes) == 0 {
		t.Error("want a note that indirect emissions of steel are not counted")
	}
}

func TestObligationIndirectCountedForCement(t *testing.T) {
	t.Parallel()
	c := calculator(t)
	r, err := c.Obligation(Line{Origin: "CN", CN: "25232900", Tonnes: d("1"), Year: 2026, Actual: &ActualData{Direct: d("0.6"), Indirect: d("0.05"), BenchmarkA: d("0")}})
	if err != nil {
		t.Fatal(err)
	}
	if !r.SEE.Equal(d("0.65")) {
		t.Errorf("cement SEE %s, want direct + indirect 0.65", r.SEE)
	}
}

func TestObligationCarbonPricePaid(t *testing.T) {
	t.Parallel()
	c := calculator(t)
	line := Line{Origin: "CN", CN: "72081000", Tonnes: d("100"), Year: 2027, Price: d("80"),
		Actual: &ActualData{Direct: d("2"), BenchmarkA: d("1.37")}}
	// China ETS at CNY 90 on 100 % of emissions, 80 % of them allocated free, 0.13 EUR/CNY.
	line.CarbonPricePaid = &CarbonPricePaid{Currency: "CNY", PricePerTonne: d("90"), CoveredShare: d("1"), RebatedShare: d("0.8"), EURPerUnit: d("0.13")}
	r, err := c.Obligation(line)
	if err != nil {
		t.Fatal(err)
	}
	// EE 200; FAA 0.95 × 1.37 × 100 = 130.15; paid 200 × 0.2 × 90 × 0.13 = 468 EUR = 5.85 certificates.
	if !r.CarbonPricePaidEUR.Equal(d("468")) || !r.CarbonPricePaidCertificates.Equal(d("5.85")) || !r.Certificates.Equal(d("64")) {
		t.Errorf("paid %s EUR %s certs, certificates %s; want 468, 5.85, 64", r.CarbonPricePaidEUR, r.CarbonPricePaidCertificates, r.Certificates)
	}
	// With default values the deduction is refused (no Commission default carbon price).
	line.Actual = nil
	_, err = c.Obligation(line)
	var ie *InputError
	if !errors.As(err, &ie) || ie.Field != "carbon_price_paid" {
		t.Errorf("default values + carbon price: err = %v", err)
	}
}

func TestObligationBadInput(t *testing.T) {
	t.Parallel()
	c := calculator(t)
	ok := Line{Origin: "CN", CN: "72081000", Tonnes: d("1"), Year: 2026}
	tests := []struct {
		name  string
		edit  func(*Line)
		field string
		is    error
	}{
		{"unknown CN", func(l *Line) { l.CN = "01012100" }, "cn", ErrUnknownCN},
		{"short CN", func(l *Line) { l.CN = "7208" }, "cn", ErrUnknownCN},
		{"unknown country", func(l *Line) { l.Origin = "XX" }, "origin", ErrUnknownCountry},
		{"EU origin", func(l *Line) { l.Origin = "DE" }, "origin", ErrOriginInEU},
		{"Annex III origin", func(l *Line) { l.Origin = "NO" }, "origin", ErrOriginExempt},
		{"negative tonnage", func(l *Line) { l.Tonnes = d("-1") }, "tonnes", nil},
		{"year before 2026", func(l *Line) { l.Year = 2025 }, "year", ErrYearBeforeDefinitive},
		{"bad quarter", func(l *Line) { l.Quarter = 5 }, "quarter", nil},
		{"ambiguous clinker", func(l *Line) { l.CN = "25231000" }, "route", ErrAmbiguousGood},
		{"malformed dataset row", func(l *Line) { l.Origin = "AO"; l.CN = "25232900" }, "cn", ErrMalformedDefault},
		{"route missing for benchmark", func(l *Line) { l.Origin = "MK" }, "route", ErrRouteRequired},
		{"table route has no benchmark", func(l *Line) { l.CN = "72251990" }, "route", ErrRouteMismatch},
	}
	for _, tt := range tests {
		l := ok
		tt.edit(&l)
		_, err := c.Obligation(l)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != tt.field {
			t.Errorf("%s: err = %v, want field %s", tt.name, err, tt.field)
			continue
		}
		if tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.is)
		}
	}
}

func TestDeclarationDeMinimis(t *testing.T) {
	t.Parallel()
	c := calculator(t)
	run := func(lines ...Line) YearTotals {
		decl := NewDeclaration()
		for _, l := range lines {
			r, err := c.Obligation(l)
			if err != nil {
				t.Fatal(err)
			}
			decl.Add(r)
		}
		return decl.Years()[0]
	}
	steel := Line{Origin: "CN", CN: "72081000", Tonnes: d("30"), Year: 2026}
	alu := Line{Origin: "CN", CN: "76011010", Tonnes: d("20"), Year: 2026}
	h2 := Line{Origin: "ID", CN: "28041000", Tonnes: d("5"), Year: 2026}
	y := run(steel, alu, h2) // 50 t exactly: exempt, hydrogen still owed
	if !y.Exempt || !y.DeMinimisTonnes.Equal(d("50")) {
		t.Fatalf("50 t: exempt %v tonnes %s", y.Exempt, y.DeMinimisTonnes)
	}
	h2only := run(h2)
	if !y.Certificates.Equal(h2only.Certificates) {
		t.Errorf("exempt year owes %s, want hydrogen only %s", y.Certificates, h2only.Certificates)
	}
	alu.Tonnes = d("20.001")
	y = run(steel, alu, h2)
	if y.Exempt || !y.Certificates.GreaterThan(h2only.Certificates) {
		t.Errorf("50.001 t: exempt %v, certificates %s", y.Exempt, y.Certificates)
	}
	if !y.CertificatesToSurrender.Equal(y.Certificates.Ceil()) || y.CertificatesToSurrender.Exponent() < 0 && !y.CertificatesToSurrender.Equal(y.CertificatesToSurrender.Truncate(0)) {
		t.Errorf("surrender %s not the whole-certificate ceiling of %s", y.CertificatesToSurrender, y.Certificates)
	}
}

func TestProjectionPhaseOut(t *testing.T) {
	t.Parallel()
	c := calculator(t)
	p, err := c.Project(Line{Origin: "CN", CN: "72081000", Tonnes: d("1000"), Year: 2026, Quarter: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Years) != 9 || p.Years[0].Year != 2026 || p.Years[8].Year != 2034 {
		t.Fatalf("years %v", p.Years)
	}
	for i, y := range p.Years {
		if !y.Price.Equal(d("75.36")) {
			t.Errorf("%d: price %s, want Q1 2026 price held", y.Year, y.Price)
		}
		if i > 0 && y.Certificates.LessThan(p.Years[i-1].Certificates) {
			t.Errorf("%d: certificates fall from %s to %s while free allocation phases out", y.Year, p.Years[i-1].Certificates, y.Certificates)
		}
	}
	if !p.Years[8].FreeAllocationAdjustment.IsZero() || !p.Years[8].Certificates.Equal(p.Years[8].EmbeddedEmissions) {
		t.Errorf("2034: FAA %s", p.Years[8].FreeAllocationAdjustment)
	}
}

func TestWhatIfLinkedPrice(t *testing.T) {
	t.Parallel()
	c := calculator(t)
	l := Line{Origin: "CN", CN: "72081000", Tonnes: d("1000"), Year: 2026, Quarter: 1}
	// China ETS today: allocation equal to emissions → nothing saved.
	w, err := c.WhatIf(l, CarbonPricePaid{Currency: "CNY", PricePerTonne: d("90"), CoveredShare: d("1"), RebatedShare: d("1"), EURPerUnit: d("0.13")})
	if err != nil {
		t.Fatal(err)
	}
	if !w.CertificatesSaved.IsZero() || !w.EURSaved.IsZero() {
		t.Errorf("full free allocation saves %s certs", w.CertificatesSaved)
	}
	// A linked corridor price of EUR 40 on all emissions with 50 % free: EE 3505.5823 × 0.5 × 40 = 70111.646 EUR = 930.356… certs.
	w, err = c.WhatIf(l, CarbonPricePaid{Currency: "EUR", PricePerTonne: d("40"), CoveredShare: d("1"), RebatedShare: d("0.5")})
	if err != nil {
		t.Fatal(err)
	}
	if !w.DeductionEUR.Equal(d("70111.646")) {
		t.Errorf("deduction %s", w.DeductionEUR)
	}
	wantSaved := d("70111.646").Div(d("75.36"))
	if !w.CertificatesSaved.Equal(wantSaved) || !w.CertificatesAfter.Add(w.CertificatesSaved).Equal(w.Baseline.Certificates) {
		t.Errorf("saved %s, want %s", w.CertificatesSaved, wantSaved)
	}
	if len(w.Notes) == 0 {
		t.Error("default-value what-if must be flagged hypothetical")
	}
}

// TestDeclarationCostOfSurrender: the year's cost is what the whole
// certificates surrendered cost, not the exact certificates' value
// (newcomer review: 2169.8323 × 75.36 = 163518.56 beside 2170 surrendered).
func TestDeclarationCostOfSurrender(t *testing.T) {
	t.Parallel()
	c := calculator(t)
	decl := NewDeclaration()
	add := func(l Line) {
		r, err := c.Obligation(l)
		if err != nil {
			t.Fatal(err)
		}
		decl.Add(r)
	}
	add(Line{Origin: "CN", CN: "72081000", Tonnes: d("1000"), Year: 2026, Quarter: 1})
	y := decl.Years()[0]
	if !y.CertificatesToSurrender.Equal(d("2170")) || !y.CostEUR.Equal(d("163531.2")) || !y.CostExactEUR.Equal(d("163518.56")) {
		t.Fatalf("surrender %s cost %s exact %s, want 2170, 163531.20 (2170 × 75.36), 163518.56", y.CertificatesToSurrender, y.CostEUR, y.CostExactEUR)
	}
	// Two prices: the remainder under one certificate is priced at the
	// higher one, so the cost never falls short of what is surrendered.
	add(Line{Origin: "CN", CN: "72081000", Tonnes: d("10"), Year: 2026, Price: d("90")})
	y = decl.Years()[0]
	want := y.Certificates.Sub(d("21.698323")).Mul(d("75.36")).Add(d("21.698323").Mul(d("90"))).Add(y.CertificatesToSurrender.Sub(y.Certificates).Mul(d("90"))).Round(2)
	if !y.CostEUR.Equal(want) {
		t.Errorf("two prices: cost %s, want %s", y.CostEUR, want)
	}
}
