package store_test

import (
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestWebSessions: a stored session reads back until it expires, on a
// second open of the same database too (a restart); deleting it ends it;
// a sweep deletes only expired rows; a hash that is not text finds nothing.
func TestWebSessions(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		db := tg.Open(t)
		now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		live := store.WebSession{IDHash: "aa11", OrgID: 7, Role: ledger.RoleAdmin, CreatedAt: now, Expires: now.Add(8 * time.Hour)}
		old := store.WebSession{IDHash: "bb22", OrgID: 8, Role: ledger.RoleHolder, CreatedAt: now.Add(-9 * time.Hour), Expires: now.Add(-time.Hour)}
		for _, s := range []store.WebSession{live, old} {
			if err := db.SaveWebSession(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		again := tg.Open(t) // another pool on the same database, as after a restart
		got, found, err := again.WebSessionAt(ctx, "aa11", now)
		if err != nil || !found || got.OrgID != 7 || got.Role != ledger.RoleAdmin || !got.Expires.Equal(live.Expires) {
			t.Fatalf("live session after reopening: %+v %v %v", got, found, err)
		}
		if _, found, _ := again.WebSessionAt(ctx, "aa11", live.Expires); found {
			t.Fatal("a session is still found at its expiry")
		}
		if _, found, _ := again.WebSessionAt(ctx, "bb22", now); found {
			t.Fatal("an expired session was found")
		}
		if _, found, err := again.WebSessionAt(ctx, "a\xffb", now); found || err != nil {
			t.Fatalf("a hash that is not text: %v %v", found, err)
		}
		if n, err := db.SweepWebSessions(ctx, now); err != nil || n != 1 {
			t.Fatalf("sweep: %d %v, want 1 (the expired row only)", n, err)
		}
		if _, found, _ := db.WebSessionAt(ctx, "aa11", now); !found {
			t.Fatal("the sweep deleted a live session")
		}
		if err := db.DeleteWebSession(ctx, "aa11"); err != nil {
			t.Fatal(err)
		}
		if _, found, _ := again.WebSessionAt(ctx, "aa11", now); found {
			t.Fatal("a deleted session is still found")
		}
		if n, err := db.SweepWebSessions(ctx, now.Add(24*time.Hour)); err != nil || n != 0 {
			t.Fatalf("sweep of an empty table: %d %v", n, err)
		}
	})
}
