package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/client"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
)

// Code is the registry code of benchmark nodes, and UnitType the unit type
// they issue.
const (
	Code     = "BENCH"
	UnitType = "BU"
)

var admin = registry.Actor{Role: ledger.RoleAdmin}

// Scratch makes a throw-away database for a benchmark: a SQLite file in a
// new directory under dataDir, or (dbURL set) a new PostgreSQL schema
// bench_<random> in that database. remove deletes it.
func Scratch(ctx context.Context, dataDir, dbURL string) (cfg store.Config, remove func(), err error) {
	cfg, rm, err := store.Scratch(dbURL, dataDir, "bench")
	if err != nil {
		return store.Config{}, nil, fmt.Errorf("bench: %w", err)
	}
	return cfg, func() { _ = rm() }, nil
}

// OpenNode opens a fresh benchmark node on cfg. close stops it and closes
// its database.
func OpenNode(ctx context.Context, cfg store.Config) (n *registry.Node, close func(), err error) {
	db, err := store.Open(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("bench: %w", err)
	}
	n, err = registry.Open(ctx, db, registry.Options{Code: Code})
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("bench: %w", err)
	}
	return n, func() { n.Close(); db.Close() }, nil
}

// Holder is one organisation with one holding account and, after Setup,
// its own issuance in that account.
type Holder struct {
	Actor    registry.Actor
	Account  int64
	Issuance int64
	// Token is the holder's API token (only when Setup made tokens).
	Token string
}

// Fixture is a benchmark node's population.
type Fixture struct {
	Node    *registry.Node
	Holders []Holder
}

// SetupParams configure Setup.
type SetupParams struct {
	// Accounts is the number of holders (one organisation and account each).
	Accounts int
	// Units issued to each holder in one issuance (one block); 0 issues none.
	Units int64
	// Tokens makes a holder API token for each, for the HTTP benchmarks.
	Tokens bool
}

// Setup creates the holders concurrently, so that their set-up
// transactions share commits.
func Setup(ctx context.Context, n *registry.Node, p SetupParams) (*Fixture, error) {
	if p.Accounts < 1 {
		return nil, fmt.Errorf("bench: need at least one account, not %d", p.Accounts)
	}
	f := &Fixture{Node: n, Holders: make([]Holder, p.Accounts)}
	errs := make([]error, p.Accounts)
	var wg sync.WaitGroup
	for i := range f.Holders {
		wg.Go(func() { f.Holders[i], errs[i] = setupHolder(ctx, n, i, p) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return f, nil
}

func setupHolder(ctx context.Context, n *registry.Node, i int, p SetupParams) (Holder, error) {
	do := func(step string, req registry.Request) (registry.Result, error) {
		res, err := n.Do(ctx, admin, fmt.Sprintf("setup-%d-%s", i, step), req)
		if err != nil {
			return res, fmt.Errorf("bench: set up holder %d: %s: %w", i, step, err)
		}
		return res, nil
	}
	org, err := do("org", registry.CreateOrganisation{Name: fmt.Sprintf("Benchmark holder %d", i), Country: "SG"})
	if err != nil {
		return Holder{}, err
	}
	acc, err := do("account", registry.OpenAccount{OrgID: org.ID, Type: ledger.Holding, Name: fmt.Sprintf("Benchmark account %d", i)})
	if err != nil {
		return Holder{}, err
	}
	h := Holder{Actor: registry.Actor{OrgID: org.ID, Role: ledger.RoleHolder}, Account: acc.ID}
	if p.Units > 0 {
		iss, err := do("issue", IssueRequest(acc.ID, p.Units, i))
		if err != nil {
			return Holder{}, err
		}
		h.Issuance = iss.ID
	}
	if p.Tokens {
		tok, err := do("token", registry.CreateToken{OrgID: org.ID, Role: ledger.RoleHolder, Name: "benchmark"})
		if err != nil {
			return Holder{}, err
		}
		h.Token = tok.Token
	}
	return h, nil
}

// IssueRequest is an issuance of units into account; i tells issuances
// apart in their project names.
func IssueRequest(account, units int64, i int) registry.Issue {
	return registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "Benchmark", UnitType: UnitType, Project: fmt.Sprintf("BENCH%d", i), ProjectName: "Benchmark project",
		Methodology: "benchmark", HostCountry: "SG", Vintage: 2025, Quantity: units}, AccountID: account}
}

// Submitter sends one transaction as holder h.
type Submitter func(ctx context.Context, h Holder, key string, req registry.Request) (registry.Result, error)

// InProcess submits through node.Do.
func InProcess(n *registry.Node) Submitter {
	return func(ctx context.Context, h Holder, key string, req registry.Request) (registry.Result, error) {
		return n.Do(ctx, h.Actor, key, req)
	}
}

// ServeHTTP serves n's HTTP API on a loopback port and returns a Submitter
// that goes through it with each holder's token (Setup with Tokens), one
// keep-alive connection per client. stop shuts the server down.
func ServeHTTP(n *registry.Node, clients int) (sub Submitter, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("bench: listen: %w", err)
	}
	srv := api.NewHTTPServer(api.New(n).Handler())
	go srv.Serve(ln)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: clients * 2, MaxIdleConnsPerHost: clients * 2, IdleConnTimeout: time.Minute}}
	base := "http://" + ln.Addr().String()
	var mu sync.Mutex
	byToken := map[string]*client.Client{}
	sub = func(ctx context.Context, h Holder, key string, req registry.Request) (registry.Result, error) {
		if h.Token == "" {
			return registry.Result{}, errors.New("bench: HTTP submit needs holder tokens (SetupParams.Tokens)")
		}
		mu.Lock()
		c := byToken[h.Token]
		if c == nil {
			c = client.New(base, h.Token)
			c.HTTP = hc
			byToken[h.Token] = c
		}
		mu.Unlock()
		return c.Submit(ctx, n.Code(), key, req)
	}
	return sub, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hc.CloseIdleConnections()
	}, nil
}

// LoadParams configure Load.
type LoadParams struct {
	Fixture *Fixture
	Submit  Submitter
	// Clients is the number of concurrent clients, each waiting for one
	// transfer's durable result before sending the next.
	Clients int
	// The run stops after Count transfers (if > 0) or after Duration.
	Count    int64
	Duration time.Duration
	// Quantity moved by each transfer (1 when zero).
	Quantity int64
	// KeyPrefix keeps idempotency keys unique across runs on one node.
	KeyPrefix string
	// Next, if set, makes the ticket-th transaction of the run (tickets
	// count from 0 across all clients) and the holder that sends it,
	// instead of the default quantity transfer.
	Next func(ticket int64) (Holder, registry.Request)
}

// LoadResult is what Load measured.
type LoadResult struct {
	Clients   int           `json:"clients"`
	Accounts  int           `json:"accounts"`
	Transfers int64         `json:"transfers"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	PerSecond float64       `json:"transfers_per_second"`
	Latency   Latency       `json:"latency"`
	// Commits is the number of database transactions the node committed
	// during the run, and MeanBatch the ledger transactions per commit.
	Commits   int64   `json:"commits"`
	MeanBatch float64 `json:"mean_batch"`
	// CommitBusy is the share of the run the committer spent committing
	// (writes, COMMIT and its fsync): near 1, commits are the bound.
	CommitBusy float64 `json:"commit_busy"`
	// CPUPerTransfer is this process's CPU time (user + system: clients,
	// node, and for HTTP runs the server too) over the run, per transfer.
	// A PostgreSQL server's own CPU is not in it.
	CPUPerTransfer time.Duration `json:"cpu_per_transfer_ns"`
}

// Load runs transfers from many clients at once. Client c sends from
// holder c mod accounts to the next holder, so with as many accounts as
// clients no two clients share an account, and with fewer they contend.
// Every transfer must succeed: a rejected one is an error, since the
// fixture holds enough units for any run.
func Load(ctx context.Context, p LoadParams) (LoadResult, error) {
	hs := p.Fixture.Holders
	if p.Clients < 1 || len(hs) < 2 {
		return LoadResult{}, fmt.Errorf("bench: load needs at least 1 client and 2 accounts (%d, %d)", p.Clients, len(hs))
	}
	if p.Count <= 0 && p.Duration <= 0 {
		return LoadResult{}, errors.New("bench: load needs a count or a duration")
	}
	q := max(p.Quantity, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		tickets  atomic.Int64
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	lats := make([]Latency, p.Clients)
	stats := p.Fixture.Node.Stats()
	commits0, committed0, busy0 := stats.Commits.Load(), stats.Committed.Load(), stats.CommitNanos.Load()
	cpu0 := ProcessCPU()
	start := time.Now()
	deadline := start.Add(p.Duration)
	for c := range p.Clients {
		from := hs[c%len(hs)]
		to := hs[(c+1)%len(hs)]
		wg.Go(func() {
			for {
				ticket := tickets.Add(1) - 1
				if p.Count > 0 && ticket >= p.Count || p.Count <= 0 && !time.Now().Before(deadline) || ctx.Err() != nil {
					return
				}
				sender := from
				var req registry.Request = registry.Transfer{From: from.Account, To: to.Account, Units: registry.Units{Quantity: q, UnitType: UnitType}}
				if p.Next != nil {
					sender, req = p.Next(ticket)
				}
				t0 := time.Now()
				_, err := p.Submit(ctx, sender, fmt.Sprintf("%s%d", p.KeyPrefix, ticket), req)
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("bench: client %d, transaction %d: %w", c, ticket, err) })
					cancel()
					return
				}
				lats[c].Add(time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := ProcessCPU() - cpu0
	commits, committed := stats.Commits.Load()-commits0, stats.Committed.Load()-committed0
	busy := time.Duration(stats.CommitNanos.Load() - busy0)
	if firstErr != nil {
		return LoadResult{}, firstErr
	}
	var all Latency
	for i := range lats {
		all.Merge(&lats[i])
	}
	all.Finish()
	res := LoadResult{Clients: p.Clients, Accounts: len(hs), Transfers: int64(all.N), Elapsed: elapsed,
		PerSecond: float64(all.N) / elapsed.Seconds(), Latency: all, Commits: commits, CommitBusy: busy.Seconds() / elapsed.Seconds()}
	if commits > 0 {
		res.MeanBatch = float64(committed) / float64(commits)
	}
	if all.N > 0 {
		res.CPUPerTransfer = cpu / time.Duration(all.N)
	}
	return res, nil
}

// Driver names the database of cfg.
func Driver(cfg store.Config) string {
	if cfg.URL != "" {
		return string(store.Postgres)
	}
	return string(store.SQLite)
}

// RegistryParams configure Registry.
type RegistryParams struct {
	Store    store.Config
	Clients  int
	Accounts int
	Duration time.Duration
	// HTTP sends the transfers through the real HTTP API and client.
	HTTP bool
}

// RegistryResult is one Registry run.
type RegistryResult struct {
	Driver string `json:"driver"`
	HTTP   bool   `json:"http"`
	LoadResult
}

// Registry measures durable transfers per second on a fresh node on
// p.Store: p.Accounts holders, each with its own issuance, and p.Clients
// clients sending 1-unit transfers for p.Duration after a short warm-up.
func Registry(ctx context.Context, p RegistryParams) (RegistryResult, error) {
	n, closeNode, err := OpenNode(ctx, p.Store)
	if err != nil {
		return RegistryResult{}, err
	}
	defer closeNode()
	f, err := Setup(ctx, n, SetupParams{Accounts: p.Accounts, Units: 1_000_000_000, Tokens: p.HTTP})
	if err != nil {
		return RegistryResult{}, err
	}
	sub := InProcess(n)
	if p.HTTP {
		var stop func()
		if sub, stop, err = ServeHTTP(n, p.Clients); err != nil {
			return RegistryResult{}, err
		}
		defer stop()
	}
	warm := min(p.Duration/10, time.Second)
	if _, err := Load(ctx, LoadParams{Fixture: f, Submit: sub, Clients: p.Clients, Duration: warm, KeyPrefix: "warm-"}); err != nil {
		return RegistryResult{}, err
	}
	res, err := Load(ctx, LoadParams{Fixture: f, Submit: sub, Clients: p.Clients, Duration: p.Duration, KeyPrefix: "run-"})
	if err != nil {
		return RegistryResult{}, err
	}
	return RegistryResult{Driver: Driver(p.Store), HTTP: p.HTTP, LoadResult: res}, nil
}
