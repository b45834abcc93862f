package linkage

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteTable prints a result as plain-text tables for a terminal.
func WriteTable(w io.Writer, res *Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	cur := res.Currency
	fmt.Fprintf(w, "Scenario %s: prices %s/t, quantities MtCO2e/yr, money %s million/yr (markets clear to %.0e of BAU)\n\n", res.Scenario, cur, cur, res.ClearingTolerance)
	fmt.Fprintln(w, "Markets")
	fmt.Fprintln(tw, "market\tjurisdiction\tinstrument\tautarky price\tlinked price\tworld price\tnet exports\tbinding\t")
	for _, m := range res.Markets {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t\n",
			m.ID, m.Jurisdiction, m.Instrument, fixed(m.AutarkyPrice), fixed(m.LinkedPrice), fixed(m.WorldPrice), fixed(m.NetExports), dash(m.Binding))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nCosts: private = the complying firms' (abatement, units bought and sold, tax paid at home);")
	fmt.Fprintln(w, "revenue = the authority's (tax, units sold at a ceiling); social = the country's (abatement + net payments abroad) = private − revenue")
	fmt.Fprintln(tw, "market\tprivate autarky\tprivate linked\tprivate gain\trevenue autarky\trevenue linked\tpaid abroad\tsocial autarky\tsocial linked\tsocial gain\t")
	for _, m := range res.Markets {
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t\n",
			m.ID, fixed(m.AutarkyCost), fixed(m.LinkedCost), fixed(m.Gain), fixed(m.AutarkyRevenue), fixed(m.LinkedRevenue), fixed(m.PermitPayments),
			fixed(m.AutarkySocialCost), fixed(m.LinkedSocialCost), fixed(m.SocialGain))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nRegions")
	fmt.Fprintln(tw, "region\tmarket\tBAU\trequired\tautarky abatement\tlinked abatement\tautarky cost\tlinked cost\tgain\t")
	for _, r := range res.Regions {
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.2f\t%.2f\t%.2f\t%.1f\t%.1f\t%.1f\t\n",
			r.ID, r.Market, fixed(r.BAU), fixed(r.Required), fixed(r.AutarkyAbatement), fixed(r.LinkedAbatement), fixed(r.AutarkyCost), fixed(r.LinkedCost), fixed(r.Gain))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nFlows (units of the exporting market, valued at the world price)")
	if len(res.Flows) == 0 {
		fmt.Fprintln(w, "  none")
	} else {
		fmt.Fprintln(tw, "from\tto\tunits\tvalue\t")
		for _, f := range res.Flows {
			fmt.Fprintf(tw, "%s\t%s\t%.3f\t%.2f\t\n", f.From, f.To, fixed(f.Units), fixed(f.Value))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	t := res.Totals
	fmt.Fprintf(w, "\nTotals: social gain from linking %.1f (social cost %.1f → %.1f); private gain %.1f (private cost %.1f → %.1f); revenue %.1f → %.1f\n",
		fixed(t.SocialGain), fixed(t.AutarkySocialCost), fixed(t.LinkedSocialCost), fixed(t.Gain), fixed(t.AutarkyCost), fixed(t.LinkedCost), fixed(t.AutarkyRevenue), fixed(t.LinkedRevenue))
	fmt.Fprintf(w, "Emissions %.2f → %.2f (%+.3f); unused %.3f\n", fixed(t.AutarkyEmissions), fixed(t.LinkedEmissions), fixed(t.EmissionsChange), fixed(t.Unused))
	if c := res.CBAM; c != nil {
		fmt.Fprintf(w, "\nCBAM %d (free allocation retained %s, CSCF %s, certificate EUR %s; computed by the cbam package, dataset %s)\n", c.Year, c.RetainedShare, c.CSCF, c.CertificatePrice.StringFixed(2), c.DatasetVersion)
		fmt.Fprintln(tw, "market\tsector\tCN\tdata\temissions t\tcertificates autarky\tcertificates linked\tEUR autarky\tEUR linked\tkept in Asia EUR\t")
		for _, f := range c.Flows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", f.Market, f.Sector, f.CNCode, f.Method, f.Emissions.StringFixed(0),
				f.AutarkyCertificates.StringFixed(0), f.LinkedCertificates.StringFixed(0),
				f.AutarkyCost.StringFixed(2), f.LinkedCost.StringFixed(2), f.KeptInAsia.StringFixed(2))
		}
		fmt.Fprintf(tw, "total\t\t\t\t\t\t\t%s\t%s\t%s\t\n", c.AutarkyCost.StringFixed(2), c.LinkedCost.StringFixed(2), c.KeptInAsia.StringFixed(2))
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, f := range c.Flows {
			if f.Note != "" {
				fmt.Fprintf(w, "  %s %s %s: %s\n", f.Market, f.Sector, f.CNCode, f.Note)
			}
		}
	}
	if mc := res.MonteCarlo; mc != nil {
		fmt.Fprintf(w, "\nMonte Carlo: %d runs (%d failed), seed %d, %d uncertain parameters; percentiles p5 / p50 / p95\n", mc.Runs, mc.Failed, mc.Seed, mc.Uncertain)
		fmt.Fprintln(tw, "market\tautarky price\tlinked price\tprivate gain\tsocial gain\t")
		for _, m := range mc.Markets {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", m.ID, band(m.AutarkyPrice, 2), band(m.LinkedPrice, 2), band(m.Gain, 1), band(m.SocialGain, 1))
		}
		fmt.Fprintf(tw, "total\t\t\t%s\t%s\t\n", band(mc.Gain, 1), band(mc.SocialGain, 1))
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func band(b Band, prec int) string {
	f := func(x float64) string { return fmt.Sprintf("%.*f", prec, fixed(x)) }
	return f(b.P5) + " / " + f(b.P50) + " / " + f(b.P95)
}

// fixed prints a float64 with %f (its precision and + flag), never as
// negative zero: a value that rounds to zero where the table stops is 0.
type fixed float64

func (x fixed) Format(st fmt.State, verb rune) {
	prec, ok := st.Precision()
	if !ok {
		prec = 6
	}
	s := strconv.FormatFloat(float64(x), 'f', prec, 64)
	if s[0] == '-' && strings.Trim(s[1:], "0.") == "" {
		s = s[1:]
	}
	if st.Flag('+') && s[0] != '-' {
		s = "+" + s
	}
	_, _ = io.WriteString(st, s)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteCSV writes one row per market (the market table) as CSV.
func WriteCSV(w io.Writer, res *Result) error {
	cw := csv.NewWriter(w)
	header := []string{"market", "jurisdiction", "instrument", "component", "unit_value", "required_abatement",
		"autarky_price", "linked_price", "world_price", "autarky_abatement", "linked_abatement", "net_exports",
		"binding", "withdrawn", "quota_rent", "permit_payments", "autarky_cost", "linked_cost", "gain",
		"autarky_revenue", "linked_revenue", "autarky_social_cost", "linked_social_cost", "social_gain"}
	if res.MonteCarlo != nil {
		header = append(header, "linked_price_p5", "linked_price_p50", "linked_price_p95", "gain_p5", "gain_p50", "gain_p95")
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	g := func(x float64) string { return strconv.FormatFloat(x+0, 'g', 10, 64) } // +0 turns −0 into 0
	for i, m := range res.Markets {
		row := []string{m.ID, m.Jurisdiction, string(m.Instrument), strconv.Itoa(m.Component), g(m.UnitValue), g(m.Required),
			g(m.AutarkyPrice), g(m.LinkedPrice), g(m.WorldPrice), g(m.AutarkyAbatement), g(m.LinkedAbatement), g(m.NetExports),
			m.Binding, g(m.Withdrawn), g(m.QuotaRent), g(m.PermitPayments), g(m.AutarkyCost), g(m.LinkedCost), g(m.Gain),
			g(m.AutarkyRevenue), g(m.LinkedRevenue), g(m.AutarkySocialCost), g(m.LinkedSocialCost), g(m.SocialGain)}
		if mc := res.MonteCarlo; mc != nil {
			b := mc.Markets[i]
			row = append(row, g(b.LinkedPrice.P5), g(b.LinkedPrice.P50), g(b.LinkedPrice.P95), g(b.Gain.P5), g(b.Gain.P50), g(b.Gain.P95))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
