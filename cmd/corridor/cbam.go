package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/corridor-carbon/corridor/internal/cbam"
	"github.com/schollz/progressbar/v3"
	"github.com/shopspring/decimal"
	"github.com/spf13/cobra"
)

type cbamFlags struct {
	datasetDir                                 string
	origin, cn, route                          string
	tonnes, price                              string
	year, quarter                              int
	actualSEE, actualIndirect, benchmarkA      string
	cppPrice, cppCurrency, cppRate, cppCovered string
	cppRebated                                 string
	whatIfPrice, whatIfCurrency, whatIfRate    string
	whatIfCovered, whatIfFree                  string
	projection, asJSON                         bool
	file, out, priceTable                      string
	progress                                   string
}

func newCBAMCmd() *cobra.Command {
	var f cbamFlags
	cmd := &cobra.Command{
		Use:   "cbam",
		Short: "Compute EU CBAM obligations for one import line or a CSV/XLSX file of lines",
		Long: `Compute what an EU importer owes under CBAM (Reg. (EU) 2023/956 as amended by 2025/2083):
specific embedded emissions (default values with the year's mark-up, or actual data), the
free-allocation adjustment (CBAM factor × CSCF × benchmark), the carbon price paid abroad,
certificates and euros.

One line:
  corridor cbam --origin CN --cn 72081000 --tonnes 1000 --year 2026 --quarter 1
  corridor cbam --origin VN --cn 76011010 --tonnes 50 --year 2027 --price 80 --projection

A file of lines (CSV or XLSX; columns origin, cn, tonnes, year and optionally id, quarter,
route, price, direct, indirect, benchmark_a), streamed with a progress bar:
  corridor cbam --file imports.csv --out results.xlsx

The 8-digit CN code is matched to the default-value table's coarser codes (longest prefix);
origins without a row use "Other countries and territories" and the result says so.
Figures are exact decimals; euros are rounded half-up to the cent. The declaration's
certificates to surrender are rounded up to whole certificates, and its cost is that of
the whole certificates surrendered. De minimis (Art. 2a): a declarant importing at most
50 t of iron and steel, aluminium, fertilisers and cement in a year owes nothing for them;
a single line of 50 t or less is reported as exempt if it is all you import that year.

The embedded default values (v20260204) are the annex that Implementing Regulation
(EU) 2026/1740 replaced retroactively from 1 January 2026: results say so. Load the
2026/1740 dataset with --dataset-dir. Certificate prices: 2026-Q1 published, 2026-Q2
unverified, 2026-Q3 and Q4 unknown to this tool: give --price or --price-table.

Exit codes: 0 ok, 2 bad input, 3 some file lines rejected (see the error column).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runCBAM(cmd, f) },
	}
	// The dataset and the price table are the data every subcommand reads
	// (`cbam dataset` shows them), so they are persistent flags.
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.datasetDir, "dataset-dir", envDefault("CORRIDOR_CBAM_DATASET_DIR", ""), "directory with a newer dataset (cbam-default-values-vYYYYMMDD.csv in the IR (EU) 2026/1740 layout or the old one, cbam-benchmarks-column-b-vYYYYMMDD.csv); empty = the embedded v20260204/v20260206, superseded by IR (EU) 2026/1740 (env CORRIDOR_CBAM_DATASET_DIR)")
	pf.StringVar(&f.priceTable, "price-table", envDefault("CORRIDOR_CBAM_PRICE_TABLE", ""), "CSV of your own 2026 quarterly certificate prices (columns period,price_eur e.g. 2026-Q3,70.10; optional status, published, source); they take precedence over the built-in table, which lacks 2026-Q3 and 2026-Q4 (env CORRIDOR_CBAM_PRICE_TABLE)")
	fl := cmd.Flags()
	fl.StringVar(&f.origin, "origin", "", "country of origin, ISO 3166-1 alpha-2 (CN, VN, TH, ID, MY …)")
	fl.StringVar(&f.cn, "cn", "", "8-digit CN code, or 10-digit TARIC code, of the good (kaolin 2507 00 20 is not a CBAM good)")
	fl.StringVar(&f.tonnes, "tonnes", "", "net mass in tonnes")
	fl.IntVar(&f.year, "year", 0, "year of import (2026 or later)")
	fl.IntVar(&f.quarter, "quarter", 0, "quarter of import 1–4 (selects the published 2026 certificate price)")
	fl.StringVar(&f.route, "route", "", "production route letter where the table needs one (C, D, E, K, L, A, B …)")
	fl.StringVar(&f.price, "price", envDefault("CORRIDOR_CBAM_PRICE", ""), "certificate price in EUR (default: the published price of the quarter, if any) (env CORRIDOR_CBAM_PRICE)")
	fl.StringVar(&f.actualSEE, "actual-see", "", "actual direct specific embedded emissions, tCO2e per tonne (verified); needs --benchmark-a")
	fl.StringVar(&f.actualIndirect, "actual-indirect", "", "actual indirect emissions, tCO2e per tonne (counted for cement and fertilisers only)")
	fl.StringVar(&f.benchmarkA, "benchmark-a", "", "column-A benchmark of the good's process, tCO2e per tonne (with --actual-see)")
	fl.StringVar(&f.cppPrice, "carbon-price-paid", "", "carbon price effectively paid abroad per tCO2e, in --carbon-price-currency (needs actual data)")
	fl.StringVar(&f.cppCurrency, "carbon-price-currency", "EUR", "ISO 4217 currency of --carbon-price-paid")
	fl.StringVar(&f.cppRate, "carbon-price-eur-rate", "", "yearly average ECB rate, EUR per unit of that currency")
	fl.StringVar(&f.cppCovered, "carbon-price-covered-share", "1", "share of embedded emissions the price was due on (0–1)")
	fl.StringVar(&f.cppRebated, "carbon-price-rebated-share", "0", "share of covered emissions allocated free or rebated (0–1)")
	fl.StringVar(&f.whatIfPrice, "what-if-price", "", "what-if: a domestic or linked carbon price per tCO2e (in --what-if-currency)")
	fl.StringVar(&f.whatIfCurrency, "what-if-currency", "EUR", "ISO 4217 currency of --what-if-price")
	fl.StringVar(&f.whatIfRate, "what-if-eur-rate", "", "EUR per unit of --what-if-currency")
	fl.StringVar(&f.whatIfCovered, "what-if-covered-share", "1", "what-if: share of embedded emissions covered (0–1)")
	fl.StringVar(&f.whatIfFree, "what-if-free-share", "0", "what-if: share of covered emissions allocated free (0–1)")
	fl.BoolVar(&f.projection, "projection", false, "also show the 2026–2034 projection of the same flow")
	fl.BoolVar(&f.asJSON, "json", false, "print the result as JSON")
	fl.StringVar(&f.file, "file", "", "CSV or XLSX file of import lines (instead of --origin/--cn/…)")
	fl.StringVar(&f.out, "out", "", "results file for --file: .xlsx for XLSX, anything else CSV; empty or - for standard output")
	fl.StringVar(&f.progress, "progress", envDefault("CORRIDOR_PROGRESS", "auto"), "progress bar for --file: auto (when stderr is a terminal), always, never (env CORRIDOR_PROGRESS)")
	cmd.AddCommand(newCBAMDatasetCmd(&f))
	return cmd
}

func badInput(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf("cbam: "+format, a...)}
}

func loadDataset(dir string) (*cbam.Dataset, error) {
	if dir == "" {
		return cbam.Embedded()
	}
	d, err := cbam.LoadDir(dir)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	return d, nil
}

// loadPriceTable reads --price-table; nil when none is given.
func loadPriceTable(path string) (*cbam.PriceTable, error) {
	if path == "" {
		return nil, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, badInput("--price-table: %v", err)
	}
	pt, err := cbam.ParsePriceTable(raw, filepath.Base(path))
	if err != nil {
		return nil, badInput("--price-table: %s", strings.TrimPrefix(err.Error(), "cbam: "))
	}
	return pt, nil
}

func parseFlagDecimal(name, v string) (decimal.Decimal, error) {
	if v == "" {
		return decimal.Zero, nil
	}
	d, err := decimal.NewFromString(strings.TrimSpace(v))
	if err != nil {
		return decimal.Zero, badInput("--%s %q is not a decimal number", name, v)
	}
	return d, nil
}

func runCBAM(cmd *cobra.Command, f cbamFlags) error {
	data, err := loadDataset(f.datasetDir)
	if err != nil {
		return err
	}
	params := cbam.Params{}
	pt, err := loadPriceTable(f.priceTable)
	if err != nil {
		return err
	}
	if pt != nil {
		params.Prices, params.PriceSource = pt.Prices(), "price table "+filepath.Base(f.priceTable)
	}
	calc := cbam.NewCalculator(data, params)
	if f.file != "" {
		if f.origin != "" || f.cn != "" || f.tonnes != "" {
			return badInput("give either --file or --origin/--cn/--tonnes, not both")
		}
		return runCBAMFile(cmd, calc, f)
	}
	var missing []string
	for name, v := range map[string]string{"origin": f.origin, "cn": f.cn, "tonnes": f.tonnes} {
		if v == "" {
			missing = append(missing, "--"+name)
		}
	}
	if f.year == 0 {
		missing = append(missing, "--year")
	}
	if len(missing) > 0 {
		return badInput("missing %s (or give --file); see corridor cbam --help", strings.Join(slices.Sorted(slices.Values(missing)), ", "))
	}
	line := cbam.Line{Origin: f.origin, CN: strings.ReplaceAll(f.cn, " ", ""), Year: f.year, Quarter: f.quarter, Route: strings.ToUpper(f.route)}
	if line.Tonnes, err = parseFlagDecimal("tonnes", f.tonnes); err != nil {
		return err
	}
	if line.Price, err = parseFlagDecimal("price", f.price); err != nil {
		return err
	}
	if f.actualSEE != "" {
		if f.benchmarkA == "" {
			return badInput("--actual-see needs --benchmark-a (the column-A benchmark of the process; the shipped dataset has column B only)")
		}
		a := &cbam.ActualData{}
		if a.Direct, err = parseFlagDecimal("actual-see", f.actualSEE); err != nil {
			return err
		}
		if a.Indirect, err = parseFlagDecimal("actual-indirect", f.actualIndirect); err != nil {
			return err
		}
		if a.BenchmarkA, err = parseFlagDecimal("benchmark-a", f.benchmarkA); err != nil {
			return err
		}
		line.Actual = a
	}
	if f.cppPrice != "" {
		p, err := carbonPriceFlags("carbon-price", f.cppPrice, f.cppCurrency, f.cppRate, f.cppCovered, f.cppRebated)
		if err != nil {
			return err
		}
		line.CarbonPricePaid = &p
	}
	res, err := calc.Obligation(line)
	if err != nil {
		return cbamInputError(err)
	}
	decl := cbam.NewDeclaration()
	decl.Add(res)
	// The declaration of this line alone, as the API's declaration shows it
	// (de minimis applied as if the line were the year's only import).
	out := map[string]any{"result": res, "declaration": decl.Years()}
	var proj *cbam.Projection
	if f.projection {
		p, err := calc.Project(line)
		if err != nil {
			return cbamInputError(err)
		}
		proj = &p
		out["projection"] = p
	}
	var whatIf *cbam.WhatIf
	if f.whatIfPrice != "" {
		p, err := carbonPriceFlags("what-if", f.whatIfPrice, f.whatIfCurrency, f.whatIfRate, f.whatIfCovered, f.whatIfFree)
		if err != nil {
			return err
		}
		w, err := calc.WhatIf(line, p)
		if err != nil {
			return cbamInputError(err)
		}
		whatIf = &w
		out["what_if"] = w
	}
	if f.asJSON {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return cbam.WriteLineReport(cmd.OutOrStdout(), res, proj, whatIf)
}

func carbonPriceFlags(prefix, price, currency, rate, covered, rebated string) (cbam.CarbonPricePaid, error) {
	var p cbam.CarbonPricePaid
	var err error
	p.Currency = strings.ToUpper(currency)
	if p.PricePerTonne, err = parseFlagDecimal(prefix+"-paid", price); err != nil {
		return p, err
	}
	if p.EURPerUnit, err = parseFlagDecimal(prefix+"-eur-rate", rate); err != nil {
		return p, err
	}
	if p.CoveredShare, err = parseFlagDecimal(prefix+"-covered-share", covered); err != nil {
		return p, err
	}
	if p.RebatedShare, err = parseFlagDecimal(prefix+"-rebated-share", rebated); err != nil {
		return p, err
	}
	return p, nil
}

// cbamInputError turns a calculator error into exit code 2 naming the flag.
func cbamInputError(err error) error {
	var ie *cbam.InputError
	if errors.As(err, &ie) {
		flag := "--" + strings.ReplaceAll(strings.SplitN(ie.Field, ".", 2)[0], "_", "-")
		return &exitError{code: exitUsage, err: fmt.Errorf("cbam: %s: %w", flag, ie.Err)}
	}
	return err
}

// countingReader counts bytes read, for the progress bar.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func runCBAMFile(cmd *cobra.Command, calc *cbam.Calculator, f cbamFlags) error {
	in, err := os.Open(f.file)
	if err != nil {
		return badInput("%v", err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return badInput("%v", err)
	}
	counter := &countingReader{r: in}
	var src cbam.RowSource
	if strings.EqualFold(filepath.Ext(f.file), ".xlsx") {
		x, err := cbam.NewXLSXRows(counter)
		if err != nil {
			return badInput("%s: %v", f.file, err)
		}
		defer x.Close()
		src = x
	} else {
		src = cbam.NewCSVRows(counter)
	}

	var out io.Writer = cmd.OutOrStdout()
	var outFile *os.File
	if f.out != "" && f.out != "-" {
		if outFile, err = os.Create(f.out); err != nil {
			return badInput("%v", err)
		}
		defer outFile.Close()
		out = outFile
	}
	var sink cbam.RowSink
	var xsink *cbam.XLSXSink
	var csink *cbam.CSVSink
	if strings.EqualFold(filepath.Ext(f.out), ".xlsx") {
		if xsink, err = cbam.NewXLSXSink(); err != nil {
			return err
		}
		sink = xsink
	} else {
		csink = cbam.NewCSVSink(out)
		sink = csink
	}

	show := f.progress == "always" || (f.progress == "auto" && isTerminal(os.Stderr))
	if f.progress != "auto" && f.progress != "always" && f.progress != "never" {
		return badInput("--progress %q: want auto, always or never", f.progress)
	}
	var bar *progressbar.ProgressBar
	var progress func(int)
	if show {
		// The XLSX reader reads the whole zip up front, so its bar tracks
		// lines (no total) rather than bytes.
		if src, ok := src.(*cbam.XLSXRows); ok && src != nil {
			bar = progressbar.NewOptions64(-1, progressbar.OptionSetWriter(os.Stderr), progressbar.OptionSetDescription("cbam lines"),
				progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionShowIts(), progressbar.OptionSetItsString("lines"))
			progress = func(n int) { _ = bar.Set64(int64(n)) }
		} else {
			bar = progressbar.NewOptions64(st.Size(), progressbar.OptionSetWriter(os.Stderr), progressbar.OptionSetDescription("cbam "+filepath.Base(f.file)),
				progressbar.OptionShowBytes(true), progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionShowCount())
			progress = func(int) { _ = bar.Set64(counter.n.Load()) }
		}
	}
	start := time.Now()
	sum, err := cbam.Run(cmd.Context(), calc, src, sink, progress)
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(os.Stderr)
	}
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("%s: %w", f.file, err)}
	}
	if csink != nil {
		if err := csink.Flush(); err != nil {
			return err
		}
	}
	if xsink != nil {
		if _, err := xsink.WriteTo(out); err != nil {
			return err
		}
	}
	cbam.WriteRunReport(cmd.ErrOrStderr(), sum, time.Since(start), calc.Dataset())
	if sum.Errors > 0 {
		return &exitError{code: exitRejected, err: fmt.Errorf("cbam: %d of %d lines rejected (see the error column of the results)", sum.Errors, sum.Lines)}
	}
	return nil
}

func newCBAMDatasetCmd(f *cbamFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "dataset",
		Short: "Show the CBAM dataset in use: version, rows loaded, malformed rows with line numbers",
		Long: `Show the CBAM dataset in use (the embedded one, or --dataset-dir): version, layout,
rows loaded, malformed rows with their line numbers, and the certificate prices: the
built-in table and, with --price-table, yours, which takes precedence.`,
		Example: `  corridor cbam dataset --dataset-dir ./cbam-2026-1740 --price-table prices.csv`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := loadDataset(f.datasetDir)
			if err != nil {
				return err
			}
			pt, err := loadPriceTable(f.priceTable)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			cbam.WriteDatasetReport(out, data)
			if pt != nil {
				fmt.Fprintf(out, "certificate prices of price table %s (they take precedence):\n", pt.File)
				for _, p := range pt.Rows() {
					price := "unknown"
					if p.HasPrice {
						price = "EUR " + p.Price.String()
					}
					fmt.Fprintf(out, "  %s: %s (%s) %s\n", p.PeriodS, price, p.Status, p.Source)
				}
			}
			return nil
		},
	}
}
