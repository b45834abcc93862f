package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/client"
	"github.com/corridor-carbon/corridor/internal/host"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// TestBootstrapThenServe bootstraps a new registry, runs it without demo
// data and uses the printed admin token through the API.
func TestBootstrapThenServe(t *testing.T) {
	dir := t.TempDir()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"bootstrap", "--data-dir", dir, "--registry", "VN", "--org-name", "Viet Nam registry (test)", "--country", "VN"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	token := lines[len(lines)-1]
	if !strings.HasPrefix(token, "cor_") {
		t.Fatalf("no token printed: %q", out.String())
	}
	nodes, err := host.Open(context.Background(), host.Storage{DataDir: dir}, host.OpenOptions{Codes: []string{"VN"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(nodes.List...).Handler())
	c := client.New(srv.URL, token)
	res, err := c.Submit(context.Background(), "VN", "org-1", registry.CreateOrganisation{Name: "Hoa Phat Steel (test)", Country: "VN"})
	if err != nil || res.ID != 2 {
		t.Fatalf("admin token could not create an organisation: %+v %v", res, err)
	}
	accs, err := c.Accounts(context.Background(), "VN")
	if err != nil || len(accs) != 1 || accs[0].Type != ledger.NationalHolding {
		t.Fatalf("accounts: %+v %v", accs, err)
	}
	// While a server holds the database, bootstrap refuses to open it.
	args := []string{"bootstrap", "--data-dir", dir, "--registry", "VN", "--org-name", "Viet Nam registry (test)", "--country", "VN"}
	if r := run(args...); r.code() != exitFailure || !errors.Is(r.err, registry.ErrDatabaseInUse) {
		t.Fatalf("bootstrap beside a serving node: exit %d, %v", r.code(), r.err)
	}
	srv.Close()
	nodes.Close()
	// A rerun with the same inputs creates nothing and says the token was
	// shown before (exit 3); --new-token prints another; other inputs on a
	// registry already set up are refused (exit 3).
	args = []string{"bootstrap", "--data-dir", dir, "--registry", "VN", "--org-name", "Viet Nam registry (test)", "--country", "VN"}
	if r := run(args...); r.code() != exitRejected || !strings.Contains(r.err.Error(), "--new-token") {
		t.Fatalf("bootstrap rerun: exit %d, %v", r.code(), r.err)
	}
	if r := run(append(args, "--new-token")...); r.code() != 0 || !strings.Contains(r.stdout, "cor_") || strings.Contains(r.stdout, token) {
		t.Fatalf("bootstrap --new-token: exit %d, %v\n%s", r.code(), r.err, r.stdout)
	}
	if r := run("bootstrap", "--data-dir", dir, "--registry", "VN", "--org-name", "Someone else", "--country", "VN"); r.code() != exitRejected {
		t.Fatalf("bootstrap with other inputs: exit %d, %v", r.code(), r.err)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "registries", "VN.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var orgs int
	if err := db.QueryRow(`SELECT count(*) FROM organisations`).Scan(&orgs); err != nil || orgs != 2 {
		t.Fatalf("organisations after the reruns: %d, %v; want 2 (the administrator and the one made through the API)", orgs, err)
	}

	// An invalid registry code is bad input: exit code 2.
	root = newRootCmd()
	root.SetArgs([]string{"bootstrap", "--data-dir", filepath.Join(dir, "x"), "--registry", "vn", "--org-name", "x", "--country", "VN"})
	err = root.ExecuteContext(context.Background())
	if ee, ok := err.(*exitError); !ok || ee.code != exitUsage {
		t.Fatalf("bad registry code: %v", err)
	}
}
