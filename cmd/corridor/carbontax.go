package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/registry"
)

// Singapore's carbon tax: the administrator records a taxable facility's
// taxable emissions, the facility surrenders ICCs with
// 'corridor retire --purpose icc --compliance-year YEAR' (internal/registry/icc.go).

func newReportEmissionsCmd() *cobra.Command {
	var f apiFlags
	var req registry.ReportEmissions
	cmd := &cobra.Command{
		Use:   "report-emissions",
		Short: "Record a Singapore taxable facility's taxable emissions for a year (admin)",
		Long: `Record the taxable emissions (tCO2e) of the facility whose account is --account for
emissions year --year, in a Singapore registry. A year is recorded once. The facility may then
surrender ICCs for that year ('corridor retire --purpose icc --compliance-year YEAR') up to 5 %
of them, rounded down to whole tonnes, summed over the year; 'corridor account show' prints the
position.` + exitCodesHelp,
		Example: `  corridor report-emissions --registry SG --account 3 --year 2026 --tonnes 400000`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := positiveIDs(cmd, "account", "tonnes"); err != nil {
				return err
			}
			return submit(cmd, &f, "report-emissions", req, func(res registry.Result) string {
				return fmt.Sprintf("account %d's taxable emissions for %d recorded: %d t (ICC limit %d t)", req.Account, req.Year, req.Tonnes, registry.ICCLimit(req.Tonnes))
			})
		},
	}
	f.add(cmd.Flags())
	f.addKey(cmd.Flags())
	cmd.Flags().Int64Var(&req.Account, "account", 0, "the taxable facility's account (required)")
	cmd.Flags().IntVar(&req.Year, "year", 0, "emissions year (required)")
	cmd.Flags().Int64Var(&req.Tonnes, "tonnes", 0, "taxable emissions in tCO2e (required)")
	required(cmd, "account", "year", "tonnes")
	return cmd
}

// printCarbonTax prints an account's ICC position (nothing when it has no
// taxable emissions recorded).
func printCarbonTax(out io.Writer, acc registry.AccountView) error {
	if len(acc.CarbonTax) == 0 {
		return nil
	}
	fmt.Fprintln(out, "\nSingapore carbon tax: ICCs (limit 5 % of taxable emissions, rounded down)")
	t := newTable(out, "YEAR", "TAXABLE EMISSIONS", "ICC LIMIT", "ICC SURRENDERED", "HEADROOM")
	for _, y := range acc.CarbonTax {
		t.row(y.Year, y.TaxableEmissions, y.ICCLimit, y.ICCSurrendered, y.ICCHeadroom)
	}
	return t.flush()
}
