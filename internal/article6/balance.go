package article6

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// Method is how a Party applies corresponding adjustments, declared in its
// initial report and kept for the NDC period (2/CMA.3, annex, para. 7(a)(i)
// and (ii) for single-year, 7(b) for multi-year NDCs; cited, secondary: the
// text as quoted in a third-party audit, docs/sources.md "Article 6 texts").
type Method string

// Methods of applying corresponding adjustments.
const (
	// Multi-year NDC, trajectory or budget: each year's balance is adjusted
	// by the ITMOs first transferred and used for that year; a budget is
	// also judged on the period's total.
	MultiYearTrajectory Method = "multi-year-trajectory"
	MultiYearBudget     Method = "multi-year-budget"
	// Single-year NDC with an indicative multi-year trajectory: the same
	// annual adjustments, judged in the target year.
	SingleYearTrajectory Method = "single-year-trajectory"
	// Single-year NDC with averaging: the target year's balance is adjusted
	// by the average annual amount of ITMOs first transferred and used over
	// the NDC implementation period, "by taking the cumulative amount of
	// ITMOs and dividing by the number of elapsed years" (2/CMA.3, annex,
	// para. 7(a)(ii), as quoted in the third-party audit cited in
	// docs/sources.md, "Article 6 texts"); other years carry no adjustment.
	// The elapsed years are those of the period up to BalanceParams.AsOf,
	// so a figure in the middle of the period divides what has been first
	// transferred and used so far by the years so far, and the final one,
	// once the period has ended, by the period's length.
	SingleYearAveraging Method = "single-year-averaging"
)

// BalanceParams are the inputs of Balance.
type BalanceParams struct {
	Party      string
	Method     Method
	FirstYear  int // NDC implementation period
	LastYear   int
	TargetYear int // single-year NDCs
	// AsOf is the last elapsed year of the period for averaging: the
	// cumulative amount and the number of elapsed years run from FirstYear
	// to AsOf. 0, or a year after LastYear, means the period has ended.
	AsOf        int
	Emissions   map[int]int64 // reported emissions per year, t CO2 eq
	Adjustments []Adjustment  // all adjustments; those of Party are used
}

// BalanceRow is one year of a Party's emissions balance, in t CO2 eq.
type BalanceRow struct {
	Year             int
	Emissions        int64
	FirstTransferred int64 // ITMOs first transferred, added
	Used             int64 // ITMOs used towards the NDC, subtracted
	Adjustment       decimal.Decimal
	Balance          decimal.Decimal
}

// AveragingPlaces is the number of decimal places an averaged adjustment is
// rounded to (half away from zero). Averages of whole tonnes over a period
// are rarely whole; no text fixes the rounding, so this is our choice.
const AveragingPlaces = 3

// Balance returns the Party's emissions balance for each year of the NDC
// period and, for a budget, the total of the period as a last row with
// Year 0.
func Balance(p BalanceParams) ([]BalanceRow, error) {
	if p.LastYear < p.FirstYear || p.FirstYear < 2021 {
		return nil, fmt.Errorf("article6: emissions balance: period %d-%d is not a period from 2021", p.FirstYear, p.LastYear)
	}
	single := p.Method == SingleYearAveraging || p.Method == SingleYearTrajectory
	if single && (p.TargetYear < p.FirstYear || p.TargetYear > p.LastYear) {
		return nil, fmt.Errorf("article6: emissions balance: target year %d is outside %d-%d", p.TargetYear, p.FirstYear, p.LastYear)
	}
	if !single && p.Method != MultiYearTrajectory && p.Method != MultiYearBudget {
		return nil, fmt.Errorf("article6: emissions balance: unknown method %q", p.Method)
	}
	asOf := p.LastYear
	if p.AsOf != 0 && p.AsOf < p.LastYear {
		asOf = p.AsOf
	}
	if asOf < p.FirstYear {
		return nil, fmt.Errorf("article6: emissions balance: as of %d, no year of the period %d-%d has elapsed", p.AsOf, p.FirstYear, p.LastYear)
	}
	ft, used := map[int]int64{}, map[int]int64{}
	// The cumulative amount of para. 7(a)(ii): first transferred and used
	// in the elapsed years.
	var sumFT, sumUsed int64
	for _, a := range p.Adjustments {
		if a.Party != p.Party || a.Year < p.FirstYear || a.Year > p.LastYear {
			continue
		}
		if a.Quantity > 0 {
			ft[a.Year] += a.Quantity
		} else {
			used[a.Year] -= a.Quantity
		}
		if a.Year > asOf {
			continue
		}
		if a.Quantity > 0 {
			sumFT += a.Quantity
		} else {
			sumUsed -= a.Quantity
		}
	}
	n := decimal.NewFromInt(int64(asOf - p.FirstYear + 1)) // elapsed years
	var rows []BalanceRow
	var total BalanceRow
	for y := p.FirstYear; y <= p.LastYear; y++ {
		r := BalanceRow{Year: y, Emissions: p.Emissions[y], FirstTransferred: ft[y], Used: used[y]}
		switch p.Method {
		case SingleYearAveraging:
			r.Adjustment = decimal.Zero
			if y == p.TargetYear {
				r.Adjustment = decimal.NewFromInt(sumFT-sumUsed).DivRound(n, AveragingPlaces)
			}
		default:
			r.Adjustment = decimal.NewFromInt(ft[y] - used[y])
		}
		r.Balance = decimal.NewFromInt(r.Emissions).Add(r.Adjustment)
		rows = append(rows, r)
		total.Emissions += r.Emissions
		total.FirstTransferred += r.FirstTransferred
		total.Used += r.Used
		total.Adjustment = total.Adjustment.Add(r.Adjustment)
		total.Balance = total.Balance.Add(r.Balance)
	}
	if p.Method == MultiYearBudget {
		rows = append(rows, total)
	}
	return rows, nil
}
