package hubhttp

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// serveNodes gives each node of n what a node process serves: the
// snapshot for signed requests, the protocol, and the API (head, key).
func serveNodes(n *corridorNet) map[string]*SnapshotHandler {
	out := map[string]*SnapshotHandler{}
	for code, p := range n.nodes {
		sh := &SnapshotHandler{Node: p.node, HubOrg: p.ep.HubOrg, SignedRead: SignedRead{HubCode: "HUB", Trust: n.pub.Current}}
		mux := http.NewServeMux()
		mux.Handle("GET /"+PathSnapshot, sh)
		mux.Handle("/hub/", NodeHandler(p.ep, nil))
		mux.Handle("/", api.New(p.node).Handler())
		p.sw.set(mux)
		out[code] = sh
	}
	return out
}

// sealRequest seals a snapshot request as the hub's SignSnapshotRequest
// does, with the header fields the test chooses.
func sealRequest(t *testing.T, s envelope.Signer, hd envelope.Header, registryCode string) string {
	t.Helper()
	body, _ := json.Marshal(hub.SnapshotRequest{Registry: registryCode})
	if hd.Type == "" {
		hd.Type = hub.SnapshotRequestType
	}
	hd.Version, hd.From = protocol.Version, s.Code
	c, err := s.Seal(hd, body)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func getSnapshot(t *testing.T, n *corridorNet, p *party, authz string) (int, Problem) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.srv.URL+"/"+PathSnapshot, nil)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := n.client.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var pr Problem
	if resp.StatusCode != http.StatusOK {
		_ = json.NewDecoder(resp.Body).Decode(&pr)
	} else {
		var s registry.Snapshot
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || s.Registry != p.code {
			t.Fatalf("snapshot answer %+v %v", s, err)
		}
	}
	return resp.StatusCode, pr
}

// TestSnapshotRequestRefusals: a node answers its snapshot only to a
// fresh request signed by the hub's key and addressed to it; every other
// request is refused with its code.
func TestSnapshotRequestRefusals(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		n := newNet(t, tg, "CN", "TH")
		serveNodes(n)
		th := n.nodes["TH"]
		now := time.Now().UTC()
		auth := func(c string) string { return hub.SnapshotAuthScheme + " " + c }
		good := sealRequest(t, n.hub.signer, envelope.Header{ID: "snapshot:1", To: "TH", SentAt: now}, "TH")
		if st, pr := getSnapshot(t, n, th, auth(good)); st != http.StatusOK {
			t.Fatalf("a good request: %d %+v", st, pr)
		}
		// An outsider's key claiming to be the hub.
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		outsider := envelope.Signer{Code: "HUB", KID: n.hub.signer.KID, Key: priv}
		cases := []struct {
			name   string
			authz  string
			status int
			code   envelope.Code
		}{
			{"none", "", http.StatusUnauthorized, CodeUnauthenticated},
			{"bearer token", "Bearer abc", http.StatusUnauthorized, CodeUnauthenticated},
			{"replayed", auth(good), http.StatusConflict, CodeReplayed},
			{"forged", auth(sealRequest(t, outsider, envelope.Header{ID: "snapshot:2", To: "TH", SentAt: now}, "TH")), http.StatusForbidden, envelope.CodeForged},
			{"a node's key", auth(sealRequest(t, n.nodes["CN"].signer, envelope.Header{ID: "snapshot:3", To: "TH", SentAt: now}, "TH")), http.StatusForbidden, CodeNotHub},
			{"another type", auth(sealRequest(t, n.hub.signer, envelope.Header{ID: "snapshot:4", To: "TH", SentAt: now, Type: "status_request"}, "TH")), http.StatusForbidden, CodeNotHub},
			{"addressed to CN", auth(sealRequest(t, n.hub.signer, envelope.Header{ID: "snapshot:5", To: "CN", SentAt: now}, "CN")), http.StatusMisdirectedRequest, envelope.CodeMisaddressed},
			{"body names CN", auth(sealRequest(t, n.hub.signer, envelope.Header{ID: "snapshot:6", To: "TH", SentAt: now}, "CN")), http.StatusMisdirectedRequest, envelope.CodeMisaddressed},
			{"stale", auth(sealRequest(t, n.hub.signer, envelope.Header{ID: "snapshot:7", To: "TH", SentAt: now.Add(-2 * hub.SnapshotSkew)}, "TH")), http.StatusBadRequest, envelope.CodeStale},
			{"future", auth(sealRequest(t, n.hub.signer, envelope.Header{ID: "snapshot:8", To: "TH", SentAt: now.Add(2 * hub.SnapshotSkew)}, "TH")), http.StatusBadRequest, envelope.CodeFuture},
			{"not a JWS", auth("x.y.z"), http.StatusBadRequest, envelope.CodeMalformed},
		}
		for _, c := range cases {
			st, pr := getSnapshot(t, n, th, c.authz)
			if st != c.status || pr.Code != string(c.code) {
				t.Errorf("%s: %d %q (%s), want %d %q", c.name, st, pr.Code, pr.Detail, c.status, c.code)
			}
		}
		// The request is no protocol message: POSTed as one it is refused
		// (it carries no transaction id; with one, its type is unknown).
		err := n.client.Post(context.Background(), th.srv.URL+"/"+PathMessages, sealRequest(t, n.hub.signer, envelope.Header{ID: "snapshot:9", To: "TH", SentAt: now}, "TH"))
		if c := envelope.RefusalCode(err); c != envelope.CodeMalformed && c != protocol.CodeUnknownType {
			t.Fatalf("a snapshot request posted as a message: %v", err)
		}
	})
}

// TestReconcileRemoteNodes: the networked hub reconciles with the nodes of
// its trust list with no node token (signed snapshot requests): clean
// after a transfer; an export CN made behind the hub's back is found,
// recorded, frozen at CN by the freeze message, and the next run records
// the freeze; GET /hub/v1/reconciliations shows the results; POST
// /hub/v1/reconcile needs the administrator's token.
func TestReconcileRemoteNodes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		n := newNet(t, tg, "CN", "TH")
		serveNodes(n)
		cn, th := n.nodes["CN"], n.nodes["TH"]
		ctx := context.Background()
		sent, err := cn.link.Send(ctx, "CN", hub.Send{Actor: cn.holder, Key: "x1", From: cn.acc, ToRegistry: "TH", ToAccount: th.acc,
			Units: registry.Units{Quantity: 100, UnitType: "CCER"}, Purpose: "voluntary"})
		if err != nil {
			t.Fatal(err)
		}
		wait(t, cn.link, sent.ID)
		waitHeld(t, th, 100)
		rec := &Reconciler{Hub: n.h, Nodes: func() []hub.NodeView { return RemoteNodes(n.h, n.pub.Current, n.client) },
			AdminToken: "s3cret", Options: hub.ReconcileOptions{Grace: -1}}
		mux := http.NewServeMux()
		rec.Register(mux)
		mux.Handle("/hub/", HubHandler(n.h, n.pub, agreements.Set{}, nil))
		n.hub.sw.set(mux)
		post := func(token string) (int, reconciliationsDoc, Problem) {
			req, _ := http.NewRequest(http.MethodPost, n.hub.srv.URL+"/"+PathReconcile, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := n.client.HTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var doc reconciliationsDoc
			var pr Problem
			if resp.StatusCode == http.StatusOK {
				_ = json.NewDecoder(resp.Body).Decode(&doc)
			} else {
				_ = json.NewDecoder(resp.Body).Decode(&pr)
			}
			return resp.StatusCode, doc, pr
		}
		if st, _, pr := post(""); st != http.StatusUnauthorized || pr.Code != "unauthenticated" {
			t.Fatalf("reconcile without the token: %d %+v", st, pr)
		}
		if st, _, pr := post("wrong"); st != http.StatusUnauthorized || pr.Code != "unauthenticated" {
			t.Fatalf("reconcile with a wrong token: %d %+v", st, pr)
		}
		st, doc, pr := post("s3cret")
		if st != http.StatusOK || len(doc.Reconciliations) != 2 {
			t.Fatalf("reconcile now: %d %+v %+v", st, doc, pr)
		}
		for _, r := range doc.Reconciliations {
			if !r.Clean() || r.Head.Seq == 0 || len(r.Totals) != 1 || r.Totals[0].Hub != 100 || r.Totals[0].Node != 100 {
				t.Fatalf("%s: %+v totals %+v", r.Registry, r.Findings, r.Totals)
			}
		}

		// CN exports 10 units behind the hub's back: its hub organisation
		// settles an escrow the hub never proposed (a reservation abroad
		// must name the hub as its authority). CN's timers wait meanwhile:
		// a relay pass between the reserve and the completion would propose
		// the escrow to the hub, which then knows the export (or voids it).
		cnHub := registry.Actor{OrgID: cn.ep.HubOrg, Role: registry.RoleHub}
		func() {
			cn.ticking.Lock()
			defer cn.ticking.Unlock()
			res := do(t, cn.node, cn.holder, "r", registry.Reserve{From: cn.acc, Units: registry.Units{Quantity: 10, UnitType: "CCER"}, ToRegistry: "TH", ToAccountRef: "1",
				Authority: &registry.Authority{Role: registry.AuthorityHub, OrgID: cnHub.OrgID}})
			do(t, cn.node, cnHub, "c", registry.Complete{Pending: res.Pending})
		}()
		rs, err := rec.Reconcile(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rs[0].Registry != "CN" || len(rs[0].Findings) != 1 || rs[0].Findings[0].Code != hub.CodeReconcileMissing || rs[0].Findings[0].Start != 101 || !rs[1].Clean() {
			t.Fatalf("after the export outside the hub: %+v", rs)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			snap, err := cn.node.Snapshot(registry.Operator)
			if err != nil {
				t.Fatal(err)
			}
			if len(snap.Frozen) == 1 && snap.Frozen[0].Reconciliation == rs[0].ID && snap.Frozen[0].Blocks[0].Start == 101 && snap.Frozen[0].Blocks[0].End == 110 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("CN frozen: %+v", snap.Frozen)
			}
			time.Sleep(20 * time.Millisecond)
		}
		rs, _ = rec.Reconcile(ctx)
		if f := rs[0].Findings; len(f) != 1 || f[0].Freeze == 0 {
			t.Fatalf("the next run records the freeze: %+v", f)
		}
		resp, err := n.client.HTTP.Get(n.hub.srv.URL + "/" + PathReconciliations)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var latest reconciliationsDoc
		if err := json.NewDecoder(resp.Body).Decode(&latest); err != nil || len(latest.Reconciliations) != 2 || latest.Reconciliations[0].ID != rs[0].ID {
			t.Fatalf("GET reconciliations: %+v %v", latest, err)
		}
		var codes []string
		for _, r := range latest.Reconciliations {
			for _, f := range r.Findings {
				codes = append(codes, r.Registry+":"+f.Code)
			}
		}
		if !slices.Equal(codes, []string{"CN:" + hub.CodeReconcileMissing}) || !strings.HasPrefix(latest.Reconciliations[0].ID, "REC-") {
			t.Fatalf("latest findings %v", codes)
		}
		if r := n.htr.Refusals(); len(r) > 0 {
			t.Fatalf("hub refusals %+v", r)
		}
	})
}
