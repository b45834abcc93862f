package store_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"pgregory.net/rapid"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestConformance runs the store's contract on every driver: each case on
// its own fresh database (a SQLite file or a PostgreSQL schema), in
// parallel. A driver that passes here can replace another under registry.
func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		t.Parallel()
		for _, c := range conformance {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				c.fn(t, tg.Fresh(t))
			})
		}
	})
}

var conformance = []struct {
	name string
	fn   func(t *testing.T, tg storetest.Target)
}{
	{"Open", testOpen},
	{"OpenConcurrently", testOpenConcurrently},
	{"Empty", testEmpty},
	{"Meta", testMeta},
	{"RoundTrip", testRoundTrip},
	{"Upserts", testUpserts},
	{"BlocksByKey", testBlocksByKey},
	{"BlocksNotAsStated", testBlocksNotAsStated},
	{"OrphanMovement", testOrphanMovement},
	{"DuplicateKeys", testDuplicateKeys},
	{"InvalidTextRefused", testInvalidTextRefused},
	{"InvalidTextLookups", testInvalidTextLookups},
	{"TextRoundTrips", testTextRoundTrips},
	{"InvalidTextProperty", testInvalidTextProperty},
	{"Bounds", testBounds},
	{"Entries", testEntries},
	{"EntriesByKey", testEntriesByKey},
	{"LargeBatch", testLargeBatch},
	{"Callbacks", testCallbacks},
	{"SerialHistory", testSerialHistory},
	{"FirstFinalMove", testFirstFinalMove},
	{"Snapshot", testSnapshot},
	{"WriteLock", testWriteLock},
	{"Rollback", testRollback},
	{"Scratch", testScratch},
	{"ReadOnly", testReadOnly},
	{"Rejections", testRejections},
	{"Outcomes", testOutcomes},
	{"Heads", testHeads},
	{"StaleHeadRefused", testStaleHeadRefused},
	{"WriteTx", testWriteTx},
	{"Logs", testLogs},
}

var (
	ctx = context.Background()
	t0  = time.Date(2026, 12, 1, 8, 0, 0, 123456789, time.UTC)
)

// commit writes b on the journal head, the registry's fast path
// (CommitOn); commitTx writes it through BeginWrite and WriteTx.Commit, the
// slow path's (testWriteTx).
func commit(db *store.DB, b *store.Batch) error {
	h, err := db.Head(ctx)
	if err != nil {
		return err
	}
	return db.CommitOn(ctx, h, b)
}

func commitTx(db *store.DB, b *store.Batch) error {
	w, _, err := db.BeginWrite(ctx)
	if err != nil {
		return err
	}
	defer w.Rollback()
	return w.Commit(ctx, b)
}

func mustCommit(t *testing.T, db *store.DB, b *store.Batch) {
	t.Helper()
	if err := commit(db, b); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

func entry(seq int64, kind, key string) ledger.Entry {
	return ledger.Entry{Seq: seq, At: t0.Add(time.Duration(seq) * time.Second), Kind: kind, Actor: "admin", IdemKey: key,
		RequestHash: fmt.Sprintf("rh%d", seq), Body: fmt.Sprintf(`{"n":%d}`, seq), PrevHash: fmt.Sprintf("p%d", seq-1), Hash: fmt.Sprintf("p%d", seq)}
}

// base is a small ledger: one organisation with two accounts, one issuance
// of 1,000 units split into two blocks, its journal and a token.
func base() *store.Batch {
	return &store.Batch{
		Orgs: []ledger.Organisation{{ID: 1, Name: "Org One", Country: "VN", CreatedAt: t0}},
		Accounts: []ledger.Account{
			{ID: 10, OrgID: 1, Type: ledger.Holding, Status: ledger.Open, Name: "main", CreatedAt: t0},
			{ID: 11, OrgID: 1, Type: ledger.Retirement, Status: ledger.Open, Name: "retire", CreatedAt: t0},
		},
		Issuances: []ledger.Issuance{{ID: 100, Standard: "VCS", UnitType: "VCU", Project: "P1", ProjectName: "Hydro", Methodology: "ACM0002",
			HostCountry: "VN", Vintage: 2024, Quantity: 1000, AccountID: 10, Seq: 2, CreatedAt: t0}},
		PutBlocks: []ledger.Block{
			{Issuance: 100, Start: 1, End: 400, Account: 11, State: ledger.Retired},
			{Issuance: 100, Start: 401, End: 1000, Account: 10, State: ledger.Held},
		},
		Entries: []ledger.Entry{entry(1, "create_organisation", "k1"), entry(2, "issue", "k2"), entry(3, "retire", "")},
		Movements: []ledger.Movement{
			{Seq: 2, Issuance: 100, Start: 1, End: 1000, FromAccount: 0, ToAccount: 10, FromState: "", ToState: ledger.Held},
			{Seq: 3, Issuance: 100, Start: 1, End: 400, FromAccount: 10, ToAccount: 11, FromState: ledger.Held, ToState: ledger.Retired},
		},
		Tokens:     []ledger.Token{{Hash: "tokhash", OrgID: 1, Role: ledger.RoleHolder, Name: "ci", CreatedAt: t0}},
		Rejections: []store.Rejection{{Key: "r1", RequestHash: "rh-r1", AfterSeq: 1, At: t0, Body: `{"code":"insufficient_units"}`}},
	}
}

func blocks(t *testing.T, db *store.DB) []ledger.Block {
	t.Helper()
	var out []ledger.Block
	if err := db.EachBlock(ctx, func(b ledger.Block) error { out = append(out, b); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func journal(t *testing.T, db *store.DB) []ledger.Entry {
	t.Helper()
	var out []ledger.Entry
	if err := db.EachEntry(ctx, func(e ledger.Entry) error { out = append(out, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func head(t *testing.T, db *store.DB) int64 {
	t.Helper()
	h, err := db.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return h.Seq
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func testOpen(t *testing.T, tg storetest.Target) {
	if _, err := store.Open(ctx, store.Config{}); err == nil {
		t.Error("Open with neither URL nor path succeeded")
	}
	db := tg.Open(t)
	want := store.SQLite
	if tg.Cfg.URL != "" {
		want = store.Postgres
	}
	if db.Dialect() != want {
		t.Errorf("Dialect() = %s, want %s", db.Dialect(), want)
	}
	mustCommit(t, db, base())
	countMigrations := func(db *store.DB) (n int) {
		if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	n := countMigrations(db)
	if n < 2 {
		t.Errorf("%d migrations recorded, want every one", n)
	}
	// Reopening applies nothing twice and keeps the data (a restart).
	db2 := tg.Open(t)
	if got := countMigrations(db2); got != n {
		t.Errorf("reopen: %d migrations recorded, want %d", got, n)
	}
	if got := head(t, db2); got != 3 {
		t.Errorf("reopen: head %d, want 3", got)
	}
	if tg.Cfg.URL != "" {
		// The same database named by a key=value connection string.
		cfg := tg.Cfg
		cfg.URL = keyValueDSN(t, cfg.URL)
		db3, err := store.Open(ctx, cfg)
		if err != nil {
			t.Fatalf("open %q: %v", cfg.URL, err)
		}
		defer db3.Close()
		if got := head(t, db3); got != 3 {
			t.Errorf("key=value open: head %d, want 3", got)
		}
	}
}

// keyValueDSN rewrites a postgres:// URL as libpq key=value pairs.
func keyValueDSN(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	kv := []string{"host=" + u.Hostname(), "dbname=" + strings.TrimPrefix(u.Path, "/")}
	if p := u.Port(); p != "" {
		kv = append(kv, "port="+p)
	}
	if u.User != nil {
		kv = append(kv, "user="+u.User.Username())
		if pw, ok := u.User.Password(); ok {
			kv = append(kv, "password="+pw)
		}
	}
	for k, vs := range u.Query() {
		kv = append(kv, k+"="+vs[0])
	}
	return strings.Join(kv, " ")
}

// testOpenConcurrently: processes starting together on one new database
// each apply the migrations once (they take the write lock).
func testOpenConcurrently(t *testing.T, tg storetest.Target) {
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			db, err := store.Open(ctx, tg.Cfg)
			if err == nil {
				err = db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("open %d: %v", i, err)
		}
	}
	// The same versions, once each, as one open alone records.
	equal(t, "migrations", migrations(t, tg.Open(t)), migrations(t, tg.Fresh(t).Open(t)))
}

// migrations lists the recorded migration versions, in order.
func migrations(t *testing.T, db *store.DB) []string {
	t.Helper()
	rows, err := db.SQL().QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var versions []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return versions
}

func testEmpty(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	w, h, err := db.BeginWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.Rollback()
	equal(t, "BeginWrite head", h, ledger.Entry{})
	s, err := db.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Load", s, store.Snapshot{})
	if got := blocks(t, db); len(got) != 0 {
		t.Errorf("blocks %v", got)
	}
	if got := journal(t, db); len(got) != 0 {
		t.Errorf("journal %v", got)
	}
	if _, ok, err := db.Entry(ctx, 1); ok || err != nil {
		t.Errorf("Entry(1) = %v, %v", ok, err)
	}
	if _, ok, err := db.Token(ctx, "x"); ok || err != nil {
		t.Errorf("Token = %v, %v", ok, err)
	}
	if _, ok, err := db.FirstFinalMove(ctx); ok || err != nil {
		t.Errorf("FirstFinalMove = %v, %v", ok, err)
	}
	if m, err := db.EntriesByKey(ctx, nil); err != nil || len(m) != 0 {
		t.Errorf("EntriesByKey(nil) = %v, %v", m, err)
	}
	if ms, es, err := db.SerialHistory(ctx, 1, 1); err != nil || len(ms) != 0 || len(es) != 0 {
		t.Errorf("SerialHistory = %v, %v, %v", ms, es, err)
	}
	// An empty batch commits nothing and fails nothing.
	mustCommit(t, db, &store.Batch{})
}

func testMeta(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	if v, err := db.Meta(ctx, "code"); v != "" || err != nil {
		t.Fatalf("unset Meta = %q, %v", v, err)
	}
	for _, v := range []string{"VN", "Việt Nam 越南 🇻🇳", "", "VN"} {
		if err := db.SetMeta(ctx, "code", v); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Meta(ctx, "code"); got != v || err != nil {
			t.Errorf("Meta after SetMeta(%q) = %q, %v", v, got, err)
		}
	}
	for _, kv := range [][2]string{{"bad\xff", "v"}, {"k", "a\x00b"}} {
		err := db.SetMeta(ctx, kv[0], kv[1])
		var te *store.TextError
		if !errors.As(err, &te) || !errors.Is(err, store.ErrInvalidText) || te.Table != "meta" {
			t.Errorf("SetMeta(%q, %q) = %v, want a *TextError on meta", kv[0], kv[1], err)
		}
	}
	if got, _ := db.Meta(ctx, "k"); got != "" {
		t.Errorf("refused SetMeta stored %q", got)
	}
}

func testRoundTrip(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	b := base()
	mustCommit(t, db, b)
	s, err := db.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "organisations", s.Orgs, b.Orgs)
	equal(t, "accounts", s.Accounts, b.Accounts)
	equal(t, "issuances", s.Issuances, b.Issuances)
	equal(t, "head", s.Head, b.Entries[2])
	iss, err := db.Issuances(ctx)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Issuances", iss, b.Issuances)
	equal(t, "blocks", blocks(t, db), b.PutBlocks)
	equal(t, "journal", journal(t, db), b.Entries)
	for _, want := range b.Entries {
		got, ok, err := db.Entry(ctx, want.Seq)
		if !ok || err != nil {
			t.Fatalf("Entry(%d) = %v, %v", want.Seq, ok, err)
		}
		equal(t, "Entry", got, want)
	}
	tok, ok, err := db.Token(ctx, "tokhash")
	if !ok || err != nil {
		t.Fatalf("Token = %v, %v", ok, err)
	}
	equal(t, "token", tok, b.Tokens[0])
	if _, ok, _ := db.Token(ctx, "other"); ok {
		t.Error("Token found an unknown hash")
	}
	// A later batch sees the head its predecessor wrote.
	w, h, err := db.BeginWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.Rollback()
	equal(t, "BeginWrite head", h, b.Entries[2])
}

func testUpserts(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	mustCommit(t, db, base())
	mustCommit(t, db, &store.Batch{
		Entries:  []ledger.Entry{entry(4, "update", "")},
		Accounts: []ledger.Account{{ID: 10, OrgID: 1, Type: ledger.Holding, Status: ledger.Suspended, Name: "renamed", CreatedAt: t0}},
		// Merge 1-400 into a new block 1-1000 by deleting 401 and
		// rewriting 1 (the registry's merge).
		DeleteBlocks: []ledger.Block{{Issuance: 100, Start: 401}},
		PutBlocks:    []ledger.Block{{Issuance: 100, Start: 1, End: 1000, Account: 10, State: ledger.Reserved, Pending: 7}},
	})
	s, err := db.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "account 10", s.Accounts[0], ledger.Account{ID: 10, OrgID: 1, Type: ledger.Holding, Status: ledger.Suspended, Name: "renamed", CreatedAt: t0})
	equal(t, "account 11 untouched", s.Accounts[1], base().Accounts[1])
	equal(t, "blocks", blocks(t, db), []ledger.Block{{Issuance: 100, Start: 1, End: 1000, Account: 10, State: ledger.Reserved, Pending: 7}})
}

// testBlocksByKey: blocks written as the registry writes them, set, added
// and deleted by the keys the store holds, end as stated: changed blocks,
// new ones, ones merged away, and shifted ones (a block whose first units
// left; on PostgreSQL one update of a deleted row's key, of the same
// account or of another).
func testBlocksByKey(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	b := base()
	b.PutBlocks = append(b.PutBlocks, ledger.Block{Issuance: 100, Start: 1001, End: 2000, Account: 10, State: ledger.Held})
	b.Issuances[0].Quantity = 2000
	mustCommit(t, db, b)
	held := func(start, end, account int64) ledger.Block {
		return ledger.Block{Issuance: 100, Start: start, End: end, Account: account, State: ledger.Held}
	}
	steps := []struct {
		set, add, del []ledger.Block
		want          []ledger.Block
	}{
		{set: []ledger.Block{held(401, 450, 11)}, add: []ledger.Block{held(451, 1000, 10), held(1011, 2000, 10)}, del: []ledger.Block{held(1001, 2000, 10)},
			want: []ledger.Block{held(401, 450, 11), held(451, 1000, 10), held(1011, 2000, 10)}},
		{add: []ledger.Block{held(1001, 1010, 11)},
			want: []ledger.Block{held(401, 450, 11), held(451, 1000, 10), held(1001, 1010, 11), held(1011, 2000, 10)}},
		{set: []ledger.Block{held(401, 1000, 11)}, del: []ledger.Block{held(451, 1000, 10)},
			want: []ledger.Block{held(401, 1000, 11), held(1001, 1010, 11), held(1011, 2000, 10)}},
		{add: []ledger.Block{held(1005, 1010, 10)}, del: []ledger.Block{held(1001, 1010, 11)}, set: []ledger.Block{held(1011, 2000, 11)},
			want: []ledger.Block{held(401, 1000, 11), held(1005, 1010, 10), held(1011, 2000, 11)}},
	}
	for i, st := range steps {
		mustCommit(t, db, &store.Batch{Entries: []ledger.Entry{entry(int64(4+i), "transfer", "")}, SetBlocks: st.set, AddBlocks: st.add, DeleteBlocks: st.del})
		equal(t, fmt.Sprintf("step %d: blocks", i), blocks(t, db)[1:], st.want)
	}
}

// testBlocksNotAsStated: on PostgreSQL, a batch whose blocks are not as it
// says the store holds them (a set or deleted key not stored, an added key
// stored) is ErrStale and writes nothing; SQLite upserts and deletes
// whatever is there (Batch).
func testBlocksNotAsStated(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	mustCommit(t, db, base())
	for _, tc := range []struct {
		name string
		b    store.Batch
	}{
		{"set key not stored", store.Batch{SetBlocks: []ledger.Block{{Issuance: 100, Start: 401, End: 500, Account: 10, State: ledger.Held}, {Issuance: 100, Start: 7, End: 1000, Account: 10, State: ledger.Held}}}},
		{"deleted key not stored", store.Batch{DeleteBlocks: []ledger.Block{{Issuance: 100, Start: 401}, {Issuance: 100, Start: 8}}}},
		{"shifted key not stored", store.Batch{DeleteBlocks: []ledger.Block{{Issuance: 100, Start: 9}}, AddBlocks: []ledger.Block{{Issuance: 100, Start: 402, End: 1000, Account: 10, State: ledger.Held}}}},
		{"added key stored", store.Batch{AddBlocks: []ledger.Block{{Issuance: 100, Start: 401, End: 1000, Account: 11, State: ledger.Held}}}},
	} {
		b := tc.b
		b.Entries = []ledger.Entry{entry(4, "transfer", "k4")}
		err := commit(db, &b)
		if db.Dialect() == store.SQLite {
			continue
		}
		if !errors.Is(err, store.ErrStale) {
			t.Errorf("%s: commit = %v, want ErrStale", tc.name, err)
		}
		equal(t, tc.name+": journal", len(journal(t, db)), 3)
		equal(t, tc.name+": blocks", blocks(t, db), base().PutBlocks)
	}
}

// testOrphanMovement: a movement of no entry of its batch is refused before
// anything is written, on every driver (PostgreSQL has no foreign key from
// movements to the journal, migration 0014).
func testOrphanMovement(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	mustCommit(t, db, base())
	for _, b := range []*store.Batch{
		{Entries: []ledger.Entry{entry(4, "transfer", "k4")}, Movements: []ledger.Movement{{Seq: 4, Issuance: 100, Start: 401, End: 401, FromAccount: 10, ToAccount: 11, FromState: ledger.Held, ToState: ledger.Held}, {Seq: 3, Issuance: 100, Start: 402, End: 402}}},
		{Movements: []ledger.Movement{{Seq: 3, Issuance: 100, Start: 402, End: 402}}},
	} {
		if err := commit(db, b); err == nil || errors.Is(err, store.ErrStale) {
			t.Errorf("movement of entry %d with entries %v: commit = %v, want refused", b.Movements[len(b.Movements)-1].Seq, b.Entries, err)
		}
		if err := commitTx(db, b); err == nil {
			t.Errorf("movement of entry %d: WriteTx.Commit passed", b.Movements[len(b.Movements)-1].Seq)
		}
	}
	equal(t, "journal", len(journal(t, db)), 3)
}

// testDuplicateKeys: a batch that reuses a journal sequence number or an
// idempotency key is ErrStale (classified by the driver's error code) and
// writes nothing at all.
func testDuplicateKeys(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	mustCommit(t, db, base())
	extra := func(e ledger.Entry) *store.Batch {
		return &store.Batch{
			Entries: []ledger.Entry{e},
			Orgs:    []ledger.Organisation{{ID: 2, Name: "Two", Country: "TH", CreatedAt: t0}},
		}
	}
	reusedKey := entry(4, "x", "k1")
	for name, b := range map[string]*store.Batch{
		"sequence number": extra(entry(3, "x", "")),
		"idempotency key": extra(reusedKey),
		"organisation id": {Entries: []ledger.Entry{entry(4, "x", "")}, Orgs: base().Orgs},
	} {
		if err := commit(db, b); !errors.Is(err, store.ErrStale) {
			t.Errorf("%s reused: Commit = %v, want ErrStale", name, err)
		}
		s, err := db.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Orgs) != 1 || s.Head.Seq != 3 {
			t.Errorf("%s reused: the refused batch wrote something (%d organisations, head %d)", name, len(s.Orgs), s.Head.Seq)
		}
	}
	// Entries without a key do not collide with each other.
	mustCommit(t, db, &store.Batch{Entries: []ledger.Entry{entry(4, "x", ""), entry(5, "x", "")}})
}

// textFields puts s into one text column of an otherwise valid batch.
var textFields = []struct {
	table, column string
	set           func(b *store.Batch, s string)
}{
	{"journal", "kind", func(b *store.Batch, s string) { b.Entries[0].Kind = s }},
	{"journal", "actor", func(b *store.Batch, s string) { b.Entries[0].Actor = s }},
	{"journal", "idem_key", func(b *store.Batch, s string) { b.Entries[0].IdemKey = s }},
	{"journal", "body", func(b *store.Batch, s string) { b.Entries[0].Body = s }},
	{"journal", "hash", func(b *store.Batch, s string) { b.Entries[2].Hash = s }},
	{"organisations", "name", func(b *store.Batch, s string) { b.Orgs[0].Name = s }},
	{"organisations", "country", func(b *store.Batch, s string) { b.Orgs[0].Country = s }},
	{"accounts", "name", func(b *store.Batch, s string) { b.Accounts[1].Name = s }},
	{"accounts", "status", func(b *store.Batch, s string) { b.Accounts[1].Status = ledger.AccountStatus(s) }},
	{"issuances", "project_name", func(b *store.Batch, s string) { b.Issuances[0].ProjectName = s }},
	{"issuances", "methodology", func(b *store.Batch, s string) { b.Issuances[0].Methodology = s }},
	{"blocks", "state", func(b *store.Batch, s string) { b.PutBlocks[1].State = ledger.State(s) }},
	{"movements", "to_state", func(b *store.Batch, s string) { b.Movements[1].ToState = ledger.State(s) }},
	{"tokens", "name", func(b *store.Batch, s string) { b.Tokens[0].Name = s }},
	{"rejections", "idem_key", func(b *store.Batch, s string) { b.Rejections[0].Key = s }},
	{"rejections", "body", func(b *store.Batch, s string) { b.Rejections[0].Body = s }},
}

func testInvalidTextRefused(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	for _, f := range textFields {
		for _, bad := range []struct {
			value  string
			offset int
			nul    bool
		}{
			{"ab\xffc", 2, false},
			{"\xc3(", 0, false},        // a truncated two-byte sequence
			{"\xed\xa0\x80", 0, false}, // an encoded surrogate
			{"a\x00", 1, true},
		} {
			b := base()
			f.set(b, bad.value)
			err := commit(db, b)
			var te *store.TextError
			if !errors.As(err, &te) || !errors.Is(err, store.ErrInvalidText) {
				t.Errorf("%s.%s = %q: Commit = %v, want a *TextError", f.table, f.column, bad.value, err)
				continue
			}
			equal(t, "TextError", *te, store.TextError{Table: f.table, Column: f.column, Offset: bad.offset, NUL: bad.nul})
		}
	}
	if h := head(t, db); h != 0 {
		t.Errorf("refused batches wrote the journal up to %d", h)
	}
	s, err := db.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Orgs) != 0 {
		t.Errorf("refused batches wrote %d organisations", len(s.Orgs))
	}
	// The database is still writable.
	mustCommit(t, db, base())
}

// testInvalidTextLookups: text no driver stores matches nothing, on every
// driver (PostgreSQL would otherwise fail the query, SQLite find nothing).
func testInvalidTextLookups(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	mustCommit(t, db, base())
	for _, bad := range []string{"k1\xff", "k1\x00"} {
		m, err := db.EntriesByKey(ctx, []string{bad, "k2"})
		if err != nil || len(m) != 1 || m["k2"].Seq != 2 {
			t.Errorf("EntriesByKey(%q, k2) = %v, %v; want only k2", bad, m, err)
		}
		if v, err := db.Meta(ctx, bad); v != "" || err != nil {
			t.Errorf("Meta(%q) = %q, %v", bad, v, err)
		}
		if _, ok, err := db.Token(ctx, bad); ok || err != nil {
			t.Errorf("Token(%q) = %v, %v", bad, ok, err)
		}
		if es, err := db.Entries(ctx, store.EntryFilter{Kind: bad}); len(es) != 0 || err != nil {
			t.Errorf("Entries(kind %q) = %v, %v", bad, es, err)
		}
		if es, rs, err := db.Outcomes(ctx, []string{bad, "k2"}); err != nil || len(es) != 1 || es["k2"].Seq != 2 || len(rs) != 0 {
			t.Errorf("Outcomes(%q, k2) = %v, %v, %v; want only k2", bad, es, rs, err)
		}
		if m, err := db.RejectionsByKey(ctx, []string{bad, "r1"}); err != nil || len(m) != 1 {
			t.Errorf("RejectionsByKey(%q, r1) = %v, %v; want only r1", bad, m, err)
		}
	}
}

// validText draws any valid UTF-8 string without NUL, biased towards the
// awkward: every plane, combining marks, right-to-left text, U+FFFD,
// noncharacters, quotes and SQL-looking text.
func validText(t *rapid.T, label string) string {
	s := rapid.OneOf(
		rapid.String(),
		rapid.StringOf(rapid.RuneFrom([]rune{'\'', '"', '\\', '?', '$', '%', '_', ';', '\n', '\r', '\t', 0x7f, 0xfffd, 0xfffe, 0xffff, 0x10ffff, 0x1f1fb, 0x0301, 0x202e, 0x05d0, 0x4e2d})),
		rapid.SampledFrom([]string{"", " ", "'; DROP TABLE journal; --", "$1", "?", "e\u0301", "\u00e9"}),
	).Draw(t, label)
	return strings.ReplaceAll(s, "\x00", "")
}

// testTextRoundTrips: any valid UTF-8 comes back byte for byte on every
// driver, through every kind of text column.
func testTextRoundTrips(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	var seq, id int64
	rapid.Check(t, func(rt *rapid.T) {
		seq++
		id++
		key, name, body, meta := validText(rt, "key"), validText(rt, "name"), validText(rt, "body"), validText(rt, "meta")
		e := entry(seq, validText(rt, "kind"), "")
		if key != "" {
			e.IdemKey = fmt.Sprintf("%d:%s", seq, key) // unique per draw
		}
		e.Body = body
		org := ledger.Organisation{ID: id, Name: name, Country: "VN", CreatedAt: t0}
		acc := ledger.Account{ID: id, OrgID: id, Type: ledger.Holding, Status: ledger.Open, Name: name, CreatedAt: t0}
		if err := commit(db, &store.Batch{Entries: []ledger.Entry{e}, Orgs: []ledger.Organisation{org}, Accounts: []ledger.Account{acc}}); err != nil {
			rt.Fatalf("commit: %v", err)
		}
		got, ok, err := db.Entry(ctx, seq)
		if !ok || err != nil {
			rt.Fatalf("Entry = %v, %v", ok, err)
		}
		if !reflect.DeepEqual(got, e) {
			rt.Fatalf("entry:\n got %#v\nwant %#v", got, e)
		}
		if e.IdemKey != "" {
			m, err := db.EntriesByKey(ctx, []string{e.IdemKey})
			if err != nil || m[e.IdemKey].Seq != seq {
				rt.Fatalf("EntriesByKey(%q) = %v, %v", e.IdemKey, m, err)
			}
		}
		if es, err := db.Entries(ctx, store.EntryFilter{AfterSeq: seq - 1, Kind: e.Kind}); err != nil || len(es) != 1 || es[0].Kind != e.Kind {
			rt.Fatalf("Entries(kind %q) = %v, %v", e.Kind, es, err)
		}
		s, err := db.Load(ctx)
		if err != nil {
			rt.Fatal(err)
		}
		if o := s.Orgs[len(s.Orgs)-1]; o.Name != name {
			rt.Fatalf("organisation name %q, want %q", o.Name, name)
		}
		if a := s.Accounts[len(s.Accounts)-1]; a.Name != name {
			rt.Fatalf("account name %q, want %q", a.Name, name)
		}
		mk := fmt.Sprintf("k%d:%s", seq, key)
		if err := db.SetMeta(ctx, mk, meta); err != nil {
			rt.Fatal(err)
		}
		if v, err := db.Meta(ctx, mk); v != meta || err != nil {
			rt.Fatalf("Meta = %q, %v; want %q", v, err, meta)
		}
	})
}

// testInvalidTextProperty: any string that is not valid UTF-8 or holds a
// NUL is refused, wherever it goes, and nothing of its batch is written.
func testInvalidTextProperty(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	rapid.Check(t, func(rt *rapid.T) {
		raw := rapid.SliceOfN(rapid.Byte(), 1, 12).Draw(rt, "raw")
		s := string(raw)
		if utf8.ValidString(s) && !strings.Contains(s, "\x00") {
			s += "\xff"
		}
		f := rapid.SampledFrom(textFields).Draw(rt, "field")
		b := base()
		f.set(b, s)
		if err := commit(db, b); !errors.Is(err, store.ErrInvalidText) {
			rt.Fatalf("%s.%s = %q: Commit = %v, want ErrInvalidText", f.table, f.column, s, err)
		}
		if err := db.SetMeta(ctx, "k", s); !errors.Is(err, store.ErrInvalidText) {
			rt.Fatalf("SetMeta(%q) = %v, want ErrInvalidText", s, err)
		}
	})
	if h := head(t, db); h != 0 {
		t.Errorf("refused batches wrote the journal up to %d", h)
	}
}

// testBounds: 64-bit ids and quantities, the largest serial and times
// with nanoseconds in any zone round-trip (as the same instant, in UTC).
func testBounds(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	at := time.Date(2099, 12, 31, 23, 59, 59, 999999999, time.FixedZone("ICT", 7*3600))
	b := &store.Batch{
		Orgs:      []ledger.Organisation{{ID: math.MaxInt64, Name: "max", Country: "CN", CreatedAt: at}},
		Accounts:  []ledger.Account{{ID: math.MaxInt64, OrgID: math.MaxInt64, Type: ledger.Holding, Status: ledger.Open, Name: "max", CreatedAt: at}},
		Issuances: []ledger.Issuance{{ID: math.MaxInt64, Vintage: 9999, Quantity: math.MaxInt64, AccountID: math.MaxInt64, Seq: math.MaxInt64, CreatedAt: at}},
		PutBlocks: []ledger.Block{{Issuance: math.MaxInt64, Start: 1, End: ledger.MaxSerial, Account: math.MaxInt64, State: ledger.Held, Pending: math.MaxInt64}},
		Entries:   []ledger.Entry{{Seq: math.MaxInt64, At: at}},
		Movements: []ledger.Movement{{Seq: math.MaxInt64, Issuance: math.MaxInt64, Start: 1, End: ledger.MaxSerial, FromAccount: math.MinInt64, ToAccount: math.MaxInt64}},
	}
	mustCommit(t, db, b)
	s, err := db.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Orgs[0].CreatedAt.Equal(at) || s.Orgs[0].CreatedAt.Location() != time.UTC {
		t.Errorf("time %v, want %v in UTC", s.Orgs[0].CreatedAt, at)
	}
	want := b.Issuances[0]
	want.CreatedAt = at.UTC()
	equal(t, "issuance", s.Issuances[0], want)
	equal(t, "blocks", blocks(t, db), b.PutBlocks)
	ms, _, err := db.SerialHistory(ctx, math.MaxInt64, ledger.MaxSerial)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "history", ms, b.Movements)
}

func testEntries(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	b := base()
	b.Entries = append(b.Entries, entry(4, "issue", ""), entry(5, "retire", ""))
	mustCommit(t, db, b)
	seqs := func(f store.EntryFilter) []int64 {
		es, err := db.Entries(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, e := range es {
			out = append(out, e.Seq)
		}
		return out
	}
	for _, tc := range []struct {
		f    store.EntryFilter
		want []int64
	}{
		{store.EntryFilter{}, []int64{1, 2, 3, 4, 5}},
		{store.EntryFilter{AfterSeq: 3}, []int64{4, 5}},
		{store.EntryFilter{AfterSeq: 5}, nil},
		{store.EntryFilter{Kind: "issue"}, []int64{2, 4}},
		{store.EntryFilter{Kind: "issue", AfterSeq: 2}, []int64{4}},
		{store.EntryFilter{Kind: "none"}, nil},
		{store.EntryFilter{Limit: 2}, []int64{1, 2}},
		{store.EntryFilter{Limit: 2, AfterSeq: 4}, []int64{5}},
		{store.EntryFilter{Kind: "retire", Limit: 1}, []int64{3}},
	} {
		equal(t, fmt.Sprintf("Entries(%+v)", tc.f), seqs(tc.f), tc.want)
	}
}

func testEntriesByKey(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	// More keys than one statement takes (rowsPerStatement = 400).
	const n = 1000
	b := &store.Batch{}
	var keys []string
	for i := int64(1); i <= n; i++ {
		key := ""
		if i%3 != 0 {
			key = fmt.Sprintf("key-%d", i)
			keys = append(keys, key)
		}
		b.Entries = append(b.Entries, entry(i, "x", key))
	}
	mustCommit(t, db, b)
	got, err := db.EntriesByKey(ctx, append(slices.Clone(keys), "missing", keys[0]))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(keys) {
		t.Errorf("EntriesByKey found %d entries, want %d", len(got), len(keys))
	}
	for _, e := range b.Entries {
		if e.IdemKey == "" {
			continue
		}
		if !reflect.DeepEqual(got[e.IdemKey], e) {
			t.Fatalf("EntriesByKey[%s] = %+v, want %+v", e.IdemKey, got[e.IdemKey], e)
		}
	}
	if _, ok := got[""]; ok {
		t.Error("an entry without a key was returned under the empty key")
	}
	if m, err := db.EntriesByKey(ctx, []string{""}); err != nil || len(m) != 0 {
		t.Errorf("EntriesByKey(\"\") = %v, %v; want nothing", m, err)
	}
}

// testLargeBatch: one batch of thousands of rows per table crosses the
// per-statement row limit and, on PostgreSQL, the combined statement's
// parameter limit; every row arrives.
func testLargeBatch(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	const n = 2500
	b := &store.Batch{
		Orgs:      []ledger.Organisation{{ID: 1, Name: "o", Country: "VN", CreatedAt: t0}},
		Accounts:  []ledger.Account{{ID: 1, OrgID: 1, Type: ledger.Holding, Status: ledger.Open, Name: "a", CreatedAt: t0}},
		Issuances: []ledger.Issuance{{ID: 1, Quantity: n, AccountID: 1, Seq: 1, CreatedAt: t0}},
	}
	for i := int64(1); i <= n; i++ {
		b.Entries = append(b.Entries, entry(i, "x", fmt.Sprintf("k%d", i)))
		b.PutBlocks = append(b.PutBlocks, ledger.Block{Issuance: 1, Start: i, End: i, Account: 1, State: ledger.Held})
		b.Movements = append(b.Movements, ledger.Movement{Seq: i, Issuance: 1, Start: i, End: i, ToAccount: 1, ToState: ledger.Held})
	}
	mustCommit(t, db, b)
	equal(t, "blocks", blocks(t, db), b.PutBlocks)
	equal(t, "journal", journal(t, db), b.Entries)
	// And as many deletions in one batch.
	del := &store.Batch{Entries: []ledger.Entry{entry(n+1, "merge", "")}, PutBlocks: []ledger.Block{{Issuance: 1, Start: 1, End: n, Account: 1, State: ledger.Held}}}
	del.DeleteBlocks = b.PutBlocks[1:]
	mustCommit(t, db, del)
	equal(t, "merged blocks", blocks(t, db), del.PutBlocks)
	ms, _, err := db.SerialHistory(ctx, 1, n)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "history of the last serial", ms, b.Movements[n-1:])
}

// testCallbacks: an error from EachBlock's or EachEntry's function stops
// the stream and is returned as is.
func testCallbacks(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	mustCommit(t, db, base())
	stop := errors.New("stop")
	calls := 0
	if err := db.EachBlock(ctx, func(ledger.Block) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("EachBlock = %v after %d calls, want stop after 1", err, calls)
	}
	calls = 0
	if err := db.EachEntry(ctx, func(ledger.Entry) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("EachEntry = %v after %d calls, want stop after 1", err, calls)
	}
}

// testSerialHistory compares SerialHistory with a scan of every movement,
// for movements of every span level (and rows written before span levels
// existed).
func testSerialHistory(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	rng := rand.New(rand.NewPCG(1, 2))
	const issuance, limit = 7, int64(1) << 40
	b := &store.Batch{
		Orgs:      []ledger.Organisation{{ID: 1, Name: "o", Country: "VN", CreatedAt: t0}},
		Accounts:  []ledger.Account{{ID: 1, OrgID: 1, Type: ledger.Holding, Status: ledger.Open, Name: "a", CreatedAt: t0}},
		Issuances: []ledger.Issuance{{ID: issuance, Quantity: limit, AccountID: 1, Seq: 1, CreatedAt: t0}},
	}
	var all []ledger.Movement
	for seq := int64(1); seq <= 300; seq++ {
		b.Entries = append(b.Entries, entry(seq, "move", ""))
		span := int64(1) << rng.IntN(41)
		start := 1 + rng.Int64N(limit)
		end := min(limit, start+rng.Int64N(span))
		m := ledger.Movement{Seq: seq, Issuance: issuance, Start: start, End: end, FromAccount: 1, ToAccount: 1, FromState: ledger.Held, ToState: ledger.Held}
		all = append(all, m)
		b.Movements = append(b.Movements, m)
	}
	// Another issuance's movement over the same serials is not history.
	b.Movements = append(b.Movements, ledger.Movement{Seq: 1, Issuance: issuance + 1, Start: 1, End: limit})
	mustCommit(t, db, b)
	// A movement stored before migration 0002 (span level unknown).
	legacy := ledger.Movement{Seq: 300, Issuance: issuance, Start: 5, End: 9, FromState: ledger.Held, ToState: ledger.Retired}
	if _, err := db.SQL().ExecContext(ctx, db.Rebind(`INSERT INTO movements (seq, issuance_id, start_serial, end_serial, from_account, to_account, from_state, to_state, span_level) VALUES (?, ?, ?, ?, 0, 0, 'held', 'retired', 63)`),
		legacy.Seq, legacy.Issuance, legacy.Start, legacy.End); err != nil {
		t.Fatal(err)
	}
	all = append(all, legacy)
	probes := []int64{1, 5, 9, 10, limit}
	for _, m := range all[:50] {
		probes = append(probes, m.Start, m.End, m.End+1, max(1, m.Start-1))
	}
	for range 50 {
		probes = append(probes, 1+rng.Int64N(limit))
	}
	for _, s := range probes {
		var want []ledger.Movement
		for _, m := range all {
			if m.Start <= s && s <= m.End {
				want = append(want, m)
			}
		}
		slices.SortStableFunc(want, func(a, b ledger.Movement) int { return int(a.Seq - b.Seq) })
		ms, es, err := db.SerialHistory(ctx, issuance, s)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != len(want) {
			t.Fatalf("serial %d: %d movements, want %d", s, len(ms), len(want))
		}
		for i := range ms {
			if ms[i].Seq != want[i].Seq || ms[i].Start != want[i].Start || ms[i].End != want[i].End {
				t.Fatalf("serial %d: movement %d = %+v, want %+v", s, i, ms[i], want[i])
			}
			if es[i].Seq != ms[i].Seq || es[i].Kind != "move" {
				t.Fatalf("serial %d: entry %+v for movement %d", s, es[i], ms[i].Seq)
			}
		}
	}
}

func testFirstFinalMove(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	mustCommit(t, db, base()) // moves into retired, never out of it
	if m, ok, err := db.FirstFinalMove(ctx); ok || err != nil {
		t.Fatalf("FirstFinalMove = %+v, %v, %v; want none", m, ok, err)
	}
	b := &store.Batch{Entries: []ledger.Entry{entry(4, "x", ""), entry(5, "x", "")}}
	for i, from := range []ledger.State{ledger.Exported, ledger.Retired} {
		b.Movements = append(b.Movements, ledger.Movement{Seq: int64(5 - i), Issuance: 100, Start: 1, End: 2, FromAccount: 11, ToAccount: 10, FromState: from, ToState: ledger.Held})
	}
	mustCommit(t, db, b)
	m, ok, err := db.FirstFinalMove(ctx)
	if !ok || err != nil {
		t.Fatalf("FirstFinalMove = %v, %v; want the move out of retired", ok, err)
	}
	equal(t, "FirstFinalMove", m, b.Movements[1])
}

// testSnapshot: a snapshot reads one moment while writers go on.
func testSnapshot(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	mustCommit(t, db, base())
	view, done, err := db.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before, err := view.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A write while the snapshot is open neither waits for it nor shows in it.
	written := make(chan error, 1)
	go func() {
		written <- commit(db, &store.Batch{
			Entries: []ledger.Entry{entry(4, "x", "k4")},
			Orgs:    []ledger.Organisation{{ID: 2, Name: "Two", Country: "TH", CreatedAt: t0}},
		})
	}()
	select {
	case err := <-written:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a write waited for an open snapshot")
	}
	after, err := view.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "snapshot Load", after, before)
	if m, err := view.EntriesByKey(ctx, []string{"k4"}); err != nil || len(m) != 0 {
		t.Errorf("snapshot EntriesByKey = %v, %v; want nothing", m, err)
	}
	if es := journal(t, view); len(es) != 3 {
		t.Errorf("snapshot journal has %d entries, want 3", len(es))
	}
	done()
	if h := head(t, db); h != 4 {
		t.Errorf("head %d after the snapshot, want 4", h)
	}
	// The moment is the call, not the first read.
	view, done, err = db.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	mustCommit(t, db, &store.Batch{Entries: []ledger.Entry{entry(5, "x", "")}})
	if h := head(t, view); h != 4 {
		t.Errorf("a snapshot taken at head 4 reads head %d", h)
	}
}

// testWriteLock: a second writer (another process's handle on the same
// database) waits in BeginWrite until the first commits, then sees its head.
func testWriteLock(t *testing.T, tg storetest.Target) {
	db1, db2 := tg.Open(t), tg.Open(t)
	w1, _, err := db1.BeginWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type begun struct {
		w    *store.WriteTx
		head ledger.Entry
		err  error
	}
	second := make(chan begun, 1)
	go func() {
		w, h, err := db2.BeginWrite(ctx)
		second <- begun{w, h, err}
	}()
	select {
	case b := <-second:
		if b.w != nil {
			b.w.Rollback()
		}
		w1.Rollback()
		t.Fatalf("a second writer began while the first held the lock (err %v)", b.err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := w1.Commit(ctx, &store.Batch{Entries: []ledger.Entry{entry(1, "x", "")}}); err != nil {
		t.Fatal(err)
	}
	var b begun
	select {
	case b = <-second:
	case <-time.After(10 * time.Second):
		t.Fatal("the second writer never got the lock")
	}
	if b.err != nil {
		t.Fatal(b.err)
	}
	defer b.w.Rollback()
	if b.head.Seq != 1 {
		t.Errorf("second writer's head %d, want the first writer's entry 1", b.head.Seq)
	}
	if err := b.w.Commit(ctx, &store.Batch{Entries: []ledger.Entry{entry(2, "x", "")}}); err != nil {
		t.Fatal(err)
	}
}

// testRollback: a write transaction rolled back (before or instead of
// Commit) writes nothing and frees the lock; Close ends the handle.
func testRollback(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	w, _, err := db.BeginWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.Rollback()
	w.Rollback() // twice is harmless
	mustCommit(t, db, base())
	if h := head(t, db); h != 3 {
		t.Errorf("head %d, want 3", h)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Head(ctx); err == nil {
		t.Error("Head after Close succeeded")
	}
}

// testScratch: Scratch names a database nobody else uses, and remove
// deletes it (the schema, or the directory).
func testScratch(t *testing.T, tg storetest.Target) {
	url, dir := tg.Cfg.URL, t.TempDir()
	cfg1, remove1, err := store.Scratch(url, dir, "scratch")
	if err != nil {
		t.Fatal(err)
	}
	cfg2, remove2, err := store.Scratch(url, dir, "scratch")
	if err != nil {
		t.Fatal(err)
	}
	defer remove2()
	if reflect.DeepEqual(cfg1, cfg2) {
		t.Fatalf("two scratch databases share %+v", cfg1)
	}
	db, err := store.Open(ctx, cfg1)
	if err != nil {
		t.Fatal(err)
	}
	mustCommit(t, db, base())
	db.Close()
	if err := remove1(); err != nil {
		t.Fatal(err)
	}
	if url != "" {
		other := tg.Open(t)
		var n int
		if err := other.SQL().QueryRowContext(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, cfg1.Schema).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("schema %s left after remove", cfg1.Schema)
		}
	} else if _, err := os.Stat(filepath.Dir(cfg1.Path)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("directory of %s left after remove (%v)", cfg1.Path, err)
	}
	if _, _, err := store.Scratch(url, dir, "Bad-Prefix"); url != "" && err == nil {
		t.Error("Scratch accepted a schema name PostgreSQL would need quoted")
	}
}

// testReadOnly: a read-only handle reads exactly what the writer wrote,
// snapshots included, and every write through it fails.
func testReadOnly(t *testing.T, tg storetest.Target) {
	rw := tg.Open(t)
	b := base()
	mustCommit(t, rw, b)
	ro, err := store.OpenReadOnly(ctx, tg.Cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	want, err := rw.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	view, done, err := ro.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	for name, db := range map[string]*store.DB{"read-only": ro, "read-only snapshot": view} {
		got, err := db.Load(ctx)
		if err != nil {
			t.Fatalf("%s Load: %v", name, err)
		}
		equal(t, name+" Load", got, want)
		equal(t, name+" blocks", blocks(t, db), b.PutBlocks)
		equal(t, name+" journal", journal(t, db), b.Entries)
		if m, err := db.EntriesByKey(ctx, []string{"k1", "k2"}); err != nil || len(m) != 2 {
			t.Errorf("%s EntriesByKey = %v, %v", name, m, err)
		}
		if ms, _, err := db.SerialHistory(ctx, 100, 1); err != nil || len(ms) != 2 {
			t.Errorf("%s SerialHistory = %v, %v", name, ms, err)
		}
	}
	if err := ro.SetMeta(ctx, "k", "v"); err == nil {
		t.Error("SetMeta through a read-only handle succeeded")
	}
	if err := commit(ro, &store.Batch{Entries: []ledger.Entry{entry(4, "x", "")}}); err == nil {
		t.Error("Commit through a read-only handle succeeded")
	}
	if h := head(t, rw); h != 3 {
		t.Errorf("head %d after refused writes, want 3", h)
	}
}

// testRejections: refusals recorded under their keys come back by key
// (more keys than one statement takes), and a key recorded twice is
// ErrStale with nothing written.
func testRejections(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	b := base()
	for i := range 1000 {
		b.Rejections = append(b.Rejections, store.Rejection{Key: fmt.Sprintf("rej-%d", i), RequestHash: fmt.Sprintf("h%d", i), AfterSeq: int64(i % 3), At: t0, Body: fmt.Sprintf(`{"n":%d}`, i)})
	}
	mustCommit(t, db, b)
	var keys []string
	for _, r := range b.Rejections {
		keys = append(keys, r.Key)
	}
	got, err := db.RejectionsByKey(ctx, append(keys, "missing", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(b.Rejections) {
		t.Errorf("RejectionsByKey found %d, want %d (a journal key is not a rejection)", len(got), len(b.Rejections))
	}
	for _, r := range b.Rejections {
		equal(t, "rejection "+r.Key, got[r.Key], r)
	}
	err = commit(db, &store.Batch{Entries: []ledger.Entry{entry(4, "x", "")}, Rejections: b.Rejections[:1]})
	if !errors.Is(err, store.ErrStale) {
		t.Errorf("a rejection key recorded twice: Commit = %v, want ErrStale", err)
	}
	if h := head(t, db); h != 3 {
		t.Errorf("head %d after a refused batch, want 3", h)
	}
}

// testOutcomes: one lookup finds a key's journal entry or its rejection,
// for any number of keys and for keys holding the characters the drivers'
// key lists quote (JSON on SQLite, array text on PostgreSQL), on the pool
// and on a snapshot.
func testOutcomes(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	odd := []string{`a"b`, `c\d`, `{x,y}`, `NULL`, `e f`, `"`, `\`, `,`, `'`, "中文", `[1]`, `\"`}
	b := &store.Batch{}
	var keys []string
	for i := int64(1); i <= 600; i++ {
		key := fmt.Sprintf("k-%d", i)
		if int(i) <= len(odd) {
			key = odd[i-1]
		}
		keys = append(keys, key)
		b.Entries = append(b.Entries, entry(i, "x", key))
	}
	b.Entries = append(b.Entries, entry(601, "x", ""))
	for i := range 600 {
		key := fmt.Sprintf("r-%d", i)
		if i < len(odd) {
			key = "r" + odd[i]
		}
		keys = append(keys, key)
		b.Rejections = append(b.Rejections, store.Rejection{Key: key, RequestHash: fmt.Sprintf("h%d", i), AfterSeq: int64(i % 5), At: t0.Add(time.Duration(i) * time.Millisecond), Body: fmt.Sprintf(`{"n":%d}`, i)})
	}
	mustCommit(t, db, b)
	view, done, err := db.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	for name, q := range map[string]*store.DB{"pool": db, "snapshot": view} {
		for _, ask := range [][]string{keys, {keys[0], "missing", "rmissing", "", keys[700]}, nil, {"missing"}} {
			es, rs, err := q.Outcomes(ctx, ask)
			if err != nil {
				t.Fatalf("%s: Outcomes: %v", name, err)
			}
			want := map[string]bool{}
			for _, k := range ask {
				want[k] = true
			}
			var nes, nrs int
			for _, e := range b.Entries {
				if e.IdemKey != "" && want[e.IdemKey] {
					nes++
					equal(t, name+" entry "+e.IdemKey, es[e.IdemKey], e)
				}
			}
			for _, r := range b.Rejections {
				if want[r.Key] {
					nrs++
					equal(t, name+" rejection "+r.Key, rs[r.Key], r)
				}
			}
			if len(es) != nes || len(rs) != nrs {
				t.Errorf("%s: Outcomes(%d keys) found %d entries and %d rejections, want %d and %d", name, len(ask), len(es), len(rs), nes, nrs)
			}
		}
	}
}

// testStaleHeadRefused: CommitOn appends only on the head it names. A
// writer behind the journal, ahead of it (a commit it believed in did not
// happen) or on another branch of it is refused with ErrStale, writes
// nothing, even when its entries' sequence numbers are free, and leaves the
// write lock free.
func testStaleHeadRefused(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	// An empty journal's head is the zero entry.
	if err := db.CommitOn(ctx, entry(1, "x", ""), base()); !errors.Is(err, store.ErrStale) {
		t.Fatalf("CommitOn on an empty journal expecting entry 1 = %v, want ErrStale", err)
	}
	if err := db.CommitOn(ctx, ledger.Entry{}, base()); err != nil {
		t.Fatalf("CommitOn on the empty head: %v", err)
	}
	at := journal(t, db)[2] // the head: seq 3, hash p3
	other := at
	other.Hash = "another branch"
	next := func(seq int64) *store.Batch {
		return &store.Batch{
			Entries:    []ledger.Entry{entry(seq, "x", fmt.Sprintf("stale%d", seq))},
			Orgs:       []ledger.Organisation{{ID: 2, Name: "Two", Country: "TH", CreatedAt: t0}},
			Rejections: []store.Rejection{{Key: fmt.Sprintf("rej%d", seq), RequestHash: "rh", AfterSeq: seq - 1, At: t0, Body: "{}"}},
		}
	}
	for _, tc := range []struct {
		name string
		head ledger.Entry
		b    *store.Batch
	}{
		{"behind", journal(t, db)[1], next(4)},
		{"ahead", entry(4, "x", ""), next(5)},
		{"another branch", other, next(4)},
		{"empty", ledger.Entry{}, next(4)},
		{"behind, rejections only", journal(t, db)[1], &store.Batch{Rejections: next(4).Rejections}},
	} {
		err := db.CommitOn(ctx, tc.head, tc.b)
		if !errors.Is(err, store.ErrStale) || errors.Is(err, store.ErrOutcomeUnknown) {
			t.Errorf("%s: CommitOn = %v, want ErrStale", tc.name, err)
		}
		s, err := db.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Orgs) != 1 || s.Head.Seq != 3 {
			t.Errorf("%s: the refused batch wrote something (%d organisations, head %d)", tc.name, len(s.Orgs), s.Head.Seq)
		}
		if rs, err := db.RejectionsByKey(ctx, []string{"rej4", "rej5"}); err != nil || len(rs) != 0 {
			t.Errorf("%s: the refused batch recorded rejections %v (%v)", tc.name, rs, err)
		}
	}
	// On the right head it commits.
	if err := db.CommitOn(ctx, at, next(4)); err != nil {
		t.Fatalf("CommitOn on the head: %v", err)
	}
	if h := head(t, db); h != 4 {
		t.Errorf("head %d after CommitOn, want 4", h)
	}
}

// testWriteTx: the write transaction's own Commit (the registry's slow
// path and restarts) keeps the same contract as CommitOn: round trip, keys
// taken, text refused.
func testWriteTx(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	b := base()
	if err := commitTx(db, b); err != nil {
		t.Fatal(err)
	}
	s, err := db.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "accounts", s.Accounts, b.Accounts)
	equal(t, "blocks", blocks(t, db), b.PutBlocks)
	equal(t, "journal", journal(t, db), b.Entries)
	if err := commitTx(db, &store.Batch{Entries: []ledger.Entry{entry(4, "x", "k1")}}); !errors.Is(err, store.ErrStale) {
		t.Errorf("a taken key: Commit = %v, want ErrStale", err)
	}
	bad := &store.Batch{Entries: []ledger.Entry{entry(4, "x\xff", "")}}
	var te *store.TextError
	if err := commitTx(db, bad); !errors.As(err, &te) {
		t.Errorf("invalid text: Commit = %v, want a *TextError", err)
	}
	if h := head(t, db); h != 3 {
		t.Errorf("head %d after refused commits, want 3", h)
	}
}
