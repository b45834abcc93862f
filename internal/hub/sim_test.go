package hub

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/hub/simnet"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// simAgreements is a test-only set letting CCER move every way among the
// simulation's four registries; it is not a statement about any real
// agreement.
const simAgreements = `revision: 1
purposes:
  - {code: voluntary, name: "Voluntary use"}
registries:
  - {code: CN, party: CN, name: "China"}
  - {code: TH, party: TH, name: "Thailand"}
  - {code: SG, party: SG, name: "Singapore"}
  - {code: MY, party: MY, name: "Malaysia"}
sources:
  - {id: test, title: "Test corridor", issuer: "Corridor tests", kind: proposal}
agreements:
  - {id: sim-cn-th, kind: pilot, title: "Sim CN-TH", status: proposal, parties: [CN, TH], routes: [{from: CN, to: TH, unit_types: [CCER]}, {from: TH, to: CN, unit_types: [CCER]}], purposes: [voluntary], sources: [{id: test}]}
  - {id: sim-cn-sg, kind: pilot, title: "Sim CN-SG", status: proposal, parties: [CN, SG], routes: [{from: CN, to: SG, unit_types: [CCER]}, {from: SG, to: CN, unit_types: [CCER]}], purposes: [voluntary], sources: [{id: test}]}
  - {id: sim-cn-my, kind: pilot, title: "Sim CN-MY", status: proposal, parties: [CN, MY], routes: [{from: CN, to: MY, unit_types: [CCER]}, {from: MY, to: CN, unit_types: [CCER]}], purposes: [voluntary], sources: [{id: test}]}
  - {id: sim-th-sg, kind: pilot, title: "Sim TH-SG", status: proposal, parties: [TH, SG], routes: [{from: TH, to: SG, unit_types: [CCER]}, {from: SG, to: TH, unit_types: [CCER]}], purposes: [voluntary], sources: [{id: test}]}
  - {id: sim-th-my, kind: pilot, title: "Sim TH-MY", status: proposal, parties: [TH, MY], routes: [{from: TH, to: MY, unit_types: [CCER]}, {from: MY, to: TH, unit_types: [CCER]}], purposes: [voluntary], sources: [{id: test}]}
  - {id: sim-sg-my, kind: pilot, title: "Sim SG-MY", status: proposal, parties: [SG, MY], routes: [{from: SG, to: MY, unit_types: [CCER]}, {from: MY, to: SG, unit_types: [CCER]}], purposes: [voluntary], sources: [{id: test}]}
`

// Simulation timers: short so a run settles in little simulated time.
const (
	simTick          = time.Second
	simAnswerTimeout = 2 * time.Minute
	simRetryMin      = time.Second
	simRetryMax      = 20 * time.Second
	simMaxSkew       = 5 * time.Minute // what receivers accept
	simClockSkew     = 2 * time.Minute // each clock's offset: pairwise at most 4 min
)

var quiet = slog.New(slog.DiscardHandler)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestSimulation is the corridor's proof under faults: a hub and four
// registry nodes (real nodes on SQLite files), a simulated network and
// clock driven by one seed (loss, duplication, reordering, delay,
// partitions, node and hub crashes with restart from their databases,
// clock skew), and random transfers: to unknown accounts, onward moves of
// imported units, returns to their origin, escrows short enough to expire,
// quantities above the balance. Once the network is healed and the
// timeouts have passed, every transfer is final at the hub and agrees with
// the sender's escrow, every import is acknowledged, every unit is in
// exactly one registry, every node verifies, the hub's copy of block
// locations agrees with the nodes and reconciliation finds nothing. Reproduce a seed with
// go test -run 'TestSimulation/seed=17' ./internal/hub/.
func TestSimulation(t *testing.T) {
	set, err := agreements.Parse([]byte(simAgreements))
	if err != nil {
		t.Fatal(err)
	}
	eachSeed(t, "CORRIDOR_SIM", 20, 1000, func(t *testing.T, seed uint64, per int) *sim {
		s := newSim(t, seed, set)
		s.run(per)
		s.check()
		return s
	})
}

// eachSeed runs body as a subtest per seed, seeds and transfers (spread
// over the seeds) read from the environment as PREFIX_SEEDS and
// PREFIX_TRANSFERS, and returns the sum of the simulations' counts.
func eachSeed(t *testing.T, prefix string, seeds, transfers int, body func(t *testing.T, seed uint64, per int) *sim) map[string]int {
	t.Helper()
	seeds = envInt(prefix+"_SEEDS", seeds)
	transfers = envInt(prefix+"_TRANSFERS", transfers)
	per := (transfers + seeds - 1) / seeds
	total := map[string]int{}
	for seed := 1; seed <= seeds; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			for k, v := range body(t, uint64(seed), per).counts {
				total[k] += v
			}
		})
	}
	t.Logf("over %d seeds: %v", seeds, total)
	return total
}

// TestSimulationDeterministic: one seed gives the same run twice (the
// network's trace byte for byte), so a failing seed reproduces from the
// seed alone.
func TestSimulationDeterministic(t *testing.T) {
	set, err := agreements.Parse([]byte(simAgreements))
	if err != nil {
		t.Fatal(err)
	}
	var traces [2]string
	for i := range traces {
		s := newSim(t, 7, set)
		s.run(15)
		s.check()
		traces[i] = s.net.Trace()
	}
	if traces[0] != traces[1] {
		a, b := strings.Split(traces[0], "\n"), strings.Split(traces[1], "\n")
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("runs of seed 7 differ at trace line %d:\n%s\n%s", i, a[i], b[i])
			}
		}
		t.Fatalf("runs of seed 7 differ in length: %d and %d lines", len(a), len(b))
	}
}

type simNode struct {
	code     string
	tg       storetest.Target
	db       *store.DB
	node     *registry.Node
	ep       *Endpoint
	holder   registry.Actor
	acc      int64
	suspense int64
	hubOrg   int64
	signer   envelope.Signer
	// a6acc holds authorised units and the ITMOs imported for NDC use,
	// adapt the share of proceeds (Article 6 runs only, sim_article6_test.go).
	a6acc, adapt int64
}

type sim struct {
	t       *testing.T
	seed    uint64
	net     *simnet.Network
	ctx     context.Context
	set     agreements.Set
	trust   envelope.TrustList
	hubTG   storetest.Target
	hubDB   *store.DB
	hub     *Hub
	hubSign envelope.Signer
	nodes   []*simNode
	byCode  map[string]*simNode
	origins NodeOrigins
	counts  map[string]int
	keys    int
	failed  []string
	// a6 is the hub's Article 6 ledger when the run has Article 6 units
	// (nil otherwise), reopened with the hub.
	a6 *simA6
}

// simTransport sends through the simulated network from one participant.
type simTransport struct {
	net  *simnet.Network
	from string
}

func (s simTransport) Send(_ context.Context, to, compact string) error {
	s.net.Send(simnet.Addr(s.from), simnet.Addr(to), []byte(compact))
	return nil
}

var simStart = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func newSim(t *testing.T, seed uint64, set agreements.Set) *sim {
	return newSimWith(t, seed, set, nil)
}

// newSimWith is newSim with the hub keeping an Article 6 ledger when a6 is
// not nil.
func newSimWith(t *testing.T, seed uint64, set agreements.Set, a6 *simA6) *sim {
	ctx := context.Background()
	s := &sim{t: t, seed: seed, ctx: ctx, set: set, byCode: map[string]*simNode{}, origins: NodeOrigins{}, counts: map[string]int{}, a6: a6}
	s.net = simnet.New(simnet.Config{Seed: seed, Start: simStart, Faults: simnet.Faults{
		Loss: 0.1, Duplicate: 0.1, MinDelay: time.Millisecond, MaxDelay: 1500 * time.Millisecond,
		PartitionRate: 0.002, HealAfter: 20 * time.Second, CrashRate: 0.001, RestartAfter: 15 * time.Second, MaxSkew: simClockSkew,
	}})
	// Keys from the seed, so the run is reproducible byte for byte.
	rnd := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 0x63, 0x6f, 0x72, 0x72})
	list := envelope.TrustList{Version: 1, IssuedAt: simStart, Issuer: HubCode}
	entry := func(code string, role envelope.Role) envelope.Signer {
		kid := strings.ToLower(code) + "-1"
		sg, pub, err := envelope.GenerateSigner(code, kid, rnd)
		if err != nil {
			t.Fatal(err)
		}
		party := ""
		if role == envelope.RoleNode {
			party = code
		}
		list.Entries = append(list.Entries, envelope.Entry{Code: code, Role: role, Party: party, Endpoint: "https://corridor.invalid/" + strings.ToLower(code) + "/",
			Keys: []envelope.Key{{KID: kid, Public: ed25519.PublicKey(pub), From: simStart.Add(-time.Hour), Until: simStart.Add(365 * 24 * time.Hour)}}})
		return sg
	}
	s.hubSign = entry(HubCode, envelope.RoleHub)
	for _, code := range []string{"CN", "TH", "SG", "MY"} {
		n := &simNode{code: code, tg: storetest.SQLite(t), signer: entry(code, envelope.RoleNode)}
		s.nodes = append(s.nodes, n)
		s.byCode[code] = n
	}
	if err := list.Validate(); err != nil {
		t.Fatal(err)
	}
	s.trust = list
	s.net.Register(HubCode, simnet.Endpoint{Handle: s.handler(HubCode), Crash: s.crashHub, Restart: s.openHubAndTick})
	for _, n := range s.nodes {
		s.net.Register(simnet.Addr(n.code), simnet.Endpoint{Handle: s.handler(n.code), Crash: func() { s.crashNode(n) }, Restart: func() { s.openNode(n); s.tickNode(n) }})
	}
	for _, n := range s.nodes {
		s.openNode(n)
		s.setupNode(n)
	}
	s.hubTG = storetest.SQLite(t)
	s.openHub()
	s.tickHub()
	for _, n := range s.nodes {
		s.tickNode(n)
	}
	return s
}

func (s *sim) fail(format string, a ...any) {
	s.failed = append(s.failed, fmt.Sprintf(format, a...))
}

func (s *sim) openNode(n *simNode) {
	db, err := store.Open(s.ctx, n.tg.Cfg)
	if err != nil {
		s.t.Fatalf("seed %d: open %s: %v", s.seed, n.code, err)
	}
	node, err := registry.Open(s.ctx, db, registry.Options{Code: n.code, Now: s.net.Clock(simnet.Addr(n.code)), ManualExpiry: true, Logger: quiet})
	if err != nil {
		s.t.Fatalf("seed %d: open node %s: %v", s.seed, n.code, err)
	}
	n.db, n.node = db, node
	s.origins[n.code] = node
	n.ep = &Endpoint{EndpointConfig: EndpointConfig{Code: n.code, Node: node, HubOrg: n.hubOrg, HubCode: HubCode, Signer: n.signer, Transport: simTransport{s.net, n.code},
		Trust: func() envelope.TrustList { return s.trust }, MaxSkew: simMaxSkew, Origins: s.origins, Suspense: n.suspense, Now: s.net.Clock(simnet.Addr(n.code)),
		Log: quiet, RetryMin: simRetryMin, RetryMax: simRetryMax}}
	n.ep.init()
}

func (s *sim) crashNode(n *simNode) {
	n.node.Close()
	n.db.Close()
	n.node, n.ep = nil, nil
}

func (s *sim) setupNode(n *simNode) {
	do := func(a registry.Actor, req registry.Request) registry.Result {
		s.keys++
		res, err := n.node.Do(s.ctx, a, fmt.Sprintf("setup%d", s.keys), req)
		if err != nil {
			s.t.Fatalf("seed %d: %s %s: %v", s.seed, n.code, req.Kind(), err)
		}
		return res
	}
	org := do(admin, registry.CreateOrganisation{Name: "Holder " + n.code, Country: n.code}).ID
	n.holder = registry.Actor{OrgID: org, Role: ledger.RoleHolder}
	n.acc = do(admin, registry.OpenAccount{OrgID: org, Type: ledger.Holding, Name: "Main"}).ID
	n.hubOrg = do(admin, registry.CreateOrganisation{Name: "Corridor hub", Country: "SG"}).ID
	n.suspense = do(admin, registry.OpenAccount{OrgID: org, Type: ledger.NationalHolding, Name: "Corridor imports held for the administrator"}).ID
	n.ep.HubOrg, n.ep.Suspense = n.hubOrg, n.suspense
	if n.code == "CN" || n.code == "TH" {
		do(admin, registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "CCER-14-2024-00" + n.code[:1], Methodology: "CCER-14-001-V01",
			HostCountry: "CN", Vintage: 2024, Quantity: 100000}, AccountID: n.acc})
	}
	if s.a6 != nil {
		s.a6.setupNode(s, n, do)
	}
}

func (s *sim) openHub() {
	db, err := store.Open(s.ctx, s.hubTG.Cfg)
	if err != nil {
		s.t.Fatalf("seed %d: open hub db: %v", s.seed, err)
	}
	var ledger6 *Article6
	if s.a6 != nil {
		ledger6 = s.a6.open(s, db)
	}
	h, err := Open(s.ctx, Config{Code: HubCode, DB: db, Signer: s.hubSign, Trust: func() envelope.TrustList { return s.trust }, Agreements: s.set,
		Transport: simTransport{s.net, HubCode}, Now: s.net.Clock(HubCode), MaxSkew: simMaxSkew, AnswerTimeout: simAnswerTimeout,
		RetryMin: simRetryMin, RetryMax: simRetryMax, Log: quiet, Article6: ledger6})
	if err != nil {
		s.t.Fatalf("seed %d: open hub: %v", s.seed, err)
	}
	s.hubDB, s.hub = db, h
}

func (s *sim) openHubAndTick() { s.counts["hub restarts"]++; s.openHub(); s.tickHub() }

func (s *sim) crashHub() {
	s.hubDB.Close()
	s.hub = nil
}

func (s *sim) handler(code string) func(simnet.Packet) {
	return func(p simnet.Packet) {
		var r Receiver
		if code == HubCode {
			r = s.hub
		} else {
			r = s.byCode[code].ep
		}
		if err := r.Receive(s.ctx, string(p.Payload)); err != nil {
			if c := envelope.RefusalCode(err); c != "" {
				s.counts["refused "+string(c)]++
				return
			}
			if _, rule := ledger.AsError(err); rule {
				s.counts["ledger refusal at "+code]++
				return
			}
			s.fail("%s receiving #%d from %s: %v", code, p.ID, p.From, err)
		}
	}
}

func (s *sim) tickHub() {
	s.net.After(HubCode, simTick, func() {
		if err := s.hub.Tick(s.ctx); err != nil {
			s.fail("hub tick: %v", err)
		}
		s.tickHub()
	})
}

func (s *sim) tickNode(n *simNode) {
	s.net.After(simnet.Addr(n.code), simTick, func() {
		if _, err := n.node.ExpireDue(s.ctx); err != nil {
			s.fail("%s expiring: %v", n.code, err)
		}
		if err := n.ep.Tick(s.ctx); err != nil {
			s.fail("%s tick: %v", n.code, err)
		}
		s.tickNode(n)
	})
}

// run starts n random transfers spread over simulated time, then heals
// the network and lets every timer run out.
func (s *sim) run(n int) {
	rng := s.net.Rand()
	started, proposed := 0, 0
	for proposed < n && started < 4*n {
		s.net.RunUntil(s.net.Now().Add(time.Duration(200+rng.IntN(1800))*time.Millisecond), 1_000_000)
		// Account changes: an acquiring account closed (and later opened
		// again) makes imports after 8 go to the suspense account.
		if rng.IntN(8) == 0 {
			s.setStatus(s.nodes[rng.IntN(len(s.nodes))], ledger.Closed)
		} else if rng.IntN(6) == 0 {
			s.setStatus(s.nodes[rng.IntN(len(s.nodes))], ledger.Open)
		}
		// A long silence between a node and the hub: past the answer
		// timeout (7) or past a short escrow (expiry at 2 or 8).
		if rng.IntN(25) == 0 {
			n := s.nodes[rng.IntN(len(s.nodes))]
			s.net.PartitionFor(simnet.Addr(n.code), HubCode, time.Duration(60+rng.IntN(240))*time.Second)
		}
		from := s.nodes[rng.IntN(len(s.nodes))]
		if !s.net.Up(simnet.Addr(from.code)) {
			continue
		}
		if s.a6 != nil && rng.IntN(2) == 0 {
			// Half the steps move, use or revoke Article 6 units.
			if s.a6.step(s, rng, from) {
				proposed++
			}
			started++
			continue
		}
		to := s.nodes[rng.IntN(len(s.nodes))]
		if to == from {
			to = s.nodes[(slices.Index(s.nodes, from)+1)%len(s.nodes)]
		}
		acc := to.acc
		if rng.IntN(10) == 0 {
			acc = 424242 // no such account: rejected (6)
		}
		qty := int64(1 + rng.IntN(3000))
		if rng.IntN(15) == 0 {
			qty = 10_000_000 // above every balance: refused at the sender
		}
		expires := int64(3600)
		if rng.IntN(5) == 0 {
			expires = registry.MinEscrowSeconds // often expires before completing
		}
		started++
		s.keys++
		_, err := from.ep.Propose(s.ctx, Send{Actor: from.holder, Key: fmt.Sprintf("sim%d", s.keys), From: from.acc, ToRegistry: to.code, ToAccount: acc,
			Units: registry.Units{Quantity: qty, UnitType: "CCER"}, Purpose: "voluntary", ExpiresIn: expires})
		if _, rule := ledger.AsError(err); err != nil {
			if !rule {
				s.fail("propose at %s: %v", from.code, err)
			}
			s.counts["refused at sender"]++
			continue
		}
		s.counts["proposed"]++
		proposed++
	}
	s.net.Calm()
	// Heal: every escrow's lifetime and the answer timeout pass, and the
	// re-sends (capped at simRetryMax) have had many rounds.
	end := s.net.Now().Add(time.Hour + 10*time.Minute)
	for s.net.Now().Before(end) {
		s.net.RunUntil(s.net.Now().Add(time.Minute), 1_000_000)
		if s.quiet() {
			break
		}
	}
	st := s.net.Stats()
	s.counts["lost"] += st.Lost
	s.counts["duplicated"] += st.Duplicated
	s.counts["crashes"] += st.Crashes
	s.counts["partitions"] += st.Partitions
}

// setStatus opens or closes n's main account (when n is up).
func (s *sim) setStatus(n *simNode, status ledger.AccountStatus) {
	if !s.net.Up(simnet.Addr(n.code)) {
		return
	}
	s.keys++
	_, err := n.node.Do(s.ctx, admin, fmt.Sprintf("status%d", s.keys), registry.SetAccountStatus{AccountID: n.acc, Status: status})
	if _, rule := ledger.AsError(err); err != nil && !rule {
		s.fail("%s account status: %v", n.code, err)
	}
	if err == nil {
		s.counts["account "+string(status)]++
	}
}

// quiet: every transfer the nodes sent is final at the hub, every import
// acknowledged, no escrow pending.
func (s *sim) quiet() bool {
	for _, n := range s.nodes {
		xs, err := n.node.HubEscrows(s.ctx, admin, n.hubOrg, 0, 100000)
		if err != nil {
			return false
		}
		for _, x := range xs {
			if x.Settled == "" {
				return false
			}
			rec, ok := s.hub.Transfer(n.code + ":" + strconv.FormatInt(x.Pending, 10))
			if !ok || !rec.Status.Final() || rec.Status == protocol.StatusCompleted && !rec.ImportAcknowledged {
				return false
			}
		}
	}
	return true
}

func (s *sim) check() {
	t := s.t
	defer func() {
		if t.Failed() || len(s.failed) > 0 {
			var tr []string
			for _, l := range strings.Split(strings.TrimSpace(s.net.Trace()), "\n") {
				if !strings.Contains(l, " timer ") {
					tr = append(tr, l)
				}
			}
			t.Logf("seed %d (rerun: go test -run 'TestSimulation/seed=%d$' ./internal/hub/): trace tail:\n%s", s.seed, s.seed, strings.Join(tr[max(0, len(tr)-60):], "\n"))
		}
	}()
	for _, f := range s.failed {
		t.Errorf("seed %d: %s", s.seed, f)
	}
	var nodes []*registry.Node
	for _, n := range s.nodes {
		nodes = append(nodes, n.node)
	}
	for _, n := range s.nodes {
		if v, err := n.node.Account(registry.Operator, n.suspense); err == nil {
			for _, b := range v.Balances {
				if b.Quantity > 0 {
					s.counts["units in suspense"] += int(b.Quantity)
				}
			}
		}
	}
	hubRecs := map[string]Transfer{}
	for _, r := range s.hub.Transfers() {
		hubRecs[r.ID] = r
		s.counts[fmt.Sprintf("final %s", r.Status)]++
	}
	for _, n := range s.nodes {
		xs, err := n.node.HubEscrows(s.ctx, admin, n.hubOrg, 0, 100000)
		if err != nil {
			t.Fatalf("seed %d: %v", s.seed, err)
		}
		for _, x := range xs {
			tx := n.code + ":" + strconv.FormatInt(x.Pending, 10)
			s.counts["escrow "+x.Settled]++
			rec, ok := hubRecs[tx]
			delete(hubRecs, tx)
			switch {
			case !ok:
				t.Errorf("seed %d: %s escrow %s (%s) has no hub record", s.seed, n.code, tx, x.Settled)
			case !rec.Status.Final():
				t.Errorf("seed %d: %s not final at the hub: %v", s.seed, tx, rec.Statuses())
			case rec.Status == protocol.StatusCompleted && x.Settled != "completed",
				rec.Status != protocol.StatusCompleted && x.Settled != "voided" && x.Settled != "expired":
				t.Errorf("seed %d: %s is %s at the hub (%v) but the sender's escrow is %q", s.seed, tx, rec.Status, rec.Statuses(), x.Settled)
			case rec.Status == protocol.StatusCompleted && !rec.ImportAcknowledged:
				t.Errorf("seed %d: %s completed but the import is not acknowledged", s.seed, tx)
			}
		}
	}
	for id := range hubRecs {
		t.Errorf("seed %d: the hub records %s, which no sender's journal has", s.seed, id)
	}
	if bad := CheckCorridor(nodes...); len(bad) > 0 {
		t.Errorf("seed %d: corridor conservation: %v", s.seed, bad)
	}
	for _, n := range s.nodes {
		rep, err := registry.Verify(s.ctx, n.db)
		if err != nil {
			t.Fatalf("seed %d: verify %s: %v", s.seed, n.code, err)
		}
		if !rep.OK() {
			t.Errorf("seed %d: %s verify: %v", s.seed, n.code, rep.Violations)
		}
	}
	if s.a6 != nil {
		s.a6.check(s, nodes)
	}
	for _, bad := range LocationsDisagree(s.hub.Locations(), nodes...) {
		t.Errorf("seed %d: hub copy: %s", s.seed, bad)
	}
	// Reconciliation (reconcile.go) compares each node's snapshot with the
	// hub's copy: it must find nothing once the corridor is quiet.
	for _, n := range s.nodes {
		snap, err := n.node.Snapshot(admin)
		if err != nil {
			t.Fatalf("seed %d: snapshot %s: %v", s.seed, n.code, err)
		}
		if _, fs := s.hub.CheckSnapshot(snap, time.Minute); len(fs) > 0 {
			t.Errorf("seed %d: reconciliation with %s finds %+v", s.seed, n.code, fs)
		}
	}
}

// LocationsDisagree compares the hub's copy of block locations with the
// nodes: every serial a node holds (in any state but exported) of a
// foreign issuance must be placed in that node by the copy, and every
// range the copy places in a node must be there (not exported).
func LocationsDisagree(locs []Location, nodes ...*registry.Node) []string {
	type key struct{ origin, issuance string }
	present := map[string]map[key][]span{}
	for _, n := range nodes {
		m := map[key][]span{}
		for _, b := range n.OriginBlocks() {
			if b.State == ledger.Exported {
				continue
			}
			k := key{b.Origin.Registry, strconv.FormatInt(b.Origin.Issuance, 10)}
			m[k] = append(m[k], span{b.Start, b.End, n.Code()})
		}
		present[n.Code()] = m
	}
	var bad []string
	for _, l := range locs {
		have := cover(present[l.Registry][key{l.OriginRegistry, l.IssuanceID}])
		if !covers(have, l.Start, l.End) {
			bad = append(bad, fmt.Sprintf("the hub places %s/%s %d-%d in %s, which holds %v of it", l.OriginRegistry, l.IssuanceID, l.Start, l.End, l.Registry, have))
		}
	}
	byKey := map[key][]Location{}
	for _, l := range locs {
		k := key{l.OriginRegistry, l.IssuanceID}
		byKey[k] = append(byKey[k], l)
	}
	for code, m := range present {
		for k, spans := range m {
			if k.origin == code {
				continue
			}
			for _, sp := range spans {
				var placed []span
				for _, l := range byKey[k] {
					if l.Registry == code {
						placed = append(placed, span{l.Start, l.End, code})
					}
				}
				if !covers(cover(placed), sp.start, sp.end) {
					bad = append(bad, fmt.Sprintf("%s holds %s/%s %d-%d, which the hub's copy does not place there", code, k.origin, k.issuance, sp.start, sp.end))
				}
			}
		}
	}
	slices.Sort(bad)
	return bad
}

func covers(have [][2]int64, start, end int64) bool {
	for _, h := range have {
		if h[0] <= start && end <= h[1] {
			return true
		}
	}
	return false
}
