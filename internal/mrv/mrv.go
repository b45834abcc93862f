// Package mrv turns an installation's monitoring data into emissions:
// calculation-based and mass-balance source streams, aluminium PFCs by the
// slope method, indirect emissions from electricity, attributed to production
// processes and goods with their precursors; and from the same activity data
// a China-ETS-style report and a CBAM-style report with their differences.
//
// Units: masses in tonnes, emissions in tonnes CO2e, NCV in TJ per unit of
// quantity, emission factors in tCO2 per TJ (combustion) or tCO2 per tonne
// (process input), electricity in MWh with factors in tCO2 per MWh.
//
// Rounding: source-stream emissions are products of exact decimals and are
// reported exactly. Attribution and precursor embedding divide (specific
// embedded emissions, a precursor's share of its source's output); they are
// carried as exact fractions (math/big.Rat) and each reported figure is
// rounded once, at the end, half away from zero to ReportDecimals decimal
// places (Rounding states the rule in every result).
package mrv

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"sort"

	"github.com/corridor-carbon/corridor/internal/cbam"
	"github.com/shopspring/decimal"
)

// CO2PerC converts tonnes of carbon to tonnes of CO2 in mass balances: the
// ratio of molar masses 44.010/12.011 = 3.664, the factor of the CBAM
// monitoring rules (Implementing Regulation (EU) 2025/2547, mass-balance
// method, `Em = Σ AD_k × C_k × 3.664`, as in the EU ETS monitoring rules of
// IR (EU) 2018/2066). 44/12 = 3.667 is the rounder textbook ratio; the
// regulation's 3.664 is used.
var CO2PerC = decimal.RequireFromString("3.664")

// GWPs of the aluminium PFCs: 100-year values of the IPCC Fifth Assessment
// Report, CF4 6630 and C2F6 11100, used by the PFC method of IR (EU)
// 2025/2547 for primary aluminium.
var (
	GWPCF4  = decimal.NewFromInt(6630)
	GWPC2F6 = decimal.NewFromInt(11100)
)

// SourceStream is a fuel or material monitored by the calculation-based
// method (IR 2025/2547): Em = AD × EF × OF, AD = Quantity × NCV for fuels.
// For process materials (carbonates) NCV is left zero, AD = Quantity and EF
// is in tCO2 per tonne; OF is then the conversion factor.
type SourceStream struct {
	ID       string          `json:"id"`
	Process  string          `json:"process"`  // production process it is attributed to
	Kind     string          `json:"kind"`     // "combustion" or "process"
	Quantity decimal.Decimal `json:"quantity"` // t (or 1000 Nm3 for gases, with NCV to match)
	NCV      decimal.Decimal `json:"ncv"`      // TJ per unit of quantity (combustion)
	EF       decimal.Decimal `json:"ef"`       // tCO2/TJ (combustion) or tCO2/t (process)
	// OF is the oxidation (combustion) or conversion (process) factor, 0–1;
	// zero means 1.
	OF decimal.Decimal `json:"of"`
	// BiomassFraction is the share of the carbon from biomass (0–1). It is
	// zero-rated only where BiomassSustainable says the biomass meets the
	// sustainability and greenhouse-gas saving criteria of Directive (EU)
	// 2018/2001 (RED II) Art. 29 (IR (EU) 2025/2547 Annex II B.3.3).
	// Without that flag the biomass is counted like fossil carbon, and the
	// stream's note says so: the choice of the EU ETS, where biomass not
	// meeting the criteria is treated as fossil (IR (EU) 2018/2066 Art.
	// 38(5)), rather than refusing the data.
	BiomassFraction    decimal.Decimal `json:"biomass_fraction"`
	BiomassSustainable bool            `json:"biomass_sustainable,omitempty"`
}

// MassBalanceStream is an input (or, with Output, an output) of a mass
// balance: Em = Σ ± Quantity × CarbonContent × 3.664.
type MassBalanceStream struct {
	ID            string          `json:"id"`
	Process       string          `json:"process"`
	Quantity      decimal.Decimal `json:"quantity"`       // t
	CarbonContent decimal.Decimal `json:"carbon_content"` // t C per t
	Output        bool            `json:"output"`         // products, slag, dust: subtracted
}

// PFCSource is an aluminium electrolysis line monitored by the slope method:
// CF4 = SEF × AEM × Pr_Al, C2F6 = CF4 × F (the form of 40 CFR 98.63(b);
// that IR (EU) 2025/2547's slope method has the same form is an inference,
// not checked against its annex), in tonnes, with SEF in kg CF4 per tonne
// of aluminium per anode-effect minute per cell-day.
type PFCSource struct {
	ID               string          `json:"id"`
	Process          string          `json:"process"`
	AluminiumTonnes  decimal.Decimal `json:"aluminium_tonnes"`   // Pr_Al
	AnodeEffectMin   decimal.Decimal `json:"anode_effect_min"`   // AEM, minutes per cell-day
	SlopeCF4         decimal.Decimal `json:"slope_cf4"`          // SEF, (kg CF4/t Al)/(AE-min/cell-day)
	C2F6PerCF4Weight decimal.Decimal `json:"c2f6_per_cf4_ratio"` // F, t C2F6 per t CF4
}

// ElectricityUse is electricity consumed by a process: indirect emissions
// = MWh × factor.
type ElectricityUse struct {
	Process string          `json:"process"`
	MWh     decimal.Decimal `json:"mwh"`
	Factor  decimal.Decimal `json:"factor"` // tCO2/MWh (grid or supplier)
}

// PrecursorUse is a precursor consumed by a process: from another process
// of the installation (FromProcess) or purchased (with its SEEs and its CN
// code, which decides whether its indirect emissions count: IR (EU)
// 2025/2547 Annex I point 3.1).
type PrecursorUse struct {
	FromProcess string          `json:"from_process,omitempty"`
	CN          string          `json:"cn,omitempty"`
	Tonnes      decimal.Decimal `json:"tonnes"`
	SEEDirect   decimal.Decimal `json:"see_direct,omitempty"`   // purchased only
	SEEIndirect decimal.Decimal `json:"see_indirect,omitempty"` // purchased only
}

// Process is a production process of the installation making one good.
type Process struct {
	ID            string          `json:"id"`
	CN            string          `json:"cn"`             // 8-digit CN code of the good
	ActivityLevel decimal.Decimal `json:"activity_level"` // tonnes produced in the period
	Precursors    []PrecursorUse  `json:"precursors,omitempty"`
}

// Installation is one reporting period of monitoring data.
type Installation struct {
	Name         string              `json:"name"`
	Country      string              `json:"country"`
	Year         int                 `json:"year"`
	Streams      []SourceStream      `json:"streams,omitempty"`
	MassBalances []MassBalanceStream `json:"mass_balances,omitempty"`
	PFCs         []PFCSource         `json:"pfcs,omitempty"`
	Electricity  []ElectricityUse    `json:"electricity,omitempty"`
	Processes    []Process           `json:"processes"`
}

// FieldError names the bad input (e.g. "streams[2].of").
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return "mrv: " + e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field string, format string, a ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, a...)}
}

// StreamEmissions is one monitored source's result.
type StreamEmissions struct {
	ID      string          `json:"id"`
	Process string          `json:"process"`
	Method  string          `json:"method"` // calculation, mass_balance, pfc_slope
	Kind    string          `json:"kind"`   // combustion, process, pfc
	CO2e    decimal.Decimal `json:"co2e"`
	Biomass decimal.Decimal `json:"biomass_co2,omitempty"` // zero-rated (RED II criteria met)
	// BiomassCounted is biomass CO2 counted in CO2e because the stream does
	// not say its biomass meets the RED II criteria.
	BiomassCounted decimal.Decimal `json:"biomass_counted_co2,omitempty"`
	Note           string          `json:"note,omitempty"`
	CF4            decimal.Decimal `json:"cf4,omitempty"`
	C2F6           decimal.Decimal `json:"c2f6,omitempty"`
	Equations      string          `json:"equation"`
}

// GoodEmissions are a process's attributed and embedded emissions.
type GoodEmissions struct {
	Process       string          `json:"process"`
	CN            string          `json:"cn"`
	ActivityLevel decimal.Decimal `json:"activity_level"`
	// Attributed emissions of the process itself.
	DirectAttributed   decimal.Decimal `json:"direct_attributed"`
	IndirectAttributed decimal.Decimal `json:"indirect_attributed"`
	// Emissions embedded in the precursors consumed (tCO2e).
	PrecursorDirect   decimal.Decimal `json:"precursor_direct"`
	PrecursorIndirect decimal.Decimal `json:"precursor_indirect"`
	// PrecursorIndirectCounted is the part of PrecursorIndirect that CBAM
	// counts: decided per precursor by its own CN code (IR (EU) 2025/2547
	// Annex I point 3.1), so sinter feeding pig iron brings its indirect
	// emissions, and hydrogen feeding ammonia does not.
	PrecursorIndirectCounted decimal.Decimal `json:"precursor_indirect_counted"`
	// Specific embedded emissions per tonne of good.
	SEEDirect   decimal.Decimal `json:"see_direct"`
	SEEIndirect decimal.Decimal `json:"see_indirect"`
	// IndirectCounted: the good's own indirect emissions count under CBAM
	// (goods outside Annex II of Reg. (EU) 2023/956: cement, fertilisers,
	// 2601 12 00). SEECBAM is what CBAM charges: direct, the good's own
	// indirect where counted, and the counted indirect of its precursors.
	IndirectCounted bool            `json:"indirect_counted"`
	SEECBAM         decimal.Decimal `json:"see_cbam"`
}

// Result is the installation's emissions and the goods' embedded emissions.
type Result struct {
	Streams    []StreamEmissions `json:"streams"`
	Combustion decimal.Decimal   `json:"combustion_co2"`
	ProcessCO2 decimal.Decimal   `json:"process_co2"`
	PFC        decimal.Decimal   `json:"pfc_co2e"`
	Direct     decimal.Decimal   `json:"direct"`
	Indirect   decimal.Decimal   `json:"indirect"`
	// BiomassCO2 is zero-rated biomass CO2; BiomassCountedCO2 is biomass
	// CO2 counted in Direct for want of the RED II flag.
	BiomassCO2        decimal.Decimal `json:"biomass_co2"`
	BiomassCountedCO2 decimal.Decimal `json:"biomass_counted_co2"`
	Goods             []GoodEmissions `json:"goods"`
	// Rounding states how the figures were rounded.
	Rounding     string `json:"rounding"`
	installation Installation
}

// ReportDecimals is the number of decimal places to which attributed and
// embedded figures (quotients) are rounded, once, at the end: far below
// any metering uncertainty, so every significant digit is kept.
const ReportDecimals = 10

// RoundingRule is the rounding stated in every Result.
var RoundingRule = fmt.Sprintf("source-stream emissions exact; attribution and precursor embedding in exact fractions, "+
	"each reported good figure (precursor_*, see_*) rounded once at the end, half away from zero, to %d decimal places", ReportDecimals)

var one = decimal.NewFromInt(1)

func share(field string, v decimal.Decimal) error {
	if v.IsNegative() || v.GreaterThan(one) {
		return fieldErr(field, "%s is not a share between 0 and 1", v)
	}
	return nil
}

// Compute calculates every source, attributes emissions to processes and
// embeds precursors into the goods' specific embedded emissions.
func Compute(inst Installation) (Result, error) {
	procs, err := indexProcesses(inst.Processes)
	if err != nil {
		return Result{}, err
	}
	r := Result{installation: inst, Rounding: RoundingRule}
	att := attribution{procs: procs, direct: map[string]decimal.Decimal{}, indirect: map[string]decimal.Decimal{}}
	steps := []func(*Result, *attribution) error{
		(*Result).sourceStreams, (*Result).massBalances, (*Result).pfcs, (*Result).electricity,
	}
	for _, step := range steps {
		if err := step(&r, &att); err != nil {
			return Result{}, err
		}
	}
	r.Direct = r.Combustion.Add(r.ProcessCO2).Add(r.PFC)
	goods, err := embedGoods(inst, &att)
	if err != nil {
		return Result{}, err
	}
	r.Goods = goods
	return r, nil
}

// attribution collects each process's own direct and indirect emissions.
type attribution struct {
	procs            map[string]int
	direct, indirect map[string]decimal.Decimal
}

func (a *attribution) check(field, id string) error {
	if _, ok := a.procs[id]; !ok {
		return fieldErr(field, "unknown process %q", id)
	}
	return nil
}

func (a *attribution) add(m map[string]decimal.Decimal, process string, v decimal.Decimal) {
	m[process] = m[process].Add(v)
}

var reGoodCode = regexp.MustCompile(`^([0-9]{8}|[0-9]{10})$`)

// indexProcesses checks the production processes and maps their ids.
func indexProcesses(ps []Process) (map[string]int, error) {
	if len(ps) == 0 {
		return nil, ErrNoProcesses
	}
	procs := map[string]int{}
	for i, p := range ps {
		f := fmt.Sprintf("processes[%d]", i)
		if p.ID == "" {
			return nil, fieldErr(f+".id", "empty")
		}
		if _, dup := procs[p.ID]; dup {
			return nil, fieldErr(f+".id", "process %q twice", p.ID)
		}
		if !p.ActivityLevel.IsPositive() {
			return nil, fieldErr(f+".activity_level", "must be positive, got %s", p.ActivityLevel)
		}
		if _, ok := cbam.SectorOfCN(p.CN); !ok || !reGoodCode.MatchString(p.CN) {
			return nil, fieldErr(f+".cn", "%q is not an 8-digit CN code (or 10-digit TARIC code) of a CBAM good", p.CN)
		}
		procs[p.ID] = i
	}
	return procs, nil
}

// sourceStreams applies the calculation-based method: Em = AD × EF × OF.
func (r *Result) sourceStreams(a *attribution) error {
	for i, s := range r.installation.Streams {
		f := fmt.Sprintf("streams[%d]", i)
		if err := a.check(f+".process", s.Process); err != nil {
			return err
		}
		if err := nonNegative(f, "quantity", s.Quantity, "ncv", s.NCV, "ef", s.EF); err != nil {
			return err
		}
		of := s.OF
		if of.IsZero() {
			of = one
		}
		if err := share(f+".of", of); err != nil {
			return err
		}
		if err := share(f+".biomass_fraction", s.BiomassFraction); err != nil {
			return err
		}
		ad, eq := s.Quantity, "AD × EF × CF (AD = quantity)"
		switch s.Kind {
		case "combustion":
			if !s.NCV.IsPositive() {
				return fieldErr(f+".ncv", "combustion streams need a positive NCV (TJ per unit)")
			}
			ad, eq = s.Quantity.Mul(s.NCV), "AD × EF × OF (AD = quantity × NCV)"
		case "process":
		default:
			return fieldErr(f+".kind", "%q is not combustion or process", s.Kind)
		}
		em := ad.Mul(s.EF).Mul(of)
		out := StreamEmissions{ID: s.ID, Process: s.Process, Method: "calculation", Kind: s.Kind, Equations: eq}
		bio := em.Mul(s.BiomassFraction)
		switch {
		case bio.IsZero():
		case s.BiomassSustainable:
			out.Biomass = bio
		default:
			out.BiomassCounted = bio
			out.Note = fmt.Sprintf("biomass fraction %s counted as fossil: the stream does not say the biomass meets the RED II sustainability criteria "+
				"(biomass_sustainable; IR (EU) 2025/2547 Annex II B.3.3)", s.BiomassFraction)
			bio = decimal.Zero
		}
		fossil := em.Sub(bio)
		out.CO2e = fossil
		r.Streams = append(r.Streams, out)
		if s.Kind == "combustion" {
			r.Combustion = r.Combustion.Add(fossil)
		} else {
			r.ProcessCO2 = r.ProcessCO2.Add(fossil)
		}
		r.BiomassCO2 = r.BiomassCO2.Add(out.Biomass)
		r.BiomassCountedCO2 = r.BiomassCountedCO2.Add(out.BiomassCounted)
		a.add(a.direct, s.Process, fossil)
	}
	return nil
}

// massBalances applies the mass-balance method: Em = Σ ± Q × C × 3.664.
func (r *Result) massBalances(a *attribution) error {
	mb := map[string]decimal.Decimal{}
	for i, s := range r.installation.MassBalances {
		f := fmt.Sprintf("mass_balances[%d]", i)
		if err := a.check(f+".process", s.Process); err != nil {
			return err
		}
		if s.Quantity.IsNegative() {
			return fieldErr(f+".quantity", "must not be negative")
		}
		if err := share(f+".carbon_content", s.CarbonContent); err != nil {
			return err
		}
		em := s.Quantity.Mul(s.CarbonContent).Mul(CO2PerC)
		if s.Output {
			em = em.Neg()
		}
		r.Streams = append(r.Streams, StreamEmissions{ID: s.ID, Process: s.Process, Method: "mass_balance", Kind: "process", CO2e: em, Equations: "± quantity × C × 3.664"})
		a.add(mb, s.Process, em)
	}
	// A process's mass balance is net of its outputs; a negative net means
	// the data are inconsistent (more carbon leaving than entering).
	for _, p := range sortedKeys(mb) {
		if mb[p].IsNegative() {
			return fieldErr("mass_balances", "process %q: outputs carry more carbon than inputs (net %s tCO2)", p, mb[p])
		}
		r.ProcessCO2 = r.ProcessCO2.Add(mb[p])
		a.add(a.direct, p, mb[p])
	}
	return nil
}

// pfcs applies the slope method to aluminium electrolysis.
func (r *Result) pfcs(a *attribution) error {
	thousand := decimal.NewFromInt(1000)
	for i, s := range r.installation.PFCs {
		f := fmt.Sprintf("pfcs[%d]", i)
		if err := a.check(f+".process", s.Process); err != nil {
			return err
		}
		if err := nonNegative(f, "aluminium_tonnes", s.AluminiumTonnes, "anode_effect_min", s.AnodeEffectMin,
			"slope_cf4", s.SlopeCF4, "c2f6_per_cf4_ratio", s.C2F6PerCF4Weight); err != nil {
			return err
		}
		cf4 := s.SlopeCF4.Mul(s.AnodeEffectMin).Mul(s.AluminiumTonnes).Div(thousand)
		c2f6 := cf4.Mul(s.C2F6PerCF4Weight)
		co2e := cf4.Mul(GWPCF4).Add(c2f6.Mul(GWPC2F6))
		r.Streams = append(r.Streams, StreamEmissions{ID: s.ID, Process: s.Process, Method: "pfc_slope", Kind: "pfc", CO2e: co2e, CF4: cf4, C2F6: c2f6,
			Equations: "CF4 = SEF × AEM × Pr_Al; C2F6 = CF4 × F; CO2e = CF4 × 6630 + C2F6 × 11100"})
		r.PFC = r.PFC.Add(co2e)
		a.add(a.direct, s.Process, co2e)
	}
	return nil
}

// electricity computes indirect emissions: MWh × emission factor.
func (r *Result) electricity(a *attribution) error {
	for i, e := range r.installation.Electricity {
		f := fmt.Sprintf("electricity[%d]", i)
		if err := a.check(f+".process", e.Process); err != nil {
			return err
		}
		if err := nonNegative(f, "mwh", e.MWh, "factor", e.Factor); err != nil {
			return err
		}
		em := e.MWh.Mul(e.Factor)
		r.Indirect = r.Indirect.Add(em)
		a.add(a.indirect, e.Process, em)
	}
	return nil
}

// embedded is a good's embedded emissions in exact fractions (tCO2e over
// the whole activity level): direct, all indirect, and the indirect that
// CBAM counts.
type embedded struct {
	direct, indirect, counted *big.Rat
	// precursor parts of the above.
	preDirect, preIndirect, preCounted *big.Rat
}

// perTonne returns total / activity level.
func perTonne(total *big.Rat, al decimal.Decimal) *big.Rat {
	return new(big.Rat).Quo(total, ratOf(al))
}

// embedGoods embeds precursors into the goods, recursively over internal
// precursors (cycles rejected), and rounds each reported figure once.
func embedGoods(inst Installation, a *attribution) ([]GoodEmissions, error) {
	done := map[string]*embedded{}
	visiting := map[string]bool{}
	var embed func(id string) (*embedded, error)
	embed = func(id string) (*embedded, error) {
		if e, ok := done[id]; ok {
			return e, nil
		}
		if visiting[id] {
			return nil, fieldErr("processes", "precursor cycle through process %q", id)
		}
		visiting[id] = true
		pi := a.procs[id]
		p := inst.Processes[pi]
		e := &embedded{preDirect: new(big.Rat), preIndirect: new(big.Rat), preCounted: new(big.Rat)}
		for j, u := range p.Precursors {
			f := fmt.Sprintf("processes[%d].precursors[%d]", pi, j)
			d, i, c, err := precursorEmissions(inst, a, u, f, embed)
			if err != nil {
				return nil, err
			}
			e.preDirect.Add(e.preDirect, d)
			e.preIndirect.Add(e.preIndirect, i)
			e.preCounted.Add(e.preCounted, c)
		}
		own, ownInd := ratOf(a.direct[id]), ratOf(a.indirect[id])
		e.direct = new(big.Rat).Add(own, e.preDirect)
		e.indirect = new(big.Rat).Add(ownInd, e.preIndirect)
		e.counted = new(big.Rat).Set(e.preCounted)
		if cbam.IndirectEmissionsCounted(p.CN) {
			e.counted.Add(e.counted, ownInd)
		}
		visiting[id] = false
		done[id] = e
		return e, nil
	}
	var goods []GoodEmissions
	for _, p := range inst.Processes {
		e, err := embed(p.ID)
		if err != nil {
			return nil, err
		}
		cbamTotal := new(big.Rat).Add(e.direct, e.counted)
		goods = append(goods, GoodEmissions{
			Process: p.ID, CN: p.CN, ActivityLevel: p.ActivityLevel,
			DirectAttributed: a.direct[p.ID], IndirectAttributed: a.indirect[p.ID],
			PrecursorDirect: report(e.preDirect), PrecursorIndirect: report(e.preIndirect), PrecursorIndirectCounted: report(e.preCounted),
			SEEDirect:       report(perTonne(e.direct, p.ActivityLevel)),
			SEEIndirect:     report(perTonne(e.indirect, p.ActivityLevel)),
			IndirectCounted: cbam.IndirectEmissionsCounted(p.CN),
			SEECBAM:         report(perTonne(cbamTotal, p.ActivityLevel)),
		})
	}
	return goods, nil
}

// precursorEmissions returns the direct, indirect and CBAM-counted indirect
// emissions a precursor use brings into the consuming good (tCO2e, exact).
// An internal precursor brings its source's embedded emissions in
// proportion to the tonnes taken (tonnes / source activity level, kept as a
// fraction); a purchased one its SEEs × tonnes, its indirect counted when
// its own CN code is outside Annex II (IR (EU) 2025/2547 Annex I point 3.1).
func precursorEmissions(inst Installation, a *attribution, u PrecursorUse, f string, embed func(string) (*embedded, error)) (d, i, c *big.Rat, err error) {
	if u.Tonnes.IsNegative() {
		return nil, nil, nil, fieldErr(f+".tonnes", "must not be negative")
	}
	t := ratOf(u.Tonnes)
	if u.FromProcess != "" {
		if err := a.check(f+".from_process", u.FromProcess); err != nil {
			return nil, nil, nil, err
		}
		src, err := embed(u.FromProcess)
		if err != nil {
			return nil, nil, nil, err
		}
		share := new(big.Rat).Quo(t, ratOf(inst.Processes[a.procs[u.FromProcess]].ActivityLevel))
		return new(big.Rat).Mul(src.direct, share), new(big.Rat).Mul(src.indirect, share), new(big.Rat).Mul(src.counted, share), nil
	}
	if _, ok := cbam.SectorOfCN(u.CN); !ok || !reGoodCode.MatchString(u.CN) {
		return nil, nil, nil, fieldErr(f+".cn", "%q is not an 8-digit CN code of a CBAM good (a purchased precursor needs its CN code)", u.CN)
	}
	if err := nonNegative(f, "see_direct", u.SEEDirect, "see_indirect", u.SEEIndirect); err != nil {
		return nil, nil, nil, err
	}
	d = new(big.Rat).Mul(t, ratOf(u.SEEDirect))
	i = new(big.Rat).Mul(t, ratOf(u.SEEIndirect))
	c = new(big.Rat)
	if cbam.IndirectEmissionsCounted(u.CN) {
		c.Set(i)
	}
	return d, i, c, nil
}

// ratOf converts an exact decimal to a fraction.
func ratOf(v decimal.Decimal) *big.Rat {
	return v.Rat()
}

// report rounds an exact fraction once, half away from zero, to
// ReportDecimals places.
func report(x *big.Rat) decimal.Decimal {
	num := decimal.NewFromBigInt(x.Num(), 0)
	den := decimal.NewFromBigInt(x.Denom(), 0)
	return num.DivRound(den, ReportDecimals)
}

func sortedKeys(m map[string]decimal.Decimal) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// nonNegative checks name/value pairs and names the first negative one
// (prefix + "." + name).
func nonNegative(prefix string, pairs ...any) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if v := pairs[i+1].(decimal.Decimal); v.IsNegative() {
			return fieldErr(prefix+"."+pairs[i].(string), "must not be negative, got %s", v)
		}
	}
	return nil
}

// ErrNoProcesses is returned for an installation without processes.
var ErrNoProcesses = errors.New("mrv: an installation needs at least one production process")
