package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
	"github.com/corridor-carbon/corridor/internal/web"
)

// holdWriteLock takes the node's database write lock from another session,
// as a slow or stuck transaction would; rollback releases it.
func holdWriteLock(t *testing.T, tg storetest.Target) (rollback func()) {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{URL: tg.Cfg.URL, Path: tg.Cfg.Path, Schema: tg.Cfg.Schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tx, err := db.SQL().Begin()
	if err != nil {
		t.Fatal(err)
	}
	if db.Dialect() == store.Postgres {
		_, err = tx.Exec(`SELECT pg_advisory_xact_lock(hashtext(current_schema()))`)
	} else {
		_, err = tx.Exec(`INSERT INTO meta (key, value) VALUES ('blocker', '1') ON CONFLICT (key) DO NOTHING`)
	}
	if err != nil {
		t.Fatal(err)
	}
	var once atomic.Bool
	rb := func() {
		if once.CompareAndSwap(false, true) {
			_ = tx.Rollback()
		}
	}
	t.Cleanup(rb)
	return rb
}

func getReady(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// TestReadyzSlowDatabase: while the database holds the writer on one group
// commit, /readyz fails and says why, /healthz and reads answer at once
// from the committed state; when the database is well again the write
// commits and /readyz recovers. Before, the writer held the state lock
// through the commit and reads timed out.
func TestReadyzSlowDatabase(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w := newWorld(t, tg)
		s := api.New(w.node)
		mux := http.NewServeMux()
		mux.Handle("/api/", s.Handler())
		mux.Handle("GET /healthz", s.HealthHandler())
		mux.Handle("GET /readyz", s.ReadyHandler())
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		if code, m := getReady(t, srv.URL); code != http.StatusOK {
			t.Fatalf("/readyz before: %d %v", code, m)
		}
		before := w.node.Totals().JournalSeq
		release := holdWriteLock(t, tg)
		done := make(chan int, 1)
		go func() {
			code, _, _ := w.raw(t, "POST", "/api/v1/registries/CN/transfers", w.tokens["holder"], "slow-1",
				fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":1,"unit_type":"CCER"}}`, w.account, w.otherAc))
			done <- code
		}()
		time.Sleep(2500 * time.Millisecond) // past the writer's stuck bound
		code, m := getReady(t, srv.URL)
		if code != http.StatusServiceUnavailable || m["ready"] != false || !strings.Contains(fmt.Sprint(m["registries"]), "group commit") {
			t.Fatalf("/readyz with the writer stuck: %d %v, want 503 naming the stuck commit", code, m)
		}
		for _, path := range []string{"/healthz", "/api/v1/registries/CN", fmt.Sprintf("/api/v1/registries/CN/accounts/%d", w.account)} {
			start := time.Now()
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+w.tokens["holder"])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || time.Since(start) > 500*time.Millisecond {
				t.Fatalf("GET %s while the database is slow: %d after %s", path, resp.StatusCode, time.Since(start))
			}
		}
		if got := w.node.Totals().JournalSeq; got != before {
			t.Fatalf("readers saw journal seq %d before the commit, want %d", got, before)
		}
		release()
		select {
		case code := <-done:
			if code != http.StatusCreated {
				t.Fatalf("the write after the database recovered: %d", code)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the write never finished")
		}
		if code, m := getReady(t, srv.URL); code != http.StatusOK {
			t.Fatalf("/readyz after: %d %v", code, m)
		}
	})
}

// TestOutcomeUnknownOverHTTP: a write whose COMMIT outcome cannot be learned
// is answered 503 outcome_unknown with Retry-After, and the same key later
// returns the committed result.
func TestOutcomeUnknownOverHTTP(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		var armed atomic.Bool
		var release func()
		ftg := tg
		ftg.Cfg.Fault = func(p store.FaultPoint) error {
			if p == store.FaultAfterCommit && armed.CompareAndSwap(true, false) {
				release = holdWriteLock(t, tg)
				return errors.New("injected: the answer to COMMIT was lost")
			}
			return nil
		}
		ctx := context.Background()
		n, err := registry.Open(ctx, ftg.Open(t), registry.Options{Code: "CN", CommitTimeout: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Close)
		w := seededWorld(t, n)
		body := fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":3,"unit_type":"CCER"}}`, w.account, w.otherAc)
		armed.Store(true)
		code, m, h := w.raw(t, "POST", "/api/v1/registries/CN/transfers", w.tokens["holder"], "unknown-1", body)
		if code != http.StatusServiceUnavailable || m["code"] != registry.CodeOutcomeUnknown || h.Get("Retry-After") == "" {
			t.Fatalf("answer %d %v (Retry-After %q), want 503 %s with Retry-After", code, m, h.Get("Retry-After"), registry.CodeOutcomeUnknown)
		}
		if !strings.Contains(fmt.Sprint(m["detail"]), "SAME Idempotency-Key") {
			t.Fatalf("detail does not tell the client to retry with the same key: %v", m["detail"])
		}
		release()
		deadline := time.Now().Add(10 * time.Second)
		for n.Ready() != nil && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		code, m, h = w.raw(t, "POST", "/api/v1/registries/CN/transfers", w.tokens["holder"], "unknown-1", body)
		if code != http.StatusOK || h.Get("Idempotent-Replayed") != "true" || m["quantity"] != float64(3) {
			t.Fatalf("retry with the same key: %d %v, want 200 replayed", code, m)
		}
	})
}

// TestEndedRequestNotShutdown: a write whose request has ended before the
// writer took it is not answered "the registry is shutting down".
func TestEndedRequestNotShutdown(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	h := api.New(w.node).Handler()
	for i := 0; i < 20; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		body := fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":1,"unit_type":"CCER"}}`, w.account, w.otherAc)
		req := httptest.NewRequestWithContext(ctx, "POST", "/api/v1/registries/CN/transfers", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+w.tokens["holder"])
		req.Header.Set("Idempotency-Key", fmt.Sprintf("ended-%d", i))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if strings.Contains(rec.Body.String(), "shutting down") {
			t.Fatalf("an ended request was told: %s", rec.Body)
		}
		if rec.Code != http.StatusCreated && !strings.Contains(rec.Body.String(), "request_ended") {
			t.Fatalf("ended request: %d %s", rec.Code, rec.Body)
		}
	}
}

// lockJournal locks the database as an operator's or a migration's long
// transaction would: PostgreSQL, LOCK TABLE journal IN ACCESS EXCLUSIVE
// MODE, which blocks even the writer's reads; SQLite, BEGIN IMMEDIATE from
// another connection. The returned func ends the transaction.
func lockJournal(t *testing.T, tg storetest.Target) (release func()) {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{URL: tg.Cfg.URL, Path: tg.Cfg.Path, Schema: tg.Cfg.Schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.SQL().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{"BEGIN IMMEDIATE"}
	if db.Dialect() == store.Postgres {
		stmts = []string{"BEGIN", "LOCK TABLE journal IN ACCESS EXCLUSIVE MODE"}
	}
	for _, s := range stmts {
		if _, err := conn.ExecContext(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	var once atomic.Bool
	rb := func() {
		if once.CompareAndSwap(false, true) {
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
			conn.Close()
		}
	}
	t.Cleanup(rb)
	return rb
}

// TestReadyzJournalLocked: with the journal locked from another session a
// write hangs, and /readyz must say 503 naming the stuck group commit
// within the writer's stuck bound, not 200 (before, on PostgreSQL the
// writer hung in its reads of the calls' earlier outcomes, ahead of any
// commit, which Ready did not time). Once the lock is gone the write
// commits and /readyz is 200 again.
func TestReadyzJournalLocked(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w := newWorld(t, tg)
		s := api.New(w.node)
		mux := http.NewServeMux()
		mux.Handle("/api/", s.Handler())
		mux.Handle("GET /readyz", s.ReadyHandler())
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		release := lockJournal(t, tg)
		done := make(chan int, 1)
		go func() {
			code, _, _ := w.raw(t, "POST", "/api/v1/registries/CN/transfers", w.tokens["holder"], "locked-1",
				fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":1,"unit_type":"CCER"}}`, w.account, w.otherAc))
			done <- code
		}()
		time.Sleep(2500 * time.Millisecond) // past the writer's stuck bound
		select {
		case code := <-done:
			t.Fatalf("the write finished (%d) while the journal was locked", code)
		default:
		}
		code, m := getReady(t, srv.URL)
		if code != http.StatusServiceUnavailable || m["ready"] != false || !strings.Contains(fmt.Sprint(m["registries"]), "group commit") {
			t.Fatalf("/readyz with the journal locked: %d %v, want 503 naming the stuck group commit", code, m)
		}
		release()
		select {
		case code := <-done:
			if code != http.StatusCreated {
				t.Fatalf("the write after the lock was released: %d", code)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the write never finished")
		}
		if code, m := getReady(t, srv.URL); code != http.StatusOK {
			t.Fatalf("/readyz after: %d %v", code, m)
		}
	})
}

// TestReadyzServingLockLost: on PostgreSQL, when the session holding the
// node's serving lock is terminated and another process takes the lock
// before the node does, /readyz answers 503 naming the lost lock and a
// write is refused 503 registry_not_serving (before, /readyz stayed 200 and
// two servers served one database). On SQLite the lock is an flock the
// process holds until it exits: a second server is refused and the first
// stays ready.
func TestReadyzServingLockLost(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w := newWorld(t, tg)
		s := api.New(w.node)
		mux := http.NewServeMux()
		mux.Handle("/api/", s.Handler())
		mux.Handle("GET /readyz", s.ReadyHandler())
		mux.Handle("/", web.New(w.node).Handler())
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		other := tg.Open(t)
		if other.Dialect() == store.Postgres {
			ctx := context.Background()
			conn, err := other.SQL().Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// The node's lock: two-key advisory lock (schema hash, 1).
			if _, err := other.SQL().Exec(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = hashtext(current_schema())::oid AND objid = 1 AND objsubid = 2`); err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(5 * time.Second); ; {
				var ok bool
				if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(hashtext(current_schema()), 1)`).Scan(&ok); err != nil {
					t.Fatal(err)
				}
				if ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the terminated session's lock was never free")
				}
				time.Sleep(5 * time.Millisecond)
			}
			var code int
			var m map[string]any
			for deadline := time.Now().Add(10 * time.Second); ; {
				if code, m = getReady(t, srv.URL); code != http.StatusOK || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if code != http.StatusServiceUnavailable || !strings.Contains(fmt.Sprint(m["registries"]), "serving lock was lost") {
				t.Fatalf("/readyz after the serving lock was taken by another process: %d %v, want 503 naming the lost lock", code, m)
			}
			code, m, _ = w.raw(t, "POST", "/api/v1/registries/CN/transfers", w.tokens["holder"], "lost-1",
				fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":1,"unit_type":"CCER"}}`, w.account, w.otherAc))
			if code != http.StatusServiceUnavailable || m["code"] != registry.CodeNotServing {
				t.Fatalf("write after the lock was lost: %d %v, want 503 %s", code, m, registry.CodeNotServing)
			}
			// Reads too: the node's memory may be behind what the
			// lock's new holder wrote, so it serves no answer from it
			// (before, totals and balances were answered 200 as if current).
			for _, path := range []string{"/api/v1/registries/CN", fmt.Sprintf("/api/v1/registries/CN/accounts/%d/holdings", w.account),
				"/api/v1/registries/CN/head", "/api/v1/registries/CN/serials/CN-CCER-CCER-DEMO-0001-2024-1-1-1"} {
				for _, tok := range []string{"", w.tokens["holder"]} {
					code, m, _ = w.raw(t, "GET", path, tok, "", "")
					if code != http.StatusServiceUnavailable || m["code"] != registry.CodeNotServing || !strings.Contains(fmt.Sprint(m["detail"]), "no reads") {
						t.Fatalf("GET %s (token %v) after the lock was lost: %d %v, want 503 %s", path, tok != "", code, m, registry.CodeNotServing)
					}
				}
			}
			// The dashboard says so too, instead of showing totals.
			resp, err := http.Get(srv.URL + "/registries/CN")
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(page), "no longer served by this server") {
				t.Fatalf("dashboard page after the lock was lost: %d\n%.300s", resp.StatusCode, page)
			}
			// The registry list and the home page mark it not serving,
			// without its (possibly stale) totals.
			code, m, _ = w.raw(t, "GET", "/api/v1/registries", "", "", "")
			regs, _ := m["registries"].([]any)
			if code != http.StatusOK || len(regs) != 1 {
				t.Fatalf("GET /api/v1/registries after the lock was lost: %d %v", code, m)
			}
			if e := regs[0].(map[string]any); e["served"] != true || e["serving"] != false || e["issued"] != nil || e["not_serving"] == nil {
				t.Fatalf("registry list after the lock was lost: %v", e)
			}
			resp, err = http.Get(srv.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			page, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(page), `<tr data-registry="CN" data-serving="false">`) || strings.Contains(string(page), `class="num issued"`) {
				t.Fatalf("home page after the lock was lost:\n%s", page)
			}
			return
		}
		if _, err := registry.Open(context.Background(), other, registry.Options{Code: "CN"}); !errors.Is(err, registry.ErrDatabaseInUse) {
			t.Fatalf("second server: %v, want ErrDatabaseInUse", err)
		}
		if code, m := getReady(t, srv.URL); code != http.StatusOK {
			t.Fatalf("/readyz of the serving node: %d %v", code, m)
		}
		if code, m, _ := w.raw(t, "GET", "/api/v1/registries/CN", "", "", ""); code != http.StatusOK {
			t.Fatalf("read from the serving node: %d %v", code, m)
		}
	})
}
