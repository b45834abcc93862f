package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

var errInjected = errors.New("injected fault")

// faultTarget returns tg with a fault hook that fails the next *arm
// commits at point *at.
func faultTarget(tg storetest.Target, at *atomic.Int32, arm *atomic.Int32) storetest.Target {
	tg.Cfg.Fault = func(p store.FaultPoint) error {
		if store.FaultPoint(at.Load()) == p && arm.Add(-1) >= 0 {
			return errInjected
		}
		return nil
	}
	return tg
}

// digest is what must agree between memory and database: the head, every
// balance and every block.
type digest struct {
	head   ledger.Entry
	bal    map[balKey]int64
	blocks []ledger.Block
}

func digestOf(st *state) digest {
	d := digest{head: st.head, bal: pmapToMap(st.bal)}
	for id := int64(1); id <= st.nextID.issuance; id++ {
		if tree := st.blocks.Get(id); tree != nil {
			tree.Ascend(func(b ledger.Block) bool { d.blocks = append(d.blocks, b); return true })
		}
	}
	return d
}

// memoryMatchesDatabase fails unless the node's committed state is what a
// fresh load from its database gives.
func memoryMatchesDatabase(t *testing.T, n *Node) {
	t.Helper()
	fresh, err := n.load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mem, db := digestOf(n.pub.Load()), digestOf(fresh)
	if mem.head.Seq != db.head.Seq || mem.head.Hash != db.head.Hash || !maps.Equal(mem.bal, db.bal) || fmt.Sprint(mem.blocks) != fmt.Sprint(db.blocks) {
		t.Fatalf("memory and database differ:\nmemory   seq %d %v %v\ndatabase seq %d %v %v", mem.head.Seq, mem.bal, mem.blocks, db.head.Seq, db.bal, db.blocks)
	}
}

func errCode(err error) string {
	if e, ok := ledger.AsError(err); ok {
		return e.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// TestCommitFaults injects a failure at each point of COMMIT, once and on
// every commit, on both drivers. The answer must be the truth (committed
// when the units moved, unavailable when they did not, never "not
// committed" for a durable transfer), a resubmission with the same key
// never moves the units twice, and memory equals the database afterwards.
func TestCommitFaults(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		for _, tc := range []struct {
			at   store.FaultPoint
			arm  int32
			want string // the first answer's error code; "" = committed
		}{
			{store.FaultBeforeCommit, 1, ""}, // rolled back, decided again: commits
			{store.FaultDuringCommit, 1, ""}, // rolled back, outcome looked up, decided again
			{store.FaultAfterCommit, 1, ""},  // durable: the lookup finds it, answered committed
			{store.FaultBeforeCommit, 1000, "unavailable"},
			{store.FaultDuringCommit, 1000, "unavailable"},
			{store.FaultAfterCommit, 1000, ""},
		} {
			t.Run(fmt.Sprintf("%s×%d", tc.at, tc.arm), func(t *testing.T) {
				var at, arm atomic.Int32
				tg := tg
				if tg.Name == "postgres" {
					tg = storetest.Postgres(t) // a fresh schema per case
				} else {
					tg = storetest.SQLite(t)
				}
				f := newFixture(t, faultTarget(tg, &at, &arm))
				at.Store(int32(tc.at))
				arm.Store(tc.arm)
				tr := Transfer{From: f.a1, To: f.a2, Units: Units{Quantity: 7, UnitType: "CCER"}}
				res, err := f.n.Do(context.Background(), f.holder, "T", tr)
				if got := errCode(err); got != tc.want {
					t.Fatalf("answer %q (%v), want %q", got, err, tc.want)
				}
				wantHeld := int64(0)
				if tc.want == "" {
					wantHeld = 7
					if res.Quantity != 7 || res.Replayed {
						t.Fatalf("result %+v", res)
					}
				}
				if got := held(t, f.n, f.a2); got != wantHeld {
					t.Fatalf("a2 holds %d after the answer, want %d", got, wantHeld)
				}
				memoryMatchesDatabase(t, f.n)
				// The client retries with the same key once the database is well.
				arm.Store(0)
				res, err = f.n.Do(context.Background(), f.holder, "T", tr)
				if err != nil || res.Quantity != 7 || res.Replayed != (tc.want == "") {
					t.Fatalf("retry with the same key: %+v %v", res, err)
				}
				if got := held(t, f.n, f.a2); got != 7 {
					t.Fatalf("a2 holds %d after the retry, want 7 (applied exactly once)", got)
				}
				memoryMatchesDatabase(t, f.n)
				verifyOK(t, f.n)
			})
		}
	})
}

// TestOutcomeUnknown: COMMIT fails and the journal cannot be read to learn
// whether it took effect (another session holds the write lock). The answer
// is outcome_unknown, the node reports not ready, and once the database is
// reachable the node reloads by itself; a retry with the same key returns
// the committed result and moves nothing twice.
func TestOutcomeUnknown(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		var blocker *sql.Tx
		var blockErr error
		var at, arm atomic.Int32
		ftg := faultTarget(tg, &at, &arm)
		inner := ftg.Cfg.Fault
		ftg.Cfg.Fault = func(p store.FaultPoint) error {
			err := inner(p)
			if err != nil {
				blocker, blockErr = holdWriteLock(tg)
			}
			return err
		}
		f := &fixture{}
		n, err := Open(context.Background(), ftg.Open(t), Options{Code: "CN", CommitTimeout: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Close)
		*f = *setUp(t, n)
		at.Store(int32(store.FaultAfterCommit))
		arm.Store(1)
		tr := Transfer{From: f.a1, To: f.a2, Units: Units{Quantity: 9, UnitType: "CCER"}}
		_, err = n.Do(context.Background(), f.holder, "U", tr)
		if blockErr != nil {
			t.Fatal(blockErr)
		}
		if got := errCode(err); got != CodeOutcomeUnknown {
			t.Fatalf("answer %q (%v), want %s", got, err, CodeOutcomeUnknown)
		}
		if n.Ready() == nil {
			t.Fatal("ready while a commit's outcome is unknown")
		}
		if err := blocker.Rollback(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for n.Ready() != nil {
			if time.Now().After(deadline) {
				t.Fatalf("still not ready 10 s after the database came back: %v", n.Ready())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if got := held(t, n, f.a2); got != 9 {
			t.Fatalf("a2 holds %d after the reload, want 9 (the commit was durable)", got)
		}
		memoryMatchesDatabase(t, n)
		res, err := n.Do(context.Background(), f.holder, "U", tr)
		if err != nil || !res.Replayed || res.Quantity != 9 {
			t.Fatalf("retry with the same key: %+v %v", res, err)
		}
		if got := held(t, n, f.a2); got != 9 {
			t.Fatalf("a2 holds %d after the retry, want 9", got)
		}
		verifyOK(t, n)
	})
}

// holdWriteLock takes the node's write lock from another session, as a
// second writer stuck in its transaction would.
func holdWriteLock(tg storetest.Target) (*sql.Tx, error) {
	db, err := store.Open(context.Background(), store.Config{URL: tg.Cfg.URL, Path: tg.Cfg.Path, Schema: tg.Cfg.Schema})
	if err != nil {
		return nil, err
	}
	tx, err := db.SQL().Begin()
	if err != nil {
		return nil, err
	}
	if db.Dialect() == store.Postgres {
		_, err = tx.Exec(`SELECT pg_advisory_xact_lock(hashtext(current_schema()))`)
	} else {
		_, err = tx.Exec(`INSERT INTO meta (key, value) VALUES ('blocker', '1') ON CONFLICT (key) DO NOTHING`)
	}
	return tx, err
}

// TestPoisonedCallIsolated: one call the database refuses (a trigger
// raises on its journal row, on both drivers) in a group commit of 201
// calls; the other 200 commit and the poisoned one alone is answered
// unavailable, its key left free.
func TestPoisonedCallIsolated(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		f := newFixture(t, tg)
		poison := `CREATE TRIGGER poison BEFORE INSERT ON journal WHEN NEW.idem_key = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`
		if f.n.db.Dialect() == store.Postgres {
			poison = `CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN IF NEW.idem_key = 'poison' THEN RAISE EXCEPTION 'poisoned row'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;
				CREATE TRIGGER poison BEFORE INSERT ON journal FOR EACH ROW EXECUTE FUNCTION poison()`
		}
		if _, err := f.n.db.SQL().Exec(poison); err != nil {
			t.Fatal(err)
		}
		var batch []*call
		for i := 0; i < 200; i++ {
			if i == 137 {
				batch = append(batch, newCall(f.holder, "poison", Transfer{From: f.a1, To: f.a3, Units: Units{Quantity: 1, UnitType: "CCER"}}))
			}
			batch = append(batch, newCall(f.holder, fmt.Sprintf("v%d", i), Transfer{From: f.a1, To: f.a2, Units: Units{Quantity: 1, UnitType: "CCER"}}))
		}
		f.n.process(batch)
		ok := 0
		for _, c := range batch {
			switch {
			case c.key == "poison":
				if errCode(c.err) != "unavailable" {
					t.Fatalf("poisoned call: %v, want unavailable", c.err)
				}
			case c.err != nil:
				t.Errorf("%s: %v", c.key, c.err)
			default:
				ok++
			}
		}
		if ok != 200 || held(t, f.n, f.a2) != 200 || held(t, f.n, f.a3) != 0 {
			t.Fatalf("%d of 200 committed; a2 holds %d, a3 %d", ok, held(t, f.n, f.a2), held(t, f.n, f.a3))
		}
		memoryMatchesDatabase(t, f.n)
		verifyOK(t, f.n)
	})
}

// TestPipelineFailedCommitRedecidesNext: batch k+1 is decided in memory on
// top of batch k while k commits. When k's commit fails, k+1's effects must
// be dropped and k+1 decided again on the committed state: here k moves
// every unit from a1 to a2 and fails; k+1 moves them on from a2 to a3,
// which must be refused (a2 holds nothing), not committed on top of a
// transfer that never happened.
func TestPipelineFailedCommitRedecidesNext(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		var failing atomic.Int32
		entered := make(chan struct{})
		release := make(chan struct{})
		var first atomic.Bool
		tg.Cfg.Fault = func(p store.FaultPoint) error {
			if p != store.FaultBeforeCommit || failing.Load() <= 0 {
				return nil
			}
			if first.CompareAndSwap(false, true) {
				close(entered)
				<-release
			}
			failing.Add(-1)
			return errInjected
		}
		f := newFixture(t, tg)
		failing.Store(3) // k's pipelined commit and both of its slow-path attempts
		ctx := context.Background()
		errA := make(chan error, 1)
		errB := make(chan error, 1)
		go func() {
			_, err := f.n.Do(ctx, f.holder, "A", Transfer{From: f.a1, To: f.a2, Units: Units{Quantity: 1000, UnitType: "CCER"}})
			errA <- err
		}()
		<-entered // k is committing
		var released atomic.Bool
		free := func() {
			if released.CompareAndSwap(false, true) {
				close(release)
			}
		}
		t.Cleanup(free)
		go func() {
			_, err := f.n.Do(ctx, f.holder, "B", Transfer{From: f.a2, To: f.a3, Units: Units{Quantity: 1000, UnitType: "CCER"}})
			errB <- err
		}()
		// Enough further calls (refused: a3 is empty) that the decider
		// applies what has arrived while k commits: it applies once
		// applyChunk calls are pending, so B, if it arrived after a chunk
		// was applied, waits for the next chunk of fillers.
		fillers := 0
		fill := func() {
			for range applyChunk {
				i := fillers
				fillers++
				go func() {
					_, _ = f.n.Do(ctx, f.holder, fmt.Sprintf("filler-%d", i), Transfer{From: f.a3, To: f.a1, Units: Units{Quantity: 1, UnitType: "CCER"}})
				}()
			}
		}
		fill()
		deadline := time.Now().Add(5 * time.Second)
		for next := time.Now().Add(100 * time.Millisecond); !f.n.inflight.any([]*call{{key: "B"}}); {
			if time.Now().After(deadline) {
				free()
				t.Fatal("batch k+1 was never decided ahead")
			}
			if time.Now().After(next) && fillers < maxBatch/2 {
				fill()
				next = time.Now().Add(100 * time.Millisecond)
			}
			time.Sleep(5 * time.Millisecond)
		}
		free()
		if got := errCode(<-errA); got != "unavailable" {
			t.Fatalf("k: %q, want unavailable (its commit failed every time)", got)
		}
		if got := errCode(<-errB); got != ledger.CodeInsufficientUnits {
			t.Fatalf("k+1: %q, want %s (decided again on the committed state)", got, ledger.CodeInsufficientUnits)
		}
		if held(t, f.n, f.a1) != 1000 || held(t, f.n, f.a2) != 0 || held(t, f.n, f.a3) != 0 {
			t.Fatalf("a1 %d a2 %d a3 %d, want 1000 0 0", held(t, f.n, f.a1), held(t, f.n, f.a2), held(t, f.n, f.a3))
		}
		memoryMatchesDatabase(t, f.n)
		verifyOK(t, f.n)
	})
}
