package host

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHubLostLockStopsTaking: a hub whose serving lock another process
// took (PostgreSQL: its lock session terminated, the lock taken by
// another session) answers 503 hub_not_serving to a message and to a
// record read, saying why, and keeps serving its signed trust list; while
// it held the lock the same message was answered by the protocol.
func TestHubLostLockStopsTaking(t *testing.T) {
	s := freshPostgres(t)
	key, trust := hubFiles(t, t.TempDir())
	o := HubOptions{Addr: freeAddr(t), Storage: s, KeyFile: key, TrustFile: trust}
	startHub(t, o)
	post := func() (int, map[string]any) {
		t.Helper()
		resp, err := http.Post("http://"+o.Addr+"/hub/v1/messages", "application/jose", strings.NewReader("not.an.envelope"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if st, m := post(); st != http.StatusBadRequest || m["code"] != "malformed" {
		t.Fatalf("a malformed message to the serving hub: %d %v", st, m)
	}

	db, err := sql.Open("pgx", s.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = hashtext('network_hub')::oid AND objid = 1 AND objsubid = 2`); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		var ok bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(hashtext('network_hub'), 1)`).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the hub's lock was never free")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if code, m, _ := getHubReady(t, o.Addr); code == http.StatusServiceUnavailable && m["hub"] == "hub_not_serving" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the hub never noticed it lost its lock")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st, m := post(); st != http.StatusServiceUnavailable || m["code"] != CodeHubNotServing || !strings.Contains(m["detail"].(string), "lost its database's serving lock") {
		t.Fatalf("a message to the hub that lost its lock: %d %v", st, m)
	}
	for path, want := range map[string]int{"/hub/v1/transfers": http.StatusServiceUnavailable, "/hub/v1/trust": http.StatusOK} {
		resp, err := http.Get("http://" + o.Addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s after the lock was lost: %d, want %d", path, resp.StatusCode, want)
		}
	}
}
