package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
)

// Singapore's carbon tax: surrender of international carbon credits (ICCs).
//
// Sources (docs/article6.md, "Singapore ICC surrender"):
//   - Carbon Pricing Act 2018 as amended by the Carbon Pricing (Amendment)
//     Act 2022 (No. 37 of 2022, in force 1 Jan 2024): an "international
//     carbon credit" is a certificate representing one tonne of GHG
//     emissions reductions or removals (s. 2(1)), so ICCs are whole tonnes.
//   - Carbon Pricing (Carbon Tax, Carbon Credits and Registries)
//     Regulations 2020 as amended by S 661/2023, reg. 2A: one eligible ICC
//     may be surrendered in place of one fixed-price carbon credit for an
//     emissions year 2024 or later, "subject to section 33B of the Act";
//     the criteria: reductions or removals between 1 Jan 2021 and 31 Dec
//     2030 (both inclusive) and not counted more than once contrary to the
//     Paris Agreement (secondary summaries of S 661/2023 read: enviliance
//     report 11140, globalpccs p=6190; the regulation's text itself was
//     seen only up to reg. 2A).
//   - The limit, up to 5 % of the facility's taxable emissions per
//     emissions year: NEA/MSE as reported (Rajah & Tann, 4 Oct 2023;
//     Straits Times, 4 Oct 2023) and /work/shared/domain/compliance.md
//     ("ICCs ≤ 5 % of taxable emissions, vintage 2021–2030"). The text of
//     s. 33B, which sets it, was not read.
//
// Our reading where the texts seen are silent: the limit in whole ICCs is
// 5 % of the taxable emissions rounded down (an ICC is one tonne and the
// limit is a ceiling, so a fraction of a tonne cannot be surrendered); the
// limit is per taxable facility (one account here) and emissions year, summed
// over every surrender for that year; "not counted more than once" is met
// by units that arrived here as ITMOs (the hub attached their Article 6
// statement after checking that their authorisation covers acquisition by
// Singapore), so units without it are refused; and ITMOs whose
// authorisation, as the hub stated it in the import, does not allow use
// towards an NDC are refused (icc_purpose_not_authorised): ICCs must be
// "authorised with corresponding adjustment" (/work/shared/domain/markets.md,
// Singapore ICC row), the hub's ledger records an accepted surrender as
// Singapore's NDC use and refuses it for ITMOs not authorised for NDC
// (article6_purpose_not_authorised), and that Singapore counts ICCs towards
// its NDC is our reading (s. 33B not read). The host's Eligibility List
// and the programme/methodology criteria are not checked here
// (internal/rulebook).

// PurposeICC is the retirement purpose of an ICC surrender.
const PurposeICC = "icc"

// ICC limits (sources above).
const (
	ICCVintageFrom = 2021
	ICCVintageTo   = 2030
	// ICCLimitPercent is the share of taxable emissions ICCs may pay.
	ICCLimitPercent = 5
)

// Refusal codes of the ICC surrender and the emissions report.
const (
	CodeICCNotSingapore        = "icc_not_singapore"
	CodeICCComplianceYear      = "icc_compliance_year_required"
	CodeICCNoTaxableEmissions  = "icc_no_taxable_emissions"
	CodeICCLimitExceeded       = "icc_limit_exceeded"
	CodeICCVintage             = "icc_vintage_outside_2021_2030"
	CodeICCNotAuthorised       = "icc_not_authorised"
	CodeICCPurposeNotAuth      = "icc_purpose_not_authorised"
	CodeEmissionsAlreadyReport = "emissions_already_reported"
)

// ICCLimit is the number of ICCs a facility with these taxable emissions
// (tCO2e) may surrender for one emissions year: 5 % rounded down to whole
// tonnes (our reading, above).
func ICCLimit(taxableEmissions int64) int64 {
	if taxableEmissions <= 0 {
		return 0
	}
	// taxable/100*5 + (taxable%100)*5/100 avoids overflow for any int64.
	return taxableEmissions/100*ICCLimitPercent + taxableEmissions%100*ICCLimitPercent/100
}

// ReportEmissions records a taxable facility's taxable emissions for an
// emissions (compliance) year, as the registry administrator takes them
// from the facility's verified emissions report. The facility is an
// account of this registry. A year is reported once (a correction of an
// assessment is not modelled).
type ReportEmissions struct {
	Account int64 `json:"account_id"`
	Year    int   `json:"year"`
	// Tonnes is the taxable emissions in tCO2e.
	Tonnes int64 `json:"tonnes"`
}

func (ReportEmissions) Kind() string { return "report_emissions" }

type iccKey struct {
	Account int64
	Year    int
}

func iccLess(a, b iccKey) bool {
	if a.Account != b.Account {
		return a.Account < b.Account
	}
	return a.Year < b.Year
}

// iccSpan is a serial range of a local issuance that arrived as ITMOs,
// with the purposes the hub stated of their authorisation (ImportITMO.Purposes;
// "" unknown).
type iccSpan struct {
	Start, End int64
	Purposes   string
}

// ndc reports whether the span's authorisation allows use towards an NDC,
// or its purposes are unknown (an import from a hub that did not state
// them: accepted as before, and the hub's ledger still checks the use).
func (s iccSpan) ndc() bool {
	return s.Purposes == "" || slices.Contains(strings.Split(s.Purposes, ","), "NDC")
}

// importPurposes are the purposes an import may state, in the order
// ImportITMO.Purposes lists them (article6.PurposeNDC, PurposeOIMP,
// PurposeOther).
var importPurposes = []string{"NDC", "OIMP", "OP"}

// checkImportPurposes checks an import block's stated purposes: known
// ones, each once, in importPurposes' order.
func checkImportPurposes(field string, it *ImportITMO) error {
	if it == nil || it.Purposes == "" {
		return nil
	}
	var canon []string
	given := strings.Split(it.Purposes, ",")
	for _, p := range importPurposes {
		if slices.Contains(given, p) {
			canon = append(canon, p)
		}
	}
	if strings.Join(canon, ",") != it.Purposes {
		return ledger.Errorf(ledger.KindInvalid, ledger.CodeInvalid, 0, field, "%s %q must list purposes of %v, each once, comma-separated in that order", field, it.Purposes, importPurposes)
	}
	return nil
}

// singapore reports whether this registry is Singapore's: the carbon tax
// and its ICCs are Singapore's.
func (n *Node) singapore() bool { return n.party() == "SG" }

func (n *Node) reportEmissions(w *writeSet, a Actor, r ReportEmissions, res *Result) error {
	if !n.singapore() {
		return ledger.Errorf(ledger.KindInvalid, CodeICCNotSingapore, 0, "", "registry %s is not Singapore's: taxable emissions are recorded for Singapore's carbon tax only", n.code)
	}
	if _, err := n.account("account_id", r.Account, ledger.CodeAccountNotFound, 0); err != nil {
		return err
	}
	if r.Year < 2019 || r.Year > 2100 {
		// The Carbon Pricing Act 2018 taxes emissions from 2019.
		return invalid("year", "year %d must be an emissions year from 2019", r.Year)
	}
	if r.Tonnes <= 0 || r.Tonnes > ledger.MaxSerial {
		return invalid("tonnes", "tonnes must be a positive whole number of tCO2e up to %d, not %d", ledger.MaxSerial, r.Tonnes)
	}
	k := iccKey{r.Account, r.Year}
	if t, ok := n.st.emissions.Lookup(k); ok {
		return ledger.Errorf(ledger.KindConflict, CodeEmissionsAlreadyReport, 0, "year", "account %d's taxable emissions for %d are already recorded (%d t)", r.Account, r.Year, t)
	}
	n.st.emissions.Set(k, r.Tonnes)
	res.ID, res.Quantity = r.Account, r.Tonnes
	return nil
}

// checkICC checks an ICC surrender of pieces ps from account from before
// anything moves, and returns the quantity to count against the year.
func (n *Node) checkICC(from *ledger.Account, r Retire, ps []piece) (int64, error) {
	if !n.singapore() {
		return 0, ledger.Errorf(ledger.KindInvalid, CodeICCNotSingapore, 0, "purpose", "purpose icc is a surrender under Singapore's carbon tax; registry %s is not Singapore's", n.code)
	}
	if r.ComplianceYear == 0 {
		return 0, ledger.Errorf(ledger.KindInvalid, CodeICCComplianceYear, 0, "compliance_year", "an ICC surrender names the emissions year it pays tax for (compliance_year)")
	}
	k := iccKey{from.ID, r.ComplianceYear}
	taxable, ok := n.st.emissions.Lookup(k)
	if !ok {
		return 0, ledger.Errorf(ledger.KindConflict, CodeICCNoTaxableEmissions, 0, "compliance_year", "no taxable emissions are recorded for account %d and %d: the registry administrator records them first (report_emissions)", from.ID, r.ComplianceYear)
	}
	var q int64
	for _, p := range ps {
		q += p.End - p.Start + 1
		x := n.st.issuances.Get(p.Issuance)
		if x.Vintage < ICCVintageFrom || x.Vintage > ICCVintageTo {
			return 0, ledger.Errorf(ledger.KindInvalid, CodeICCVintage, 0, "units", "vintage %d of %s is outside %d-%d, the years an ICC's reductions must fall in", x.Vintage, x.Project, ICCVintageFrom, ICCVintageTo)
		}
		spans, ok := n.itmoSpans(p)
		if !ok {
			return 0, ledger.Errorf(ledger.KindInvalid, CodeICCNotAuthorised, 0, "units", "units %d-%d of %s did not arrive here as ITMOs authorised for acquisition by Singapore", p.Start, p.End, x.Project)
		}
		for _, s := range spans {
			if !s.ndc() {
				lo, hi := max(s.Start, p.Start), min(s.End, p.End)
				return 0, ledger.Errorf(ledger.KindInvalid, CodeICCPurposeNotAuth, 0, "units", "units %d-%d of %s are ITMOs authorised for %s only, not for use towards an NDC: Singapore counts a surrendered ICC towards its NDC", lo, hi, x.Project, s.Purposes)
			}
		}
	}
	used, limit := n.st.iccUsed.Get(k), ICCLimit(taxable)
	if used+q > limit {
		return 0, ledger.Errorf(ledger.KindConflict, CodeICCLimitExceeded, 0, "units", "surrendering %d ICCs would bring account %d's ICCs for %d to %d, above %d (%d %% of %d t taxable emissions)", q, from.ID, r.ComplianceYear, used+q, limit, ICCLimitPercent, taxable)
	}
	return q, nil
}

// itmoSpans is the ITMO ranges covering p, in serial order; ok is false
// unless every unit of p came in an import that carried the hub's ITMO
// statement.
func (n *Node) itmoSpans(p piece) (spans []iccSpan, ok bool) {
	next := p.Start
	for _, s := range n.st.itmos.Get(p.Issuance) {
		if s.Start <= next && s.End >= next {
			spans = append(spans, s)
			next = s.End + 1
			if next > p.End {
				return spans, true
			}
		}
	}
	return nil, false
}

// rememberITMOs records the ranges an applied import brought as ITMOs.
func (st *state) rememberITMOs(code string, r Import) {
	for _, b := range r.Blocks {
		if b.ITMO == nil {
			continue
		}
		id, ok := b.Origin.Issuance, b.Origin.Registry == code
		if !ok && st.origins != nil {
			id, ok = st.origins.local[b.Origin.Origin]
		}
		if !ok {
			continue
		}
		st.itmos.Set(id, withSpan(st.itmos.Get(id), iccSpan{b.Start, b.End, b.ITMO.Purposes}))
	}
}

// withSpan is spans with s added: the latest import's statement replaces
// what earlier imports of the same units said (units that left and came
// back), so the spans never overlap. spans is not modified.
func withSpan(spans []iccSpan, s iccSpan) []iccSpan {
	out := make([]iccSpan, 0, len(spans)+2)
	for _, o := range spans {
		if o.End < s.Start || o.Start > s.End {
			out = append(out, o)
			continue
		}
		if o.Start < s.Start {
			out = append(out, iccSpan{o.Start, s.Start - 1, o.Purposes})
		}
		if o.End > s.End {
			out = append(out, iccSpan{s.End + 1, o.End, o.Purposes})
		}
	}
	out = append(out, s)
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}

// loadICC rebuilds a Singapore registry's taxable emissions, ICCs
// surrendered and ITMO ranges from the journal at start-up (they have no
// table of their own).
func loadICC(ctx context.Context, db *store.DB, st *state, code string) error {
	if len(code) < 2 || code[:2] != "SG" {
		return nil
	}
	kinds := []string{ReportEmissions{}.Kind(), Import{}.Kind(), Retire{}.Kind()}
	return replayKinds(ctx, db, kinds, func(_ ledger.Entry, req Request, res Result) error {
		switch r := req.(type) {
		case ReportEmissions:
			st.emissions.Set(iccKey{r.Account, r.Year}, r.Tonnes)
		case Import:
			st.rememberITMOs(code, r)
		case Retire:
			if isICC(r.Purpose) {
				k := iccKey{r.From, r.ComplianceYear}
				st.iccUsed.Set(k, st.iccUsed.Get(k)+res.Quantity)
			}
		}
		return nil
	})
}

// replayKinds calls fn with every journal entry of the kinds, in journal
// order, decoded (the start-up rebuild of facts that have no table of
// their own).
func replayKinds(ctx context.Context, db *store.DB, kinds []string, fn func(e ledger.Entry, req Request, res Result) error) error {
	var es []ledger.Entry
	for _, k := range kinds {
		part, err := db.Entries(ctx, store.EntryFilter{Kind: k})
		if err != nil {
			return fmt.Errorf("registry: load: %s entries: %w", k, err)
		}
		es = append(es, part...)
	}
	sort.Slice(es, func(i, j int) bool { return es[i].Seq < es[j].Seq })
	for _, e := range es {
		var b entryBody
		if err := json.Unmarshal([]byte(e.Body), &b); err != nil {
			return fmt.Errorf("registry: load: entry %d: %w", e.Seq, err)
		}
		req, err := DecodeRequest(e.Kind, b.Request)
		if err != nil {
			return fmt.Errorf("registry: load: entry %d: %w", e.Seq, err)
		}
		if err := fn(e, req, b.Result); err != nil {
			return fmt.Errorf("registry: load: entry %d: %w", e.Seq, err)
		}
	}
	return nil
}

func isICC(purpose string) bool { return strings.EqualFold(strings.TrimSpace(purpose), PurposeICC) }

// CarbonTaxYear is a taxable facility's ICC position for one emissions
// year.
type CarbonTaxYear struct {
	Year             int   `json:"year"`
	TaxableEmissions int64 `json:"taxable_emissions"`
	ICCLimit         int64 `json:"icc_limit"`
	ICCSurrendered   int64 `json:"icc_surrendered"`
	ICCHeadroom      int64 `json:"icc_headroom"`
}

// carbonTax lists account's ICC position per emissions year with taxable
// emissions recorded (nil when none: outside a Singapore registry always).
func (st *state) carbonTax(account int64) []CarbonTaxYear {
	var out []CarbonTaxYear
	for k, t := range st.emissions.From(iccKey{Account: account}) {
		if k.Account != account {
			break
		}
		y := CarbonTaxYear{Year: k.Year, TaxableEmissions: t, ICCLimit: ICCLimit(t), ICCSurrendered: st.iccUsed.Get(k)}
		y.ICCHeadroom = y.ICCLimit - y.ICCSurrendered
		out = append(out, y)
	}
	return out
}
