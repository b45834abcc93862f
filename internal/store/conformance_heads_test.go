package store_test

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	"github.com/corridor-carbon/corridor/internal/store"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// testHeads: the node key is stored once (the first of two racing
// candidates wins and both get it), published heads round-trip, a second
// hash at a published seq is refused, and PublishedHeadsOffJournal names
// heads the journal does not reach or differs at; a read-only open reads
// both tables.
func testHeads(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	if _, found, err := db.NodeKey(ctx); found || err != nil {
		t.Fatalf("NodeKey on a new database = %v, %v", found, err)
	}
	if _, found, err := db.LatestPublishedHead(ctx); found || err != nil {
		t.Fatalf("LatestPublishedHead on a new database = %v, %v", found, err)
	}
	cands := []store.NodeKey{
		{KID: "ed25519:aa", Seed: bytes.Repeat([]byte{1}, 32), Public: bytes.Repeat([]byte{2}, 32), CreatedAt: t0},
		{KID: "ed25519:bb", Seed: bytes.Repeat([]byte{3}, 32), Public: bytes.Repeat([]byte{4}, 32), CreatedAt: t0},
	}
	got := make([]store.NodeKey, len(cands))
	var wg sync.WaitGroup
	for i := range cands {
		wg.Go(func() {
			k, err := db.EnsureNodeKey(ctx, cands[i])
			if err != nil {
				t.Error(err)
			}
			got[i] = k
		})
	}
	wg.Wait()
	if got[0].KID != got[1].KID || (got[0].KID != "ed25519:aa" && got[0].KID != "ed25519:bb") {
		t.Fatalf("racing EnsureNodeKey gave %s and %s", got[0].KID, got[1].KID)
	}
	k, found, err := db.NodeKey(ctx)
	if err != nil || !found {
		t.Fatal(found, err)
	}
	want := cands[0]
	if k.KID == "ed25519:bb" {
		want = cands[1]
	}
	equal(t, "NodeKey", k, want)

	mustCommit(t, db, base()) // journal entries 1-3, hashes p1-p3
	h2 := store.PublishedHead{Seq: 2, Hash: "p2", At: t0, KID: k.KID, Signature: "sig2"}
	if r, err := db.RecordHead(ctx, h2); err != nil {
		t.Fatal(err)
	} else {
		equal(t, "RecordHead", r, h2)
	}
	// The same seq again keeps the first row.
	if r, err := db.RecordHead(ctx, store.PublishedHead{Seq: 2, Hash: "p2", At: t0.Add(1), KID: k.KID, Signature: "later"}); err != nil {
		t.Fatal(err)
	} else {
		equal(t, "RecordHead again", r, h2)
	}
	if _, err := db.RecordHead(ctx, store.PublishedHead{Seq: 2, Hash: "other", At: t0, KID: k.KID, Signature: "x"}); !errors.Is(err, store.ErrHeadConflict) {
		t.Fatalf("RecordHead with another hash = %v, want ErrHeadConflict", err)
	}
	if _, err := db.RecordHead(ctx, store.PublishedHead{Seq: 3, Hash: "p3\x00", At: t0, KID: k.KID, Signature: "x"}); !errors.Is(err, store.ErrInvalidText) {
		t.Fatalf("RecordHead with NUL = %v, want ErrInvalidText", err)
	}
	if ms, err := db.PublishedHeadsOffJournal(ctx, 10); err != nil || len(ms) != 0 {
		t.Fatalf("PublishedHeadsOffJournal on a matching journal = %v, %v", ms, err)
	}
	h5 := store.PublishedHead{Seq: 5, Hash: "p5", At: t0, KID: k.KID, Signature: "sig5"}
	if _, err := db.RecordHead(ctx, h5); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().ExecContext(ctx, db.Rebind(`UPDATE journal SET hash = 'changed' WHERE seq = 2`)); err != nil {
		t.Fatal(err)
	}
	ro, err := store.OpenReadOnly(ctx, tg.Cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	ms, err := ro.PublishedHeadsOffJournal(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "PublishedHeadsOffJournal", ms, []store.HeadMismatch{{Head: h2, JournalHash: "changed"}, {Head: h5}})
	if ms, err := ro.PublishedHeadsOffJournal(ctx, 1); err != nil || len(ms) != 1 {
		t.Fatalf("limit 1: %v, %v", ms, err)
	}
	if l, found, err := ro.LatestPublishedHead(ctx); err != nil || !found {
		t.Fatal(found, err)
	} else {
		equal(t, "LatestPublishedHead", l, h5)
	}
	if rk, found, err := ro.NodeKey(ctx); err != nil || !found {
		t.Fatal(found, err)
	} else {
		equal(t, "read-only NodeKey", rk, want)
	}
}
