package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/corridor-carbon/corridor/internal/bench"
)

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the disk's fsync rate and the registry's durable transfer rate",
		Long: `Benchmarks of a registry node on this machine.

  corridor bench fsync      4 KiB append + fdatasync loop: the disk's commit ceiling
  corridor bench registry   durable transfers/s with many concurrent clients, next to
                            the fsync rate measured in the same run; --blocks N also
                            times balance reads and serial lookups on N blocks

Both write only scratch files (or a scratch PostgreSQL schema bench_<random>) and
remove them afterwards.

Exit codes: 0 done (a missed target is reported, not an error), 1 the benchmark
could not run, 2 a flag is wrong.`,
	}
	cmd.AddCommand(newBenchFsyncCmd(), newBenchRegistryCmd(), newBenchCorridorCmd())
	return withUsageExit(cmd)
}

func newBenchFsyncCmd() *cobra.Command {
	var sf storageFlags
	var duration time.Duration
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "fsync",
		Short: "Append 4 KiB and fdatasync in a loop in the data directory; print syncs/s",
		Long: `Append 4 KiB to a scratch file in --data-dir and fdatasync it, again and again for
--duration, and print the syncs per second with their latency. A database commit costs
at least one such sync, so this is the rate a one-commit-per-transaction registry could
reach at best; the registry benchmark is measured against it.

Environment: CORRIDOR_DATA_DIR.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if duration <= 0 {
				return usageError(cmd, "--duration must be positive, not %s", duration)
			}
			res, err := bench.Fsync(cmd.Context(), bench.FsyncParams{Dir: sf.DataDir, Duration: duration})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return writeBenchJSON(out, map[string]any{"machine": machine(), "fsync": res})
			}
			fmt.Fprintln(out, machineLine())
			printFsync(out, sf.DataDir, duration, res)
			return nil
		},
	}
	sf.addDataDir(cmd.Flags())
	cmd.Flags().DurationVar(&duration, "duration", 5*time.Second, "how long to run the loop")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

type benchRegistryFlags struct {
	storageFlags
	driver              string
	clients, accounts   int
	duration, fsyncFor  time.Duration
	http, asJSON        bool
	blocks, perIssuance int
	ranges              int
	samples             int
	cpuProfile          string
	// gogc is the garbage collector's target for the run (GOGC); 0
	// keeps the process's own (a GOGC environment variable's).
	gogc int
}

func newBenchRegistryCmd() *cobra.Command {
	var f benchRegistryFlags
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Durable transfers/s and p50/p99 latency of a registry node with many concurrent clients",
		Long: `Open a fresh registry node on a scratch database, give --accounts holders an issuance
each, and let --clients clients send 1-unit transfers for --duration, each client
waiting for its transfer to be durably committed before sending the next. Client c sends
from account c mod --accounts, so --accounts 64 measures the ledger and --accounts 8 the
contended case. The fsync rate of --data-dir is measured first, in the same run; the
registry's targets are at least 6 × that rate in-process and 3 × over HTTP (group commit shares one fsync among many
transfers).

--http sends the transfers through the real HTTP API and Go client instead of calling
the node directly. --blocks N (e.g. 1000000) then builds a registry of N blocks and times
account balance reads and serial lookups on it. --duration 0 skips the transfer run.

Environment: CORRIDOR_DATA_DIR, CORRIDOR_DATABASE_URL.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			driver, err := f.resolveDriver()
			switch {
			case err != nil:
				return usageError(cmd, "%v", err)
			case f.clients < 1 || f.accounts < 2:
				return usageError(cmd, "need --clients ≥ 1 and --accounts ≥ 2 (got %d and %d)", f.clients, f.accounts)
			case f.duration < 0 || f.blocks < 0:
				return usageError(cmd, "--duration and --blocks must not be negative")
			case f.samples < 1 || f.fsyncFor <= 0:
				return usageError(cmd, "--samples and --fsync-duration must be positive")
			case f.ranges < 1 || f.ranges > 1000:
				return usageError(cmd, "--ranges-per-transfer must be between 1 and 1000, not %d", f.ranges)
			}
			if f.gogc, err = gogcFlag(cmd, f.gogc); err != nil {
				return err
			}
			f.driver = driver
			return benchRegistry(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	fl := cmd.Flags()
	f.add(fl)
	fl.StringVar(&f.driver, "driver", "", "database: sqlite or postgres (default: postgres when --database-url is set, else sqlite)")
	fl.IntVar(&f.clients, "clients", 64, "concurrent clients")
	fl.IntVar(&f.accounts, "accounts", 64, "holder accounts, each with its own issuance (8 measures contention)")
	fl.DurationVar(&f.duration, "duration", 10*time.Second, "length of the measured transfer run (0 skips it)")
	fl.DurationVar(&f.fsyncFor, "fsync-duration", 3*time.Second, "length of the fsync measurement")
	fl.BoolVar(&f.http, "http", false, "send transfers through the HTTP API instead of in-process")
	fl.IntVar(&f.blocks, "blocks", 0, "also build a registry of this many blocks and time balance reads and serial lookups")
	fl.IntVar(&f.perIssuance, "blocks-per-issuance", 0, "blocks per issuance for --blocks (0: all in one issuance, the worst case)")
	fl.IntVar(&f.ranges, "ranges-per-transfer", 100, "single-unit serial ranges moved by each transfer that builds --blocks (at most 1000)")
	fl.IntVar(&f.samples, "samples", 1000, "reads timed for --blocks")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	addGOGCFlag(fl, &f.gogc, "for the run")
	fl.BoolVar(&f.asJSON, "json", false, "print the results as JSON")
	return cmd
}

// resolveDriver decides the database: --driver when given, else
// PostgreSQL when a database URL is (a URL alone used to benchmark SQLite
// silently).
func (f *benchRegistryFlags) resolveDriver() (string, error) {
	switch f.driver {
	case "":
		if f.DatabaseURL != "" {
			return "postgres", nil
		}
		return "sqlite", nil
	case "sqlite":
		return "sqlite", nil
	case "postgres":
		if f.DatabaseURL == "" {
			return "", errors.New("--driver postgres needs --database-url (or CORRIDOR_DATABASE_URL)")
		}
		return "postgres", nil
	}
	return "", fmt.Errorf("--driver must be sqlite or postgres, not %q", f.driver)
}

// defaultGOGC is the garbage collector's target of serve and bench
// registry (the benchmark measures what serve runs). Each transfer
// allocates some kilobytes (over HTTP, mostly net/http's request and
// response) while the node's live heap is small, so Go's default of 100
// collects many times a second; 400 spends a fraction of that CPU for a
// few times the heap.
const defaultGOGC = 400

func addGOGCFlag(fl *pflag.FlagSet, p *int, what string) {
	fl.IntVar(p, "gogc", defaultGOGC, "garbage collector target (GOGC) "+what+"; Go's default is 100, and a GOGC environment variable wins over this default")
}

// gogcFlag checks --gogc and answers the target to set: 0 keeps the
// environment's GOGC when the flag was not given.
func gogcFlag(cmd *cobra.Command, v int) (int, error) {
	if v < 1 {
		return 0, usageError(cmd, "--gogc must be a positive percentage, not %d", v)
	}
	if !cmd.Flags().Changed("gogc") && os.Getenv("GOGC") != "" {
		return 0, nil // the environment's GOGC, as for any Go program
	}
	return v, nil
}

// setGOGC sets the collector's target for a run (0: keep it) and returns
// the target in force and a function that restores the one before.
func setGOGC(gogc int) (int, func()) {
	prev := debug.SetGCPercent(max(gogc, 1))
	if gogc == 0 {
		debug.SetGCPercent(prev)
		return prev, func() {}
	}
	return gogc, func() { debug.SetGCPercent(prev) }
}

func benchRegistry(ctx context.Context, out, errOut io.Writer, f benchRegistryFlags) error {
	dbURL := f.DatabaseURL
	if f.driver == "sqlite" {
		dbURL = ""
	}
	gogc, restoreGC := setGOGC(f.gogc)
	defer restoreGC()
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return fmt.Errorf("bench registry: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fmt.Errorf("bench registry: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	report := map[string]any{"machine": machine(), "gogc": gogc}
	if !f.asJSON {
		fmt.Fprintln(out, machineLine())
	}
	fs, err := bench.Fsync(ctx, bench.FsyncParams{Dir: f.DataDir, Duration: f.fsyncFor})
	if err != nil {
		return err
	}
	report["fsync"] = fs
	if !f.asJSON {
		printFsync(out, f.DataDir, f.fsyncFor, fs)
	}
	if f.duration > 0 {
		cfg, remove, err := bench.Scratch(ctx, f.DataDir, dbURL)
		if err != nil {
			return err
		}
		res, err := bench.Registry(ctx, bench.RegistryParams{Store: cfg, Clients: f.clients, Accounts: f.accounts, Duration: f.duration, HTTP: f.http})
		remove()
		if err != nil {
			return err
		}
		ratio := res.PerSecond / fs.PerSecond
		report["registry"], report["ratio_to_fsync"] = res, ratio
		if !f.asJSON {
			via := "in-process node.Do"
			if f.http {
				via = "HTTP API"
			}
			// Targets (issue 7): in-process ≥ 6×, over HTTP ≥ 3× the fsync rate.
			target := 6.0
			if f.http {
				target = 3
			}
			verdict := "met"
			if ratio < target {
				verdict = "MISSED"
			}
			fmt.Fprintf(out, "registry %s, %s, %d clients, %d accounts, %s, GOGC %d: %.0f durable transfers/s (%d transfers; latency %s)\n",
				res.Driver, via, res.Clients, res.Accounts, f.duration, gogc, res.PerSecond, res.Transfers, res.Latency)
			fmt.Fprintf(out, "  %d database commits, %.1f transfers per commit on average, committer busy %.0f%% of the run; CPU %s per transfer (this process)\n", res.Commits, res.MeanBatch, 100*res.CommitBusy, res.CPUPerTransfer)
			fmt.Fprintf(out, "  = %.1f × the fsync rate (target ≥ %g×: %s)\n", ratio, target, verdict)
		}
	}
	if f.blocks > 0 {
		cfg, remove, err := bench.Scratch(ctx, f.DataDir, dbURL)
		if err != nil {
			return err
		}
		defer remove()
		var bar *progressbar.ProgressBar
		p := bench.BlocksParams{Store: cfg, Blocks: f.blocks, PerIssuance: f.perIssuance, RangesPerTransfer: f.ranges}
		if !f.asJSON {
			p.Progress = func(done, total int) {
				if bar == nil {
					bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(errOut), progressbar.OptionSetDescription(fmt.Sprintf("building %d blocks", f.blocks)),
						progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionSetItsString("transfers"))
				}
				_ = bar.Set(done)
			}
		}
		l, err := bench.BuildLarge(ctx, p)
		if bar != nil {
			_ = bar.Finish()
			fmt.Fprintln(errOut)
		}
		if err != nil {
			return err
		}
		defer l.Close()
		reads, err := bench.MeasureReads(ctx, l, f.samples, uint64(time.Now().UnixNano()))
		if err != nil {
			return err
		}
		report["large"] = map[string]any{"blocks": l.Blocks, "build_transfers": l.Transfers, "build_ns": l.Build, "reopen_ns": l.Reopen, "reads": reads}
		if !f.asJSON {
			fmt.Fprintf(out, "registry %s with %d blocks: built in %s (%d split transfers), reopened in %s\n", bench.Driver(cfg), l.Blocks, l.Build.Round(time.Millisecond), l.Transfers, l.Reopen.Round(time.Millisecond))
			fmt.Fprintf(out, "  account balance (node.Account), %d reads: %s (target p50 < 5ms: %s)\n", reads.Account.N, reads.Account, metIf(reads.Account.P50 < 5*time.Millisecond))
			fmt.Fprintf(out, "  serial lookup with history (node.Lookup), %d lookups: %s (target p50 < 5ms: %s)\n", reads.Lookup.N, reads.Lookup, metIf(reads.Lookup.P50 < 5*time.Millisecond))
		}
	}
	if f.asJSON {
		return writeBenchJSON(out, report)
	}
	return nil
}

func metIf(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func printFsync(out io.Writer, dir string, d time.Duration, r bench.FsyncResult) {
	fmt.Fprintf(out, "fsync (4 KiB append + fdatasync) in %s, %s: %.0f syncs/s (%d syncs; latency %s)\n", dir, d, r.PerSecond, r.Syncs, r.Latency)
}

func machine() map[string]any {
	host, _ := os.Hostname()
	return map[string]any{"cpus": runtime.NumCPU(), "os": runtime.GOOS, "arch": runtime.GOARCH, "go": runtime.Version(), "host": host}
}

func machineLine() string {
	return fmt.Sprintf("machine: %d CPUs, %s/%s, %s", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
}

func writeBenchJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
