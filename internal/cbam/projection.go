package cbam

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// ProjectionYear is the obligation of the same flow in one year.
type ProjectionYear struct {
	Year                     int             `json:"year"`
	CBAMFactor               decimal.Decimal `json:"cbam_factor"`
	MarkUp                   decimal.Decimal `json:"mark_up"`
	SEE                      decimal.Decimal `json:"see"`
	EmbeddedEmissions        decimal.Decimal `json:"embedded_emissions"`
	FreeAllocationAdjustment decimal.Decimal `json:"free_allocation_adjustment"`
	CarbonPricePaidCerts     decimal.Decimal `json:"carbon_price_paid_certificates"`
	Certificates             decimal.Decimal `json:"certificates"`
	// Price and CostEUR are nil when the line has no known price: the
	// projection then shows certificates only, never a guessed cost.
	Price   *decimal.Decimal `json:"price"`
	CostEUR *decimal.Decimal `json:"cost_eur"`
}

// Projection is a flow's obligation for each year 2026–2034.
type Projection struct {
	Years []ProjectionYear `json:"years"`
	// PriceAssumption says which constant certificate price was used, or
	// that none is known (costs null).
	PriceAssumption string `json:"price_assumption"`
	// HasPrice is false when no price is known for the line: the rows have
	// no cost.
	HasPrice bool `json:"has_price"`
}

// ProjectionFirstYear and ProjectionLastYear bound the phase-out projection:
// 2034 is the first year without free allocation (CBAM factor 0).
const (
	ProjectionFirstYear = 2026
	ProjectionLastYear  = 2034
)

// Project computes the line's obligation for every year 2026–2034 with the
// same mass, data and a constant certificate price: the line's own price
// (given, or the published price of its quarter), held constant, stated.
// A line without a known price gets no cost in any year: the tool does
// not guess a price (the line's own result says the same).
func (c *Calculator) Project(l Line) (Projection, error) {
	price, assumption, known := l.Price, "ASSUMPTION: the given price held constant", true
	if !price.IsPositive() {
		pc := c.price(l)
		switch {
		case pc.ok && pc.status == PriceUnverified:
			price, assumption = pc.price, fmt.Sprintf("ASSUMPTION: the line's price (%s, UNVERIFIED) held constant", pc.source)
		case pc.ok:
			price, assumption = pc.price, fmt.Sprintf("ASSUMPTION: the line's price (%s) held constant", pc.source)
		default:
			price, known = decimal.Zero, false
			assumption = "no certificate price known for the line, so every year's cost is unknown (certificates are shown); " + priceHelp
		}
	}
	out := Projection{PriceAssumption: assumption, HasPrice: known}
	for y := ProjectionFirstYear; y <= ProjectionLastYear; y++ {
		ly := l
		ly.Year, ly.Quarter, ly.Price = y, 0, price
		r, err := c.Obligation(ly)
		if err != nil {
			return Projection{}, err
		}
		py := ProjectionYear{
			Year: y, CBAMFactor: r.CBAMFactor, MarkUp: r.MarkUp, SEE: r.SEE,
			EmbeddedEmissions: r.EmbeddedEmissions, FreeAllocationAdjustment: r.FreeAllocationAdjustment,
			CarbonPricePaidCerts: r.CarbonPricePaidCertificates, Certificates: r.Certificates,
		}
		if known {
			py.Price, py.CostEUR = &r.Price, &r.CostEUR
		}
		out.Years = append(out.Years, py)
	}
	return out, nil
}

// WhatIf is the saving from a domestic (or linked corridor) carbon price.
type WhatIf struct {
	Baseline LineResult `json:"baseline"`
	// DeductionEUR is the carbon price effectively paid on the line's
	// embedded emissions, in EUR; CertificatesSaved = min(baseline
	// certificates, DeductionEUR / price).
	DeductionEUR      decimal.Decimal `json:"deduction_eur"`
	CertificatesSaved decimal.Decimal `json:"certificates_saved"`
	EURSaved          decimal.Decimal `json:"eur_saved"`
	CertificatesAfter decimal.Decimal `json:"certificates_after"`
	CostAfterEUR      decimal.Decimal `json:"cost_after_eur"`
	Notes             []string        `json:"notes,omitempty"`
}

// WhatIf computes how many certificates and euros a domestic carbon price
// with the given coverage and free allocation (rebated share) would save on
// the line, by the Art. 9 deduction formula. The line needs a price.
func (c *Calculator) WhatIf(l Line, domestic CarbonPricePaid) (WhatIf, error) {
	l.CarbonPricePaid = nil
	base, err := c.Obligation(l)
	if err != nil {
		return WhatIf{}, err
	}
	if !base.HasPrice || base.Price.IsZero() {
		return WhatIf{}, fieldErr("price", fmt.Errorf("a certificate price is needed for a what-if in euros (%s)", c.price(l).missing))
	}
	eur, err := carbonPricePaidEUR(domestic, base.EmbeddedEmissions)
	if err != nil {
		return WhatIf{}, err
	}
	w := WhatIf{Baseline: base, DeductionEUR: eur}
	w.CertificatesSaved = decimal.Min(base.Certificates, eur.Div(base.Price))
	w.CertificatesAfter = base.Certificates.Sub(w.CertificatesSaved)
	w.CostAfterEUR = w.CertificatesAfter.Mul(base.Price).Round(2)
	w.EURSaved = base.CostEUR.Sub(w.CostAfterEUR)
	if base.Method == "default" {
		w.Notes = append(w.Notes, "hypothetical: with default values Art. 9 allows only the Commission's default carbon price, none published yet; with verified actual data the deduction applies as shown")
	}
	return w, nil
}
