package store_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/corridor-carbon/corridor/internal/store"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// testLogs runs the append-only log cases, each on a fresh database.
func testLogs(t *testing.T, tg storetest.Target) {
	for _, c := range []struct {
		name string
		fn   func(t *testing.T, tg storetest.Target)
	}{
		{"AppendRead", testLogAppendRead},
		{"SeqRefused", testLogSeqRefused},
		{"ConcurrentAppenders", testLogConcurrentAppenders},
		{"InvalidText", testLogInvalidText},
		{"Faults", testLogFaults},
		{"ReadOnlyAndSnapshot", testLogReadOnlyAndSnapshot},
		{"OldHubTables", testLogOldHubTables},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, tg.Fresh(t))
		})
	}
}

func readLog(t *testing.T, l *store.Log, after int64) []store.LogRecord {
	t.Helper()
	var out []store.LogRecord
	if err := l.ReadFrom(ctx, after, func(r store.LogRecord) error { out = append(out, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func readKey(t *testing.T, l *store.Log, key string) []store.LogRecord {
	t.Helper()
	var out []store.LogRecord
	if err := l.ReadKey(ctx, key, func(r store.LogRecord) error { out = append(out, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func logHead(t *testing.T, l *store.Log) int64 {
	t.Helper()
	h, err := l.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// testLogAppendRead: records come back in seq order from any position,
// one at a time or several in one Append, by key in a keyed log, the logs
// are separate tables, and all of it survives a reopen.
func testLogAppendRead(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	ev := db.Log(store.HubEvents)
	if h := logHead(t, ev); h != 0 {
		t.Fatalf("head of a new log = %d", h)
	}
	if got := readLog(t, ev, 0); len(got) != 0 {
		t.Fatalf("new log holds %v", got)
	}
	if err := ev.Append(ctx, store.LogRecord{Seq: 1, Body: `{"n":1}`}); err != nil {
		t.Fatal(err)
	}
	if err := ev.Append(ctx, store.LogRecord{Seq: 2, Body: `{"n":2}`}, store.LogRecord{Seq: 3, Body: `{"n":3}`}); err != nil {
		t.Fatal(err)
	}
	want := []store.LogRecord{{Seq: 1, Body: `{"n":1}`}, {Seq: 2, Body: `{"n":2}`}, {Seq: 3, Body: `{"n":3}`}}
	equal(t, "ReadFrom(0)", readLog(t, ev, 0), want)
	equal(t, "ReadFrom(2)", readLog(t, ev, 2), want[2:])
	equal(t, "ReadFrom(3)", len(readLog(t, ev, 3)), 0)
	equal(t, "Head", logHead(t, ev), 3)
	stop := errors.New("stop")
	n := 0
	if err := ev.ReadFrom(ctx, 0, func(store.LogRecord) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("ReadFrom with a callback failing at once: %v after %d records", err, n)
	}

	rc := db.Log(store.HubReconciliations)
	if h := logHead(t, rc); h != 0 {
		t.Fatalf("another log shares hub_events' head: %d", h)
	}
	recs := []store.LogRecord{{Seq: 1, Key: "CN", Body: "a"}, {Seq: 2, Key: "TH", Body: "b"}, {Seq: 3, Key: "CN", Body: "c"}}
	for _, r := range recs {
		if err := rc.Append(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	equal(t, "ReadKey CN", readKey(t, rc, "CN"), []store.LogRecord{recs[0], recs[2]})
	equal(t, "ReadKey SG", len(readKey(t, rc, "SG")), 0)
	equal(t, "keyed ReadFrom(1)", readLog(t, rc, 1), recs[1:])
	if err := ev.ReadKey(ctx, "CN", func(store.LogRecord) error { return nil }); err == nil {
		t.Error("ReadKey on a log without keys succeeded")
	}
	if _, err := db.Log("journal").Head(ctx); err == nil {
		t.Error("a log named after another table was accepted")
	}

	db.Close()
	again := tg.Open(t)
	equal(t, "after reopen", readLog(t, again.Log(store.HubEvents), 0), want)
	equal(t, "keyed after reopen", readLog(t, again.Log(store.HubReconciliations), 0), recs)
	equal(t, "article 6 log", logHead(t, again.Log(store.HubArticle6)), 0)
}

// testLogSeqRefused: an Append that does not continue the log (a gap, a
// seq already taken, records out of step with each other) or has the
// wrong kind of key writes nothing.
func testLogSeqRefused(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	ev := db.Log(store.HubEvents)
	if err := ev.Append(ctx, store.LogRecord{Seq: 1, Body: "a"}, store.LogRecord{Seq: 2, Body: "b"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		recs      []store.LogRecord
		seq, head int64
	}{
		{"gap", []store.LogRecord{{Seq: 4, Body: "x"}}, 4, 2},
		{"duplicate", []store.LogRecord{{Seq: 2, Body: "x"}}, 2, 2},
		{"zero", []store.LogRecord{{Seq: 0, Body: "x"}}, 0, 2},
		{"batch with a gap", []store.LogRecord{{Seq: 3, Body: "x"}, {Seq: 5, Body: "y"}}, 5, 3},
		{"batch repeating a seq", []store.LogRecord{{Seq: 3, Body: "x"}, {Seq: 3, Body: "y"}}, 3, 3},
	} {
		err := ev.Append(ctx, c.recs...)
		var se *store.LogSeqError
		if !errors.As(err, &se) || !errors.Is(err, store.ErrLogSeq) {
			t.Errorf("%s: Append = %v, want a *LogSeqError", c.name, err)
			continue
		}
		if se.Log != store.HubEvents || se.Seq != c.seq || se.Head != c.head {
			t.Errorf("%s: %+v, want seq %d head %d", c.name, *se, c.seq, c.head)
		}
	}
	if err := ev.Append(ctx, store.LogRecord{Seq: 3, Key: "CN", Body: "x"}); err == nil || errors.Is(err, store.ErrLogSeq) {
		t.Errorf("a key in a log without keys: %v", err)
	}
	rc := db.Log(store.HubReconciliations)
	if err := rc.Append(ctx, store.LogRecord{Seq: 1, Body: "x"}); err == nil || errors.Is(err, store.ErrLogSeq) {
		t.Errorf("no key in a keyed log: %v", err)
	}
	equal(t, "records after refusals", readLog(t, ev, 0), []store.LogRecord{{Seq: 1, Body: "a"}, {Seq: 2, Body: "b"}})
	equal(t, "keyed log after refusal", logHead(t, rc), 0)
}

// testLogConcurrentAppenders: writers racing on one log, each appending at
// the head it read and reading again when refused, end with every record
// once, numbered without gaps; a refusal is always ErrLogSeq.
func testLogConcurrentAppenders(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	const writers, each = 4, 15
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			l := db.Log(store.HubReconciliations)
			for i := 0; i < each; {
				h, err := l.Head(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				err = l.Append(ctx, store.LogRecord{Seq: h + 1, Key: fmt.Sprintf("W%d", w), Body: fmt.Sprintf("%d-%d", w, i)})
				switch {
				case err == nil:
					i++
				case !errors.Is(err, store.ErrLogSeq):
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	l := db.Log(store.HubReconciliations)
	all := readLog(t, l, 0)
	if len(all) != writers*each {
		t.Fatalf("%d records, want %d", len(all), writers*each)
	}
	bodies := map[string]bool{}
	for i, r := range all {
		if r.Seq != int64(i+1) {
			t.Fatalf("record %d has seq %d", i, r.Seq)
		}
		if !strings.HasPrefix(r.Body, strings.TrimPrefix(r.Key, "W")+"-") || bodies[r.Body] {
			t.Fatalf("record %d: %+v (repeated or under another key)", i, r)
		}
		bodies[r.Body] = true
	}
	for w := range writers {
		if got := readKey(t, l, fmt.Sprintf("W%d", w)); len(got) != each {
			t.Errorf("writer %d has %d records", w, len(got))
		}
	}
}

// testLogInvalidText: a body or key no driver stores is a *TextError
// naming the column, the whole Append writes nothing, and such a key
// looked up matches nothing.
func testLogInvalidText(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	rc := db.Log(store.HubReconciliations)
	for _, c := range []struct {
		name, column string
		rec          store.LogRecord
	}{
		{"NUL in the body", "body", store.LogRecord{Seq: 2, Key: "CN", Body: "a\x00b"}},
		{"invalid UTF-8 in the key", "registry", store.LogRecord{Seq: 2, Key: "C\xffN", Body: "{}"}},
	} {
		err := rc.Append(ctx, store.LogRecord{Seq: 1, Key: "CN", Body: "ok"}, c.rec)
		var te *store.TextError
		if !errors.As(err, &te) || !errors.Is(err, store.ErrInvalidText) {
			t.Errorf("%s: Append = %v, want a *TextError", c.name, err)
			continue
		}
		if te.Table != "hub_reconciliations" || te.Column != c.column {
			t.Errorf("%s: %+v", c.name, *te)
		}
	}
	equal(t, "head after refused text", logHead(t, rc), 0)
	if got := readKey(t, rc, "C\xffN"); len(got) != 0 {
		t.Errorf("an unstorable key matched %v", got)
	}
	if got := readKey(t, rc, "C\x00"); len(got) != 0 {
		t.Errorf("a key with NUL matched %v", got)
	}
}

// testLogFaults: Config.Fault fails an Append as it fails a Commit: before
// COMMIT, a plain error and nothing written; during, ErrOutcomeUnknown and
// nothing written; after, ErrOutcomeUnknown and the record is there.
func testLogFaults(t *testing.T, tg storetest.Target) {
	var mu sync.Mutex
	var at store.FaultPoint
	tg.Cfg.Fault = func(p store.FaultPoint) error {
		mu.Lock()
		defer mu.Unlock()
		if p == at {
			return errInjected
		}
		return nil
	}
	db := tg.Open(t)
	ev := db.Log(store.HubEvents)
	for i, c := range []struct {
		point   store.FaultPoint
		unknown bool
		written bool
	}{
		{store.FaultBeforeCommit, false, false},
		{store.FaultDuringCommit, true, false},
		{store.FaultAfterCommit, true, true},
	} {
		mu.Lock()
		at = c.point
		mu.Unlock()
		before := logHead(t, ev)
		err := ev.Append(ctx, store.LogRecord{Seq: before + 1, Body: fmt.Sprint(i)})
		if !errors.Is(err, errInjected) || errors.Is(err, store.ErrOutcomeUnknown) != c.unknown {
			t.Errorf("%s: Append = %v (outcome unknown wanted: %v)", c.point, err, c.unknown)
		}
		if got := logHead(t, ev) - before; got != map[bool]int64{false: 0, true: 1}[c.written] {
			t.Errorf("%s: %d records written", c.point, got)
		}
	}
	mu.Lock()
	at = 0
	mu.Unlock()
	if err := ev.Append(ctx, store.LogRecord{Seq: 2, Body: "next"}); err != nil {
		t.Fatalf("Append after the faults: %v", err)
	}
}

// testLogReadOnlyAndSnapshot: a read-only open reads the logs and cannot
// append; a snapshot does not see records appended after it began.
func testLogReadOnlyAndSnapshot(t *testing.T, tg storetest.Target) {
	rw := tg.Open(t)
	if err := rw.Log(store.HubArticle6).Append(ctx, store.LogRecord{Seq: 1, Body: "f1"}); err != nil {
		t.Fatal(err)
	}
	view, done, err := rw.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	if err := rw.Log(store.HubArticle6).Append(ctx, store.LogRecord{Seq: 2, Body: "f2"}); err != nil {
		t.Fatal(err)
	}
	equal(t, "snapshot", readLog(t, view.Log(store.HubArticle6), 0), []store.LogRecord{{Seq: 1, Body: "f1"}})
	ro, err := store.OpenReadOnly(ctx, tg.Cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	equal(t, "read-only head", logHead(t, ro.Log(store.HubArticle6)), 2)
	if err := ro.Log(store.HubArticle6).Append(ctx, store.LogRecord{Seq: 3, Body: "f3"}); err == nil {
		t.Error("Append through a read-only handle succeeded")
	}
	equal(t, "head after a refused append", logHead(t, rw.Log(store.HubArticle6)), 2)
}

// testLogOldHubTables: a database whose hub made its tables itself (before
// the migration) keeps its records when the migration runs on it.
func testLogOldHubTables(t *testing.T, tg storetest.Target) {
	db := tg.Open(t)
	if err := db.Log(store.HubEvents).Append(ctx, store.LogRecord{Seq: 1, Body: "old"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = '0007_hub_logs'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	again := tg.Open(t)
	equal(t, "records after the migration ran again", readLog(t, again.Log(store.HubEvents), 0), []store.LogRecord{{Seq: 1, Body: "old"}})
	equal(t, "migrations", migrations(t, again), migrations(t, tg.Fresh(t).Open(t)))
}
