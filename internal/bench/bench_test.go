package bench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

func TestLatencyPercentiles(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	for _, tc := range []struct {
		name          string
		in            []time.Duration
		p50, p99, max time.Duration
	}{
		{"one", ms(7), 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond},
		{"unsorted", ms(5, 1, 4, 2, 3), 3 * time.Millisecond, 5 * time.Millisecond, 5 * time.Millisecond},
		{"even count takes the lower middle", ms(1, 2, 3, 4), 2 * time.Millisecond, 4 * time.Millisecond, 4 * time.Millisecond},
		{"p99 of 200 is the 198th", append(ms(make([]int, 197)...), ms(10, 20, 30)...), 0, 10 * time.Millisecond, 30 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l Latency
			for _, d := range tc.in {
				l.Add(d)
			}
			l.Finish()
			if l.N != len(tc.in) || l.P50 != tc.p50 || l.P99 != tc.p99 || l.Max != tc.max {
				t.Errorf("got n=%d p50=%s p99=%s max=%s, want n=%d p50=%s p99=%s max=%s", l.N, l.P50, l.P99, l.Max, len(tc.in), tc.p50, tc.p99, tc.max)
			}
		})
	}
}

func TestFsync(t *testing.T) {
	res, err := Fsync(context.Background(), FsyncParams{Dir: t.TempDir(), Duration: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Syncs < 1 || res.PerSecond <= 0 || res.Latency.N != int(res.Syncs) {
		t.Fatalf("fsync result %+v", res)
	}
	if !(res.Latency.P50 <= res.Latency.P99 && res.Latency.P99 <= res.Latency.Max && res.Latency.P50 > 0) {
		t.Errorf("latency out of order: %+v", res.Latency)
	}
	if _, err := Fsync(context.Background(), FsyncParams{Dir: t.TempDir()}); err == nil {
		t.Error("a zero duration was accepted")
	}
}

// balances sums each holder's held units.
func balances(t *testing.T, n *registry.Node, hs []Holder) []int64 {
	t.Helper()
	out := make([]int64, len(hs))
	for i, h := range hs {
		v, err := n.Account(registry.Operator, h.Account)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range v.Balances {
			if b.State == ledger.Held {
				out[i] += b.Quantity
			}
		}
	}
	return out
}

// TestLoad runs a counted load in-process and over HTTP and checks that
// every transfer committed exactly once and conserved the units.
func TestLoad(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		for _, viaHTTP := range []bool{false, true} {
			t.Run(fmt.Sprintf("http=%v", viaHTTP), func(t *testing.T) {
				ctx := context.Background()
				if tg.Name == "postgres" {
					tg = storetest.Postgres(t) // a fresh schema per subtest
				} else {
					tg = storetest.SQLite(t)
				}
				n, closeNode, err := OpenNode(ctx, tg.Cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer closeNode()
				const accounts, units, count = 5, 1000, 120
				f, err := Setup(ctx, n, SetupParams{Accounts: accounts, Units: units, Tokens: viaHTTP})
				if err != nil {
					t.Fatal(err)
				}
				sub := InProcess(n)
				if viaHTTP {
					var stop func()
					if sub, stop, err = ServeHTTP(n, 8); err != nil {
						t.Fatal(err)
					}
					defer stop()
				}
				before := n.Totals().JournalSeq
				res, err := Load(ctx, LoadParams{Fixture: f, Submit: sub, Clients: 8, Count: count, Quantity: 3})
				if err != nil {
					t.Fatal(err)
				}
				if res.Transfers != count || res.Latency.N != count || res.PerSecond <= 0 || res.Commits < 1 || res.Commits > count || math.Abs(res.MeanBatch*float64(res.Commits)-count) > 1e-6 { // MeanBatch is a float quotient
					t.Fatalf("load result %+v", res)
				}
				if got := n.Totals().JournalSeq - before; got != count {
					t.Errorf("journal grew by %d entries for %d transfers", got, count)
				}
				var sum int64
				for _, b := range balances(t, n, f.Holders) {
					sum += b
				}
				if sum != accounts*units {
					t.Errorf("holders hold %d units, %d were issued", sum, accounts*units)
				}
			})
		}
	})
}

func TestLoadNext(t *testing.T) {
	ctx := context.Background()
	n, closeNode, err := OpenNode(ctx, storetest.SQLite(t).Cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer closeNode()
	f, err := Setup(ctx, n, SetupParams{Accounts: 2, Units: 100})
	if err != nil {
		t.Fatal(err)
	}
	a, b := f.Holders[0], f.Holders[1]
	// Ticket t moves t+1 units from a to b: 0+1+…+9 = 55 in all.
	_, err = Load(ctx, LoadParams{Fixture: f, Submit: InProcess(n), Clients: 3, Count: 10, Next: func(ticket int64) (Holder, registry.Request) {
		return a, registry.Transfer{From: a.Account, To: b.Account, Units: registry.Units{Quantity: ticket + 1, UnitType: UnitType}}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := balances(t, n, f.Holders); got[0] != 45 || got[1] != 155 {
		t.Errorf("balances %v, want [45 155]", got)
	}
	// A rejected transfer fails the run.
	_, err = Load(ctx, LoadParams{Fixture: f, Submit: InProcess(n), Clients: 1, Count: 1, KeyPrefix: "x", Next: func(int64) (Holder, registry.Request) {
		return a, registry.Transfer{From: a.Account, To: b.Account, Units: registry.Units{Quantity: 1000, UnitType: UnitType}}
	}})
	if e, ok := ledger.AsError(err); !ok || e.Code != ledger.CodeInsufficientUnits {
		t.Errorf("overdraw: got %v, want %s", err, ledger.CodeInsufficientUnits)
	}
}

func TestBuildLarge(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		// 2,501 blocks in issuances of at most 1,000: two of 1,000 blocks
		// split by one transfer of 500 ranges each, one of 501 blocks split
		// by one of 250.
		l, err := BuildLarge(ctx, BlocksParams{Store: tg.Cfg, Blocks: 2501, PerIssuance: 1000, Accounts: 4, RangesPerTransfer: 500})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if l.Blocks != 2501 || len(l.issuances) != 3 || l.Transfers != 3 {
			t.Errorf("built %d blocks in %d issuances with %d transfers", l.Blocks, len(l.issuances), l.Transfers)
		}
		tot := l.Node.Totals()
		if tot.Issued != 2501 || tot.ByState[ledger.Held] != 2501 {
			t.Errorf("totals after reopen: %+v", tot)
		}
		// Every other unit moved: serial 2 is in a receiving account.
		info, err := l.Node.Lookup(ctx, registry.Operator, l.serial(0, 2))
		if err != nil {
			t.Fatal(err)
		}
		if len(info.Blocks) != 1 || info.Blocks[0].AccountID == l.Holders[0].Account || len(info.History) != 2 {
			t.Errorf("serial 2: %+v", info)
		}
		r, err := MeasureReads(ctx, l, 50, 1)
		if err != nil {
			t.Fatal(err)
		}
		if r.Account.N != 50 || r.Lookup.N != 50 || r.Lookup.P50 <= 0 {
			t.Errorf("reads %+v", r)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		if _, err := l.Node.Lookup(ctx, registry.Anonymous, l.RandomSerial(rng)); err != nil {
			t.Error(err)
		}
	})
}

// fsyncRate is this disk's fsync rate, measured once per test process in
// the directory the benchmarks' databases use.
var fsyncRate = sync.OnceValues(func() (float64, error) {
	res, err := Fsync(context.Background(), FsyncParams{Dir: os.TempDir(), Duration: 2 * time.Second})
	return res.PerSecond, err
})

// BenchmarkFsync times one 4 KiB append + fdatasync.
func BenchmarkFsync(b *testing.B) {
	sf, err := NewSyncFile(b.TempDir(), 4096)
	if err != nil {
		b.Fatal(err)
	}
	defer sf.Close()
	for b.Loop() {
		if err := sf.Step(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "syncs/s")
}

// BenchmarkTransfers is corridor bench registry as a benchmark: 64
// clients sending durable 1-unit transfers, over 64 accounts (the ledger)
// or 8 (contention), in-process or through the HTTP API, on each driver.
// It reports transfers/s, latency percentiles and the ratio to the fsync
// rate of the same disk (target ≥ 3).
func BenchmarkTransfers(b *testing.B) {
	for _, driver := range []string{"sqlite", "postgres"} {
		for _, accounts := range []int{64, 8} {
			for _, via := range []string{"node", "http"} {
				b.Run(fmt.Sprintf("%s/accounts=%d/%s", driver, accounts, via), func(b *testing.B) {
					tg := storetest.SQLite(b)
					if driver == "postgres" {
						tg = storetest.Postgres(b)
					}
					benchTransfers(b, tg, accounts, via == "http")
				})
			}
		}
	}
}

func benchTransfers(b *testing.B, tg storetest.Target, accounts int, viaHTTP bool) {
	const clients = 64
	ctx := context.Background()
	n, closeNode, err := OpenNode(ctx, tg.Cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer closeNode()
	f, err := Setup(ctx, n, SetupParams{Accounts: accounts, Units: 1_000_000_000, Tokens: viaHTTP})
	if err != nil {
		b.Fatal(err)
	}
	sub := InProcess(n)
	if viaHTTP {
		var stop func()
		if sub, stop, err = ServeHTTP(n, clients); err != nil {
			b.Fatal(err)
		}
		defer stop()
	}
	b.ResetTimer()
	res, err := Load(ctx, LoadParams{Fixture: f, Submit: sub, Clients: clients, Count: int64(b.N)})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(res.PerSecond, "transfers/s")
	b.ReportMetric(float64(res.Latency.P50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(res.Latency.P99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(res.CPUPerTransfer.Nanoseconds())/1000, "cpu-µs/transfer")
	b.ReportMetric(res.MeanBatch, "transfers/commit")
	if rate, err := fsyncRate(); err == nil && b.N >= 1000 {
		b.ReportMetric(res.PerSecond/rate, "x-fsync")
	}
}
