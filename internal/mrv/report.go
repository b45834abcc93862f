package mrv

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/shopspring/decimal"
)

// China ETS reporting rules used for the comparison. UNVERIFIED: an
// inference from public descriptions of China's national ETS, not checked
// against the Ministry of Ecology and Environment's accounting guidelines or
// the Interim Regulations on the Administration of Carbon Emissions Trading
// (2024): China accounts direct energy and process CO2 (plus CF4/C2F6 for
// aluminium) at enterprise level, without indirect emissions and without
// embedding precursors; enterprises above 26,000 tCO2e a year are covered;
// reports are due by 31 March and verification by 30 September. They are
// variables so that a caller holding the primary text can replace them.
var (
	ChinaETSThreshold    = decimal.NewFromInt(26000)
	ChinaETSReportDue    = "31 March of the following year"
	ChinaETSVerification = "by 30 September, by the provincial authority's verifier"
	chinaETSSource       = "UNVERIFIED inference from public descriptions of China's national ETS (not checked against the MEE accounting guidelines)"
)

// ChinaETSReport is the installation's emissions as China's ETS accounts them.
type ChinaETSReport struct {
	Installation string          `json:"installation"`
	Year         int             `json:"year"`
	Combustion   decimal.Decimal `json:"combustion_co2"`
	Process      decimal.Decimal `json:"process_co2"`
	PFC          decimal.Decimal `json:"pfc_co2e"`
	Total        decimal.Decimal `json:"total"`
	Covered      bool            `json:"covered"` // total ≥ 26,000 tCO2e
	ReportDue    string          `json:"report_due"`
	Verification string          `json:"verification"`
	Source       string          `json:"source"`
}

// CBAMReport is the installation's communication to importers: specific
// embedded emissions per good (the "Summary_Products" of the Commission's
// communication template v20241213).
type CBAMReport struct {
	Installation string          `json:"installation"`
	Year         int             `json:"year"`
	Goods        []GoodEmissions `json:"goods"`
	Direct       decimal.Decimal `json:"direct"`
	Indirect     decimal.Decimal `json:"indirect"`
	Verification string          `json:"verification"`
}

// Difference is one way the two reports differ, with its size where it has one.
type Difference struct {
	Topic    string          `json:"topic"`
	ChinaETS string          `json:"china_ets"`
	CBAM     string          `json:"cbam"`
	TCO2e    decimal.Decimal `json:"tco2e,omitempty"`
}

// Comparison puts both reports side by side.
type Comparison struct {
	ChinaETS    ChinaETSReport `json:"china_ets"`
	CBAM        CBAMReport     `json:"cbam"`
	Differences []Difference   `json:"differences"`
}

// Reports builds both reports from the same computed activity data and lists
// their differences.
func (r Result) Reports() Comparison {
	inst := r.installation
	cn := ChinaETSReport{
		Installation: inst.Name, Year: inst.Year, Combustion: r.Combustion, Process: r.ProcessCO2, PFC: r.PFC,
		Total: r.Direct, Covered: !r.Direct.LessThan(ChinaETSThreshold),
		ReportDue: ChinaETSReportDue, Verification: ChinaETSVerification, Source: chinaETSSource,
	}
	cb := CBAMReport{Installation: inst.Name, Year: inst.Year, Goods: r.Goods, Direct: r.Direct, Indirect: r.Indirect,
		Verification: "accredited verifier under Delegated Regulation (EU) 2025/2551, reasonable assurance, site visit in the first year (only where actual values are used)"}
	diffs := []Difference{
		{Topic: "reporting level", ChinaETS: "enterprise / installation total", CBAM: "per production process and good, as specific embedded emissions (tCO2e per tonne)"},
		{Topic: "indirect emissions (electricity)", ChinaETS: "not counted", CBAM: "reported; counted in embedded emissions for goods outside Annex II (cement, fertilisers, 2601 12 00) and, decided per precursor by its CN code, for such precursors of any good (IR (EU) 2025/2547 Annex I point 3.1)", TCO2e: r.Indirect},
	}
	var counted, embeddedPrec decimal.Decimal
	for _, g := range r.Goods {
		if g.IndirectCounted {
			counted = counted.Add(g.IndirectAttributed)
		}
		embeddedPrec = embeddedPrec.Add(g.PrecursorDirect)
	}
	if !r.BiomassCountedCO2.IsZero() {
		diffs = append(diffs, Difference{Topic: "biomass without the RED II flag", ChinaETS: "not examined here", CBAM: "counted as fossil: zero-rated only where the biomass meets the RED II criteria (IR (EU) 2025/2547 Annex II B.3.3)", TCO2e: r.BiomassCountedCO2})
	}
	if !counted.IsZero() {
		diffs = append(diffs, Difference{Topic: "indirect emissions counted by CBAM", ChinaETS: "0", CBAM: fmt.Sprintf("%s tCO2e attributed to goods whose indirect emissions count", counted), TCO2e: counted})
	}
	diffs = append(diffs,
		Difference{Topic: "precursors", ChinaETS: "not embedded (each producer reports its own emissions)", CBAM: "embedded into the goods that consume them (direct emissions of precursors consumed, incl. purchased)", TCO2e: embeddedPrec},
		Difference{Topic: "PFCs (aluminium)", ChinaETS: "included (CF4, C2F6)", CBAM: "included (slope or overvoltage method)", TCO2e: r.PFC},
		Difference{Topic: "coverage threshold", ChinaETS: fmt.Sprintf("%s tCO2e a year (this installation: covered = %v)", ChinaETSThreshold, cn.Covered), CBAM: "none for producers; importers exempt at ≤ 50 t of goods a year (Art. 2a)"},
		Difference{Topic: "deadlines", ChinaETS: "report " + ChinaETSReportDue + "; verification " + ChinaETSVerification, CBAM: "importer's declaration and surrender by 30 September of the following year"},
		Difference{Topic: "verification", ChinaETS: "domestic verification bodies", CBAM: cb.Verification},
	)
	return Comparison{ChinaETS: cn, CBAM: cb, Differences: diffs}
}

// WriteText writes the text report of `corridor mrv`: the installation's
// emissions by source, the goods' specific embedded emissions, both
// reports and their differences.
func WriteText(out io.Writer, r Result, c Comparison) error {
	inst := r.installation
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "installation\t%s (%s), %d\n", inst.Name, inst.Country, inst.Year)
	fmt.Fprintf(w, "direct\t%s tCO2e (combustion %s, process %s, PFC %s; biomass %s zero-rated, %s counted for want of the RED II flag)\n",
		r.Direct, r.Combustion, r.ProcessCO2, r.PFC, r.BiomassCO2, r.BiomassCountedCO2)
	fmt.Fprintf(w, "indirect\t%s tCO2e\n", r.Indirect)
	fmt.Fprintf(w, "rounding\t%s\n\n", r.Rounding)
	fmt.Fprintln(w, "source\tprocess\tmethod\ttCO2e\tequation")
	for _, s := range r.Streams {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", s.ID, s.Process, s.Method, s.CO2e, s.Equations)
	}
	for _, s := range r.Streams {
		if s.Note != "" {
			fmt.Fprintf(w, "note\t%s: %s\n", s.ID, s.Note)
		}
	}
	fmt.Fprintln(w, "\ngood\tprocess\tt produced\tSEE direct\tSEE indirect\tSEE CBAM (tCO2e/t)")
	for _, g := range r.Goods {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", g.CN, g.Process, g.ActivityLevel, g.SEEDirect, g.SEEIndirect, g.SEECBAM)
	}
	fmt.Fprintf(w, "\nChina ETS\ttotal %s tCO2e, covered %v (threshold %s)\n", c.ChinaETS.Total, c.ChinaETS.Covered, ChinaETSThreshold)
	fmt.Fprintf(w, "CBAM\tdirect %s, indirect %s tCO2e; %d goods\n\n", c.CBAM.Direct, c.CBAM.Indirect, len(c.CBAM.Goods))
	fmt.Fprintln(w, "difference\tChina ETS\tCBAM")
	for _, d := range c.Differences {
		fmt.Fprintf(w, "%s\t%s\t%s\n", d.Topic, d.ChinaETS, d.CBAM)
	}
	return w.Flush()
}
