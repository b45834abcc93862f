package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/client"
	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// corridorCLI is the demo registries CN, ID and TH in an embedded corridor
// whose messages are delivered in the background (Corridor.Start), behind
// the real API handler.
type corridorCLI struct {
	url    string
	nodes  map[string]*registry.Node
	tokens map[string]string // "CN/holder", "TH/holder", "CN/auditor", …
	accs   map[string]int64
}

func startCorridorCLI(t *testing.T, tg storetest.Target, opts ...func(*testing.T, *hub.EmbeddedConfig)) *corridorCLI {
	t.Helper()
	ctx := context.Background()
	s := &corridorCLI{nodes: map[string]*registry.Node{}, tokens: map[string]string{}, accs: map[string]int64{}}
	var members []hub.Member
	var nodes []*registry.Node
	for i, spec := range demo.Registries[:3] {
		db := tg.Open(t)
		if i > 0 {
			db = tg.Fresh(t).Open(t)
		}
		n, err := registry.Open(ctx, db, registry.Options{Code: spec.Code})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Close)
		toks, err := demo.Seed(ctx, n, spec)
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range toks {
			if k := spec.Code + "/" + string(tk.Role); s.tokens[k] == "" {
				s.tokens[k], s.accs[k] = tk.Token, tk.AccountID
			}
		}
		org, err := n.Do(ctx, registry.Actor{Role: ledger.RoleAdmin}, "hub-org", registry.CreateOrganisation{Name: "Corridor hub", Country: "SG"})
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, hub.Member{Node: n, HubOrg: org.ID})
		nodes = append(nodes, n)
		s.nodes[spec.Code] = n
	}
	set, err := agreements.Default()
	if err != nil {
		t.Fatal(err)
	}
	cfg := hub.EmbeddedConfig{HubDB: tg.Fresh(t).Open(t), Members: members, Agreements: set}
	for _, o := range opts {
		o(t, &cfg)
	}
	c, err := hub.Embedded(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	pump, stop := context.WithCancel(ctx)
	c.Start(pump)
	srv := httptest.NewServer(api.New(nodes...).WithLink(c).Handler())
	// Cleanups run last-in first-out: the server and the pump stop before
	// the nodes close.
	t.Cleanup(srv.Close)
	t.Cleanup(stop)
	s.url = srv.URL
	t.Setenv("CORRIDOR_SERVER", s.url)
	t.Setenv("CORRIDOR_TOKEN", "")
	t.Setenv("CORRIDOR_REGISTRY", "CN")
	t.Setenv("CORRIDOR_FORMAT", "")
	t.Setenv("CORRIDOR_WAIT_TIMEOUT", "")
	return s
}

func (s *corridorCLI) reserved(t *testing.T) int64 {
	t.Helper()
	v, err := s.nodes["CN"].Account(registry.Operator, s.accs["CN/holder"])
	if err != nil {
		t.Fatal(err)
	}
	var q int64
	for _, b := range v.Balances {
		if b.State == ledger.Reserved {
			q += b.Quantity
		}
	}
	return q
}

var transferID = regexp.MustCompile(`transfer (CN:\d+) `)

// TestCLITransferAbroad: `corridor transfer --to-registry TH --wait` exits 0
// once the transfer completed and prints its id, status and serial range;
// `transfers show` prints the DES history (1 2 8 4) as a table and as JSON;
// `transfers list` filters; `serial --registry TH` shows the units held in
// TH with the history of both registries; a transfer to an account TH does
// not have exits 3 with the acquirer's finding and the escrow voided.
func TestCLITransferAbroad(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		s := startCorridorCLI(t, tg)
		from, to := fmt.Sprint(s.accs["CN/holder"]), fmt.Sprint(s.accs["TH/holder"])
		r := mustRun(t, "transfer", "--registry", "CN", "--from", from, "--to-registry", "TH", "--to-account", to,
			"--quantity", "300", "--unit-type", "CCER", "--wait", "--token", s.tokens["CN/holder"])
		m := transferID.FindStringSubmatch(r.stdout)
		if m == nil {
			t.Fatalf("no transfer id printed:\n%s", r.stdout)
		}
		id := m[1]
		serial := regexp.MustCompile(`CN-CCER-CCER-DEMO-0001-2024-1-\d+-\d+`).FindString(r.stdout)
		if serial == "" || !strings.Contains(r.stdout, "completed") || !strings.Contains(r.stdout, "account "+to) {
			t.Fatalf("transfer --wait printed:\n%s", r.stdout)
		}

		r = mustRun(t, "transfers", "show", id)
		for _, want := range []string{"1       proposed", "2       checked", "8       accepted", "4       completed", serial, "(account not shown)"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("transfers show lacks %q:\n%s", want, r.stdout)
			}
		}
		if strings.Contains(r.stdout, "expires") {
			t.Errorf("a completed transfer shows an escrow expiry:\n%s", r.stdout)
		}
		tr := decode[client.Transfer](t, mustRun(t, "transfers", "show", id, "--json", "--token", s.tokens["TH/holder"]))
		// --format json is the older spelling, kept (hidden) as an alias.
		if old := decode[client.Transfer](t, mustRun(t, "transfers", "show", id, "--format", "json", "--token", s.tokens["TH/holder"])); !reflect.DeepEqual(old, tr) {
			t.Errorf("transfers show --format json differs from --json:\n%+v\n%+v", old, tr)
		}
		if l := decode[map[string][]client.Transfer](t, mustRun(t, "transfers", "list", "--json")); len(l["transfers"]) == 0 || l["transfers"][0].ID != id {
			t.Errorf("transfers list --json: %+v", l)
		}
		if r := mustRun(t, "transfers", "--help"); strings.Contains(r.stdout, "--format") || !strings.Contains(r.stdout, "--json") {
			t.Errorf("transfers --help shows --format (hidden) or lacks --json:\n%s", r.stdout)
		}
		var sts []int
		for _, h := range tr.History {
			sts = append(sts, h.Status)
		}
		if !slices.Equal(sts, []int{1, 2, 8, 4}) || tr.Quantity != 300 || tr.ToAccount != to || len(tr.Blocks) != 1 || tr.Blocks[0].Serial != serial {
			t.Fatalf("transfers show --format json: %+v", tr)
		}
		if r := mustRun(t, "transfers", "list", "--registry", "TH"); !strings.Contains(r.stdout, id) {
			t.Errorf("transfers list --registry TH lacks %s:\n%s", id, r.stdout)
		}
		if r := mustRun(t, "transfers", "list", "--registry", "ID"); strings.Contains(r.stdout, id) {
			t.Errorf("transfers list --registry ID lists %s:\n%s", id, r.stdout)
		}

		r = mustRun(t, "serial", serial, "--registry", "TH")
		for _, want := range []string{"Blocks now in TH (1 block)", "held", "CN        ", "reserve", "complete", "TH        ", "import"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("serial --registry TH lacks %q:\n%s", want, r.stdout)
			}
		}
		across := decode[serialAcross](t, mustRun(t, "serial", serial, "--registry", "TH", "--json"))
		if across.Origin == nil || len(across.Blocks) != 1 || across.Blocks[0].State != ledger.Held || len(across.Origin.Blocks) != 1 || across.Origin.Blocks[0].State != ledger.Exported {
			t.Fatalf("serial --json across registries: %+v", across)
		}

		// Rejected by the acquirer: exit 3 with the reason; nothing stays reserved.
		r = run("transfer", "--registry", "CN", "--from", from, "--to-registry", "TH", "--to-account", "9999",
			"--quantity", "5", "--unit-type", "CCER", "--wait", "--token", s.tokens["CN/holder"])
		if r.code() != exitRejected || strings.Count(r.err.Error(), ledger.CodeAcquiringNotFound) != 1 || !strings.Contains(r.err.Error(), "terminated") {
			t.Fatalf("transfer to an unknown account: exit %d %v\n%s", r.code(), r.err, r.stdout)
		}
		if q := s.reserved(t); q != 0 {
			t.Fatalf("after the rejection CN reserves %d", q)
		}
	})
}

// TestCLITransferAbroadRefused: input wrong on its face exits 2 with its
// message and sends nothing; an acquiring registry outside the corridor is
// refused by the server (exit 3, registry_not_found) before any
// reservation; --wait-timeout passing before the outcome exits 5; a local
// transfer without --to-registry works as before.
func TestCLITransferAbroadRefused(t *testing.T) {
	s := startCorridorCLI(t, storetest.SQLite(t))
	tok := s.tokens["CN/holder"]
	from, to := fmt.Sprint(s.accs["CN/holder"]), fmt.Sprint(s.accs["TH/holder"])
	units := []string{"--quantity", "5", "--unit-type", "CCER", "--token", tok}
	seq := s.nodes["CN"].Totals().JournalSeq
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"transfer", "--from", from, "--to-registry", "TH"}, "--to-registry needs --to-account"},
		{[]string{"transfer", "--from", from, "--to", "4", "--to-registry", "TH", "--to-account", to}, "not both"},
		{[]string{"transfer", "--from", from, "--to-registry", "CN", "--to-account", to}, "is the sending registry"},
		{[]string{"transfer", "--from", from, "--to", "4", "--wait"}, "for a transfer abroad"},
		{[]string{"transfer", "--from", from, "--to-account", to}, "say where the units go"},
		{[]string{"transfer", "--from", from, "--to-registry", "TH", "--to-account", "0"}, "--to-account must be a positive id"},
		{[]string{"transfer", "--from", from, "--to-registry", "TH", "--to-account", to, "--wait-timeout", "-1s"}, "--wait-timeout must be positive"},
		{[]string{"transfer", "--from", from, "--to-registry", "TH", "--to-account", to, "--expires-in", "1500ms"}, "--expires-in must be whole seconds"},
		// A purpose outside the protocol's list: refused before any
		// reservation (it used to reach the hub, which voided the escrow).
		{[]string{"transfer", "--from", from, "--to-registry", "TH", "--to-account", to, "--purpose", "bogus"}, `--purpose "bogus" is not one of the corridor's purposes: ndc, oimp, icc, voluntary`},
		{[]string{"transfer", "--from", from, "--to-registry", "TH", "--to-account", to, "--purpose", "VOLUNTARY"}, "is not one of the corridor's purposes"},
	} {
		r := run(append(tt.args, units...)...)
		if r.code() != exitUsage || !strings.Contains(r.err.Error(), tt.want) {
			t.Errorf("%v: exit %d %v (want 2 and %q)", tt.args, r.code(), r.err, tt.want)
		}
	}
	for _, args := range [][]string{{"transfers", "show"}, {"transfers", "list", "--format", "xml"}, {"transfers", "list", "--limit", "5000"},
		{"transfers", "list", "--limit", "0"}, {"transfers", "list", "--limit", "-1"}, {"transfers", "bogus"}} {
		if r := run(args...); r.code() != exitUsage {
			t.Errorf("%v: exit %d %v (want 2)", args, r.code(), r.err)
		}
	}
	if got := s.nodes["CN"].Totals().JournalSeq; got != seq {
		t.Fatalf("usage errors moved CN's journal from %d to %d", seq, got)
	}
	// --limit is the API's 1 to 1000: both ends are accepted by both.
	for _, l := range []string{"1", "1000"} {
		mustRun(t, "transfers", "list", "--limit", l)
	}

	r := run(append([]string{"transfer", "--from", from, "--to-registry", "XX", "--to-account", "1"}, units...)...)
	if r.code() != exitRejected || !strings.Contains(r.err.Error(), "registry_not_found") || strings.Contains(r.err.Error(), "role node") {
		t.Fatalf("unknown registry: exit %d %v", r.code(), r.err)
	}
	if got := s.nodes["CN"].Totals().JournalSeq; got != seq {
		t.Fatalf("a send to an unknown registry moved CN's journal from %d to %d", seq, got)
	}
	if r := run("transfers", "show", "CN:424242"); r.code() != exitRejected || !strings.Contains(r.err.Error(), "transfer_not_found") {
		t.Fatalf("transfers show of an unknown id: exit %d %v", r.code(), r.err)
	}

	// The wait gives up before the first answer: exit 5, the transfer goes on.
	r = run(append([]string{"transfer", "--from", from, "--to-registry", "TH", "--to-account", to, "--wait", "--wait-timeout", "1ns"}, units...)...)
	if r.code() != exitNotFinal || !strings.Contains(r.err.Error(), "transfers show CN:") {
		t.Fatalf("--wait-timeout 1ns: exit %d %v", r.code(), r.err)
	}

	// Within the registry, as before.
	r = mustRun(t, "transfer", "--from", from, "--to", fmt.Sprint(s.accs["CN/holder"]+1), "--quantity", "1", "--unit-type", "CCER", "--token", tok)
	if !strings.Contains(r.stdout, "transferred from account "+from) || !strings.Contains(r.stdout, ": 1 unit in 1 block") {
		t.Fatalf("local transfer printed:\n%s", r.stdout)
	}
	// Abroad, one unit: singular nouns, and the hub's record too.
	r = mustRun(t, "transfer", "--from", from, "--to-registry", "TH", "--to-account", to, "--quantity", "1", "--unit-type", "CCER", "--token", tok)
	if !strings.Contains(r.stdout, "; 1 unit in 1 block reserved in escrow") {
		t.Fatalf("send of 1 unit printed:\n%s", r.stdout)
	}
	r = mustRun(t, "transfer", "--from", from, "--to-registry", "TH", "--to-account", to, "--quantity", "1", "--unit-type", "CCER", "--token", tok, "--wait")
	if !strings.Contains(r.stdout, "), 1 unit; waiting") || !strings.Contains(r.stdout, "Serial ranges (1 range)") || !strings.Contains(r.stdout, "History (4 status changes)") {
		t.Fatalf("send of 1 unit with --wait printed:\n%s", r.stdout)
	}
}

// TestCLISerialAcrossRegistries: units go CN → TH and back TH → CN; the
// serial's history, looked up from either registry, is one list of every
// registry's events in time order, each naming its registry (it was the
// looked-up registry's events only, or the origin's followed by the
// other's); the blocks in the other registry are listed; a record of a
// foreign issuance gives the origin's issuance time and says when the
// import recorded it.
func TestCLISerialAcrossRegistries(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		s := startCorridorCLI(t, tg)
		cn, th := fmt.Sprint(s.accs["CN/holder"]), fmt.Sprint(s.accs["TH/holder"])
		r := mustRun(t, "transfer", "--registry", "CN", "--from", cn, "--to-registry", "TH", "--to-account", th,
			"--quantity", "300", "--unit-type", "CCER", "--wait", "--token", s.tokens["CN/holder"])
		serial := regexp.MustCompile(`CN-CCER-CCER-DEMO-0001-2024-1-\d+-\d+`).FindString(r.stdout)
		if serial == "" {
			t.Fatalf("no serial printed:\n%s", r.stdout)
		}
		// Half of it comes back.
		sr, err := ledger.ParseSerial(serial)
		if err != nil {
			t.Fatal(err)
		}
		half := sr
		half.End = sr.Start + 149
		mustRun(t, "transfer", "--registry", "TH", "--from", th, "--to-registry", "CN", "--to-account", cn,
			"--serial", half.String(), "--wait", "--token", s.tokens["TH/holder"])

		want := []string{"CN/issue", "CN/reserve", "CN/complete", "TH/import", "TH/reserve", "TH/complete", "CN/import"}
		for _, reg := range []string{"CN", "TH"} {
			v := decode[serialAcross](t, mustRun(t, "serial", serial, "--registry", reg, "--json"))
			var got []string
			for i, h := range v.History {
				got = append(got, h.Registry+"/"+h.Kind)
				if i > 0 && h.At.Before(v.History[i-1].At) {
					t.Errorf("--registry %s: event %d (%s) is before event %d", reg, i, got[i], i-1)
				}
			}
			// The demo may have moved the range before (a local transfer):
			// compare the events from the issuance's escrow on.
			got = slices.DeleteFunc(got, func(e string) bool { return e == "CN/transfer" })
			if !slices.Equal(got, want) {
				t.Errorf("--registry %s: history %v, want %v", reg, got, want)
			}
		}

		r = mustRun(t, "serial", serial, "--registry", "CN")
		for _, want := range []string{"Blocks now in CN (", "Blocks in other registries (1 block)", "TH        " + sr.Registry, "History (", "in CN, TH, in time order"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("serial --registry CN lacks %q:\n%s", want, r.stdout)
			}
		}
		cnView := decode[serialAcross](t, mustRun(t, "serial", serial, "--registry", "CN", "--json"))
		issued := "issued in CN " + cnView.Issuance.CreatedAt.UTC().Format(time.RFC3339)
		r = mustRun(t, "serial", serial, "--registry", "TH")
		if !strings.Contains(r.stdout, issued) || !strings.Contains(r.stdout, "recorded      in TH as issuance") || !strings.Contains(r.stdout, "by the first import") {
			t.Errorf("serial --registry TH does not give the origin's issuance time (%s) and the import's:\n%s", issued, r.stdout)
		}
	})
}

func TestCount(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{{0, "0 units"}, {1, "1 unit"}, {2, "2 units"}, {-1, "-1 units"}, {1000, "1000 units"}} {
		if got := count(c.n, "unit", "units"); got != c.want {
			t.Errorf("count(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}

// TestPrintTransferEscrowOnlyWhileOpen: the escrow's expiry is printed
// while the transfer is in flight, not once it is final (its escrow is
// settled then, and "expires" read as still pending).
func TestPrintTransferEscrowOnlyWhileOpen(t *testing.T) {
	exp := time.Date(2026, 12, 2, 17, 3, 44, 0, time.UTC)
	for _, c := range []struct {
		status int
		name   string
		final  bool
	}{{8, "accepted", false}, {4, "completed", true}, {7, "cancelled", true}} {
		var out bytes.Buffer
		tr := client.Transfer{ID: "CN:26", Status: c.status, StatusName: c.name, Final: c.final, FromRegistry: "CN", ToRegistry: "TH",
			Quantity: 4000, UnitType: "CCER", Purpose: "voluntary", EscrowExpiresAt: exp}
		if err := printTransfer(&out, tr); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(out.String(), "escrow   expires 2026-12-02T17:03:44Z"); got == c.final {
			t.Errorf("status %d (final %v): expiry printed %v:\n%s", c.status, c.final, got, out.String())
		}
	}
}
