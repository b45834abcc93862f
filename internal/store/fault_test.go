package store_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

var errInjected = errors.New("injected fault")

func testEntry(seq int64, key string) ledger.Entry {
	return ledger.Entry{Seq: seq, At: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), Kind: "test", Actor: "admin",
		IdemKey: key, RequestHash: "rh", Body: "{}", PrevHash: ledger.GenesisHash, Hash: "h1"}
}

// writePath is one way to write a batch on the journal's head: BeginWrite
// and WriteTx.Commit, or CommitOn.
type writePath func(ctx context.Context, db *store.DB, b *store.Batch) error

var writePaths = []struct {
	name string
	fn   writePath
}{
	{"WriteTx", func(ctx context.Context, db *store.DB, b *store.Batch) error {
		w, _, err := db.BeginWrite(ctx)
		if err != nil {
			return err
		}
		defer w.Rollback()
		return w.Commit(ctx, b)
	}},
	{"CommitOn", func(ctx context.Context, db *store.DB, b *store.Batch) error {
		h, err := db.Head(ctx)
		if err != nil {
			return err
		}
		return db.CommitOn(ctx, h, b)
	}},
}

// forEachPath runs fn in parallel on each driver with each write path.
func forEachPath(t *testing.T, fn func(t *testing.T, tg storetest.Target, w writePath)) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		t.Parallel()
		for _, p := range writePaths {
			t.Run(p.name, func(t *testing.T) {
				t.Parallel()
				fn(t, tg.Fresh(t), p.fn)
			})
		}
	})
}

// TestCommitFaults injects a failure at each point of Commit and CommitOn
// and checks both the error the caller sees and what the database holds
// afterwards.
func TestCommitFaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		point     store.FaultPoint
		unknown   bool // errors.Is(err, ErrOutcomeUnknown)
		committed bool // the entry is in the journal afterwards
	}{
		{store.FaultBeforeCommit, false, false},
		{store.FaultDuringCommit, true, false},
		{store.FaultAfterCommit, true, true},
	}
	forEachPath(t, func(t *testing.T, tg storetest.Target, writePath writePath) {
		for _, tc := range cases {
			t.Run(tc.point.String(), func(t *testing.T) {
				t.Parallel()
				tg := tg.Fresh(t)
				calls := map[store.FaultPoint]int{}
				tg.Cfg.Fault = func(p store.FaultPoint) error {
					calls[p]++
					if p == tc.point && calls[p] == 1 {
						return errInjected
					}
					return nil
				}
				db := tg.Open(t)
				ctx := context.Background()
				err := writePath(ctx, db, &store.Batch{Entries: []ledger.Entry{testEntry(1, "k1")}})
				if !errors.Is(err, errInjected) || tc.point == store.FaultBeforeCommit && err != errInjected {
					t.Fatalf("Commit = %v, want the injected error (as is before COMMIT)", err)
				}
				if got := errors.Is(err, store.ErrOutcomeUnknown); got != tc.unknown {
					t.Errorf("errors.Is(%v, ErrOutcomeUnknown) = %v, want %v", err, got, tc.unknown)
				}
				for p := store.FaultBeforeCommit; p <= store.FaultAfterCommit; p++ {
					if want := map[bool]int{true: 1}[p <= tc.point]; calls[p] != want {
						t.Errorf("hook called %d times at %v, want %d", calls[p], p, want)
					}
				}
				head, err := db.Head(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if got := head.Seq == 1; got != tc.committed {
					t.Errorf("entry committed = %v, want %v", got, tc.committed)
				}
				// The node can go on writing: the lock was released.
				next := head.Seq + 1
				if err := writePath(ctx, db, &store.Batch{Entries: []ledger.Entry{testEntry(next, "k2")}}); err != nil {
					t.Fatalf("second commit: %v", err)
				}
				if head, err := db.Head(ctx); err != nil || head.Seq != next {
					t.Fatalf("head after second commit = %d, %v; want %d", head.Seq, err, next)
				}
			})
		}
	})
}

// TestCommitConnectionLost kills the PostgreSQL session just before COMMIT
// is sent: the driver sees a broken connection, not a refusal, and must
// answer ErrOutcomeUnknown (here the commit did not happen; from the
// client's side it cannot tell).
func TestCommitConnectionLost(t *testing.T) {
	t.Parallel()
	tg := storetest.Postgres(t)
	admin, err := sql.Open("pgx", tg.Cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx := context.Background()
	var pid int
	tg.Cfg.Fault = func(p store.FaultPoint) error {
		if p == store.FaultBeforeCommit {
			var ok bool
			if err := admin.QueryRowContext(ctx, `SELECT pg_terminate_backend($1, 5000)`, pid).Scan(&ok); err != nil || !ok {
				t.Errorf("terminate backend %d: %v %v", pid, ok, err)
			}
		}
		return nil
	}
	db := tg.Open(t)
	w, _, err := db.BeginWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pid, err = store.BackendPID(ctx, w); err != nil {
		t.Fatal(err)
	}
	err = w.Commit(ctx, &store.Batch{Entries: []ledger.Entry{testEntry(1, "k1")}})
	w.Rollback()
	if !errors.Is(err, store.ErrOutcomeUnknown) {
		t.Fatalf("Commit on a terminated session = %v, want ErrOutcomeUnknown", err)
	}
	head, err := db.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if head.Seq != 0 {
		t.Errorf("journal head %d after a session killed before COMMIT, want empty", head.Seq)
	}
}

// TestCommitRefusedAtCommit: a COMMIT the PostgreSQL server refuses with an
// ERROR (deferred constraints, added here for the test) rolled back: known
// not committed, ErrStale for a duplicate key, never ErrOutcomeUnknown.
func TestCommitRefusedAtCommit(t *testing.T) {
	t.Parallel()
	db := storetest.Postgres(t).Open(t)
	ctx := context.Background()
	for _, q := range []string{
		`ALTER TABLE journal ADD CONSTRAINT journal_hash_once UNIQUE (hash) DEFERRABLE INITIALLY DEFERRED`,
		`ALTER TABLE movements ADD CONSTRAINT movements_issuance FOREIGN KEY (issuance_id) REFERENCES issuances(id) DEFERRABLE INITIALLY DEFERRED`,
	} {
		if _, err := db.SQL().ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	dup := []ledger.Entry{testEntry(1, "k1"), testEntry(2, "k2")} // same hash
	cases := []struct {
		name  string
		b     *store.Batch
		stale bool
	}{
		{"deferred unique", &store.Batch{Entries: dup}, true},
		{"deferred foreign key", &store.Batch{Entries: dup[:1], Movements: []ledger.Movement{{Seq: 1, Issuance: 999, Start: 1, End: 1}}}, false},
	}
	for _, tc := range cases {
		w, _, err := db.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		err = w.Commit(ctx, tc.b)
		w.Rollback()
		if err == nil || errors.Is(err, store.ErrOutcomeUnknown) || errors.Is(err, store.ErrStale) != tc.stale {
			t.Errorf("%s: Commit = %v, want a known failure (stale %v)", tc.name, err, tc.stale)
		}
		if h, err := db.Head(ctx); err != nil || h.Seq != 0 {
			t.Errorf("%s: head %d, %v after a refused COMMIT", tc.name, h.Seq, err)
		}
	}
}

// replyDropper is a TCP proxy in front of PostgreSQL that, once armed,
// passes the next COMMIT to the server and drops the client's connection
// before the server's answer reaches it: the commit happens, and the
// client cannot know.
type replyDropper struct {
	ln     net.Listener
	server string
	// trigger is what the proxy waits for in the client's bytes: COMMIT,
	// or a pipelined write (newReplyDropper sets COMMIT).
	trigger []byte
	armed   atomic.Bool
	dropped atomic.Bool
	mu      sync.Mutex
	conns   []net.Conn
}

// commitQuery is the simple-protocol Query message pgx sends for COMMIT
// ('Q', int32 length 11, "commit\0").
var commitQuery = []byte("Q\x00\x00\x00\x0bcommit\x00")

func newReplyDropper(t *testing.T, server string) *replyDropper {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &replyDropper{ln: ln, server: server, trigger: commitQuery}
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			c.Close()
		}
	})
	go p.serve()
	return p
}

func (p *replyDropper) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.server)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		var cut atomic.Bool // this connection's answers are no longer relayed
		go func() {
			buf := make([]byte, 64<<10)
			for {
				n, err := server.Read(buf)
				if n > 0 && !cut.Load() {
					if _, err := client.Write(buf[:n]); err != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
		go func() {
			buf := make([]byte, 64<<10)
			for {
				n, err := client.Read(buf)
				if n > 0 {
					if p.armed.Load() && bytes.Contains(buf[:n], p.trigger) && p.dropped.CompareAndSwap(false, true) {
						cut.Store(true)
						// The server gets the rest of what the client sent
						// (a pipeline may span reads up to its Sync) and
						// commits, and the client never hears of it.
						time.AfterFunc(200*time.Millisecond, func() { client.Close() })
					}
					if _, err := server.Write(buf[:n]); err != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// TestCommitReplyLost: the connection drops after PostgreSQL received
// COMMIT and before its answer arrived. The commit happened; Commit must
// say ErrOutcomeUnknown, never a plain failure the caller would read as
// "not committed".
func TestCommitReplyLost(t *testing.T) {
	t.Parallel()
	tg := storetest.Postgres(t)
	direct := tg.Open(t)
	u, err := url.Parse(tg.Cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := newReplyDropper(t, u.Host)
	u.Host = p.ln.Addr().String()
	q := u.Query()
	q.Set("sslmode", "disable") // the proxy reads the protocol in the clear
	u.RawQuery = q.Encode()
	cfg := tg.Cfg
	cfg.URL = u.String()
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	w, _, err := db.BeginWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p.armed.Store(true)
	err = w.Commit(ctx, &store.Batch{Entries: []ledger.Entry{testEntry(1, "k1")}})
	w.Rollback()
	if !p.dropped.Load() {
		t.Fatal("the proxy never saw COMMIT")
	}
	t.Logf("Commit: %v", err)
	if !errors.Is(err, store.ErrOutcomeUnknown) {
		t.Fatalf("Commit whose answer was lost = %v, want ErrOutcomeUnknown", err)
	}
	// The server did commit (it finishes COMMIT before it notices the
	// client is gone).
	deadline := time.Now().Add(10 * time.Second)
	for {
		h, err := direct.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if h.Seq == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the commit whose answer was lost never became visible")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCommitOnConnectionLost: the pooled session CommitOn writes on was
// ended by the server before the pipeline was sent. Nothing committed; the
// driver cannot tell, so the answer is ErrOutcomeUnknown (or, if pgx knows
// it sent nothing, a plain failure), never success, and the node's next
// write works on a fresh connection.
func TestCommitOnConnectionLost(t *testing.T) {
	t.Parallel()
	tg := storetest.Postgres(t)
	admin, err := sql.Open("pgx", tg.Cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	u, err := url.Parse(tg.Cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	app := fmt.Sprintf("corridor_lost_%d", time.Now().UnixNano())
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	tg.Cfg.URL = u.String()
	ctx := context.Background()
	var killed atomic.Int32
	tg.Cfg.Fault = func(p store.FaultPoint) error {
		if p == store.FaultBeforeCommit && killed.Add(1) == 1 {
			var n int
			err := admin.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = $1) t`, app).Scan(&n)
			if err != nil || n == 0 {
				t.Errorf("terminate the node's sessions: %d, %v", n, err)
			}
		}
		return nil
	}
	db := tg.Open(t)
	err = db.CommitOn(ctx, ledger.Entry{}, &store.Batch{Entries: []ledger.Entry{testEntry(1, "k1")}})
	t.Logf("CommitOn: %v", err)
	if err == nil {
		t.Fatal("CommitOn on a terminated session succeeded")
	}
	if errors.Is(err, store.ErrStale) {
		t.Fatalf("CommitOn on a terminated session = %v, a refusal it cannot know of", err)
	}
	if h, err := db.Head(ctx); err != nil || h.Seq != 0 {
		t.Fatalf("journal head %d, %v after a session killed before the pipeline, want empty", h.Seq, err)
	}
	if err := db.CommitOn(ctx, ledger.Entry{}, &store.Batch{Entries: []ledger.Entry{testEntry(1, "k1")}}); err != nil {
		t.Fatalf("the next CommitOn: %v", err)
	}
}

// TestCommitOnReplyLost: the pipelined write reached PostgreSQL, which
// committed it at its Sync, and the connection dropped before the answer
// came back: ErrOutcomeUnknown, never a plain failure.
func TestCommitOnReplyLost(t *testing.T) {
	t.Parallel()
	tg := storetest.Postgres(t)
	direct := tg.Open(t)
	u, err := url.Parse(tg.Cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := newReplyDropper(t, u.Host)
	// The batch's idempotency key is in the pipeline's parameters whether
	// or not its statements were prepared before.
	p.trigger = []byte("reply-lost-key")
	u.Host = p.ln.Addr().String()
	q := u.Query()
	q.Set("sslmode", "disable")
	u.RawQuery = q.Encode()
	cfg := tg.Cfg
	cfg.URL = u.String()
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	// A first commit prepares the statements on the connection, so the
	// answer lost is the pipeline's, not a Prepare's.
	first := testEntry(1, "k1")
	if err := db.CommitOn(ctx, ledger.Entry{}, &store.Batch{Entries: []ledger.Entry{first}}); err != nil {
		t.Fatal(err)
	}
	p.armed.Store(true)
	second := ledger.Entry{Seq: 2, At: first.At, Kind: "test", Actor: "admin", IdemKey: "reply-lost-key", RequestHash: "rh", Body: "{}", PrevHash: first.Hash, Hash: "h2"}
	err = db.CommitOn(ctx, first, &store.Batch{Entries: []ledger.Entry{second}})
	if !p.dropped.Load() {
		t.Fatal("the proxy never saw the pipelined write")
	}
	t.Logf("CommitOn: %v", err)
	if !errors.Is(err, store.ErrOutcomeUnknown) {
		t.Fatalf("CommitOn whose answer was lost = %v, want ErrOutcomeUnknown", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		h, err := direct.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if h.Seq == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the commit whose answer was lost never became visible")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncCounter is a TCP proxy in front of PostgreSQL that counts, while
// counting is set, the messages after which a client waits for the server:
// Sync (extended protocol) and Query (simple protocol). Each is one
// network round trip.
type syncCounter struct {
	ln       net.Listener
	server   string
	counting atomic.Bool
	waits    atomic.Int64
}

func newSyncCounter(t *testing.T, server string) *syncCounter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &syncCounter{ln: ln, server: server}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", p.server)
			if err != nil {
				client.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, client, server)
			mu.Unlock()
			go func() { _, _ = io.Copy(client, server) }()
			go p.relay(client, server)
		}
	}()
	return p
}

// relay copies the client's messages to the server, reading their frames:
// the start-up message (length first), then type byte and length.
func (p *syncCounter) relay(client, server net.Conn) {
	r := bufio.NewReader(client)
	started := false
	for {
		var typ byte
		if started {
			b, err := r.ReadByte()
			if err != nil {
				return
			}
			typ = b
		}
		var hdr [4]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint32(hdr[:])) - 4
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		if started && (typ == 'S' || typ == 'Q') && p.counting.Load() {
			p.waits.Add(1)
		}
		started = true
		msg := append([]byte{}, hdr[:]...)
		if typ != 0 {
			msg = append([]byte{typ}, msg...)
		}
		if _, err := server.Write(append(msg, body...)); err != nil {
			return
		}
	}
}

// TestCommitOnOneRoundTrip: on PostgreSQL, CommitOn sends the lock, the
// head check, the writes and the commit as one pipeline (one Sync) once
// its statements are prepared on the connection; the
// WriteTx path takes a round trip for each of BEGIN, the lock, the head
// read, the writes and COMMIT.
func TestCommitOnOneRoundTrip(t *testing.T) {
	t.Parallel()
	tg := storetest.Postgres(t)
	u, err := url.Parse(tg.Cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := newSyncCounter(t, u.Host)
	u.Host = p.ln.Addr().String()
	q := u.Query()
	q.Set("sslmode", "disable")
	u.RawQuery = q.Encode()
	cfg := tg.Cfg
	cfg.URL = u.String()
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	// The first commit of a shape on a connection also prepares its three
	// statements (lock, head check, writes), a round trip each.
	first := &store.Batch{Orgs: []ledger.Organisation{{ID: 1, Name: "o", Country: "VN"}}, Entries: []ledger.Entry{{Seq: 1, Kind: "x", Actor: "a", IdemKey: "k1", RequestHash: "rh", Body: "{}", Hash: "h1"}}}
	p.counting.Store(true)
	if err := db.CommitOn(ctx, ledger.Entry{}, first); err != nil {
		t.Fatal(err)
	}
	p.counting.Store(false)
	if got := p.waits.Load(); got > 4 {
		t.Errorf("the first CommitOn on a connection took %d round trips, want at most 4", got)
	}
	p.waits.Store(0)
	big := &store.Batch{Orgs: []ledger.Organisation{{ID: 2, Name: "o", Country: "VN"}}}
	for i := int64(2); i <= 101; i++ {
		big.Entries = append(big.Entries, ledger.Entry{Seq: i, Kind: "x", Actor: "a", IdemKey: fmt.Sprintf("k%d", i), RequestHash: "rh", Body: "{}", PrevHash: fmt.Sprintf("h%d", i-1), Hash: fmt.Sprintf("h%d", i)})
	}
	p.counting.Store(true)
	if err := db.CommitOn(ctx, first.Entries[0], big); err != nil {
		t.Fatal(err)
	}
	p.counting.Store(false)
	if got := p.waits.Load(); got != 1 {
		t.Errorf("CommitOn of %d entries and an organisation took %d round trips, want 1", len(big.Entries), got)
	}
	p.waits.Store(0)
	p.counting.Store(true)
	w, _, err := db.BeginWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = w.Commit(ctx, &store.Batch{Entries: []ledger.Entry{{Seq: 102, Kind: "x", Actor: "a", RequestHash: "rh", Body: "{}", PrevHash: "h101", Hash: "h102"}}})
	w.Rollback()
	p.counting.Store(false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("BeginWrite + Commit: %d round trips", p.waits.Load())
	if got := p.waits.Load(); got < 4 {
		t.Errorf("BeginWrite + Commit took %d round trips: the counter misses some", got)
	}
}
