package hub

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// fakeClock is a settable clock for the embedded corridor's timers.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func clockWorld(t *testing.T, tg storetest.Target) (*world, *fakeClock) {
	t.Helper()
	set, err := agreements.Default()
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{t: time.Now().UTC()}
	w := &world{cn: newSite(t, tg, "CN", 1000), th: newSite(t, tg.Fresh(t), "TH", 0), sg: newSite(t, tg.Fresh(t), "SG", 0)}
	var members []Member
	for _, s := range []*site{w.cn, w.th, w.sg} {
		members = append(members, Member{Node: s.node, HubOrg: s.hubOrg})
	}
	w.c, err = Embedded(context.Background(), EmbeddedConfig{HubDB: tg.Fresh(t).Open(t), Members: members, Agreements: set, Now: clk.Now,
		RetryMin: time.Second, RetryMax: 10 * time.Second, AnswerTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return w, clk
}

func deliver(t *testing.T, w *world, n int) {
	t.Helper()
	if _, err := w.c.Transport.Run(context.Background(), n); err != nil && !errors.Is(err, ErrBusy) {
		t.Fatal(err)
	}
}

// TestStatusPollRecoversLostAnswer: the hub's notice at 8 to the sender is
// lost; the hub does not push it again (the sender drives that exchange),
// the sender's status_request poll gets it back and the transfer completes.
func TestStatusPollRecoversLostAnswer(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w, clk := clockWorld(t, tg)
		ctx := context.Background()
		tx := w.send(t, w.cn, w.th, 30, w.th.acc, "p1")
		deliver(t, w, 1) // proposal → check result to CN, notice 2 to TH
		deliver(t, w, 2) // CN hears 2; TH accepts
		deliver(t, w, 1) // acceptance → 8, notice 8 to CN queued
		if got := w.statuses(t, tx); !slices.Equal(got, st(1, 2, 8)) {
			t.Fatalf("statuses %v, want 1 2 8", got)
		}
		if lost := w.c.Transport.Drop(); lost != 1 {
			t.Fatalf("dropped %d, want the notice at 8", lost)
		}
		w.run(t)
		if w.cn.balance(t, ledger.Reserved) != 30 {
			t.Fatal("the sender settled without the notice")
		}
		polls := w.c.Hub.polls
		clk.Add(3 * time.Second)
		if err := w.c.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		w.run(t)
		if w.c.Hub.polls == polls {
			t.Fatal("the sender did not poll")
		}
		rec, _ := w.c.Hub.Transfer(tx)
		if got := rec.Statuses(); !slices.Equal(got, st(1, 2, 8, 4)) || !rec.ImportAcknowledged {
			t.Fatalf("after the poll: statuses %v, acknowledged %v", got, rec.ImportAcknowledged)
		}
		if w.cn.balance(t, ledger.Exported) != 30 || w.th.balance(t, ledger.Held) != 30 {
			t.Fatalf("CN exported %d, TH held %d", w.cn.balance(t, ledger.Exported), w.th.balance(t, ledger.Held))
		}
		w.conserved(t)
	})
}

// TestRelayAfterCrashBeforeSend: the sender's process dies right after the
// reserve committed, its proposal never sent; a new endpoint on the same
// node derives the proposal from the journal and the transfer completes.
func TestRelayAfterCrashBeforeSend(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w, _ := clockWorld(t, tg)
		ctx := context.Background()
		tx := w.send(t, w.cn, w.th, 40, w.th.acc, "c1")
		if lost := w.c.Transport.Drop(); lost != 1 {
			t.Fatalf("dropped %d, want the proposal", lost)
		}
		old := w.c.Endpoints["CN"]
		fresh := &Endpoint{EndpointConfig: old.EndpointConfig}
		fresh.init()
		w.c.Endpoints["CN"] = fresh
		w.c.Transport.Attach("CN", fresh)
		if err := w.c.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		w.run(t)
		if got := w.statuses(t, tx); !slices.Equal(got, st(1, 2, 8, 4)) {
			t.Fatalf("statuses %v, want 1 2 8 4", got)
		}
		if w.th.balance(t, ledger.Held) != 40 {
			t.Fatalf("TH holds %d", w.th.balance(t, ledger.Held))
		}
		w.conserved(t)
	})
}

// TestImportIntoClosedAccount: the acquiring account is closed after the
// acquirer accepted (8) and before the completion arrives (4). The units
// have left the sender, so the import goes to the acquiring registry's
// suspense account (held there for the administrator), is acknowledged,
// and every unit stays in exactly one registry.
func TestImportIntoClosedAccount(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w, _ := clockWorld(t, tg)
		suspense := w.th.do(t, admin, registry.OpenAccount{OrgID: w.th.do(t, admin, registry.CreateOrganisation{Name: "TH administrator", Country: "TH"}).ID,
			Type: ledger.NationalHolding, Name: "Corridor imports held for the administrator"}).ID
		w.c.Endpoints["TH"].Suspense = suspense
		tx := w.send(t, w.cn, w.th, 25, w.th.acc, "z1")
		deliver(t, w, 1) // proposal
		deliver(t, w, 2) // check result to CN, notice 2 to TH → acceptance
		deliver(t, w, 1) // acceptance → 8
		deliver(t, w, 1) // CN completes → completion
		w.th.do(t, admin, registry.SetAccountStatus{AccountID: w.th.acc, Status: ledger.Closed})
		w.run(t)
		rec, _ := w.c.Hub.Transfer(tx)
		if got := rec.Statuses(); !slices.Equal(got, st(1, 2, 8, 4)) || !rec.ImportAcknowledged {
			t.Fatalf("statuses %v, acknowledged %v", got, rec.ImportAcknowledged)
		}
		v, err := w.th.node.Account(registry.Operator, suspense)
		if err != nil {
			t.Fatal(err)
		}
		var held int64
		for _, b := range v.Balances {
			if b.State == ledger.Held {
				held += b.Quantity
			}
		}
		if held != 25 {
			t.Fatalf("suspense account holds %d, want 25", held)
		}
		w.conserved(t)
	})
}

// TestRedeliveryAfterAcquirerRestart: the acquirer imports at 4 but its
// acknowledgement is lost and it restarts (its in-memory inbox gone); the
// hub re-sends the notice at 4, the new endpoint acts on it again through
// the same idempotency key, so the import happens once and is
// acknowledged.
func TestRedeliveryAfterAcquirerRestart(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w, clk := clockWorld(t, tg)
		ctx := context.Background()
		tx := w.send(t, w.cn, w.th, 30, w.th.acc, "a1")
		deliver(t, w, 1) // proposal
		deliver(t, w, 2) // check result to CN, notice 2 to TH → acceptance
		deliver(t, w, 1) // acceptance → 8
		deliver(t, w, 1) // CN completes → completion
		deliver(t, w, 1) // completion → 4: notice 4 to TH, final notice to CN
		deliver(t, w, 1) // TH imports, queues its import_ack
		if lost := w.c.Transport.Drop(); lost != 2 {
			t.Fatalf("dropped %d, want the final notice to CN and TH's import_ack", lost)
		}
		if w.th.balance(t, ledger.Held) != 30 {
			t.Fatalf("TH holds %d before the restart", w.th.balance(t, ledger.Held))
		}
		old := w.c.Endpoints["TH"]
		fresh := &Endpoint{EndpointConfig: old.EndpointConfig}
		fresh.init()
		w.c.Endpoints["TH"] = fresh
		w.c.Transport.Attach("TH", fresh)
		for range 3 {
			clk.Add(3 * time.Second)
			if err := w.c.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			w.run(t)
		}
		rec, _ := w.c.Hub.Transfer(tx)
		if !rec.ImportAcknowledged {
			t.Fatal("the import was not acknowledged after the re-delivery")
		}
		if w.th.balance(t, ledger.Held) != 30 {
			t.Fatalf("TH holds %d, want 30 (one import)", w.th.balance(t, ledger.Held))
		}
		js, err := w.th.node.Journal(ctx, admin, registry.JournalFilter{Kind: "import", Limit: 10})
		if err != nil || len(js) != 1 {
			t.Fatalf("TH journal has %d imports (%v), want 1", len(js), err)
		}
		w.conserved(t)
	})
}
