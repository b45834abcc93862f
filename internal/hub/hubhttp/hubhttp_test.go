package hubhttp

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

var admin = registry.Actor{Role: ledger.RoleAdmin}

// Triangle is a test-only set of agreements letting CCER move both ways
// between CN, TH and SG (the default set has no CCER route TH → SG); it is
// not a statement about any real agreement.
const Triangle = `revision: 1
purposes:
  - {code: voluntary, name: "Voluntary use"}
registries:
  - {code: CN, party: CN, name: "China"}
  - {code: TH, party: TH, name: "Thailand"}
  - {code: SG, party: SG, name: "Singapore"}
sources:
  - {id: test, title: "Test corridor", issuer: "Corridor tests", kind: proposal}
agreements:
  - {id: test-cn-th, kind: pilot, title: "Test CN-TH", status: proposal, parties: [CN, TH], routes: [{from: CN, to: TH, unit_types: [CCER]}, {from: TH, to: CN, unit_types: [CCER]}], purposes: [voluntary], sources: [{id: test}]}
  - {id: test-th-sg, kind: pilot, title: "Test TH-SG", status: proposal, parties: [TH, SG], routes: [{from: TH, to: SG, unit_types: [CCER]}, {from: SG, to: TH, unit_types: [CCER]}], purposes: [voluntary], sources: [{id: test}]}
`

// swap is a handler installed after its server has a URL (the trust list
// names the URLs, the handlers need the trust list).
type swap struct{ h atomic.Pointer[http.Handler] }

func (s *swap) ServeHTTP(w http.ResponseWriter, r *http.Request) { (*s.h.Load()).ServeHTTP(w, r) }
func (s *swap) set(h http.Handler)                               { s.h.Store(&h) }

type party struct {
	code   string
	srv    *httptest.Server
	sw     *swap
	key    string
	signer envelope.Signer
	node   *registry.Node
	acc    int64
	holder registry.Actor
	ep     *hub.Endpoint
	link   *NodeLink
	tr     *Transport
	// ticking is held while the endpoint's timers run: a test holds it to
	// write to the node with no relay pass in between.
	ticking sync.Mutex
}

type corridorNet struct {
	dir       string
	client    *Client
	hub       *party
	h         *hub.Hub
	pub       *Publisher
	nodes     map[string]*party
	trustFile string
	htr       *Transport
	hubDB     *store.DB
}

func newParty(t *testing.T, dir, code string) *party {
	t.Helper()
	p := &party{code: code, sw: &swap{}}
	p.sw.set(http.NotFoundHandler())
	p.srv = httptest.NewTLSServer(p.sw)
	t.Cleanup(p.srv.Close)
	p.key = filepath.Join(dir, code+".key")
	if _, err := GenerateKeyFile(p.key); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSigner(p.key, code)
	if err != nil {
		t.Fatal(err)
	}
	p.signer = s
	return p
}

func trustYAML(version int, ps ...*party) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: %d\nentries:\n", version)
	for _, p := range ps {
		role, partyCode := "node", "\n    party: "+p.code[:2]
		if p.code == "HUB" {
			role, partyCode = "hub", ""
		}
		fmt.Fprintf(&b, "  - code: %s\n    role: %s%s\n    endpoint: %s/\n    keys:\n      - public: %s\n        from: 2020-01-01T00:00:00Z\n        until: 2099-01-01T00:00:00Z\n",
			p.code, role, partyCode, p.srv.URL, EncodePublic(p.signer.Key.Public().(ed25519.PublicKey)))
	}
	return b.String()
}

func newNet(t *testing.T, tg storetest.Target, codes ...string) *corridorNet {
	t.Helper()
	set, err := agreements.Parse([]byte(Triangle))
	if err != nil {
		t.Fatal(err)
	}
	return newNetWith(t, tg, netOptions{set: set}, codes...)
}

// netOptions vary newNet: the hub's agreements, and hubConfig, which
// may complete the hub's configuration once the parties' servers exist
// (the Article 6 ledger over the nodes' endpoints).
type netOptions struct {
	set       agreements.Set
	hubConfig func(n *corridorNet, cfg *hub.Config)
	// nodeMux, when set, gives each node's server its handler around the
	// protocol's.
	nodeMux func(p *party, protocol http.Handler) http.Handler
}

func newNetWith(t *testing.T, tg storetest.Target, o netOptions, codes ...string) *corridorNet {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	dir := t.TempDir()
	n := &corridorNet{dir: dir, nodes: map[string]*party{}}
	n.hub = newParty(t, dir, "HUB")
	all := []*party{n.hub}
	for _, c := range codes {
		p := newParty(t, dir, c)
		n.nodes[c] = p
		all = append(all, p)
	}
	cfg := n.hub.srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	n.client = NewClient(cfg, 5*time.Second)
	n.trustFile = filepath.Join(dir, "trust.yaml")
	if err := os.WriteFile(n.trustFile, []byte(trustYAML(1, all...)), 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	n.pub, err = NewPublisher(n.trustFile, n.hub.signer, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	set := o.set
	n.htr = NewTransport(ctx, n.client, n.pub.Current, nil)
	n.hubDB = tg.Fresh(t).Open(t)
	hcfg := hub.Config{Code: "HUB", DB: n.hubDB, Signer: n.hub.signer, Trust: n.pub.Current, Agreements: set, Transport: n.htr}
	if o.hubConfig != nil {
		o.hubConfig(n, &hcfg)
	}
	n.h, err = hub.Open(ctx, hcfg)
	if err != nil {
		t.Fatal(err)
	}
	n.hub.sw.set(HubHandler(n.h, n.pub, set, nil))
	go tickLoop(ctx, n.h.Tick)
	for i, c := range codes {
		p := n.nodes[c]
		db := tg.Fresh(t).Open(t)
		node, err := registry.Open(ctx, db, registry.Options{Code: c})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(node.Close)
		p.node = node
		org := do(t, node, admin, c+"o", registry.CreateOrganisation{Name: "Holder " + c, Country: c[:2]}).ID
		p.holder = registry.Actor{OrgID: org, Role: ledger.RoleHolder}
		p.acc = do(t, node, admin, c+"a", registry.OpenAccount{OrgID: org, Type: ledger.Holding, Name: "Main"}).ID
		hubOrg := do(t, node, admin, c+"h", registry.CreateOrganisation{Name: "Corridor hub", Country: "SG"}).ID
		if i == 0 {
			do(t, node, admin, c+"i", registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "CCER-14-2024-001", Methodology: "CCER-14-001-V01",
				HostCountry: "CN", Vintage: 2024, Quantity: 1000}, AccountID: p.acc})
		}
		pin, err := ParsePin(EncodePublic(n.hub.signer.Key.Public().(ed25519.PublicKey)))
		if err != nil {
			t.Fatal(err)
		}
		src := &Source{URL: n.hub.srv.URL + "/" + PathTrust, Client: n.client, Pin: pin}
		if err := src.Fetch(ctx); err != nil {
			t.Fatal(err)
		}
		p.tr = NewTransport(ctx, n.client, src.Current, nil)
		p.ep, err = hub.NewEndpoint(hub.EndpointConfig{Code: c, Node: node, HubOrg: hubOrg, HubCode: "HUB", Signer: p.signer, Transport: p.tr,
			Trust: src.Current, Origins: &Origins{Client: n.client, Trust: src.Current}})
		if err != nil {
			t.Fatal(err)
		}
		go tickLoop(ctx, func(ctx context.Context) error {
			p.ticking.Lock()
			defer p.ticking.Unlock()
			return p.ep.Tick(ctx)
		})
		if o.nodeMux != nil {
			p.sw.set(o.nodeMux(p, NodeHandler(p.ep, nil)))
		} else {
			p.sw.set(NodeHandler(p.ep, nil))
		}
		p.link = &NodeLink{Endpoint: p.ep, Client: n.client, HubURL: n.hub.srv.URL}
	}
	return n
}

func do(t *testing.T, n *registry.Node, a registry.Actor, key string, req registry.Request) registry.Result {
	t.Helper()
	res, err := n.Do(context.Background(), a, key, req)
	if err != nil {
		t.Fatalf("%s %s: %v", n.Code(), req.Kind(), err)
	}
	return res
}

func held(t *testing.T, p *party, state ledger.State) int64 {
	t.Helper()
	v, err := p.node.Account(registry.Operator, p.acc)
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

// wait polls the hub over HTTP until the transfer is final.
func wait(t *testing.T, l hub.Link, id string) hub.Transfer {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		tr, err := l.Transfer(context.Background(), id)
		if err == nil && tr.Status.Final() {
			return tr
		}
		if time.Now().After(deadline) {
			t.Fatalf("transfer %s not final: %+v %v", id, tr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTransferOverHTTPS: CN → TH and on TH → SG through a hub and three
// endpoints, each its own TLS server, every message a POST: statuses
// 1 2 8 4 read back from the hub over HTTP, the units at SG with their
// origin serials, corridor conservation and verify on each node.
func TestTransferOverHTTPS(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		n := newNet(t, tg, "CN", "TH", "SG")
		cn, th, sg := n.nodes["CN"], n.nodes["TH"], n.nodes["SG"]
		ctx := context.Background()
		sent, err := cn.link.Send(ctx, "CN", hub.Send{Actor: cn.holder, Key: "x1", From: cn.acc, ToRegistry: "TH", ToAccount: th.acc,
			Units: registry.Units{Quantity: 250, UnitType: "CCER"}, Purpose: "voluntary"})
		if err != nil {
			t.Fatal(err)
		}
		if got := wait(t, cn.link, sent.ID).Statuses(); !slices.Equal(got, []protocol.Status{1, 2, 8, 4}) {
			t.Fatalf("CN→TH statuses %v", got)
		}
		waitHeld(t, th, 250)
		sent2, err := th.link.Send(ctx, "TH", hub.Send{Actor: th.holder, Key: "x2", From: th.acc, ToRegistry: "SG", ToAccount: sg.acc,
			Units: registry.Units{Quantity: 100, UnitType: "CCER"}, Purpose: "voluntary"})
		if err != nil {
			t.Fatal(err)
		}
		rec := wait(t, sg.link, sent2.ID)
		if got := rec.Statuses(); !slices.Equal(got, []protocol.Status{1, 2, 8, 4}) {
			t.Fatalf("TH→SG statuses %v (%+v)", got, rec.History)
		}
		waitHeld(t, sg, 100)
		info, err := sg.node.Lookup(ctx, registry.Operator, "CN-CCER-CCER-14-2024-001-2024-1-1-100")
		if err != nil || len(info.Blocks) != 1 || info.Blocks[0].State != ledger.Held || info.Blocks[0].AccountID != sg.acc {
			t.Fatalf("SG lookup: %+v %v", info.Blocks, err)
		}
		if cn.node.Code() == "" || held(t, cn, ledger.Exported) != 250 || held(t, th, ledger.Held) != 150 {
			t.Fatalf("CN exported %d, TH held %d", held(t, cn, ledger.Exported), held(t, th, ledger.Held))
		}
		if bad := hub.CheckCorridor(cn.node, th.node, sg.node); len(bad) > 0 {
			t.Fatalf("conservation: %v", bad)
		}
		// The reads over HTTP answer as the embedded corridor's.
		list, err := th.link.Transfers(ctx, hub.TransferFilter{Registry: "SG"})
		if err != nil || len(list) != 1 || list[0].ID != sent2.ID {
			t.Fatalf("transfers involving SG: %+v %v", list, err)
		}
		if _, err := th.link.Transfer(ctx, "CN:999999"); !errors.Is(err, hub.ErrNoTransfer) {
			t.Fatalf("unknown transfer: %v", err)
		}
		ps, err := th.link.Participants(ctx)
		if err != nil || len(ps) != 4 || ps[0].Code != "HUB" || ps[1].Code != "CN" || ps[1].Name == "" {
			t.Fatalf("participants %+v %v", ps, err)
		}
		if _, err := th.link.Send(ctx, "CN", hub.Send{}); !errors.Is(err, hub.ErrUnknownRegistry) {
			t.Fatalf("sending from another registry: %v", err)
		}
		for _, p := range []*party{cn, th, sg} {
			if r := p.tr.Refusals(); len(r) > 0 {
				t.Fatalf("%s refusals %+v", p.code, r)
			}
		}
		if r := n.htr.Refusals(); len(r) > 0 {
			t.Fatalf("hub refusals %+v", r)
		}
	})
}

func waitHeld(t *testing.T, p *party, want int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for held(t, p, ledger.Held) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %d, want %d", p.code, held(t, p, ledger.Held), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRefusalsOverHTTP: a refusal travels back as its code (a
// *envelope.Refusal at the sender), a failure as a plain error.
func TestRefusalsOverHTTP(t *testing.T) {
	n := newNet(t, storetest.SQLite(t), "CN", "TH")
	cn := n.nodes["CN"]
	hubURL, _ := Join(n.hub.srv.URL+"/", PathMessages)
	seal := func(s envelope.Signer, to, id string) string {
		c, err := protocol.Seal(s, envelope.Header{ID: id, From: s.Code, To: to, SentAt: time.Now().UTC(), TransactionID: "CN:77"}, protocol.StatusRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ctx := context.Background()
	good := seal(cn.signer, "HUB", "p1")
	// Forged: one bit of the signature flipped.
	parts := strings.Split(good, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	sig[10] ^= 0x40
	forged := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	if code := envelope.RefusalCode(n.client.Post(ctx, hubURL, forged)); code != envelope.CodeForged {
		t.Fatalf("forged: code %q", code)
	}
	// Signed by another participant's key than the sender it names.
	other := cn.signer
	other.Code = "TH"
	if code := envelope.RefusalCode(n.client.Post(ctx, hubURL, seal(other, "HUB", "p2"))); code != envelope.CodeForged {
		t.Fatalf("kid of another participant: code %q", code)
	}
	// Mis-addressed: for TH, posted to the hub.
	if code := envelope.RefusalCode(n.client.Post(ctx, hubURL, seal(cn.signer, "TH", "p3"))); code != envelope.CodeMisaddressed {
		t.Fatalf("misaddressed: code %q", code)
	}
	if code := envelope.RefusalCode(n.client.Post(ctx, hubURL, "not a jws")); code != envelope.CodeMalformed {
		t.Fatalf("malformed: code %q", code)
	}
	post := func(ct, body string) (int, error) {
		req, _ := http.NewRequest(http.MethodPost, hubURL, strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		resp, err := n.client.HTTP.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		return resp.StatusCode, answerError(hubURL, resp)
	}
	if st, err := post("text/plain", good); st != http.StatusUnsupportedMediaType || envelope.RefusalCode(err) != CodeUnsupportedMedia {
		t.Fatalf("text/plain: %d %v", st, err)
	}
	if st, err := post(ContentType, strings.Repeat("a", MaxEnvelopeBytes+1)); st != http.StatusRequestEntityTooLarge || envelope.RefusalCode(err) != CodeTooLarge {
		t.Fatalf("too large: %d %v", st, err)
	}
	// A server error or no server is a failure, not a refusal.
	down := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }))
	defer down.Close()
	if err := n.client.Post(ctx, down.URL, good); err == nil || envelope.RefusalCode(err) != "" {
		t.Fatalf("500: %v", err)
	}
	down.Close()
	if err := n.client.Post(ctx, down.URL, good); err == nil || envelope.RefusalCode(err) != "" {
		t.Fatalf("closed server: %v", err)
	}
	// Untrusted server certificate: refused by TLS, a failure.
	if err := NewClient(&tls.Config{MinVersion: tls.VersionTLS12}, time.Second).Post(ctx, hubURL, good); err == nil || envelope.RefusalCode(err) != "" {
		t.Fatalf("untrusted certificate: %v", err)
	}
}

// TestTrustListOverHTTP: a node takes the hub's list only if the pinned
// key signed it, installs a newer version, refuses an older one, and the
// hub refuses to publish a changed file whose version was not raised.
func TestTrustListOverHTTP(t *testing.T) {
	n := newNet(t, storetest.SQLite(t), "CN", "TH")
	ctx := context.Background()
	url := n.hub.srv.URL + "/" + PathTrust
	hubPub := EncodePublic(n.hub.signer.Key.Public().(ed25519.PublicKey))
	wrong := EncodePublic(n.nodes["CN"].signer.Key.Public().(ed25519.PublicKey))
	pin, _ := ParsePin(wrong)
	// A wrong pin is said as such, with the fingerprints, not as the JWS
	// library's error.
	wrongFP, _ := KeyID(pin.Public)
	if err := (&Source{URL: url, Client: n.client, Pin: pin}).Fetch(ctx); !errors.Is(err, ErrPinMismatch) || !errors.Is(err, ErrTrustRefused) ||
		!strings.Contains(err.Error(), "the hub's signature does not match the pinned key (fingerprint "+wrongFP) || strings.Contains(err.Error(), "jose") {
		t.Fatalf("a list not signed by the pinned key: %v", err)
	}
	pin, _ = ParsePin("somekid:" + hubPub)
	if err := (&Source{URL: url, Client: n.client, Pin: pin}).Fetch(ctx); !errors.Is(err, ErrPinMismatch) || !strings.Contains(err.Error(), "pinned as kid somekid; the hub signed with kid "+n.hub.signer.KID) {
		t.Fatalf("a pin with another kid: %v", err)
	}
	pin, _ = ParsePin(n.hub.signer.KID + ":" + hubPub)
	src := &Source{URL: url, Client: n.client, Pin: pin}
	if err := src.Fetch(ctx); err != nil || src.Current().Version != 1 {
		t.Fatalf("pinned fetch: %v, version %d", err, src.Current().Version)
	}
	v1 := n.pub.Signed()
	// Drop TH without raising the version: refused, version 1 stays.
	short := trustYAML(1, n.hub, n.nodes["CN"])
	time.Sleep(10 * time.Millisecond)
	if err := os.WriteFile(n.trustFile, []byte(short), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := n.pub.Reload(); err == nil || !strings.Contains(err.Error(), "raise it") {
		t.Fatalf("changed list without a new version: %v", err)
	}
	if err := os.WriteFile(n.trustFile, []byte(trustYAML(2, n.hub, n.nodes["CN"])), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := src.Fetch(ctx); err != nil || src.Current().Version != 2 || len(src.Current().Entries) != 2 {
		t.Fatalf("newer list: %v, version %d", err, src.Current().Version)
	}
	// The same version again is fine; an older one (replayed) is refused.
	if err := src.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	old := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(v1)) }))
	defer old.Close()
	src.URL = old.URL
	if err := src.Fetch(ctx); err == nil || src.Current().Version != 2 {
		t.Fatalf("rolled-back list: %v, version %d", err, src.Current().Version)
	}
	// A file whose kid is not the key's thumbprint is refused.
	bad := strings.Replace(trustYAML(3, n.hub, n.nodes["CN"]), "      - public:", "      - kid: mine\n        public:", 1)
	if _, err := ParseTrustFile([]byte(bad), time.Now()); err == nil {
		t.Fatal("kid other than the thumbprint accepted")
	}
}
