package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/bench"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/hub/hubhttp"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
)

type benchCorridorFlags struct {
	storageFlags
	transfers, clients int
	single             time.Duration
	asJSON             bool
}

func newBenchCorridorCmd() *cobra.Command {
	var f benchCorridorFlags
	cmd := &cobra.Command{
		Use:   "corridor",
		Short: "Completed cross-registry transfers/s and p50/p99 time to completion, embedded and over loopback HTTP",
		Long: `Run --transfers cross-registry transfers CN → TH (1 unit each, --clients at a time,
each client waiting for its transfer to be final at the hub before sending the next)
twice: through the embedded corridor (hub and nodes in process, in-process transport)
and through a networked corridor on loopback HTTP (hub and each node with its own HTTP
server, as separate processes talk). Prints completed transfers per second and the
time from the send to the hub's final status (p50, p99), next to the single-node
durable transfer rate measured in the same run (--single-duration, 0 skips it).
Every database is a scratch SQLite file under --data-dir, removed afterwards.

Environment: CORRIDOR_DATA_DIR.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.transfers < 1 || f.clients < 1 || f.single < 0 {
				return usageError(cmd, "need --transfers ≥ 1, --clients ≥ 1 and --single-duration ≥ 0")
			}
			return benchCorridor(cmd.Context(), cmd.OutOrStdout(), f)
		},
	}
	fl := cmd.Flags()
	f.addDataDir(fl)
	fl.IntVar(&f.transfers, "transfers", 500, "cross-registry transfers per corridor run")
	fl.IntVar(&f.clients, "clients", 8, "concurrent senders (each from its own account)")
	fl.DurationVar(&f.single, "single-duration", 3*time.Second, "length of the single-node transfer run (0 skips it)")
	fl.BoolVar(&f.asJSON, "json", false, "print the results as JSON")
	return cmd
}

// CorridorResult is one corridor run of the benchmark.
type CorridorResult struct {
	Transport string        `json:"transport"`
	Clients   int           `json:"clients"`
	Completed int           `json:"completed"`
	Other     int           `json:"not_completed"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	PerSecond float64       `json:"completed_per_second"`
	Latency   bench.Latency `json:"time_to_final"`
}

func benchCorridor(ctx context.Context, out io.Writer, f benchCorridorFlags) error {
	if err := os.MkdirAll(f.DataDir, 0o755); err != nil {
		return fmt.Errorf("bench corridor: %w", err)
	}
	dir, err := os.MkdirTemp(f.DataDir, "bench-corridor-")
	if err != nil {
		return fmt.Errorf("bench corridor: %w", err)
	}
	defer os.RemoveAll(dir)
	report := map[string]any{"machine": machine()}
	if !f.asJSON {
		fmt.Fprintln(out, machineLine())
	}
	if f.single > 0 {
		res, err := bench.Registry(ctx, bench.RegistryParams{Store: store.Config{Path: filepath.Join(dir, "single.db")}, Clients: f.clients, Accounts: max(f.clients, 2), Duration: f.single})
		if err != nil {
			return err
		}
		report["single_node"] = res
		if !f.asJSON {
			fmt.Fprintf(out, "single node (sqlite, in-process, %d clients): %.0f transfers/s (latency %s)\n", f.clients, res.PerSecond, res.Latency)
		}
	}
	var runs []CorridorResult
	for _, transport := range []string{"embedded", "loopback-http"} {
		res, err := corridorRun(ctx, filepath.Join(dir, transport), transport, f.transfers, f.clients)
		if err != nil {
			return err
		}
		runs = append(runs, res)
		if !f.asJSON {
			fmt.Fprintf(out, "corridor CN → TH, %s, %d clients: %.1f completed transfers/s (%d completed, %d not, in %s); time to final %s\n",
				transport, res.Clients, res.PerSecond, res.Completed, res.Other, res.Elapsed.Round(time.Millisecond), res.Latency)
		}
	}
	report["corridor"] = runs
	if f.asJSON {
		return writeBenchJSON(out, report)
	}
	return nil
}

// corridorRun sets up CN (one holder per client, each with its own CCER
// issuance) and TH on fresh SQLite files, links them through transport and
// times the transfers.
func corridorRun(ctx context.Context, dir, transport string, transfers, clients int) (CorridorResult, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return CorridorResult{}, fmt.Errorf("bench corridor: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	open := func(name string) (*store.DB, error) {
		db, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, name+".db")})
		if err != nil {
			return nil, fmt.Errorf("bench corridor: %w", err)
		}
		return db, nil
	}
	admin := registry.Actor{Role: ledger.RoleAdmin}
	type site struct {
		node   *registry.Node
		hubOrg int64
	}
	var closers []func()
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}()
	sites := map[string]*site{}
	var members []hub.Member
	for _, code := range []string{"CN", "TH"} {
		db, err := open(code)
		if err != nil {
			return CorridorResult{}, err
		}
		closers = append(closers, func() { db.Close() })
		n, err := registry.Open(ctx, db, registry.Options{Code: code})
		if err != nil {
			return CorridorResult{}, fmt.Errorf("bench corridor: %w", err)
		}
		closers = append(closers, n.Close)
		org, err := n.Do(ctx, admin, "bench-hub-org", registry.CreateOrganisation{Name: "Corridor hub", Country: code})
		if err != nil {
			return CorridorResult{}, fmt.Errorf("bench corridor: %w", err)
		}
		sites[code] = &site{node: n, hubOrg: org.ID}
		members = append(members, hub.Member{Node: n, HubOrg: org.ID})
	}
	cn, th := sites["CN"].node, sites["TH"].node
	per := (transfers + clients - 1) / clients
	type holder struct {
		actor registry.Actor
		acc   int64
	}
	holders := make([]holder, clients)
	for i := range holders {
		org, err := cn.Do(ctx, admin, fmt.Sprintf("bench-org-%d", i), registry.CreateOrganisation{Name: fmt.Sprintf("Benchmark holder %d", i), Country: "CN"})
		if err != nil {
			return CorridorResult{}, fmt.Errorf("bench corridor: %w", err)
		}
		acc, err := cn.Do(ctx, admin, fmt.Sprintf("bench-acc-%d", i), registry.OpenAccount{OrgID: org.ID, Type: ledger.Holding, Name: "Benchmark"})
		if err != nil {
			return CorridorResult{}, fmt.Errorf("bench corridor: %w", err)
		}
		if _, err := cn.Do(ctx, admin, fmt.Sprintf("bench-iss-%d", i), registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: fmt.Sprintf("CCER-BENCH-%d", i),
			Methodology: "benchmark", HostCountry: "CN", Vintage: 2024, Quantity: int64(per)}, AccountID: acc.ID}); err != nil {
			return CorridorResult{}, fmt.Errorf("bench corridor: %w", err)
		}
		holders[i] = holder{registry.Actor{OrgID: org.ID, Role: ledger.RoleHolder}, acc.ID}
	}
	thOrg, err := th.Do(ctx, admin, "bench-org", registry.CreateOrganisation{Name: "Benchmark acquirer", Country: "TH"})
	if err != nil {
		return CorridorResult{}, fmt.Errorf("bench corridor: %w", err)
	}
	thAcc, err := th.Do(ctx, admin, "bench-acc", registry.OpenAccount{OrgID: thOrg.ID, Type: ledger.Holding, Name: "Benchmark"})
	if err != nil {
		return CorridorResult{}, fmt.Errorf("bench corridor: %w", err)
	}
	set, err := agreements.Default()
	if err != nil {
		return CorridorResult{}, err
	}
	hubDB, err := open("hub")
	if err != nil {
		return CorridorResult{}, err
	}
	closers = append(closers, func() { hubDB.Close() })
	var link hub.Link
	switch transport {
	case "embedded":
		c, err := hub.Embedded(ctx, hub.EmbeddedConfig{HubDB: hubDB, Members: members, Agreements: set})
		if err != nil {
			return CorridorResult{}, err
		}
		c.Start(ctx)
		link = c
	default:
		l, err := hubhttp.StartLoopback(ctx, hubhttp.LoopbackConfig{HubDB: hubDB, Members: members, Agreements: set, Dir: dir})
		if err != nil {
			return CorridorResult{}, err
		}
		closers = append(closers, l.Close)
		link = multiLink{l}
	}
	res := CorridorResult{Transport: transport, Clients: clients}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, clients)
	start := time.Now()
	for w := range clients {
		wg.Go(func() {
			var lat bench.Latency
			done, other := 0, 0
			for i := 0; i < per && w*per+i < transfers; i++ {
				t0 := time.Now()
				sent, err := link.Send(ctx, "CN", hub.Send{Actor: holders[w].actor, Key: fmt.Sprintf("bench-%d-%d", w, i), From: holders[w].acc, ToRegistry: "TH",
					ToAccount: thAcc.ID, Units: registry.Units{Quantity: 1, UnitType: "CCER"}, Purpose: "voluntary"})
				if err != nil {
					errs[w] = err
					return
				}
				st, err := waitFinal(ctx, link, sent.ID)
				if err != nil {
					errs[w] = err
					return
				}
				lat.Add(time.Since(t0))
				if st == protocol.StatusCompleted {
					done++
				} else {
					other++
				}
			}
			mu.Lock()
			res.Latency.Merge(&lat)
			res.Completed += done
			res.Other += other
			mu.Unlock()
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("bench corridor %s: %w", transport, err)
	}
	res.Latency.Finish()
	res.PerSecond = float64(res.Completed) / res.Elapsed.Seconds()
	return res, nil
}

// waitFinal polls the hub's record until it is final (a minute at most).
func waitFinal(ctx context.Context, l hub.Link, id string) (protocol.Status, error) {
	deadline := time.Now().Add(time.Minute)
	for {
		t, err := l.Transfer(ctx, id)
		if err == nil && t.Status.Final() {
			return t.Status, nil
		}
		if err != nil && !errors.Is(err, hub.ErrNoTransfer) {
			return 0, err
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("transfer %s not final after a minute (status %s)", id, t.Status)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// multiLink sends through the loopback corridor's link of the sending
// registry.
type multiLink struct{ l *hubhttp.Loopback }

func (m multiLink) Send(ctx context.Context, code string, s hub.Send) (hub.Sent, error) {
	nl := m.l.Links[code]
	if nl == nil {
		return hub.Sent{}, fmt.Errorf("%w: %q", hub.ErrUnknownRegistry, code)
	}
	return nl.Send(ctx, code, s)
}

func (m multiLink) Transfer(ctx context.Context, id string) (hub.Transfer, error) {
	return m.any().Transfer(ctx, id)
}

func (m multiLink) Transfers(ctx context.Context, f hub.TransferFilter) ([]hub.Transfer, error) {
	return m.any().Transfers(ctx, f)
}

func (m multiLink) Participants(ctx context.Context) ([]hub.Participant, error) {
	return m.any().Participants(ctx)
}

func (m multiLink) any() *hubhttp.NodeLink { return m.l.Links["CN"] }
