// Package mrv turns an installation's monitoring data into emissions:
// calculation-based and mass-balance source streams, aluminium PFCs by the
// slope method, indirect emissions from electricity, attributed to production
// processes and goods with their precursors; and from the same activity data
// a China-ETS-style report and a CBAM-style report with their differences.
//
// Units: masses in tonnes, emissions in tonnes CO2e, NCV in TJ per unit of
// quantity, emission factors in tCO2 per TJ (combustion) or tCO2 per tonne
// (process input), electricity in MWh with factors in tCO2 per MWh. Every
// figure is an exact decimal; nothing is rounded.
package mrv

import (
	"errors"
	"fmt"
	"sort"

	"github.com/corridor-carbon/corridor/internal/cbam"
	"github.com/shopspring/decimal"
)

// CO2PerC converts tonnes of carbon to tonnes of CO2 in mass balances: the
// ratio of molar masses 44.010/12.011 = 3.664, the factor of the CBAM
// monitoring rules (Implementing Regulation (EU) 2025/2547, mass balance
// `Em = Σ AD_k × C_k × 3.664`; /work/shared/domain/cbam.md). 44/12 = 3.667 is
// the rounder textbook ratio; the regulation's 3.664 is used.
var CO2PerC = decimal.RequireFromString("3.664")

// GWPs of the aluminium PFCs (100-year, IPCC AR5, as used by the EU
// monitoring rules; /work/shared/domain/cbam.md "GWP CF4 6630, C2F6 11100").
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
	// BiomassFraction of the carbon is zero-rated (0–1).
	BiomassFraction decimal.Decimal `json:"biomass_fraction"`
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
// CF4 = SEF × AEM × Pr_Al, C2F6 = CF4 × F (form of 40 CFR 98.63, an
// inference recorded in cbam.md), in tonnes, with SEF in kg CF4 per tonne
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
// of the installation (FromProcess) or purchased (with its SEEs).
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
	ID        string          `json:"id"`
	Process   string          `json:"process"`
	Method    string          `json:"method"` // calculation, mass_balance, pfc_slope
	Kind      string          `json:"kind"`   // combustion, process, pfc
	CO2e      decimal.Decimal `json:"co2e"`
	Biomass   decimal.Decimal `json:"biomass_co2,omitempty"`
	CF4       decimal.Decimal `json:"cf4,omitempty"`
	C2F6      decimal.Decimal `json:"c2f6,omitempty"`
	Equations string          `json:"equation"`
}

// GoodEmissions are a process's attributed and embedded emissions.
type GoodEmissions struct {
	Process       string          `json:"process"`
	CN            string          `json:"cn"`
	ActivityLevel decimal.Decimal `json:"activity_level"`
	// Attributed emissions of the process itself.
	DirectAttributed   decimal.Decimal `json:"direct_attributed"`
	IndirectAttributed decimal.Decimal `json:"indirect_attributed"`
	// Emissions embedded in the precursors consumed.
	PrecursorDirect   decimal.Decimal `json:"precursor_direct"`
	PrecursorIndirect decimal.Decimal `json:"precursor_indirect"`
	// Specific embedded emissions per tonne of good.
	SEEDirect   decimal.Decimal `json:"see_direct"`
	SEEIndirect decimal.Decimal `json:"see_indirect"`
	// IndirectCounted: indirect emissions count under CBAM for this good
	// (cement, fertilisers, 2601 12 00); SEECBAM is what CBAM charges.
	IndirectCounted bool            `json:"indirect_counted"`
	SEECBAM         decimal.Decimal `json:"see_cbam"`
}

// Result is the installation's emissions and the goods' embedded emissions.
type Result struct {
	Streams       []StreamEmissions `json:"streams"`
	Combustion    decimal.Decimal   `json:"combustion_co2"`
	ProcessCO2    decimal.Decimal   `json:"process_co2"`
	PFC           decimal.Decimal   `json:"pfc_co2e"`
	Direct        decimal.Decimal   `json:"direct"`
	Indirect      decimal.Decimal   `json:"indirect"`
	BiomassCO2    decimal.Decimal   `json:"biomass_co2"`
	Goods         []GoodEmissions   `json:"goods"`
	installation  Installation
	processDirect map[string]decimal.Decimal
}

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
	if len(inst.Processes) == 0 {
		return Result{}, ErrNoProcesses
	}
	procs := map[string]int{}
	for i, p := range inst.Processes {
		if p.ID == "" {
			return Result{}, fieldErr(fmt.Sprintf("processes[%d].id", i), "empty")
		}
		if _, dup := procs[p.ID]; dup {
			return Result{}, fieldErr(fmt.Sprintf("processes[%d].id", i), "process %q twice", p.ID)
		}
		if !p.ActivityLevel.IsPositive() {
			return Result{}, fieldErr(fmt.Sprintf("processes[%d].activity_level", i), "must be positive, got %s", p.ActivityLevel)
		}
		if _, ok := cbam.SectorOfCN(p.CN); !ok || len(p.CN) != 8 {
			return Result{}, fieldErr(fmt.Sprintf("processes[%d].cn", i), "%q is not an 8-digit CBAM CN code", p.CN)
		}
		procs[p.ID] = i
	}
	checkProcess := func(field, id string) error {
		if _, ok := procs[id]; !ok {
			return fieldErr(field, "unknown process %q", id)
		}
		return nil
	}
	r := Result{installation: inst, processDirect: map[string]decimal.Decimal{}}
	direct := map[string]decimal.Decimal{}
	indirect := map[string]decimal.Decimal{}
	add := func(m map[string]decimal.Decimal, k string, v decimal.Decimal) { m[k] = m[k].Add(v) }

	for i, s := range inst.Streams {
		f := fmt.Sprintf("streams[%d]", i)
		if err := checkProcess(f+".process", s.Process); err != nil {
			return Result{}, err
		}
		if err := nonNegative(f, "quantity", s.Quantity, "ncv", s.NCV, "ef", s.EF); err != nil {
			return Result{}, err
		}
		of := s.OF
		if of.IsZero() {
			of = one
		}
		if err := share(f+".of", of); err != nil {
			return Result{}, err
		}
		if err := share(f+".biomass_fraction", s.BiomassFraction); err != nil {
			return Result{}, err
		}
		ad, eq := s.Quantity, "AD × EF × CF (AD = quantity)"
		switch s.Kind {
		case "combustion":
			if !s.NCV.IsPositive() {
				return Result{}, fieldErr(f+".ncv", "combustion streams need a positive NCV (TJ per unit)")
			}
			ad, eq = s.Quantity.Mul(s.NCV), "AD × EF × OF (AD = quantity × NCV)"
		case "process":
		default:
			return Result{}, fieldErr(f+".kind", "%q is not combustion or process", s.Kind)
		}
		em := ad.Mul(s.EF).Mul(of)
		bio := em.Mul(s.BiomassFraction)
		fossil := em.Sub(bio)
		r.Streams = append(r.Streams, StreamEmissions{ID: s.ID, Process: s.Process, Method: "calculation", Kind: s.Kind, CO2e: fossil, Biomass: bio, Equations: eq})
		if s.Kind == "combustion" {
			r.Combustion = r.Combustion.Add(fossil)
		} else {
			r.ProcessCO2 = r.ProcessCO2.Add(fossil)
		}
		r.BiomassCO2 = r.BiomassCO2.Add(bio)
		add(direct, s.Process, fossil)
	}
	mb := map[string]decimal.Decimal{}
	for i, s := range inst.MassBalances {
		f := fmt.Sprintf("mass_balances[%d]", i)
		if err := checkProcess(f+".process", s.Process); err != nil {
			return Result{}, err
		}
		if s.Quantity.IsNegative() {
			return Result{}, fieldErr(f+".quantity", "must not be negative")
		}
		if err := share(f+".carbon_content", s.CarbonContent); err != nil {
			return Result{}, err
		}
		em := s.Quantity.Mul(s.CarbonContent).Mul(CO2PerC)
		if s.Output {
			em = em.Neg()
		}
		r.Streams = append(r.Streams, StreamEmissions{ID: s.ID, Process: s.Process, Method: "mass_balance", Kind: "process", CO2e: em, Equations: "± quantity × C × 3.664"})
		add(mb, s.Process, em)
	}
	// A process's mass balance is net of its outputs; a negative net means
	// the data are inconsistent (more carbon leaving than entering).
	for _, p := range sortedKeys(mb) {
		if mb[p].IsNegative() {
			return Result{}, fieldErr("mass_balances", "process %q: outputs carry more carbon than inputs (net %s tCO2)", p, mb[p])
		}
		r.ProcessCO2 = r.ProcessCO2.Add(mb[p])
		add(direct, p, mb[p])
	}
	thousand := decimal.NewFromInt(1000)
	for i, s := range inst.PFCs {
		f := fmt.Sprintf("pfcs[%d]", i)
		if err := checkProcess(f+".process", s.Process); err != nil {
			return Result{}, err
		}
		if err := nonNegative(f, "aluminium_tonnes", s.AluminiumTonnes, "anode_effect_min", s.AnodeEffectMin,
			"slope_cf4", s.SlopeCF4, "c2f6_per_cf4_ratio", s.C2F6PerCF4Weight); err != nil {
			return Result{}, err
		}
		cf4 := s.SlopeCF4.Mul(s.AnodeEffectMin).Mul(s.AluminiumTonnes).Div(thousand)
		c2f6 := cf4.Mul(s.C2F6PerCF4Weight)
		co2e := cf4.Mul(GWPCF4).Add(c2f6.Mul(GWPC2F6))
		r.Streams = append(r.Streams, StreamEmissions{ID: s.ID, Process: s.Process, Method: "pfc_slope", Kind: "pfc", CO2e: co2e, CF4: cf4, C2F6: c2f6,
			Equations: "CF4 = SEF × AEM × Pr_Al; C2F6 = CF4 × F; CO2e = CF4 × 6630 + C2F6 × 11100"})
		r.PFC = r.PFC.Add(co2e)
		add(direct, s.Process, co2e)
	}
	for i, e := range inst.Electricity {
		f := fmt.Sprintf("electricity[%d]", i)
		if err := checkProcess(f+".process", e.Process); err != nil {
			return Result{}, err
		}
		if err := nonNegative(f, "mwh", e.MWh, "factor", e.Factor); err != nil {
			return Result{}, err
		}
		em := e.MWh.Mul(e.Factor)
		r.Indirect = r.Indirect.Add(em)
		add(indirect, e.Process, em)
	}
	r.Direct = r.Combustion.Add(r.ProcessCO2).Add(r.PFC)
	r.processDirect = direct

	// Embedded emissions, recursively over internal precursors (cycles rejected).
	done := map[string]*GoodEmissions{}
	visiting := map[string]bool{}
	var embed func(id string) (*GoodEmissions, error)
	embed = func(id string) (*GoodEmissions, error) {
		if g, ok := done[id]; ok {
			return g, nil
		}
		if visiting[id] {
			return nil, fieldErr("processes", "precursor cycle through process %q", id)
		}
		visiting[id] = true
		pi := procs[id]
		p := inst.Processes[pi]
		g := &GoodEmissions{Process: id, CN: p.CN, ActivityLevel: p.ActivityLevel, DirectAttributed: direct[id], IndirectAttributed: indirect[id]}
		for j, u := range p.Precursors {
			f := fmt.Sprintf("processes[%d].precursors[%d]", pi, j)
			if u.Tonnes.IsNegative() {
				return nil, fieldErr(f+".tonnes", "must not be negative")
			}
			var sd, si decimal.Decimal
			if u.FromProcess != "" {
				if err := checkProcess(f+".from_process", u.FromProcess); err != nil {
					return nil, err
				}
				pg, err := embed(u.FromProcess)
				if err != nil {
					return nil, err
				}
				sd, si = pg.SEEDirect, pg.SEEIndirect
			} else {
				if _, ok := cbam.SectorOfCN(u.CN); !ok {
					return nil, fieldErr(f+".cn", "%q is not a CBAM good", u.CN)
				}
				if err := nonNegative(f, "see_direct", u.SEEDirect, "see_indirect", u.SEEIndirect); err != nil {
					return nil, err
				}
				sd, si = u.SEEDirect, u.SEEIndirect
			}
			g.PrecursorDirect = g.PrecursorDirect.Add(u.Tonnes.Mul(sd))
			g.PrecursorIndirect = g.PrecursorIndirect.Add(u.Tonnes.Mul(si))
		}
		g.SEEDirect = g.DirectAttributed.Add(g.PrecursorDirect).Div(p.ActivityLevel)
		g.SEEIndirect = g.IndirectAttributed.Add(g.PrecursorIndirect).Div(p.ActivityLevel)
		g.IndirectCounted = cbam.IndirectEmissionsCounted(p.CN)
		g.SEECBAM = g.SEEDirect
		if g.IndirectCounted {
			g.SEECBAM = g.SEECBAM.Add(g.SEEIndirect)
		}
		visiting[id] = false
		done[id] = g
		return g, nil
	}
	for _, p := range inst.Processes {
		g, err := embed(p.ID)
		if err != nil {
			return Result{}, err
		}
		r.Goods = append(r.Goods, *g)
	}
	return r, nil
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
