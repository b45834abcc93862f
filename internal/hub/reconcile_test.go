package hub

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// noGrace reconciles the quiet test corridor with no in-flight window.
var noGrace = ReconcileOptions{Grace: -1}

func (w *world) reconcile(t *testing.T, opt ReconcileOptions) map[string]Reconciliation {
	t.Helper()
	rs, err := w.c.Reconcile(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Reconciliation{}
	for _, r := range rs {
		out[r.Registry] = r
	}
	return out
}

func codes(fs []ReconFinding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}

// reopen restarts site s from its database, as after a crash: a new node,
// and an endpoint with an empty inbox, in the corridor.
func (w *world) reopen(t *testing.T, s *site) {
	t.Helper()
	code := s.node.Code()
	s.node.Close()
	n, err := registry.Open(context.Background(), s.db, registry.Options{Code: code})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	s.node = n
	e := w.c.Endpoints[code]
	e.Node = n
	e.init()
	e.Origins.(NodeOrigins)[code] = n
}

// local is the id at s of origin issuance cn.iss.
func (w *world) local(t *testing.T, s *site) int64 {
	t.Helper()
	id, ok := s.node.LocalIssuance(registry.Origin{Registry: "CN", Issuance: w.cn.iss})
	if !ok {
		t.Fatalf("%s has no record of CN/%d", s.node.Code(), w.cn.iss)
	}
	return id
}

func (s *site) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := s.db.SQL().ExecContext(context.Background(), s.db.Rebind(q), args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestReconcileClean: after transfers out and back, every node agrees with
// the hub's copy (totals and blocks), the heads verify and are recorded,
// and a transfer in flight is left out rather than reported.
func TestReconcileClean(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w := newWorld(t, tg)
		w.send(t, w.cn, w.th, 250, w.th.acc, "x1")
		w.run(t)
		w.send(t, w.th, w.cn, 100, w.cn.acc, "x2")
		w.run(t)
		rs := w.reconcile(t, noGrace)
		for _, code := range []string{"CN", "SG", "TH"} {
			r, ok := rs[code]
			if !ok || !r.Clean() {
				t.Fatalf("%s: %+v", code, r.Findings)
			}
			if r.Head.Registry != code || r.Head.Seq == 0 || r.SnapshotSeq < r.Head.Seq {
				t.Fatalf("%s head %+v snapshot %d", code, r.Head, r.SnapshotSeq)
			}
		}
		o := registry.Origin{Registry: "CN", Issuance: w.cn.iss}
		want := map[string]Totals{"CN": {Origin: o, Node: 150, Hub: 150}, "TH": {Origin: o, Node: 150, Hub: 150}}
		for code, tw := range want {
			ts := rs[code].Totals
			if len(ts) != 1 || ts[0].Origin != tw.Origin || ts[0].Node != tw.Node || ts[0].Hub != tw.Hub {
				t.Fatalf("%s totals %+v, want %+v", code, ts, tw)
			}
		}
		if ts := rs["TH"].Totals; ts[0].ByState[ledger.Held] != 150 || ts[0].ByState[ledger.Exported] != 0 {
			t.Fatalf("TH by state %+v", ts[0].ByState)
		}
		if ps := w.c.Hub.Placements(); len(ps) != 1 || ps[0] != (Placement{Origin: o, Start: 101, End: 250, Registry: "TH"}) {
			t.Fatalf("placements %+v", ps)
		}

		// In flight: CN has exported, TH has not imported yet.
		w.send(t, w.cn, w.th, 10, w.th.acc, "x3")
		for i := 0; i < 20 && w.cn.balance(t, ledger.Exported) != 160; i++ {
			if _, err := w.c.Transport.Run(context.Background(), 1); err != nil && !errors.Is(err, ErrBusy) {
				t.Fatal(err)
			}
		}
		if w.cn.balance(t, ledger.Exported) != 160 || w.th.balance(t, ledger.Held) != 150 {
			t.Fatalf("not in flight: CN exported %d, TH held %d", w.cn.balance(t, ledger.Exported), w.th.balance(t, ledger.Held))
		}
		if rs := w.reconcile(t, ReconcileOptions{}); !rs["CN"].Clean() || !rs["TH"].Clean() {
			t.Fatalf("in flight reported: CN %+v TH %+v", rs["CN"].Findings, rs["TH"].Findings)
		}
		w.run(t)
		if rs := w.reconcile(t, noGrace); !rs["CN"].Clean() || !rs["TH"].Clean() {
			t.Fatalf("after delivery: CN %+v TH %+v", rs["CN"].Findings, rs["TH"].Findings)
		}
		latest, err := w.c.Hub.LatestReconciliations(context.Background())
		if err != nil || len(latest) != 3 || latest[0].Registry != "CN" {
			t.Fatalf("latest %+v %v", latest, err)
		}
		all, _ := w.c.Hub.Reconciliations(context.Background())
		if len(all) != 9 {
			t.Fatalf("%d reconciliations recorded, want 9", len(all))
		}
		w.conserved(t)
	})
}

// TestReconcileLostImport: TH loses the import of a completed transfer
// (its journal cut by SQL below a head it signed, then restarted). The
// reconciliation reports the head regression and the missing serials and
// freezes them at TH; the hub redelivers the completion (the correcting
// transaction), the units arrive frozen and cannot move; once the
// administrator unfreezes, the next reconciliation is clean.
func TestReconcileLostImport(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		w := newWorld(t, tg)
		w.send(t, w.cn, w.th, 100, w.th.acc, "x1")
		w.run(t)
		x := w.local(t, w.th)
		type row struct{ start, end, account int64 }
		var saved []row
		for _, b := range w.th.node.OriginBlocks() {
			if b.Origin.Registry == "CN" {
				saved = append(saved, row{b.Start, b.End, b.AccountID})
			}
		}
		cut := w.th.node.Totals().JournalSeq + 1
		tx := w.send(t, w.cn, w.th, 50, w.th.acc, "x2")
		w.run(t)
		if rs := w.reconcile(t, noGrace); !rs["TH"].Clean() || rs["TH"].Head.Seq < cut {
			t.Fatalf("before the loss: %+v head %d", rs["TH"].Findings, rs["TH"].Head.Seq)
		}
		w.run(t) // the hub's head_seen reaches TH before the loss

		// The loss: entry cut (the import), its blocks as before it.
		w.th.exec(t, `DELETE FROM movements WHERE seq >= ?`, cut)
		w.th.exec(t, `DELETE FROM journal WHERE seq >= ?`, cut)
		w.th.exec(t, `DELETE FROM published_heads WHERE seq >= ?`, cut)
		w.th.exec(t, `DELETE FROM hub_heads WHERE seq >= ?`, cut) // lost with the rest (TestNodeKeepsHubHead)
		w.th.exec(t, `DELETE FROM blocks WHERE issuance_id = ?`, x)
		for _, r := range saved {
			state := ledger.Exported
			if r.account == w.th.acc {
				state = ledger.Held
			}
			w.th.exec(t, `INSERT INTO blocks (issuance_id, start_serial, end_serial, account_id, state, pending) VALUES (?, ?, ?, ?, ?, 0)`, x, r.start, r.end, r.account, string(state))
		}
		w.reopen(t, w.th)
		w.th.verify(t) // a consistent shorter ledger: only the hub can tell

		rs := w.reconcile(t, noGrace)
		if !rs["CN"].Clean() || !rs["SG"].Clean() {
			t.Fatalf("CN %+v SG %+v", rs["CN"].Findings, rs["SG"].Findings)
		}
		th := rs["TH"]
		if got := codes(th.Findings); !slices.Equal(got, []string{CodeReconcileHeadRegressed, CodeReconcileMissing}) {
			t.Fatalf("TH findings %v: %+v", got, th.Findings)
		}
		miss := th.Findings[1]
		if *miss.Origin != (registry.Origin{Registry: "CN", Issuance: w.cn.iss}) || miss.Start != 101 || miss.End != 150 || miss.Freeze == 0 {
			t.Fatalf("missing finding %+v", miss)
		}
		if th.Totals[0].Node != 100 || th.Totals[0].Hub != 150 {
			t.Fatalf("TH totals %+v", th.Totals)
		}
		fs, err := w.th.node.Freezes(registry.Operator)
		if err != nil || len(fs) != 1 || fs[0].Seq != miss.Freeze || fs[0].Code != CodeReconcileMissing || fs[0].Reconciliation != th.ID {
			t.Fatalf("TH freezes %+v %v", fs, err)
		}
		// Found again, not frozen again.
		again := w.reconcile(t, noGrace)["TH"]
		if got := codes(again.Findings); !slices.Equal(got, []string{CodeReconcileMissing}) || again.Findings[0].Freeze != miss.Freeze {
			t.Fatalf("second reconciliation %+v", again.Findings)
		}
		if fs, _ := w.th.node.Freezes(registry.Operator); len(fs) != 1 {
			t.Fatalf("frozen twice: %+v", fs)
		}

		// The correcting transaction: the hub redelivers the completion.
		if err := w.c.Hub.Redeliver(ctx, tx, "TH"); err != nil {
			t.Fatal(err)
		}
		w.run(t)
		if w.th.balance(t, ledger.Held) != 150 {
			t.Fatalf("TH holds %d after redelivery", w.th.balance(t, ledger.Held))
		}
		serial := ledger.Serial{Registry: "CN", UnitType: "CCER", Project: "CCER-14-2024-001", Vintage: 2024, Issuance: w.cn.iss, Start: 120, End: 130}.String()
		other := w.th.do(t, admin, registry.OpenAccount{OrgID: w.th.holder.OrgID, Type: ledger.Holding, Name: "Other"}).ID
		move := registry.Transfer{From: w.th.acc, To: other, Units: registry.Units{Serials: []string{serial}}}
		if _, err := w.th.node.Do(ctx, w.th.holder, "frozen-move", move); codeOf(err) != registry.CodeUnitsFrozen {
			t.Fatalf("moving frozen units: %v", err)
		}
		w.th.do(t, admin, registry.Unfreeze{Freeze: miss.Freeze, Reason: "import of " + tx + " redelivered by the hub"})
		if rs := w.reconcile(t, noGrace); !rs["TH"].Clean() || !rs["CN"].Clean() {
			t.Fatalf("after correction: TH %+v CN %+v", rs["TH"].Findings, rs["CN"].Findings)
		}
		if fs, _ := w.th.node.Freezes(registry.Operator); len(fs) != 0 {
			t.Fatalf("still frozen: %+v", fs)
		}
		w.th.do(t, w.th.holder, move)
		w.th.verify(t)
		w.conserved(t)
	})
}

// TestReconcileExtraAndSwapped: a node holding a block the hub places at
// the origin is found (reconcile_unexpected) and the block frozen; a node
// whose totals are right but whose serials are not (1-100 replaced by
// 101-200) is found too, block by block; a dry run freezes nothing.
func TestReconcileExtraAndSwapped(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w := newWorld(t, tg)
		w.send(t, w.cn, w.th, 100, w.th.acc, "x1")
		w.run(t)
		x := w.local(t, w.th)
		var corridor int64
		for _, b := range w.th.node.OriginBlocks() {
			if b.Origin.Registry == "CN" && b.State == ledger.Exported {
				corridor = b.AccountID
			}
		}
		// Swapped: TH shows 101-200 held and 1-100 exported.
		w.th.exec(t, `DELETE FROM blocks WHERE issuance_id = ?`, x)
		for _, r := range [][4]any{{1, 100, corridor, "exported"}, {101, 200, w.th.acc, "held"}, {201, 1000, corridor, "exported"}} {
			w.th.exec(t, `INSERT INTO blocks (issuance_id, start_serial, end_serial, account_id, state, pending) VALUES (?, ?, ?, ?, ?, 0)`, x, r[0], r[1], r[2], r[3])
		}
		w.reopen(t, w.th)
		th := w.reconcile(t, ReconcileOptions{Grace: -1, NoFreeze: true})["TH"]
		if th.Totals[0].Node != 100 || th.Totals[0].Hub != 100 {
			t.Fatalf("totals %+v", th.Totals)
		}
		if got := codes(th.Findings); !slices.Equal(got, []string{CodeReconcileMissing, CodeReconcileUnexpected}) ||
			th.Findings[0].Start != 1 || th.Findings[0].End != 100 || th.Findings[1].Start != 101 || th.Findings[1].End != 200 {
			t.Fatalf("swapped: %+v", th.Findings)
		}
		if fs, _ := w.th.node.Freezes(registry.Operator); len(fs) != 0 || th.Findings[1].Freeze != 0 {
			t.Fatalf("a dry run froze %+v", fs)
		}

		// Extra: TH also shows 201-1000 held.
		w.th.exec(t, `UPDATE blocks SET state = 'held', account_id = ? WHERE issuance_id = ? AND start_serial = 201`, w.th.acc, x)
		w.reopen(t, w.th)
		th = w.reconcile(t, noGrace)["TH"]
		if got := codes(th.Findings); !slices.Equal(got, []string{CodeReconcileMissing, CodeReconcileUnexpected}) || th.Findings[1].Start != 101 || th.Findings[1].End != 1000 || th.Findings[1].Freeze == 0 {
			t.Fatalf("extra: %+v", th.Findings)
		}
		// The frozen units cannot move; TH's own verify finds the tamper.
		if _, err := w.th.node.Do(context.Background(), w.th.holder, "q", registry.Transfer{From: w.th.acc, To: w.th.hubOrg, Units: registry.Units{Quantity: 1, UnitType: "CCER"}}); err == nil {
			t.Fatal("moved a frozen unit")
		}
		rep, err := registry.Verify(context.Background(), w.th.db)
		if err != nil || rep.OK() {
			t.Fatalf("TH verify passed a tampered ledger: %v", err)
		}
		if !w.reconcile(t, noGrace)["CN"].Clean() {
			t.Fatal("CN reported")
		}
	})
}

// TestReconcileHeadChecks: a head that does not verify with the node's key,
// and a key that changed, are findings.
func TestReconcileHeadChecks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w := newWorld(t, tg)
		w.send(t, w.cn, w.th, 10, w.th.acc, "x1")
		w.run(t)
		w.reconcile(t, noGrace)
		ln := LocalNode{Node: w.th.node, HubOrg: w.th.hubOrg}
		other := LocalNode{Node: w.cn.node, HubOrg: w.cn.hubOrg}
		rs, err := w.c.Hub.Reconcile(context.Background(), []NodeView{forgedKey{ln, other}}, noGrace)
		if err != nil {
			t.Fatal(err)
		}
		if got := codes(rs[0].Findings); !slices.Equal(got, []string{CodeReconcileHeadInvalid, CodeReconcileKeyChanged}) {
			t.Fatalf("findings %v", rs[0].Findings)
		}
	})
}

// forgedKey answers another node's key.
type forgedKey struct {
	LocalNode
	keyOf LocalNode
}

func (f forgedKey) Key(ctx context.Context) (registry.PublicKey, error) { return f.keyOf.Key(ctx) }

func codeOf(err error) string {
	if e, ok := ledger.AsError(err); ok {
		return e.Code
	}
	return ""
}

// TestStartReconciler: the scheduled reconciler records a reconciliation
// of every node each interval and stops with its context.
func TestStartReconciler(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w := newWorld(t, tg)
		w.send(t, w.cn, w.th, 10, w.th.acc, "x1")
		w.run(t)
		ctx, cancel := context.WithCancel(context.Background())
		w.c.StartReconciler(ctx, 10*time.Millisecond)
		var all []Reconciliation
		for i := 0; i < 200 && len(all) < 6; i++ {
			time.Sleep(10 * time.Millisecond)
			var err error
			if all, err = w.c.Hub.Reconciliations(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		cancel()
		if len(all) < 6 {
			t.Fatalf("%d reconciliations recorded in 2 s", len(all))
		}
		for _, r := range all {
			if !r.Clean() {
				t.Fatalf("%s %s: %+v", r.ID, r.Registry, r.Findings)
			}
		}
		time.Sleep(50 * time.Millisecond) // let a run in progress finish
	})
}
