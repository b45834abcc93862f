package linkage

import (
	"errors"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/corridor-carbon/corridor/internal/cbam"
)

// CBAMEffect is what the EU CBAM charges on the scenario's export flows under
// the autarky and the linked home prices, and the difference: euros that
// are paid as carbon prices at home instead of for CBAM certificates, i.e.
// kept in Asia.
//
// Every flow is one import line computed by the cbam package itself
// (cbam.Calculator.Obligation), so the simulator and the CBAM calculator
// cannot disagree: embedded emissions, the free-allocation adjustment (with
// actual data column A of the benchmark annex applied over the precursors,
// IR (EU) 2025/2620; with default values the column-B benchmark of the
// good's route), the carbon price paid (Reg. (EU) 2023/956 Art. 9) and the
// certificates owed:
//
//	Certs(p) = max(0, E − FAA − CPD(p)),  CPD(p) = p × paid share × E / certificate price
//
// CPD is deducted only for flows declared with actual data: with default
// values Art. 9 allows only a Commission default carbon price, none is
// published, and the cbam package refuses the deduction. Such a flow owes
// the same under autarky and linked prices and keeps nothing in Asia; its
// Note says so. Home prices are rounded to cents before use; every other
// figure is the cbam package's, unrounded, and euros are rounded to cents.
type CBAMEffect struct {
	Year             int              `json:"year"`
	RetainedShare    decimal.Decimal  `json:"retained_free_allocation_share"`
	CSCF             decimal.Decimal  `json:"cscf"`
	CertificatePrice decimal.Decimal  `json:"certificate_price_eur"`
	DatasetVersion   string           `json:"dataset_version"`
	Flows            []CBAMFlowEffect `json:"flows"`
	AutarkyCost      decimal.Decimal  `json:"autarky_cost_eur"`
	LinkedCost       decimal.Decimal  `json:"linked_cost_eur"`
	KeptInAsia       decimal.Decimal  `json:"kept_in_asia_eur"`
}

// CBAMFlowEffect is one flow's certificates and euros owed.
type CBAMFlowEffect struct {
	Market string `json:"market"`
	Sector string `json:"sector"`
	CNCode string `json:"cn_code"`
	Origin string `json:"origin"`
	// Method is "actual" or "default", as the cbam package computed it.
	Method              string          `json:"method"`
	Goods               decimal.Decimal `json:"goods_t"`
	EmbeddedEmissions   decimal.Decimal `json:"embedded_emissions_t_per_t"`
	Emissions           decimal.Decimal `json:"emissions_t"`
	FreeAllocation      decimal.Decimal `json:"free_allocation_adjustment"`
	AutarkyHomePrice    decimal.Decimal `json:"autarky_home_price_eur"`
	LinkedHomePrice     decimal.Decimal `json:"linked_home_price_eur"`
	AutarkyDeduction    decimal.Decimal `json:"autarky_price_paid_deduction"`
	LinkedDeduction     decimal.Decimal `json:"linked_price_paid_deduction"`
	AutarkyCertificates decimal.Decimal `json:"autarky_certificates"`
	LinkedCertificates  decimal.Decimal `json:"linked_certificates"`
	AutarkyCost         decimal.Decimal `json:"autarky_cost_eur"`
	LinkedCost          decimal.Decimal `json:"linked_cost_eur"`
	KeptInAsia          decimal.Decimal `json:"kept_in_asia_eur"`
	// Line is the cbam package's full result under the linked price, with
	// every intermediate figure (benchmarks, precursors, notes).
	Line cbam.LineResult `json:"line"`
	Note string          `json:"note,omitempty"`
}

// noDeductionWithDefaults explains a default-value flow's zero deduction.
const noDeductionWithDefaults = "default values: no carbon price paid is deductible (Art. 9 allows only a Commission default carbon price, none published); declare actual data to deduct the home price"

var (
	million = decimal.NewFromInt(1_000_000)
	one     = decimal.NewFromInt(1)
)

// cbamCalculator is the cbam package's calculator over its embedded dataset.
func cbamCalculator() (*cbam.Calculator, error) {
	data, err := cbam.Embedded()
	if err != nil {
		return nil, fmt.Errorf("linkage: cbam dataset: %w", err)
	}
	return cbam.NewCalculator(data, cbam.Params{}), nil
}

// ComputeCBAM evaluates the scenario's CBAM flows against a solved result.
func ComputeCBAM(sc *Scenario, res *Result) (*CBAMEffect, error) {
	spec := sc.CBAM
	if spec == nil {
		return nil, nil
	}
	calc, err := cbamCalculator()
	if err != nil {
		return nil, err
	}
	price := dec(spec.CertificatePrice.Value, 2)
	fx := one
	if spec.EURPerCurrency != nil {
		fx = decimal.NewFromFloat(spec.EURPerCurrency.Value)
	}
	prices := map[string][2]float64{}
	for _, m := range res.Markets {
		prices[m.ID] = [2]float64{m.AutarkyPrice, m.LinkedPrice}
	}
	out := &CBAMEffect{Year: spec.Year, CertificatePrice: price, DatasetVersion: calc.Dataset().Version()}
	for i, f := range spec.Flows {
		field := fmt.Sprintf("cbam.flows[%d]", i)
		p, ok := prices[f.Market]
		if !ok {
			return nil, &FieldError{Field: field + ".market", Msg: fmt.Sprintf("unknown market %q", f.Market)}
		}
		fe := CBAMFlowEffect{Market: f.Market, Sector: f.Sector, CNCode: f.CNCode}
		fe.AutarkyHomePrice = decimal.NewFromFloat(p[0]).Mul(fx).Round(2)
		fe.LinkedHomePrice = decimal.NewFromFloat(p[1]).Mul(fx).Round(2)
		line := cbamLine(sc, &f, price)
		obligation := func(home decimal.Decimal) (cbam.LineResult, error) {
			l := line
			if f.Actual != nil {
				l.CarbonPricePaid = &cbam.CarbonPricePaid{Currency: "EUR", PricePerTonne: home, CoveredShare: decimal.NewFromFloat(f.PaidShare.Value)}
			}
			r, err := calc.Obligation(l)
			return r, cbamFieldError(field, err)
		}
		autarky, err := obligation(fe.AutarkyHomePrice)
		if err != nil {
			return nil, err
		}
		linked, err := obligation(fe.LinkedHomePrice)
		if err != nil {
			return nil, err
		}
		fe.Origin, fe.Method, fe.Goods, fe.Line = linked.Origin, linked.Method, linked.Tonnes, linked
		fe.EmbeddedEmissions, fe.Emissions, fe.FreeAllocation = linked.SEE, linked.EmbeddedEmissions, linked.FreeAllocationAdjustment
		fe.AutarkyDeduction, fe.AutarkyCertificates, fe.AutarkyCost = autarky.CarbonPricePaidCertificates, autarky.Certificates, autarky.CostEUR
		fe.LinkedDeduction, fe.LinkedCertificates, fe.LinkedCost = linked.CarbonPricePaidCertificates, linked.Certificates, linked.CostEUR
		fe.KeptInAsia = fe.AutarkyCost.Sub(fe.LinkedCost)
		notes := linked.Notes
		if f.Actual == nil {
			notes = append([]string{noDeductionWithDefaults}, notes...)
		}
		fe.Note = strings.Join(notes, "; ")
		out.RetainedShare, out.CSCF = linked.CBAMFactor, linked.CSCF
		out.AutarkyCost = out.AutarkyCost.Add(fe.AutarkyCost)
		out.LinkedCost = out.LinkedCost.Add(fe.LinkedCost)
		out.Flows = append(out.Flows, fe)
	}
	out.KeptInAsia = out.AutarkyCost.Sub(out.LinkedCost)
	return out, nil
}

// cbamLine is a flow as a cbam import line, without a carbon price paid.
// The origin defaults to the exporting market's jurisdiction.
func cbamLine(sc *Scenario, f *CBAMFlow, price decimal.Decimal) cbam.Line {
	origin := f.Origin
	if origin == "" {
		for _, m := range sc.Markets {
			if m.ID == f.Market {
				origin = m.Jurisdiction
			}
		}
	}
	l := cbam.Line{
		ID: f.Market + " " + f.Sector, Origin: origin, CN: f.CNCode, Route: f.Route, Year: sc.CBAM.Year, Price: price,
		Tonnes: decimal.NewFromFloat(f.Goods.Value).Mul(million).Round(3),
	}
	if f.Actual != nil {
		l.Actual = f.Actual.cbamData(origin)
	}
	return l
}

// cbamData converts actual data into the cbam package's form; a precursor
// without an origin comes from the good's origin.
func (a *CBAMActual) cbamData(origin string) *cbam.ActualData {
	d := &cbam.ActualData{Direct: decimal.NewFromFloat(a.Direct.Value), BenchmarkA: decimal.NewFromFloat(a.BenchmarkA.Value)}
	if a.Indirect != nil {
		d.Indirect = decimal.NewFromFloat(a.Indirect.Value)
	}
	for _, p := range a.Precursors {
		po := p.Origin
		if po == "" {
			po = origin
		}
		cp := cbam.Precursor{CN: p.CN, Origin: po, Route: p.Route, TonnesPerTone: decimal.NewFromFloat(p.TonnesPerTonne.Value)}
		if p.Actual != nil {
			cp.Actual = p.Actual.cbamData(po)
		}
		d.Precursors = append(d.Precursors, cp)
	}
	return d
}

// cbamFieldError places a cbam input error under the flow's field path
// (the cbam package names fields as the scenario does: "actual.precursors[0].cn").
func cbamFieldError(flow string, err error) error {
	var ie *cbam.InputError
	if errors.As(err, &ie) {
		return &FieldError{Field: flow + "." + ie.Field, Msg: ie.Err.Error()}
	}
	if err != nil {
		return fmt.Errorf("linkage: %s: %w", flow, err)
	}
	return nil
}

func dec(x float64, places int32) decimal.Decimal {
	return decimal.NewFromFloat(x).Round(places)
}
