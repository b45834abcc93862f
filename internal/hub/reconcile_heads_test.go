package hub

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestNodeKeepsHubHead: after a reconciliation the hub tells each node the
// head it recorded (head_seen) and the node keeps it; a journal then cut
// below that head, with the node's own published heads deleted too (so
// only the hub's word is left in the node's database), is reported by
// verify. A head_seen naming a head the node did not sign is refused.
func TestNodeKeepsHubHead(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		w := newWorld(t, tg)
		w.send(t, w.cn, w.th, 100, w.th.acc, "x1")
		w.run(t)
		cut := w.th.node.Totals().JournalSeq + 1
		w.send(t, w.cn, w.th, 50, w.th.acc, "x2")
		w.run(t)
		r := w.reconcile(t, noGrace)["TH"]
		if !r.Clean() || r.Head.Seq < cut {
			t.Fatalf("reconciliation: %+v head %d", r.Findings, r.Head.Seq)
		}
		w.run(t) // delivers head_seen
		var n int
		var rec string
		if err := w.th.db.SQL().QueryRowContext(ctx, w.th.db.Rebind(`SELECT COUNT(*), MAX(reconciliation) FROM hub_heads WHERE seq = ? AND hash = ?`), r.Head.Seq, r.Head.Hash).Scan(&n, &rec); err != nil || n != 1 || rec != r.ID {
			t.Fatalf("TH keeps %d hub heads at %d (reconciliation %q): %v", n, r.Head.Seq, rec, err)
		}
		w.th.verify(t)

		// Delivered again, it is kept once.
		if err := w.c.Hub.SendHeadSeen(ctx, "TH", r.ID, r.Head); err != nil {
			t.Fatal(err)
		}
		w.run(t)
		if err := w.th.db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM hub_heads`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("hub heads after a re-send: %d %v", n, err)
		}
		// A head TH did not sign (CN's) is refused and not kept.
		cnHead, err := w.cn.node.PublishHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cnHead.Registry = "TH"
		before := len(w.c.Transport.Refusals())
		if err := w.c.Hub.SendHeadSeen(ctx, "TH", "REC-forged", cnHead); err != nil {
			t.Fatal(err)
		}
		if _, err := w.c.Transport.Run(ctx, 100); err != nil {
			t.Fatal(err)
		}
		if got := w.c.Transport.Refusals(); len(got) != before+1 || !strings.Contains(got[before].Err.Error(), "not signed by this node") {
			t.Fatalf("forged head: refusals %+v", got)
		}
		if err := w.th.db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM hub_heads`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("hub heads after a forged head: %d %v", n, err)
		}

		// The cut: journal, movements and the node's own published heads.
		w.th.exec(t, `DELETE FROM movements WHERE seq >= ?`, cut)
		w.th.exec(t, `DELETE FROM journal WHERE seq >= ?`, cut)
		w.th.exec(t, `DELETE FROM published_heads WHERE seq >= ?`, cut)
		rep, err := registry.Verify(ctx, w.th.db)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, v := range rep.Violations {
			found = found || strings.Contains(v, "the hub recorded head") && strings.Contains(v, r.ID) && strings.Contains(v, "cut short")
		}
		if !found {
			t.Fatalf("verify after the cut: %v", rep.Violations)
		}
	})
}

// TestHeadSeenRetried: a head_seen lost on the way is sent again on the
// hub's Tick (after RetryMin, then with backoff) until the node answers
// head_kept; the answer ends the re-sends; a hub opened again on its
// database owes the latest reconciliation's head_seen again.
func TestHeadSeenRetried(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		var mu sync.Mutex
		clock := time.Now().UTC()
		now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
		advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
		set, err := agreements.Default()
		if err != nil {
			t.Fatal(err)
		}
		w := &world{cn: newSite(t, tg, "CN", 1000), th: newSite(t, tg.Fresh(t), "TH", 0), sg: newSite(t, tg.Fresh(t), "SG", 0)}
		var members []Member
		for _, s := range []*site{w.cn, w.th, w.sg} {
			members = append(members, Member{Node: s.node, HubOrg: s.hubOrg})
		}
		w.c, err = Embedded(ctx, EmbeddedConfig{HubDB: tg.Fresh(t).Open(t), Members: members, Agreements: set, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		w.send(t, w.cn, w.th, 100, w.th.acc, "x1")
		w.run(t)
		heads := func() int {
			var n int
			if err := w.th.db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM hub_heads`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		r := w.reconcile(t, noGrace)["TH"]
		if !r.Clean() || r.Head.Seq == 0 {
			t.Fatalf("reconciliation: %+v", r)
		}
		if dropped := w.c.Transport.Drop(); dropped != 3 {
			t.Fatalf("dropped %d messages, want the 3 head_seen", dropped)
		}
		if n := heads(); n != 0 {
			t.Fatalf("TH keeps %d hub heads before any delivery", n)
		}
		if got := w.c.Hub.PendingHeads(); got["TH"] != r.ID || len(got) != 3 {
			t.Fatalf("pending head_seen %v, want TH at %s", got, r.ID)
		}
		// Not due yet: nothing is sent.
		if err := w.c.Hub.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := w.c.Transport.Run(ctx, 100); err != nil || n != 0 || heads() != 0 {
			t.Fatalf("before RetryMin: %d delivered (%v), %d heads", n, err, heads())
		}
		advance(DefaultRetryMin + time.Millisecond)
		if err := w.c.Hub.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		w.run(t)
		if n := heads(); n != 1 {
			t.Fatalf("TH keeps %d hub heads after the re-send", n)
		}
		if got := w.c.Hub.PendingHeads(); len(got) != 0 {
			t.Fatalf("still pending after the answers: %v", got)
		}
		// Answered: no more re-sends.
		advance(time.Hour)
		if err := w.c.Hub.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := w.c.Transport.Run(ctx, 100); err != nil || n != 0 {
			t.Fatalf("after the answer: %d delivered (%v)", n, err)
		}
		// Opened again, the hub owes the latest head_seen once more.
		h2, err := Open(ctx, w.c.Hub.cfg)
		if err != nil {
			t.Fatal(err)
		}
		w.c.Transport.Drop()
		if got := h2.PendingHeads(); got["TH"] != r.ID {
			t.Fatalf("re-opened hub owes %v", got)
		}
	})
}
