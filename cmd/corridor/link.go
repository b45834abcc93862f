package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/linkage"
)

type linkFlags struct {
	scenario, format, progress string
	seed                       string
	runs                       int
	// runsEnv is CORRIDOR_LINK_RUNS when it is not a whole number (the
	// flag's default is then 0, and the run refuses it).
	runsEnv      string
	asJSON       bool
	printDefault bool
}

func newLinkCmd() *cobra.Command {
	var f linkFlags
	cmd := &cobra.Command{
		Use:   "link",
		Short: "Simulate linking carbon markets: prices, flows, gains, CBAM money kept in Asia",
		Long: `Solve a linkage scenario: every market's autarky and linked price, net
flows between markets, abatement, costs including permit payments, gains from
linking, quota rents of import/export limits, and the CBAM certificates and
euros owed on exports to the EU under both prices. With --runs N, a Monte
Carlo over every scenario parameter that has a low/high range adds
percentile bands (deterministic for --seed).

Without --scenario the shipped corridor scenario is used. To edit it:
  corridor link --print-default > my.yaml
  corridor link --scenario my.yaml --runs 10000
  corridor link --json

Scenario files are YAML or JSON. Every number carries a source or
assumption: true; errors name the field (regions[3].mac.coefficients[1]).

Exit codes: 0 ok, 2 bad flag or scenario, 3 no equilibrium.
Environment: CORRIDOR_LINK_SCENARIO, CORRIDOR_LINK_RUNS, CORRIDOR_LINK_SEED,
CORRIDOR_LINK_FORMAT, CORRIDOR_PROGRESS.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runLink(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.scenario, "scenario", envDefault("CORRIDOR_LINK_SCENARIO", ""), "scenario file (YAML or JSON); empty = the shipped corridor-2026 scenario (env CORRIDOR_LINK_SCENARIO)")
	runs := 0
	if v, ok := os.LookupEnv("CORRIDOR_LINK_RUNS"); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			runs = n
		} else {
			f.runsEnv = v
		}
	}
	fl.IntVar(&f.runs, "runs", runs, "Monte Carlo runs, a whole number ≥ 0; 0 for none (env CORRIDOR_LINK_RUNS)")
	fl.StringVar(&f.seed, "seed", envDefault("CORRIDOR_LINK_SEED", "1"), "Monte Carlo seed (env CORRIDOR_LINK_SEED)")
	fl.StringVar(&f.format, "format", envDefault("CORRIDOR_LINK_FORMAT", "table"), "output: table, json or csv (env CORRIDOR_LINK_FORMAT); --json is --format json")
	fl.BoolVar(&f.asJSON, "json", false, "print the result as JSON, as every command's --json does (the same as --format json)")
	fl.StringVar(&f.progress, "progress", envDefault("CORRIDOR_PROGRESS", "auto"), "Monte Carlo progress bar on stderr: auto (when stderr is a terminal), always, never (env CORRIDOR_PROGRESS)")
	fl.BoolVar(&f.printDefault, "print-default", false, "print the shipped scenario (YAML, with its sources) and exit")
	return cmd
}

func linkBadInput(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf("link: "+format, a...)}
}

func runLink(cmd *cobra.Command, f linkFlags) error {
	out := cmd.OutOrStdout()
	if f.printDefault {
		_, err := out.Write(linkage.DefaultScenarioYAML())
		return err
	}
	if f.runsEnv != "" && !cmd.Flags().Changed("runs") {
		return linkBadInput("CORRIDOR_LINK_RUNS must be a whole number ≥ 0, got %q", f.runsEnv)
	}
	runs := f.runs
	if runs < 0 {
		return linkBadInput("--runs must be a whole number ≥ 0, got %d", runs)
	}
	if f.asJSON {
		if cmd.Flags().Changed("format") && f.format != "json" {
			return linkBadInput("--json and --format %s ask for two outputs: give one", f.format)
		}
		f.format = "json"
	}
	seed, err := strconv.ParseUint(f.seed, 10, 64)
	if err != nil {
		return linkBadInput("--seed must be a whole number ≥ 0, got %q", f.seed)
	}
	switch f.format {
	case "table", "json", "csv":
	default:
		return linkBadInput("--format must be table, json or csv, got %q", f.format)
	}
	switch f.progress {
	case "auto", "always", "never":
	default:
		return linkBadInput("--progress must be auto, always or never, got %q", f.progress)
	}

	var sc *linkage.Scenario
	if f.scenario == "" {
		sc, err = linkage.DefaultScenario()
	} else {
		var raw []byte
		if raw, err = os.ReadFile(f.scenario); err != nil {
			return linkBadInput("read scenario: %v", err)
		}
		sc, err = linkage.ParseScenario(raw)
	}
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("%s: %w", scenarioName(f.scenario), err)}
	}
	model, err := linkage.Compile(sc)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	solver := linkage.NewSolver(model)
	if err := solver.Solve(); err != nil {
		if errors.Is(err, linkage.ErrNoEquilibrium) {
			return &exitError{code: exitRejected, err: err}
		}
		return err
	}
	res := &linkage.Result{}
	solver.Fill(res)
	if res.CBAM, err = linkage.ComputeCBAM(sc, res); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if runs > 0 {
		p := linkage.MonteCarloParams{Runs: runs, Seed: seed}
		if f.progress == "always" || (f.progress == "auto" && isTerminal(cmd.ErrOrStderr())) {
			bar := progressbar.NewOptions(runs, progressbar.OptionSetWriter(cmd.ErrOrStderr()),
				progressbar.OptionSetDescription("monte carlo"), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
				progressbar.OptionSetItsString("runs"), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
			p.Progress = func(done int) { _ = bar.Set(done) }
			defer func() { _ = bar.Finish() }()
		}
		if res.MonteCarlo, err = linkage.MonteCarlo(cmd.Context(), model, p); err != nil {
			return err
		}
	}
	return writeLinkResult(out, f.format, res)
}

func writeLinkResult(w io.Writer, format string, res *linkage.Result) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	case "csv":
		return linkage.WriteCSV(w, res)
	default:
		return linkage.WriteTable(w, res)
	}
}

func scenarioName(path string) string {
	if path == "" {
		return "default scenario"
	}
	return path
}
