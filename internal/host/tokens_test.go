package host

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/ledger"
)

// readTokens reads the demo tokens file of s.
func readTokens(t *testing.T, s Storage) []demo.Token {
	t.Helper()
	raw, err := os.ReadFile(s.TokensFile())
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Tokens []demo.Token }
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	return file.Tokens
}

// TestDemoTokensOfStoppedLA: the first start seeds the stopped Lao PDR
// node too, and writes its tokens with the others (they were dropped, so
// `--registries …,LA` ran a node nobody could sign in to); once LA is
// served they authenticate there.
func TestDemoTokensOfStoppedLA(t *testing.T) {
	t.Parallel()
	s := Storage{DataDir: t.TempDir()}
	ctx := context.Background()
	opt := OpenOptions{SeedDemo: true, Now: func() time.Time { return demoClock }}
	ns, err := Open(ctx, s, opt)
	if err != nil {
		t.Fatal(err)
	}
	ns.Close()
	var la []demo.Token
	regs := map[string]bool{}
	for _, tok := range readTokens(t, s) {
		regs[tok.Registry] = true
		if tok.Registry == "LA" {
			la = append(la, tok)
		}
	}
	if len(la) == 0 || !slices.ContainsFunc(la, func(tok demo.Token) bool { return tok.Role == ledger.RoleAdmin }) {
		t.Fatalf("demo-tokens.json has no LA admin token: %+v", la)
	}
	for _, code := range demo.Codes() {
		if !regs[code] {
			t.Errorf("demo-tokens.json has no token for %s", code)
		}
	}
	opt.Codes = append(demo.Codes(), "LA")
	ns, err = Open(ctx, s, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	for _, n := range ns.List {
		if n.Code() != "LA" {
			continue
		}
		for _, tok := range la {
			if actor, ok, err := n.Authenticate(ctx, tok.Token); err != nil || !ok || actor.Role != tok.Role {
				t.Errorf("LA token of %s (%s): %+v %v %v", tok.Organisation, tok.Role, actor, ok, err)
			}
		}
		return
	}
	t.Fatal("LA is not served with --registries …,LA")
}

// TestWriteTokensKeepsOthers: a start that seeds some registries adds
// their tokens to the file and keeps the other registries' (it replaced
// the file, losing them); a token for the same registry, organisation and
// role replaces the old one.
func TestWriteTokensKeepsOthers(t *testing.T) {
	s := Storage{DataDir: t.TempDir()}
	cn := demo.Token{Registry: "CN", Organisation: "MEE", Role: ledger.RoleAdmin, Token: "cn-1"}
	la := demo.Token{Registry: "LA", Organisation: "MONRE", Role: ledger.RoleAdmin, Token: "la-1"}
	cn2 := cn
	cn2.Token = "cn-2"
	for _, step := range [][]demo.Token{{cn}, {la}, {cn2}} {
		if err := writeTokens(s.DataDir, step); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := readTokens(t, s), []demo.Token{la, cn2}; !slices.Equal(got, want) {
		t.Fatalf("tokens file %+v, want %+v", got, want)
	}
}
