package linkage

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/corridor-carbon/corridor/internal/cbam"
)

// CBAMEffect is what the EU CBAM charges on the scenario's export flows under
// the autarky and the linked home prices, and the difference: euros that
// are paid as carbon prices at home instead of for CBAM certificates, i.e.
// kept in Asia.
//
// Per flow (../shared/domain/cbam.md, Reg. (EU) 2023/956 Art. 9 and 31):
//
//	E      = goods × SEE                                  tCO2e
//	FAA    = CBAM_y × CSCF_y × benchmark × goods           certificates
//	CPD(p) = p[EUR] × paid share × E / certificate price   certificates
//	Certs  = max(0, E − FAA − CPD(p)),  cost = Certs × certificate price
//
// CPD is deducted only for flows declared with actual embedded emissions:
// with default values Art. 9 allows only a Commission default carbon price,
// none is published, and the cbam package refuses the deduction. Such a
// flow owes the same under autarky and linked prices and keeps nothing in
// Asia; its Note says so.
//
// Rounding: tonnes and certificates to 3 decimals (kilograms), home prices
// to cents, euros to cents, each half away from zero, after every product.
type CBAMEffect struct {
	Year             int              `json:"year"`
	RetainedShare    decimal.Decimal  `json:"retained_free_allocation_share"`
	CSCF             decimal.Decimal  `json:"cscf"`
	CertificatePrice decimal.Decimal  `json:"certificate_price_eur"`
	Flows            []CBAMFlowEffect `json:"flows"`
	AutarkyCost      decimal.Decimal  `json:"autarky_cost_eur"`
	LinkedCost       decimal.Decimal  `json:"linked_cost_eur"`
	KeptInAsia       decimal.Decimal  `json:"kept_in_asia_eur"`
}

// CBAMFlowEffect is one flow's certificates and euros owed.
type CBAMFlowEffect struct {
	Market              string          `json:"market"`
	Sector              string          `json:"sector"`
	CNCode              string          `json:"cn_code,omitempty"`
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
	Note                string          `json:"note,omitempty"`
}

// noDeductionWithDefaults explains a default-value flow's zero deduction.
const noDeductionWithDefaults = "default values: no carbon price paid is deductible (Art. 9 allows only a Commission default carbon price, none published); declare actual embedded emissions to deduct the home price"

var (
	million = decimal.NewFromInt(1_000_000)
	one     = decimal.NewFromInt(1)
)

// ComputeCBAM evaluates the scenario's CBAM flows against a solved result.
// It uses the cbam package's CBAM factor, CSCF and default-value mark-up.
func ComputeCBAM(sc *Scenario, res *Result) (*CBAMEffect, error) {
	spec := sc.CBAM
	if spec == nil {
		return nil, nil
	}
	retained, err := cbam.RetainedFreeAllocationShare(spec.Year)
	if err != nil {
		return nil, fmt.Errorf("linkage: cbam.year: %w", err)
	}
	cscf := cbam.CSCF(spec.Year)
	price := dec(spec.CertificatePrice.Value, 2)
	if !price.IsPositive() {
		return nil, &FieldError{Field: "cbam.certificate_price", Msg: "must be > 0"}
	}
	fx := one
	if spec.EURPerCurrency != nil {
		fx = decimal.NewFromFloat(spec.EURPerCurrency.Value)
	}
	prices := map[string][2]float64{}
	for _, m := range res.Markets {
		prices[m.ID] = [2]float64{m.AutarkyPrice, m.LinkedPrice}
	}
	out := &CBAMEffect{Year: spec.Year, RetainedShare: retained, CSCF: cscf, CertificatePrice: price}
	for i, f := range spec.Flows {
		p, ok := prices[f.Market]
		if !ok {
			return nil, &FieldError{Field: fmt.Sprintf("cbam.flows[%d].market", i), Msg: fmt.Sprintf("unknown market %q", f.Market)}
		}
		see, err := embeddedEmissions(&f, spec.Year)
		if err != nil {
			return nil, &FieldError{Field: fmt.Sprintf("cbam.flows[%d]", i), Msg: err.Error()}
		}
		goods := decimal.NewFromFloat(f.Goods.Value).Mul(million).Round(3)
		fe := CBAMFlowEffect{Market: f.Market, Sector: f.Sector, CNCode: f.CNCode, Goods: goods, EmbeddedEmissions: see}
		fe.Emissions = goods.Mul(see).Round(3)
		fe.FreeAllocation = retained.Mul(cscf).Mul(decimal.NewFromFloat(f.Benchmark.Value)).Mul(goods).Round(3)
		paid := decimal.NewFromFloat(f.PaidShare.Value)
		if f.DefaultValue != nil {
			paid, fe.Note = decimal.Zero, noDeductionWithDefaults
		}
		certs := func(home decimal.Decimal) (deduction, certificates, cost decimal.Decimal) {
			deduction = home.Mul(paid).Mul(fe.Emissions).DivRound(price, 3)
			certificates = decimal.Max(decimal.Zero, fe.Emissions.Sub(fe.FreeAllocation).Sub(deduction))
			return deduction, certificates, certificates.Mul(price).Round(2)
		}
		fe.AutarkyHomePrice = decimal.NewFromFloat(p[0]).Mul(fx).Round(2)
		fe.LinkedHomePrice = decimal.NewFromFloat(p[1]).Mul(fx).Round(2)
		fe.AutarkyDeduction, fe.AutarkyCertificates, fe.AutarkyCost = certs(fe.AutarkyHomePrice)
		fe.LinkedDeduction, fe.LinkedCertificates, fe.LinkedCost = certs(fe.LinkedHomePrice)
		fe.KeptInAsia = fe.AutarkyCost.Sub(fe.LinkedCost)
		out.AutarkyCost = out.AutarkyCost.Add(fe.AutarkyCost)
		out.LinkedCost = out.LinkedCost.Add(fe.LinkedCost)
		out.Flows = append(out.Flows, fe)
	}
	out.KeptInAsia = out.AutarkyCost.Sub(out.LinkedCost)
	return out, nil
}

// embeddedEmissions is the flow's SEE: given directly, or the default value
// times (1 + the cbam package's mark-up for the CN code's sector and year).
func embeddedEmissions(f *CBAMFlow, year int) (decimal.Decimal, error) {
	if f.EmbeddedEmissions != nil {
		return decimal.NewFromFloat(f.EmbeddedEmissions.Value), nil
	}
	sector, ok := cbam.SectorOfCN(f.CNCode)
	if !ok {
		return decimal.Zero, fmt.Errorf("cn_code %q is not a CBAM good", f.CNCode)
	}
	markUp, err := cbam.DefaultValueMarkUp(sector, year)
	if err != nil {
		return decimal.Zero, err
	}
	return decimal.NewFromFloat(f.DefaultValue.Value).Mul(one.Add(markUp)), nil
}

func dec(x float64, places int32) decimal.Decimal {
	return decimal.NewFromFloat(x).Round(places)
}
