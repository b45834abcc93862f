package crashtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/client"
	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

var (
	seedFlag  = flag.Uint64("crash.seed", 0, "random seed of the crash test (0: from the clock; the seed used is logged)")
	killsFlag = flag.Int("crash.kills", 20, "SIGKILLs per database in the crash test")
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// needBinary builds the corridor binary once per test process.
func needBinary(t *testing.T) {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "corridor-crashtest-"); buildErr == nil {
			binary, buildErr = buildBinary(buildDir)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// TestCrashRecovery drives transfers among the demo accounts from several
// concurrent clients, SIGKILLs the server at random moments (at least
// -crash.kills times per database), and after each kill and restart checks
// that corridor verify passes, that every acknowledged transfer is still
// there (its exact request with its idempotency key replays with the same
// seq and moves nothing), that transfers whose outcome the kill hid apply
// at most once when re-sent, and that balances match the acknowledged
// history and sum to the units issued.
func TestCrashRecovery(t *testing.T) {
	needBinary(t)
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("crash test seed %d (rerun with go test ./internal/crashtest -crash.seed=%d)", seed, seed)
	t.Run("sqlite", func(t *testing.T) {
		crashRun(t, seed, "", 40*time.Second)
	})
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv(storetest.EnvURL)
		if base == "" {
			t.Skipf("SKIPPED PostgreSQL half: set %s (e.g. postgres://postgres@127.0.0.1:5432/test) to run it", storetest.EnvURL)
		}
		crashRun(t, seed, scratchDatabase(t, base), 40*time.Second)
	})
}

// scratchDatabase creates a database crash_<random> on base's server and
// drops it when the test ends; serve puts its registries in schemas there.
func scratchDatabase(t *testing.T, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", storetest.EnvURL, err)
	}
	raw := make([]byte, 5)
	_, _ = rand.Read(raw)
	name := "crash_" + hex.EncodeToString(raw)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
		admin.Close()
	})
	u.Path = "/" + name
	return u.String()
}

// outcome is what the test knows about one transfer.
type outcome int

const (
	acked    outcome = iota // 2xx received: it must survive every crash
	rejected                // a rule refused it (no units): it changed nothing
	unknown                 // the kill cut the connection: it may or may not have committed
)

type holder struct {
	reg     string
	account int64
	api     *client.Client
}

type op struct {
	holder *holder
	key    string
	req    registry.Transfer
	state  outcome
	seq    int64
}

type balKey struct {
	reg      string
	account  int64
	unitType string
}

// crashWorld is one database's crash run.
type crashWorld struct {
	t       *testing.T
	seed    uint64
	srv     *server
	holders []*holder
	admins  map[string]*client.Client

	mu        sync.Mutex
	ops       []*op
	model     map[balKey]int64 // held units each holder should have
	nextOp    atomic.Int64
	checkedTo int // ops before this index were re-checked after a restart
	// resolved counts the transfers of hidden outcome by what the re-send
	// found: committed before the kill, applied by the re-send, refused.
	resolved struct{ before, now, refused int }
}

func crashRun(t *testing.T, seed uint64, dbURL string, budget time.Duration) {
	kills := *killsFlag
	dir := t.TempDir()
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	w := &crashWorld{t: t, seed: seed, srv: &server{dataDir: filepath.Join(dir, "data"), dbURL: dbURL, addr: addr, logPath: filepath.Join(dir, "serve.log")},
		admins: map[string]*client.Client{}, model: map[balKey]int64{}}
	defer w.srv.stop()
	started := time.Now()
	rng := mrand.New(mrand.NewPCG(seed, 1))

	// First start seeds the demo corridor; it runs to completion so that
	// the holder tokens are written.
	if err := w.srv.start(); err != nil {
		t.Fatal(err)
	}
	if err := w.srv.waitReady(60 * time.Second); err != nil {
		t.Fatal(err)
	}
	w.loadTokens()
	w.initialModel()

	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 20 * time.Second}
	for _, h := range w.holders {
		h.api.HTTP = hc
	}
	for _, c := range w.admins {
		c.HTTP = hc
	}
	startupKills := 0
	for k := 0; k < kills; k++ {
		if time.Since(started) > budget {
			t.Fatalf("only %d of %d kills under load within the %s budget", k, kills, budget)
		}
		if k > 0 {
			if err := w.srv.start(); err != nil {
				t.Fatal(err)
			}
			// Now and then kill it while it is still starting up.
			if rng.IntN(5) == 0 {
				time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
				w.killAndVerify(fmt.Sprintf("start-up kill %d", startupKills+1))
				startupKills++
				if err := w.srv.start(); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.srv.waitReady(30 * time.Second); err != nil {
				t.Fatal(err)
			}
			w.checkAfterRestart(false)
			if t.Failed() {
				return
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		const clients = 12
		for c := range clients {
			wg.Go(func() { w.drive(ctx, mrand.New(mrand.NewPCG(seed, uint64(k*clients+c+2)))) })
		}
		// Run for a random while before the kill: up to half a second, less
		// when a slow machine puts the budget at risk (a restart, verify
		// and checks take about 400 ms).
		perKill := (budget - time.Since(started)) / time.Duration(kills-k)
		window := min(max(int((perKill-400*time.Millisecond)/time.Millisecond), 20), 500)
		time.Sleep(time.Duration(30+rng.IntN(window)) * time.Millisecond)
		w.killAndVerify(fmt.Sprintf("kill %d under load", k+1))
		cancel()
		wg.Wait()
		if t.Failed() {
			return
		}
	}
	// The final restart re-checks every acknowledged transfer.
	if err := w.srv.start(); err != nil {
		t.Fatal(err)
	}
	if err := w.srv.waitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	w.checkAfterRestart(true)
	w.srv.stop()
	if out, err := w.srv.verify(context.Background()); err != nil {
		t.Fatalf("corridor verify after the final graceful stop: %v\n%s", err, out)
	}
	counts := map[outcome]int{}
	for _, o := range w.ops {
		counts[o.state]++
	}
	r := w.resolved
	t.Logf("%d kills under load and %d during start-up in %s: %d transfers acknowledged (%d rejected for want of units); of %d whose outcome a kill hid, %d had committed before the kill, %d applied on re-send, %d were refused",
		kills, startupKills, time.Since(started).Round(time.Millisecond), counts[acked], counts[rejected], r.before+r.now+r.refused, r.before, r.now, r.refused)
	if counts[acked] < kills {
		t.Errorf("only %d transfers were acknowledged across %d runs; the test hardly exercised the server", counts[acked], kills)
	}
}

// loadTokens reads the demo tokens serve wrote on first start.
func (w *crashWorld) loadTokens() {
	raw, err := os.ReadFile(filepath.Join(w.srv.dataDir, "demo-tokens.json"))
	if err != nil {
		w.t.Fatal(err)
	}
	var file struct {
		Tokens []demo.Token `json:"tokens"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		w.t.Fatalf("demo-tokens.json: %v", err)
	}
	for _, tok := range file.Tokens {
		switch tok.Role {
		case ledger.RoleHolder:
			w.holders = append(w.holders, &holder{reg: tok.Registry, account: tok.AccountID, api: client.New(w.srv.baseURL(), tok.Token)})
		case ledger.RoleAdmin:
			w.admins[tok.Registry] = client.New(w.srv.baseURL(), tok.Token)
		}
	}
	if len(w.holders) < 2*len(demo.Registries) || len(w.admins) != len(demo.Registries) {
		w.t.Fatalf("demo tokens: %d holders and %d admins for %d registries", len(w.holders), len(w.admins), len(demo.Registries))
	}
}

// initialModel records each holder's held units after the demo seed.
func (w *crashWorld) initialModel() {
	ctx := context.Background()
	for reg, admin := range w.admins {
		accs, err := admin.Accounts(ctx, reg)
		if err != nil {
			w.t.Fatal(err)
		}
		for _, a := range accs {
			for _, b := range a.Balances {
				if b.State == ledger.Held {
					w.model[balKey{reg, a.ID, b.UnitType}] += b.Quantity
				}
			}
		}
	}
}

// drive sends transfers between random holders of one registry until ctx
// ends or the server goes away.
func (w *crashWorld) drive(ctx context.Context, rng *mrand.Rand) {
	for ctx.Err() == nil {
		h := w.holders[rng.IntN(len(w.holders))]
		var peers []*holder
		for _, p := range w.holders {
			if p.reg == h.reg && p != h {
				peers = append(peers, p)
			}
		}
		w.mu.Lock()
		var types []string
		for k, q := range w.model {
			if k.reg == h.reg && k.account == h.account && q > 0 {
				types = append(types, k.unitType)
			}
		}
		w.mu.Unlock()
		if len(types) == 0 {
			continue
		}
		slices.Sort(types)
		to := peers[rng.IntN(len(peers))]
		o := &op{holder: h, key: fmt.Sprintf("crash-%x-%d", w.seed, w.nextOp.Add(1)),
			req: registry.Transfer{From: h.account, To: to.account, Units: registry.Units{Quantity: 1 + rng.Int64N(5), UnitType: types[rng.IntN(len(types))]}}}
		res, err := h.api.Submit(ctx, h.reg, o.key, o.req)
		w.mu.Lock()
		w.ops = append(w.ops, o)
		switch kind := classify(err); kind {
		case acked:
			if res.Replayed || res.Quantity != o.req.Units.Quantity || res.Seq <= 0 {
				w.t.Errorf("transfer %s: first answer %+v", o.key, res)
			}
			o.state, o.seq = acked, res.Seq
			w.apply(o)
		case rejected, unknown:
			o.state = kind
		default:
			w.t.Errorf("transfer %s %+v: unexpected answer: %v", o.key, o.req, err)
			o.state = unknown
		}
		w.mu.Unlock()
		if o.state == unknown {
			return // the server is gone
		}
	}
}

// classify maps a submit error onto an outcome; -1 means the answer should
// never happen.
func classify(err error) outcome {
	if err == nil {
		return acked
	}
	var p *client.Problem
	if !errors.As(err, &p) {
		return unknown // transport error: connection refused, reset or cut
	}
	switch {
	case p.Code == ledger.CodeInsufficientUnits:
		return rejected
	case p.Status >= 500:
		return unknown
	}
	return -1
}

// apply moves o's units in the model; the caller holds w.mu.
func (w *crashWorld) apply(o *op) {
	r := o.req
	w.model[balKey{o.holder.reg, r.From, r.Units.UnitType}] -= r.Units.Quantity
	w.model[balKey{o.holder.reg, r.To, r.Units.UnitType}] += r.Units.Quantity
}

func (w *crashWorld) killAndVerify(which string) {
	if err := w.srv.kill(); err != nil {
		w.t.Fatal(err)
	}
	if out, err := w.srv.verify(context.Background()); err != nil {
		w.t.Fatalf("corridor verify after %s: %v\n%s\nserver log:\n%s", which, err, out, w.srv.logTail())
	}
}

// checkAfterRestart resolves the transfers whose outcome a kill hid, then
// replays the acknowledged ones (all of them when all is set, else those
// since the last check and a sample of older ones) and checks balances.
func (w *crashWorld) checkAfterRestart(all bool) {
	t, ctx := w.t, context.Background()
	w.mu.Lock()
	ops := slices.Clone(w.ops)
	from := w.checkedTo
	w.checkedTo = len(ops)
	w.mu.Unlock()
	if all {
		from = 0
	}

	// 1. Re-send each transfer of unknown outcome, twice: the first answer
	// says whether it committed before the kill (replayed) or now; the
	// second must replay the first. Either way it applies once.
	parallel(ops, func(_ int, o *op) {
		if o.state != unknown {
			return
		}
		res, err := o.holder.api.Submit(ctx, o.holder.reg, o.key, o.req)
		switch classify(err) {
		case rejected:
			w.mu.Lock()
			o.state = rejected
			w.resolved.refused++
			w.mu.Unlock()
			return
		case acked:
		default:
			t.Errorf("re-send of %s after restart: %v", o.key, err)
			return
		}
		again, err := o.holder.api.Submit(ctx, o.holder.reg, o.key, o.req)
		if err != nil || !again.Replayed || again.Seq != res.Seq {
			t.Errorf("second re-send of %s: %+v, %v; want a replay of seq %d", o.key, again, err, res.Seq)
		}
		w.mu.Lock()
		o.state, o.seq = acked, res.Seq
		if res.Replayed {
			w.resolved.before++
		} else {
			w.resolved.now++
		}
		w.apply(o)
		w.mu.Unlock()
	})

	// 2. Replaying acknowledged transfers returns their first result and
	// changes nothing.
	before := w.snapshot()
	rng := mrand.New(mrand.NewPCG(w.seed, uint64(len(ops))))
	parallel(ops, func(i int, o *op) {
		if o.state != acked {
			return
		}
		if i < from && rng.IntN(20) != 0 {
			return // re-checked after an earlier restart; sample 1 in 20
		}
		res, err := o.holder.api.Submit(ctx, o.holder.reg, o.key, o.req)
		if err != nil {
			t.Errorf("acknowledged transfer %s (seq %d) lost: re-send answered %v", o.key, o.seq, err)
			return
		}
		if !res.Replayed || res.Seq != o.seq || res.Quantity != o.req.Units.Quantity {
			t.Errorf("acknowledged transfer %s (seq %d): re-send answered seq %d, replayed %v, quantity %d", o.key, o.seq, res.Seq, res.Replayed, res.Quantity)
		}
	})
	if after := w.snapshot(); !equalSnapshots(before, after) {
		t.Errorf("replaying acknowledged transfers changed the registries:\nbefore %v\nafter  %v", before, after)
	}

	// 3. Balances: every holder holds what the acknowledged history says,
	// and units in every state of every account sum to the units issued.
	w.mu.Lock()
	defer w.mu.Unlock()
	for reg, admin := range w.admins {
		tot, err := admin.Totals(ctx, reg)
		if err != nil {
			t.Fatal(err)
		}
		var byState int64
		for _, q := range tot.ByState {
			byState += q
		}
		accs, err := admin.Accounts(ctx, reg)
		if err != nil {
			t.Fatal(err)
		}
		var inAccounts int64
		held := map[balKey]int64{}
		for _, a := range accs {
			for _, b := range a.Balances {
				inAccounts += b.Quantity
				if b.State == ledger.Held {
					held[balKey{reg, a.ID, b.UnitType}] = b.Quantity
				}
			}
		}
		if byState != tot.Issued || inAccounts != tot.Issued {
			t.Errorf("%s: %d units issued, %d counted by state, %d in accounts", reg, tot.Issued, byState, inAccounts)
		}
		for k, want := range w.model {
			if k.reg == reg && held[k] != want {
				t.Errorf("%s account %d holds %d %s; the acknowledged transfers say %d", reg, k.account, held[k], k.unitType, want)
			}
		}
	}
}

// snapshot is each registry's journal head and balances, as JSON.
func (w *crashWorld) snapshot() map[string]string {
	ctx := context.Background()
	out := map[string]string{}
	for reg, admin := range w.admins {
		tot, err := admin.Totals(ctx, reg)
		if err != nil {
			w.t.Fatal(err)
		}
		accs, err := admin.Accounts(ctx, reg)
		if err != nil {
			w.t.Fatal(err)
		}
		raw, _ := json.Marshal(map[string]any{"seq": tot.JournalSeq, "hash": tot.JournalHash, "by_state": tot.ByState, "accounts": accs})
		out[reg] = string(raw)
	}
	return out
}

func equalSnapshots(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// parallel runs fn on every op with a few concurrent workers.
func parallel(ops []*op, fn func(int, *op)) {
	ch := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range ch {
				fn(i, ops[i])
			}
		})
	}
	for i := range ops {
		ch <- i
	}
	close(ch)
	wg.Wait()
}
