package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/corridor-carbon/corridor/internal/mrv"
	"github.com/spf13/cobra"
)

func newMRVCmd() *cobra.Command {
	var file, format string
	cmd := &cobra.Command{
		Use:   "mrv",
		Short: "Installation monitoring data in: emissions, goods' embedded emissions, China-ETS and CBAM reports",
		Long: `Compute an installation's emissions from its monitoring data (calculation-based
source streams, mass balances, aluminium PFCs by the slope method, electricity),
attribute them to production processes and goods, embed precursors, and print the
China-ETS-style and CBAM-style reports built from the same data with their differences.

  corridor mrv --file internal/mrv/testdata/installation.yaml
  corridor mrv --file installation.json --format json

The file is JSON or YAML with the fields of POST /api/v1/mrv/report (see
/api/v1/openapi.json, schema MRVInstallation). Figures are exact decimals, nothing
is rounded. Errors name the field at fault, e.g. streams[1].ef.

Exit codes: 0 ok, 2 bad input (the file or a field in it).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return &exitError{code: exitUsage, err: errors.New("mrv: --file is required")}
			}
			if format != "text" && format != "json" {
				return &exitError{code: exitUsage, err: fmt.Errorf("mrv: --format %q: want text or json", format)}
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
			return printMRV(cmd.OutOrStdout(), inst, res, cmp)
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "installation monitoring data, JSON or YAML")
	cmd.Flags().StringVar(&format, "format", "text", "output: text or json")
	return cmd
}

func printMRV(out io.Writer, inst mrv.Installation, r mrv.Result, c mrv.Comparison) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "installation\t%s (%s), %d\n", inst.Name, inst.Country, inst.Year)
	fmt.Fprintf(w, "direct\t%s tCO2e (combustion %s, process %s, PFC %s; biomass %s zero-rated)\n", r.Direct, r.Combustion, r.ProcessCO2, r.PFC, r.BiomassCO2)
	fmt.Fprintf(w, "indirect\t%s tCO2e\n\n", r.Indirect)
	fmt.Fprintln(w, "source\tprocess\tmethod\ttCO2e\tequation")
	for _, s := range r.Streams {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", s.ID, s.Process, s.Method, s.CO2e, s.Equations)
	}
	fmt.Fprintln(w, "\ngood\tprocess\tt produced\tSEE direct\tSEE indirect\tSEE CBAM (tCO2e/t)")
	for _, g := range r.Goods {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", g.CN, g.Process, g.ActivityLevel, g.SEEDirect, g.SEEIndirect, g.SEECBAM)
	}
	fmt.Fprintf(w, "\nChina ETS\ttotal %s tCO2e, covered %v (threshold %s)\n", c.ChinaETS.Total, c.ChinaETS.Covered, mrv.ChinaETSThreshold)
	fmt.Fprintf(w, "CBAM\tdirect %s, indirect %s tCO2e; %d goods\n\n", c.CBAM.Direct, c.CBAM.Indirect, len(c.CBAM.Goods))
	fmt.Fprintln(w, "difference\tChina ETS\tCBAM")
	for _, d := range c.Differences {
		fmt.Fprintf(w, "%s\t%s\t%s\n", d.Topic, d.ChinaETS, d.CBAM)
	}
	return w.Flush()
}
