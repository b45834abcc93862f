package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// corridorNode is one registry of the test corridor: a holder with an
// account (and a token to sign in with) and an organisation for the hub.
type corridorNode struct {
	node   *registry.Node
	holder registry.Actor
	token  string
	acc    int64
}

// corridorSite is the dashboard over an embedded corridor of CN (10,000
// CCER on its holder's account), TH and ID, served over HTTP. The
// corridor's messages move only when the test delivers them.
type corridorSite struct {
	c     *hub.Corridor
	site  *Site
	srv   *httptest.Server
	nodes map[string]*corridorNode
	keys  int
}

func newCorridorSite(t testing.TB, tg storetest.Target, opts ...func(testing.TB, *hub.EmbeddedConfig)) *corridorSite {
	t.Helper()
	ctx := context.Background()
	cs := &corridorSite{nodes: map[string]*corridorNode{}}
	var members []hub.Member
	var nodes []*registry.Node
	for i, code := range []string{"CN", "TH", "ID"} {
		db := tg.Fresh(t).Open(t)
		n, err := registry.Open(ctx, db, registry.Options{Code: code})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Close)
		step := 0
		do := func(req registry.Request) registry.Result {
			t.Helper()
			step++
			res, err := n.Do(ctx, registry.Actor{Role: ledger.RoleAdmin}, fmt.Sprintf("seed-%d", step), req)
			if err != nil {
				t.Fatalf("%s seed %s: %v", code, req.Kind(), err)
			}
			return res
		}
		cn := &corridorNode{node: n}
		org := do(registry.CreateOrganisation{Name: "Holder " + code, Country: code}).ID
		cn.holder = registry.Actor{OrgID: org, Role: ledger.RoleHolder}
		cn.acc = do(registry.OpenAccount{OrgID: org, Type: ledger.Holding, Name: "Main " + code}).ID
		cn.token = do(registry.CreateToken{OrgID: org, Role: ledger.RoleHolder, Name: "holder"}).Token
		hubOrg := do(registry.CreateOrganisation{Name: "Corridor hub", Country: "SG"}).ID
		if i == 0 {
			do(registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "CCER-14-2024-001", Methodology: "CCER-14-001-V01",
				HostCountry: "CN", Vintage: 2024, Quantity: 10000}, AccountID: cn.acc})
		}
		cs.nodes[code] = cn
		members = append(members, hub.Member{Node: n, HubOrg: hubOrg})
		nodes = append(nodes, n)
	}
	set, err := agreements.Default()
	if err != nil {
		t.Fatal(err)
	}
	cfg := hub.EmbeddedConfig{HubDB: tg.Fresh(t).Open(t), Members: members, Agreements: set}
	for _, o := range opts {
		o(t, &cfg)
	}
	cs.c, err = hub.Embedded(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cs.site = New(nodes...).WithLink(cs.c)
	mux := http.NewServeMux()
	mux.Handle("/api/", api.New(nodes...).Handler())
	mux.Handle("/", cs.site.Handler())
	cs.srv = httptest.NewServer(mux)
	t.Cleanup(cs.srv.Close)
	return cs
}

// send proposes qty CCER from CN's holder to the holder's account in to.
func (cs *corridorSite) send(t testing.TB, to string, qty int64) string {
	t.Helper()
	cs.keys++
	cn := cs.nodes["CN"]
	sent, err := cs.c.Send(context.Background(), "CN", hub.Send{Actor: cn.holder, Key: fmt.Sprintf("test-%d", cs.keys), From: cn.acc,
		ToRegistry: to, ToAccount: cs.nodes[to].acc, Units: registry.Units{Quantity: qty, UnitType: "CCER"}, Purpose: "voluntary"})
	if err != nil {
		t.Fatal(err)
	}
	return sent.ID
}

// deliver moves the corridor's messages until it is quiet.
func (cs *corridorSite) deliver(t testing.TB) {
	t.Helper()
	if err := cs.c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// deliverOne delivers the one message queued (a proposal): the hub
// records and checks it, and the transfer stays in flight.
func (cs *corridorSite) deliverOne(t testing.TB) {
	t.Helper()
	if _, err := cs.c.Transport.Run(context.Background(), 1); err != nil && !errors.Is(err, hub.ErrBusy) {
		t.Fatal(err)
	}
}

// completedAndInFlight makes a completed CN → TH transfer of 300 and a
// CN → TH transfer of 50 the hub has checked (status 2) but that goes no
// further until the test delivers again.
func (cs *corridorSite) completedAndInFlight(t testing.TB) (done, flying string) {
	t.Helper()
	done = cs.send(t, "TH", 300)
	cs.deliver(t)
	flying = cs.send(t, "TH", 50)
	cs.deliverOne(t)
	for id, want := range map[string]protocol.Status{done: protocol.StatusCompleted, flying: protocol.StatusChecked} {
		tr, err := cs.c.Transfer(context.Background(), id)
		if err != nil || tr.Status != want {
			t.Fatalf("transfer %s: %v, status %v, want %v", id, err, tr.Status, want)
		}
	}
	return done, flying
}

func (cs *corridorSite) visitor(t *testing.T) *visitor {
	return (&demoSite{srv: cs.srv}).visitor(t)
}

// historyStatuses reads the data-status of each row of the transfer
// page's history, in order.
var historyRowRE = regexp.MustCompile(`<tr data-status="(\d+)"><td class="status">`)

func historyStatuses(body string) string {
	var out []string
	for _, m := range historyRowRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return strings.Join(out, " ")
}

// TestCorridorPagesOverHTTP: the corridor page draws the registries, the
// hub, an arrow for the completed flow and one for the transfer in
// flight, lists the flow's volume and the transfer in flight with its
// status; a transfer's page shows its DES history 1 2 8 4, its serials in
// origin form, and its accounts only to who may see them; an unknown
// transfer is a 404; the registry page links its transfers.
func TestCorridorPagesOverHTTP(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		cs := newCorridorSite(t, tg)
		done, flying := cs.completedAndInFlight(t)
		anon := cs.visitor(t)

		p := anon.get("/corridor")
		if p.status != http.StatusOK {
			t.Fatalf("corridor page: %d", p.status)
		}
		for _, want := range []string{
			`<g class="node" data-code="CN">`, `<g class="node" data-code="TH">`, `<g class="node" data-code="ID">`, `<g class="node hub" data-code="HUB">`,
			`<path class="flow" data-from="CN" data-to="TH" data-volume="300"`,
			`<path class="in-flight" data-from="CN" data-to="TH"`,
			`<tr data-from="CN" data-to="TH" data-unit-type="CCER"><td>CN</td><td>TH</td><td>CCER</td><td class="num volume">300</td><td class="num">1</td></tr>`,
			`<table id="in-flight">`,
			`id="recon-not-wired"`,
		} {
			if !strings.Contains(p.body, want) {
				t.Errorf("corridor page lacks %s", want)
			}
		}
		if n := strings.Count(p.body, `class="flow"`); n != 1 {
			t.Errorf("%d flow arrows, want 1 (CN → TH)", n)
		}
		inflight := p.body[strings.Index(p.body, `id="in-flight"`):strings.Index(p.body, `id="recent"`)]
		if !strings.Contains(inflight, `data-transfer="`+flying+`" data-status="2"`) || strings.Contains(inflight, `data-transfer="`+done+`"`) {
			t.Errorf("in-flight table:\n%s", inflight)
		}
		if !strings.Contains(p.body, `<tr data-registry="ID"><td>ID`) || !strings.Contains(p.text(), "Not reconciled yet.") {
			t.Error("reconciliation section does not say ID is not reconciled yet")
		}

		// The completed transfer's page, anonymously: no account numbers.
		tp := anon.get("/corridor/transfers/" + done)
		if tp.status != http.StatusOK {
			t.Fatalf("transfer page: %d", tp.status)
		}
		if got := historyStatuses(tp.body); got != "1 2 8 4" {
			t.Errorf("history statuses %q, want 1 2 8 4", got)
		}
		serial := `<a class="serial" href="/serials?q=CN-CCER-CCER-14-2024-001-2024-1-1-300">`
		if !strings.Contains(tp.body, serial) || !strings.Contains(tp.body, `id="transfer-status" data-status="4"`) {
			t.Errorf("transfer page lacks the serial link or status 4:\n%s", tp.body)
		}
		if strings.Count(tp.body, `account-hidden`) != 2 || strings.Contains(tp.body, `class="account"`) {
			t.Error("anonymous viewer sees an account number on the transfer page")
		}
		// CN's holder sees its own account, not the acquirer's.
		holder := cs.visitor(t)
		holder.signIn("CN", cs.nodes["CN"].token)
		tp = holder.get("/corridor/transfers/" + done)
		from := tp.body[strings.Index(tp.body, `id="transfer-from"`):strings.Index(tp.body, `id="transfer-to"`)]
		to := tp.body[strings.Index(tp.body, `id="transfer-to"`):strings.Index(tp.body, `id="transfer-purpose"`)]
		if !strings.Contains(from, fmt.Sprintf(`<span class="account">%d</span>`, cs.nodes["CN"].acc)) || !strings.Contains(to, "account-hidden") {
			t.Errorf("holder's view of the parties:\n%s\n%s", from, to)
		}

		if fp := anon.get("/corridor/transfers/" + flying); !strings.Contains(fp.body, `id="in-flight-note"`) || strings.Contains(anon.get("/corridor/transfers/"+done).body, `http-equiv="refresh"`) {
			t.Error("only the page of a transfer in flight reloads itself")
		}

		// A transfer the hub's checks refuse: its page shows the finding's
		// code and sentence at status 3, then the sender's termination (5).
		cs.keys++
		cn := cs.nodes["CN"]
		bad, err := cs.c.Send(context.Background(), "CN", hub.Send{Actor: cn.holder, Key: "test-bad", From: cn.acc, ToRegistry: "TH",
			ToAccount: cs.nodes["TH"].acc, Units: registry.Units{Quantity: 5, UnitType: "CCER"}, Purpose: "no-such-purpose"})
		if err != nil {
			t.Fatal(err)
		}
		cs.deliver(t)
		bp := anon.get("/corridor/transfers/" + bad.ID)
		if got := historyStatuses(bp.body); got != "1 3 5" {
			t.Errorf("refused transfer's history %q, want 1 3 5", got)
		}
		if !strings.Contains(bp.body, `<div class="finding" data-code="purpose_not_covered"><code>purpose_not_covered</code> `) ||
			!strings.Contains(bp.text(), "3 · checked, discrepancy") || !strings.Contains(bp.text(), "5 · terminated") {
			t.Errorf("refused transfer's page lacks its finding or statuses:\n%s", bp.body[strings.Index(bp.body, `id="transfer-history"`):])
		}

		// TH's holder sees the acquiring account, not the sender's.
		thHolder := cs.visitor(t)
		thHolder.signIn("TH", cs.nodes["TH"].token)
		tp = thHolder.get("/corridor/transfers/" + done)
		from = tp.body[strings.Index(tp.body, `id="transfer-from"`):strings.Index(tp.body, `id="transfer-to"`)]
		to = tp.body[strings.Index(tp.body, `id="transfer-to"`):strings.Index(tp.body, `id="transfer-purpose"`)]
		if !strings.Contains(to, fmt.Sprintf(`<span class="account">%d</span>`, cs.nodes["TH"].acc)) || !strings.Contains(from, "account-hidden") {
			t.Errorf("acquirer's view of the parties:\n%s\n%s", from, to)
		}

		if p := anon.get("/corridor/transfers/CN:999999"); p.status != http.StatusNotFound || !strings.Contains(p.text(), "The hub has no record of transfer CN:999999.") {
			t.Errorf("unknown transfer: %d", p.status)
		}
		for _, code := range []string{"CN", "TH"} {
			rp := anon.get("/registries/" + code)
			for _, id := range []string{done, flying} {
				if !strings.Contains(rp.body, `<a class="transfer" href="/corridor/transfers/`+id+`">`) {
					t.Errorf("registry %s page does not link transfer %s", code, id)
				}
			}
		}
		if rp := anon.get("/registries/ID"); !strings.Contains(rp.text(), "No transfer from or to this registry yet.") {
			t.Error("ID's registry page lists transfers it is not part of")
		}
		if !strings.Contains(anon.get("/").body, `href="/corridor"`) {
			t.Error("navigation lacks the corridor")
		}
	})
}

// TestCorridorPagesWithoutCorridor: a server without a hub says so.
func TestCorridorPagesWithoutCorridor(t *testing.T) {
	var none *hub.Corridor
	srv := httptest.NewServer(New().WithLink(none).Handler())
	t.Cleanup(srv.Close)
	v := (&demoSite{srv: srv}).visitor(t)
	if p := v.get("/corridor"); p.status != http.StatusOK || !strings.Contains(p.body, `id="no-corridor"`) || strings.Contains(p.body, "<svg") {
		t.Errorf("corridor page without a corridor: %d", p.status)
	}
	if p := v.get("/corridor/transfers/CN:1"); p.status != http.StatusNotFound || !strings.Contains(p.text(), "This server runs no corridor.") {
		t.Errorf("transfer page without a corridor: %d", p.status)
	}
}

// sendKey is the idempotency key of the account page's send form.
var sendKey = regexp.MustCompile(`id="send-form">\s*<input type="hidden" name="csrf" value="([^"]+)">\s*<input type="hidden" name="idempotency_key" value="([^"]+)">`)

// TestSendAbroadForm: a signed-in holder sends units abroad from the
// account page; the form refuses a registry outside the corridor, too
// many units and a post without its CSRF token, changing nothing; a
// valid post redirects to the transfer's page, which says the hub has not
// recorded it yet (to the holder only) until the messages move, then
// shows it completed; posting the same form again sends nothing more.
func TestSendAbroadForm(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		cs := newCorridorSite(t, tg)
		cn := cs.nodes["CN"]
		accountPath := fmt.Sprintf("/registries/CN/accounts/%d", cn.acc)
		sendPath := accountPath + "/send"

		anon := cs.visitor(t)
		if p := anon.post(sendPath, url.Values{"csrf": {anon.get("/signin").csrf(t)}}); p.status != http.StatusUnauthorized {
			t.Errorf("anonymous send: %d", p.status)
		}
		holder := cs.visitor(t)
		holder.signIn("CN", cn.token)
		ap := holder.get(accountPath)
		m := sendKey.FindStringSubmatch(ap.body)
		if m == nil {
			t.Fatalf("account page has no send form:\n%s", ap.body)
		}
		csrf, key := m[1], m[2]
		for _, want := range []string{`<option value="TH">TH · Thailand T-VER registry (TGO)</option>`, `<option value="ID">`, `<option>CCER</option>`, `<option value="voluntary"`} {
			if !strings.Contains(ap.body, want) {
				t.Errorf("send form lacks %s", want)
			}
		}
		if strings.Contains(ap.body, `<option value="CN">`) || strings.Contains(ap.body, `<option value="HUB">`) {
			t.Error("send form offers the sending registry or the hub as acquirer")
		}
		// A refusal by the registry spends the form's key (the registry
		// records the refused request under it); the page shown with the
		// refusal carries a fresh one.
		form := func(to string, qty int64) url.Values {
			return url.Values{"csrf": {csrf}, "idempotency_key": {key}, "to_registry": {to}, "to_account": {fmt.Sprint(cs.nodes["TH"].acc)},
				"quantity": {fmt.Sprint(qty)}, "unit_type": {"CCER"}, "purpose": {"voluntary"}}
		}
		head := cn.node.Totals().JournalSeq
		for _, c := range []struct {
			name   string
			to     string
			qty    int64
			status int
			want   string
		}{
			{"own registry", "CN", 10, http.StatusBadRequest, `data-field="to_registry"`},
			{"unknown registry", "XX", 10, http.StatusBadRequest, `data-field="to_registry"`},
			{"too many units", "TH", 10001, http.StatusConflict, `data-code="` + ledger.CodeInsufficientUnits + `"`},
			{"no quantity", "TH", 0, http.StatusUnprocessableEntity, `data-code="` + ledger.CodeQuantityInvalid + `"`},
		} {
			p := holder.post(sendPath, form(c.to, c.qty))
			i := strings.Index(p.body, `id="send-abroad"`)
			if i < 0 || p.status != c.status || !strings.Contains(p.body, `id="send-error"`) || !strings.Contains(p.body, c.want) {
				t.Fatalf("%s: %d, want %d with %s:\n%s", c.name, p.status, c.status, c.want, p.text())
			}
			if !strings.Contains(p.body, fmt.Sprintf(`value="%d"`, c.qty)) {
				t.Errorf("%s: the form lost the quantity typed", c.name)
			}
			m := sendKey.FindStringSubmatch(p.body)
			if m == nil {
				t.Fatalf("%s: refused page has no send form", c.name)
			}
			csrf, key = m[1], m[2]
		}
		noCSRF := form("TH", 10)
		noCSRF.Del("csrf")
		if p := holder.post(sendPath, noCSRF); p.status != http.StatusForbidden {
			t.Errorf("send without CSRF token: %d", p.status)
		}
		if got := cn.node.Totals().JournalSeq; got != head {
			t.Fatalf("refused sends moved CN's journal from %d to %d", head, got)
		}

		p := holder.post(sendPath, form("TH", 120))
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/corridor/transfers/CN:") {
			t.Fatalf("send: %d to %q\n%s", p.status, p.location, p.text())
		}
		id, _ := url.PathUnescape(strings.TrimPrefix(p.location, "/corridor/transfers/"))
		// The proposal has not reached the hub: the holder sees the escrow,
		// a stranger a 404.
		if tp := holder.get(p.location); tp.status != http.StatusOK || !strings.Contains(tp.body, `id="awaiting-hub"`) || !strings.Contains(tp.body, `id="transfer-quantity">120<`) {
			t.Errorf("transfer page before the hub has it: %d\n%s", tp.status, tp.body)
		}
		if tp := anon.get(p.location); tp.status != http.StatusNotFound {
			t.Errorf("stranger's transfer page before the hub has it: %d", tp.status)
		}
		// The same form again: the same transfer, nothing more reserved.
		if again := holder.post(sendPath, form("TH", 120)); again.status != http.StatusSeeOther || again.location != p.location {
			t.Errorf("second post of the form: %d to %q, want %q", again.status, again.location, p.location)
		}
		cs.deliver(t)
		tp := holder.get(p.location)
		if got := historyStatuses(tp.body); tp.status != http.StatusOK || got != "1 2 8 4" {
			t.Errorf("sent transfer %s: %d, history %q", id, tp.status, got)
		}
		all, _ := cs.c.Transfers(context.Background(), hub.TransferFilter{})
		if len(all) != 1 || all[0].ID != id || all[0].Proposal.Quantity != 120 {
			t.Errorf("hub records after the form posted twice: %+v", all)
		}
		th, err := cs.nodes["TH"].node.Account(registry.Operator, cs.nodes["TH"].acc)
		if err != nil || len(th.Balances) != 1 || th.Balances[0].Quantity != 120 {
			t.Errorf("TH holder's balances %+v (%v), want 120 CCER", th.Balances, err)
		}
	})
}

// fixedReconciler answers with the same results every time.
type fixedReconciler []Reconciliation

func (f fixedReconciler) Reconciliations(context.Context) ([]Reconciliation, error) { return f, nil }

// TestCorridorReconciliationSection: results per node as the reconciler
// gives them; a node it has none for says it is not reconciled yet.
func TestCorridorReconciliationSection(t *testing.T) {
	cs := newCorridorSite(t, storetest.SQLite(t))
	at := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	cs.site.WithReconciler(fixedReconciler{
		{Registry: "CN", At: at, Snapshot: 12},
		{Registry: "TH", At: at, Snapshot: 7, Findings: []protocol.Finding{{Code: "totals_differ", Detail: "TH shows 40 CCER held that the hub places in CN"}}, Frozen: 40},
	})
	p := cs.visitor(t).get("/corridor")
	rows := map[string]string{}
	for _, code := range []string{"CN", "TH", "ID"} {
		i := strings.Index(p.body, `<tr data-registry="`+code+`">`)
		if i < 0 {
			t.Fatalf("no reconciliation row for %s", code)
		}
		rows[code] = p.body[i : i+strings.Index(p.body[i:], "</tr>")]
	}
	if !strings.Contains(rows["CN"], "2026-12-01 09:30 UTC") || !strings.Contains(rows["CN"], "The registry and the hub agree.") {
		t.Errorf("CN row: %s", rows["CN"])
	}
	if !strings.Contains(rows["TH"], "1 differences") || !strings.Contains(rows["TH"], "<code>totals_differ</code>") || !strings.Contains(rows["TH"], `<td class="num">40</td>`) {
		t.Errorf("TH row: %s", rows["TH"])
	}
	if !strings.Contains(rows["ID"], "Not reconciled yet.") || strings.Contains(p.body, `id="recon-not-wired"`) {
		t.Errorf("ID row: %s", rows["ID"])
	}
}

// brokenLink is a corridor whose hub cannot be read.
type brokenLink struct{}

var errHubDown = errors.New("hub: unreachable")

func (brokenLink) Send(context.Context, string, hub.Send) (hub.Sent, error) {
	return hub.Sent{}, errHubDown
}
func (brokenLink) Transfer(context.Context, string) (hub.Transfer, error) {
	return hub.Transfer{}, errHubDown
}
func (brokenLink) Transfers(context.Context, hub.TransferFilter) ([]hub.Transfer, error) {
	return nil, errHubDown
}
func (brokenLink) Participants(context.Context) ([]hub.Participant, error) { return nil, errHubDown }

// TestCorridorPagesWhenTheHubFails: a hub that cannot be read makes the
// corridor pages say so (503), not 404 or an empty corridor.
func TestCorridorPagesWhenTheHubFails(t *testing.T) {
	srv := httptest.NewServer(New().WithLink(brokenLink{}).Handler())
	t.Cleanup(srv.Close)
	v := (&demoSite{srv: srv}).visitor(t)
	if p := v.get("/corridor"); p.status != http.StatusServiceUnavailable || !strings.Contains(p.body, `id="corridor-error"`) {
		t.Errorf("corridor page with the hub down: %d", p.status)
	}
	if p := v.get("/corridor/transfers/CN:1"); p.status != http.StatusServiceUnavailable || !strings.Contains(p.text(), "could not be read just now") {
		t.Errorf("transfer page with the hub down: %d", p.status)
	}
}

// TestCorridorPageShowsHubReconciliation: wired to the embedded hub's
// records, the page shows every node reconciled and in agreement after a
// reconciliation, and not reconciled before one (a cached empty answer
// is not kept past its time).
func TestCorridorPageShowsHubReconciliation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		cs := newCorridorSite(t, tg)
		cs.completedAndInFlight(t)
		cs.deliver(t)
		cs.site.WithReconciler(HubReconciler(func(ctx context.Context) ([]hub.Reconciliation, error) {
			return cs.c.Hub.LatestReconciliations(ctx)
		}, 0))
		v := cs.visitor(t)
		if p := v.get("/corridor"); strings.Count(p.text(), "Not reconciled yet.") != 3 || strings.Contains(p.body, `id="recon-not-wired"`) {
			t.Errorf("before any reconciliation: %d rows say not reconciled yet", strings.Count(p.text(), "Not reconciled yet."))
		}
		rs, err := cs.c.Reconcile(context.Background(), hub.ReconcileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 3 {
			t.Fatalf("%d reconciliations", len(rs))
		}
		p := v.get("/corridor")
		if n := strings.Count(p.text(), "The registry and the hub agree."); n != 3 || strings.Contains(p.text(), "Not reconciled yet.") {
			t.Errorf("after reconciling: %d rows agree, want 3", n)
		}
		for _, r := range rs {
			if !strings.Contains(p.body, fmt.Sprintf(`<td class="num">#%d</td>`, r.SnapshotSeq)) {
				t.Errorf("%s's snapshot #%d not shown", r.Registry, r.SnapshotSeq)
			}
		}
	})
}

// TestHubReconcilerAdapter: findings keep their codes and sentences, the
// frozen units are those of the findings that froze serials, and the
// hub's table is read again only after ttl.
func TestHubReconcilerAdapter(t *testing.T) {
	calls := 0
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	latest := func(context.Context) ([]hub.Reconciliation, error) {
		calls++
		return []hub.Reconciliation{{Registry: "TH", At: at, SnapshotSeq: 9, Findings: []hub.ReconFinding{
			{Code: hub.CodeReconcileMissing, Start: 1, End: 40, Freeze: 12, Detail: "40 units missing"},
			{Code: hub.CodeReconcileUnexpected, Start: 50, End: 59, Detail: "not frozen"},
		}}}, nil
	}
	r := HubReconciler(latest, time.Minute).(*hubReconciler)
	now := at
	r.now = func() time.Time { return now }
	got, err := r.Reconciliations(context.Background())
	if err != nil || len(got) != 1 {
		t.Fatalf("%+v, %v", got, err)
	}
	if g := got[0]; g.Registry != "TH" || g.Snapshot != 9 || g.Frozen != 40 || len(g.Findings) != 2 || g.Findings[0].Code != hub.CodeReconcileMissing || g.Findings[0].Detail != "40 units missing" {
		t.Errorf("converted %+v", g)
	}
	now = now.Add(30 * time.Second)
	r.Reconciliations(context.Background())
	if calls != 1 {
		t.Errorf("read the hub %d times within ttl", calls)
	}
	now = now.Add(31 * time.Second)
	r.Reconciliations(context.Background())
	if calls != 2 {
		t.Errorf("read the hub %d times after ttl, want 2", calls)
	}
}
