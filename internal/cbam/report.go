package cbam

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteLineReport writes one line's result as the text report of `corridor
// cbam`: every intermediate figure, then the what-if and the projection
// when given (either may be nil).
func WriteLineReport(w io.Writer, r LineResult, proj *Projection, whatIf *WhatIf) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("good", fmt.Sprintf("%s (%s) from %s, %d", r.CN, r.Sector, r.Origin, r.Year))
	row("dataset", r.DatasetVersion)
	if r.DatasetSuperseded != "" {
		row("SUPERSEDED", r.DatasetSuperseded)
	}
	if r.Method == "default" {
		row("method", fmt.Sprintf("default value of %s for %s, line %d", r.DefaultValueCountry, r.DefaultValueCN, r.DefaultValueLine))
		if r.Fallback {
			row("fallback", r.FallbackReason)
		}
		row("default value", fmt.Sprintf("%s tCO2e/t + mark-up %s%%", r.DefaultValueTotal, r.MarkUp.Shift(2)))
	} else {
		row("method", "actual data ("+r.SEESource+")")
	}
	row("SEE", r.SEE.String()+" tCO2e/t")
	row("embedded emissions", fmt.Sprintf("%s t × %s = %s tCO2e", r.Tonnes, r.SEE, r.EmbeddedEmissions))
	bench := fmt.Sprintf("column %s %s", r.Benchmark.Column, r.Benchmark.Value)
	if r.Benchmark.Rule != "" {
		bench += " (" + r.Benchmark.Rule + ")"
	}
	row("benchmark", bench)
	row("free-allocation adj.", fmt.Sprintf("CBAM factor %s × CSCF %s × benchmark = SEFA %s; × %s t = %s tCO2e", r.CBAMFactor, r.CSCF, r.SEFA, r.Tonnes, r.FreeAllocationAdjustment))
	if !r.CarbonPricePaidCertificates.IsZero() {
		row("carbon price paid", fmt.Sprintf("EUR %s = %s certificates", r.CarbonPricePaidEUR.StringFixed(2), r.CarbonPricePaidCertificates))
	}
	row("certificates (exact)", r.Certificates.String())
	if r.HasPrice {
		row("price", fmt.Sprintf("EUR %s (%s)", r.Price, r.PriceSource))
		row("cost of exact certs", fmt.Sprintf("EUR %s (%s × EUR %s, the line's share)", r.CostEUR.StringFixed(2), r.Certificates, r.Price))
	} else {
		row("cost", "unknown: no certificate price (see the note)")
	}
	for _, d := range lineDeclaration(r) {
		row(d[0], d[1])
	}
	for _, n := range r.Notes {
		if r.DatasetSuperseded != "" && strings.HasSuffix(n, r.DatasetSuperseded) {
			continue // the SUPERSEDED row above says it
		}
		row("note", n)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if whatIf != nil {
		fmt.Fprintf(w, "\nwhat-if: a carbon price paid of EUR %s saves %s certificates = EUR %s (cost after: EUR %s)\n",
			whatIf.DeductionEUR.StringFixed(2), whatIf.CertificatesSaved.StringFixed(3), whatIf.EURSaved.StringFixed(2), whatIf.CostAfterEUR.StringFixed(2))
		for _, n := range whatIf.Notes {
			fmt.Fprintln(w, "  note:", n)
		}
	}
	if proj != nil {
		fmt.Fprintf(w, "\nprojection 2026–2034 (%s)\n", proj.PriceAssumption)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "year\tCBAM factor\tSEE\tembedded\tFAA\tcertificates\tcost EUR\t")
		for _, y := range proj.Years {
			cost := "unknown"
			if y.CostEUR != nil {
				cost = y.CostEUR.StringFixed(2)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", y.Year, y.CBAMFactor, y.SEE.String(), y.EmbeddedEmissions.String(),
				y.FreeAllocationAdjustment.String(), y.Certificates.String(), cost)
		}
		return tw.Flush()
	}
	return nil
}

// WriteRunReport writes the summary of a streamed run: counts, speed,
// dataset (and whether it is superseded), the declaration per year and
// the first rejected lines.
func WriteRunReport(w io.Writer, sum RunSummary, elapsed time.Duration, data *Dataset) {
	rate := "n/a"
	if elapsed > 0 {
		rate = strconv.FormatFloat(float64(sum.Lines)/elapsed.Seconds(), 'f', 0, 64)
	}
	fmt.Fprintf(w, "cbam: %d lines in %s (%s lines/s), %d rejected; dataset %s\n", sum.Lines, elapsed.Round(time.Millisecond), rate, sum.Errors, data.Version())
	if data.Superseded != "" {
		fmt.Fprintln(w, "  SUPERSEDED:", data.Superseded)
	}
	for _, y := range sum.Years {
		exempt := ""
		if y.Exempt {
			exempt = fmt.Sprintf(" (de minimis: %s t ≤ 50 t, exempt)", y.DeMinimisTonnes)
		}
		unpriced, cost := "", fmt.Sprintf("cost of surrender EUR %s (exact certificates EUR %s)", y.CostEUR.StringFixed(2), y.CostExactEUR.StringFixed(2))
		if y.LinesWithoutPrice > 0 {
			unpriced = fmt.Sprintf(" (%d lines without a certificate price are not in the euros; %s)", y.LinesWithoutPrice, priceHelp)
		}
		switch {
		case !y.CostKnown && y.LinesWithoutPrice == y.Lines:
			cost = "cost unknown"
		case !y.CostKnown:
			cost = "cost unknown (EUR " + y.CostExactEUR.StringFixed(2) + " for the priced lines' exact certificates)"
		}
		fmt.Fprintf(w, "  %d: %d lines, embedded %s tCO2e, FAA %s, certificates %s → surrender %s, %s%s%s\n", y.Year, y.Lines,
			y.EmbeddedEmissions.StringFixed(3), y.FreeAllocationAdjustment.StringFixed(3), y.Certificates.StringFixed(3),
			y.CertificatesToSurrender, cost, exempt, unpriced)
	}
	for _, e := range sum.FirstErrors {
		fmt.Fprintln(w, "  rejected:", e)
	}
}

// WriteDatasetReport writes what `corridor cbam dataset` shows: version,
// layout, rows loaded and every malformed row with its line.
func WriteDatasetReport(w io.Writer, data *Dataset) {
	fmt.Fprintf(w, "dataset %s\n  layout: %s\n  %s: %d default values\n  %s: %d benchmarks\n", data.Version(), data.Layout,
		data.DefaultValuesFile, data.DefaultValueCount(), data.BenchmarksFile, data.BenchmarkCount())
	if data.Superseded != "" {
		fmt.Fprintln(w, "  SUPERSEDED:", data.Superseded)
	}
	for _, n := range data.Notes {
		fmt.Fprintln(w, "  note:", n)
	}
	fmt.Fprintf(w, "%d malformed rows (not loaded, no value guessed):\n", len(data.Malformed))
	for _, m := range data.Malformed {
		fmt.Fprintf(w, "  %s:%d: %s\n", m.File, m.Line, m.Reason)
	}
	fmt.Fprintln(w, "certificate prices:")
	for _, p := range EmbeddedPrices().Rows() {
		price := "unknown"
		if p.HasPrice {
			price = "EUR " + p.Price.String()
		}
		fmt.Fprintf(w, "  %s: %s (%s; publication %s) %s\n", p.PeriodS, price, p.Status, p.Published, p.Source)
	}
}

// lineDeclaration is what the annual declaration (Declaration, as the API's
// declaration shows it) makes of this line alone: the whole certificates to
// surrender and their cost and, for goods that count toward the de minimis
// threshold of Art. 2a, the exemption, which holds only if the line is all
// the declarant imports of those goods in the year.
func lineDeclaration(r LineResult) [][2]string {
	decl := NewDeclaration()
	decl.Add(r)
	y := decl.Years()[0]
	surrender := func(certs, cost string, known bool) string {
		s := certs + " whole certificates (rounded up)"
		if known {
			s += ", cost EUR " + cost
		}
		return s
	}
	ceil := r.Certificates.Ceil()
	allCount := surrender(ceil.String(), ceil.Mul(r.Price).StringFixed(2), r.HasPrice)
	if !deMinimisSector(r.Sector) {
		return [][2]string{{"to surrender", allCount}}
	}
	if !y.Exempt {
		return [][2]string{{"to surrender", allCount},
			{"de minimis", fmt.Sprintf("%s t > %s t a year of iron and steel, aluminium, fertilisers and cement: not exempt (Art. 2a of Reg. (EU) 2023/956 as amended by 2025/2083)", r.Tonnes, DeMinimisTonnes)}}
	}
	return [][2]string{
		{"de minimis", fmt.Sprintf("%s t ≤ %s t: exempt if this is all you import of iron and steel, aluminium, fertilisers and cement in %d (Art. 2a of Reg. (EU) 2023/956 as amended by 2025/2083); the declaration then owes 0 certificates, EUR 0", r.Tonnes, DeMinimisTonnes, r.Year)},
		{"to surrender", "0 if exempt; if your year's imports of those goods exceed " + DeMinimisTonnes.String() + " t, all count: " + allCount},
	}
}
