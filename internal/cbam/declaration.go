package cbam

import (
	"sort"

	"github.com/shopspring/decimal"
)

// DeMinimisTonnes is the annual threshold of Art. 2a of Reg. (EU) 2023/956
// (inserted by Reg. (EU) 2025/2083): an importer whose imports of iron and
// steel, aluminium, fertilisers and cement together do not exceed 50 tonnes
// net mass in a calendar year owes nothing for them; above it, all of that
// year's imports count. Hydrogen and electricity are outside the exemption.
var DeMinimisTonnes = decimal.NewFromInt(50)

// deMinimisSector reports whether a sector counts toward the 50 t threshold.
func deMinimisSector(s Sector) bool {
	return s == SectorIronSteel || s == SectorAluminium || s == SectorFertilisers || s == SectorCement
}

// Declaration sums line results per year into the annual CBAM declaration
// (Art. 6), applying the de minimis exemption. Add results in any order; it
// keeps only running totals, so memory stays flat in the number of lines.
type Declaration struct {
	years map[int]*YearTotals
}

// YearTotals is the declaration of one year.
type YearTotals struct {
	Year  int `json:"year"`
	Lines int `json:"lines"`
	// DeMinimisTonnes is the net mass of iron/steel, aluminium, fertilisers
	// and cement imported; Exempt is true when it is ≤ 50 t.
	DeMinimisTonnes          decimal.Decimal `json:"de_minimis_tonnes"`
	Exempt                   bool            `json:"exempt"`
	ExemptCertificates       decimal.Decimal `json:"exempt_certificates"`
	Tonnes                   decimal.Decimal `json:"tonnes"`
	EmbeddedEmissions        decimal.Decimal `json:"embedded_emissions"`
	FreeAllocationAdjustment decimal.Decimal `json:"free_allocation_adjustment"`
	CarbonPricePaidCerts     decimal.Decimal `json:"carbon_price_paid_certificates"`
	// Certificates is exact; CertificatesToSurrender rounds it up to whole
	// certificates (see the package doc on rounding).
	Certificates            decimal.Decimal `json:"certificates"`
	CertificatesToSurrender decimal.Decimal `json:"certificates_to_surrender"`
	// CostEUR sums the lines that had a price; LinesWithoutPrice counts the others.
	CostEUR           decimal.Decimal `json:"cost_eur"`
	LinesWithoutPrice int             `json:"lines_without_price"`

	exemptCost decimal.Decimal
}

// NewDeclaration returns an empty declaration.
func NewDeclaration() *Declaration { return &Declaration{years: map[int]*YearTotals{}} }

// Add adds a line result.
func (d *Declaration) Add(r LineResult) {
	y := d.years[r.Year]
	if y == nil {
		y = &YearTotals{Year: r.Year}
		d.years[r.Year] = y
	}
	y.Lines++
	y.Tonnes = y.Tonnes.Add(r.Tonnes)
	y.EmbeddedEmissions = y.EmbeddedEmissions.Add(r.EmbeddedEmissions)
	y.FreeAllocationAdjustment = y.FreeAllocationAdjustment.Add(r.FreeAllocationAdjustment)
	y.CarbonPricePaidCerts = y.CarbonPricePaidCerts.Add(r.CarbonPricePaidCertificates)
	y.Certificates = y.Certificates.Add(r.Certificates)
	if deMinimisSector(r.Sector) {
		y.DeMinimisTonnes = y.DeMinimisTonnes.Add(r.Tonnes)
		y.ExemptCertificates = y.ExemptCertificates.Add(r.Certificates)
		y.exemptCost = y.exemptCost.Add(r.CostEUR)
	}
	if r.HasPrice {
		y.CostEUR = y.CostEUR.Add(r.CostEUR)
	} else {
		y.LinesWithoutPrice++
	}
}

// Years returns the totals per year, de minimis applied, in year order.
func (d *Declaration) Years() []YearTotals {
	out := make([]YearTotals, 0, len(d.years))
	for _, y := range d.years {
		t := *y
		t.Exempt = !t.DeMinimisTonnes.GreaterThan(DeMinimisTonnes)
		if t.Exempt {
			t.Certificates = t.Certificates.Sub(t.ExemptCertificates)
			t.CostEUR = t.CostEUR.Sub(t.exemptCost)
		} else {
			t.ExemptCertificates = decimal.Zero
		}
		t.CertificatesToSurrender = t.Certificates.Ceil()
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Year < out[j].Year })
	return out
}
