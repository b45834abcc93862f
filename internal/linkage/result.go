package linkage

import (
	"math"
)

// Result is one solved scenario. Quantities are MtCO2e per year (in each
// market's own units), prices are in the scenario currency per unit, costs
// and payments in millions of that currency per year.
//
// Costs are reported twice, because who bears them differs:
//
//   - Private compliance cost (AutarkyCost, LinkedCost, Gain): what the
//     complying firms pay. A region's is its abatement cost minus the value
//     at its market's price of the units it sells (plus what it buys). A
//     market's is its regions' abatement cost, minus the world-price value of
//     its net exports, minus the domestic-price value of units its authority
//     withdraws (a floor; negative when it issues at a ceiling or collects a
//     tax). Quota rents are the gap between the two: they stay in the market.
//   - Social cost (AutarkySocialCost, LinkedSocialCost, SocialGain): the
//     country's, abatement cost plus net payments abroad. The authority's
//     revenue (AutarkyRevenue, LinkedRevenue: tax collected, units sold at a
//     ceiling, less units bought back at a floor) is a transfer from firms to
//     the state at home: private cost = social cost + revenue. So the tax a
//     tax market's firms avoid by importing credits is their gain and their
//     government's loss; for the country only the payment abroad and any
//     change in abatement count.
//
// Summed over a linked component, net payments abroad cancel, so the total
// social gain is the total saving in abatement cost.
type Result struct {
	Scenario string `json:"scenario"`
	Currency string `json:"currency"`
	// ClearingTolerance states the solver's accuracy: the market-clearing
	// residual relative to the linked component's BAU emissions.
	ClearingTolerance float64          `json:"clearing_tolerance"`
	Markets           []MarketResult   `json:"markets"`
	Regions           []RegionResult   `json:"regions"`
	Flows             []Flow           `json:"flows"`
	Components        [][]string       `json:"components"`
	Totals            Totals           `json:"totals"`
	CBAM              *CBAMEffect      `json:"cbam,omitempty"`
	MonteCarlo        *MonteCarloBands `json:"monte_carlo,omitempty"`
}

// MarketResult is one market's autarky and linked outcome.
type MarketResult struct {
	ID           string     `json:"id"`
	Name         string     `json:"name,omitempty"`
	Jurisdiction string     `json:"jurisdiction"`
	Instrument   Instrument `json:"instrument"`
	Component    int        `json:"component"`
	// UnitValue is how many reference tonnes of its component one unit is worth.
	UnitValue float64 `json:"unit_value"`
	// ImportLimit and ExportLimit are absent when unlimited.
	ImportLimit      *float64 `json:"import_limit,omitempty"`
	ExportLimit      *float64 `json:"export_limit,omitempty"`
	Required         float64  `json:"required_abatement"`
	AutarkyPrice     float64  `json:"autarky_price"`
	LinkedPrice      float64  `json:"linked_price"`
	WorldPrice       float64  `json:"world_price"`
	AutarkyAbatement float64  `json:"autarky_abatement"`
	LinkedAbatement  float64  `json:"linked_abatement"`
	NetExports       float64  `json:"net_exports"`
	// Binding is "import_limit", "export_limit", "floor", "ceiling" or "".
	Binding string `json:"binding,omitempty"`
	// Withdrawn is units the authority removed (floor, unused surplus);
	// negative when it issued units (ceiling, taxed tonnes).
	Withdrawn      float64 `json:"withdrawn"`
	QuotaRent      float64 `json:"quota_rent"`
	PermitPayments float64 `json:"permit_payments"`
	Costs
}

// Costs are the compliance costs of a market, or summed over all markets
// (see Result for private and social cost).
type Costs struct {
	// AutarkyCost, LinkedCost and Gain are the private compliance cost.
	AutarkyCost float64 `json:"autarky_cost"`
	LinkedCost  float64 `json:"linked_cost"`
	Gain        float64 `json:"gain"`
	// AutarkyRevenue and LinkedRevenue are the authority's receipts.
	AutarkyRevenue float64 `json:"autarky_revenue"`
	LinkedRevenue  float64 `json:"linked_revenue"`
	// AutarkySocialCost and LinkedSocialCost are abatement cost plus net
	// payments abroad (PermitPayments when linked).
	AutarkySocialCost float64 `json:"autarky_social_cost"`
	LinkedSocialCost  float64 `json:"linked_social_cost"`
	SocialGain        float64 `json:"social_gain"`
}

// addCosts adds o's costs (not its gains: see settle) to c.
func (c *Costs) addCosts(o Costs) {
	c.AutarkyCost += o.AutarkyCost
	c.LinkedCost += o.LinkedCost
	c.AutarkyRevenue += o.AutarkyRevenue
	c.LinkedRevenue += o.LinkedRevenue
	c.AutarkySocialCost += o.AutarkySocialCost
	c.LinkedSocialCost += o.LinkedSocialCost
}

// settle sets the gains from the costs.
func (c *Costs) settle() {
	c.Gain = c.AutarkyCost - c.LinkedCost
	c.SocialGain = c.AutarkySocialCost - c.LinkedSocialCost
}

// RegionResult is one region's outcome inside its market.
type RegionResult struct {
	ID               string  `json:"id"`
	Market           string  `json:"market"`
	Sector           string  `json:"sector,omitempty"`
	BAU              float64 `json:"bau"`
	Required         float64 `json:"required_abatement"`
	AutarkyAbatement float64 `json:"autarky_abatement"`
	LinkedAbatement  float64 `json:"linked_abatement"`
	AutarkyCost      float64 `json:"autarky_cost"`
	LinkedCost       float64 `json:"linked_cost"`
	Gain             float64 `json:"gain"`
}

// Flow is units sold from one market to another (exporter's units), valued
// at the world price. Within a component of three or more markets bilateral
// flows are not determined by prices; each exporter's sales are split over
// the importers in proportion to their imports (in reference tonnes).
type Flow struct {
	From  string  `json:"from"`
	To    string  `json:"to"`
	Units float64 `json:"units"`
	Value float64 `json:"value"`
}

// Totals sums the result over all markets (costs as in MarketResult).
type Totals struct {
	Costs
	AutarkyEmissions float64 `json:"autarky_emissions"`
	LinkedEmissions  float64 `json:"linked_emissions"`
	// EmissionsChange is linked minus autarky emissions: non-zero through
	// exchange rates ((r − 1)·flow), floors, ceilings and taxes.
	EmissionsChange float64 `json:"emissions_change"`
	// Unused is surplus units left unsold at a zero price (reference tonnes).
	Unused float64 `json:"unused"`
	// ClearingError is |Σ v·N| in reference tonnes, the market-clearing residual.
	ClearingError float64 `json:"clearing_error"`
	Iterations    int     `json:"iterations"`
}

// Solve compiles and solves a scenario.
func Solve(sc *Scenario) (*Result, error) {
	m, err := Compile(sc)
	if err != nil {
		return nil, err
	}
	s := NewSolver(m)
	if err := s.Solve(); err != nil {
		return nil, err
	}
	res := &Result{}
	s.Fill(res)
	return res, nil
}

// Fill writes the last Solve's outcome into res, reusing its slices.
func (s *Solver) Fill(res *Result) {
	m := s.m
	res.Scenario, res.Currency, res.ClearingTolerance = m.Scenario.Name, m.Scenario.Currency, ClearingTol
	res.Markets = res.Markets[:0]
	res.Regions = res.Regions[:0]
	res.Flows = res.Flows[:0]
	res.Components = res.Components[:0]
	res.Totals = Totals{Iterations: s.iterations, Unused: s.unused}
	for k := range m.markets {
		md := &m.markets[k]
		mr := MarketResult{
			ID: md.id, Name: md.name, Jurisdiction: md.jurisdiction, Instrument: md.instrument,
			Component: md.comp, UnitValue: md.value, Required: md.required,
			AutarkyPrice: s.autarkyPrice[k], LinkedPrice: s.price[k], WorldPrice: s.worldPrice[k],
			NetExports: s.net[k], Withdrawn: s.withdraw[k],
		}
		if !math.IsInf(md.impLim, 1) {
			v := md.impLim
			mr.ImportLimit = &v
		}
		if !math.IsInf(md.expLim, 1) {
			v := md.expLim
			mr.ExportLimit = &v
		}
		for i := md.r0; i < md.r1; i++ {
			r := &m.regions[i]
			aA, aL := s.autarkyA[i], s.linkedA[i]
			mr.AutarkyAbatement += aA
			mr.LinkedAbatement += aL
			rr := RegionResult{
				ID: r.id, Market: md.id, Sector: r.sector, BAU: r.bau, Required: r.required,
				AutarkyAbatement: aA, LinkedAbatement: aL,
				AutarkyCost: r.c.Cost(aA) - s.autarkyPrice[k]*(aA-r.required),
				LinkedCost:  r.c.Cost(aL) - s.price[k]*(aL-r.required),
			}
			rr.Gain = rr.AutarkyCost - rr.LinkedCost
			res.Regions = append(res.Regions, rr)
			res.Totals.AutarkyEmissions += r.bau - aA
			res.Totals.LinkedEmissions += r.bau - aL
		}
		mr.PermitPayments = -s.worldPrice[k] * s.net[k]
		mr.QuotaRent = (s.worldPrice[k] - s.price[k]) * s.net[k]
		w := s.marketWelfare(k)
		mr.AutarkyCost, mr.LinkedCost = w.privateA(), w.privateL()
		mr.AutarkyRevenue, mr.LinkedRevenue = w.revenueA, w.revenueL
		mr.AutarkySocialCost, mr.LinkedSocialCost = w.socialA(), w.socialL()
		mr.settle()
		mr.Binding = s.binding(k)
		res.Totals.addCosts(mr.Costs)
		res.Markets = append(res.Markets, mr)
	}
	res.Totals.settle()
	res.Totals.EmissionsChange = res.Totals.LinkedEmissions - res.Totals.AutarkyEmissions
	for _, comp := range m.comps {
		ids := make([]string, len(comp))
		exports, residual := 0.0, 0.0
		for j, k := range comp {
			ids[j] = m.markets[k].id
			vn := m.markets[k].value * s.net[k]
			residual += vn
			if vn > 0 {
				exports += vn
			}
		}
		res.Components = append(res.Components, ids)
		res.Totals.ClearingError = max(res.Totals.ClearingError, math.Abs(residual))
		if exports <= 0 {
			continue
		}
		for _, e := range comp {
			if s.net[e] <= 0 {
				continue
			}
			for _, i := range comp {
				if s.net[i] >= 0 {
					continue
				}
				share := -m.markets[i].value * s.net[i] / exports
				units := s.net[e] * share
				res.Flows = append(res.Flows, Flow{From: m.markets[e].id, To: m.markets[i].id, Units: units, Value: units * s.worldPrice[e]})
			}
		}
	}
}

// binding names the constraint that sets market k's linked price apart from
// its world price, if any.
func (s *Solver) binding(k int) string {
	md := &s.m.markets[k]
	const eps = 1e-9
	switch {
	case md.comp >= 0 && len(s.m.comps[md.comp]) == 1:
		return ""
	case s.net[k] <= -md.impLim+eps && s.price[k] > s.worldPrice[k]*(1+eps):
		return "import_limit"
	case s.net[k] >= md.expLim-eps && s.price[k] < s.worldPrice[k]*(1-eps):
		return "export_limit"
	case md.floor == md.ceil:
		return ""
	case s.swing[k] && s.price[k] <= md.floor:
		return "floor"
	case s.swing[k]:
		return "ceiling"
	case s.price[k] <= md.floor && md.floor > 0:
		return "floor"
	case s.price[k] >= md.ceil:
		return "ceiling"
	}
	return ""
}
