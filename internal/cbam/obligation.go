package cbam

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// Line is one import line g: a good (8-digit CN code) from an origin, its
// net mass and the year of import.
type Line struct {
	ID      string          `json:"id,omitempty"`
	Origin  string          `json:"origin"`            // ISO 3166-1 alpha-2 (or the dataset's country name)
	CN      string          `json:"cn"`                // 8-digit CN code
	Tonnes  decimal.Decimal `json:"tonnes"`            // net mass M_g in tonnes
	Year    int             `json:"year"`              // year of import (≥ 2026)
	Quarter int             `json:"quarter,omitempty"` // 1–4: import quarter; selects the 2026 quarterly price, and counts toward the Art. 22(2) quarterly holding from 2027
	// Route is the production route letter (C BF-BOF, D DRI-EAF, E scrap-EAF,
	// K primary / L secondary aluminium, A grey / B white clinker …). With
	// default values the table's route applies; Route picks among rows that
	// share a code and fills in a route the table leaves open.
	Route  string      `json:"route,omitempty"`
	Actual *ActualData `json:"actual,omitempty"` // nil: default values
	// CarbonPricePaid is the carbon price effectively paid abroad (Art. 9).
	CarbonPricePaid *CarbonPricePaid `json:"carbon_price_paid,omitempty"`
	// Price is the certificate price in EUR; zero means "the published price
	// of the line's quarter (2026) if known".
	Price decimal.Decimal `json:"price,omitempty"`
}

// ActualData are installation data for a good (verified, Art. 8): specific
// emissions of its own production process per tonne, the column-A benchmark
// of that process and the precursors consumed per tonne.
type ActualData struct {
	// Direct and Indirect are tCO2e per tonne of good from the good's own
	// process, precursors excluded. Indirect counts only for goods outside
	// Annex II of Reg. (EU) 2023/956 (cement, fertilisers, 2601 12 00).
	Direct   decimal.Decimal `json:"direct"`
	Indirect decimal.Decimal `json:"indirect,omitempty"`
	// BenchmarkA is the column-A benchmark of the good's process (tCO2e/t),
	// from the benchmark annex of the free-allocation-adjustment act; the
	// shipped dataset has column B only, so actual data must carry it.
	BenchmarkA decimal.Decimal `json:"benchmark_a"`
	Precursors []Precursor     `json:"precursors,omitempty"`
}

// Precursor is a precursor consumed per tonne of the good (m_i), with its
// own actual data or, when Actual is nil, the default values of its origin.
// Precursors produced in the EU count as zero.
type Precursor struct {
	CN            string          `json:"cn"`
	Origin        string          `json:"origin"`
	TonnesPerTone decimal.Decimal `json:"tonnes_per_tonne"`
	Route         string          `json:"route,omitempty"`
	Actual        *ActualData     `json:"actual,omitempty"`
}

// CarbonPricePaid follows the draft implementing act under Art. 9 (May
// 2026): EFF_CP = (EM − rebated EM) × (CP − RC), converted to EUR at the
// yearly average ECB exchange rate; free allocation counts as rebated
// emissions. The euro amount is turned into certificates at the
// certificate price.
type CarbonPricePaid struct {
	Currency string `json:"currency"` // ISO 4217
	// PricePerTonne (CP) and RebatePerTonne (RC) in Currency per tCO2e.
	PricePerTonne  decimal.Decimal `json:"price_per_tonne"`
	RebatePerTonne decimal.Decimal `json:"rebate_per_tonne,omitempty"`
	// CoveredShare is the share of the line's embedded emissions (EM) on
	// which the price was due; RebatedShare the share of those covered
	// emissions that were allocated free or otherwise rebated.
	CoveredShare decimal.Decimal `json:"covered_share"`
	RebatedShare decimal.Decimal `json:"rebated_share,omitempty"`
	// EURPerUnit is the yearly average ECB rate: euros per unit of Currency.
	EURPerUnit decimal.Decimal `json:"eur_per_unit"`
}

// Params are the rule parameters of a calculation; the zero value uses the
// published rules.
type Params struct {
	// CSCF overrides the cross-sectoral correction factor per year.
	CSCF map[int]decimal.Decimal
	// Prices overrides or extends the embedded 2026 quarterly prices with
	// the user's; it is not consulted for 2027+ lines (weekly price of
	// purchase, see price). PriceSource names where they come from.
	Prices      map[PricePeriod]decimal.Decimal
	PriceSource string
}

// InputError is a problem with one field of the input; Field names it in
// the API's terms ("cn", "origin", "tonnes", "year", "actual.precursors[0].cn" …).
type InputError struct {
	Field string
	Err   error
}

func (e *InputError) Error() string {
	return "cbam: " + e.Field + ": " + e.Err.Error()
}
func (e *InputError) Unwrap() error { return e.Err }

func fieldErr(field string, err error) error { return &InputError{Field: field, Err: err} }

// LineResult holds every intermediate figure of a line's obligation.
type LineResult struct {
	ID             string `json:"id,omitempty"`
	Origin         string `json:"origin"`
	CN             string `json:"cn"`
	Sector         Sector `json:"sector"`
	Year           int    `json:"year"`
	Quarter        int    `json:"quarter,omitempty"` // import quarter, when given
	Method         string `json:"method"`            // "default" or "actual"
	DatasetVersion string `json:"dataset_version"`
	// DatasetSuperseded is SupersededNote when the dataset is the annex
	// replaced by IR (EU) 2026/1740, else empty.
	DatasetSuperseded string `json:"dataset_superseded,omitempty"`

	// Default-value path.
	DefaultValueCN      string          `json:"default_value_cn,omitempty"`
	DefaultValueLine    int             `json:"default_value_line,omitempty"`
	DefaultValueCountry string          `json:"default_value_country,omitempty"`
	Fallback            bool            `json:"fallback"`
	FallbackReason      string          `json:"fallback_reason,omitempty"`
	DefaultValueTotal   decimal.Decimal `json:"default_value_total"` // tCO2e/t before mark-up
	MarkUp              decimal.Decimal `json:"mark_up"`
	SEESource           string          `json:"see_source"`

	Route string `json:"route,omitempty"`
	// SEE is the specific embedded emissions (tCO2e per tonne).
	SEE decimal.Decimal `json:"see"`
	// Tonnes is M_g; EmbeddedEmissions = SEE × M_g.
	Tonnes            decimal.Decimal `json:"tonnes"`
	EmbeddedEmissions decimal.Decimal `json:"embedded_emissions"`

	CBAMFactor decimal.Decimal `json:"cbam_factor"` // CBAM_y, share of free allocation retained
	CSCF       decimal.Decimal `json:"cscf"`
	Benchmark  BenchmarkChoice `json:"benchmark"`
	// SEFA is the specific embedded free allocation (tCO2e/t);
	// FreeAllocationAdjustment = SEFA × M_g.
	SEFA                     decimal.Decimal `json:"sefa"`
	FreeAllocationAdjustment decimal.Decimal `json:"free_allocation_adjustment"`

	CarbonPricePaidEUR          decimal.Decimal `json:"carbon_price_paid_eur"`
	CarbonPricePaidCertificates decimal.Decimal `json:"carbon_price_paid_certificates"`

	// Certificates = max(0, EmbeddedEmissions − FreeAllocationAdjustment − CarbonPricePaidCertificates), exact.
	Certificates decimal.Decimal `json:"certificates"`
	// Price is EUR per certificate, PriceSource where it comes from; CostEUR
	// = Certificates × Price rounded half-up to the cent. Without a price
	// both are zero and HasPrice is false, and JSON shows both as null: an
	// unknown cost is not a cost of zero (see MarshalJSON).
	HasPrice    bool            `json:"has_price"`
	Price       decimal.Decimal `json:"price"`
	PriceSource string          `json:"price_source,omitempty"`
	// PriceStatus is published, unverified, user, or unknown (no price).
	PriceStatus string          `json:"price_status,omitempty"`
	CostEUR     decimal.Decimal `json:"cost_eur"`

	Precursors []PrecursorResult `json:"precursors,omitempty"`
	Notes      []string          `json:"notes,omitempty"`
}

// MarshalJSON writes price and cost_eur as null when the line has no
// certificate price: "cost_eur":"0" beside "has_price":false would read as
// nothing to pay.
func (r LineResult) MarshalJSON() ([]byte, error) {
	type plain LineResult
	out := struct {
		plain
		Price   *decimal.Decimal `json:"price"`
		CostEUR *decimal.Decimal `json:"cost_eur"`
	}{plain: plain(r)}
	if r.HasPrice {
		out.Price, out.CostEUR = &r.Price, &r.CostEUR
	}
	return json.Marshal(out)
}

// PrecursorResult shows a precursor's contribution per tonne of the good.
type PrecursorResult struct {
	CN            string            `json:"cn"`
	Origin        string            `json:"origin"`
	Method        string            `json:"method"` // "actual", "default" or "eu" (counted as zero)
	TonnesPerTone decimal.Decimal   `json:"tonnes_per_tonne"`
	SEE           decimal.Decimal   `json:"see"`
	SEFA          decimal.Decimal   `json:"sefa"`
	Notes         []string          `json:"notes,omitempty"`
	Precursors    []PrecursorResult `json:"precursors,omitempty"`
}

// Calculator computes obligations against one dataset. It caches the
// per-tonne factors of default-value goods, so a stream of lines costs a
// few decimal multiplications each. A Calculator is not safe for
// concurrent use; make one per goroutine.
type Calculator struct {
	data   *Dataset
	params Params
	cache  map[factorKey]*defaultFactors
	prices map[PricePeriod]priceChoice
	// supersededNote is the note of results from a superseded dataset.
	supersededNote string
}

type factorKey struct {
	origin, cn, route string
	year              int
}

type defaultFactors struct {
	match     DefaultMatch
	sector    Sector
	markUp    decimal.Decimal
	see       decimal.Decimal
	seeSource string
	bench     BenchmarkChoice
	factor    decimal.Decimal
	cscf      decimal.Decimal
	sefa      decimal.Decimal
	route     string
	notes     []string
	err       error
}

// NewCalculator returns a Calculator over data with params.
func NewCalculator(data *Dataset, params Params) *Calculator {
	c := &Calculator{data: data, params: params, cache: map[factorKey]*defaultFactors{}, prices: map[PricePeriod]priceChoice{}}
	if data.Superseded != "" {
		c.supersededNote = "dataset superseded: " + data.Superseded
	}
	return c
}

// Dataset returns the calculator's dataset.
func (c *Calculator) Dataset() *Dataset { return c.data }

func (c *Calculator) cscf(year int) decimal.Decimal {
	if v, ok := c.params.CSCF[year]; ok {
		return v
	}
	return CSCF(year)
}

// LastYearCovered is the last import year a line may name: the year the
// phase-out ends (CBAM factor 0 from 2034, Directive 2003/87/EC Art. 10a(1a)
// as amended by Directive (EU) 2023/959), as far as the projection runs.
const LastYearCovered = ProjectionLastYear

// ErrYearBeyondRules is a year after LastYearCovered.
var ErrYearBeyondRules = errors.New("year beyond the years this tool covers")

// Bounds of a line's net mass: more than a trillion tonnes, or a finer
// unit than the gram (six decimal places), is a typing mistake, not an
// import (the world makes about two billion tonnes of steel a year).
var (
	MaxTonnes = decimal.New(1, 12)
)

// MaxTonnesDecimals is the most decimal places a net mass may have.
const MaxTonnesDecimals = 6

// ErrTonnesOutOfRange is a net mass of zero, above MaxTonnes or with more
// than MaxTonnesDecimals decimal places.
var ErrTonnesOutOfRange = errors.New("net mass out of range")

func checkTonnes(t decimal.Decimal) error {
	switch {
	case !t.IsPositive():
		return fmt.Errorf("%w: %s t; give a positive net mass in tonnes", ErrTonnesOutOfRange, t)
	case t.GreaterThan(MaxTonnes):
		return fmt.Errorf("%w: more than %s t (1e12) in one line", ErrTonnesOutOfRange, MaxTonnes)
	case t.Exponent() < -MaxTonnesDecimals && !t.Equal(t.Round(MaxTonnesDecimals)):
		return fmt.Errorf("%w: %s t has more than %d decimal places (a gram is 0.000001 t)", ErrTonnesOutOfRange, t, MaxTonnesDecimals)
	}
	return nil
}

// Obligation computes one line. Input problems come back as *InputError
// naming the field.
func (c *Calculator) Obligation(l Line) (LineResult, error) {
	if l.Year < FirstDefinitiveYear {
		return LineResult{}, fieldErr("year", fmt.Errorf("%w: %d", ErrYearBeforeDefinitive, l.Year))
	}
	if l.Year > LastYearCovered {
		return LineResult{}, fieldErr("year", fmt.Errorf("%w: %d; this tool covers %d to %d (%d is the first year without free allocation; the CSCF is published for 2026–2030 and assumed 1 after)",
			ErrYearBeyondRules, l.Year, FirstDefinitiveYear, LastYearCovered, LastYearCovered))
	}
	if l.Tonnes.IsNegative() {
		return LineResult{}, fieldErr("tonnes", fmt.Errorf("negative net mass %s t", l.Tonnes))
	}
	if err := checkTonnes(l.Tonnes); err != nil {
		return LineResult{}, fieldErr("tonnes", err)
	}
	if l.Route != "" && !c.data.routes[l.Route] {
		return LineResult{}, fieldErr("route", fmt.Errorf("%w %q: the dataset's routes are %s (C BF-BOF, D DRI-EAF, E scrap-EAF, K/L primary/secondary aluminium, A/B grey/white clinker …)",
			ErrUnknownRoute, l.Route, strings.Join(c.data.Routes(), ", ")))
	}
	if l.Quarter < 0 || l.Quarter > 4 {
		return LineResult{}, fieldErr("quarter", fmt.Errorf("quarter %d is not 1–4", l.Quarter))
	}
	if l.Price.IsNegative() {
		return LineResult{}, fieldErr("price", fmt.Errorf("negative price %s", l.Price))
	}
	origin, err := CountryCode(l.Origin)
	if err != nil {
		return LineResult{}, fieldErr("origin", err)
	}
	sector, ok := SectorOfCN(l.CN)
	if !ok || !reGoodCode.MatchString(l.CN) {
		return LineResult{}, fieldErr("cn", fmt.Errorf("%w: %q (an 8-digit CN code or 10-digit TARIC code of a good in Annex I of Reg. (EU) 2023/956 is required)", ErrUnknownCN, l.CN))
	}
	if sector == SectorElectricity {
		return LineResult{}, fieldErr("cn", errors.New("electricity (2716) is not supported: its default values are not in the dataset"))
	}
	if euMembers[origin] {
		return LineResult{}, fieldErr("origin", fmt.Errorf("%w: %s", ErrOriginInEU, origin))
	}
	if annexIII[origin] {
		return LineResult{}, fieldErr("origin", fmt.Errorf("%w: %s", ErrOriginExempt, origin))
	}
	factor, _ := RetainedFreeAllocationShare(l.Year)
	r := LineResult{
		ID: l.ID, Origin: origin, CN: l.CN, Sector: sector, Year: l.Year, Quarter: l.Quarter,
		DatasetVersion: c.data.Version(), DatasetSuperseded: c.data.Superseded,
		Tonnes: l.Tonnes, CBAMFactor: factor, CSCF: c.cscf(l.Year),
	}
	if strings.HasPrefix(l.CN, "25070080") {
		r.Notes = append(r.Notes, kaolinicClayNote)
	}
	if CSCFIsAssumed(l.Year) {
		if _, ok := c.params.CSCF[l.Year]; !ok {
			r.Notes = append(r.Notes, fmt.Sprintf("CSCF %d not published; 1 assumed", l.Year))
		}
	}
	if l.Actual == nil {
		f := c.defaultFactors(origin, l.CN, l.Route, l.Year)
		if f.err != nil {
			return LineResult{}, f.err
		}
		r.Method = "default"
		r.DefaultValueCN, r.DefaultValueLine = f.match.MatchedCN, f.match.Row.Line
		r.DefaultValueCountry = f.match.Row.Country
		r.Fallback, r.FallbackReason = f.match.Fallback, f.match.FallbackReason
		r.DefaultValueTotal, r.MarkUp, r.SEE, r.SEESource = f.match.Row.Total, f.markUp, f.see, f.seeSource
		r.Route, r.Benchmark, r.SEFA = f.route, f.bench, f.sefa
		r.Notes = append(r.Notes, f.notes...)
	} else {
		see, sefa, pre, notes, err := c.actual(l.CN, sector, l.Route, l.Year, l.Actual, "actual", 0)
		if err != nil {
			return LineResult{}, err
		}
		r.Method, r.SEE, r.SEFA, r.Precursors = "actual", see, sefa, pre
		r.Route = l.Route
		r.SEESource = "actual data: direct" + map[bool]string{true: " + indirect", false: ""}[indirectCounted(l.CN)] + " + Σ precursors"
		r.Benchmark = BenchmarkChoice{Value: l.Actual.BenchmarkA, Route: l.Route, Column: "A", Rule: "given with the actual data"}
		r.Notes = append(r.Notes, notes...)
	}
	if c.data.Superseded != "" && (r.Method == "default" || usesDefaults(r.Precursors)) {
		r.Notes = append(r.Notes, c.supersededNote)
	}
	r.EmbeddedEmissions = r.SEE.Mul(l.Tonnes)
	r.FreeAllocationAdjustment = r.SEFA.Mul(l.Tonnes)

	pc := c.price(l)
	price, hasPrice := pc.price, pc.ok
	r.HasPrice, r.Price, r.PriceSource, r.PriceStatus = pc.ok, pc.price, pc.source, pc.status
	switch {
	case !pc.ok:
		r.Notes = append(r.Notes, pc.missing)
	case pc.note != "":
		r.Notes = append(r.Notes, pc.note)
	}
	if l.CarbonPricePaid != nil {
		if r.Method == "default" {
			return LineResult{}, fieldErr("carbon_price_paid", errors.New("with default values only the Commission's default carbon price may be deducted (Art. 9), and none is published yet; give actual data to deduct a carbon price paid"))
		}
		eur, err := carbonPricePaidEUR(*l.CarbonPricePaid, r.EmbeddedEmissions)
		if err != nil {
			return LineResult{}, err
		}
		if !hasPrice || price.IsZero() {
			return LineResult{}, fieldErr("price", fmt.Errorf("a certificate price is needed to turn the carbon price paid into certificates (%s)", pc.missing))
		}
		r.CarbonPricePaidEUR = eur
		r.CarbonPricePaidCertificates = eur.Div(price)
	}
	gross := r.EmbeddedEmissions.Sub(r.FreeAllocationAdjustment).Sub(r.CarbonPricePaidCertificates)
	r.Certificates = decimal.Max(decimal.Zero, gross)
	if hasPrice {
		r.CostEUR = r.Certificates.Mul(price).Round(2)
	}
	return r, nil
}

// defaultFactors returns the cached per-tonne factors of a default-value good.
func (c *Calculator) defaultFactors(origin, cn, route string, year int) *defaultFactors {
	k := factorKey{origin, cn, route, year}
	if f, ok := c.cache[k]; ok {
		return f
	}
	f := &defaultFactors{}
	c.cache[k] = f
	sector, _ := SectorOfCN(cn)
	f.sector = sector
	m, err := c.data.LookupDefault(origin, cn, route)
	if err != nil {
		f.err = fieldErr(lookupField(err), err)
		return f
	}
	f.match = m
	// SEE with default values = total × (1 + mark-up of the year), exactly
	// (IR (EU) 2026/1740 Annex I, which dropped the per-year columns; the
	// superseded annex's columns were the same product rounded to 4–6
	// decimals, which made 2028 and 2029 differ from one total).
	f.markUp, _ = DefaultValueMarkUp(sector, year)
	f.see = m.Row.Total.Mul(decimal.NewFromInt(1).Add(f.markUp))
	f.seeSource = fmt.Sprintf("default value total × (1 + %s)", f.markUp)
	f.route = m.Row.Route
	if f.route == "" {
		f.route = route
	} else if route != "" && route != f.route {
		f.notes = append(f.notes, fmt.Sprintf("route %s given, but default values carry the table's route %s", route, f.route))
	}
	bench, err := c.data.BenchmarkB(cn, f.route)
	if errors.Is(err, ErrRouteMismatch) && route != "" && route != f.route {
		// The table's route has no benchmark for this code (the two annexes
		// disagree); the caller's route, when the benchmark table has it, is
		// used and the substitution is stated.
		if b, err2 := c.data.BenchmarkB(cn, route); err2 == nil {
			f.notes = append(f.notes, fmt.Sprintf("the benchmark table has no route %s for %s; route %s given is used", f.route, cn, route))
			bench, err, f.route = b, nil, route
		}
	}
	if err != nil {
		f.err = fieldErr(lookupField(err), err)
		return f
	}
	f.bench = bench
	f.factor, _ = RetainedFreeAllocationShare(year)
	f.cscf = c.cscf(year)
	f.sefa = f.factor.Mul(f.cscf).Mul(bench.Value)
	return f
}

func lookupField(err error) string {
	switch {
	case errors.Is(err, ErrUnknownCountry), errors.Is(err, ErrOriginInEU), errors.Is(err, ErrOriginExempt):
		return "origin"
	case errors.Is(err, ErrAmbiguousGood), errors.Is(err, ErrRouteMismatch), errors.Is(err, ErrRouteRequired):
		return "route"
	case errors.Is(err, ErrNoBenchmark):
		return "cn"
	}
	return "cn"
}

// maxPrecursorDepth bounds the recursion over precursors: CBAM production
// chains (ore → pig iron → crude steel → semi-finished → flat → articles) are
// at most a handful of steps.
const maxPrecursorDepth = 8

// actual computes SEE and SEFA of a good from actual data, recursively over
// its precursors (Reg. (EU) 2023/956 Annex IV point 3; SEFA per the
// free-allocation-adjustment act: CBAM_y × CSCF × BM_A + Σ m_i × SEFA_i).
func (c *Calculator) actual(cn string, sector Sector, route string, year int, a *ActualData, field string, depth int) (decimal.Decimal, decimal.Decimal, []PrecursorResult, []string, error) {
	if depth > maxPrecursorDepth {
		return decimal.Zero, decimal.Zero, nil, nil, fieldErr(field, fmt.Errorf("precursors nested deeper than %d levels", maxPrecursorDepth))
	}
	if a.Direct.IsNegative() || a.Indirect.IsNegative() || a.BenchmarkA.IsNegative() {
		return decimal.Zero, decimal.Zero, nil, nil, fieldErr(field, errors.New("direct, indirect and benchmark_a must not be negative"))
	}
	var notes []string
	see := a.Direct
	if indirectCounted(cn) {
		see = see.Add(a.Indirect)
	} else if !a.Indirect.IsZero() {
		notes = append(notes, fmt.Sprintf("indirect emissions of %s not counted (Annex II good: direct emissions only)", cn))
	}
	factor, _ := RetainedFreeAllocationShare(year)
	sefa := factor.Mul(c.cscf(year)).Mul(a.BenchmarkA)
	var pres []PrecursorResult
	for i, p := range a.Precursors {
		pf := fmt.Sprintf("%s.precursors[%d]", field, i)
		pr, err := c.precursor(p, year, pf, depth+1)
		if err != nil {
			return decimal.Zero, decimal.Zero, nil, nil, err
		}
		see = see.Add(p.TonnesPerTone.Mul(pr.SEE))
		sefa = sefa.Add(p.TonnesPerTone.Mul(pr.SEFA))
		pres = append(pres, pr)
	}
	return see, sefa, pres, notes, nil
}

func (c *Calculator) precursor(p Precursor, year int, field string, depth int) (PrecursorResult, error) {
	if p.TonnesPerTone.IsNegative() {
		return PrecursorResult{}, fieldErr(field+".tonnes_per_tonne", fmt.Errorf("negative precursor mass %s", p.TonnesPerTone))
	}
	sector, ok := SectorOfCN(p.CN)
	if !ok || !reGoodCode.MatchString(p.CN) {
		return PrecursorResult{}, fieldErr(field+".cn", fmt.Errorf("%w: %q", ErrUnknownCN, p.CN))
	}
	origin, err := CountryCode(p.Origin)
	if err != nil {
		return PrecursorResult{}, fieldErr(field+".origin", err)
	}
	pr := PrecursorResult{CN: p.CN, Origin: origin, TonnesPerTone: p.TonnesPerTone}
	switch {
	case euMembers[origin]:
		// Embedded emissions of precursors produced in the EU count as zero:
		// they bore the EU ETS price, and CBAM applies to goods originating
		// in a third country (Reg. (EU) 2023/956 Art. 2(1)) [unverified: the
		// provision of IR (EU) 2025/2547 on EU precursors was not checked
		// here]. Their free allocation was granted in the EU, so no
		// free-allocation adjustment is carried either: ASSUMPTION 2, the
		// symmetric treatment.
		pr.Method = "eu"
		pr.Notes = []string{"produced in the EU: embedded emissions and free allocation counted as zero"}
	case p.Actual != nil:
		see, sefa, pres, notes, err := c.actual(p.CN, sector, p.Route, year, p.Actual, field+".actual", depth)
		if err != nil {
			return PrecursorResult{}, err
		}
		pr.Method, pr.SEE, pr.SEFA, pr.Precursors, pr.Notes = "actual", see, sefa, pres, notes
	default:
		f := c.defaultFactors(origin, p.CN, p.Route, year)
		if f.err != nil {
			var ie *InputError
			if errors.As(f.err, &ie) {
				return PrecursorResult{}, fieldErr(field+"."+ie.Field, ie.Err)
			}
			return PrecursorResult{}, f.err
		}
		pr.Method, pr.SEE, pr.SEFA = "default", f.see, f.sefa
		pr.Notes = append(pr.Notes, f.notes...)
		if f.match.Fallback {
			pr.Notes = append(pr.Notes, f.match.FallbackReason)
		}
	}
	return pr, nil
}

// kaolinicClayNote is said on every 2507 00 80 line: Annex I covers only
// the calcined clays of that code.
const kaolinicClayNote = "CBAM covers only calcined kaolinic clays of 2507 00 80 (Annex I of Reg. (EU) 2023/956 as amended by Reg. (EU) 2025/2083: " +
	"\"other kaolinic clays, except non-calcined\"); non-calcined clay, and kaolin of 2507 00 20, owe nothing"

// usesDefaults reports whether any precursor, at any depth, was valued
// with the dataset's default values.
func usesDefaults(ps []PrecursorResult) bool {
	for _, p := range ps {
		if p.Method == "default" || usesDefaults(p.Precursors) {
			return true
		}
	}
	return false
}

// IndirectEmissionsCounted reports whether indirect emissions count in the
// embedded emissions of the good (8-digit CN code); see indirectCounted.
func IndirectEmissionsCounted(cn string) bool { return indirectCounted(cn) }

// indirectCounted reports whether indirect emissions count for the good:
// they do for goods outside Annex II of Reg. (EU) 2023/956 (cement,
// fertilisers, agglomerated iron ore 2601 12 00); Annex II goods (iron and
// steel, aluminium, hydrogen) count direct emissions only.
func indirectCounted(cn string) bool {
	s, _ := SectorOfCN(cn)
	return s == SectorCement || s == SectorFertilisers || strings.HasPrefix(cn, "26011200")
}

// carbonPricePaidEUR is EFF_CP = EM × covered × (1 − rebated) × (CP − RC) × EUR rate.
func carbonPricePaidEUR(p CarbonPricePaid, embedded decimal.Decimal) (decimal.Decimal, error) {
	one := decimal.NewFromInt(1)
	switch {
	case p.Currency == "":
		return decimal.Zero, fieldErr("carbon_price_paid.currency", errors.New("currency is required (ISO 4217)"))
	case p.PricePerTonne.IsNegative():
		return decimal.Zero, fieldErr("carbon_price_paid.price_per_tonne", errors.New("must not be negative"))
	case p.RebatePerTonne.IsNegative():
		return decimal.Zero, fieldErr("carbon_price_paid.rebate_per_tonne", errors.New("must not be negative"))
	case p.CoveredShare.IsNegative() || p.CoveredShare.GreaterThan(one):
		return decimal.Zero, fieldErr("carbon_price_paid.covered_share", errors.New("must be between 0 and 1"))
	case p.RebatedShare.IsNegative() || p.RebatedShare.GreaterThan(one):
		return decimal.Zero, fieldErr("carbon_price_paid.rebated_share", errors.New("must be between 0 and 1"))
	case !p.EURPerUnit.IsPositive() && p.Currency != "EUR":
		return decimal.Zero, fieldErr("carbon_price_paid.eur_per_unit", errors.New("a positive exchange rate (EUR per unit) is required"))
	}
	rate := p.EURPerUnit
	if p.Currency == "EUR" {
		rate = one
	}
	net := decimal.Max(decimal.Zero, p.PricePerTonne.Sub(p.RebatePerTonne))
	em := embedded.Mul(p.CoveredShare).Mul(one.Sub(p.RebatedShare))
	return em.Mul(net).Mul(rate), nil
}
