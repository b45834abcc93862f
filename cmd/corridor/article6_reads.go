package main

import (
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/client"
)

// newArticle6ReadCmds are `corridor article6 authorisations|itmos|balances`:
// the hub's Article 6 ledger read through a server's API (public reads).
func newArticle6ReadCmds() []*cobra.Command {
	type read struct {
		use, short string
		run        func(cmd *cobra.Command, f *apiFlags, q client.Article6Query, format string) error
	}
	reads := []read{
		{"authorisations", "Authorisations per host Party: version, status, quantity issued and first-transferred", func(cmd *cobra.Command, f *apiFlags, q client.Article6Query, format string) error {
			as, err := f.client().Article6Authorisations(cmd.Context(), q)
			if err != nil {
				return f.apiError("article6 authorisations", err)
			}
			if format == "json" {
				return printJSON(cmd.OutOrStdout(), as)
			}
			t := newTable(cmd.OutOrStdout(), "ID", "HOST", "APPROACH", "VERSION", "STATUS", "PURPOSES", "QUANTITY", "ISSUED", "FIRST-TRANSFERRED", "ACQUIRING")
			for _, a := range as {
				t.row(a.ID, a.Host, a.Approach, a.Version, a.Status, strings.Join(a.Purposes, ","), a.Quantity, a.Issued, a.FirstTransferred, dash(strings.Join(a.AcquiringParties, ",")))
			}
			return t.flush()
		}},
		{"itmos", "Blocks issued under an authorisation: ITMO ids once first-transferred, holder and status", func(cmd *cobra.Command, f *apiFlags, q client.Article6Query, format string) error {
			its, err := f.client().Article6ITMOs(cmd.Context(), q)
			if err != nil {
				return f.apiError("article6 itmos", err)
			}
			if format == "json" {
				return printJSON(cmd.OutOrStdout(), its)
			}
			t := newTable(cmd.OutOrStdout(), "FIRST ITMO", "LAST ITMO", "QUANTITY", "SHARE", "HOLDER", "STATUS", "FIRST TRANSFER", "SERIAL")
			for _, it := range its {
				ft := "not yet"
				if it.FirstTransferred {
					ft = it.FirstTransferDate + " " + it.FirstTransferType
				}
				t.row(dash(it.First), dash(it.Last), it.Quantity, it.Share, it.Holder, it.Status, ft, it.Serial)
			}
			return t.flush()
		}},
		{"balances", "Each Party's corresponding adjustments per year (the emissions balance's Article 6 part)", func(cmd *cobra.Command, f *apiFlags, q client.Article6Query, format string) error {
			bs, err := f.client().Article6Balances(cmd.Context(), q)
			if err != nil {
				return f.apiError("article6 balances", err)
			}
			if format == "json" {
				return printJSON(cmd.OutOrStdout(), bs)
			}
			t := newTable(cmd.OutOrStdout(), "PARTY", "METHOD", "YEAR", "FIRST-TRANSFERRED", "USED", "ADJUSTMENT")
			for _, b := range bs {
				for _, r := range b.Rows {
					year := strconv.Itoa(r.Year)
					if r.Year == 0 {
						year = "period"
					}
					t.row(b.Party, b.Method, year, r.FirstTransferred, r.Used, r.Adjustment.String())
				}
			}
			return t.flush()
		}},
	}
	var out []*cobra.Command
	for _, rd := range reads {
		var f apiFlags
		var q client.Article6Query
		var period string
		var asJSON bool
		var output jsonFlags
		cmd := &cobra.Command{
			Use:   rd.use,
			Short: rd.short,
			Long: rd.short + `, from the hub's Article 6 ledger through a
server's API (public: no token needed). --party keeps one Party's.` + exitCodesHelp + `, CORRIDOR_FORMAT.`,
			Example: "  corridor article6 " + rd.use + " --server http://127.0.0.1:8181 --party ID",
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := output.resolve(cmd); err != nil {
					return err
				}
				format := "table"
				if asJSON {
					format = "json"
				}
				// Case is normalised here; whether the code is a Party of a
				// cooperative approach the server decides (400 party_unknown).
				if q.Party != "" {
					p := strings.ToUpper(strings.TrimSpace(q.Party))
					if len(p) != 2 || strings.Trim(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
						return usageError(cmd, "--party must be an ISO 3166-1 alpha-2 code such as ID, not %q", q.Party)
					}
					q.Party = p
				}
				if rd.use == "balances" {
					m := ndcPeriod.FindStringSubmatch(period)
					if m == nil {
						return usageError(cmd, "--ndc-period must be FIRST-LAST years such as 2021-2030, not %q", period)
					}
					q.FirstYear, q.LastYear = m[1], m[2]
				}
				return rd.run(cmd, &f, q, format)
			},
		}
		f.addConn(cmd.Flags())
		output.add(cmd.Flags(), &asJSON)
		cmd.Flags().StringVar(&q.Party, "party", "", "keep one Party's (ISO 3166-1 alpha-2)")
		if rd.use == "balances" {
			cmd.Flags().StringVar(&q.Method, "method", "", "method of applying corresponding adjustments: multi-year-trajectory (default), multi-year-budget, single-year-trajectory, single-year-averaging")
			cmd.Flags().StringVar(&period, "ndc-period", "2021-2030", "the NDC implementation period, FIRST-LAST")
			cmd.Flags().StringVar(&q.TargetYear, "target-year", "", "target year of a single-year NDC (default: the period's last)")
			cmd.Flags().StringVar(&q.AsOf, "as-of", "", "single-year-averaging: the last elapsed year the average counts (default: this year, within the period)")
		}
		out = append(out, cmd)
	}
	return out
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
