package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/article6report"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/store"
)

func newArticle6Cmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "article6",
		Short: "Article 6 reports from the hub's ledger (AEF)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newArticle6AEFCmd())
	cmd.AddCommand(newArticle6ReadCmds()...)
	return cmd
}

// aefTables are the AEF's tables, by the names the flag takes.
var aefTables = map[string]string{
	"submission": "Submission", "authorizations": "Authorizations", "actions": "Actions",
	"holdings": "Holdings", "authorized-entities": "AuthorizedEntities", "authorizedentities": "AuthorizedEntities",
}

var ndcPeriod = regexp.MustCompile(`^(\d{4})-(\d{4})$`)

func newArticle6AEFCmd() *cobra.Command {
	var hubDB, hubURL, hubSchema, party, table, format, out, submitted, period string
	var year, version int
	cmd := &cobra.Command{
		Use:   "aef",
		Short: "A Party's Agreed Electronic Format tables for a year, as CSV or XLSX",
		Long: `Build a Party's AEF for a year from the hub's Article 6 ledger: Submission,
Authorizations, Actions, Holdings (on 31 December) and Authorized entities, in
the columns of the UNFCCC template: every cell filled ("NA" where a column does
not apply) except those the UNFCCC platform fills, which stay empty.

The ledger is rebuilt from the hub's database (its hub_article6 table, plus the
transfers completed in hub_events since the hub last read them); the database is
opened read-only and nothing is written, so it can run next to the serving hub.
Facts a host registry recorded that the hub has not read yet (it reads them when
it checks a proposal or serves a report) are not in it.

--format csv writes one table (--table, default actions); --format xlsx writes one
sheet per table (all five unless --table names one).

Exit codes: 0 ok, 1 it could not run (database unreachable, no hub tables), 2 a
flag is wrong (e.g. a year before 2021), 3 the ledger refuses the request.`,
		Example: `  corridor article6 aef --hub-db data/hub.db --party TH --year 2026 --table actions --format csv
  corridor article6 aef --hub-url postgres://... --hub-schema hub --party ID --year 2026 --format xlsx --out id-2026.xlsx`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (hubDB == "") == (hubURL == "") {
				return usageError(cmd, "give the hub's database: --hub-db FILE (SQLite) or --hub-url URL (PostgreSQL)")
			}
			if format != "csv" && format != "xlsx" {
				return usageError(cmd, "--format must be csv or xlsx, not %q", format)
			}
			// The API's checks (400 year_invalid), made here before the
			// database is opened so the flag at fault is named.
			if year < 2021 || year > 2100 {
				return usageError(cmd, "--year must be a year from 2021 to 2100 (Article 6.2 ITMOs are mitigation from 2021 on), not %d (year_invalid)", year)
			}
			if version < 1 {
				return usageError(cmd, "--version must be a whole number from 1, not %d (version_invalid)", version)
			}
			if format == "xlsx" {
				if err := refuseBinaryOnTerminal(cmd, out); err != nil {
					return err
				}
			}
			name := ""
			if table != "" {
				var ok bool
				if name, ok = aefTables[strings.ToLower(table)]; !ok {
					return usageError(cmd, "--table must be submission, authorizations, actions, holdings or authorized-entities, not %q", table)
				}
			} else if format == "csv" {
				name = "Actions"
			}
			aps, err := article6.DefaultApproaches()
			if err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			var pe *article6report.PartyError
			if party, err = article6report.ParseParty(aps, party); errors.As(err, &pe) {
				return usageError(cmd, "--party: %s (%s)", pe.Detail, pe.Code)
			}
			m := ndcPeriod.FindStringSubmatch(period)
			if m == nil {
				return usageError(cmd, "--ndc-period must be FIRST-LAST years such as 2021-2030, not %q", period)
			}
			first, _ := strconv.Atoi(m[1])
			last, _ := strconv.Atoi(m[2])
			if first < 2021 || last > 2100 || last < first {
				return usageError(cmd, "--ndc-period must be FIRST-LAST years from 2021 to 2100, FIRST not after LAST, not %q (year_invalid)", period)
			}
			ctx := cmd.Context()
			db, err := store.OpenReadOnly(ctx, store.Config{Path: hubDB, URL: hubURL, Schema: hubSchema})
			if err != nil {
				return &exitError{code: exitFailure, err: fmt.Errorf("article6 aef: opening the hub's database: %w", err)}
			}
			defer db.Close()
			set, err := agreements.Default()
			if err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			cfg := hub.Article6Config{DB: db, Ledger: article6.Config{Approaches: aps, Registries: map[string]string{}}, Party: map[string]string{}, ReadOnly: true}
			for _, r := range set.Registries {
				cfg.Party[r.Code] = r.Party
				if r.Code == r.Party {
					cfg.Ledger.Registries[r.Party] = r.Code
				}
			}
			x, err := hub.OpenArticle6(ctx, cfg)
			if err != nil {
				return &exitError{code: exitFailure, err: fmt.Errorf("article6 aef: %w", err)}
			}
			sub := article6.Submission{Party: party, Version: version, Year: year, Date: submitted, NDCFirstYear: first, NDCLastYear: last}
			aef, err := x.AEF(ctx, sub)
			if err != nil {
				if article6.CodeOf(err) != "" {
					return &exitError{code: exitRejected, err: fmt.Errorf("article6 aef: %w", err)}
				}
				return &exitError{code: exitFailure, err: fmt.Errorf("article6 aef: %w", err)}
			}
			if name != "" {
				t, _ := aef.Table(name)
				aef.Tables = []article6.Table{t}
			}
			var buf bytes.Buffer
			if format == "csv" {
				err = aef.Tables[0].WriteCSV(&buf)
			} else {
				err = aef.WriteXLSX(&buf)
			}
			if err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			if out == "" || out == "-" {
				_, err = cmd.OutOrStdout().Write(buf.Bytes())
				return err
			}
			if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
				return &exitError{code: exitFailure, err: fmt.Errorf("article6 aef: %w", err)}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&hubDB, "hub-db", "", "the hub's SQLite database file")
	f.StringVar(&hubURL, "hub-url", "", "the hub's PostgreSQL connection string")
	f.StringVar(&hubSchema, "hub-schema", "", "PostgreSQL schema of the hub's tables")
	f.StringVar(&party, "party", "", "the reporting Party (ISO 3166-1 alpha-2), e.g. TH")
	f.IntVar(&year, "year", 0, "the reported calendar year (from 2021)")
	f.StringVar(&table, "table", "", "one table: submission, authorizations, actions, holdings, authorized-entities")
	f.StringVar(&format, "format", "csv", "csv or xlsx")
	f.StringVar(&out, "out", "", "write to this file instead of standard output")
	f.StringVar(&submitted, "submitted", "", "submission date YYYY-MM-DD (default: not submitted)")
	f.IntVar(&version, "version", 1, "submission version")
	f.StringVar(&period, "ndc-period", "2021-2030", "the NDC implementation period, FIRST-LAST")
	return cmd
}
