package registry_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/bench"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

var largeBlocks = flag.Int("large.blocks", 1_000_000, "blocks of the registry BenchmarkLargeRegistry builds")

// benchTargets are the databases a benchmark runs on: SQLite on disk,
// SQLite on tmpfs (/dev/shm: no disk wait, so the CPU cost shows), and
// PostgreSQL when CORRIDOR_TEST_DATABASE_URL is set.
func benchTargets(b *testing.B) []storetest.Target {
	tgs := []storetest.Target{storetest.SQLite(b)}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		dir, err := os.MkdirTemp("/dev/shm", "corridor-bench-")
		if err == nil {
			b.Cleanup(func() { os.RemoveAll(dir) })
			tgs = append(tgs, storetest.Target{Name: "sqlite-tmpfs", Cfg: store.Config{Path: filepath.Join(dir, "node.db")}})
		}
	}
	if os.Getenv(storetest.EnvURL) != "" {
		tgs = append(tgs, storetest.Postgres(b))
	}
	return tgs
}

// BenchmarkTransferBlockSize moves one unit out of a block of 10 units and
// out of a block of 10^9 units: the cost must not depend on the block's
// size (target: within 1.5×). Each transfer names its unit by serial, so
// every one splits a fresh block of exactly that size; 64 clients send
// them concurrently and each waits for its durable commit.
func BenchmarkTransferBlockSize(b *testing.B) {
	for _, tg := range benchTargets(b) {
		for _, size := range []int64{10, 1_000_000_000} {
			b.Run(fmt.Sprintf("%s/block=%d", tg.Name, size), func(b *testing.B) {
				// A fresh database for every run: on a used one the
				// idempotency keys would replay instead of transferring.
				var cfg store.Config
				switch tg.Name {
				case "postgres":
					cfg = storetest.Postgres(b).Cfg
				case "sqlite-tmpfs":
					dir, err := os.MkdirTemp(filepath.Dir(tg.Cfg.Path), "run-")
					if err != nil {
						b.Fatal(err)
					}
					cfg = store.Config{Path: filepath.Join(dir, "node.db")}
				default:
					cfg = storetest.SQLite(b).Cfg
				}
				benchBlockSize(b, cfg, size)
			})
		}
	}
}

func benchBlockSize(b *testing.B, cfg store.Config, size int64) {
	ctx := context.Background()
	n, closeNode, err := bench.OpenNode(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer closeNode()
	f, err := bench.Setup(ctx, n, bench.SetupParams{Accounts: 2})
	if err != nil {
		b.Fatal(err)
	}
	from, to := f.Holders[0], f.Holders[1]
	// b.N issuances of size units into from, all of one project, so that
	// issuance i's first unit is serial BENCH-BU-BLOCKS-2025-i-1-1.
	issue := registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "Benchmark", UnitType: bench.UnitType, Project: "BLOCKS", ProjectName: "Block size benchmark",
		Methodology: "benchmark", HostCountry: "SG", Vintage: 2025, Quantity: size}, AccountID: from.Account}
	admin := bench.Holder{Actor: registry.Actor{Role: ledger.RoleAdmin}}
	if _, err := bench.Load(ctx, bench.LoadParams{Fixture: f, Submit: bench.InProcess(n), Clients: 64, Count: int64(b.N), KeyPrefix: "issue-",
		Next: func(int64) (bench.Holder, registry.Request) { return admin, issue }}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	res, err := bench.Load(ctx, bench.LoadParams{Fixture: f, Submit: bench.InProcess(n), Clients: 64, Count: int64(b.N), KeyPrefix: "move-",
		Next: func(t int64) (bench.Holder, registry.Request) {
			serial := ledger.Serial{Registry: bench.Code, UnitType: bench.UnitType, Project: issue.Project, Vintage: issue.Vintage, Issuance: t + 1, Start: 1, End: 1}
			return from, registry.Transfer{From: from.Account, To: to.Account, Units: registry.Units{Serials: []string{serial.String()}}}
		}})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	// Every transfer split a block of exactly size units (none replayed).
	if res.Commits == 0 {
		b.Fatal("no transfer was committed")
	}
	if v, err := n.Account(registry.Operator, from.Account); err != nil || len(v.Balances) != 1 || v.Balances[0].Quantity != int64(b.N)*(size-1) {
		b.Fatalf("sender after %d transfers: %+v, %v", b.N, v, err)
	}
	b.ReportMetric(res.PerSecond, "transfers/s")
	b.ReportMetric(float64(res.Latency.P50.Microseconds())/1000, "p50-ms")
}

// BenchmarkLargeRegistry builds a registry of -large.blocks blocks (one
// million by default, all in one issuance, the worst case for a lookup)
// once per database, then times account balance reads and serial lookups
// with history; the target is a median under 5 ms. The build time and the
// time to reopen the node (rebuild its memory) are reported as metrics of
// the build sub-benchmark.
func BenchmarkLargeRegistry(b *testing.B) {
	for _, tg := range benchTargets(b) {
		b.Run(tg.Name, func(b *testing.B) {
			var l *bench.Large
			var buildErr error
			var once sync.Once
			parent := b
			b.Run("build", func(b *testing.B) {
				for b.Loop() {
					once.Do(func() {
						l, buildErr = bench.BuildLarge(context.Background(), bench.BlocksParams{Store: tg.Cfg, Blocks: *largeBlocks})
						if buildErr == nil {
							parent.Cleanup(l.Close) // the read sub-benchmarks use it
						}
					})
					if buildErr != nil {
						b.Fatal(buildErr)
					}
				}
				// One op is one build, however many times b.Loop asked for it.
				b.ReportMetric(float64(l.Build.Nanoseconds()), "ns/op")
				b.ReportMetric(l.Build.Seconds(), "build-s")
				b.ReportMetric(l.Reopen.Seconds(), "reopen-s")
				b.ReportMetric(float64(l.Blocks), "blocks")
			})
			if l == nil {
				return
			}
			rng := rand.New(rand.NewPCG(1, 2))
			b.Run("account", func(b *testing.B) {
				var lat bench.Latency
				for b.Loop() {
					acc := l.RandomAccount(rng)
					t0 := time.Now()
					if _, err := l.Node.Account(registry.Operator, acc); err != nil {
						b.Fatal(err)
					}
					lat.Add(time.Since(t0))
				}
				lat.Finish()
				b.ReportMetric(float64(lat.P50.Nanoseconds())/1e6, "p50-ms")
			})
			b.Run("lookup", func(b *testing.B) {
				var lat bench.Latency
				for b.Loop() {
					serial := l.RandomSerial(rng)
					t0 := time.Now()
					if _, err := l.Node.Lookup(context.Background(), registry.Operator, serial); err != nil {
						b.Fatal(err)
					}
					lat.Add(time.Since(t0))
				}
				lat.Finish()
				b.ReportMetric(float64(lat.P50.Nanoseconds())/1e6, "p50-ms")
				b.ReportMetric(float64(lat.P99.Nanoseconds())/1e6, "p99-ms")
			})
		})
	}
}
