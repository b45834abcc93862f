package mrv

import (
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func cementPlant() Installation {
	return Installation{
		Name: "Cement plant", Country: "VN", Year: 2026,
		Streams: []SourceStream{
			{ID: "coal", Process: "clinker", Kind: "combustion", Quantity: d("100000"), NCV: d("0.0255"), EF: d("94.6")},
			{ID: "raw meal", Process: "clinker", Kind: "process", Quantity: d("1200000"), EF: d("0.44")},
			{ID: "biomass", Process: "clinker", Kind: "combustion", Quantity: d("1000"), NCV: d("0.01"), EF: d("100"), BiomassFraction: d("1"), BiomassSustainable: true},
		},
		Electricity: []ElectricityUse{{Process: "clinker", MWh: d("80000"), Factor: d("0.58")}, {Process: "cement", MWh: d("50000"), Factor: d("0.58")}},
		Processes: []Process{
			{ID: "clinker", CN: "25231000", ActivityLevel: d("1000000")},
			{ID: "cement", CN: "25232900", ActivityLevel: d("1300000"), Precursors: []PrecursorUse{{FromProcess: "clinker", Tonnes: d("950000")}}},
		},
	}
}

func smelter() Installation {
	return Installation{
		Name: "Smelter", Country: "CN", Year: 2026,
		MassBalances: []MassBalanceStream{{ID: "anodes", Process: "electrolysis", Quantity: d("42000"), CarbonContent: d("0.98")}},
		PFCs:         []PFCSource{{ID: "potline", Process: "electrolysis", AluminiumTonnes: d("100000"), AnodeEffectMin: d("0.5"), SlopeCF4: d("0.143"), C2F6PerCF4Weight: d("0.121")}},
		Electricity:  []ElectricityUse{{Process: "electrolysis", MWh: d("1400000"), Factor: d("0.8")}},
		Processes:    []Process{{ID: "electrolysis", CN: "76011010", ActivityLevel: d("100000")}},
	}
}

func TestCementPlantAttributionAndPrecursors(t *testing.T) {
	t.Parallel()
	r, err := Compute(cementPlant())
	if err != nil {
		t.Fatal(err)
	}
	// Coal 100,000 t × 0.0255 TJ/t × 94.6 t/TJ = 241,230; raw meal 1.2 Mt × 0.44 = 528,000; biomass zero-rated.
	if !r.Combustion.Equal(d("241230")) || !r.ProcessCO2.Equal(d("528000")) || !r.BiomassCO2.Equal(d("1000")) {
		t.Errorf("combustion %s process %s biomass %s", r.Combustion, r.ProcessCO2, r.BiomassCO2)
	}
	if !r.Indirect.Equal(d("75400")) {
		t.Errorf("indirect %s, want 75,400", r.Indirect)
	}
	clinker, cement := r.Goods[0], r.Goods[1]
	// Clinker: 769,230 / 1,000,000 = 0.76923 direct, 46,400 / 1 Mt = 0.0464 indirect; counted for cement goods.
	if !clinker.SEEDirect.Equal(d("0.76923")) || !clinker.SEEIndirect.Equal(d("0.0464")) || !clinker.SEECBAM.Equal(d("0.81563")) {
		t.Errorf("clinker %+v", clinker)
	}
	// Cement embeds 950,000 t of clinker: 730,768.5 direct, 44,080 + 29,000 indirect, over 1.3 Mt.
	if !cement.PrecursorDirect.Equal(d("730768.5")) || !cement.PrecursorIndirect.Equal(d("44080")) {
		t.Errorf("cement precursors %s %s", cement.PrecursorDirect, cement.PrecursorIndirect)
	}
	// Quotients are rounded once, half away from zero, to 10 places.
	if want := d("730768.5").DivRound(d("1300000"), ReportDecimals); !cement.SEEDirect.Equal(want) {
		t.Errorf("cement SEE direct %s, want %s", cement.SEEDirect, want)
	}
	if want := d("73080").DivRound(d("1300000"), ReportDecimals); !cement.SEEIndirect.Equal(want) || !cement.IndirectCounted {
		t.Errorf("cement SEE indirect %s, want %s", cement.SEEIndirect, want)
	}
}

func TestSmelterPFCAndReports(t *testing.T) {
	t.Parallel()
	r, err := Compute(smelter())
	if err != nil {
		t.Fatal(err)
	}
	// CF4 = 0.143 kg/t/(AE-min/cell-day) × 0.5 × 100,000 t / 1000 = 7.15 t; C2F6 = 7.15 × 0.121 = 0.86515 t;
	// CO2e = 7.15 × 6630 + 0.86515 × 11100 = 47,404.5 + 9,603.165.
	pfc := r.Streams[1]
	if !pfc.CF4.Equal(d("7.15")) || !pfc.C2F6.Equal(d("0.86515")) || !r.PFC.Equal(d("57007.665")) {
		t.Errorf("PFC %+v total %s", pfc, r.PFC)
	}
	// Anodes 42,000 t × 0.98 C × 3.664 = 150,810.24 tCO2.
	if !r.ProcessCO2.Equal(d("150810.24")) {
		t.Errorf("mass balance %s", r.ProcessCO2)
	}
	g := r.Goods[0]
	if !g.SEEDirect.Equal(d("2.07817905")) || g.IndirectCounted || !g.SEECBAM.Equal(g.SEEDirect) {
		t.Errorf("aluminium good %+v", g)
	}
	c := r.Reports()
	if !c.ChinaETS.Total.Equal(d("207817.905")) || !c.ChinaETS.Covered {
		t.Errorf("China ETS report %+v", c.ChinaETS)
	}
	found := false
	for _, df := range c.Differences {
		if strings.HasPrefix(df.Topic, "indirect emissions (electricity)") {
			found = df.TCO2e.Equal(d("1120000"))
		}
		if strings.HasPrefix(df.Topic, "indirect emissions counted") {
			t.Errorf("aluminium: no indirect emissions count under CBAM, got %+v", df)
		}
	}
	if !found {
		t.Errorf("differences %+v lack the 1,120,000 t of indirect emissions", c.Differences)
	}
}

func TestMassBalanceOutputsAndErrors(t *testing.T) {
	t.Parallel()
	inst := Installation{Processes: []Process{{ID: "bf", CN: "72011011", ActivityLevel: d("1000")}},
		MassBalances: []MassBalanceStream{
			{ID: "coke", Process: "bf", Quantity: d("400"), CarbonContent: d("0.87")},
			{ID: "hot metal", Process: "bf", Quantity: d("1000"), CarbonContent: d("0.047"), Output: true},
		}}
	r, err := Compute(inst)
	if err != nil {
		t.Fatal(err)
	}
	// (400 × 0.87 − 1000 × 0.047) × 3.664 = (348 − 47) × 3.664 = 1,102.864.
	if !r.ProcessCO2.Equal(d("1102.864")) {
		t.Errorf("mass balance %s", r.ProcessCO2)
	}
	tests := []struct {
		name  string
		edit  func(*Installation)
		field string
	}{
		{"outputs exceed inputs", func(i *Installation) { i.MassBalances[1].Quantity = d("100000") }, "mass_balances"},
		{"unknown process", func(i *Installation) { i.MassBalances[0].Process = "x" }, "mass_balances[0].process"},
		{"carbon content above 1", func(i *Installation) { i.MassBalances[0].CarbonContent = d("1.2") }, "mass_balances[0].carbon_content"},
		{"zero activity", func(i *Installation) { i.Processes[0].ActivityLevel = d("0") }, "processes[0].activity_level"},
		{"not a CBAM good", func(i *Installation) { i.Processes[0].CN = "01012100" }, "processes[0].cn"},
		{"bad oxidation factor", func(i *Installation) {
			i.Streams = []SourceStream{{ID: "gas", Process: "bf", Kind: "combustion", Quantity: d("1"), NCV: d("1"), EF: d("56"), OF: d("1.5")}}
		}, "streams[0].of"},
		{"precursor cycle", func(i *Installation) {
			i.Processes = append(i.Processes, Process{ID: "bof", CN: "72071111", ActivityLevel: d("900"), Precursors: []PrecursorUse{{FromProcess: "bf", Tonnes: d("1")}}})
			i.Processes[0].Precursors = []PrecursorUse{{FromProcess: "bof", Tonnes: d("1")}}
		}, "processes"},
	}
	for _, tt := range tests {
		in := inst
		in.MassBalances = append([]MassBalanceStream(nil), inst.MassBalances...)
		in.Processes = append([]Process(nil), inst.Processes...)
		tt.edit(&in)
		_, err := Compute(in)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("%s: err = %v, want field %s", tt.name, err, tt.field)
		}
	}
}

func TestSteelChainSameDataTwoReports(t *testing.T) {
	t.Parallel()
	inst := Installation{Name: "Integrated mill", Country: "CN", Year: 2026,
		Streams: []SourceStream{
			{ID: "coke oven gas", Process: "rolling", Kind: "combustion", Quantity: d("50000"), NCV: d("0.0179"), EF: d("44.4"), OF: d("0.99")},
		},
		MassBalances: []MassBalanceStream{
			{ID: "coke", Process: "bf", Quantity: d("380000"), CarbonContent: d("0.87")},
			{ID: "hot metal", Process: "bf", Quantity: d("1000000"), CarbonContent: d("0.047"), Output: true},
			{ID: "hot metal in", Process: "bof", Quantity: d("950000"), CarbonContent: d("0.047")},
			{ID: "crude steel", Process: "bof", Quantity: d("1000000"), CarbonContent: d("0.001"), Output: true},
		},
		Electricity: []ElectricityUse{{Process: "bof", MWh: d("60000"), Factor: d("0.58")}, {Process: "rolling", MWh: d("100000"), Factor: d("0.58")}},
		Processes: []Process{
			{ID: "bf", CN: "72011011", ActivityLevel: d("1000000")},
			{ID: "bof", CN: "72071111", ActivityLevel: d("1000000"), Precursors: []PrecursorUse{{FromProcess: "bf", Tonnes: d("950000")}}},
			{ID: "rolling", CN: "72081000", ActivityLevel: d("980000"), Precursors: []PrecursorUse{{FromProcess: "bof", Tonnes: d("1000000")}}},
		},
	}
	r, err := Compute(inst)
	if err != nil {
		t.Fatal(err)
	}
	c := r.Reports()
	// China reports the installation's direct total once; CBAM spreads the same
	// tonnes over the goods: the hot-rolled coil's direct SEE × its activity level
	// carries every direct tonne of the chain consumed into it.
	var goodsOwn decimal.Decimal
	for _, g := range c.CBAM.Goods {
		goodsOwn = goodsOwn.Add(g.DirectAttributed)
	}
	if !goodsOwn.Equal(c.ChinaETS.Total) {
		t.Errorf("attributed %s ≠ installation total %s", goodsOwn, c.ChinaETS.Total)
	}
	rolling := c.CBAM.Goods[2]
	if rolling.IndirectCounted || !rolling.SEECBAM.Equal(rolling.SEEDirect) {
		t.Errorf("steel counts direct emissions only: %+v", rolling)
	}
	if len(c.Differences) < 5 {
		t.Errorf("differences %v", c.Differences)
	}
}

func BenchmarkCompute(b *testing.B) {
	inst := cementPlant()
	for b.Loop() {
		if _, err := Compute(inst); err != nil {
			b.Fatal(err)
		}
	}
}
