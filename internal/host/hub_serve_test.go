package host

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub/hubhttp"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// hubFiles writes a hub key and a trust list naming only that hub.
func hubFiles(t *testing.T, dir string) (keyFile, trustFile string) {
	t.Helper()
	keyFile = filepath.Join(dir, "hub.key")
	pub, err := hubhttp.GenerateKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	trustFile = filepath.Join(dir, "trust.yaml")
	trust := fmt.Sprintf("version: 1\nentries:\n  - code: HUB\n    role: hub\n    endpoint: http://127.0.0.1:1/\n    keys:\n      - public: %s\n        from: 2020-01-01T00:00:00Z\n        until: 2099-01-01T00:00:00Z\n", hubhttp.EncodePublic(pub))
	if err := os.WriteFile(trustFile, []byte(trust), 0o600); err != nil {
		t.Fatal(err)
	}
	return keyFile, trustFile
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startHub runs ServeHub until the test ends and waits for its /healthz.
func startHub(t *testing.T, o HubOptions) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeHub(ctx, o) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := http.Get("http://" + o.Addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return done
		}
		select {
		case err := <-done:
			t.Fatalf("the hub stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hub at %s did not come up: %v", o.Addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func getHubReady(t *testing.T, addr string) (int, map[string]any, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	var raw json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatalf("/readyz body: %v", err)
	}
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m, string(raw)
}

// dropDatabase drops s's PostgreSQL database now, its sessions
// terminated: the hub's database is gone.
func dropDatabase(t *testing.T, s Storage) {
	t.Helper()
	u, err := neturl.Parse(s.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("pgx", os.Getenv(storetest.EnvURL))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("DROP DATABASE " + strings.TrimPrefix(u.Path, "/") + " WITH (FORCE)"); err != nil {
		t.Fatalf("drop the hub's database: %v", err)
	}
}

// TestSecondHubRefused: a second hub on the database a hub already serves
// is refused with the node's "already serving" error instead of serving
// beside it (before, it printed "serving" and its reconciler froze good
// units), and the first hub keeps serving and stays ready.
func TestSecondHubRefused(t *testing.T) {
	eachStorage(t, func(t *testing.T, s Storage) {
		key, trust := hubFiles(t, t.TempDir())
		first := HubOptions{Addr: freeAddr(t), Storage: s, KeyFile: key, TrustFile: trust}
		startHub(t, first)
		second := first
		second.Addr = freeAddr(t)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		err := ServeHub(ctx, second)
		if !errors.Is(err, registry.ErrDatabaseInUse) || !strings.Contains(err.Error(), "already serving this database") {
			t.Fatalf("second hub on the same database: %v, want %v", err, registry.ErrDatabaseInUse)
		}
		if code, m, raw := getHubReady(t, first.Addr); code != http.StatusOK || m["ready"] != true {
			t.Fatalf("first hub /readyz after the second was refused: %d %s", code, raw)
		}
	})
}

// TestHubReadyz: the hub's /readyz is 200 while its database answers and
// 503 with a short code once the database is gone, without the driver's
// error (database user or name) in the unauthenticated body; /healthz
// (alive) stays 200.
func TestHubReadyz(t *testing.T) {
	s := freshPostgres(t) // the database is taken away by dropping it
	key, trust := hubFiles(t, t.TempDir())
	o := HubOptions{Addr: freeAddr(t), Storage: s, KeyFile: key, TrustFile: trust}
	startHub(t, o)
	if code, m, raw := getHubReady(t, o.Addr); code != http.StatusOK || m["ready"] != true || m["hub"] != "ok" {
		t.Fatalf("/readyz with the database up: %d %s", code, raw)
	}
	dropDatabase(t, s)
	code, m, raw := getHubReady(t, o.Addr)
	if code != http.StatusServiceUnavailable || m["ready"] != false || m["hub"] != "database_unreachable" {
		t.Errorf("/readyz with the database dropped: %d %s, want 503 database_unreachable", code, raw)
	}
	pu, _ := neturl.Parse(s.DatabaseURL)
	for _, leak := range []string{strings.TrimPrefix(pu.Path, "/"), "user=", pu.User.Username()} {
		if strings.Contains(raw, leak) {
			t.Errorf("/readyz body %s shows %q", raw, leak)
		}
	}
	resp, err := http.Get("http://" + o.Addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz with the database dropped: %d, want 200 (alive)", resp.StatusCode)
	}
}
