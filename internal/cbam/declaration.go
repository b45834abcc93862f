package cbam

import (
	"encoding/json"
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
	// CostEUR is the cost of the certificates to surrender: the priced
	// lines' exact certificates × their price (CostExactEUR), plus the
	// rounding-up remainder (CertificatesToSurrender − Certificates, under
	// one certificate) at the highest price among the year's priced lines
	// that count (our choice, an upper bound: a 2026 certificate's price is
	// that of the import quarter, and the remainder belongs to no quarter).
	// With one price it is CertificatesToSurrender × price. LinesWithoutPrice
	// counts the lines without a price. CostKnown is false when a line that
	// counts (not exempt under de minimis) had no price: the year's cost is
	// then unknown, and JSON shows cost_eur as null beside
	// cost_eur_priced_lines (the exact certificates of the priced lines).
	CostEUR           decimal.Decimal `json:"cost_eur"`
	CostExactEUR      decimal.Decimal `json:"cost_eur_exact_certificates"`
	LinesWithoutPrice int             `json:"lines_without_price"`
	CostKnown         bool            `json:"-"`
	// QuarterlyHolding is, from 2027, the minimum number of certificates to
	// hold at the end of each quarter (Art. 22(2)); see QuarterlyHolding.
	QuarterlyHolding []QuarterHolding `json:"quarterly_holding,omitempty"`

	// costRaw and exemptCostRaw sum certificates × price unrounded, so the
	// year's cost is rounded to the cent once.
	costRaw, exemptCostRaw decimal.Decimal
	// maxPrice and maxPriceCounted are the highest certificate prices of
	// all priced lines and of the priced lines outside de minimis sectors.
	maxPrice, maxPriceCounted decimal.Decimal
	// unpricedDeMin counts the lines without a price in de minimis sectors
	// (they cost nothing when the year is exempt).
	unpricedDeMin int
	// quarterEmbedded holds embedded emissions by import quarter (index
	// 1–4); index 0 collects lines without a quarter.
	quarterEmbedded [5]decimal.Decimal
	quarterDeMin    [5]decimal.Decimal
}

// MarshalJSON writes cost_eur as null when the year's cost is unknown (a
// line that counts had no certificate price), with the priced lines' sum
// as cost_eur_priced_lines.
func (y YearTotals) MarshalJSON() ([]byte, error) {
	type plain YearTotals
	out := struct {
		plain
		CostEUR      *decimal.Decimal `json:"cost_eur"`
		CostExactEUR *decimal.Decimal `json:"cost_eur_exact_certificates,omitempty"`
		PricedLines  *decimal.Decimal `json:"cost_eur_priced_lines,omitempty"`
	}{plain: plain(y)}
	if y.CostKnown {
		out.CostEUR, out.CostExactEUR = &y.CostEUR, &y.CostExactEUR
	} else {
		out.PricedLines = &y.CostExactEUR
	}
	return json.Marshal(out)
}

// QuarterlyHoldingShare is the share of the embedded emissions of the goods
// imported since the beginning of the calendar year that an authorised
// declarant must cover with certificates on its account at the end of each
// quarter: Reg. (EU) 2023/956 Art. 22(2), 80 % in the original text, reduced
// to 50 % by Reg. (EU) 2025/2083. Certificates are first sold on 1 February
// 2027 (Art. 20 as amended), so the requirement bites from 2027 imports on.
var QuarterlyHoldingShare = decimal.RequireFromString("0.5")

// FirstQuarterlyHoldingYear is the first import year with the Art. 22(2)
// quarterly holding requirement (no certificates are sold during 2026).
const FirstQuarterlyHoldingYear = 2027

// QuarterHolding is the Art. 22(2) check at the end of one quarter.
type QuarterHolding struct {
	Quarter int `json:"quarter"`
	// EmbeddedSinceJanuary is the embedded emissions (tCO2e) of the goods
	// imported from 1 January to the end of the quarter.
	EmbeddedSinceJanuary decimal.Decimal `json:"embedded_since_january"`
	// MinCertificates = QuarterlyHoldingShare × EmbeddedSinceJanuary,
	// rounded up to whole certificates (a certificate is one tonne; rounding
	// up is our choice, the article states no rounding).
	MinCertificates decimal.Decimal `json:"min_certificates"`
}

// QuarterlyHolding returns the minimum certificates to hold at the end of
// the quarter given the embedded emissions imported since 1 January.
//
// Basis, ASSUMPTION 3: the article's base is "the embedded emissions" of the
// goods imported since the beginning of the year (the original Art. 22(2)
// determines them by default values); the free-allocation adjustment is not
// deducted here because no official text found says it is. Callers holding
// the amended text's exact base may pass their own figure.
func QuarterlyHolding(embeddedSinceJanuary decimal.Decimal) decimal.Decimal {
	if !embeddedSinceJanuary.IsPositive() {
		return decimal.Zero
	}
	return QuarterlyHoldingShare.Mul(embeddedSinceJanuary).Ceil()
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
	y.quarterEmbedded[r.Quarter] = y.quarterEmbedded[r.Quarter].Add(r.EmbeddedEmissions)
	if deMinimisSector(r.Sector) {
		y.quarterDeMin[r.Quarter] = y.quarterDeMin[r.Quarter].Add(r.EmbeddedEmissions)
		y.DeMinimisTonnes = y.DeMinimisTonnes.Add(r.Tonnes)
		y.ExemptCertificates = y.ExemptCertificates.Add(r.Certificates)
		if r.HasPrice {
			y.exemptCostRaw = y.exemptCostRaw.Add(r.Certificates.Mul(r.Price))
		}
	}
	if r.HasPrice {
		y.costRaw = y.costRaw.Add(r.Certificates.Mul(r.Price))
		y.maxPrice = decimal.Max(y.maxPrice, r.Price)
		if !deMinimisSector(r.Sector) {
			y.maxPriceCounted = decimal.Max(y.maxPriceCounted, r.Price)
		}
	} else {
		y.LinesWithoutPrice++
		if deMinimisSector(r.Sector) {
			y.unpricedDeMin++
		}
	}
}

// Years returns the totals per year, de minimis applied, in year order.
func (d *Declaration) Years() []YearTotals {
	out := make([]YearTotals, 0, len(d.years))
	for _, y := range d.years {
		t := *y
		t.Exempt = !t.DeMinimisTonnes.GreaterThan(DeMinimisTonnes)
		unpriced := t.LinesWithoutPrice
		if t.Exempt {
			unpriced -= t.unpricedDeMin
		}
		t.CostKnown = unpriced == 0
		maxPrice, cost := t.maxPrice, t.costRaw
		if t.Exempt {
			t.Certificates = t.Certificates.Sub(t.ExemptCertificates)
			cost = cost.Sub(t.exemptCostRaw)
			maxPrice = t.maxPriceCounted
		} else {
			t.ExemptCertificates = decimal.Zero
		}
		t.CertificatesToSurrender = t.Certificates.Ceil()
		t.CostExactEUR = cost.Round(2)
		t.CostEUR = t.CostExactEUR
		if t.CostKnown {
			remainder := t.CertificatesToSurrender.Sub(t.Certificates)
			t.CostEUR = cost.Add(remainder.Mul(maxPrice)).Round(2)
		}
		t.QuarterlyHolding = quarterlyHolding(y)
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Year < out[j].Year })
	return out
}

// quarterlyHolding computes the Art. 22(2) minimum at the end of each
// quarter from the lines that carry their import quarter. Lines of an
// exempt (de minimis) year's goods are left out; years before 2027 and
// years without quarters have none.
func quarterlyHolding(y *YearTotals) []QuarterHolding {
	if y.Year < FirstQuarterlyHoldingYear {
		return nil
	}
	exempt := !y.DeMinimisTonnes.GreaterThan(DeMinimisTonnes)
	var out []QuarterHolding
	var cum decimal.Decimal
	seen := false
	for q := 1; q <= 4; q++ {
		e := y.quarterEmbedded[q]
		if exempt {
			e = e.Sub(y.quarterDeMin[q])
		}
		cum = cum.Add(e)
		seen = seen || !y.quarterEmbedded[q].IsZero()
		out = append(out, QuarterHolding{Quarter: q, EmbeddedSinceJanuary: cum, MinCertificates: QuarterlyHolding(cum)})
	}
	if !seen {
		return nil
	}
	return out
}
