package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

var admin = registry.Actor{Role: ledger.RoleAdmin}

// site is one registry node of the test corridor.
type site struct {
	node   *registry.Node
	db     *store.DB
	holder registry.Actor
	acc    int64
	hubOrg int64
	iss    int64
	keys   int
}

func (s *site) do(t *testing.T, a registry.Actor, req registry.Request) registry.Result {
	t.Helper()
	s.keys++
	res, err := s.node.Do(context.Background(), a, fmt.Sprintf("t%d", s.keys), req)
	if err != nil {
		t.Fatalf("%s %s: %v", s.node.Code(), req.Kind(), err)
	}
	return res
}

func newSite(t *testing.T, tg storetest.Target, code string, issue int64) *site {
	t.Helper()
	db := tg.Open(t)
	n, err := registry.Open(context.Background(), db, registry.Options{Code: code})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	s := &site{node: n, db: db}
	org := s.do(t, admin, registry.CreateOrganisation{Name: "Holder " + code, Country: code[:2]}).ID
	s.holder = registry.Actor{OrgID: org, Role: ledger.RoleHolder}
	s.acc = s.do(t, admin, registry.OpenAccount{OrgID: org, Type: ledger.Holding, Name: "Main"}).ID
	s.hubOrg = s.do(t, admin, registry.CreateOrganisation{Name: "Corridor hub", Country: "SG"}).ID
	if issue > 0 {
		s.iss = s.do(t, admin, registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "CCER-14-2024-001", Methodology: "CCER-14-001-V01",
			HostCountry: "CN", Vintage: 2024, Quantity: issue}, AccountID: s.acc}).ID
	}
	return s
}

func (s *site) balance(t *testing.T, state ledger.State) int64 {
	t.Helper()
	v, err := s.node.Account(registry.Operator, s.acc)
	if err != nil {
		t.Fatal(err)
	}
	var q int64
	for _, b := range v.Balances {
		if b.State == state {
			q += b.Quantity
		}
	}
	return q
}

func (s *site) verify(t *testing.T) {
	t.Helper()
	rep, err := registry.Verify(context.Background(), s.db)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("%s verify: %v", s.node.Code(), rep.Violations)
	}
}

type world struct {
	c          *Corridor
	cn, th, sg *site
}

func newWorld(t *testing.T, tg storetest.Target) *world {
	t.Helper()
	set, err := agreements.Default()
	if err != nil {
		t.Fatal(err)
	}
	return newWorldWith(t, tg, set)
}

func newWorldWith(t *testing.T, tg storetest.Target, set agreements.Set) *world {
	t.Helper()
	w := &world{cn: newSite(t, tg, "CN", 1000), th: newSite(t, tg.Fresh(t), "TH", 0), sg: newSite(t, tg.Fresh(t), "SG", 0)}
	var err error
	var members []Member
	for _, s := range []*site{w.cn, w.th, w.sg} {
		members = append(members, Member{Node: s.node, HubOrg: s.hubOrg})
	}
	w.c, err = Embedded(context.Background(), EmbeddedConfig{HubDB: tg.Fresh(t).Open(t), Members: members, Agreements: set})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) send(t *testing.T, from, to *site, qty int64, toAccount int64, key string) string {
	t.Helper()
	sent, err := w.c.Endpoints[from.node.Code()].Propose(context.Background(), Send{Actor: from.holder, Key: key, From: from.acc, ToRegistry: to.node.Code(),
		ToAccount: toAccount, Units: registry.Units{Quantity: qty, UnitType: "CCER"}, Purpose: "voluntary"})
	if err != nil {
		t.Fatal(err)
	}
	if sent.Quantity != qty || sent.Status != protocol.StatusProposed || len(sent.Blocks) == 0 {
		t.Fatalf("propose answered %+v", sent)
	}
	return sent.ID
}

func (w *world) run(t *testing.T) {
	t.Helper()
	if err := w.c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := w.c.Transport.Refusals(); len(r) > 0 {
		t.Fatalf("refused deliveries: %+v", r)
	}
}

func (w *world) statuses(t *testing.T, tx string) []protocol.Status {
	t.Helper()
	rec, ok := w.c.Hub.Transfer(tx)
	if !ok {
		t.Fatalf("hub has no transfer %s", tx)
	}
	return rec.Statuses()
}

func (w *world) conserved(t *testing.T) {
	t.Helper()
	if bad := CheckCorridor(w.cn.node, w.th.node, w.sg.node); len(bad) > 0 {
		t.Fatalf("corridor conservation: %v", bad)
	}
	for _, s := range []*site{w.cn, w.th, w.sg} {
		s.verify(t)
	}
}

func st(s ...protocol.Status) []protocol.Status { return s }

// TestCrossBorderTransfer: CN → TH through the hub completes (1 → 2 → 8 →
// 4), CN shows the units exported and TH holds them with their original
// serials; a transfer to an unknown account is rejected and the escrow
// voided; one outside every agreement is refused with its code; the units
// come back TH → CN; the corridor conserves every unit throughout.
func TestCrossBorderTransfer(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w := newWorld(t, tg)
		tx := w.send(t, w.cn, w.th, 250, w.th.acc, "x1")
		w.run(t)
		if got := w.statuses(t, tx); !slices.Equal(got, st(1, 2, 8, 4)) {
			t.Fatalf("statuses %v, want 1 2 8 4", got)
		}
		if w.cn.balance(t, ledger.Exported) != 250 || w.cn.balance(t, ledger.Held) != 750 || w.th.balance(t, ledger.Held) != 250 {
			t.Fatalf("CN exported %d held %d, TH held %d", w.cn.balance(t, ledger.Exported), w.cn.balance(t, ledger.Held), w.th.balance(t, ledger.Held))
		}
		info, err := w.th.node.Lookup(context.Background(), registry.Operator, "CN-CCER-CCER-14-2024-001-2024-1-1-250")
		if err != nil || len(info.Blocks) != 1 || info.Blocks[0].State != ledger.Held || info.Blocks[0].AccountID != w.th.acc {
			t.Fatalf("TH lookup: %+v %v", info.Blocks, err)
		}
		w.conserved(t)

		// Rejected by the acquirer: unknown account → 6 → escrow voided → 5.
		tx = w.send(t, w.cn, w.th, 40, 9999, "x2")
		w.run(t)
		rec, _ := w.c.Hub.Transfer(tx)
		if got := rec.Statuses(); !slices.Equal(got, st(1, 2, 6, 5)) {
			t.Fatalf("rejected statuses %v", got)
		}
		if f := rec.History[2].Findings; len(f) != 1 || f[0].Code != ledger.CodeAcquiringNotFound || strings.Contains(f[0].Detail, ledger.CodeAcquiringNotFound) {
			t.Fatalf("rejection findings %+v", f)
		}
		if w.cn.balance(t, ledger.Held) != 750 || w.cn.balance(t, ledger.Reserved) != 0 {
			t.Fatalf("after rejection CN holds %d, reserves %d", w.cn.balance(t, ledger.Held), w.cn.balance(t, ledger.Reserved))
		}

		// Outside every agreement (no CN → SG route): 3 → voided → 5.
		tx = w.send(t, w.cn, w.sg, 10, w.sg.acc, "x3")
		w.run(t)
		rec, _ = w.c.Hub.Transfer(tx)
		if got := rec.Statuses(); !slices.Equal(got, st(1, 3, 5)) {
			t.Fatalf("no-agreement statuses %v", got)
		}
		if f := rec.History[1].Findings; len(f) != 1 || f[0].Code != string(agreements.CodeNoAgreement) {
			t.Fatalf("no-agreement findings %+v", f)
		}
		if w.cn.balance(t, ledger.Held) != 750 || w.sg.balance(t, ledger.Held) != 0 {
			t.Fatal("units moved on a refused transfer")
		}

		// Back home: TH → CN, held again at the origin, not a copy.
		tx = w.send(t, w.th, w.cn, 100, w.cn.acc, "x4")
		w.run(t)
		if got := w.statuses(t, tx); !slices.Equal(got, st(1, 2, 8, 4)) {
			t.Fatalf("TH → CN statuses %v", got)
		}
		if w.cn.balance(t, ledger.Held) != 850 || w.cn.balance(t, ledger.Exported) != 150 || w.th.balance(t, ledger.Held) != 150 {
			t.Fatalf("after return CN held %d exported %d, TH held %d", w.cn.balance(t, ledger.Held), w.cn.balance(t, ledger.Exported), w.th.balance(t, ledger.Held))
		}
		w.conserved(t)
		// The hub's copy: 1-100 back at CN, 101-250 still at TH.
		iss := strconv.FormatInt(w.cn.iss, 10)
		want := []Location{{"CN", iss, 1, 100, "CN"}, {"CN", iss, 101, 250, "TH"}}
		if got := w.c.Hub.Locations(); !slices.Equal(got, want) {
			t.Fatalf("hub locations %+v, want %+v", got, want)
		}
	})
}

// TestHubRestartResumes: the hub crashes after checking a proposal, its
// outgoing messages lost; reopened from its database it re-sends them and
// the transfer completes once, even when messages are then delivered twice.
func TestHubRestartResumes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w := newWorld(t, tg)
		ctx := context.Background()
		tx := w.send(t, w.cn, w.th, 30, w.th.acc, "r1")
		if _, err := w.c.Transport.Run(ctx, 1); err == nil {
			t.Fatal("expected the hub to have messages queued after one delivery")
		}
		if lost := w.c.Transport.Drop(); lost != 2 {
			t.Fatalf("dropped %d messages, want the check result and the notice", lost)
		}
		if err := w.c.OpenHub(ctx); err != nil {
			t.Fatal(err)
		}
		// Deliver the acceptance, then restart again: the hub re-sends what
		// it sent, receivers take the duplicates once.
		if _, err := w.c.Transport.Run(ctx, 3); err == nil {
			t.Fatal("expected more messages")
		}
		if err := w.c.OpenHub(ctx); err != nil {
			t.Fatal(err)
		}
		w.run(t)
		if got := w.statuses(t, tx); !slices.Equal(got, st(1, 2, 8, 4)) {
			t.Fatalf("statuses %v", got)
		}
		if w.cn.balance(t, ledger.Exported) != 30 || w.th.balance(t, ledger.Held) != 30 {
			t.Fatalf("CN exported %d, TH held %d", w.cn.balance(t, ledger.Exported), w.th.balance(t, ledger.Held))
		}
		w.conserved(t)
	})
}

// TestHubChecks: each hub check refuses a proposal with its code (status 3).
func TestHubChecks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w := newWorld(t, tg)
		ctx := context.Background()
		// 100 units of CN are in TH, and 10 more in a pending transfer.
		w.send(t, w.cn, w.th, 100, w.th.acc, "c1")
		w.run(t)
		pendingTx := w.send(t, w.cn, w.th, 10, w.th.acc, "c2")
		if _, err := w.c.Transport.Run(ctx, 1); err == nil {
			t.Fatal("the pending transfer finished")
		}
		iss := strconv.FormatInt(w.cn.iss, 10)
		block := func(start, end int64) protocol.Block {
			return protocol.Block{OriginRegistry: "CN", IssuanceID: iss, UnitType: "CCER", Project: "CCER-14-2024-001", Vintage: 2024, Start: start, End: end}
		}
		good := protocol.Proposal{FromRegistry: "CN", FromAccount: "1", ToRegistry: "TH", ToAccount: "1", UnitType: "CCER", Purpose: "voluntary",
			Quantity: 5, Blocks: []protocol.Block{block(500, 504)}, EscrowID: "1", EscrowExpiry: time.Now().Add(time.Hour)}
		for i, c := range []struct {
			code   string
			sender string
			edit   func(p *protocol.Proposal)
		}{
			{string(agreements.CodeNoAgreement), "CN", func(p *protocol.Proposal) { p.ToRegistry = "SG" }},
			{string(agreements.CodeUnitTypeNotCovered), "CN", func(p *protocol.Proposal) { p.UnitType = "CEA"; p.Blocks[0].UnitType = "CEA" }},
			{string(agreements.CodePurposeNotCovered), "CN", func(p *protocol.Proposal) { p.Purpose = "oimp" }},
			{CodeQuantityMismatch, "CN", func(p *protocol.Proposal) { p.Quantity = 6 }},
			{CodeUnitTypeMismatch, "CN", func(p *protocol.Proposal) {
				p.Blocks = append(p.Blocks, block(600, 600))
				p.Blocks[1].UnitType = "VCU"
				p.Quantity = 6
			}},
			{CodeNotAtSender, "CN", func(p *protocol.Proposal) { p.Blocks[0] = block(50, 54) }},
			{CodeNotAtSender, "TH", func(p *protocol.Proposal) { p.FromRegistry, p.ToRegistry = "TH", "CN" }},
			{CodeBlocksPending, "CN", func(p *protocol.Proposal) { p.Blocks[0] = block(101, 105) }},
			{CodeUnknownAcquirer, "CN", func(p *protocol.Proposal) { p.ToRegistry = "ID" }},
			{CodeSenderMismatch, "SG", func(p *protocol.Proposal) {}},
			{CodeNoBlocks, "CN", func(p *protocol.Proposal) { p.Blocks = nil }},
		} {
			p := good
			p.Blocks = slices.Clone(good.Blocks)
			c.edit(&p)
			tx := fmt.Sprintf("%s:%d", c.sender, 9000+i)
			e := w.c.Endpoints[c.sender]
			compact, err := protocol.Seal(e.Signer, envelope.Header{ID: tx + ":1", From: c.sender, To: HubCode, TransactionID: tx, Sequence: 1, SentAt: time.Now()}, p)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.c.Hub.Receive(ctx, compact); err != nil {
				t.Fatalf("%s: refused at acknowledgement: %v", c.code, err)
			}
			w.c.Transport.Drop()
			rec, _ := w.c.Hub.Transfer(tx)
			if got := rec.Statuses(); !slices.Equal(got, st(1, 3)) {
				t.Fatalf("%s: statuses %v", c.code, got)
			}
			var codes []string
			for _, f := range rec.History[1].Findings {
				codes = append(codes, f.Code)
			}
			if !slices.Contains(codes, c.code) {
				t.Errorf("%s: findings %v", c.code, codes)
			}
		}
		// The unchanged proposal passes every check.
		compact, _ := protocol.Seal(w.c.Endpoints["CN"].Signer, envelope.Header{ID: "CN:8999:1", From: "CN", To: HubCode, TransactionID: "CN:8999", Sequence: 1, SentAt: time.Now()}, good)
		if err := w.c.Hub.Receive(ctx, compact); err != nil {
			t.Fatal(err)
		}
		if got := w.statuses(t, "CN:8999"); !slices.Equal(got, st(1, 2)) {
			t.Fatalf("good proposal: %v", got)
		}
		// The same transaction id again is refused at acknowledgement, and a
		// message signed with another node's key as forged.
		again, _ := protocol.Seal(w.c.Endpoints["CN"].Signer, envelope.Header{ID: "CN:8999:1b", From: "CN", To: HubCode, TransactionID: "CN:8999", Sequence: 1, SentAt: time.Now()}, good)
		if err := w.c.Hub.Receive(ctx, again); envelope.RefusalCode(err) != envelope.CodeOutOfSequence {
			t.Fatalf("second proposal with one transaction id: %v", err)
		}
		forger := w.c.Endpoints["TH"].Signer
		forger.Code = "CN"
		forged, _ := protocol.Seal(forger, envelope.Header{ID: "CN:8998:1", From: "CN", To: HubCode, TransactionID: "CN:8998", Sequence: 1, SentAt: time.Now()}, good)
		if err := w.c.Hub.Receive(ctx, forged); envelope.RefusalCode(err) != envelope.CodeForged {
			t.Fatalf("forged: %v", err)
		}
		_ = pendingTx
	})
}

// TestCheckCorridorFindsCopies: a unit in two registries, or exported and
// nowhere, is a violation.
func TestCheckCorridorFindsCopies(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	if bad := CheckCorridor(w.cn.node, w.th.node, w.sg.node); len(bad) != 0 {
		t.Fatalf("fresh corridor: %v", bad)
	}
	o, _ := w.cn.node.OriginOf(w.cn.iss)
	// TH records serials CN never exported: a second copy.
	w.th.do(t, registry.Actor{OrgID: w.th.hubOrg, Role: registry.RoleHub}, registry.Import{Transfer: "X:1", ToAccount: w.th.acc, Blocks: []registry.ImportBlock{{Origin: o, Start: 900, End: 909}}})
	if bad := CheckCorridor(w.cn.node, w.th.node, w.sg.node); len(bad) != 1 {
		t.Fatalf("copy not found: %v", bad)
	}
	// SG records the same serials: in two other registries at once.
	w.sg.do(t, registry.Actor{OrgID: w.sg.hubOrg, Role: registry.RoleHub}, registry.Import{Transfer: "X:2", ToAccount: w.sg.acc, Blocks: []registry.ImportBlock{{Origin: o, Start: 905, End: 905}}})
	if bad := CheckCorridor(w.cn.node, w.th.node, w.sg.node); len(bad) != 2 {
		t.Fatalf("double copy not found: %v", bad)
	}
	// Without the origin among the nodes, the foreign blocks cannot be checked.
	if bad := CheckCorridor(w.th.node); len(bad) == 0 {
		t.Fatal("a foreign block without its origin passed")
	}
	// CN exports units nobody imports: lost between registries.
	w2 := newWorld(t, storetest.SQLite(t))
	res := w2.cn.do(t, w2.cn.holder, registry.Reserve{From: w2.cn.acc, Units: registry.Units{Quantity: 5, UnitType: "CCER"}, ToRegistry: "TH", ToAccountRef: "1",
		Authority: &registry.Authority{Role: registry.AuthorityHub, OrgID: w2.cn.hubOrg}})
	w2.cn.do(t, registry.Actor{OrgID: w2.cn.hubOrg, Role: registry.RoleHub}, registry.Complete{Pending: res.Pending})
	if bad := CheckCorridor(w2.cn.node, w2.th.node, w2.sg.node); len(bad) != 1 {
		t.Fatalf("lost units not found: %v", bad)
	}
}

// TestHubMemoryBehindDatabase: a hub whose memory is behind its database
// (an insert that committed although it reported an error, here made by a
// second hub on the same database) reads the events back instead of
// colliding on the event sequence for ever, and decides on the state read.
func TestHubMemoryBehindDatabase(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w := newWorld(t, tg)
		ctx := context.Background()
		// Both hubs know the first transfer; the second hub then takes
		// one the first does not, so the stale one catches up from the
		// middle of the log.
		w.send(t, w.cn, w.th, 10, w.th.acc, "m0")
		w.run(t)
		stale := w.c.Hub
		if err := w.c.OpenHub(ctx); err != nil {
			t.Fatal(err)
		}
		first := w.send(t, w.cn, w.th, 30, w.th.acc, "m1")
		w.run(t)
		w.c.Hub = stale
		w.c.Transport.Attach(HubCode, stale)
		second := w.send(t, w.cn, w.th, 20, w.th.acc, "m2")
		w.run(t)
		for _, id := range []string{first, second} {
			tr, ok := stale.Transfer(id)
			if !ok || tr.Status != protocol.StatusCompleted {
				t.Fatalf("transfer %s at the stale hub: %+v (found %v)", id, tr.Statuses(), ok)
			}
		}
		if got := w.th.balance(t, ledger.Held); got != 60 {
			t.Fatalf("TH holds %d, want 60", got)
		}
		// The stale hub caught up by replaying the events the other hub
		// wrote: its memory is what every event in the database adds up
		// to. One event skipped leaves a message it would act on again
		// (its inbox) and one it would never re-send (its outbox), though
		// the transfers' last statuses look right.
		got, want := memoryOf(stale), memoryOf(replayAll(t, stale.cfg.DB))
		if got.Events == 0 || len(got.Seen) < 2*len(got.Transfers) {
			t.Fatalf("the stale hub's memory holds %d events, %d messages, %d transfers", got.Events, len(got.Seen), len(got.Transfers))
		}
		if diff := got.diff(want); len(diff) > 0 {
			t.Fatalf("the stale hub's memory after catching up differs from the database's events replayed: %v", diff)
		}
	})
}

// hubMemory is what a hub's events build in its memory, as text (times
// compared as their JSON form, not with their monotonic clock readings).
type hubMemory struct {
	Events    int64
	Transfers map[string]string
	Seen      map[string]string
	Progress  map[string]uint64
	Out       map[string]string
}

// diff names what differs between m and o.
func (m hubMemory) diff(o hubMemory) []string {
	var out []string
	if m.Events != o.Events {
		out = append(out, fmt.Sprintf("events %d, want %d", m.Events, o.Events))
	}
	for _, part := range []struct {
		name string
		a, b map[string]string
	}{{"transfer", m.Transfers, o.Transfers}, {"inbox", m.Seen, o.Seen}, {"outbox of", m.Out, o.Out}} {
		for k := range part.b {
			if part.a[k] != part.b[k] {
				out = append(out, part.name+" "+k)
			}
		}
		for k := range part.a {
			if _, ok := part.b[k]; !ok {
				out = append(out, part.name+" "+k+" (extra)")
			}
		}
	}
	for k, seq := range o.Progress {
		if m.Progress[k] != seq {
			out = append(out, fmt.Sprintf("progress %s %d, want %d", k, m.Progress[k], seq))
		}
	}
	slices.Sort(out)
	return out
}

func memoryOf(h *Hub) hubMemory {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := hubMemory{Events: h.events, Transfers: map[string]string{}, Seen: map[string]string{}, Progress: map[string]uint64{}, Out: map[string]string{}}
	for id, t := range h.xfers {
		raw, _ := json.Marshal(t)
		m.Transfers[id] = string(raw)
	}
	for k, hash := range h.seen {
		m.Seen[k[0]+" "+k[1]] = fmt.Sprintf("%x", hash)
	}
	for k, seq := range h.progress {
		m.Progress[k[0]+" "+k[1]] = seq
	}
	for id, msgs := range h.out {
		raw, _ := json.Marshal(msgs)
		m.Out[id] = string(raw)
	}
	return m
}

// replayAll applies every event db holds, from the first, to an empty
// hub's memory: the reference a hub that caught up must equal.
func replayAll(t *testing.T, db *store.DB) *Hub {
	t.Helper()
	h := &Hub{xfers: map[string]*Transfer{}, seen: map[[2]string]envelope.Hash{}, progress: map[[2]string]uint64{}, out: map[string][]outMsg{}}
	err := db.Log(store.HubEvents).ReadFrom(context.Background(), 0, func(r store.LogRecord) error {
		var e event
		if err := json.Unmarshal([]byte(r.Body), &e); err != nil {
			return err
		}
		h.events = r.Seq
		h.remember(e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}
