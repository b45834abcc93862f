package crashtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/client"
	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// Params configure one run: a server started, loaded and cut short again
// and again.
type Params struct {
	Seed uint64
	// Server says which binary, data directory, database and address to run.
	Server *Server
	// Cuts is how many times the server is cut short under load.
	Cuts int
	// Budget bounds the cutting: when it is spent the run stops cutting
	// and makes its final checks. A machine so slow that fewer than
	// MinCuts cuts fit fails the run (0: a quarter of Cuts, at least 2).
	Budget  time.Duration
	MinCuts int
	// Cut ends the running server abruptly: SIGKILL for the crash test,
	// SIGKILL followed by a power cut for the power-loss test.
	Cut func() error
	// StartupCuts also cuts the server now and then while it starts.
	StartupCuts bool
	// AfterSeed, if set, runs once the seeded server is idle, before the
	// load (the power-loss test's control flushes the seed to its disk).
	AfterSeed func()
}

// Report is what a run found: Problems lists every acknowledged transaction
// lost or changed, every unit out of place, every failed verify.
type Report struct {
	Problems    []string
	Acked       map[string]int // by kind
	Rejected    int
	Cuts        int
	StartupCuts int
	// Of the transactions whose outcome a cut hid: committed before the
	// cut, applied by the re-send, refused on re-send.
	Before, Now, Refused int
	Elapsed              time.Duration
}

func (r Report) String() string {
	var kinds []string
	total := 0
	for _, k := range slices.Sorted(maps.Keys(r.Acked)) {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, r.Acked[k]))
		total += r.Acked[k]
	}
	return fmt.Sprintf("%d cuts under load and %d during start-up in %s: %d transactions acknowledged (%s), %d refused for want of units; of %d whose outcome a cut hid, %d had committed before the cut, %d applied on re-send, %d were refused; %d problems",
		r.Cuts, r.StartupCuts, r.Elapsed.Round(time.Millisecond), total, strings.Join(kinds, ", "), r.Rejected, r.Before+r.Now+r.Refused, r.Before, r.Now, r.Refused, len(r.Problems))
}

// outcome is what the test knows about one transaction.
type outcome int

const (
	acked    outcome = iota // 2xx received: it must survive every cut
	rejected                // a rule refused it (no units): it changed nothing
	unknown                 // the cut broke the connection: it may or may not have committed
	invalid                 // an answer that should never come
)

type holder struct {
	reg     string
	account int64
	api     *client.Client
}

// op is one transaction the test sent.
type op struct {
	reg  string
	api  *client.Client
	key  string
	req  registry.Request
	from int64 // the account units leave (for settlements: the reservation's)
	// serials are the spans asked for by serial (empty: by quantity).
	serials  []span
	unitType string
	state    outcome
	res      registry.Result
}

// world is one run's state.
type world struct {
	t       testing.TB
	p       Params
	srv     *Server
	holders []*holder
	admins  map[string]*client.Client
	// serial is each issuance's serial (any block of it), per registry,
	// to write serial ranges and know unit types.
	serial  map[string]map[int64]ledger.Serial
	initial map[string]units
	// imported and exported are the units the demo's pilot transfers
	// moved into and out of each registry through the hub before the test
	// began; the driver moves units only within a registry, so they stay.
	imported, exported map[string]int64
	// seedRetired and seedCancelled are what the seed left retired and
	// cancelled (the Article 6 seed retires and cancels too), read once.
	seedRetired, seedCancelled map[string]int64

	mu   sync.Mutex
	ops  []*op
	view map[string]units // the drivers' picture, exact after each check
	// open are acknowledged reservations no settlement was sent for yet.
	open map[string][]*op
	// rsv maps each acknowledged reservation, by registry and pending id.
	rsv       map[string]map[int64]*op
	checkedTo int
	nextOp    atomic.Int64
	report    Report
}

func (w *world) problem(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.problemLocked(format, args...)
}

func (w *world) problemLocked(format string, args ...any) {
	w.report.Problems = append(w.report.Problems, fmt.Sprintf(format, args...))
}

func (w *world) failed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.report.Problems) > 0
}

// Run starts the server (seeding the demo registries), then p.Cuts times
// drives transfers by quantity and by serials, retirements, reservations,
// completions and voids from concurrent clients, cuts the server short,
// runs corridor verify, restarts it and checks that every acknowledged
// transaction is there once with its first answer, that those whose outcome
// the cut hid apply at most once, and that every unit is where the
// acknowledged history, applied in journal order, puts it. It stops at the
// first restart that finds a problem. Set-up failures end the test.
func Run(t testing.TB, p Params) Report {
	t.Helper()
	w := &world{t: t, p: p, srv: p.Server, admins: map[string]*client.Client{},
		serial: map[string]map[int64]ledger.Serial{}, initial: map[string]units{}, imported: map[string]int64{}, exported: map[string]int64{}, seedRetired: map[string]int64{}, seedCancelled: map[string]int64{}, view: map[string]units{}, open: map[string][]*op{}, rsv: map[string]map[int64]*op{}}
	w.report.Acked = map[string]int{}
	defer w.srv.Stop()
	started := time.Now()
	rng := mrand.New(mrand.NewPCG(p.Seed, 1))

	// The first start seeds the demo corridor and writes the holder tokens.
	if err := w.srv.Start(); err != nil {
		t.Fatal(err)
	}
	if err := w.srv.WaitReady(60 * time.Second); err != nil {
		t.Fatal(err)
	}
	w.loadTokens()
	w.readInitial()
	if p.AfterSeed != nil {
		p.AfterSeed()
	}

	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 20 * time.Second}
	for _, h := range w.holders {
		h.api.HTTP = hc
	}
	for _, c := range w.admins {
		c.HTTP = hc
	}
	finish := func() Report {
		w.report.Elapsed = time.Since(started)
		return w.report
	}
	for k := 0; k < p.Cuts; k++ {
		if time.Since(started) > p.Budget {
			minCuts := p.MinCuts
			if minCuts == 0 {
				minCuts = max(p.Cuts/4, 2)
			}
			if k < minCuts {
				w.problem("only %d of %d cuts under load within the %s budget (at least %d needed)", k, p.Cuts, p.Budget, minCuts)
				return finish()
			}
			w.t.Logf("the %s budget was spent after %d of %d cuts (a slow or busy machine); stopping there", p.Budget, k, p.Cuts)
			break
		}
		if k > 0 {
			if !w.restart(rng) {
				return finish()
			}
			w.checkAfterRestart(false)
			if w.failed() {
				return finish()
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		const clients = 12
		for c := range clients {
			wg.Go(func() { w.drive(ctx, mrand.New(mrand.NewPCG(p.Seed, uint64(k*clients+c+2)))) })
		}
		// Run for a random while before the cut: up to half a second, less
		// when a slow machine puts the budget at risk (a restart, verify
		// and checks take about 400 ms).
		perCut := (p.Budget - time.Since(started)) / time.Duration(p.Cuts-k)
		window := min(max(int((perCut-400*time.Millisecond)/time.Millisecond), 20), 500)
		time.Sleep(time.Duration(30+rng.IntN(window)) * time.Millisecond)
		w.cutAndVerify(fmt.Sprintf("cut %d under load", k+1))
		w.report.Cuts++
		cancel()
		wg.Wait()
		if w.failed() {
			return finish()
		}
	}
	// The final restart re-checks every acknowledged transaction.
	if !w.restart(nil) {
		return finish()
	}
	w.checkAfterRestart(true)
	w.srv.Stop()
	if out, err := w.srv.Verify(context.Background()); err != nil {
		w.problem("corridor verify after the final graceful stop: %v\n%s", err, out)
	}
	r := finish()
	if n := r.Acked["transfer"] + r.Acked["retire"] + r.Acked["reserve"]; n < p.Cuts {
		w.problem("only %d transactions were acknowledged across %d runs; the test hardly exercised the server", n, p.Cuts)
	}
	return finish()
}

// restart starts the server again, now and then cutting it during start-up
// (rng nil: never), and waits until it serves; false when it does not come
// back, which is a problem.
func (w *world) restart(rng *mrand.Rand) bool {
	if err := w.srv.Start(); err != nil {
		w.t.Fatal(err)
	}
	if rng != nil && w.p.StartupCuts && rng.IntN(5) == 0 {
		time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
		w.cutAndVerify(fmt.Sprintf("start-up cut %d", w.report.StartupCuts+1))
		w.report.StartupCuts++
		if w.failed() {
			return false
		}
		if err := w.srv.Start(); err != nil {
			w.t.Fatal(err)
		}
	}
	if err := w.srv.WaitReady(30 * time.Second); err != nil {
		w.problem("server did not come back after a cut: %v", err)
		return false
	}
	return true
}

func (w *world) cutAndVerify(which string) {
	if err := w.p.Cut(); err != nil {
		w.t.Fatalf("%s: %v", which, err)
	}
	if out, err := w.srv.Verify(context.Background()); err != nil {
		w.problem("corridor verify after %s: %v\n%s\nserver log:\n%s", which, err, out, w.srv.LogTail())
	}
}

// loadTokens reads the demo tokens serve wrote on first start.
func (w *world) loadTokens() {
	raw, err := os.ReadFile(filepath.Join(w.srv.DataDir, "demo-tokens.json"))
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
		if !slices.Contains(demo.Codes(), tok.Registry) {
			continue // the stopped LA node's tokens: serve does not run it here
		}
		switch tok.Role {
		case ledger.RoleHolder:
			w.holders = append(w.holders, &holder{reg: tok.Registry, account: tok.AccountID, api: client.New(w.srv.BaseURL(), tok.Token)})
		case ledger.RoleAdmin:
			w.admins[tok.Registry] = client.New(w.srv.BaseURL(), tok.Token)
		}
	}
	if len(w.holders) < 2*len(demo.Registries) || len(w.admins) != len(demo.Registries) {
		w.t.Fatalf("demo tokens: %d holders and %d admins for %d registries", len(w.holders), len(w.admins), len(demo.Registries))
	}
}

// readInitial records where every unit is after the demo seed: the one time
// the model takes the ledger's word.
func (w *world) readInitial() {
	ctx := context.Background()
	for reg, admin := range w.admins {
		u, err := w.read(ctx, reg, admin)
		if err != nil {
			w.t.Fatal(err)
		}
		w.initial[reg] = u
		w.view[reg] = u.clone()
		tot, byState := w.totals(ctx, reg, admin)
		w.imported[reg], w.exported[reg] = byState-tot.Issued, tot.ByState[ledger.Exported]
		w.seedRetired[reg], w.seedCancelled[reg] = tot.ByState[ledger.Retired], tot.ByState[ledger.Cancelled]
		if demo := demoRetired(reg); w.seedRetired[reg] < demo {
			w.t.Fatalf("%s: the seed left %d units retired, below the demo data's %d", reg, w.seedRetired[reg], demo)
		}
	}
}

// totals is a registry's totals as its API shows them, and the sum of
// its units by state.
func (w *world) totals(ctx context.Context, reg string, admin *client.Client) (registry.Totals, int64) {
	tot, err := admin.Totals(ctx, reg)
	if err != nil {
		w.t.Fatal(err)
	}
	var byState int64
	for _, q := range tot.ByState {
		byState += q
	}
	return tot, byState
}

// read is a registry's units as its API shows them: the held and reserved
// blocks of every account (holdings do not list retired units; their
// quantity is compared through the totals).
func (w *world) read(ctx context.Context, reg string, admin *client.Client) (units, error) {
	accs, err := admin.Accounts(ctx, reg)
	if err != nil {
		return nil, err
	}
	u := units{}
	if w.serial[reg] == nil {
		w.serial[reg] = map[int64]ledger.Serial{}
	}
	for _, a := range accs {
		blocks, err := admin.Holdings(ctx, reg, a.ID)
		if err != nil {
			return nil, err
		}
		for _, b := range blocks {
			if _, ok := w.serial[reg][b.IssuanceID]; !ok {
				s, err := ledger.ParseSerial(b.Serial)
				if err != nil {
					return nil, fmt.Errorf("block serial %q: %w", b.Serial, err)
				}
				w.serial[reg][b.IssuanceID] = s
			}
			u.add(place{b.AccountID, b.State, b.Pending}, span{b.IssuanceID, b.Start, b.End})
		}
	}
	return u, nil
}

// drive sends transactions from random holders until ctx ends or the
// server goes away.
func (w *world) drive(ctx context.Context, rng *mrand.Rand) {
	for ctx.Err() == nil {
		w.mu.Lock()
		o := w.next(rng)
		w.mu.Unlock()
		if o == nil {
			continue
		}
		res, err := o.api.Submit(ctx, o.reg, o.key, o.req)
		w.mu.Lock()
		w.ops = append(w.ops, o)
		switch kind := w.classify(o, err); kind {
		case acked:
			if res.Replayed || res.Seq <= 0 {
				w.problemLocked("%s %s: first answer %+v", o.req.Kind(), o.key, res)
			}
			o.state, o.res = acked, res
			w.acked(o)
		case rejected:
			o.state = rejected
			w.report.Rejected++
		case unknown:
			o.state = unknown
		default:
			w.problemLocked("%s %s %+v: unexpected answer: %v", o.req.Kind(), o.key, o.req, err)
			o.state = unknown
		}
		w.mu.Unlock()
		if o.state == unknown {
			return // the server is gone
		}
	}
}

// next picks the next transaction from the drivers' picture; the caller
// holds w.mu.
func (w *world) next(rng *mrand.Rand) *op {
	h := w.holders[rng.IntN(len(w.holders))]
	var peers []*holder
	for _, p := range w.holders {
		if p.reg == h.reg && p != h {
			peers = append(peers, p)
		}
	}
	to := peers[rng.IntN(len(peers))]
	key := fmt.Sprintf("crash-%x-%d", w.p.Seed, w.nextOp.Add(1))
	o := &op{reg: h.reg, api: h.api, key: key, from: h.account}

	roll := rng.IntN(100)
	if roll >= 80 {
		// Settle a reservation: the registry administrator completes or
		// voids (DESIGN.md: only the settlement authority settles).
		open := w.open[h.reg]
		if len(open) > 0 {
			i := rng.IntN(len(open))
			r := open[i]
			w.open[h.reg] = slices.Delete(open, i, i+1)
			o.api, o.from = w.admins[h.reg], r.from
			if rng.IntN(2) == 0 {
				o.req = registry.Complete{Pending: r.res.Pending}
			} else {
				o.req = registry.Void{Pending: r.res.Pending, Reason: "crash test"}
			}
			return o
		}
		roll = 0
	}
	held := w.view[h.reg][place{h.account, ledger.Held, 0}]
	if len(held) == 0 {
		return nil
	}
	s := held[rng.IntN(len(held))]
	o.unitType = w.serial[h.reg][s.iss].UnitType
	sel := registry.Units{Quantity: 1 + rng.Int64N(5), UnitType: o.unitType}
	// Half the time name serials: a few units somewhere in a held span.
	if rng.IntN(2) == 0 {
		q := min(1+rng.Int64N(5), s.end-s.start+1)
		start := s.start + rng.Int64N(s.end-s.start+2-q)
		sp := span{s.iss, start, start + q - 1}
		serial := w.serial[h.reg][s.iss]
		serial.Start, serial.End = sp.start, sp.end
		sel = registry.Units{Serials: []string{serial.String()}}
		o.serials = []span{sp}
	}
	switch {
	case roll < 55:
		o.req = registry.Transfer{From: h.account, To: to.account, Units: sel}
	case roll < 65:
		o.req = registry.Retire{From: h.account, Units: sel, Beneficiary: "crash test", Purpose: "voluntary"}
	default:
		o.req = registry.Reserve{From: h.account, Units: sel, ToAccount: to.account}
	}
	return o
}

// classify maps a submit error onto an outcome.
func (w *world) classify(o *op, err error) outcome {
	if err == nil {
		return acked
	}
	var p *client.Problem
	if !errors.As(err, &p) {
		return unknown // transport error: connection refused, reset or cut
	}
	if p.Status >= 500 {
		return unknown
	}
	switch o.req.(type) {
	case registry.Complete, registry.Void:
		return invalid // each reservation is settled once, by its authority
	}
	switch p.Code {
	case ledger.CodeInsufficientUnits, ledger.CodeRangeNotHeld, ledger.CodeUnitsNotActive:
		return rejected // the drivers' picture was behind: another client moved the units
	}
	return invalid
}

// acked updates the drivers' picture with an acknowledged transaction; the
// caller holds w.mu. The picture is only a guide (acknowledgements arrive
// out of commit order); the checks rebuild the exact state.
func (w *world) acked(o *op) {
	w.report.Acked[o.req.Kind()]++
	if _, ok := o.req.(registry.Reserve); ok {
		w.open[o.reg] = append(w.open[o.reg], o)
		if w.rsv[o.reg] == nil {
			w.rsv[o.reg] = map[int64]*op{}
		}
		w.rsv[o.reg][o.res.Pending] = o
	}
	_ = apply(w.view[o.reg], o, w.rsv[o.reg])
}

// apply moves o's units in u, checking its answer against its request: the
// serials asked for, or the quantity and unit type; a settlement moves
// exactly its reservation's blocks. It returns what did not fit.
func apply(u units, o *op, reservations map[int64]*op) error {
	res := o.res
	if res.Kind != o.req.Kind() {
		return fmt.Errorf("answered kind %q", res.Kind)
	}
	var moved []span
	var sum int64
	for _, b := range res.Blocks {
		moved = append(moved, span{b.IssuanceID, b.Start, b.End})
		sum += b.End - b.Start + 1
	}
	if sum != res.Quantity {
		return fmt.Errorf("answer's blocks hold %d units, its quantity says %d", sum, res.Quantity)
	}
	held := func(acc int64) place { return place{acc, ledger.Held, 0} }
	var from, to place
	switch r := o.req.(type) {
	case registry.Transfer:
		from, to = held(r.From), held(r.To)
	case registry.Retire:
		from, to = held(r.From), place{r.From, ledger.Retired, 0}
	case registry.Reserve:
		from, to = held(r.From), place{r.From, ledger.Reserved, res.Seq}
		if res.Pending != res.Seq {
			return fmt.Errorf("reservation at seq %d answered pending %d", res.Seq, res.Pending)
		}
	case registry.Complete, registry.Void:
		pending := pendingOf(o.req)
		rsv := reservations[pending]
		if rsv == nil {
			return fmt.Errorf("settles reservation %d, which the test never saw acknowledged", pending)
		}
		if !sameSpans(moved, rsv.res.Blocks) {
			return fmt.Errorf("settled %v, reservation %d reserved %v", moved, pending, rsv.res.Blocks)
		}
		from = place{rsv.from, ledger.Reserved, pending}
		to = held(rsv.from)
		if _, ok := o.req.(registry.Complete); ok {
			to = held(rsv.req.(registry.Reserve).ToAccount)
		}
	default:
		return fmt.Errorf("no model for %T", o.req)
	}
	switch {
	case len(o.serials) > 0:
		if !slices.Equal(normal(moved), normal(o.serials)) {
			return fmt.Errorf("asked for serials %v, moved %v", o.serials, moved)
		}
	case o.unitType != "":
		want := unitsOf(o.req).Quantity
		if sum != want {
			return fmt.Errorf("asked for %d %s, moved %d", want, o.unitType, sum)
		}
	}
	for _, s := range moved {
		if err := u.move(from, to, s); err != nil {
			return err
		}
	}
	return nil
}

func pendingOf(r registry.Request) int64 {
	switch r := r.(type) {
	case registry.Complete:
		return r.Pending
	case registry.Void:
		return r.Pending
	}
	return 0
}

func unitsOf(r registry.Request) registry.Units {
	switch r := r.(type) {
	case registry.Transfer:
		return r.Units
	case registry.Retire:
		return r.Units
	case registry.Reserve:
		return r.Units
	}
	return registry.Units{}
}

// normal sorts and merges spans.
func normal(ss []span) []span {
	u := units{}
	for _, s := range ss {
		u.add(place{}, s)
	}
	return u[place{}]
}

func sameSpans(a []span, blocks []registry.BlockView) bool {
	var b []span
	for _, x := range blocks {
		b = append(b, span{x.IssuanceID, x.Start, x.End})
	}
	return slices.Equal(normal(a), normal(b))
}

// checkAfterRestart resolves the transactions whose outcome a cut hid, then
// replays the acknowledged ones (all when all is set, else those since the
// last check and a sample of older ones), and compares every account's
// blocks with the acknowledged history applied in journal order.
func (w *world) checkAfterRestart(all bool) {
	ctx := context.Background()
	w.mu.Lock()
	ops := slices.Clone(w.ops)
	from := w.checkedTo
	w.checkedTo = len(ops)
	w.mu.Unlock()
	if all {
		from = 0
	}

	// 1. Re-send each transaction of unknown outcome, twice: the first
	// answer says whether it committed before the cut (replayed) or now;
	// the second must replay the first. Either way it applies once.
	parallel(ops, func(_ int, o *op) {
		if o.state != unknown {
			return
		}
		res, err := o.api.Submit(ctx, o.reg, o.key, o.req)
		switch w.classify(o, err) {
		case rejected:
			w.mu.Lock()
			o.state = rejected
			w.report.Refused++
			w.mu.Unlock()
			return
		case acked:
		default:
			w.problem("re-send of %s %s after restart: %v", o.req.Kind(), o.key, err)
			return
		}
		again, err := o.api.Submit(ctx, o.reg, o.key, o.req)
		if err != nil || !again.Replayed || again.Seq != res.Seq {
			w.problem("second re-send of %s: %+v, %v; want a replay of seq %d", o.key, again, err, res.Seq)
		}
		w.mu.Lock()
		o.state, o.res = acked, res
		if res.Replayed {
			w.report.Before++
		} else {
			w.report.Now++
		}
		w.acked(o)
		w.mu.Unlock()
	})

	// 2. Replaying acknowledged transactions returns their first answer and
	// changes nothing.
	before := w.snapshot()
	rng := mrand.New(mrand.NewPCG(w.p.Seed, uint64(len(ops))))
	parallel(ops, func(i int, o *op) {
		if o.state != acked {
			return
		}
		if i < from && rng.IntN(20) != 0 {
			return // re-checked after an earlier restart; sample 1 in 20
		}
		res, err := o.api.Submit(ctx, o.reg, o.key, o.req)
		if err != nil {
			w.problem("acknowledged %s %s (seq %d) lost: re-send answered %v", o.req.Kind(), o.key, o.res.Seq, err)
			return
		}
		if !res.Replayed {
			w.problem("acknowledged %s %s (seq %d) lost: the re-send executed it anew at seq %d", o.req.Kind(), o.key, o.res.Seq, res.Seq)
			return
		}
		first := o.res
		first.Replayed, res.Replayed = false, false
		first.At, res.At = time.Time{}, time.Time{}
		if !reflect.DeepEqual(first, res) {
			w.problem("acknowledged %s %s: re-send answered %+v, first answer was %+v", o.req.Kind(), o.key, res, first)
		}
	})
	if after := w.snapshot(); !reflect.DeepEqual(before, after) {
		w.problem("replaying acknowledged transactions changed the registries:\nbefore %v\nafter  %v", before, after)
	}

	// 3. Every unit is where the acknowledged history, in journal order,
	// puts it; units in every state sum to the units issued.
	w.mu.Lock()
	defer w.mu.Unlock()
	for reg, admin := range w.admins {
		model := w.initial[reg].clone()
		var mine []*op
		for _, o := range w.ops {
			if o.reg == reg && o.state == acked {
				mine = append(mine, o)
			}
			if o.reg == reg && o.state == unknown {
				w.problemLocked("%s %s: outcome still unknown after the restart", o.req.Kind(), o.key)
			}
		}
		slices.SortFunc(mine, func(a, b *op) int { return int(a.res.Seq - b.res.Seq) })
		for _, o := range mine {
			if err := apply(model, o, w.rsv[reg]); err != nil {
				w.problemLocked("%s: acknowledged %s %s (seq %d) does not fit the acknowledged history: %v", reg, o.req.Kind(), o.key, o.res.Seq, err)
			}
		}
		got, err := w.read(ctx, reg, admin)
		if err != nil {
			w.t.Fatal(err)
		}
		shown := model.clone()
		for p := range shown {
			if p.state == ledger.Retired {
				delete(shown, p)
			}
		}
		if !shown.equal(got) {
			w.problemLocked("%s: blocks differ from the acknowledged history:\n%s", reg, diff(shown, got))
		}
		tot, byState := w.totals(ctx, reg, admin)
		retired := model.quantity(func(p place) bool { return p.state == ledger.Retired })
		if byState != tot.Issued+w.imported[reg] {
			w.problemLocked("%s: %d units issued and %d imported by the seed, %d counted by state", reg, tot.Issued, w.imported[reg], byState)
		}
		if shownQ := model.quantity(func(p place) bool { return p.state != ledger.Retired }); shownQ+retired+w.seedRetired[reg]+w.seedCancelled[reg] != tot.Issued+w.imported[reg]-w.exported[reg] {
			w.problemLocked("%s: %d units issued, %d imported and %d exported by the seed; the history puts %d held or reserved, %d retired by the test and %d retired and %d cancelled by the seed", reg, tot.Issued, w.imported[reg], w.exported[reg], shownQ, retired, w.seedRetired[reg], w.seedCancelled[reg])
		}
		if tot.ByState[ledger.Retired] != retired+w.seedRetired[reg] {
			w.problemLocked("%s: %d units retired; the history says %d (%d by the seed)", reg, tot.ByState[ledger.Retired], retired+w.seedRetired[reg], w.seedRetired[reg])
		}
		w.view[reg] = model
	}
	// Reservations still open are those no settlement was sent for.
	settled := map[string]map[int64]bool{}
	for _, o := range w.ops {
		if p := pendingOf(o.req); p != 0 {
			if settled[o.reg] == nil {
				settled[o.reg] = map[int64]bool{}
			}
			settled[o.reg][p] = true
		}
	}
	for reg := range w.admins {
		w.open[reg] = nil
		for _, o := range w.ops {
			if _, ok := o.req.(registry.Reserve); ok && o.reg == reg && o.state == acked && !settled[reg][o.res.Pending] {
				w.open[reg] = append(w.open[reg], o)
			}
		}
	}
}

// demoRetired is what the demo data's retirements retire in reg (the
// Article 6 seed's use toward an NDC comes on top).
func demoRetired(reg string) int64 {
	var q int64
	for _, r := range demo.Registries {
		if r.Code == reg {
			for _, x := range r.Retirements {
				q += x.Quantity
			}
		}
	}
	return q
}

// diff describes the first few places where two models differ.
func diff(want, got units) string {
	var b strings.Builder
	n := 0
	var places []place
	for p := range want {
		places = append(places, p)
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			places = append(places, p)
		}
	}
	slices.SortFunc(places, func(a, b place) int {
		if a.account != b.account {
			return int(a.account - b.account)
		}
		if a.state != b.state {
			return strings.Compare(string(a.state), string(b.state))
		}
		return int(a.pending - b.pending)
	})
	for _, p := range places {
		if slices.Equal(want[p], got[p]) {
			continue
		}
		fmt.Fprintf(&b, "  account %d %s pending %d: history %v, ledger %v\n", p.account, p.state, p.pending, want[p], got[p])
		if n++; n == 8 {
			b.WriteString("  …\n")
			break
		}
	}
	return b.String()
}

// snapshot is each registry's journal head and balances, as JSON.
func (w *world) snapshot() map[string]string {
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
