package cbam

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// PricePeriod is the period a certificate price applies to: a quarter for
// 2026 imports, a week (ISO week number) from 2027 (Reg. (EU) 2023/956
// Art. 21(1) as amended by Reg. (EU) 2025/2083).
type PricePeriod struct {
	Year    int
	Quarter int // 1–4 for 2026
	Week    int // ISO week for 2027+
}

func (p PricePeriod) String() string {
	if p.Week > 0 {
		return fmt.Sprintf("%d-W%02d", p.Year, p.Week)
	}
	return fmt.Sprintf("%d-Q%d", p.Year, p.Quarter)
}

// publishedPrices are the CBAM certificate prices published by the
// Commission: for 2026 imports the volume-weighted average of EU ETS auction
// clearing prices of the quarter of import. Source:
// /work/shared/domain/cbam.md ("Known: Q1 2026 €75.36, Q2 2026 €75.28",
// published 7 April and 6 July 2026). The Q1 figure and the publication
// calendar were confirmed against public reports of the Commission's
// publication (7 April 2026); the Q2 figure rests on the domain notes only.
var publishedPrices = map[PricePeriod]decimal.Decimal{
	{Year: 2026, Quarter: 1}: decimal.RequireFromString("75.36"),
	{Year: 2026, Quarter: 2}: decimal.RequireFromString("75.28"),
}

// PublishedPrice returns the published certificate price of period.
func PublishedPrice(p PricePeriod) (decimal.Decimal, bool) {
	v, ok := publishedPrices[p]
	return v, ok
}

// LatestPublishedPrice returns the most recent published price and its period.
func LatestPublishedPrice() (PricePeriod, decimal.Decimal) {
	var best PricePeriod
	for p := range publishedPrices {
		if p.Year > best.Year || (p.Year == best.Year && p.Quarter*100+p.Week > best.Quarter*100+best.Week) {
			best = p
		}
	}
	return best, publishedPrices[best]
}

// price chooses the line's certificate price: the line's own, then for
// 2026 imports a Params override or the published price of the line's
// quarter. From 2027 the price is the weekly average of the week in which
// the certificates are bought (Reg. (EU) 2023/956 Art. 21(1) as amended by
// Reg. (EU) 2025/2083; IR (EU) 2025/2548), which the import quarter does not
// determine: a 2027+ line is priced only by its own price.
func (c *Calculator) price(l Line) (decimal.Decimal, string, bool) {
	if l.Price.IsPositive() {
		return l.Price, "given", true
	}
	if l.Quarter == 0 || l.Year != 2026 {
		return decimal.Zero, "", false
	}
	p := PricePeriod{Year: l.Year, Quarter: l.Quarter}
	if v, ok := c.params.Prices[p]; ok {
		return v, "parameter " + p.String(), true
	}
	if v, ok := publishedPrices[p]; ok {
		return v, "published " + p.String() + " (quarterly average of EU ETS auction prices)", true
	}
	return decimal.Zero, "", false
}
