package mrv

import (
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/cbam"
)

// sinterAndPigIron is an integrated site whose own sinter (2601 12 00, not
// in Annex II of Reg. (EU) 2023/956: its indirect emissions count) feeds
// pig iron (7201, Annex II: direct emissions only). Per tonne of pig iron:
// own direct 3.0, sinter direct 0.319, sinter indirect 0.6.
func sinterAndPigIron() Installation {
	return Installation{
		Name: "Sinter plant and blast furnace", Country: "CN", Year: 2026,
		Streams: []SourceStream{
			{ID: "sinter fuel", Process: "sinter", Kind: "process", Quantity: d("319000"), EF: d("1")},
			{ID: "blast furnace", Process: "bf", Kind: "process", Quantity: d("3000000"), EF: d("1")},
		},
		Electricity: []ElectricityUse{
			{Process: "sinter", MWh: d("1000000"), Factor: d("0.6")},
			{Process: "bf", MWh: d("100000"), Factor: d("0.6")},
		},
		Processes: []Process{
			{ID: "sinter", CN: "26011200", ActivityLevel: d("1000000")},
			{ID: "bf", CN: "72011011", ActivityLevel: d("1000000"), Precursors: []PrecursorUse{{FromProcess: "sinter", Tonnes: d("1000000")}}},
		},
	}
}

// IR (EU) 2025/2547 Annex I point 3.1: in a good listed in Annex II (pig
// iron) the indirect emissions of precursors not listed there (sinter) are
// included; the good's own indirect emissions are not. Pig iron: 3.0 +
// 0.319 + 0.6 = 3.919 tCO2e/t, not 3.319.
func TestPrecursorIndirectDecidedPerPrecursor(t *testing.T) {
	t.Parallel()
	r, err := Compute(sinterAndPigIron())
	if err != nil {
		t.Fatal(err)
	}
	sinter, bf := r.Goods[0], r.Goods[1]
	if !sinter.IndirectCounted || !sinter.SEECBAM.Equal(d("0.919")) {
		t.Errorf("sinter: counted %v SEE CBAM %s, want 0.919", sinter.IndirectCounted, sinter.SEECBAM)
	}
	if bf.IndirectCounted || !bf.PrecursorIndirectCounted.Equal(d("600000")) || !bf.SEECBAM.Equal(d("3.919")) {
		t.Errorf("pig iron: own indirect counted %v, precursor indirect counted %s, SEE CBAM %s; want false, 600000, 3.919",
			bf.IndirectCounted, bf.PrecursorIndirectCounted, bf.SEECBAM)
	}
	// The pig iron's own 60,000 t of indirect emissions stay out (Annex II good).
	if !bf.SEEIndirect.Equal(d("0.66")) {
		t.Errorf("pig iron SEE indirect (all) %s, want 0.66", bf.SEEIndirect)
	}

	// The same sinter bought in, with its CN code, counts the same way.
	bought := sinterAndPigIron()
	bought.Processes = []Process{{ID: "bf", CN: "72011011", ActivityLevel: d("1000000"),
		Precursors: []PrecursorUse{{CN: "26011200", Tonnes: d("1000000"), SEEDirect: d("0.319"), SEEIndirect: d("0.6")}}}}
	bought.Streams, bought.Electricity = bought.Streams[1:], bought.Electricity[1:]
	r, err = Compute(bought)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Goods[0].SEECBAM.Equal(d("3.919")) {
		t.Errorf("purchased sinter: pig iron SEE CBAM %s, want 3.919", r.Goods[0].SEECBAM)
	}

	// In a good not listed in Annex II (ammonia), the indirect emissions of
	// an Annex II precursor (hydrogen) are not included; its own are.
	ammonia := Installation{Name: "Ammonia plant", Country: "ID", Year: 2026,
		Streams:     []SourceStream{{ID: "reformer", Process: "h2", Kind: "process", Quantity: d("90000"), EF: d("1")}, {ID: "synthesis", Process: "nh3", Kind: "process", Quantity: d("10000"), EF: d("1")}},
		Electricity: []ElectricityUse{{Process: "h2", MWh: d("50000"), Factor: d("0.8")}, {Process: "nh3", MWh: d("25000"), Factor: d("0.8")}},
		Processes: []Process{
			{ID: "h2", CN: "28041000", ActivityLevel: d("10000")},
			{ID: "nh3", CN: "28141000", ActivityLevel: d("50000"), Precursors: []PrecursorUse{{FromProcess: "h2", Tonnes: d("10000")}}},
		}}
	r, err = Compute(ammonia)
	if err != nil {
		t.Fatal(err)
	}
	// (10,000 + 90,000 direct + 20,000 own indirect) / 50,000 = 2.4; hydrogen's 40,000 t indirect left out.
	if nh3 := r.Goods[1]; !nh3.IndirectCounted || !nh3.PrecursorIndirectCounted.IsZero() || !nh3.SEECBAM.Equal(d("2.4")) {
		t.Errorf("ammonia: %+v", nh3)
	}
}

// The MRV package and the cbam package decide indirect emissions the same
// way: the pig iron of the same installation has the same SEE in both.
func TestMRVAndCBAMAgreeOnTheSameInstallation(t *testing.T) {
	t.Parallel()
	r, err := Compute(sinterAndPigIron())
	if err != nil {
		t.Fatal(err)
	}
	sinter, bf := r.Goods[0], r.Goods[1]
	data, err := cbam.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	ownDirect := bf.DirectAttributed.Div(bf.ActivityLevel)
	ownIndirect := bf.IndirectAttributed.Div(bf.ActivityLevel)
	line := cbam.Line{Origin: "CN", CN: bf.CN, Tonnes: d("1000"), Year: 2026, Price: d("75"),
		Actual: &cbam.ActualData{Direct: ownDirect, Indirect: ownIndirect, BenchmarkA: d("1.089"),
			Precursors: []cbam.Precursor{{CN: sinter.CN, Origin: "CN", TonnesPerTone: d("1"),
				Actual: &cbam.ActualData{Direct: sinter.DirectAttributed.Div(sinter.ActivityLevel), Indirect: sinter.IndirectAttributed.Div(sinter.ActivityLevel)}}}}}
	res, err := cbam.NewCalculator(data, cbam.Params{}).Obligation(line)
	if err != nil {
		t.Fatal(err)
	}
	if !res.SEE.Equal(bf.SEECBAM) || !res.SEE.Equal(d("3.919")) {
		t.Errorf("cbam SEE %s, mrv SEE CBAM %s, want both 3.919", res.SEE, bf.SEECBAM)
	}
}

// Pellets (28,000 t over 1,500,000 t) all consumed by pig iron of
// 1,000,000 t with 1,500,000 t of its own: exact fractions through the
// attribution give 28000 and 1.528, not 28000.00000000005 and
// 1.5280000000000001 (a quotient rounded early and multiplied back).
func TestAttributionKeepsFullPrecision(t *testing.T) {
	t.Parallel()
	inst := Installation{Name: "Pellets and blast furnace", Country: "ID", Year: 2026,
		Streams: []SourceStream{
			{ID: "induration", Process: "pellets", Kind: "process", Quantity: d("28000"), EF: d("1")},
			{ID: "blast furnace", Process: "bf", Kind: "process", Quantity: d("1500000"), EF: d("1")},
		},
		Processes: []Process{
			{ID: "pellets", CN: "26011200", ActivityLevel: d("1500000")},
			{ID: "bf", CN: "72011011", ActivityLevel: d("1000000"), Precursors: []PrecursorUse{{FromProcess: "pellets", Tonnes: d("1500000")}}},
		}}
	r, err := Compute(inst)
	if err != nil {
		t.Fatal(err)
	}
	bf := r.Goods[1]
	if bf.PrecursorDirect.String() != "28000" || bf.SEEDirect.String() != "1.528" || bf.SEECBAM.String() != "1.528" {
		t.Errorf("precursor_direct %s, SEE direct %s, SEE CBAM %s; want 28000, 1.528, 1.528", bf.PrecursorDirect, bf.SEEDirect, bf.SEECBAM)
	}
	// The pellets' own SEE does not terminate: rounded once to 10 places.
	if got := r.Goods[0].SEEDirect.String(); got != "0.0186666667" {
		t.Errorf("pellets SEE %s", got)
	}
	if !strings.Contains(r.Rounding, "half away from zero") {
		t.Errorf("rounding rule %q", r.Rounding)
	}
	// Split over two consumers, the pellets' emissions are carried in full.
	inst.Processes = append(inst.Processes, Process{ID: "bf2", CN: "72011011", ActivityLevel: d("300000"), Precursors: []PrecursorUse{{FromProcess: "pellets", Tonnes: d("500000")}}})
	inst.Processes[1].Precursors[0].Tonnes = d("1000000")
	r, err = Compute(inst)
	if err != nil {
		t.Fatal(err)
	}
	// 28,000 × 2/3 = 18,666.66…67 and 28,000 × 1/3 = 9,333.33…33, each rounded once.
	if a, b := r.Goods[1].PrecursorDirect, r.Goods[2].PrecursorDirect; a.String() != "18666.6666666667" || b.String() != "9333.3333333333" || !a.Add(b).Equal(d("28000")) {
		t.Errorf("split: %s + %s", a, b)
	}
	// Large emissions split by thirds: a share carried as a float (1/3 ≈
	// 0.33333333333333331) would give 4115226.2999999998 after the final
	// rounding; exact fractions give 12,345,678.9 / 3 = 4,115,226.3.
	inst.Streams[0].Quantity = d("12345678.9")
	inst.Processes[0].ActivityLevel = d("3000000")
	inst.Processes[1].Precursors[0].Tonnes = d("1000000")
	inst.Processes[2].Precursors[0].Tonnes = d("2000000")
	r, err = Compute(inst)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := r.Goods[1].PrecursorDirect, r.Goods[2].PrecursorDirect; a.String() != "4115226.3" || b.String() != "8230452.6" {
		t.Errorf("thirds: %s and %s, want 4115226.3 and 8230452.6", a, b)
	}
}

// IR (EU) 2025/2547 Annex II B.3.3: biomass is zero-rated only where it
// meets the RED II sustainability criteria. Without the flag it is counted
// (as fossil carbon, the EU ETS rule) and the stream says so.
func TestBiomassZeroRatedOnlyWithREDIIFlag(t *testing.T) {
	t.Parallel()
	inst := cementPlant()
	r, err := Compute(inst)
	if err != nil {
		t.Fatal(err)
	}
	if !r.BiomassCO2.Equal(d("1000")) || !r.BiomassCountedCO2.IsZero() || !r.Direct.Equal(d("769230")) {
		t.Errorf("flagged biomass: zero-rated %s counted %s direct %s", r.BiomassCO2, r.BiomassCountedCO2, r.Direct)
	}
	inst.Streams = append([]SourceStream(nil), inst.Streams...)
	inst.Streams[2].BiomassSustainable = false
	r, err = Compute(inst)
	if err != nil {
		t.Fatal(err)
	}
	// 1000 t × 0.01 TJ/t × 100 t/TJ = 1,000 tCO2 counted: direct 770,230.
	if !r.BiomassCO2.IsZero() || !r.BiomassCountedCO2.Equal(d("1000")) || !r.Direct.Equal(d("770230")) || !r.Streams[2].CO2e.Equal(d("1000")) {
		t.Errorf("unflagged biomass: zero-rated %s counted %s direct %s stream %s", r.BiomassCO2, r.BiomassCountedCO2, r.Direct, r.Streams[2].CO2e)
	}
	if !strings.Contains(r.Streams[2].Note, "RED II") {
		t.Errorf("note %q", r.Streams[2].Note)
	}
	if g := r.Goods[0]; !g.DirectAttributed.Equal(d("770230")) {
		t.Errorf("clinker attributed %s", g.DirectAttributed)
	}
	found := false
	for _, df := range r.Reports().Differences {
		found = found || strings.Contains(df.Topic, "RED II")
	}
	if !found {
		t.Error("the reports do not list the counted biomass")
	}
}
