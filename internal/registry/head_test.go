package registry

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// cutFixture is a node whose last journal entry (a transfer) was published
// as its head, then cut off with its effects behind the registry's back.
type cutFixture struct {
	db   *store.DB
	head ledger.SignedHead
	key  PublicKey
}

// cutLastEntry builds a ledger, publishes its head at its last entry (a
// transfer), closes the node and removes that entry, its movements and its
// block changes, leaving a consistent ledger one transaction shorter.
func cutLastEntry(t *testing.T, tg storetest.Target) cutFixture {
	t.Helper()
	ctx := context.Background()
	f := newFixture(t, tg)
	f.must(t, f.holder, Transfer{From: f.a1, To: f.a2, Units: Units{Quantity: 300, UnitType: "CCER"}})
	db := f.n.db
	type row struct {
		iss, start, end, acc int64
		state                string
		pending              int64
	}
	saved := func() []row {
		rows, err := db.SQL().QueryContext(ctx, `SELECT issuance_id, start_serial, end_serial, account_id, state, pending FROM blocks`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.iss, &r.start, &r.end, &r.acc, &r.state, &r.pending); err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		return out
	}()
	f.must(t, f.holder, Transfer{From: f.a2, To: f.a3, Units: Units{Quantity: 50, UnitType: "CCER"}})
	h, err := f.n.PublishHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last, err := db.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h.Seq != last.Seq || h.Hash != last.Hash {
		t.Fatalf("published head %d:%s, journal head %d:%s", h.Seq, h.Hash, last.Seq, last.Hash)
	}
	key := f.n.PublicKey()
	verifyOK(t, f.n)
	f.n.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.SQL().ExecContext(ctx, db.Rebind(q), args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`DELETE FROM movements WHERE seq = ?`, last.Seq)
	exec(`DELETE FROM journal WHERE seq = ?`, last.Seq)
	exec(`DELETE FROM blocks`)
	for _, r := range saved {
		exec(`INSERT INTO blocks (issuance_id, start_serial, end_serial, account_id, state, pending) VALUES (?, ?, ?, ?, ?, ?)`, r.iss, r.start, r.end, r.acc, r.state, r.pending)
	}
	return cutFixture{db: db, head: h, key: key}
}

func verifyViolations(t *testing.T, db *store.DB) []string {
	t.Helper()
	rep, err := Verify(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return rep.Violations
}

// TestVerifyFindsCutJournal cuts the last entry off a journal whose head was
// published: verify names the published head; with the published heads
// deleted too, only the head kept outside (CheckHeads, verify --head)
// catches it.
func TestVerifyFindsCutJournal(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		c := cutLastEntry(t, tg)
		ref := ledger.HeadRef{Seq: c.head.Seq, Hash: c.head.Hash}

		v := verifyViolations(t, c.db)
		if len(v) != 1 || !strings.Contains(v[0], "published head "+ref.String()) || !strings.Contains(v[0], "cut short") {
			t.Fatalf("verify of the cut journal: %q, want one violation naming published head %s", v, ref)
		}
		got, err := CheckHeads(ctx, c.db, []ledger.HeadRef{ref})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || !strings.Contains(got[0], "does not reach head "+ref.String()) {
			t.Fatalf("CheckHeads = %q, want one naming %s", got, ref)
		}

		// The attacker also deletes the published heads: the database is
		// consistent again, and only the kept head shows the cut.
		if _, err := c.db.SQL().ExecContext(ctx, `DELETE FROM published_heads`); err != nil {
			t.Fatal(err)
		}
		if v := verifyViolations(t, c.db); len(v) != 0 {
			t.Fatalf("after deleting the published heads verify reports %q; the cut should now be invisible without --head", v)
		}
		got, err = CheckHeads(ctx, c.db, []ledger.HeadRef{ref})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || !strings.Contains(got[0], ref.String()) {
			t.Fatalf("CheckHeads after deleting published heads = %q, want one naming %s", got, ref)
		}
		// A head the journal does reach passes.
		prev, ok, err := c.db.Entry(ctx, ref.Seq-1)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		if got, err := CheckHeads(ctx, c.db, []ledger.HeadRef{{Seq: prev.Seq, Hash: prev.Hash}}); err != nil || len(got) != 0 {
			t.Fatalf("CheckHeads at a reached head = %q, %v", got, err)
		}
		// The head is genuine: the kept head verifies with the node's key.
		pub, err := c.key.Ed25519()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.head.Verify(pub); err != nil {
			t.Fatal(err)
		}
	})
}

// TestVerifyFindsRewrittenHead: an entry at a published seq with another
// hash (entries cut and others written in their place) is named.
func TestVerifyFindsRewrittenHead(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		f := newFixture(t, tg)
		h, err := f.n.PublishHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		verifyOK(t, f.n)
		f.n.Close()
		other := strings.Repeat("ab", 32)
		got, err := CheckHeads(ctx, f.n.db, []ledger.HeadRef{{Seq: h.Seq, Hash: other}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || !strings.Contains(got[0], "rewritten") {
			t.Fatalf("CheckHeads with another hash = %q", got)
		}
		if _, err := f.n.db.SQL().ExecContext(ctx, f.n.db.Rebind(`UPDATE published_heads SET hash = ? WHERE seq = ?`), other, h.Seq); err != nil {
			t.Fatal(err)
		}
		v := verifyViolations(t, f.n.db)
		if len(v) != 1 || !strings.Contains(v[0], "rewritten") || !strings.Contains(v[0], other) {
			t.Fatalf("verify = %q, want the rewritten head named", v)
		}
	})
}

// TestPublishHead: the head is recorded before it is handed out, once per
// new seq and at most once per interval; the key survives a reopen; a
// node reopened on a cut journal refuses to sign a head below the one it
// published.
func TestPublishHead(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		f := newFixture(t, tg)
		db := f.n.db
		count := func() int {
			t.Helper()
			var n int
			if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM published_heads`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		clock := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		f.n.heads.now = func() time.Time { return clock }
		h1, err := f.n.PublishHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		latest, found, err := db.LatestPublishedHead(ctx)
		if err != nil || !found || latest.Seq != h1.Seq || latest.Signature != h1.Signature {
			t.Fatalf("recorded %+v (%v, %v), handed out %+v", latest, found, err, h1)
		}
		for range 50 {
			if h, err := f.n.PublishHead(ctx); err != nil || h != h1 {
				t.Fatalf("repeat = %+v, %v; want %+v", h, err, h1)
			}
		}
		f.must(t, f.holder, Transfer{From: f.a1, To: f.a2, Units: Units{Quantity: 1, UnitType: "CCER"}})
		// Within the interval the last head is handed out again.
		clock = clock.Add(defaultHeadInterval / 2)
		if h, err := f.n.PublishHead(ctx); err != nil || h != h1 {
			t.Fatalf("within the interval = %+v, %v; want %+v", h, err, h1)
		}
		if n := count(); n != 1 {
			t.Fatalf("%d rows after one publication", n)
		}
		clock = clock.Add(defaultHeadInterval)
		h2, err := f.n.PublishHead(ctx)
		if err != nil || h2.Seq != h1.Seq+1 {
			t.Fatalf("after the interval = %+v, %v; want seq %d", h2, err, h1.Seq+1)
		}
		clock = clock.Add(10 * defaultHeadInterval)
		if h, err := f.n.PublishHead(ctx); err != nil || h != h2 {
			t.Fatalf("same seq later = %+v, %v; want %+v", h, err, h2)
		}
		if n := count(); n != 2 {
			t.Fatalf("%d rows after two publications", n)
		}
		pub, err := f.n.PublicKey().Ed25519()
		if err != nil {
			t.Fatal(err)
		}
		if err := h2.Verify(pub); err != nil {
			t.Fatal(err)
		}
		kid := f.n.PublicKey().KID
		f.n.Close()

		// Cut the last entry (a 1-unit transfer's movement and journal row;
		// its block effects do not matter here) and reopen.
		for _, q := range []string{`DELETE FROM movements WHERE seq = ?`, `DELETE FROM journal WHERE seq = ?`} {
			if _, err := db.SQL().ExecContext(ctx, db.Rebind(q), h2.Seq); err != nil {
				t.Fatal(err)
			}
		}
		n2, err := Open(ctx, db, Options{Code: "CN"})
		if err != nil {
			t.Fatal(err)
		}
		defer n2.Close()
		if got := n2.PublicKey().KID; got != kid {
			t.Fatalf("kid after reopen %s, was %s", got, kid)
		}
		if h, err := n2.PublishHead(ctx); !errors.Is(err, ErrJournalBelowHead) {
			t.Fatalf("PublishHead over a cut journal = %+v, %v; want ErrJournalBelowHead", h, err)
		}
	})
}
