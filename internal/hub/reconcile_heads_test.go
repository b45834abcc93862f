package hub

import (
	"context"
	"strings"
	"testing"

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
