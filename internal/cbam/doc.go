// Package cbam computes what an EU importer owes under the Carbon Border
// Adjustment Mechanism (Reg. (EU) 2023/956 as amended by Reg. (EU) 2025/2083)
// for goods from China and ASEAN: embedded emissions, the free-allocation
// adjustment, the carbon price paid abroad, certificates and euros, from the
// Commission's versioned default-value and benchmark datasets.
//
// Units: emissions in tonnes CO2e (t), specific values in tCO2e per tonne of
// good, masses in tonnes, prices in EUR per certificate (one certificate
// corresponds to one tonne CO2e of embedded emissions, Art. 3 point (24)).
//
// Rounding: every figure is carried at full decimal precision (shopspring
// decimal, no float64) through the calculation; nothing intermediate is
// rounded. Results state the exact certificates, and two rounded figures
// whose rule is exposed in Rounding: certificates to surrender rounded up to
// whole certificates (a certificate is one whole tonne and the declarant must
// cover all net embedded emissions, Art. 22(1); the act does not spell out a
// rounding step, so rounding up is our documented choice) and euros rounded
// half-up to the cent.
package cbam
