package host

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// eachStorage runs fn on an empty SQLite data directory and on an empty
// PostgreSQL database of its own (discovery lists a whole database's
// schemas, so a shared test database would not do).
func eachStorage(t *testing.T, fn func(t *testing.T, s Storage)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, Storage{DataDir: filepath.Join(t.TempDir(), "data")}) })
	t.Run("postgres", func(t *testing.T) { fn(t, freshPostgres(t)) })
}

func freshPostgres(t *testing.T) Storage {
	t.Helper()
	base := os.Getenv(storetest.EnvURL)
	if base == "" {
		t.Skipf("SKIPPED PostgreSQL half: set %s (e.g. postgres://postgres@127.0.0.1:5432/test) to run it", storetest.EnvURL)
	}
	raw := make([]byte, 6)
	_, _ = rand.Read(raw)
	name := "host_" + hex.EncodeToString(raw)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return Storage{DatabaseURL: u.String(), DataDir: t.TempDir()}
}

// footprint is everything a read-only command could have written: the
// files under the data directory (names, sizes, contents) or the
// database's schemas with their tables' row counts.
func footprint(t *testing.T, s Storage) []string {
	t.Helper()
	var out []string
	if s.DatabaseURL == "" {
		_ = filepath.Walk(s.DataDir, func(path string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				out = append(out, path)
				return nil
			}
			// A SQLite reader of a WAL database may create the
			// shared-memory index (-shm) and an empty -wal beside it: they
			// hold no data.
			if strings.HasSuffix(path, "-shm") || strings.HasSuffix(path, "-wal") && info.Size() == 0 {
				return nil
			}
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(body)
			out = append(out, path+" "+hex.EncodeToString(sum[:]))
			return nil
		})
		return out
	}
	db, err := sql.Open("pgx", s.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT table_schema, table_name FROM information_schema.tables
		WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var schema, table string
		if err := rows.Scan(&schema, &table); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, quoteIdent(schema)+"."+quoteIdent(table))
	}
	rows.Close()
	for _, tb := range tables {
		var n int64
		if err := db.QueryRow("SELECT count(*) FROM " + tb).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, tb+" "+strconv.FormatInt(n, 10))
	}
	srows, err := db.Query(`SELECT nspname FROM pg_namespace ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer srows.Close()
	for srows.Next() {
		var name string
		if err := srows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		out = append(out, "schema "+name)
	}
	return out
}

// TestVerifyEmptyStorage: verify of an empty data directory or an empty
// PostgreSQL database says there is no registry and creates nothing (it
// used to create the demo registries' schemas and migrate them).
func TestVerifyEmptyStorage(t *testing.T) {
	eachStorage(t, func(t *testing.T, s Storage) {
		ctx := context.Background()
		before := footprint(t, s)
		for _, only := range []string{"", "CN"} {
			_, err := Verify(ctx, s, only)
			if !errors.Is(err, ErrNoRegistry) {
				t.Fatalf("verify %q of an empty storage: %v, want ErrNoRegistry", only, err)
			}
		}
		if after := footprint(t, s); !slices.Equal(before, after) {
			t.Fatalf("verify of an empty storage wrote:\nbefore %v\nafter  %v", before, after)
		}
	})
}

// TestVerifyDiscoversRegistries: on a storage holding only VN, verify checks
// VN (not the demo corridor's CN, ID, TH), and writes nothing.
func TestVerifyDiscoversRegistries(t *testing.T) {
	eachStorage(t, func(t *testing.T, s Storage) {
		ctx := context.Background()
		if _, err := Bootstrap(ctx, s, BootstrapParams{Code: "VN", OrgName: "Viet Nam registry (test)", Country: "VN"}); err != nil {
			t.Fatal(err)
		}
		// What an older verify left behind: CN's tables, migrated, but no
		// node ever opened on them (no registry code).
		leftover, err := store.Open(ctx, s.Store("CN"))
		if err != nil {
			t.Fatal(err)
		}
		leftover.Close()
		codes, err := s.Discover(ctx)
		if err != nil || !slices.Equal(codes, []string{"VN"}) {
			t.Fatalf("Discover = %v, %v; want [VN]", codes, err)
		}
		before := footprint(t, s)
		res, err := Verify(ctx, s, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 || res[0].Code != "VN" || !res[0].Report.OK() || res[0].Report.Entries != 3 {
			t.Fatalf("verify of a VN-only storage: %+v", res)
		}
		if _, err := Verify(ctx, s, "CN"); !errors.Is(err, ErrNoRegistry) {
			t.Fatalf("verify --registry CN of a VN-only storage: %v, want ErrNoRegistry", err)
		}
		if after := footprint(t, s); !slices.Equal(before, after) {
			t.Fatalf("verify wrote:\nbefore %v\nafter  %v", before, after)
		}
	})
}

// TestBootstrapRetry: a bootstrap that fails after its first call and is
// rerun with the same inputs finishes with exactly one organisation and one
// national holding account; a later rerun says it was done, and
// --new-token adds a token without another organisation.
func TestBootstrapRetry(t *testing.T) {
	eachStorage(t, func(t *testing.T, s Storage) {
		ctx := context.Background()
		p := BootstrapParams{Code: "VN", OrgName: "Viet Nam registry (test)", Country: "VN"}
		crash := errors.New("simulated crash")
		failing := p
		failing.afterStep = func(step string) error {
			if step == "organisation" {
				return crash
			}
			return nil
		}
		if _, err := Bootstrap(ctx, s, failing); !errors.Is(err, crash) {
			t.Fatalf("first run: %v, want the simulated crash", err)
		}
		res, err := Bootstrap(ctx, s, p)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Resumed || res.Token == "" || res.OrgID != 1 {
			t.Fatalf("retry: %+v", res)
		}
		if _, err := Bootstrap(ctx, s, p); !errors.Is(err, ErrAlreadyBootstrapped) {
			t.Fatalf("rerun after success: %v, want ErrAlreadyBootstrapped", err)
		}
		p.NewToken = true
		again, err := Bootstrap(ctx, s, p)
		if err != nil || again.Token == "" || again.Token == res.Token || again.OrgID != res.OrgID {
			t.Fatalf("--new-token: %+v %v", again, err)
		}
		// Other inputs on a registry already set up: refused, no new organisation.
		_, err = Bootstrap(ctx, s, BootstrapParams{Code: "VN", OrgName: "Someone else", Country: "VN"})
		if e, ok := ledger.AsError(err); !ok || e.Code != "already_bootstrapped" {
			t.Fatalf("bootstrap with other inputs: %v", err)
		}
		nodes, err := Open(ctx, s, OpenOptions{Codes: []string{"VN"}})
		if err != nil {
			t.Fatal(err)
		}
		defer nodes.Close()
		n := nodes.List[0]
		if orgs, _ := n.Organisations(registry.Operator); len(orgs) != 1 {
			t.Fatalf("%d organisations after a retried bootstrap, want 1: %+v", len(orgs), orgs)
		}
		if accs, _ := n.Accounts(registry.Operator); len(accs) != 1 {
			t.Fatalf("%d accounts after a retried bootstrap, want 1: %+v", len(accs), accs)
		}
	})
}

// TestBadCode: a malformed registry code is bad input, refused before any
// database is opened.
func TestBadCode(t *testing.T) {
	s := Storage{DataDir: filepath.Join(t.TempDir(), "data")}
	ctx := context.Background()
	if _, err := Bootstrap(ctx, s, BootstrapParams{Code: "vn", OrgName: "x", Country: "VN"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bootstrap: %v", err)
	}
	if _, err := Open(ctx, s, OpenOptions{Codes: []string{"../x"}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("open: %v", err)
	}
	if _, err := Verify(ctx, s, "c n"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("verify: %v", err)
	}
	if _, err := os.Stat(s.DataDir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused call created %s", s.DataDir)
	}
}

// TestSearchPathRefused: a --database-url with search_path (as a
// parameter or inside options) is refused as bad input before anything is
// opened, naming the schemas Corridor uses; other parameters pass.
func TestSearchPathRefused(t *testing.T) {
	ctx := context.Background()
	for _, u := range []string{
		"postgres://corridor@127.0.0.1:1/corridor?search_path=carbon",
		"postgres://corridor@127.0.0.1:1/corridor?sslmode=disable&SEARCH_PATH=carbon",
		"postgres://corridor@127.0.0.1:1/corridor?options=-c%20search_path%3Dcarbon",
		"host=127.0.0.1 port=1 dbname=corridor search_path=carbon",
	} {
		s := Storage{DatabaseURL: u, DataDir: t.TempDir()}
		_, err := Open(ctx, s, OpenOptions{Codes: []string{"VN"}})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "registry_<code>") || !strings.Contains(err.Error(), "corridor_hub") {
			t.Errorf("Open with %s: %v", u, err)
		}
		if _, err := Bootstrap(ctx, s, BootstrapParams{Code: "VN", OrgName: "x", Country: "VN"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("Bootstrap with %s: %v", u, err)
		}
		if _, err := Verify(ctx, s, ""); !errors.Is(err, ErrInvalid) {
			t.Errorf("Verify with %s: %v", u, err)
		}
	}
	if err := (Storage{DatabaseURL: "postgres://corridor@db/corridor?sslmode=require&application_name=corridor"}).Check(); err != nil {
		t.Errorf("a URL without search_path: %v", err)
	}
}
