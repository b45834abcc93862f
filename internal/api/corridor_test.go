package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/client"
	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// corridorWorld is the demo registries CN, ID and TH, each on its own
// database, in an embedded corridor behind the real API handler.
type corridorWorld struct {
	*world
	c      *hub.Corridor
	nodes  map[string]*registry.Node
	tokens map[string]string // "CN/holder", "CN/other", "CN/auditor", "TH/holder", …
	accs   map[string]int64  // "CN/holder", "TH/holder", …
}

func newCorridorWorld(t *testing.T, tg storetest.Target, opts ...func(*testing.T, *hub.EmbeddedConfig)) *corridorWorld {
	t.Helper()
	return newCorridorWorldOf(t, tg, demo.Registries[:3], opts...)
}

// newCorridorWorldOf is newCorridorWorld with the demo registries specs.
func newCorridorWorldOf(t *testing.T, tg storetest.Target, specs []demo.Registry, opts ...func(*testing.T, *hub.EmbeddedConfig)) *corridorWorld {
	t.Helper()
	ctx := context.Background()
	cw := &corridorWorld{nodes: map[string]*registry.Node{}, tokens: map[string]string{}, accs: map[string]int64{}}
	var members []hub.Member
	var nodes []*registry.Node
	for i, spec := range specs {
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
			role := string(tk.Role)
			if tk.Role == ledger.RoleHolder && cw.tokens[spec.Code+"/holder"] != "" {
				role = "other"
			}
			if cw.tokens[spec.Code+"/"+role] == "" {
				cw.tokens[spec.Code+"/"+role], cw.accs[spec.Code+"/"+role] = tk.Token, tk.AccountID
			}
		}
		org, err := n.Do(ctx, registry.Actor{Role: ledger.RoleAdmin}, "hub-org", registry.CreateOrganisation{Name: "Corridor hub", Country: "SG"})
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, hub.Member{Node: n, HubOrg: org.ID})
		nodes = append(nodes, n)
		cw.nodes[spec.Code] = n
	}
	set, err := agreements.Default()
	if err != nil {
		t.Fatal(err)
	}
	cfg := hub.EmbeddedConfig{HubDB: tg.Fresh(t).Open(t), Members: members, Agreements: set}
	for _, o := range opts {
		o(t, &cfg)
	}
	cw.c, err = hub.Embedded(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(nodes...).WithLink(cw.c).Handler())
	t.Cleanup(srv.Close)
	cw.world = &world{srv: srv, node: cw.nodes["CN"]}
	return cw
}

// deliver runs the corridor's messages until it is quiet.
func (cw *corridorWorld) deliver(t *testing.T) {
	t.Helper()
	if err := cw.c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (cw *corridorWorld) balance(t *testing.T, code, acc string, state ledger.State) int64 {
	t.Helper()
	v, err := cw.nodes[code].Account(registry.Operator, cw.accs[code+"/"+acc])
	if err != nil {
		t.Fatal(err)
	}
	var q int64
	for _, b := range v.Balances {
		if b.State == state {
			q += b.Quantity
		}
	}
	return q
}

func (cw *corridorWorld) send(qty int64, toAccount int64, extra string) string {
	return fmt.Sprintf(`{"from_account":%d,"to_registry":"TH","to_account":%d,"quantity":%d,"unit_type":"CCER"%s}`, cw.accs["CN/holder"], toAccount, qty, extra)
}

func statusesOf(tr client.Transfer) []int {
	var out []int
	for _, h := range tr.History {
		out = append(out, h.Status)
	}
	return out
}

const crossBorder = "/api/v1/registries/CN/transfers/cross-border"

// TestCrossBorderThroughAPI: a CN holder sends CCER to a TH account through
// the API; the answer is 202 with the id, status 1 and the reserved serial
// blocks in their origin form; a replay of the key answers the same
// transfer without reserving twice; the hub's record completes (1 2 8 4)
// and TH holds the serials; account numbers are shown to the parties only;
// an unknown acquiring account ends rejected and terminated (1 2 6 5) with
// the acquirer's finding; the list filters by registry and activity.
func TestCrossBorderThroughAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		cw := newCorridorWorld(t, tg)
		ctx := context.Background()
		holder := client.New(cw.srv.URL, cw.tokens["CN/holder"])
		heldBefore := cw.balance(t, "CN", "holder", ledger.Held)

		st, m, h := cw.raw(t, "POST", crossBorder, cw.tokens["CN/holder"], "x-1", cw.send(100, cw.accs["TH/holder"], ""))
		if st != 202 {
			t.Fatalf("send: %d %v", st, m)
		}
		id, _ := m["id"].(string)
		if !strings.HasPrefix(id, "CN:") || m["status"] != 1.0 || m["status_name"] != "proposed" || m["quantity"] != 100.0 || h.Get("Location") != "/api/v1/transfers/"+id {
			t.Fatalf("send answered %v, Location %q", m, h.Get("Location"))
		}
		blocks, _ := m["blocks"].([]any)
		if len(blocks) != 1 || !strings.HasPrefix(blocks[0].(map[string]any)["serial"].(string), "CN-CCER-CCER-DEMO-0001-2024-") {
			t.Fatalf("reserved blocks %v", m["blocks"])
		}
		serial := blocks[0].(map[string]any)["serial"].(string)
		// The same key and body: the same transfer, nothing reserved twice.
		again, err := holder.SendAbroad(ctx, "CN", "x-1", client.CrossBorder{FromAccount: cw.accs["CN/holder"], ToRegistry: "TH", ToAccount: cw.accs["TH/holder"], Quantity: 100, UnitType: "CCER"})
		if err != nil || again.ID != id || len(again.Blocks) != 1 || again.Blocks[0].Serial != serial {
			t.Fatalf("replay: %+v %v", again, err)
		}
		if r := cw.balance(t, "CN", "holder", ledger.Reserved); r != 100 {
			t.Fatalf("after a replay CN reserves %d, want 100", r)
		}

		cw.deliver(t)
		anon := client.New(cw.srv.URL, "")
		tr, err := anon.Transfer(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(statusesOf(tr), []int{1, 2, 8, 4}) || tr.Status != 4 || tr.StatusName != "completed" || !tr.Final ||
			tr.FromRegistry != "CN" || tr.ToRegistry != "TH" || tr.Quantity != 100 || tr.Purpose != api.DefaultPurpose || len(tr.Blocks) != 1 || tr.Blocks[0].Serial != serial {
			t.Fatalf("hub record %+v", tr)
		}
		if tr.FromAccount != "" || tr.ToAccount != "" {
			t.Fatalf("anonymous sees accounts %q → %q", tr.FromAccount, tr.ToAccount)
		}
		for _, who := range []string{"CN/holder", "TH/holder", "CN/auditor", "TH/admin"} {
			tr, err := client.New(cw.srv.URL, cw.tokens[who]).Transfer(ctx, id)
			if err != nil || tr.FromAccount != fmt.Sprint(cw.accs["CN/holder"]) || tr.ToAccount != fmt.Sprint(cw.accs["TH/holder"]) {
				t.Fatalf("%s sees accounts %q → %q (%v)", who, tr.FromAccount, tr.ToAccount, err)
			}
		}
		if tr, _ := client.New(cw.srv.URL, cw.tokens["CN/other"]).Transfer(ctx, id); tr.FromAccount != "" || tr.ToAccount != "" {
			t.Fatalf("a holder who is no party sees accounts %q → %q", tr.FromAccount, tr.ToAccount)
		}
		if cw.balance(t, "CN", "holder", ledger.Exported) != 100 || cw.balance(t, "CN", "holder", ledger.Held) != heldBefore-100 {
			t.Fatalf("CN exported %d held %d", cw.balance(t, "CN", "holder", ledger.Exported), cw.balance(t, "CN", "holder", ledger.Held))
		}
		info, err := anon.Serial(ctx, "TH", serial)
		if err != nil || len(info.Blocks) != 1 || info.Blocks[0].State != ledger.Held || info.Blocks[0].Serial != serial {
			t.Fatalf("TH serial %s: %+v %v", serial, info.Blocks, err)
		}

		// Rejected by the acquirer: the account does not exist there.
		st, m, _ = cw.raw(t, "POST", crossBorder, cw.tokens["CN/holder"], "x-2", cw.send(7, 9999, `,"purpose":"voluntary"`))
		if st != 202 {
			t.Fatalf("send to an unknown account: %d %v", st, m)
		}
		rejected := m["id"].(string)
		cw.deliver(t)
		tr, err = holder.Transfer(ctx, rejected)
		if err != nil || !slices.Equal(statusesOf(tr), []int{1, 2, 6, 5}) || tr.StatusName != "terminated" || !tr.Final {
			t.Fatalf("rejected record %+v %v", tr, err)
		}
		if f := tr.History[2].Findings; len(f) != 1 || f[0].Code != ledger.CodeAcquiringNotFound {
			t.Fatalf("rejection findings %+v", f)
		}
		if r := cw.balance(t, "CN", "holder", ledger.Reserved); r != 0 {
			t.Fatalf("after the rejection CN still reserves %d", r)
		}

		all, err := anon.Transfers(ctx, client.TransferQuery{Registry: "TH"})
		if err != nil || len(all) != 2 || all[0].ID != rejected || all[1].ID != id {
			t.Fatalf("transfers of TH: %+v %v", all, err)
		}
		if l, err := anon.Transfers(ctx, client.TransferQuery{Registry: "ID"}); err != nil || len(l) != 0 {
			t.Fatalf("transfers of ID: %+v %v", l, err)
		}
		if l, err := anon.Transfers(ctx, client.TransferQuery{Active: true}); err != nil || len(l) != 0 {
			t.Fatalf("active transfers: %+v %v", l, err)
		}
		if l, err := anon.Transfers(ctx, client.TransferQuery{Limit: 1}); err != nil || len(l) != 1 || l[0].ID != rejected {
			t.Fatalf("limit 1: %+v %v", l, err)
		}
		// limit is 1 to 1000, as the CLI's --limit: 0 is no silent "none"
		// (or "everything").
		for _, q := range []string{"limit=0", "limit=1001", "limit=-1", "limit=x"} {
			if st, m, _ := cw.raw(t, "GET", "/api/v1/transfers?"+q, "", "", ""); st != 400 || m["code"] != "invalid_query" || m["field"] != "limit" {
				t.Errorf("%s: %d %v", q, st, m)
			}
		}
		if l, err := anon.Transfers(ctx, client.TransferQuery{Limit: 1000}); err != nil || len(l) != 2 {
			t.Fatalf("limit 1000: %+v %v", l, err)
		}
		if st, m, _ := cw.raw(t, "GET", "/api/v1/transfers?active=maybe", "", "", ""); st != 400 || m["code"] != "invalid_query" || m["field"] != "active" {
			t.Fatalf("active=maybe: %d %v", st, m)
		}
		if st, m, _ := cw.raw(t, "GET", "/api/v1/transfers?registry=XX", "", "", ""); st != 404 || m["code"] != "registry_not_found" || m["field"] != "registry" {
			t.Fatalf("registry=XX (not in the corridor): %d %v", st, m)
		}
		if st, m, _ := cw.raw(t, "GET", "/api/v1/transfers/CN:424242", "", "", ""); st != 404 || m["code"] != "transfer_not_found" {
			t.Fatalf("unknown transfer: %d %v", st, m)
		}
		if bad := hub.CheckCorridor(cw.nodes["CN"], cw.nodes["ID"], cw.nodes["TH"]); len(bad) > 0 {
			t.Fatalf("corridor conservation: %v", bad)
		}
	})
}

// TestCrossBorderRefusals: every refusal of a cross-border send has its
// status and code, and none reserves anything (the sending registry's
// journal does not move): an acquiring registry outside the corridor, the
// same registry, bad bodies, missing key, no token, a role that may not
// move units, another organisation's account, a key reused for another
// request; a server without a corridor (or a nil one)
// answers corridor_not_served.
func TestCrossBorderRefusals(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		cw := newCorridorWorld(t, tg)
		tok := cw.tokens["CN/holder"]
		from, to := cw.accs["CN/holder"], cw.accs["TH/holder"]
		seq := cw.nodes["CN"].Totals().JournalSeq
		for i, c := range []struct {
			name, token, key, body string
			status                 int
			code, field            string
		}{
			{"unknown registry", tok, "r1", fmt.Sprintf(`{"from_account":%d,"to_registry":"XX","to_account":1,"quantity":5,"unit_type":"CCER"}`, from), 422, "registry_not_found", "to_registry"},
			{"the hub is no registry", tok, "r2", fmt.Sprintf(`{"from_account":%d,"to_registry":"HUB","to_account":1,"quantity":5,"unit_type":"CCER"}`, from), 422, "registry_not_found", "to_registry"},
			{"same registry", tok, "r3", fmt.Sprintf(`{"from_account":%d,"to_registry":"CN","to_account":%d,"quantity":5,"unit_type":"CCER"}`, from, to), 400, "same_registry", "to_registry"},
			{"unknown field", tok, "r4", fmt.Sprintf(`{"from_account":%d,"to_registry":"TH","to_account":%d,"quantity":5,"unit_type":"CCER","memo":"x"}`, from, to), 400, "unknown_field", "memo"},
			{"duplicate key", tok, "r5", fmt.Sprintf(`{"from_account":%d,"to_registry":"TH","to_registry":"ID","to_account":%d,"quantity":5,"unit_type":"CCER"}`, from, to), 400, "duplicate_key", "to_registry"},
			{"no to_account", tok, "r6", fmt.Sprintf(`{"from_account":%d,"to_registry":"TH","quantity":5,"unit_type":"CCER"}`, from), 400, "field_missing", "to_account"},
			{"quantity not a number", tok, "r7", fmt.Sprintf(`{"from_account":%d,"to_registry":"TH","to_account":%d,"quantity":"5","unit_type":"CCER"}`, from, to), 400, "type_invalid", "quantity"},
			{"NUL in purpose", tok, "r8", fmt.Sprintf(`{"from_account":%d,"to_registry":"TH","to_account":%d,"quantity":5,"unit_type":"CCER","purpose":"vol\u0000"}`, from, to), 400, "text_invalid", "purpose"},
			{"no key", tok, "", cw.send(5, to, ""), 400, "idempotency_key_missing", "Idempotency-Key"},
			{"no token", "", "r9", cw.send(5, to, ""), 401, "unauthenticated", ""},
			{"auditor", cw.tokens["CN/auditor"], "r10", cw.send(5, to, ""), 403, ledger.CodeForbidden, ""},
			{"another holder's account (not probeable)", cw.tokens["CN/other"], "r11", cw.send(5, to, ""), 422, ledger.CodeAccountNotFound, "from_account"},
			{"more than held", tok, "r12", cw.send(ledger.MaxSerial, to, ""), 409, "insufficient_units", "quantity"},
			// The body is flat: a refusal names its own fields, never the
			// registry's reserve request (units.quantity).
			{"negative quantity", tok, "r14", cw.send(-5, to, ""), 400, ledger.CodeQuantityInvalid, "quantity"},
			{"no unit type", tok, "r15", fmt.Sprintf(`{"from_account":%d,"to_registry":"TH","to_account":%d,"quantity":5}`, from, to), 400, ledger.CodeMixedUnitTypes, "unit_type"},
			{"bad unit type", tok, "r16", fmt.Sprintf(`{"from_account":%d,"to_registry":"TH","to_account":%d,"quantity":5,"unit_type":"ccer"}`, from, to), 400, "unit_type_unknown", "unit_type"},
			{"bad serial", tok, "r17", fmt.Sprintf(`{"from_account":%d,"to_registry":"TH","to_account":%d,"serials":["CN-CCER-CCER-DEMO-0001-2024-1-1-1","bogus"]}`, from, to), 400, ledger.CodeSerialInvalid, "serials[1]"},
			{"serials and a quantity", tok, "r18", cw.send(5, to, `,"serials":["CN-CCER-CCER-DEMO-0001-2024-1-1-1"]`), 400, ledger.CodeInvalid, "serials"},
			{"escrow too short", tok, "r19", cw.send(5, to, `,"expires_in":1`), 400, ledger.CodeInvalid, "expires_in"},
			{"no from_account", tok, "r20", fmt.Sprintf(`{"to_registry":"TH","to_account":%d,"quantity":5,"unit_type":"CCER"}`, to), 400, "field_missing", "from_account"},
			{"no to_registry", tok, "r21", fmt.Sprintf(`{"from_account":%d,"to_account":%d,"quantity":5,"unit_type":"CCER"}`, from, to), 400, "field_missing", "to_registry"},
			// A purpose outside the protocol's list is refused before the
			// escrow is made, not by the hub after it.
			{"unknown purpose", tok, "r22", cw.send(5, to, `,"purpose":"bogus"`), 400, "purpose_unknown", "purpose"},
			{"purpose in another case", tok, "r23", cw.send(5, to, `,"purpose":"Voluntary"`), 400, "purpose_unknown", "purpose"},
		} {
			st, m, _ := cw.raw(t, "POST", crossBorder, c.token, c.key, c.body)
			if st != c.status || m["code"] != c.code || c.field != "" && m["field"] != c.field {
				t.Errorf("%d %s: %d %v, want %d %s [%s]", i, c.name, st, m, c.status, c.code, c.field)
			}
			if d, _ := m["detail"].(string); strings.Contains(d, "units.") {
				t.Errorf("%d %s: the detail names the registry's fields: %q", i, c.name, d)
			}
		}
		if got := cw.nodes["CN"].Totals().JournalSeq; got != seq {
			t.Fatalf("refused sends moved CN's journal from %d to %d", seq, got)
		}
		if l, _ := cw.c.Transfers(context.Background(), hub.TransferFilter{}); len(l) != 0 {
			t.Fatalf("refused sends reached the hub: %+v", l)
		}

		// The same key with another request is refused, as on every write.
		if st, m, _ := cw.raw(t, "POST", crossBorder, tok, "k-1", cw.send(5, to, "")); st != 202 {
			t.Fatalf("send: %d %v", st, m)
		}
		if st, m, _ := cw.raw(t, "POST", crossBorder, tok, "k-1", cw.send(6, to, "")); st != 409 || m["code"] != "idempotency_conflict" {
			t.Errorf("same key, other quantity: %d %v", st, m)
		}

		// A nil *hub.Corridor handed over as the link is no corridor either.
		plain := &world{srv: httptest.NewServer(api.New(cw.nodes["CN"]).WithLink((*hub.Corridor)(nil)).Handler())}
		defer plain.srv.Close()
		for _, p := range []string{"/api/v1/transfers", "/api/v1/transfers/CN:1"} {
			if st, m, _ := plain.raw(t, "GET", p, "", "", ""); st != 404 || m["code"] != "corridor_not_served" {
				t.Errorf("GET %s without a corridor: %d %v", p, st, m)
			}
		}
		if st, m, _ := plain.raw(t, "POST", crossBorder, tok, "r13", cw.send(5, to, "")); st != 404 || m["code"] != "corridor_not_served" {
			t.Errorf("send without a corridor: %d %v", st, m)
		}
	})
}

// TestCorridorRegistries: GET /api/v1/registries lists the hub and every
// registry of the corridor with name, party and role, and the totals of
// the ones this server runs.
func TestCorridorRegistries(t *testing.T) {
	cw := newCorridorWorld(t, storetest.SQLite(t))
	regs, err := client.New(cw.srv.URL, "").Registries(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, r := range regs {
		codes = append(codes, r.Code+"/"+r.Role)
		switch {
		case r.Role == "hub":
			// The embedded hub runs in this server: served, no totals.
			if !r.Served || r.Totals != nil {
				t.Errorf("hub entry %+v", r)
			}
		case !r.Served || r.Totals == nil || r.Registry != r.Code || r.Name == "" || r.Party != r.Code[:2] || r.Issued == 0:
			t.Errorf("registry entry %+v", r)
		}
	}
	if want := []string{"HUB/hub", "CN/node", "ID/node", "TH/node"}; !slices.Equal(codes, want) {
		t.Fatalf("registries %v, want %v", codes, want)
	}
}

// TestCorridorOpenAPI: the document has the corridor routes, and its
// schemas name exactly the JSON fields the server and the client use.
func TestCorridorOpenAPI(t *testing.T) {
	rec := httptest.NewRecorder()
	api.New().Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	raw := rec.Body.Bytes()
	var doc struct {
		Paths      map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for p, m := range map[string]string{"/api/v1/registries/{registry}/transfers/cross-border": "post", "/api/v1/transfers": "get", "/api/v1/transfers/{id}": "get", "/api/v1/registries": "get"} {
		if doc.Paths[p][m] == nil {
			t.Errorf("OpenAPI lacks %s %s", m, p)
		}
	}
	for schema, types := range map[string][]reflect.Type{
		"CrossBorderRequest":   {reflect.TypeFor[api.CrossBorderRequest](), reflect.TypeFor[client.CrossBorder]()},
		"CrossBorderSent":      {reflect.TypeFor[api.SentView](), reflect.TypeFor[client.Sent]()},
		"CorridorTransfer":     {reflect.TypeFor[api.TransferView](), reflect.TypeFor[client.Transfer]()},
		"CorridorBlock":        {reflect.TypeFor[api.BlockView](), reflect.TypeFor[client.Block]()},
		"CorridorStatusChange": {reflect.TypeFor[api.StatusChangeView](), reflect.TypeFor[client.StatusChange]()},
	} {
		var want []string
		for name := range doc.Components.Schemas[schema].Properties {
			want = append(want, name)
		}
		slices.Sort(want)
		for _, typ := range types {
			if got := jsonFields(typ); !slices.Equal(got, want) {
				t.Errorf("%s: %v has fields %v, the OpenAPI schema %v", schema, typ, got, want)
			}
		}
	}
}

func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
