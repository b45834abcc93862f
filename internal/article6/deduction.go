package article6

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// Shares is how one gross issuance divides, in whole tonnes. OMGE +
// ShareOfProceeds + Host + Investor == Gross always.
type Shares struct {
	Gross           int64
	OMGE            int64 // cancelled at issuance for overall mitigation in global emissions
	ShareOfProceeds int64 // to the host's adaptation account
	Host            int64
	Investor        int64
}

// Deductions returns the OMGE and share-of-proceeds tonnes an issuance of
// gross tonnes owes under ap. Both are computed on the gross quantity: the
// Singapore implementation agreements state 2 % "of authorised credits"
// cancelled and a 5 % share of proceeds (carbonmarkets-cooperation.gov.sg).
// The rounding to whole tonnes is the approach's Rounding: no public text
// fixes it, so the embedded data round up (the deduction is never below the
// stated share) and mark that as an assumption.
func Deductions(ap Approach, gross int64) (omge, sop int64) {
	return share(ap.OMGE, gross, ap.Rounding), share(ap.ShareOfProceeds, gross, ap.Rounding)
}

func share(rate decimal.Decimal, gross int64, r Rounding) int64 {
	v := rate.Mul(decimal.NewFromInt(gross))
	if r == RoundDown {
		return v.Floor().IntPart()
	}
	return v.Ceil().IntPart()
}

// Split divides a gross issuance of a project abroad: first the deductions
// under ap, then the investor's fraction of what remains, rounded down so the
// host never receives less than its agreed share; the host keeps the rest.
// A project's sharing agreement fixes investorFraction (the seed's step 4);
// rounding down for the investor is our assumption, stated in
// docs/article6.md.
func Split(ap Approach, gross int64, investorFraction decimal.Decimal) (Shares, error) {
	if gross <= 0 {
		return Shares{}, fmt.Errorf("article6: splitting an issuance: gross %d must be positive", gross)
	}
	if investorFraction.IsNegative() || investorFraction.GreaterThan(decimal.NewFromInt(1)) {
		return Shares{}, fmt.Errorf("article6: splitting an issuance: investor fraction %s is not between 0 and 1", investorFraction)
	}
	omge, sop := Deductions(ap, gross)
	if omge+sop > gross {
		return Shares{}, fmt.Errorf("article6: splitting an issuance: deductions %d+%d exceed gross %d", omge, sop, gross)
	}
	net := gross - omge - sop
	inv := investorFraction.Mul(decimal.NewFromInt(net)).Floor().IntPart()
	return Shares{Gross: gross, OMGE: omge, ShareOfProceeds: sop, Host: net - inv, Investor: inv}, nil
}

// CoordinatedSplit divides one Joint Committee issuance decision (JCM style)
// between the Parties' registries: each Party's share is its fraction of
// total rounded down, and the remainder goes to host, so the parts sum to
// total exactly. fractions must not sum above 1.
func CoordinatedSplit(total int64, host string, fractions map[string]decimal.Decimal) (map[string]int64, error) {
	if total <= 0 {
		return nil, fmt.Errorf("article6: coordinated issuance: total %d must be positive", total)
	}
	sum := decimal.Zero
	out := map[string]int64{}
	var given int64
	for p, f := range fractions {
		if p == host {
			continue
		}
		if f.IsNegative() {
			return nil, fmt.Errorf("article6: coordinated issuance: fraction of %s is negative", p)
		}
		sum = sum.Add(f)
		q := f.Mul(decimal.NewFromInt(total)).Floor().IntPart()
		out[p] = q
		given += q
	}
	if sum.GreaterThan(decimal.NewFromInt(1)) {
		return nil, fmt.Errorf("article6: coordinated issuance: fractions sum to %s, above 1", sum)
	}
	out[host] = total - given
	return out, nil
}
