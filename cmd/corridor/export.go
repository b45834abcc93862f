package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/client"
	"github.com/corridor-carbon/corridor/internal/export"
	"github.com/corridor-carbon/corridor/internal/ledger"
)

// exportPage is the page size of journal and retirement reads: the most
// the API returns at once (internal/api/registry.go).
const exportPage = 1000

func newExportCmd() *cobra.Command {
	var f apiFlags
	var format, what, out, progress string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export holdings, transactions or retirements as CSV or XLSX",
		Long: `Export a registry from a running server as CSV or XLSX, page by page:

  holdings      every held or reserved block of every account the token may see
                (admin or auditor: all accounts; holder: its own)
  transactions  the journal, one row per entry with its hash (admin or auditor)
  retirements   public retirement records, one row per retired block (no token)

Columns use CAD Trust unit field names where one fits (serialNumberBlock,
unitBlockStart, unitBlockEnd, unitCount, vintageYear, unitType, unitStatus,
unitOwner, countryJurisdictionOfOwner…). In CSV, free text starting with = + - @
is prefixed with ' so that spreadsheets do not run it as a formula. XLSX sheets
continue on a new sheet past Excel's 1,048,576 rows.

With --out FILE the file appears only once complete, readable by its owner only (it may
hold private account data). A progress bar goes to stderr
when it is a terminal (--progress always|never overrides).` + exitCodesHelp,
		Example: `  corridor export --format csv --what retirements --registry TH > th-retirements.csv
  corridor export --format xlsx --what holdings --out cn-holdings.xlsx --token $CORRIDOR_TOKEN
  corridor export --format csv --what transactions --out journal.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := export.ParseFormat(format)
			if err != nil {
				return usageError(cmd, "--format must be csv or xlsx, not %q", format)
			}
			kind, err := export.ParseKind(what)
			if err != nil {
				return usageError(cmd, "--what must be holdings, transactions or retirements, not %q", what)
			}
			if out == "-" {
				out = ""
			}
			if progress != "auto" && progress != "always" && progress != "never" {
				return usageError(cmd, "--progress must be auto, always or never, not %q", progress)
			}
			if fm == export.XLSX {
				if err := refuseBinaryOnTerminal(cmd, out); err != nil {
					return err
				}
			}
			showBar := progress == "always" || progress == "auto" && isTerminal(cmd.ErrOrStderr())
			return runExport(cmd, &f, exportJob{format: fm, kind: kind, out: out, progress: showBar})
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().StringVar(&format, "format", "csv", "file format: csv or xlsx")
	cmd.Flags().StringVar(&what, "what", "", "holdings, transactions or retirements (required)")
	cmd.Flags().StringVarP(&out, "out", "o", "", "output file; - or none writes to stdout")
	cmd.Flags().StringVar(&progress, "progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always or never")
	required(cmd, "what")
	return withUsageExit(cmd)
}

type exportJob struct {
	format   export.Format
	kind     export.Kind
	out      string
	progress bool
}

// runExport writes the export to --out (through a temporary file renamed
// into place once complete) or to stdout.
func runExport(cmd *cobra.Command, f *apiFlags, job exportJob) (err error) {
	w := cmd.OutOrStdout()
	if job.out != "" {
		// The deferred function reads the named result err, so nothing in
		// this block may declare its own err.
		tmp, cerr := os.CreateTemp(filepath.Dir(job.out), "."+filepath.Base(job.out)+".*.part")
		if cerr != nil {
			return fmt.Errorf("export: %w", cerr)
		}
		defer func() {
			if cerr := tmp.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("export: %w", cerr)
			}
			if err == nil {
				err = os.Rename(tmp.Name(), job.out)
			}
			if err != nil {
				os.Remove(tmp.Name())
			}
		}()
		w = tmp
	}
	ctx := cmd.Context()
	c := f.client()
	before, err := c.Totals(ctx, f.registry)
	if err != nil {
		return f.apiError("export", err)
	}
	issuances, err := c.Issuances(ctx, f.registry)
	if err != nil {
		return f.apiError("export", err)
	}
	ew, err := export.NewWriter(w, export.Options{Format: job.format, Kind: job.kind, Registry: f.registry, Issuances: issuances})
	if err != nil {
		return err
	}
	bar := newExportBar(cmd, job, before.JournalSeq)
	switch job.kind {
	case export.Holdings:
		err = exportHoldings(ctx, cmd, f, c, ew, bar)
	case export.Transactions:
		err = exportJournal(ctx, f, c, ew, bar)
	case export.Retirements:
		err = exportRetirements(ctx, f, c, ew, bar)
	}
	if err != nil {
		return err
	}
	if err := ew.Close(); err != nil {
		return err
	}
	if bar != nil {
		_ = bar.Finish()
	}
	dest := job.out
	if dest == "" {
		dest = "stdout"
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "exported %s (%s) of registry %s (journal entry %d) to %s\n", count(ew.Rows(), "row", "rows"), job.kind, f.registry, before.JournalSeq, dest)
	if job.kind == export.Holdings {
		if after, err := c.Totals(ctx, f.registry); err == nil && after.JournalSeq != before.JournalSeq {
			fmt.Fprintf(cmd.ErrOrStderr(), "warning: the registry changed during the export (journal entry %d → %d); holdings were read account by account and may not be one snapshot\n",
				before.JournalSeq, after.JournalSeq)
		}
	}
	return nil
}

// newExportBar returns a progress bar on stderr, or nil. Holdings count
// accounts (the total is set once they are listed); journal and
// retirements count journal sequence numbers up to the head.
func newExportBar(cmd *cobra.Command, job exportJob, head int64) *progressbar.ProgressBar {
	if !job.progress {
		return nil
	}
	total, unit := head, "entries"
	if job.kind == export.Holdings {
		total, unit = -1, "accounts"
	}
	return progressbar.NewOptions64(total, progressbar.OptionSetWriter(cmd.ErrOrStderr()),
		progressbar.OptionSetDescription("export "+string(job.kind)), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
		progressbar.OptionSetItsString(unit), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
}

func exportHoldings(ctx context.Context, cmd *cobra.Command, f *apiFlags, c *client.Client, ew *export.Writer, bar *progressbar.ProgressBar) error {
	accounts, err := c.Accounts(ctx, f.registry)
	if err != nil {
		return f.apiError("export holdings", err)
	}
	// Countries come from the organisations, which only admins and
	// auditors may list; for a holder, from its accounts' owner.
	countries := map[int64]string{}
	var orgs struct {
		Organisations []ledger.Organisation `json:"organisations"`
	}
	_, err = c.Do(ctx, http.MethodGet, "/api/v1/registries/"+url.PathEscape(f.registry)+"/organisations", "", nil, &orgs)
	var p *client.Problem
	switch {
	case err == nil:
		for _, o := range orgs.Organisations {
			countries[o.ID] = o.Country
		}
	case errors.As(err, &p) && p.Status == http.StatusForbidden:
	default:
		return f.apiError("export holdings", err)
	}
	if bar != nil {
		bar.ChangeMax(len(accounts))
	}
	for i, a := range accounts {
		blocks, err := c.Holdings(ctx, f.registry, a.ID)
		if err != nil {
			return f.apiError(fmt.Sprintf("export holdings of account %d", a.ID), err)
		}
		owner := export.Owner{Account: a, Country: countries[a.OrgID]}
		if owner.Country == "" {
			owner.Country = a.OrganisationCountry
		}
		for _, b := range blocks {
			if err := ew.Holding(owner, b); err != nil {
				return err
			}
		}
		if bar != nil {
			_ = bar.Set(i + 1)
		}
	}
	return nil
}

// setBar moves the bar to journal entry seq, growing it if the journal
// grew during the export.
func setBar(bar *progressbar.ProgressBar, seq int64) {
	if bar == nil {
		return
	}
	if seq > bar.GetMax64() {
		bar.ChangeMax64(seq)
	}
	_ = bar.Set64(seq)
}

func exportJournal(ctx context.Context, f *apiFlags, c *client.Client, ew *export.Writer, bar *progressbar.ProgressBar) error {
	for after := int64(0); ; {
		page, err := c.Transactions(ctx, f.registry, after, "", exportPage)
		if err != nil {
			return f.apiError("export transactions", err)
		}
		for _, t := range page {
			if err := ew.Transaction(t); err != nil {
				return err
			}
			after = t.Seq
		}
		setBar(bar, after)
		if len(page) < exportPage {
			return nil
		}
	}
}

func exportRetirements(ctx context.Context, f *apiFlags, c *client.Client, ew *export.Writer, bar *progressbar.ProgressBar) error {
	for after := int64(0); ; {
		page, err := c.Retirements(ctx, f.registry, after, exportPage)
		if err != nil {
			return f.apiError("export retirements", err)
		}
		for _, r := range page {
			if err := ew.Retirement(r); err != nil {
				return err
			}
			after = r.Seq
		}
		setBar(bar, after)
		if len(page) < exportPage {
			return nil
		}
	}
}
