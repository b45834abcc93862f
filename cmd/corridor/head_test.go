package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/host"
	"github.com/corridor-carbon/corridor/internal/ledger"
)

// TestHeadAndVerifyHead: 'corridor head' prints the signed head of a
// running node; after the last journal entry and its movements are cut
// from the stopped node's database, 'verify' fails naming the recorded
// head, and with the recorded heads deleted too, only 'verify --head'
// with the kept head fails (exit 3, naming it).
func TestHeadAndVerifyHead(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	nodes, err := host.Open(ctx, host.Storage{DataDir: dir}, host.OpenOptions{SeedDemo: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(nodes.List...).Handler())
	t.Setenv("CORRIDOR_SERVER", srv.URL)
	t.Setenv("CORRIDOR_TOKEN", "")
	h := decode[ledger.SignedHead](t, mustRun(t, "head", "--registry", "TH", "--json"))
	if h.Registry != "TH" || h.Seq < 2 {
		t.Fatalf("head %+v", h)
	}
	text := mustRun(t, "head", "--registry", "TH").stdout
	kept := fmt.Sprintf("%d:%s", h.Seq, h.Hash)
	if !strings.Contains(text, "--head "+kept) {
		t.Fatalf("head text does not show how to check it:\n%s", text)
	}
	srv.Close()
	nodes.Close()

	verify := func(args ...string) cliRun {
		return run(append([]string{"verify", "--data-dir", dir, "--registry", "TH"}, args...)...)
	}
	if r := verify("--head", kept); r.err != nil {
		t.Fatalf("verify --head on the intact journal: exit %d: %v\n%s", r.code(), r.err, r.stdout)
	}
	if r := verify("--head", kept[:len(kept)-1]); r.code() != 2 {
		t.Fatalf("verify with a malformed --head: exit %d: %v", r.code(), r.err)
	}
	if r := run("verify", "--data-dir", dir, "--head", kept); r.code() != 2 {
		t.Fatalf("verify --head without --registry: exit %d: %v", r.code(), r.err)
	}

	db, err := sql.Open("sqlite", filepath.Join(dir, "registries", "TH.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`DELETE FROM movements WHERE seq = ?`, `DELETE FROM journal WHERE seq = ?`} {
		if _, err := db.Exec(q, h.Seq); err != nil {
			t.Fatal(err)
		}
	}
	r := verify()
	if r.code() != 3 || !strings.Contains(r.err.Error(), "published head "+kept) {
		t.Fatalf("verify of the cut journal: exit %d: %v\n%s", r.code(), r.err, r.stdout)
	}
	if _, err := db.Exec(`DELETE FROM published_heads`); err != nil {
		t.Fatal(err)
	}
	if r := verify(); r.err != nil && strings.Contains(r.err.Error(), "head") {
		t.Fatalf("without the recorded heads verify should not know of any: %v", r.err)
	}
	r = verify("--head", kept)
	if r.code() != 3 || !strings.Contains(r.err.Error(), "does not reach head "+kept) {
		t.Fatalf("verify --head of the cut journal: exit %d: %v\n%s", r.code(), r.err, r.stdout)
	}
}
