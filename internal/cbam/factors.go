package cbam

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// FirstDefinitiveYear is the first year of the definitive period: certificates
// are owed for goods imported from 1 January 2026 (Reg. (EU) 2023/956 Art. 36,
// application of the definitive period, as amended by Reg. (EU) 2025/2083).
const FirstDefinitiveYear = 2026

// retainedShare is the "CBAM factor" CBAM_y: the share of EU ETS free
// allocation still granted to CBAM sectors in year y, i.e. the share by which
// the free-allocation adjustment reduces the certificates owed. It is NOT the
// share charged. Source: Directive 2003/87/EC Art. 10a(1a) second subparagraph
// as amended by Directive (EU) 2023/959 (2026 97.5 %, 2027 95 %, 2028 90 %,
// 2029 77.5 %, 2030 51.5 %, 2031 39 %, 2032 26.5 %, 2033 14 %, 0 from 2034),
// applied to CBAM by Reg. (EU) 2023/956 Art. 31(1).
var retainedShare = map[int]decimal.Decimal{
	2026: decimal.RequireFromString("0.975"),
	2027: decimal.RequireFromString("0.95"),
	2028: decimal.RequireFromString("0.90"),
	2029: decimal.RequireFromString("0.775"),
	2030: decimal.RequireFromString("0.515"),
	2031: decimal.RequireFromString("0.39"),
	2032: decimal.RequireFromString("0.265"),
	2033: decimal.RequireFromString("0.14"),
}

// ErrYearBeforeDefinitive is returned for years before 2026, when no
// certificates were owed (the transitional period only required reports).
var ErrYearBeforeDefinitive = fmt.Errorf("year before the definitive period (%d)", FirstDefinitiveYear)

// RetainedFreeAllocationShare returns the CBAM factor CBAM_y of year: the share
// of free allocation retained (2026 0.975 … 2033 0.14, 2034 and later 0).
// Years before 2026 return ErrYearBeforeDefinitive.
func RetainedFreeAllocationShare(year int) (decimal.Decimal, error) {
	if year < FirstDefinitiveYear {
		return decimal.Zero, fmt.Errorf("%w: %d", ErrYearBeforeDefinitive, year)
	}
	if v, ok := retainedShare[year]; ok {
		return v, nil
	}
	return decimal.Zero, nil
}

// CSCF returns the cross-sectoral correction factor applied to EU ETS free
// allocation in year, which the free-allocation adjustment mirrors
// (Reg. (EU) 2023/956 Art. 31(1); IR (EU) 2025/2620). It is taken as 1 for
// 2026–2030, the value the cross-sectoral correction factor takes while
// free allocation stays within the cap of Directive 2003/87/EC Art. 10a(5)
// [unverified: the Commission's decision fixing it for 2026–2030 was not
// checked here]. From 2031 no value is published: ASSUMPTION 1. Both are
// exposed so callers can override them through Params.CSCF. From 2034 the
// CBAM factor is 0, so the CSCF no longer matters.
func CSCF(year int) decimal.Decimal {
	return decimal.NewFromInt(1)
}

// CSCFIsAssumed reports whether CSCF(year) is an assumption rather than a
// published value.
func CSCFIsAssumed(year int) bool { return year > 2030 }

// Sector is a CBAM goods category (Reg. (EU) 2023/956 Annex I).
type Sector string

// The CBAM sectors.
const (
	SectorCement      Sector = "cement"
	SectorIronSteel   Sector = "iron_steel"
	SectorAluminium   Sector = "aluminium"
	SectorFertilisers Sector = "fertilisers"
	SectorHydrogen    Sector = "hydrogen"
	SectorElectricity Sector = "electricity"
)

// SectorOfCN returns the CBAM sector of a CN code (2 to 8 digits, or a
// 10-digit TARIC code) per Annex I of Reg. (EU) 2023/956 as amended by Reg.
// (EU) 2025/2083, or false when the code is outside CBAM. A code shorter
// than the Annex's entry (such as "2507" for 2507 00 80) is outside.
func SectorOfCN(cn string) (Sector, bool) {
	has := func(p string) bool { return len(cn) >= len(p) && cn[:len(p)] == p }
	switch {
	// Chapter 72 exclusions and the 3105 60 00 exclusion of Annex I.
	case has("72022"), has("72023"), has("72025"), has("72027"), has("72028"), has("72029"), has("7204"),
		has("310560"):
		return "", false
	// Kaolinic clays: only ex 2507 00 80, "other kaolinic clays, except
	// non-calcined" (Annex I as amended by Reg. (EU) 2025/2083); kaolin,
	// 2507 00 20, is not a CBAM good.
	case has("25070080"), has("2523"):
		return SectorCement, true
	case has("2716"):
		return SectorElectricity, true
	case has("28041000"):
		return SectorHydrogen, true
	case has("2808"), has("2814"), has("283421"), has("3102"), has("3105"):
		return SectorFertilisers, true
	case has("26011200"), has("72"), has("7301"), has("7302"), has("730300"), has("7304"), has("7305"),
		has("7306"), has("7307"), has("7308"), has("7309"), has("7310"), has("7311"), has("7318"), has("7326"):
		return SectorIronSteel, true
	case has("7601"), has("7603"), has("7604"), has("7605"), has("7606"), has("7607"), has("7608"),
		has("76090000"), has("7610"), has("7611"), has("7612"), has("7613"), has("7614"), has("7616"):
		return SectorAluminium, true
	}
	return "", false
}

// DefaultValueMarkUp returns the mark-up added to a default value's total
// embedded emissions in year: for cement, iron and steel, aluminium and
// hydrogen 10 % in 2026, 20 % in 2027 and 30 % from 2028; for fertilisers 1 %
// in every year. Source: Implementing Regulation (EU) 2025/2621 (default
// values), recital (4); Annex I as replaced by IR (EU) 2026/1740 gives the
// totals only, the value with mark-up being total × (1 + mark-up). The
// superseded annex's per-year columns were that product rounded; the shipped
// dataset v20260204 was checked against this rule row by row (see the loader).
// Electricity has no mark-up here: its default values are not in this dataset.
func DefaultValueMarkUp(sector Sector, year int) (decimal.Decimal, error) {
	if year < FirstDefinitiveYear {
		return decimal.Zero, fmt.Errorf("%w: %d", ErrYearBeforeDefinitive, year)
	}
	switch sector {
	case SectorFertilisers:
		return decimal.RequireFromString("0.01"), nil
	case SectorCement, SectorIronSteel, SectorAluminium, SectorHydrogen:
		switch year {
		case 2026:
			return decimal.RequireFromString("0.10"), nil
		case 2027:
			return decimal.RequireFromString("0.20"), nil
		default:
			return decimal.RequireFromString("0.30"), nil
		}
	}
	return decimal.Zero, fmt.Errorf("cbam: no default-value mark-up for sector %q", sector)
}
