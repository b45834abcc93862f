package api_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestReadyzBodyNamesNoDatabase: when a node's database is gone, /readyz
// answers 503 with the short code database_unreachable, not the driver's
// error (before, the unauthenticated body showed "failed to connect to
// `user=postgres database=…`"). On PostgreSQL the node's database is
// dropped; on SQLite its handle is closed.
func TestReadyzBodyNamesNoDatabase(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		db, err := store.Open(context.Background(), store.Config{Path: filepath.Join(t.TempDir(), "CN.db")})
		if err != nil {
			t.Fatal(err)
		}
		srv := readyServer(t, db)
		db.Close()
		checkUnreachable(t, srv.URL, "CN.db")
	})
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv(storetest.EnvURL)
		if base == "" {
			t.Skipf("SKIPPED PostgreSQL half: set %s to run it", storetest.EnvURL)
		}
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.Close() })
		raw := make([]byte, 6)
		_, _ = rand.Read(raw)
		name := "readyz_" + hex.EncodeToString(raw)
		if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
		u, err := neturl.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/" + name
		db, err := store.Open(context.Background(), store.Config{URL: u.String(), Schema: "registry_cn"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		srv := readyServer(t, db)
		if _, err := admin.Exec("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
			t.Fatal(err)
		}
		checkUnreachable(t, srv.URL, name, "user=")
	})
}

func readyServer(t *testing.T, db *store.DB) *httptest.Server {
	t.Helper()
	n, err := registry.Open(context.Background(), db, registry.Options{Code: "CN"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	mux := http.NewServeMux()
	mux.Handle("GET /readyz", api.New(n).ReadyHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	if code, m := getReady(t, srv.URL); code != http.StatusOK {
		t.Fatalf("/readyz with the database up: %d %v", code, m)
	}
	return srv
}

func checkUnreachable(t *testing.T, url string, leaks ...string) {
	t.Helper()
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"CN":"`+api.ReadyDatabaseUnreachable+`"`) {
		t.Errorf("/readyz with the database gone: %d %s, want 503 with CN %s", resp.StatusCode, body, api.ReadyDatabaseUnreachable)
	}
	for _, leak := range leaks {
		if strings.Contains(string(body), leak) {
			t.Errorf("/readyz body %s shows %q", body, leak)
		}
	}
}
