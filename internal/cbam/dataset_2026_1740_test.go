package cbam

import (
	"errors"
	"strings"
	"testing"
)

func currentLayoutCalculator(t *testing.T) *Calculator {
	t.Helper()
	data, err := LoadDir("testdata/ir-2026-1740")
	if err != nil {
		t.Fatal(err)
	}
	return NewCalculator(data, Params{})
}

// IR (EU) 2026/1740 replaced Annex I of IR (EU) 2025/2621 by a table without
// per-year mark-up columns and with 10-digit TARIC codes; the loader takes it
// without a code change.
func TestCurrentLayoutDatasetLoads(t *testing.T) {
	t.Parallel()
	c := currentLayoutCalculator(t)
	data := c.Dataset()
	if data.Layout != LayoutCurrent || data.Superseded != "" || len(data.Malformed) != 0 {
		t.Fatalf("layout %q superseded %q malformed %v", data.Layout, data.Superseded, data.Malformed)
	}
	if data.DefaultValueCount() != 9 || data.DefaultValuesVersion != "20260731" {
		t.Errorf("rows %d version %s", data.DefaultValueCount(), data.DefaultValuesVersion)
	}
	tests := []struct {
		name             string
		line             Line
		matched, see, ee string
		route            string
	}{
		// Grey clinker by its TARIC code: total 1.39 × 1.10 (2026).
		{"grey clinker TARIC", Line{Origin: "CN", CN: "2523100090", Tonnes: d("10"), Year: 2026}, "2523100090", "1.529", "15.29", "A"},
		// The 8-digit code with the route picks the TARIC row.
		{"white clinker by route", Line{Origin: "CN", CN: "25231000", Route: "B", Tonnes: d("10"), Year: 2027}, "2523100010", "1.56", "15.6", "B"},
		// Calcined kaolinic clay 2507 00 80 80: total 0.32 × 1.30 (2029).
		{"calcined kaolinic clay", Line{Origin: "CN", CN: "2507008080", Tonnes: d("100"), Year: 2029}, "2507008080", "0.416", "41.6", "A"},
		// 8-digit CN codes still match coarser rows (7208).
		{"hot-rolled 2028", Line{Origin: "CN", CN: "72081000", Tonnes: d("1000"), Year: 2028}, "7208", "4.1429609", "4142.9609", "C"},
		{"other countries, TARIC", Line{Origin: "LA", CN: "2523100090", Tonnes: d("1"), Year: 2026}, "2523100090", "1.551", "1.551", "A"},
	}
	for _, tc := range tests {
		r, err := c.Obligation(tc.line)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if r.DefaultValueCN != tc.matched || !r.SEE.Equal(d(tc.see)) || !r.EmbeddedEmissions.Equal(d(tc.ee)) || r.Route != tc.route {
			t.Errorf("%s: matched %s SEE %s EE %s route %s, want %s %s %s %s", tc.name, r.DefaultValueCN, r.SEE, r.EmbeddedEmissions, r.Route, tc.matched, tc.see, tc.ee, tc.route)
		}
		if r.DatasetSuperseded != "" {
			t.Errorf("%s: the 2026/1740 dataset is said superseded", tc.name)
		}
		for _, n := range r.Notes {
			if strings.Contains(n, "superseded") {
				t.Errorf("%s: note %q", tc.name, n)
			}
		}
	}
	// The 8-digit clinker code without a route matches two TARIC rows.
	if _, err := c.Obligation(Line{Origin: "CN", CN: "25231000", Tonnes: d("1"), Year: 2026}); !errors.Is(err, ErrAmbiguousGood) {
		t.Errorf("25231000 without route: %v", err)
	}
	// A TARIC code the table does not have is not valued from a coarser row.
	if _, err := c.Obligation(Line{Origin: "CN", CN: "2523100050", Tonnes: d("1"), Year: 2026}); !errors.Is(err, ErrNoDefaultValue) {
		t.Errorf("unknown TARIC code: %v", err)
	}
}

// A file with only some of the per-year columns is neither layout.
func TestPartialMarkUpColumnsRejected(t *testing.T) {
	t.Parallel()
	raw := "Country;Sector;CN code;Description;Default Value (direct emissions);Default Value (Indirect emissions);Default Value (total emissions);2026 Default Value (Including mark-up);Underlying production route determining CBAM BM\r\n" +
		"China;Cement;25232900;Grey Portland cement;1.35;0.07;1.42;1.562;\r\n"
	if _, _, _, err := ParseDefaultValues([]byte(raw), "x-v20990101.csv"); err == nil || !strings.Contains(err.Error(), "all three") {
		t.Errorf("err = %v", err)
	}
}

// The shipped v20260204 dataset is the annex IR (EU) 2026/1740 replaced:
// every result computed from its default values says so.
func TestShippedDatasetSaysSuperseded(t *testing.T) {
	t.Parallel()
	c := calculator(t)
	if c.Dataset().Layout != LayoutSuperseded || c.Dataset().Superseded == "" {
		t.Fatalf("layout %q superseded %q", c.Dataset().Layout, c.Dataset().Superseded)
	}
	r, err := c.Obligation(Line{Origin: "CN", CN: "72081000", Tonnes: d("1"), Year: 2026})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, n := range r.Notes {
		found = found || strings.Contains(n, "2026/1740")
	}
	if r.DatasetSuperseded == "" || !found {
		t.Errorf("superseded %q notes %v", r.DatasetSuperseded, r.Notes)
	}
	// Actual data with a default-value precursor also rests on the dataset.
	r, err = c.Obligation(Line{Origin: "CN", CN: "72081000", Tonnes: d("1"), Year: 2026, Actual: &ActualData{Direct: d("0.1"), BenchmarkA: d("0.044"),
		Precursors: []Precursor{{CN: "72071111", Origin: "CN", TonnesPerTone: d("1.02"), Route: "C"}}}})
	if err != nil {
		t.Fatal(err)
	}
	found = false
	for _, n := range r.Notes {
		found = found || strings.Contains(n, "2026/1740")
	}
	if !found {
		t.Errorf("actual data over default precursors: notes %v", r.Notes)
	}
}

// SEE with default values is total × (1 + mark-up of the year), never the
// superseded annex's rounded per-year columns: China 7208's 2028 column said
// 4.14296, while 3.186893 × 1.30 = 4.1429609, so 2028 and 2029 (same mark-up)
// must give the same embedded emissions.
func TestProjectionUsesTotalTimesMarkUp(t *testing.T) {
	t.Parallel()
	c := calculator(t)
	p, err := c.Project(Line{Origin: "CN", CN: "72081000", Tonnes: d("1000"), Year: 2026, Quarter: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{2026: "3505.5823", 2027: "3824.2716", 2028: "4142.9609", 2029: "4142.9609", 2034: "4142.9609"}
	for _, y := range p.Years {
		if w, ok := want[y.Year]; ok && !y.EmbeddedEmissions.Equal(d(w)) {
			t.Errorf("%d: embedded %s, want %s", y.Year, y.EmbeddedEmissions, w)
		}
	}
}

// Kaolin (2507 00 20) is not a CBAM good; calcined kaolinic clay (ex 2507
// 00 80) is, and its lines say that only the calcined clay is covered.
func TestKaolinIsNotACBAMGood(t *testing.T) {
	t.Parallel()
	c := calculator(t)
	_, err := c.Obligation(Line{Origin: "CN", CN: "25070020", Tonnes: d("100"), Year: 2026})
	var ie *InputError
	if !errors.Is(err, ErrUnknownCN) || !errors.As(err, &ie) || ie.Field != "cn" {
		t.Errorf("kaolin: %v", err)
	}
	r, err := c.Obligation(Line{Origin: "CN", CN: "25070080", Tonnes: d("100"), Year: 2026})
	if err != nil {
		t.Fatal(err)
	}
	// China 25070080 calcined clay: total 0.32 × 1.10 = 0.352.
	if !r.SEE.Equal(d("0.352")) || r.Sector != SectorCement {
		t.Errorf("calcined clay SEE %s sector %s", r.SEE, r.Sector)
	}
	found := false
	for _, n := range r.Notes {
		found = found || strings.Contains(n, "except non-calcined")
	}
	if !found {
		t.Errorf("notes %v", r.Notes)
	}
}

// Columns are found by name in any order; a newer file may name countries
// by ISO code and sectors in another case.
func TestDefaultValuesColumnsByName(t *testing.T) {
	t.Parallel()
	raw := "TARIC code;Country;Sector;Description;Default Value (total emissions);Default Value (direct emissions);Default Value (indirect emissions);Production route\n" +
		"2523100090;VN;cement;Grey clinker;0.95;0.9;0.05;(A)\n"
	rows, bad, _, err := ParseDefaultValues([]byte(raw), "x-v20990101.csv")
	if err != nil || len(bad) != 0 || len(rows) != 1 {
		t.Fatalf("%v %v %v", rows, bad, err)
	}
	if r := rows[0]; r.Country != "VN" || r.Sector != SectorCement || r.CN != "2523100090" || !r.Total.Equal(d("0.95")) || !r.Direct.Equal(d("0.9")) || r.Route != "A" {
		t.Errorf("%+v", r)
	}
}
