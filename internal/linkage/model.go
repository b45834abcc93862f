package linkage

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// Model is a compiled scenario: flat arrays the solver reads without
// allocating. Every scenario number lives in vals, so a Monte Carlo draw is a
// new vals followed by rebuild.
type Model struct {
	Scenario *Scenario
	vals     []float64 // current parameter values
	base     []float64 // the scenario's values
	ranges   []paramRange
	markets  []marketData
	regions  []regionData
	links    []linkData
	comps    [][]int // connected components of the link graph (market indexes)
}

// paramRange is a slot that Monte Carlo runs draw (triangular low, mode, high).
type paramRange struct {
	slot            int
	low, mode, high float64
}

const noSlot = -1

type marketData struct {
	id, name, jurisdiction string
	instrument             Instrument
	r0, r1                 int // regions [r0, r1)
	comp                   int
	floorSlot, ceilSlot    int
	taxSlot                int
	impShareSlot, impTSlot int
	expShareSlot, expTSlot int

	// derived by rebuild
	floor, ceil    float64 // domestic price bounds
	impLim, expLim float64 // MtCO2e, +Inf when unlimited
	required       float64 // Σ required abatement of its regions
	cap            float64 // Σ caps (tax: taxed emissions at the tax)
	value          float64 // reference tonnes per unit (from link rates)
	priceTop       float64 // price at which every region abates all BAU
}

type regionData struct {
	id, sector   string
	market       int
	bauSlot      int
	capSlot      int
	scaleSlot    int
	allowSurplus bool
	curve        Curve // as specified, scale 1
	// derived
	c        Curve
	bau, cap float64
	required float64
}

type linkData struct {
	a, b     int
	rateSlot int
	rate     float64
}

// Compile validates s and builds its model. A *ValidationError lists every
// problem with its field path. The steps run in order, each adding its
// problems; the model is derived only when there are none.
func Compile(s *Scenario) (*Model, error) {
	c := &compiler{s: s, m: &Model{Scenario: s}, v: &validator{}, marketIndex: map[string]int{}}
	c.header()
	c.exchangeRates()
	c.markets()
	c.regions()
	c.links()
	c.cbam()
	if len(c.v.problems) > 0 {
		return nil, &ValidationError{Problems: c.v.problems}
	}
	m := c.m
	m.components()
	m.base = slices.Clone(m.vals)
	if err := m.rebuild(); err != nil {
		return nil, err
	}
	if err := m.checkPriceBounds(); err != nil {
		return nil, err
	}
	return m, nil
}

// compiler carries one Compile: the scenario, the model being built and the
// problems found so far.
type compiler struct {
	s           *Scenario
	m           *Model
	v           *validator
	marketIndex map[string]int
	byMarket    [][]regionData
}

// slot checks p and stores its value as a model parameter, with its Monte
// Carlo range. Only prices (slotPrice) may be given in another currency.
func (c *compiler) slot(field string, p *Param, check func(string, *Param)) int {
	if p != nil && p.Currency != "" {
		c.v.add(field+".currency", "only a tax, price floor or price ceiling takes a currency")
	}
	return c.slotScaled(field, p, check, 1)
}

// slotPrice is slot for a price, converted into the scenario currency when
// p names another.
func (c *compiler) slotPrice(field string, p *Param, check func(string, *Param)) int {
	if p == nil {
		return noSlot
	}
	return c.slotScaled(field, p, check, c.conversion(field, p))
}

func (c *compiler) slotScaled(field string, p *Param, check func(string, *Param), fx float64) int {
	if p == nil {
		return noSlot
	}
	check(field, p)
	i := len(c.m.vals)
	c.m.vals = append(c.m.vals, p.Value*fx)
	if p.Low != nil || p.High != nil {
		r := paramRange{slot: i, low: p.Value * fx, mode: p.Value * fx, high: p.Value * fx}
		if p.Low != nil {
			r.low = *p.Low * fx
		}
		if p.High != nil {
			r.high = *p.High * fx
		}
		if r.high > r.low {
			c.m.ranges = append(c.m.ranges, r)
		}
	}
	return i
}

// conversion is the factor from p's currency into the scenario currency:
// 1 / (units of p's currency per euro) from the exchange_rates block.
func (c *compiler) conversion(field string, p *Param) float64 {
	if p.Currency == "" || p.Currency == c.s.Currency {
		return 1
	}
	if c.s.Currency != "EUR" {
		c.v.add(field+".currency", "%s values can be converted only in a EUR scenario (the exchange rates are euro reference rates), not %s", p.Currency, c.s.Currency)
		return 1
	}
	fx := c.s.ExchangeRates
	if fx == nil {
		c.v.add(field+".currency", "%s needs exchange_rates.rates.%s", p.Currency, p.Currency)
		return 1
	}
	r, ok := fx.Rates[p.Currency]
	if !ok {
		c.v.add(field+".currency", "no exchange rate for %s in exchange_rates.rates", p.Currency)
		return 1
	}
	if !(r.Value > 0) {
		return 1 // reported by exchangeRates
	}
	return 1 / r.Value
}

func (c *compiler) nonNeg(f string, p *Param) { c.v.positive(f, p, false) }
func (c *compiler) pos(f string, p *Param)    { c.v.positive(f, p, true) }
func (c *compiler) share(f string, p *Param) {
	c.v.positive(f, p, false)
	hi := p.Value
	if p.High != nil {
		hi = max(hi, *p.High)
	}
	if hi > 1 {
		c.v.add(f, "a share must be ≤ 1, got %g", hi)
	}
}

// header checks the scenario's name and currency.
func (c *compiler) header() {
	s, v := c.s, c.v
	if s.Name == "" {
		v.add("name", "is required")
	}
	if len(s.Currency) != 3 || s.Currency != upperASCII(s.Currency) {
		v.add("currency", "must be an ISO 4217 code such as EUR, got %q", s.Currency)
	}
}

// exchangeRates checks the euro reference rates block.
func (c *compiler) exchangeRates() {
	fx := c.s.ExchangeRates
	if fx == nil {
		return
	}
	if strings.TrimSpace(fx.Series) == "" {
		c.v.add("exchange_rates.series", "is required: name the series the rates come from")
	}
	for _, code := range slices.Sorted(maps.Keys(fx.Rates)) {
		r := fx.Rates[code]
		f := "exchange_rates.rates." + code
		if len(code) != 3 || code != upperASCII(code) || code == "EUR" {
			c.v.add(f, "must be an ISO 4217 code other than EUR")
		}
		if r.Low != nil || r.High != nil {
			c.v.add(f, "an exchange rate takes no Monte Carlo range")
		}
		c.v.positive(f, &r, true)
	}
}

// markets checks each market and lays out its parameters.
func (c *compiler) markets() {
	s, v, m := c.s, c.v, c.m
	if len(s.Markets) == 0 {
		v.add("markets", "at least one market is required")
	}
	for i := range s.Markets {
		ms := &s.Markets[i]
		f := fmt.Sprintf("markets[%d]", i)
		md := marketData{id: ms.ID, name: ms.Name, jurisdiction: ms.Jurisdiction, instrument: ms.Instrument, comp: -1}
		if ms.ID == "" {
			v.add(f+".id", "is required")
		} else if _, dup := c.marketIndex[ms.ID]; dup {
			v.add(f+".id", "duplicate market id %q", ms.ID)
		} else {
			c.marketIndex[ms.ID] = i
		}
		if _, ok := Jurisdictions[ms.Jurisdiction]; !ok {
			v.add(f+".jurisdiction", "unknown jurisdiction %q (known: %s)", ms.Jurisdiction, knownJurisdictions())
		}
		switch ms.Instrument {
		case ETS, Offsets:
			if ms.Tax != nil {
				v.add(f+".tax", "only a tax market has a tax rate")
			}
		case Tax:
			if ms.Tax == nil {
				v.add(f+".tax", "a tax market needs its tax rate")
			}
			if ms.PriceFloor != nil || ms.PriceCeiling != nil {
				v.add(f, "a tax market's price is its tax: no price_floor or price_ceiling")
			}
			if ms.ExportLimit != nil {
				v.add(f+".export_limit", "a tax market exports nothing: no export_limit")
			}
		default:
			v.add(f+".instrument", "unknown instrument %q (ets, tax, offsets)", ms.Instrument)
		}
		if ms.Instrument == Offsets && ms.ImportLimit != nil {
			v.add(f+".import_limit", "an offsets host has no obligation and imports nothing")
		}
		md.taxSlot = c.slotPrice(f+".tax", ms.Tax, c.pos)
		md.floorSlot = c.slotPrice(f+".price_floor", ms.PriceFloor, c.nonNeg)
		md.ceilSlot = c.slotPrice(f+".price_ceiling", ms.PriceCeiling, c.pos)
		if md.floorSlot != noSlot && md.ceilSlot != noSlot && m.vals[md.floorSlot] > m.vals[md.ceilSlot] {
			v.add(f+".price_floor", "floor %g is above the ceiling %g", m.vals[md.floorSlot], m.vals[md.ceilSlot])
		}
		md.impShareSlot, md.impTSlot = noSlot, noSlot
		md.expShareSlot, md.expTSlot = noSlot, noSlot
		limit := func(lf string, l *Limit, shareSlot, tSlot *int) {
			if l == nil {
				return
			}
			if (l.ShareOfCap == nil) == (l.Tonnes == nil) {
				v.add(lf, "give exactly one of share_of_cap or tonnes")
				return
			}
			*shareSlot = c.slot(lf+".share_of_cap", l.ShareOfCap, c.share)
			*tSlot = c.slot(lf+".tonnes", l.Tonnes, c.nonNeg)
		}
		limit(f+".import_limit", ms.ImportLimit, &md.impShareSlot, &md.impTSlot)
		limit(f+".export_limit", ms.ExportLimit, &md.expShareSlot, &md.expTSlot)
		m.markets = append(m.markets, md)
	}
}

// regions checks each region and its curve, grouping regions by market so
// that each market's regions are contiguous.
func (c *compiler) regions() {
	s, v, m := c.s, c.v, c.m
	if len(s.Regions) == 0 {
		v.add("regions", "at least one region is required")
	}
	regionIDs := map[string]bool{}
	c.byMarket = make([][]regionData, len(s.Markets))
	for i := range s.Regions {
		rs := &s.Regions[i]
		f := fmt.Sprintf("regions[%d]", i)
		rd := regionData{id: rs.ID, sector: rs.Sector, allowSurplus: rs.AllowSurplus}
		if rs.ID == "" {
			v.add(f+".id", "is required")
		} else if regionIDs[rs.ID] {
			v.add(f+".id", "duplicate region id %q", rs.ID)
		}
		regionIDs[rs.ID] = true
		mi, ok := c.marketIndex[rs.Market]
		if !ok {
			v.add(f+".market", "unknown market %q", rs.Market)
		}
		instrument := Instrument("")
		if ok {
			instrument = s.Markets[mi].Instrument
		}
		rd.bauSlot = c.slot(f+".bau", &rs.BAU, c.pos)
		switch {
		case instrument == ETS && rs.Cap == nil:
			v.add(f+".cap", "a region of an ets market needs its cap")
		case instrument != ETS && rs.Cap != nil:
			v.add(f+".cap", "only regions of ets markets have a cap")
		}
		rd.capSlot = c.slot(f+".cap", rs.Cap, c.nonNeg)
		if rs.Cap != nil && !rs.AllowSurplus {
			capHi, bauLo := rs.Cap.Value, rs.BAU.Value
			if rs.Cap.High != nil {
				capHi = max(capHi, *rs.Cap.High)
			}
			if rs.BAU.Low != nil {
				bauLo = min(bauLo, *rs.BAU.Low)
			}
			if capHi > bauLo {
				v.add(f+".cap", "cap %g is above BAU %g (range included); set allow_surplus: true if over-allocation is intended", capHi, bauLo)
			}
		}
		rd.curve = c.curve(f, rs)
		rd.scaleSlot = c.slot(f+".mac.scale", rs.MAC.Scale, c.pos)
		if ok {
			rd.market = mi
			c.byMarket[mi] = append(c.byMarket[mi], rd)
		}
	}
	for i := range m.markets {
		if len(c.byMarket[i]) == 0 {
			v.add(fmt.Sprintf("markets[%d]", i), "market %q has no regions", m.markets[i].id)
		}
		m.markets[i].r0 = len(m.regions)
		m.regions = append(m.regions, c.byMarket[i]...)
		m.markets[i].r1 = len(m.regions)
	}
}

// curve builds a region's MAC curve, reporting its problems under f.mac.
func (c *compiler) curve(f string, rs *RegionSpec) Curve {
	v, mf := c.v, f+".mac"
	if strings.TrimSpace(rs.MAC.Source) == "" && !rs.MAC.Assumption {
		v.add(mf, "needs a source, or assumption: true with a note saying why")
	}
	points := make([][2]float64, len(rs.MAC.Points))
	for j, pt := range rs.MAC.Points {
		if len(pt) != 2 {
			v.add(fmt.Sprintf("%s.points[%d]", mf, j), "a point is [abatement MtCO2e, price], got %d numbers", len(pt))
			continue
		}
		points[j] = [2]float64{pt[0], pt[1]}
	}
	curve, err := NewCurve(rs.MAC.Kind, rs.MAC.Coefficients, points, rs.BAU.Value)
	var fe *FieldError
	switch {
	case errors.As(err, &fe) && fe.Field == "bau":
		// reported on regions[i].bau already
	case errors.As(err, &fe):
		v.add(mf+"."+fe.Field, "%s", fe.Msg)
	case err != nil:
		v.add(mf, "%v", err)
	}
	if rs.MAC.Kind == Piecewise && (rs.BAU.Low != nil || rs.BAU.High != nil) {
		v.add(f+".bau", "a piecewise curve is tied to its BAU: give BAU no Monte Carlo range")
	}
	return curve
}

// links checks each link and its exchange rate.
func (c *compiler) links() {
	s, v, m := c.s, c.v, c.m
	seen := map[[2]int]bool{}
	for i := range s.Links {
		ls := &s.Links[i]
		f := fmt.Sprintf("links[%d]", i)
		if len(ls.Between) != 2 {
			v.add(f+".between", "a link joins exactly two markets, got %d", len(ls.Between))
			continue
		}
		a, okA := c.marketIndex[ls.Between[0]]
		b, okB := c.marketIndex[ls.Between[1]]
		if !okA {
			v.add(f+".between[0]", "unknown market %q", ls.Between[0])
		}
		if !okB {
			v.add(f+".between[1]", "unknown market %q", ls.Between[1])
		}
		if okA && okB && a == b {
			v.add(f+".between", "a market cannot link to itself")
		}
		key := [2]int{min(a, b), max(a, b)}
		if okA && okB && seen[key] {
			v.add(f+".between", "markets %s and %s are linked twice", ls.Between[0], ls.Between[1])
		}
		seen[key] = true
		rate := func(f string, p *Param) {
			c.pos(f, p)
			lo, hi := p.Value, p.Value
			if p.Low != nil {
				lo = min(lo, *p.Low)
			}
			if p.High != nil {
				hi = max(hi, *p.High)
			}
			if lo < 1e-3 || hi > 1e3 {
				v.add(f, "an exchange rate must lie in [0.001, 1000], got %g–%g", lo, hi)
			}
		}
		m.links = append(m.links, linkData{a: a, b: b, rateSlot: c.slot(f+".rate", ls.Rate, rate)})
	}
}

// cbam checks the CBAM block and runs its flows through the cbam package.
func (c *compiler) cbam() {
	s, v := c.s, c.v
	cb := s.CBAM
	if cb == nil {
		return
	}
	v.param("cbam.certificate_price", &cb.CertificatePrice)
	if !(cb.CertificatePrice.Value > 0) {
		v.add("cbam.certificate_price", "must be > 0")
	}
	if cb.Year < 2026 {
		v.add("cbam.year", "CBAM certificates are owed from 2026, got %d", cb.Year)
	}
	if cb.EURPerCurrency != nil {
		v.positive("cbam.eur_per_currency", cb.EURPerCurrency, true)
	} else if s.Currency != "EUR" {
		v.add("cbam.eur_per_currency", "needed to convert %s prices into euros", s.Currency)
	}
	for i := range cb.Flows {
		fl := &cb.Flows[i]
		f := fmt.Sprintf("cbam.flows[%d]", i)
		if _, ok := c.marketIndex[fl.Market]; !ok {
			v.add(f+".market", "unknown market %q", fl.Market)
		}
		v.positive(f+".goods", &fl.Goods, false)
		if fl.EmbeddedEmissions != nil {
			v.add(f+".embedded_emissions", "replaced by actual: {direct, benchmark_a, precursors}, from which the cbam package computes the embedded emissions and the free-allocation adjustment over the precursors")
		}
		if fl.DefaultValue != nil || fl.Benchmark != nil {
			v.add(f, "default_value and benchmark are no longer given: the cbam package takes them from its dataset for the origin, cn_code and route")
		}
		if fl.Actual != nil {
			v.actual(f+".actual", fl.Actual, 0)
		}
		v.positive(f+".paid_share", &fl.PaidShare, false)
		if fl.PaidShare.Value > 1 {
			v.add(f+".paid_share", "a share must be ≤ 1, got %g", fl.PaidShare.Value)
		}
	}
	if len(v.problems) == 0 {
		v.cbamLines(s)
	}
}

// maxActualDepth bounds nested precursors (the cbam package allows 8).
const maxActualDepth = 8

// actual checks the numbers of an actual-data block and its precursors.
func (v *validator) actual(f string, a *CBAMActual, depth int) {
	if depth > maxActualDepth {
		v.add(f, "precursors nested deeper than %d levels", maxActualDepth)
		return
	}
	v.positive(f+".direct", &a.Direct, false)
	if a.Indirect != nil {
		v.positive(f+".indirect", a.Indirect, false)
	}
	v.positive(f+".benchmark_a", &a.BenchmarkA, false)
	for k := range a.Precursors {
		p := &a.Precursors[k]
		pf := fmt.Sprintf("%s.precursors[%d]", f, k)
		v.positive(pf+".tonnes_per_tonne", &p.TonnesPerTonne, false)
		if p.Actual != nil {
			v.actual(pf+".actual", p.Actual, depth+1)
		}
	}
}

// cbamLines runs every flow through the cbam package once, at the
// certificate price and without a carbon price paid, so that a code, origin
// or route the package cannot price is reported when the scenario is
// checked rather than after it is solved.
func (v *validator) cbamLines(s *Scenario) {
	calc, err := cbamCalculator()
	if err != nil {
		v.add("cbam", "%v", err)
		return
	}
	price := dec(s.CBAM.CertificatePrice.Value, 2)
	for i := range s.CBAM.Flows {
		_, err := calc.Obligation(cbamLine(s, &s.CBAM.Flows[i], price))
		var fe *FieldError
		if errors.As(cbamFieldError(fmt.Sprintf("cbam.flows[%d]", i), err), &fe) {
			v.add(fe.Field, "%s", fe.Msg)
		} else if err != nil {
			v.add(fmt.Sprintf("cbam.flows[%d]", i), "%v", err)
		}
	}
}

func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func knownJurisdictions() string {
	keys := make([]string, 0, len(Jurisdictions))
	for k := range Jurisdictions {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := ""
	for i, k := range keys {
		if i > 0 {
			out += ", "
		}
		out += k
	}
	return out
}

// components labels the connected components of the link graph.
func (m *Model) components() {
	adj := make([][]int, len(m.markets))
	for _, l := range m.links {
		adj[l.a] = append(adj[l.a], l.b)
		adj[l.b] = append(adj[l.b], l.a)
	}
	for start := range m.markets {
		if m.markets[start].comp >= 0 {
			continue
		}
		c := len(m.comps)
		queue := []int{start}
		m.markets[start].comp = c
		for k := 0; k < len(queue); k++ {
			for _, n := range adj[queue[k]] {
				if m.markets[n].comp < 0 {
					m.markets[n].comp = c
					queue = append(queue, n)
				}
			}
		}
		slices.Sort(queue)
		m.comps = append(m.comps, queue)
	}
}

func (m *Model) val(slot int, def float64) float64 {
	if slot == noSlot {
		return def
	}
	return m.vals[slot]
}

// rebuild derives the solver's quantities from vals. It does not allocate.
func (m *Model) rebuild() error {
	for i := range m.regions {
		r := &m.regions[i]
		r.bau = m.vals[r.bauSlot]
		r.c = r.curve.withScale(m.val(r.scaleSlot, 1))
		if r.c.kind != Piecewise {
			r.c.bau = r.bau
			r.c.pmax = r.c.rawPrice(r.bau)
		}
		r.cap = r.bau
		if r.capSlot != noSlot {
			r.cap = m.vals[r.capSlot]
			if !r.allowSurplus {
				r.cap = min(r.cap, r.bau)
			}
		}
	}
	for i := range m.markets {
		md := &m.markets[i]
		md.floor, md.ceil = m.val(md.floorSlot, 0), m.val(md.ceilSlot, math.Inf(1))
		md.required, md.cap, md.priceTop = 0, 0, md.floor
		for j := md.r0; j < md.r1; j++ {
			r := &m.regions[j]
			md.priceTop = max(md.priceTop, r.c.MaxPrice())
			switch md.instrument {
			case ETS:
				r.required = r.bau - r.cap
			case Tax:
				// Every tonne not abated pays the tax: the tax stands for a
				// ceiling at which the state issues whatever is emitted.
				r.required = r.bau
			case Offsets:
				r.required = 0
			}
			md.required += r.required
		}
		md.impLim, md.expLim = math.Inf(1), math.Inf(1)
		if md.instrument == Tax {
			t := m.vals[md.taxSlot]
			md.floor, md.ceil, md.expLim = t, t, 0
			for j := md.r0; j < md.r1; j++ {
				r := &m.regions[j]
				md.cap += r.bau - r.c.Abatement(t)
			}
		} else {
			for j := md.r0; j < md.r1; j++ {
				md.cap += m.regions[j].cap
			}
		}
		if md.instrument == Offsets {
			md.impLim = 0
		}
		if md.impShareSlot != noSlot {
			md.impLim = m.vals[md.impShareSlot] * md.cap
		} else if md.impTSlot != noSlot {
			md.impLim = m.vals[md.impTSlot]
		}
		if md.expShareSlot != noSlot {
			md.expLim = m.vals[md.expShareSlot] * md.cap
		} else if md.expTSlot != noSlot {
			md.expLim = m.vals[md.expTSlot]
		}
		md.value = 0
	}
	for i := range m.links {
		m.links[i].rate = m.val(m.links[i].rateSlot, 1)
	}
	// Value factors: one unit of market k is worth value_k reference tonnes
	// of its component (the first market has 1). A link rate r from a to b
	// means value_a = r·value_b. Rates around a cycle must multiply to 1,
	// or units could be converted round the cycle into more units.
	for _, comp := range m.comps {
		m.markets[comp[0]].value = 1
		// Each pass fixes at least one more market, so len(comp) passes suffice.
		for changed, pass := true, 0; changed && pass <= len(comp); pass++ {
			changed = false
			for li := range m.links {
				l := &m.links[li]
				va, vb := m.markets[l.a].value, m.markets[l.b].value
				switch {
				case va > 0 && vb == 0:
					m.markets[l.b].value, changed = va/l.rate, true
				case vb > 0 && va == 0:
					m.markets[l.a].value, changed = vb*l.rate, true
				case va > 0 && vb > 0 && math.Abs(va-l.rate*vb) > 1e-9*va:
					return &ValidationError{Problems: []FieldError{{
						Field: fmt.Sprintf("links[%d].rate", li),
						Msg:   fmt.Sprintf("exchange rates around a cycle of links multiply to %g, not 1: units could be multiplied by trading round the cycle", va/(l.rate*vb)),
					}}}
				}
			}
		}
	}
	return nil
}

// checkPriceBounds rejects components where a market with an unlimited
// floor absorbs units at a price above another's unlimited ceiling: no price
// clears them.
func (m *Model) checkPriceBounds() error {
	for _, comp := range m.comps {
		for _, a := range comp {
			ma := &m.markets[a]
			if math.IsInf(ma.impLim, 1) && ma.floor > 0 {
				for _, b := range comp {
					mb := &m.markets[b]
					if a != b && math.IsInf(mb.expLim, 1) && ma.floor/ma.value > mb.ceil/mb.value*(1+1e-12) {
						return &ValidationError{Problems: []FieldError{{
							Field: fmt.Sprintf("markets[%d].price_floor", a),
							Msg:   fmt.Sprintf("%s's floor lies above %s's ceiling and neither market limits its trade: no linked price exists", ma.id, mb.id),
						}}}
					}
				}
			}
		}
	}
	return nil
}
