package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/client"
	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/host"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
)

// cliClock is the fixed clock of the test registries, so that exports
// (timestamps and the journal hashes that cover them) are reproducible.
var cliClock = time.Date(2025, 6, 30, 8, 0, 0, 0, time.UTC)

// cliServer is the demo corridor (CN, ID, TH) on SQLite in a temporary
// directory behind the real API handler.
type cliServer struct {
	url    string
	nodes  map[string]*registry.Node
	tokens map[string]string // "CN/admin", "CN/auditor", "CN/holder/2" (account id)
	close  func()
}

func startCLIServer(t *testing.T) *cliServer { return startCLIServerTB(t) }

func startCLIServerTB(t testing.TB) *cliServer {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	s := &cliServer{nodes: map[string]*registry.Node{}, tokens: map[string]string{}}
	var nodes []*registry.Node
	var dbs []*store.DB
	for _, spec := range demo.Registries {
		db, err := store.Open(ctx, host.Storage{DataDir: dir}.Store(spec.Code))
		if err != nil {
			t.Fatal(err)
		}
		dbs = append(dbs, db)
		n, err := registry.Open(ctx, db, registry.Options{Code: spec.Code, Now: func() time.Time { return cliClock }})
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, n)
		s.nodes[spec.Code] = n
		toks, err := demo.Seed(ctx, n, spec)
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range toks {
			key := tok.Registry + "/" + string(tok.Role)
			if tok.Role == ledger.RoleHolder {
				key += fmt.Sprintf("/%d", tok.AccountID)
			}
			s.tokens[key] = tok.Token
		}
	}
	srv := httptest.NewServer(api.New(nodes...).Handler())
	s.url = srv.URL
	var once bool
	s.close = func() {
		if once {
			return
		}
		once = true
		srv.Close()
		for _, n := range nodes {
			n.Close()
		}
		for _, db := range dbs {
			db.Close()
		}
	}
	t.Cleanup(s.close)
	// The commands read their defaults from the environment; pin them so
	// that the tests neither depend on nor leak into the caller's.
	t.Setenv("CORRIDOR_SERVER", s.url)
	t.Setenv("CORRIDOR_TOKEN", "")
	t.Setenv("CORRIDOR_REGISTRY", "CN")
	return s
}

// cliRun executes the corridor command line in-process.
type cliRun struct {
	stdout, stderr string
	err            error
}

func (r cliRun) code() int {
	if r.err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(r.err, &ee) {
		return ee.code
	}
	return 1
}

func run(args ...string) cliRun {
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return cliRun{stdout: out.String(), stderr: errb.String(), err: err}
}

// mustRun runs args and fails the test unless they exit 0.
func mustRun(t *testing.T, args ...string) cliRun {
	t.Helper()
	r := run(args...)
	if r.err != nil {
		t.Fatalf("corridor %s: exit %d: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code(), r.err, r.stdout, r.stderr)
	}
	return r
}

func decode[T any](t *testing.T, r cliRun) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("output is not the expected JSON: %v\n%s", err, r.stdout)
	}
	return v
}

// balance is an account's quantity of one unit type in one state, read
// straight from the node.
func (s *cliServer) balance(t *testing.T, reg string, account int64, unitType string, state ledger.State) int64 {
	t.Helper()
	v, err := s.nodes[reg].Account(registry.Operator, account)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range v.Balances {
		if b.UnitType == unitType && b.State == state {
			return b.Quantity
		}
	}
	return 0
}

func TestCLIReads(t *testing.T) {
	s := startCLIServer(t)
	admin, auditor, holder := s.tokens["CN/admin"], s.tokens["CN/auditor"], s.tokens["CN/holder/2"]

	r := mustRun(t, "registries")
	for _, code := range []string{"CN", "ID", "TH"} {
		if !strings.Contains(r.stdout, "\n"+code+" ") {
			t.Errorf("registries table lacks %s:\n%s", code, r.stdout)
		}
	}
	regs := decode[struct{ Registries []registry.Totals }](t, mustRun(t, "registries", "--json"))
	if len(regs.Registries) != len(demo.Registries) || regs.Registries[0].JournalSeq != s.nodes[regs.Registries[0].Registry].Totals().JournalSeq {
		t.Errorf("registries --json: %+v", regs)
	}

	iss := decode[struct{ Issuances []registry.IssuanceView }](t, mustRun(t, "issuances", "--registry", "TH", "--json"))
	if len(iss.Issuances) != len(demo.Registries[2].Issuances) || iss.Issuances[1].ByState[ledger.Retired] != 2500 {
		t.Errorf("TH issuances: %+v", iss.Issuances)
	}

	all := decode[struct{ Accounts []registry.AccountView }](t, mustRun(t, "accounts", "--token", auditor, "--json"))
	own := decode[struct{ Accounts []registry.AccountView }](t, mustRun(t, "accounts", "--token", holder, "--json"))
	every, _ := s.nodes["CN"].Accounts(registry.Operator)
	if len(all.Accounts) != len(every) || len(own.Accounts) != 1 || own.Accounts[0].ID != 2 {
		t.Errorf("auditor sees %d accounts, holder %+v", len(all.Accounts), own.Accounts)
	}
	r = mustRun(t, "accounts", "--token", admin)
	if !strings.Contains(r.stdout, "Baowu Steel Trading (demo)") || !strings.Contains(r.stdout, "12000 CCER retired") {
		t.Errorf("accounts table:\n%s", r.stdout)
	}

	r = mustRun(t, "account", "show", "2", "--token", holder)
	held := s.balance(t, "CN", 2, "CCER", ledger.Held)
	if !strings.Contains(r.stdout, fmt.Sprintf("CCER       held   %d", held)) || !strings.Contains(r.stdout, "Holdings (2 blocks)") {
		t.Errorf("account show:\n%s", r.stdout)
	}
	shown := decode[struct {
		Account  registry.AccountView
		Holdings []registry.BlockView
	}](t, mustRun(t, "account", "show", "2", "--token", holder, "--json"))
	var sum int64
	for _, b := range shown.Holdings {
		sum += b.Quantity
	}
	if sum != held || shown.Account.ID != 2 {
		t.Errorf("account show --json: blocks sum to %d, balance %d", sum, held)
	}
	// Another organisation's account is hidden from a holder: exit 3.
	if r := run("account", "show", "3", "--token", holder); r.code() != exitRejected || !strings.Contains(r.err.Error(), "account_not_found") {
		t.Errorf("holder reading another's account: exit %d %v", r.code(), r.err)
	}

	serial := shown.Holdings[0].Serial
	info := decode[registry.SerialInfo](t, mustRun(t, "serial", serial, "--token", auditor, "--json"))
	if info.Serial != serial || len(info.History) == 0 || info.History[0].Kind != "issue" || info.Blocks[0].AccountID != 2 {
		t.Errorf("serial %s: %+v", serial, info)
	}
	r = mustRun(t, "serial", serial)
	if !strings.Contains(r.stdout, "History (") || !strings.Contains(r.stdout, "issued → held") {
		t.Errorf("serial table:\n%s", r.stdout)
	}

	txs := decode[struct{ Transactions []registry.Transaction }](t, mustRun(t, "transactions", "--kind", "transfer", "--token", auditor, "--json"))
	if len(txs.Transactions) == 0 {
		t.Fatal("no transfers listed")
	}
	for _, x := range txs.Transactions {
		if x.Kind != "transfer" {
			t.Errorf("--kind transfer listed %s", x.Kind)
		}
	}
	page := decode[struct{ Transactions []registry.Transaction }](t, mustRun(t, "transactions", "--after", "3", "--limit", "2", "--token", auditor, "--json"))
	if len(page.Transactions) != 2 || page.Transactions[0].Seq != 4 {
		t.Errorf("--after 3 --limit 2: %+v", page.Transactions)
	}
	if r := mustRun(t, "transactions", "--limit", "2", "--token", auditor); !strings.Contains(r.stderr, "--after 2") {
		t.Errorf("a full page does not say how to go on: %q", r.stderr)
	}

	ret := decode[struct{ Retirements []registry.Retirement }](t, mustRun(t, "retirements", "--registry", "TH", "--json"))
	if len(ret.Retirements) != 1 || ret.Retirements[0].Quantity != 2500 || ret.Retirements[0].Blocks[0].AccountID != 0 {
		t.Errorf("TH retirements: %+v", ret.Retirements)
	}

	orgs := decode[struct{ Organisations []ledger.Organisation }](t, mustRun(t, "org", "list", "--token", auditor, "--json"))
	// The administrator, the holders and the organisation acting for the
	// hub.
	if len(orgs.Organisations) != 1+len(demo.Registries[0].Holders)+1 {
		t.Errorf("org list: %+v", orgs)
	}
}

// TestCLIAdministration: an administrator registers an organisation, opens
// its account, issues into it and gives it a token; the new holder uses it;
// suspending the account stops transfers until it is reopened.
func TestCLIAdministration(t *testing.T) {
	s := startCLIServer(t)
	admin := s.tokens["CN/admin"]

	org := decode[registry.Result](t, mustRun(t, "org", "create", "--name", "Fujian Wind Power (test)", "--country", "CN", "--token", admin, "--json"))
	acc := decode[registry.Result](t, mustRun(t, "account", "open", "--org", fmt.Sprint(org.ID), "--type", "holding", "--name", "Fujian wind holding", "--token", admin, "--json"))
	if org.ID == 0 || acc.ID == 0 {
		t.Fatalf("org %+v account %+v", org, acc)
	}
	r := mustRun(t, "issue", "--standard", "CCER", "--unit-type", "CCER", "--project", "CCER-TEST-WIND", "--project-name", "Offshore wind (test)",
		"--methodology", "CCER-01-001-V01", "--host-country", "CN", "--vintage", "2025", "--quantity", "5000", "--account", fmt.Sprint(acc.ID), "--token", admin)
	if !strings.Contains(r.stdout, "issued 5000 CCER units") || !strings.Contains(r.stdout, "CN-CCER-CCER-TEST-WIND-2025-") {
		t.Errorf("issue:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "idempotency key: cli-") {
		t.Errorf("no idempotency key on stderr: %q", r.stderr)
	}
	if got := s.balance(t, "CN", acc.ID, "CCER", ledger.Held); got != 5000 {
		t.Fatalf("new account holds %d", got)
	}

	r = mustRun(t, "token", "create", "--org", fmt.Sprint(org.ID), "--role", "holder", "--name", "desk", "--token", admin)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	tok := lines[len(lines)-1]
	if !strings.HasPrefix(tok, "cor_") {
		t.Fatalf("token not on the last line:\n%s", r.stdout)
	}
	own := decode[struct{ Accounts []registry.AccountView }](t, mustRun(t, "accounts", "--token", tok, "--json"))
	if len(own.Accounts) != 1 || own.Accounts[0].ID != acc.ID {
		t.Errorf("new holder sees %+v", own.Accounts)
	}

	mustRun(t, "account", "suspend", fmt.Sprint(acc.ID), "--token", admin)
	r = run("transfer", "--from", fmt.Sprint(acc.ID), "--to", "4", "--quantity", "10", "--unit-type", "CCER", "--token", tok)
	if r.code() != exitRejected || !strings.Contains(r.err.Error(), ledger.CodeAccountNotOpen) {
		t.Fatalf("transfer from a suspended account: exit %d %v", r.code(), r.err)
	}
	mustRun(t, "account", "reopen", fmt.Sprint(acc.ID), "--token", admin)
	mustRun(t, "transfer", "--from", fmt.Sprint(acc.ID), "--to", "4", "--quantity", "10", "--unit-type", "CCER", "--token", tok)
	if got := s.balance(t, "CN", acc.ID, "CCER", ledger.Held); got != 4990 {
		t.Errorf("after reopen and transfer the account holds %d", got)
	}
	// An account with units cannot close; emptied, it can.
	if r := run("account", "close", fmt.Sprint(acc.ID), "--token", admin); r.code() != exitRejected || !strings.Contains(r.err.Error(), "account_not_empty") {
		t.Fatalf("closing a non-empty account: exit %d %v", r.code(), r.err)
	}
	mustRun(t, "transfer", "--from", fmt.Sprint(acc.ID), "--to", "4", "--quantity", "4990", "--unit-type", "CCER", "--token", tok)
	r = mustRun(t, "account", "close", fmt.Sprint(acc.ID), "--token", admin)
	if !strings.Contains(r.stdout, "is now closed") {
		t.Errorf("close:\n%s", r.stdout)
	}
	if v, _ := s.nodes["CN"].Account(registry.Operator, acc.ID); v.Status != ledger.Closed {
		t.Errorf("account status %s", v.Status)
	}
	// A holder may not create tokens: the server says so, exit 3.
	if r := run("token", "create", "--org", "2", "--role", "admin", "--name", "x", "--token", tok); r.code() != exitRejected || !strings.Contains(r.err.Error(), "forbidden") {
		t.Errorf("holder creating a token: exit %d %v", r.code(), r.err)
	}
}

// TestCLIMoves drives every unit movement and checks the ledger after each.
func TestCLIMoves(t *testing.T) {
	s := startCLIServer(t)
	admin, shanxi, baowu := s.tokens["CN/admin"], s.tokens["CN/holder/2"], s.tokens["CN/holder/4"]
	bal := func(acc int64, st ledger.State) int64 { return s.balance(t, "CN", acc, "CCER", st) }
	h2, h4 := bal(2, ledger.Held), bal(4, ledger.Held)

	r := mustRun(t, "transfer", "--from", "2", "--to", "4", "--quantity", "1500", "--unit-type", "CCER", "--vintage", "2025", "--token", shanxi)
	if bal(2, ledger.Held) != h2-1500 || bal(4, ledger.Held) != h4+1500 || !strings.Contains(r.stdout, "-2025-3-") {
		t.Fatalf("quantity transfer (vintage 2025 is issuance 3):\n%s", r.stdout)
	}
	moved := decode[registry.Result](t, mustRun(t, "transfer", "--from", "2", "--to", "4", "--serial", "CN-CCER-CCER-DEMO-0001-2024-1-200001-200100", "--token", shanxi, "--json"))
	if moved.Quantity != 100 || len(moved.Blocks) != 1 || moved.Blocks[0].Start != 200001 || moved.Blocks[0].AccountID != 4 {
		t.Fatalf("serial transfer: %+v", moved)
	}

	r = mustRun(t, "retire", "--from", "4", "--serial", "CN-CCER-CCER-DEMO-0001-2024-1-200001-200050", "--beneficiary", "Baowu Steel (test)",
		"--purpose", "China ETS compliance offset", "--compliance-year", "2025", "--reason", "test", "--token", baowu)
	retired := s.nodes["CN"].Totals().ByState[ledger.Retired]
	info, err := client.New(s.url, "").Serial(context.Background(), "CN", "CN-CCER-CCER-DEMO-0001-2024-1-200001-200050")
	if err != nil || info.Blocks[0].State != ledger.Retired || !strings.Contains(r.stdout, "retired from account 4 for Baowu Steel (test): 50 units") {
		t.Fatalf("retire: %v %+v\n%s", err, info.Blocks, r.stdout)
	}
	mustRun(t, "cancel", "--from", "4", "--quantity", "25", "--unit-type", "CCER", "--reason", "test", "--token", baowu)
	if c := s.nodes["CN"].Totals().ByState[ledger.Cancelled]; c != 25 {
		t.Errorf("cancelled %d", c)
	}
	// Units that left the account are listed apart from its balance.
	shown := mustRun(t, "account", "show", "4", "--token", baowu).stdout
	balances, left, _ := strings.Cut(shown, "Units that left the account")
	if strings.Contains(balances, "retired") || strings.Contains(balances, "cancelled") || !strings.Contains(left, "retired") || !strings.Contains(left, "cancelled") {
		t.Fatalf("account show 4:\n%s", shown)
	}

	// Two-phase inside the registry: reserve, then the administrator completes.
	res := decode[registry.Result](t, mustRun(t, "reserve", "--from", "4", "--to", "3", "--quantity", "300", "--unit-type", "CCER", "--token", baowu, "--json"))
	if res.Pending == 0 || bal(4, ledger.Reserved) != 300 {
		t.Fatalf("reserve: %+v, reserved %d", res, bal(4, ledger.Reserved))
	}
	h3 := bal(3, ledger.Held)
	r = mustRun(t, "complete", fmt.Sprint(res.Pending), "--token", admin)
	if bal(4, ledger.Reserved) != 0 || bal(3, ledger.Held) != h3+300 || !strings.Contains(r.stdout, "completed") {
		t.Errorf("complete: reserved %d, account 3 held %d → %d\n%s", bal(4, ledger.Reserved), h3, bal(3, ledger.Held), r.stdout)
	}
	// Out of the registry only through the hub: a reservation for TH that
	// the administrator would settle is refused, and nothing moves.
	h4 = bal(4, ledger.Held)
	if r := run("reserve", "--from", "4", "--to-registry", "TH", "--to-account-ref", "TH-4", "--quantity", "200", "--unit-type", "CCER", "--token", baowu); r.code() == 0 ||
		!strings.Contains(fmt.Sprint(r.err), registry.CodeAbroadNeedsHub) || !strings.Contains(fmt.Sprint(r.err), "corridor transfer --to-registry TH") || bal(4, ledger.Held) != h4 {
		t.Fatalf("reserve abroad by the registry authority: exit %d: %v (held %d, was %d)", r.code(), r.err, bal(4, ledger.Held), h4)
	}
	// Reserve, then void; the units come back.
	r = mustRun(t, "reserve", "--from", "4", "--to", "3", "--quantity", "200", "--unit-type", "CCER", "--token", baowu)
	if bal(4, ledger.Held) != h4-200 || !strings.Contains(r.stdout, "corridor void") {
		t.Fatalf("reserve:\n%s", r.stdout)
	}
	pending := s.nodes["CN"].Totals().JournalSeq
	// The owner cannot void its escrow; the registry administrator settles it.
	if r := run("void", fmt.Sprint(pending), "--reason", "buyer withdrew", "--token", baowu); r.code() != exitRejected || !strings.Contains(fmt.Sprint(r.err), ledger.CodeForbidden) {
		t.Errorf("the owner voided its escrow: exit %d: %v", r.code(), r.err)
	}
	mustRun(t, "void", fmt.Sprint(pending), "--reason", "buyer withdrew", "--token", admin)
	if bal(4, ledger.Held) != h4 || bal(4, ledger.Reserved) != 0 {
		t.Errorf("void: held %d (want %d), reserved %d", bal(4, ledger.Held), h4, bal(4, ledger.Reserved))
	}
	if s.nodes["CN"].Totals().ByState[ledger.Retired] != retired {
		t.Error("retired units changed after the retirement")
	}
	// A holder may not complete (only the administrator settles).
	res = decode[registry.Result](t, mustRun(t, "reserve", "--from", "4", "--to", "3", "--quantity", "1", "--unit-type", "CCER", "--token", baowu, "--json"))
	if r := run("complete", fmt.Sprint(res.Pending), "--token", baowu); r.code() != exitRejected {
		t.Errorf("holder completing: exit %d %v", r.code(), r.err)
	}
}

// TestCLIRejected: the server's refusal exits 3 and names the problem's
// code, registry check, detail and field; nothing moves.
func TestCLIRejected(t *testing.T) {
	s := startCLIServer(t)
	shanxi := s.tokens["CN/holder/2"]
	before := s.nodes["CN"].Totals()
	held := s.balance(t, "CN", 2, "CCER", ledger.Held)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"more than held", []string{"transfer", "--from", "2", "--to", "4", "--quantity", fmt.Sprint(held + 1), "--unit-type", "CCER"},
			[]string{ledger.CodeInsufficientUnits, "check 3005", "field units.quantity", fmt.Sprint(held + 1)}},
		{"someone else's account", []string{"transfer", "--from", "3", "--to", "4", "--quantity", "1", "--unit-type", "CCER"},
			[]string{ledger.CodeAccountNotFound, "HTTP 422"}},
		{"unknown acquiring account", []string{"transfer", "--from", "2", "--to", "999", "--quantity", "1", "--unit-type", "CCER"},
			[]string{ledger.CodeAcquiringNotFound}},
		// A transfer to its own account is refused before sending, exit 2
		// (TestCLILocalChecksOffline); the registry's own check is tested
		// in internal/registry.
		{"serial not held", []string{"retire", "--from", "2", "--serial", "CN-CCER-CCER-DEMO-0002-2025-2-1-10", "--beneficiary", "x", "--purpose", "y"},
			[]string{ledger.CodeRangeNotHeld}},
		{"no such registry", []string{"transfer", "--registry", "XX", "--from", "2", "--to", "4", "--quantity", "1", "--unit-type", "CCER"},
			[]string{"registry_not_found", "field registry"}},
		{"holder voids", []string{"void", "424242"}, []string{ledger.CodeForbidden}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(append(tt.args, "--token", shanxi)...)
			if r.code() != exitRejected {
				t.Fatalf("exit %d (%v), want %d", r.code(), r.err, exitRejected)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.err.Error(), w) {
					t.Errorf("message %q lacks %q", r.err, w)
				}
			}
		})
	}
	after := s.nodes["CN"].Totals()
	if after.ByState[ledger.Held] != before.ByState[ledger.Held] || s.balance(t, "CN", 2, "CCER", ledger.Held) != held {
		t.Error("a rejected request moved units")
	}
	// Without a token the write is refused before reaching the ledger.
	if r := run("transfer", "--from", "2", "--to", "4", "--quantity", "1", "--unit-type", "CCER"); r.code() != exitRejected || !strings.Contains(r.err.Error(), "unauthenticated") {
		t.Errorf("no token: exit %d %v", r.code(), r.err)
	}
	// A registry code in lower case is the registry, not "no such registry".
	if out := mustRun(t, "issuances", "--registry", "cn").stdout; !strings.Contains(out, "CN-CCER-") {
		t.Errorf("issuances --registry cn: %q", out)
	}
}

// TestCLIIdempotentReplay: the same --idempotency-key returns the first
// result without moving units again, whether the key was chosen or the one
// printed for a default; another request under the same key is refused.
func TestCLIIdempotentReplay(t *testing.T) {
	s := startCLIServer(t)
	shanxi := s.tokens["CN/holder/2"]
	args := []string{"transfer", "--from", "2", "--to", "4", "--quantity", "700", "--unit-type", "CCER", "--token", shanxi}
	h2, h4 := s.balance(t, "CN", 2, "CCER", ledger.Held), s.balance(t, "CN", 4, "CCER", ledger.Held)

	first := decode[registry.Result](t, mustRun(t, append(args, "--idempotency-key", "order-8812", "--json")...))
	seq := s.nodes["CN"].Totals().JournalSeq
	again := mustRun(t, append(args, "--idempotency-key", "order-8812")...)
	if !strings.Contains(again.stdout, "replayed") || !strings.Contains(again.stdout, fmt.Sprintf("journal entry %d", first.Seq)) {
		t.Errorf("replay output:\n%s", again.stdout)
	}
	replay := decode[registry.Result](t, mustRun(t, append(args, "--idempotency-key", "order-8812", "--json")...))
	if !replay.Replayed || replay.Seq != first.Seq || replay.Blocks[0].Serial != first.Blocks[0].Serial {
		t.Errorf("replay %+v, first %+v", replay, first)
	}
	if s.nodes["CN"].Totals().JournalSeq != seq || s.balance(t, "CN", 2, "CCER", ledger.Held) != h2-700 || s.balance(t, "CN", 4, "CCER", ledger.Held) != h4+700 {
		t.Error("a replay moved units again")
	}

	// The default key is printed; rerunning with it is a replay.
	r := mustRun(t, args...)
	var key string
	if _, err := fmt.Sscanf(r.stderr, "idempotency key: %s", &key); err != nil || !strings.HasPrefix(key, "cli-") {
		t.Fatalf("no key printed: %q", r.stderr)
	}
	if r2 := mustRun(t, append(args, "--idempotency-key", key)...); !strings.Contains(r2.stdout, "replayed") || strings.Contains(r2.stderr, "idempotency key:") {
		t.Errorf("rerun with the printed key:\n%s\n%s", r2.stdout, r2.stderr)
	}
	if got := s.balance(t, "CN", 2, "CCER", ledger.Held); got != h2-1400 {
		t.Errorf("after two distinct transfers and two replays account 2 holds %d, want %d", got, h2-1400)
	}

	// Another request under a used key: exit 3, idempotency_conflict.
	other := []string{"transfer", "--from", "2", "--to", "4", "--quantity", "701", "--unit-type", "CCER", "--token", shanxi, "--idempotency-key", "order-8812"}
	if r := run(other...); r.code() != exitRejected || !strings.Contains(r.err.Error(), ledger.CodeIdempotencyConflict) {
		t.Errorf("reused key: exit %d %v", r.code(), r.err)
	}
}

// TestCLIUnreachable: no server answering exits 4, for reads, writes and
// exports, and names the address.
func TestCLIUnreachable(t *testing.T) {
	s := startCLIServer(t)
	s.close()
	for _, args := range [][]string{
		{"registries"},
		{"accounts", "--token", "x"},
		{"transfer", "--from", "2", "--to", "4", "--quantity", "1", "--unit-type", "CCER", "--token", "x"},
		{"export", "--what", "retirements"},
	} {
		r := run(args...)
		if r.code() != exitUnreachable || !strings.Contains(r.err.Error(), s.url) {
			t.Errorf("%v: exit %d %v", args, r.code(), r.err)
		}
	}
}

// TestCLILocalChecksOffline: input that is wrong on its face (an id that
// is not positive, a transfer to the sending account) exits 2 without a
// request: with no server answering it used to exit 4, as if the server
// were down.
func TestCLILocalChecksOffline(t *testing.T) {
	s := startCLIServer(t)
	s.close()
	units := []string{"--quantity", "1", "--unit-type", "CCER", "--token", "x"}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"transfer", "--from", "0", "--to", "4"}, "--from must be a positive id"},
		{[]string{"transfer", "--from", "2", "--to", "-4"}, "--to must be a positive id"},
		{[]string{"transfer", "--from", "2", "--to", "2"}, "same account"},
		{[]string{"retire", "--from", "0", "--beneficiary", "b", "--purpose", "p"}, "--from must be a positive id"},
		{[]string{"cancel", "--from", "-1"}, "--from must be a positive id"},
		{[]string{"reserve", "--from", "0", "--to", "3"}, "--from must be a positive id"},
		{[]string{"reserve", "--from", "2", "--to", "0"}, "--to must be a positive id"},
		{[]string{"reserve", "--from", "3", "--to", "3"}, "same account"},
		{[]string{"transfer", "--from", "2", "--to", "4", "--issuance", "0"}, "--issuance must be a positive id"},
		{[]string{"transfer", "--from", "2", "--to", "4", "--vintage", "-2024"}, "--vintage must be a year"},
		{[]string{"issue", "--standard", "CCER", "--project", "P", "--host-country", "CN", "--vintage", "2024", "--account", "0"}, "--account must be a positive id"},
		{[]string{"account", "open", "--org", "0", "--name", "n"}, "--org must be a positive id"},
		{[]string{"token", "create", "--org", "-3", "--role", "holder", "--name", "n"}, "--org must be a positive id"},
	}
	for _, tt := range tests {
		args := append(append(tt.args, units...), "--server", s.url)
		if tt.args[0] == "account" || tt.args[0] == "token" {
			args = append(tt.args, "--server", s.url, "--token", "x")
		}
		r := run(args...)
		if r.code() != exitUsage || !strings.Contains(r.err.Error(), tt.want) {
			t.Errorf("%v: exit %d %v (want 2 and %q)", args, r.code(), r.err, tt.want)
		}
	}
}

// TestCLIUsage: bad flags and arguments exit 2 and send nothing.
func TestCLIUsage(t *testing.T) {
	s := startCLIServer(t)
	tok := s.tokens["CN/holder/2"]
	seq := s.nodes["CN"].Totals().JournalSeq
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"transfer", "--from", "2", "--to", "4"}, "say which units"},
		{[]string{"transfer", "--from", "2", "--to", "4", "--quantity", "5", "--unit-type", "CCER", "--serial", "CN-CCER-P-2024-1-1-5"}, "not both"},
		{[]string{"transfer", "--from", "2", "--to", "4", "--quantity", "5"}, "--unit-type"},
		{[]string{"transfer", "--from", "2", "--to", "4", "--serial", "CN-CCER-P-2024-1-1-5", "--vintage", "2024"}, "filter a --quantity"},
		{[]string{"transfer", "--to", "4", "--quantity", "5", "--unit-type", "CCER"}, "--from"},
		{[]string{"transfer", "--from", "two", "--to", "4"}, "--from must be a positive id, not two"},
		{[]string{"transfer", "--frm", "2"}, "unknown flag"},
		{[]string{"retire", "--from", "2", "--quantity", "5", "--unit-type", "CCER"}, "--beneficiary, --purpose"},
		{[]string{"reserve", "--from", "2", "--quantity", "5", "--unit-type", "CCER"}, "say where"},
		{[]string{"reserve", "--from", "2", "--to", "3", "--to-registry", "TH", "--to-account-ref", "x", "--quantity", "5", "--unit-type", "CCER"}, "not both"},
		{[]string{"reserve", "--from", "2", "--to-registry", "TH", "--quantity", "5", "--unit-type", "CCER"}, "go together"},
		{[]string{"account", "show"}, "accepts 1 arg"},
		{[]string{"account", "show", "-3"}, "unknown shorthand flag"},
		{[]string{"account", "show", "abc"}, "positive integer"},
		{[]string{"account", "frobnicate"}, "unknown subcommand"},
		{[]string{"complete", "0"}, "positive integer"},
		{[]string{"token", "create", "--org", "2", "--role", "owner", "--name", "x"}, "--role must be"},
		{[]string{"issue", "--unit-type", "CCER"}, "missing required flag"},
		{[]string{"transactions", "--limit", "5000"}, "--limit"},
		{[]string{"serial"}, "accepts 1 arg"},
		{[]string{"export", "--what", "accounts"}, "--what must be"},
		{[]string{"export", "--what", "holdings", "--format", "pdf"}, "--format must be"},
		{[]string{"export", "--format", "csv"}, "--what"},
		{[]string{"export", "--what", "holdings", "--progress", "sometimes"}, "--progress"},
		// Checked locally: nothing is sent.
		{[]string{"transfer", "--from", "2", "--to", "4", "--serial", "not-a-serial"}, "is not a serial block"},
		{[]string{"transfer", "--from", "2", "--to", "4", "--quantity", "0", "--unit-type", "CCER"}, "--quantity must be a positive"},
		{[]string{"retire", "--from", "2", "--quantity", "-5", "--unit-type", "CCER", "--beneficiary", "b", "--purpose", "p"}, "--quantity must be a positive"},
		{[]string{"issue", "--standard", "CCER", "--unit-type", "CCER", "--project", "P", "--host-country", "CN", "--vintage", "2024", "--quantity", "0", "--account", "2"}, "--quantity must be a positive"},
		{[]string{"issue", "--standard", "CCER", "--unit-type", "VCU", "--project", "P", "--host-country", "CN", "--vintage", "2024", "--quantity", "5", "--account", "2"}, "--unit-type: standard \"CCER\" is the China Certified Emission Reduction programme, which issues CCER units, not VCU"},
		{[]string{"issue", "--standard", "CCER", "--unit-type", "CCER", "--project", "P", "--host-country", "CN", "--vintage", "1990", "--quantity", "5", "--account", "2"}, "(vintage_out_of_range)"},
		{[]string{"reserve", "--from", "2", "--to", "3", "--quantity", "5", "--unit-type", "CCER", "--authority", "bank"}, "--authority must be"},
		{[]string{"reserve", "--from", "2", "--to", "3", "--quantity", "5", "--unit-type", "CCER", "--authority", "venue"}, "--authority-org"},
		{[]string{"reserve", "--from", "2", "--to", "3", "--quantity", "5", "--unit-type", "CCER", "--expires-in", "10s"}, "--expires-in"},
	}
	for _, tt := range tests {
		r := run(append(tt.args, "--token", tok)...)
		if r.code() != exitUsage || !strings.Contains(r.err.Error(), tt.want) {
			t.Errorf("%v: exit %d %v (want 2 and %q)", tt.args, r.code(), r.err, tt.want)
		}
	}
	if s.nodes["CN"].Totals().JournalSeq != seq {
		t.Error("a usage error reached the ledger")
	}
}

// TestCLIHelp: every registry command and export documents itself with an
// example and an environment note, and --help exits 0.
func TestCLIHelp(t *testing.T) {
	var walk func(prefix []string, cmds []*cobra.Command)
	cmds := append(registryCommands(), newExportCmd())
	walk = func(prefix []string, cmds []*cobra.Command) {
		for _, c := range cmds {
			path := append(append([]string{}, prefix...), c.Name())
			if c.Example == "" {
				t.Errorf("corridor %s has no example", strings.Join(path, " "))
			}
			r := run(append(path, "--help")...)
			if r.err != nil || !strings.Contains(r.stdout, "Usage:") {
				t.Errorf("corridor %s --help: %v", strings.Join(path, " "), r.err)
			}
			if len(prefix) == 0 && !strings.Contains(r.stdout, "CORRIDOR_SERVER") {
				t.Errorf("corridor %s --help does not name CORRIDOR_SERVER", c.Name())
			}
			walk(path, c.Commands())
		}
	}
	walk(nil, cmds)
}

// TestCLITokenFromEnvironment: without --token the command uses
// CORRIDOR_TOKEN, and --help never shows the secret.
func TestCLITokenFromEnvironment(t *testing.T) {
	s := startCLIServer(t)
	t.Setenv("CORRIDOR_TOKEN", s.tokens["CN/holder/2"])
	own := decode[struct{ Accounts []registry.AccountView }](t, mustRun(t, "accounts", "--json"))
	if len(own.Accounts) != 1 || own.Accounts[0].ID != 2 {
		t.Errorf("accounts with CORRIDOR_TOKEN: %+v", own.Accounts)
	}
	for _, args := range [][]string{{"accounts", "--help"}, {"account", "show", "--help"}, {"export", "--help"}} {
		if r := mustRun(t, args...); strings.Contains(r.stdout, s.tokens["CN/holder/2"]) {
			t.Errorf("%v prints the token", args)
		}
	}
	// An explicit empty --token overrides the environment: a public read.
	if r := run("accounts", "--token", ""); r.code() != exitRejected || !strings.Contains(r.err.Error(), "unauthenticated") {
		t.Errorf("--token '' still authenticated: exit %d %v", r.code(), r.err)
	}
	t.Setenv("CORRIDOR_REGISTRY", "TH")
	if r := mustRun(t, "retirements", "--json"); !strings.Contains(r.stdout, "TH-TVER-") {
		t.Errorf("CORRIDOR_REGISTRY=TH not used:\n%s", r.stdout)
	}
}

// TestCLIEscrowAuthority: `reserve --authority venue` names the venue as the
// escrow's settlement authority, with the expiry asked for; the registry
// administrator cannot then settle it.
func TestCLIEscrowAuthority(t *testing.T) {
	s := startCLIServer(t)
	admin, baowu := s.tokens["CN/admin"], s.tokens["CN/holder/4"]
	venue := decode[registry.Result](t, mustRun(t, "org", "create", "--name", "Shanghai Environment Exchange (test)", "--country", "CN", "--token", admin, "--json")).ID
	res := decode[registry.Result](t, mustRun(t, "reserve", "--from", "4", "--to", "3", "--quantity", "10", "--unit-type", "CCER",
		"--authority", "venue", "--authority-org", fmt.Sprint(venue), "--expires-in", "2h", "--token", baowu, "--json"))
	if res.Authority == nil || res.Authority.Role != registry.AuthorityVenue || res.Authority.OrgID != venue || !res.ExpiresAt.Equal(res.At.Add(2*time.Hour)) {
		t.Fatalf("reserve: authority %+v expires %v (at %v)", res.Authority, res.ExpiresAt, res.At)
	}
	for _, tok := range []string{admin, baowu} {
		if r := run("complete", fmt.Sprint(res.Pending), "--token", tok); r.code() != exitRejected {
			t.Errorf("settled by someone other than the venue: exit %d %v", r.code(), r.err)
		}
	}
	if s.balance(t, "CN", 4, "CCER", ledger.Reserved) != 10 {
		t.Error("the escrow did not stay in place")
	}
}

// TestCLIUnknownUnitType: --unit-type BOGUS on transfer or retire exits 2
// with unit_type_unknown and the unit types the registry knows (it exited
// 3 with insufficient_units); nothing moves.
func TestCLIUnknownUnitType(t *testing.T) {
	s := startCLIServer(t)
	tok := s.tokens["CN/holder/2"]
	seq := s.nodes["CN"].Totals().JournalSeq
	for _, args := range [][]string{
		{"transfer", "--from", "2", "--to", "4", "--quantity", "1", "--unit-type", "BOGUS"},
		{"retire", "--from", "2", "--quantity", "1", "--unit-type", "BOGUS", "--beneficiary", "x", "--purpose", "voluntary"},
	} {
		r := run(append(args, "--token", tok)...)
		if r.code() != exitUsage || r.err == nil || !strings.Contains(r.err.Error(), "unit_type_unknown") || !strings.Contains(r.err.Error(), "CCER") {
			t.Errorf("%v: exit %d %v; want 2, unit_type_unknown naming CCER", args[0], r.code(), r.err)
		}
	}
	if got := s.nodes["CN"].Totals().JournalSeq; got != seq {
		t.Fatalf("refused moves moved CN's journal from %d to %d", seq, got)
	}
}

// TestCLIIssueUnknownHostCountry: --host-country ZZ is two upper-case
// letters but no ISO 3166-1 country: exit 2, host_country_unknown, nothing
// issued (it was accepted).
func TestCLIIssueUnknownHostCountry(t *testing.T) {
	s := startCLIServer(t)
	before := s.nodes["CN"].Totals()
	r := run("issue", "--standard", "CCER", "--unit-type", "CCER", "--project", "CCER-TEST-ZZ", "--host-country", "ZZ",
		"--vintage", "2025", "--quantity", "10", "--account", "2", "--token", s.tokens["CN/admin"])
	if r.code() != exitUsage || r.err == nil || !strings.Contains(r.err.Error(), "host_country_unknown") || !strings.Contains(r.err.Error(), "field host_country") {
		t.Fatalf("issue --host-country ZZ: exit %d %v; want 2 host_country_unknown", r.code(), r.err)
	}
	if after := s.nodes["CN"].Totals(); after.Issued != before.Issued || after.JournalSeq != before.JournalSeq {
		t.Fatalf("a refused issue changed the ledger: issued %d -> %d", before.Issued, after.Issued)
	}
}
