package hubhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// a6codes are the corridor of the Article 6 tests: China first (newNet
// issues its voluntary CCER there), Indonesia, host of the Chinese-funded
// solar project, and Thailand, which takes no part in the story and is
// the node that goes down.
var a6codes = []string{"CN", "ID", "TH"}

// a6net is a networked corridor whose hub keeps the Article 6 ledger fed
// over each node's GET /hub/v1/article6.
type a6net struct {
	*corridorNet
	a6  *hub.Article6
	cfg hub.Article6Config
	// handlers are the nodes' Article 6 endpoints; down makes a node's
	// endpoint answer 503 while true.
	handlers map[string]*Article6Handler
	down     map[string]*bool
}

func newA6Net(t *testing.T, tg storetest.Target) *a6net {
	t.Helper()
	set, err := agreements.Default()
	if err != nil {
		t.Fatal(err)
	}
	aps, err := article6.ApproachesFrom(set)
	if err != nil {
		t.Fatal(err)
	}
	x := &a6net{handlers: map[string]*Article6Handler{}, down: map[string]*bool{}}
	o := netOptions{set: set,
		hubConfig: func(n *corridorNet, cfg *hub.Config) {
			// As host.ServeHub wires it.
			members, expect := RemoteArticle6(n.hub.signer, n.pub.Current, n.client)
			x.cfg = hub.Article6ConfigFor(n.hubDB, members, aps)
			x.cfg.Expect = expect
			a6, err := hub.OpenArticle6(context.Background(), x.cfg)
			if err != nil {
				t.Fatal(err)
			}
			x.a6, cfg.Article6 = a6, a6
		},
		nodeMux: func(p *party, proto http.Handler) http.Handler {
			h := &Article6Handler{Node: p.node, SignedRead: SignedRead{HubCode: "HUB", Trust: func() envelope.TrustList { return x.pub.Current() }}}
			down := new(bool)
			x.handlers[p.code], x.down[p.code] = h, down
			mux := http.NewServeMux()
			mux.Handle("GET /"+PathArticle6, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if *down {
					http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
					return
				}
				h.ServeHTTP(w, r)
			}))
			mux.Handle("/hub/", proto)
			return mux
		}}
	x.corridorNet = newNetWith(t, tg, o, a6codes...)
	// The hub's server as ServeHub's: the protocol, the Article 6 reads,
	// /readyz.
	mux := http.NewServeMux()
	mux.Handle("/hub/", HubHandler(x.h, x.pub, set, nil))
	mux.Handle("/api/v1/article6/", api.New().WithArticle6(x.a6).Handler())
	mux.Handle("GET /readyz", ReadyHandler(func(context.Context) error { return nil }, func() error { return nil }, x.a6.Status, nil))
	x.hub.sw.set(mux)
	return x
}

// a6story is the mission's step 4 on a corridor of a6codes, the same
// requests with the same keys whichever hub carries it: Indonesia
// authorises the Chinese-funded solar project for China's NDC, issues
// 10,000 t under it (OMGE, share of proceeds, 60 % of the net to the
// investor), the investor's share goes to China (the first transfer),
// China uses 3,000 t toward its NDC. send sends through the corridor and
// returns the transfer once final.
type a6story struct {
	devActor, cnActor registry.Actor
	dev, cnAcc        int64
	transfer          hub.Transfer
}

func runA6Story(t *testing.T, nodes map[string]*registry.Node, send func(from string, s hub.Send) hub.Transfer) a6story {
	t.Helper()
	id, cn := nodes["ID"], nodes["CN"]
	var st a6story
	holder := func(n *registry.Node, name string) (registry.Actor, int64) {
		org := do(t, n, admin, "a6-"+name+"-org", registry.CreateOrganisation{Name: name, Country: n.Code()[:2]}).ID
		acc := do(t, n, admin, "a6-"+name+"-acc", registry.OpenAccount{OrgID: org, Type: ledger.Holding, Name: name}).ID
		return registry.Actor{OrgID: org, Role: ledger.RoleHolder}, acc
	}
	st.devActor, st.dev = holder(id, "PT Surya Energi (project developer)")
	_, adapt := holder(id, "Indonesia adaptation account")
	invActor, inv := holder(id, "China Solar Investment Co. (investor)")
	st.cnActor, st.cnAcc = holder(cn, "China national holding")
	do(t, id, admin, "a6-authorise", registry.Authorise{Authorisation: registry.Authorisation{ID: "ID-A6-0001", Version: 1, Host: "ID", Approach: "CN-ID-PILOT",
		Purposes: []string{"NDC"}, Quantity: 100_000, From: "2026-01-01", Until: "2030-12-31", VintageFrom: 2026, VintageTo: 2030, Activities: []string{"ID-SOLAR-01"},
		AcquiringParties: []string{"CN"}, Sector: "Energy", ActivityType: "Solar photovoltaic power", MitigationType: "emission reductions"}})
	do(t, id, admin, "a6-issue", registry.IssueAuthorised{Issue: registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "ID-SOLAR-01", ProjectName: "Cirata floating solar (Chinese-funded)",
		Methodology: "CCER-01-001-V01", HostCountry: "ID", Vintage: 2026, Quantity: 10_000}, AccountID: st.dev},
		Authorisation: "ID-A6-0001", AdaptationAccount: adapt, Investor: "CN", InvestorFraction: "0.6", InvestorAccount: inv})
	st.transfer = send("ID", hub.Send{Actor: invActor, Key: "a6-send", From: inv, ToRegistry: "CN", ToAccount: st.cnAcc, Units: registry.Units{Quantity: 5580, UnitType: "CCER"}, Purpose: "ndc"})
	if got := st.transfer.Statuses(); !slices.Equal(got, []protocol.Status{1, 2, 8, 4}) {
		t.Fatalf("the investor's share to China: statuses %v, findings %v", got, findingCodes(st.transfer))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The import lands at CN after the hub completes the transfer.
		v, err := cn.Account(registry.Operator, st.cnAcc)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Balances) > 0 && v.Balances[0].Quantity == 5580 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CN never held the investor's share: %+v", v.Balances)
		}
		time.Sleep(20 * time.Millisecond)
	}
	do(t, cn, st.cnActor, "a6-use", registry.Retire{From: st.cnAcc, Units: registry.Units{Quantity: 3000, UnitType: "CCER"}, Beneficiary: "People's Republic of China", Purpose: "ndc", ComplianceYear: 2026})
	return st
}

func findingCodes(tr hub.Transfer) []string {
	var out []string
	for _, h := range tr.History {
		for _, f := range h.Findings {
			out = append(out, f.Code)
		}
	}
	return out
}

// a6year is the year of the story's facts (the nodes' clocks are real).
var a6year = time.Now().UTC().Year()

func a6sub(party string) article6.Submission {
	return article6.Submission{Party: party, Version: 1, Year: a6year, Date: "2027-04-10", NDCFirstYear: 2021, NDCLastYear: 2030}
}

// aefCSV is every AEF table of party from an Article 6 ledger, as CSV by
// table name.
func aefCSV(t *testing.T, a6 *hub.Article6, party string) map[string]string {
	t.Helper()
	aef, err := a6.AEF(context.Background(), a6sub(party))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, tab := range aef.Tables {
		var buf bytes.Buffer
		if err := tab.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		out[tab.Name] = buf.String()
	}
	return out
}

// hubGet reads path from the networked hub's server.
func (x *a6net) hubGet(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := x.client.HTTP.Get(x.hub.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// embeddedTwin runs the story on an embedded corridor of nodes set up as
// newNet sets up its own, and returns its ledger.
func embeddedTwin(t *testing.T, tg storetest.Target) (*hub.Article6, map[string]*registry.Node) {
	t.Helper()
	ctx := context.Background()
	set, err := agreements.Default()
	if err != nil {
		t.Fatal(err)
	}
	nodes := map[string]*registry.Node{}
	var members []hub.Member
	for i, c := range a6codes {
		node, err := registry.Open(ctx, tg.Fresh(t).Open(t), registry.Options{Code: c})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(node.Close)
		org := do(t, node, admin, c+"o", registry.CreateOrganisation{Name: "Holder " + c, Country: c[:2]}).ID
		acc := do(t, node, admin, c+"a", registry.OpenAccount{OrgID: org, Type: ledger.Holding, Name: "Main"}).ID
		hubOrg := do(t, node, admin, c+"h", registry.CreateOrganisation{Name: "Corridor hub", Country: "SG"}).ID
		if i == 0 {
			do(t, node, admin, c+"i", registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "CCER-14-2024-001", Methodology: "CCER-14-001-V01",
				HostCountry: "CN", Vintage: 2024, Quantity: 1000}, AccountID: acc})
		}
		nodes[c] = node
		members = append(members, hub.Member{Node: node, HubOrg: hubOrg})
	}
	aps, err := article6.DefaultApproaches()
	if err != nil {
		t.Fatal(err)
	}
	db := tg.Fresh(t).Open(t)
	a6, err := hub.EmbeddedArticle6(ctx, db, members, aps)
	if err != nil {
		t.Fatal(err)
	}
	c, err := hub.Embedded(ctx, hub.EmbeddedConfig{HubDB: db, Members: members, Agreements: set, Article6: a6})
	if err != nil {
		t.Fatal(err)
	}
	runA6Story(t, nodes, func(from string, s hub.Send) hub.Transfer {
		sent, err := c.Send(ctx, from, s)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Run(ctx); err != nil {
			t.Fatal(err)
		}
		tr, err := c.Transfer(ctx, sent.ID)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	})
	return a6, nodes
}

// TestNetworkedHubArticle6Ledger: the networked hub keeps the Article 6
// ledger from its nodes' GET /hub/v1/article6, each node and the hub its
// own TLS server, on both drivers. The mission's step 4 (authorisation →
// issue_authorised → first transfer to China → NDC use) gives the hub the
// AEF tables the embedded corridor's ledger gives for the same story,
// served over the hub's /api/v1/article6/aef; the ledger reopened from
// the hub's database (a restart) replays to the same tables and appends
// nothing; with Thailand's endpoint down the hub refuses an Article 6
// transfer with article6_unavailable naming TH, says so on /readyz and
// in the 503 of its reads, and still passes a voluntary transfer of
// units no Article 6 fact concerns; with Thailand back the same transfer
// completes.
func TestNetworkedHubArticle6Ledger(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		want, _ := embeddedTwin(t, tg)
		x := newA6Net(t, tg)
		nodes := map[string]*registry.Node{}
		for c, p := range x.nodes {
			nodes[c] = p.node
		}
		send := func(from string, s hub.Send) hub.Transfer {
			p := x.nodes[from]
			sent, err := p.link.Send(ctx, from, s)
			if err != nil {
				t.Fatal(err)
			}
			return wait(t, p.link, sent.ID)
		}
		st := runA6Story(t, nodes, send)
		if bad := hub.CheckCorridor(nodes["CN"], nodes["ID"], nodes["TH"]); len(bad) > 0 {
			t.Fatal(bad)
		}

		// The same tables as the embedded corridor's, over the hub's API.
		shows := map[string][]string{"ID": {"First transfer to another Party", ",5580,"}, "CN": {",Acquisition,", ",Use,", ",3000,"}}
		for _, party := range []string{"ID", "CN"} {
			exp := aefCSV(t, want, party)
			for _, s := range shows[party] {
				if !strings.Contains(exp["Actions"], s) {
					t.Fatalf("the embedded %s Actions do not show the story (%q):\n%s", party, s, exp["Actions"])
				}
			}
			for name, csv := range exp {
				code, got := x.hubGet(t, fmt.Sprintf("/api/v1/article6/aef?party=%s&year=%d&submitted=2027-04-10&format=csv&table=%s", party, a6year, strings.ToLower(name)))
				if code != http.StatusOK || got != csv {
					t.Errorf("%s %s at the networked hub: %d\n%s\nthe embedded corridor's:\n%s", party, name, code, got, csv)
				}
			}
		}
		for _, f := range x.a6.Facts() {
			if f.Refused != "" {
				t.Fatalf("fact %d refused: %s %s", f.Fact.Seq, f.Refused, f.Detail)
			}
		}
		if s := x.a6.Status(); s.Stale() || s.Synced.IsZero() {
			t.Fatalf("status after the story: %+v", s)
		}

		// A restart: the ledger reopened on the hub's database replays the
		// same facts, reads nothing twice, and reports the same tables.
		facts := len(x.a6.Facts())
		again, err := hub.OpenArticle6(ctx, x.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := again.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(again.Facts()); n != facts {
			t.Fatalf("after the restart the ledger has %d facts, before %d", n, facts)
		}
		for _, party := range []string{"ID", "CN"} {
			if got, exp := aefCSV(t, again, party), aefCSV(t, x.a6, party); fmt.Sprint(got) != fmt.Sprint(exp) {
				t.Errorf("%s after the restart:\n%v\nbefore:\n%v", party, got, exp)
			}
		}

		// Thailand's endpoint goes down.
		*x.down["TH"] = true
		id, cn := x.nodes["ID"], x.nodes["CN"]
		ndc := hub.Send{Actor: st.devActor, Key: "a6-host-share", From: st.dev, ToRegistry: "CN", ToAccount: st.cnAcc, Units: registry.Units{Quantity: 100, UnitType: "CCER"}, Purpose: "ndc"}
		tr := send("ID", ndc)
		var detail string
		for _, h := range tr.History {
			for _, f := range h.Findings {
				if f.Code == hub.CodeArticle6Unavailable {
					detail = f.Detail
				}
			}
		}
		if tr.Status != protocol.StatusTerminated || !strings.Contains(detail, "TH") {
			t.Fatalf("an Article 6 transfer with TH down: %v %v (%q)", tr.Statuses(), findingCodes(tr), detail)
		}
		if code, body := x.hubGet(t, "/readyz"); code != http.StatusOK || !strings.Contains(body, `"article6":"stale"`) || !strings.Contains(body, `"article6_unreachable":["TH"]`) {
			t.Errorf("/readyz with TH down: %d %s", code, body)
		}
		if code, body := x.hubGet(t, "/api/v1/article6/itmos"); code != http.StatusServiceUnavailable || !strings.Contains(body, `"code":"article6_stale"`) || !strings.Contains(body, "TH") {
			t.Errorf("the Article 6 reads with TH down: %d %s", code, body)
		}
		// Units no Article 6 fact concerns still move (CN's voluntary CCER).
		if tr := send("CN", hub.Send{Actor: cn.holder, Key: "voluntary", From: cn.acc, ToRegistry: "ID", ToAccount: id.acc,
			Units: registry.Units{Quantity: 10, UnitType: "CCER"}, Purpose: "voluntary"}); tr.Status != protocol.StatusCompleted {
			t.Errorf("a voluntary transfer with TH down: %v %v", tr.Statuses(), findingCodes(tr))
		}

		// Thailand is back: once its facts are read, the transfer goes.
		*x.down["TH"] = false
		deadline := time.Now().Add(10 * time.Second)
		for x.a6.Sync(ctx) != nil {
			if time.Now().After(deadline) {
				t.Fatal("the hub's Article 6 facts stay stale with TH back")
			}
			time.Sleep(100 * time.Millisecond)
		}
		if code, body := x.hubGet(t, "/readyz"); !strings.Contains(body, `"article6":"ok"`) {
			t.Errorf("/readyz with TH back: %d %s", code, body)
		}
		ndc.Key = "a6-host-share-2"
		if tr := send("ID", ndc); !slices.Equal(tr.Statuses(), []protocol.Status{1, 2, 8, 4}) {
			t.Fatalf("the Article 6 transfer with TH back: %v %v", tr.Statuses(), findingCodes(tr))
		}
		if r := x.htr.Refusals(); len(r) > 0 {
			t.Fatalf("hub refusals %+v", r)
		}
	})
}

// TestArticle6RequestRefusals: a node answers its Article 6 facts only to
// a fresh article6_request signed by the hub's key and addressed to it,
// and the answer holds its entries of the Article 6 kinds alone, after
// the cursor, without the actor.
func TestArticle6RequestRefusals(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		x := newA6Net(t, tg)
		cn := x.nodes["CN"]
		// CN's journal: organisations, accounts, the issuance (newNet), then
		// a retirement (an Article 6 kind, though of voluntary units).
		do(t, cn.node, cn.holder, "retire", registry.Retire{From: cn.acc, Units: registry.Units{Quantity: 5, UnitType: "CCER"}, Beneficiary: "x", Purpose: "voluntary"})
		now := time.Now().UTC()
		auth := func(c string) string { return hub.SnapshotAuthScheme + " " + c }
		seal := func(s envelope.Signer, hd envelope.Header, body any) string {
			raw, _ := json.Marshal(body)
			if hd.Type == "" {
				hd.Type = hub.Article6RequestType
			}
			hd.Version, hd.From = protocol.Version, s.Code
			c, err := s.Seal(hd, raw)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		get := func(authz string) (int, Problem, Article6Page) {
			req, _ := http.NewRequest(http.MethodGet, cn.srv.URL+"/"+PathArticle6, nil)
			if authz != "" {
				req.Header.Set("Authorization", authz)
			}
			resp, err := x.client.HTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var pr Problem
			var page Article6Page
			if resp.StatusCode == http.StatusOK {
				_ = json.NewDecoder(resp.Body).Decode(&page)
			} else {
				_ = json.NewDecoder(resp.Body).Decode(&pr)
			}
			return resp.StatusCode, pr, page
		}
		good := seal(x.hub.signer, envelope.Header{ID: "article6:1", To: "CN", SentAt: now}, hub.Article6Request{Registry: "CN"})
		st, pr, page := get(auth(good))
		if st != http.StatusOK || len(page.Entries) != 1 || page.Entries[0].Kind != "retire" || page.Entries[0].Actor != "" || page.Registry != "CN" {
			t.Fatalf("a good request: %d %+v %+v", st, pr, page)
		}
		after := page.Entries[0].Seq
		if st, _, page := get(auth(seal(x.hub.signer, envelope.Header{ID: "article6:2", To: "CN", SentAt: now}, hub.Article6Request{Registry: "CN", After: after}))); st != http.StatusOK || len(page.Entries) != 0 {
			t.Fatalf("after the last entry: %d %+v", st, page)
		}
		cases := []struct {
			name   string
			authz  string
			status int
			code   envelope.Code
		}{
			{"none", "", http.StatusUnauthorized, CodeUnauthenticated},
			{"replayed", auth(good), http.StatusConflict, CodeReplayed},
			{"a node's key", auth(seal(x.nodes["ID"].signer, envelope.Header{ID: "article6:3", To: "CN", SentAt: now}, hub.Article6Request{Registry: "CN"})), http.StatusForbidden, CodeNotHub},
			{"a snapshot request", auth(seal(x.hub.signer, envelope.Header{ID: "article6:4", To: "CN", SentAt: now, Type: hub.SnapshotRequestType}, hub.Article6Request{Registry: "CN"})), http.StatusForbidden, CodeNotHub},
			{"addressed to ID", auth(seal(x.hub.signer, envelope.Header{ID: "article6:5", To: "ID", SentAt: now}, hub.Article6Request{Registry: "ID"})), http.StatusMisdirectedRequest, envelope.CodeMisaddressed},
			{"body names ID", auth(seal(x.hub.signer, envelope.Header{ID: "article6:6", To: "CN", SentAt: now}, hub.Article6Request{Registry: "ID"})), http.StatusMisdirectedRequest, envelope.CodeMisaddressed},
			{"stale", auth(seal(x.hub.signer, envelope.Header{ID: "article6:7", To: "CN", SentAt: now.Add(-2 * hub.SnapshotSkew)}, hub.Article6Request{Registry: "CN"})), http.StatusBadRequest, envelope.CodeStale},
			{"negative cursor", auth(seal(x.hub.signer, envelope.Header{ID: "article6:8", To: "CN", SentAt: now}, hub.Article6Request{Registry: "CN", After: -1})), http.StatusBadRequest, envelope.CodeMalformed},
		}
		for _, c := range cases {
			st, pr, _ := get(c.authz)
			if st != c.status || pr.Code != string(c.code) {
				t.Errorf("%s: %d %q (%s), want %d %q", c.name, st, pr.Code, pr.Detail, c.status, c.code)
			}
		}
	})
}

// TestArticle6SourcePages: the hub's source reads a node's facts in pages
// of its limit, each after the last entry read, and the ledger takes
// every entry once whatever the page size.
func TestArticle6SourcePages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		x := newA6Net(t, tg)
		cn := x.nodes["CN"]
		for i := range 7 {
			do(t, cn.node, cn.holder, fmt.Sprintf("retire-%d", i), registry.Retire{From: cn.acc, Units: registry.Units{Quantity: 1, UnitType: "CCER"}, Beneficiary: "x", Purpose: "voluntary"})
		}
		src := &Article6Source{Registry: "CN", BaseURL: cn.srv.URL, Client: x.client.HTTP, Signer: x.hub.signer, Limit: 3}
		var seqs []int64
		var after int64
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatalf("more than 10 pages of at most 3 for 7 entries: %v", seqs)
			}
			ts, err := src.Article6Entries(ctx, after)
			if err != nil {
				t.Fatal(err)
			}
			if len(ts) == 0 {
				if pages != 3 {
					t.Fatalf("%d pages of at most 3 for 7 entries", pages)
				}
				break
			}
			for _, e := range ts {
				seqs = append(seqs, e.Seq)
				after = e.Seq
			}
		}
		if len(seqs) != 7 || !slices.IsSorted(seqs) || len(slices.Compact(slices.Clone(seqs))) != 7 {
			t.Fatalf("entries read: %v", seqs)
		}
		cfg := x.cfg
		cfg.Sources = map[string]hub.Article6Source{"CN": src}
		cfg.Expect = nil
		cfg.DB = tg.Fresh(t).Open(t)
		a6, err := hub.OpenArticle6(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := a6.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		var entries []int64
		for _, f := range a6.Facts() {
			entries = append(entries, f.Fact.Entry)
		}
		if !slices.Equal(entries, seqs) {
			t.Fatalf("facts taken %v, entries %v", entries, seqs)
		}
	})
}
