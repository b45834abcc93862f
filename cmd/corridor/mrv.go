package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/corridor-carbon/corridor/internal/mrv"
	"github.com/spf13/cobra"
)

func newMRVCmd() *cobra.Command {
	var file, format string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "mrv",
		Short: "Installation monitoring data in: emissions, goods' embedded emissions, China-ETS and CBAM reports",
		Long: `Compute an installation's emissions from its monitoring data (calculation-based
source streams, mass balances, aluminium PFCs by the slope method, electricity),
attribute them to production processes and goods, embed precursors, and print the
China-ETS-style and CBAM-style reports built from the same data with their differences.

  corridor mrv --file internal/mrv/testdata/installation.yaml
  corridor mrv --file installation.json --json

The file is JSON or YAML with the fields of POST /api/v1/mrv/report (see
/api/v1/openapi.json, schema MRVInstallation). Source-stream figures are exact;
attribution and precursor embedding are carried in exact fractions and each good's
figure is rounded once, half away from zero, to 10 decimal places (the report says
so). Biomass is zero-rated only with biomass_sustainable: true (RED II criteria,
IR (EU) 2025/2547 Annex II B.3.3); otherwise it is counted. Errors name the field
at fault, e.g. streams[1].ef.

Exit codes: 0 ok, 2 bad input (the file or a field in it).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return &exitError{code: exitUsage, err: errors.New("mrv: --file is required")}
			}
			if format != "text" && format != "json" {
				return &exitError{code: exitUsage, err: fmt.Errorf("mrv: --format %q: want text or json (or use --json)", format)}
			}
			if asJSON {
				if cmd.Flags().Changed("format") && format != "json" {
					return &exitError{code: exitUsage, err: fmt.Errorf("mrv: --json and --format %s ask for two outputs: give one", format)}
				}
				format = "json"
			}
			raw, err := os.ReadFile(file)
			if err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("mrv: %w", err)}
			}
			inst, err := mrv.ParseInstallation(raw)
			if err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("%s: %w", file, err)}
			}
			res, err := mrv.Compute(inst)
			if err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("%s: %w", file, err)}
			}
			cmp := res.Reports()
			if format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Emissions mrv.Result `json:"emissions"`
					mrv.Comparison
				}{res, cmp})
			}
			return mrv.WriteText(cmd.OutOrStdout(), res, cmp)
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "installation monitoring data, JSON or YAML")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.Flags().StringVar(&format, "format", "text", "output: text or json; the same as --json (older spelling)")
	_ = cmd.Flags().MarkHidden("format")
	return cmd
}
