package registry

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// newCall builds a call as Do would queue it, for tests that hand the
// writer a batch of their own making.
func newCall(actor Actor, key string, req Request) *call {
	return &call{actor: actor, key: key, req: req, hash: requestHash(actor, req), ready: make(chan struct{})}
}

// TestDoAfterClose: a transaction submitted after Close is answered with
// ErrClosed; it must never wait forever for a writer that has stopped.
func TestDoAfterClose(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	f.n.Close()
	for i := 0; i < 50; i++ {
		done := make(chan error, 1)
		go func() {
			_, err := f.n.Do(context.Background(), system, fmt.Sprintf("after-close-%d", i), CreateOrganisation{Name: "Late", Country: "CN"})
			done <- err
		}()
		select {
		case err := <-done:
			if err != ErrClosed {
				t.Fatalf("Do after Close: %v, want ErrClosed", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("Do after Close (attempt %d) still waiting after 2s", i)
		}
	}
}

// TestBatchTouchesOneAccountTwice: one group commit may open an account and
// change its status, or change one account's status twice; each call must
// commit (on PostgreSQL a multi-row upsert may not touch one row twice).
func TestBatchTouchesOneAccountTwice(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		f := newFixture(t, tg)
		a4 := f.a3 + 1
		batch := []*call{
			newCall(system, "b1", SetAccountStatus{AccountID: f.a3, Status: ledger.Suspended}),
			newCall(system, "b2", SetAccountStatus{AccountID: f.a3, Status: ledger.Open}),
			newCall(system, "b3", OpenAccount{OrgID: f.org, Type: ledger.Holding, Name: "A4"}),
			newCall(system, "b4", SetAccountStatus{AccountID: a4, Status: ledger.Suspended}),
			newCall(f.holder, "b5", Transfer{From: f.a1, To: f.a2, Units: Units{Quantity: 5, UnitType: "CCER"}}),
		}
		f.n.process(batch)
		for _, c := range batch {
			if c.err != nil {
				t.Fatalf("%s (%s): %v", c.key, c.req.Kind(), c.err)
			}
		}
		f.n.Close()
		n2 := openNode(t, tg)
		for _, want := range []struct {
			id     int64
			status ledger.AccountStatus
		}{{f.a3, ledger.Open}, {a4, ledger.Suspended}} {
			v, err := n2.Account(Operator, want.id)
			if err != nil || v.Status != want.status {
				t.Fatalf("account %d after restart: %+v %v, want %s", want.id, v.Status, err, want.status)
			}
		}
		if held(t, n2, f.a2) != 5 {
			t.Fatal("the transfer in the batch was lost")
		}
		verifyOK(t, n2)
	})
}

// TestRejectionBindsKey: a request refused by a rule is recorded under its
// key in the batch's commit, so the same request again, in the same group
// commit or a later one or after a restart, gets the same refusal (before,
// two identical same-key calls in one batch got 409 then 201), and another
// request under that key is an idempotency conflict.
func TestRejectionBindsKey(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		f := newFixture(t, tg)
		q := func(n int64) Units { return Units{Quantity: n, UnitType: "CCER"} }
		batch := []*call{
			// Too many units, then another request under the same key.
			newCall(f.holder, "K", Transfer{From: f.a1, To: f.a2, Units: q(5000)}),
			newCall(f.holder, "K", Transfer{From: f.a1, To: f.a2, Units: q(10)}),
			// a3 is empty; the same request is refused again although a3
			// has units by then: the key stands for its first decision.
			newCall(f.holder, "L", Transfer{From: f.a3, To: f.a2, Units: q(1)}),
			newCall(f.holder, "M", Transfer{From: f.a1, To: f.a3, Units: q(1)}),
			newCall(f.holder, "L", Transfer{From: f.a3, To: f.a2, Units: q(1)}),
		}
		f.n.process(batch)
		want := []string{"insufficient_units", ledger.CodeIdempotencyConflict, "insufficient_units", "", "insufficient_units"}
		code := func(err error) string {
			if e, ok := ledger.AsError(err); ok {
				return e.Code
			} else if err != nil {
				return err.Error()
			}
			return ""
		}
		for i, c := range batch {
			if got := code(c.err); got != want[i] {
				t.Fatalf("call %d (%s): error %q, want %q", i, c.key, got, want[i])
			}
		}
		if held(t, f.n, f.a2) != 0 || held(t, f.n, f.a3) != 1 {
			t.Fatalf("a2 holds %d, a3 %d; want 0 and 1", held(t, f.n, f.a2), held(t, f.n, f.a3))
		}
		check := func(n *Node, when string) {
			_, err := n.Do(context.Background(), f.holder, "L", Transfer{From: f.a3, To: f.a2, Units: q(1)})
			if got := code(err); got != "insufficient_units" {
				t.Fatalf("%s: replay of L: %q, want the recorded refusal", when, got)
			}
			_, err = n.Do(context.Background(), f.holder, "K", Transfer{From: f.a1, To: f.a2, Units: q(10)})
			if got := code(err); got != ledger.CodeIdempotencyConflict {
				t.Fatalf("%s: other request under K: %q, want %s", when, got, ledger.CodeIdempotencyConflict)
			}
		}
		check(f.n, "later batch")
		f.n.Close()
		n2 := openNode(t, tg)
		check(n2, "after restart")
		if held(t, n2, f.a2) != 0 || held(t, n2, f.a3) != 1 {
			t.Fatalf("after restart a2 holds %d, a3 %d; want 0 and 1", held(t, n2, f.a2), held(t, n2, f.a3))
		}
		verifyOK(t, n2)
	})
}

// TestIssuedTotalStaysInInt64: each issuance is at most ledger.MaxSerial,
// but balances and totals add up issuances; issuing must stop before any of
// those sums leaves int64.
func TestIssuedTotalStaysInInt64(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	const tries = 9300 // 9300 × 10^15 > MaxInt64 ≈ 9223 × 10^15
	var wg sync.WaitGroup
	var rejected atomic.Int64
	sem := make(chan struct{}, 128)
	for i := 0; i < tries; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			_, err := f.n.Do(context.Background(), system, fmt.Sprintf("big-%d", i), Issue{IssuanceFacts: IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "BIG",
				HostCountry: "CN", Vintage: 2024, Quantity: ledger.MaxSerial}, AccountID: f.a2})
			if e, ok := ledger.AsError(err); ok && e.Code == ledger.CodeQuantityInvalid {
				rejected.Add(1)
			} else if err != nil {
				t.Errorf("issue: %v", err)
			}
		}()
	}
	wg.Wait()
	tot := f.n.Totals()
	var sum int64
	for _, s := range ledger.States {
		sum += tot.ByState[s]
	}
	if tot.Issued < 0 || sum != tot.Issued || held(t, f.n, f.a2) < 0 || rejected.Load() == 0 {
		t.Fatalf("issued %d, states sum to %d, a2 holds %d, %d issuances refused", tot.Issued, sum, held(t, f.n, f.a2), rejected.Load())
	}
	verifyOK(t, f.n)
}
