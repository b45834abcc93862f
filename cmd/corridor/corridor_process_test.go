package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/hub/hubhttp"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/store/storetest"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// processAgreements is a test-only agreement set letting CCER move CN → TH
// → SG (the built-in set has no CCER route TH → SG); it is not a statement
// about any real agreement.
const processAgreements = `revision: 1
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

// pki is a test CA with one server certificate for loopback and one client
// certificate, shared by every process of the test corridor.
type pki struct {
	ca, serverCert, serverKey, clientCert, clientKey string
	client                                           *tls.Config
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func newPKI(t *testing.T, dir string) pki {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Corridor test CA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p := pki{ca: filepath.Join(dir, "ca.pem"), serverCert: filepath.Join(dir, "server.pem"), serverKey: filepath.Join(dir, "server.key"),
		clientCert: filepath.Join(dir, "client.pem"), clientKey: filepath.Join(dir, "client.key")}
	writePEM(t, p.ca, "CERTIFICATE", caDER)
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage, certPath, keyPath string) tls.Certificate {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		if usage == x509.ExtKeyUsageServerAuth {
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
			tmpl.DNSNames = []string{"localhost"}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, _ := x509.MarshalPKCS8PrivateKey(k)
		writePEM(t, certPath, "CERTIFICATE", der)
		writePEM(t, keyPath, "PRIVATE KEY", kder)
		c, err := tls.LoadX509KeyPair(certPath, keyPath)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	leaf(2, "127.0.0.1", x509.ExtKeyUsageServerAuth, p.serverCert, p.serverKey)
	cc := leaf(3, "corridor participant", x509.ExtKeyUsageClientAuth, p.clientCert, p.clientKey)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	p.client = &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cc}, MinVersion: tls.VersionTLS12}
	return p
}

func (p pki) tlsArgs() []string {
	return []string{"--tls-cert", p.serverCert, "--tls-key", p.serverKey, "--tls-client-ca", p.ca, "--tls-ca", p.ca, "--tls-client-cert", p.clientCert, "--tls-client-key", p.clientKey}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proc is one running corridor process.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *bytes.Buffer
	done chan struct{}
}

func (p *proc) stop(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not stop on SIGTERM", p.name)
	}
}

func start(t *testing.T, bin, name string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{name: name, cmd: cmd, log: &log, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("--- %s log:\n%s", name, log.String())
		}
	})
	return p
}

func runBin(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("corridor %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

type keyInfo struct{ file, kid, public string }

func keygen(t *testing.T, bin, dir, name string) keyInfo {
	t.Helper()
	k := keyInfo{file: filepath.Join(dir, name+".key")}
	out := runBin(t, bin, "keygen", "--out", k.file)
	m := regexp.MustCompile(`(?m)^kid: (\S+)\npublic: (\S+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("keygen printed %q", out)
	}
	k.kid, k.public = m[1], m[2]
	if fi, err := os.Stat(k.file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v mode %v", err, fi.Mode())
	}
	return k
}

// api is a JSON client of one process.
type apiClient struct {
	t     *testing.T
	http  *http.Client
	base  string
	token string
}

func (c apiClient) do(method, path string, body any, key string) (int, map[string]any) {
	c.t.Helper()
	st, out, err := c.request(method, path, body, key)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return st, out
}

// doErr is do answering 0 when the request fails (a process killed).
func (c apiClient) doErr(method, path string, body any, key string) (int, map[string]any) {
	st, out, err := c.request(method, path, body, key)
	if err != nil {
		return 0, nil
	}
	return st, out
}

func (c apiClient) request(method, path string, body any, key string) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	if out == nil {
		out = map[string]any{"raw": string(raw)}
	}
	return resp.StatusCode, out, nil
}

func waitUp(t *testing.T, c *http.Client, url string, p *proc) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited:\n%s", p.name, p.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not up at %s: %v", p.name, url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCorridorProcesses runs the hub and three registry nodes (CN, TH, SG)
// as separate corridor processes on loopback over TLS with client
// certificates required, bootstraps the nodes, issues at CN and moves
// units CN → TH → SG through the nodes' API; then checks the statuses at
// the hub (1 2 8 4), the serials held at SG in their origin form, the
// refusals of a forged and a mis-addressed envelope over HTTP, and verify
// on every node. The nodes run on SQLite files, and once more on
// PostgreSQL schemas when CORRIDOR_TEST_DATABASE_URL is set.
func TestCorridorProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts four processes")
	}
	bin := filepath.Join(t.TempDir(), "corridor")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Run("sqlite", func(t *testing.T) { corridorProcesses(t, bin, "") })
	t.Run("postgres", func(t *testing.T) {
		url := os.Getenv(storetest.EnvURL)
		if url == "" {
			t.Skipf("SKIPPED PostgreSQL half: set %s", storetest.EnvURL)
		}
		corridorProcesses(t, bin, url)
	})
}

// procCorridor is a hub and its nodes as separate processes.
type procCorridor struct {
	t      *testing.T
	bin    string
	p      pki
	httpc  *http.Client
	codes  []string
	keys   map[string]keyInfo
	addrs  map[string]string
	args   map[string][]string
	stores map[string][]string
	tokens map[string]string
	procs  map[string]*proc
	hubURL string
}

// startCorridor bootstraps the nodes and starts the hub and every node,
// each with extra flags, waiting until each answers.
func startCorridor(t *testing.T, bin, pgURL string, codes []string, extra ...string) *procCorridor {
	t.Helper()
	dir := t.TempDir()
	p := newPKI(t, dir)
	c := &procCorridor{t: t, bin: bin, p: p, codes: codes, keys: map[string]keyInfo{"HUB": keygen(t, bin, dir, "hub")}, addrs: map[string]string{"HUB": freePort(t)},
		args: map[string][]string{}, stores: map[string][]string{}, tokens: map[string]string{}, procs: map[string]*proc{},
		httpc: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: p.client}}}
	for _, code := range codes {
		c.keys[code] = keygen(t, bin, dir, strings.ToLower(code))
		c.addrs[code] = freePort(t)
	}
	var trust strings.Builder
	trust.WriteString("version: 1\nentries:\n")
	for _, code := range append([]string{"HUB"}, codes...) {
		role := "role: node\n    party: " + code
		if code == "HUB" {
			role = "role: hub"
		}
		fmt.Fprintf(&trust, "  - code: %s\n    %s\n    endpoint: https://%s/\n    keys:\n      - kid: %s\n        public: %s\n        from: 2020-01-01T00:00:00Z\n        until: 2099-01-01T00:00:00Z\n",
			code, role, c.addrs[code], c.keys[code].kid, c.keys[code].public)
	}
	trustFile, agFile := filepath.Join(dir, "trust.yaml"), filepath.Join(dir, "agreements.yaml")
	if err := os.WriteFile(trustFile, []byte(trust.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(agFile, []byte(processAgreements), 0o644); err != nil {
		t.Fatal(err)
	}
	storage := func(name string) []string {
		if pgURL != "" {
			// Each participant on its own fresh database (its registry or
			// hub in its schema there, as in production).
			return []string{"--data-dir", filepath.Join(dir, name), "--database-url", freshDatabase(t, pgURL)}
		}
		return []string{"--data-dir", filepath.Join(dir, name)}
	}
	c.stores["HUB"] = storage("hub")
	for _, code := range codes {
		c.stores[code] = storage(strings.ToLower(code))
		out := runBin(t, bin, append([]string{"bootstrap", "--registry", code, "--org-name", code + " registry administrator", "--country", code}, c.stores[code]...)...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		c.tokens[code] = strings.TrimSpace(lines[len(lines)-1])
	}
	c.hubURL = "https://" + c.addrs["HUB"]
	c.args["HUB"] = append(append(append([]string{"serve", "--role", "hub", "--addr", c.addrs["HUB"], "--hub-key", c.keys["HUB"].file, "--trust", trustFile, "--agreements", agFile},
		c.stores["HUB"]...), p.tlsArgs()...), extra...)
	for _, code := range codes {
		c.args[code] = append(append(append([]string{"serve", "--role", "node", "--registry", code, "--addr", c.addrs[code], "--hub-url", c.hubURL,
			"--hub-public-key", c.keys["HUB"].kid + ":" + c.keys["HUB"].public, "--node-key", c.keys[code].file}, c.stores[code]...), p.tlsArgs()...), extra...)
	}
	for _, code := range append([]string{"HUB"}, codes...) {
		c.start(code)
	}
	return c
}

// start (re)starts participant code and waits until it answers.
func (c *procCorridor) start(code string) {
	c.t.Helper()
	c.procs[code] = start(c.t, c.bin, code, c.args[code]...)
	base := c.hubURL
	if code != "HUB" {
		base = "https://" + c.addrs[code]
	}
	waitUp(c.t, c.httpc, base+"/healthz", c.procs[code])
}

// kill sends SIGKILL to participant code and waits for it to die.
func (c *procCorridor) kill(code string) {
	c.t.Helper()
	p := c.procs[code]
	_ = p.cmd.Process.Kill()
	<-p.done
}

func (c *procCorridor) api(code string) apiClient {
	return apiClient{t: c.t, http: c.httpc, base: "https://" + c.addrs[code], token: c.tokens[code]}
}

// nationalAccount is the account bootstrap opened in registry code.
func (c *procCorridor) nationalAccount(code string) int64 {
	c.t.Helper()
	st, body := c.api(code).do("GET", "/api/v1/registries/"+code+"/accounts", nil, "")
	if st != 200 {
		c.t.Fatalf("%s accounts: %d %v", code, st, body)
	}
	accs, _ := body["accounts"].([]any)
	for _, a := range accs {
		m := a.(map[string]any)
		if m["type"] == "national_holding" {
			return int64(m["id"].(float64))
		}
	}
	c.t.Fatalf("%s has no national holding account: %v", code, body)
	return 0
}

// hubTransfer reads the hub's record of id (false when the hub has none
// or does not answer).
func (c *procCorridor) hubTransfer(id string) (hub.Transfer, bool) {
	resp, err := c.httpc.Get(c.hubURL + "/hub/v1/transfers/" + id)
	if err != nil {
		return hub.Transfer{}, false
	}
	defer resp.Body.Close()
	var tr hub.Transfer
	ok := resp.StatusCode == 200 && json.NewDecoder(resp.Body).Decode(&tr) == nil
	return tr, ok
}

// verifyAll stops every process and runs verify on each node's database
// but those of skip (a database edited by hand).
func (c *procCorridor) verifyAll(skip ...string) {
	c.t.Helper()
	for _, code := range c.codes {
		c.procs[code].stop(c.t)
	}
	c.procs["HUB"].stop(c.t)
	for _, code := range c.codes {
		if slices.Contains(skip, code) {
			continue
		}
		out := runBin(c.t, c.bin, append([]string{"verify", "--registry", code}, c.stores[code]...)...)
		if !strings.Contains(out, code) {
			c.t.Fatalf("verify %s printed %q", code, out)
		}
	}
}

func corridorProcesses(t *testing.T, bin, pgURL string) {
	codes := []string{"CN", "TH", "SG"}
	// The hub reconciles every second, leaving out transfers completed in
	// the last 3 s (the imports land within milliseconds here).
	c := startCorridor(t, bin, pgURL, codes, "--reconcile-every", "1s", "--reconcile-grace", "3s", "--hub-admin-token", procAdminToken)
	p, hubURL, keys := c.p, c.hubURL, c.keys
	// Client certificates are required: without one, the TLS handshake fails.
	noCert := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.client.RootCAs}}}
	if resp, err := noCert.Get(hubURL + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatalf("the hub answered %d without a client certificate", resp.StatusCode)
	}
	// The networked hub keeps no Article 6 ledger yet: it says so (503
	// article6_unavailable), it does not serve empty tables.
	if resp, err := c.httpc.Get(hubURL + "/api/v1/article6/aef?party=TH&year=2026"); err != nil {
		t.Fatal(err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"code":"article6_unavailable"`) {
			t.Errorf("the networked hub's AEF: %d %s", resp.StatusCode, body)
		}
	}

	// Refused messages over HTTP, with their codes.
	cnSigner, err := hubhttp.LoadSigner(keys["CN"].file, "CN")
	if err != nil {
		t.Fatal(err)
	}
	client := hubhttp.NewClient(p.client, 5*time.Second)
	seal := func(to, id string) string {
		c, err := protocol.Seal(cnSigner, envelope.Header{ID: id, From: "CN", To: to, SentAt: time.Now().UTC(), TransactionID: "CN:424242"}, protocol.StatusRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	good := seal("HUB", "probe-1")
	parts := strings.Split(good, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	sig[len(sig)/2] ^= 1 // a flipped bit in the signature
	forged := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	if code := envelope.RefusalCode(client.Post(context.Background(), hubURL+"/hub/v1/messages", forged)); code != envelope.CodeForged {
		t.Fatalf("forged envelope: code %q", code)
	}
	if code := envelope.RefusalCode(client.Post(context.Background(), hubURL+"/hub/v1/messages", seal("TH", "probe-2"))); code != envelope.CodeMisaddressed {
		t.Fatalf("mis-addressed envelope: code %q", code)
	}

	nodeAPI := c.api
	acc := map[string]int64{}
	for _, code := range codes {
		acc[code] = c.nationalAccount(code)
	}
	st, body := nodeAPI("CN").do("POST", "/api/v1/registries/CN/issuances", map[string]any{"standard": "CCER", "unit_type": "CCER", "project": "CCER-14-2024-001",
		"methodology": "CCER-14-001-V01", "host_country": "CN", "vintage": 2024, "quantity": 1000, "account_id": acc["CN"]}, "issue-1")
	if st/100 != 2 {
		t.Fatalf("issue at CN: %d %v", st, body)
	}

	send := func(from, to string, qty int64, key string) string {
		st, body := nodeAPI(from).do("POST", "/api/v1/registries/"+from+"/transfers/cross-border", map[string]any{"from_account": acc[from], "to_registry": to,
			"to_account": acc[to], "quantity": qty, "unit_type": "CCER", "purpose": "voluntary"}, key)
		if st != http.StatusAccepted && st != http.StatusOK && st != http.StatusCreated {
			t.Fatalf("%s → %s: %d %v", from, to, st, body)
		}
		return body["id"].(string)
	}
	waitFinal := func(id string) hub.Transfer {
		deadline := time.Now().Add(30 * time.Second)
		for {
			if tr, ok := c.hubTransfer(id); ok && tr.Status.Final() {
				return tr
			}
			if time.Now().After(deadline) {
				t.Fatalf("transfer %s not final at the hub", id)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	want := []protocol.Status{1, 2, 8, 4}
	id1 := send("CN", "TH", 250, "x-1")
	if got := waitFinal(id1).Statuses(); !slices.Equal(got, want) {
		t.Fatalf("CN → TH statuses %v", got)
	}
	serial := "CN-CCER-CCER-14-2024-001-2024-1-1-100"
	waitHeldAt := func(c string, s string) {
		deadline := time.Now().Add(15 * time.Second)
		for {
			st, body := nodeAPI(c).do("GET", "/api/v1/registries/"+c+"/serials/"+s, nil, "")
			if st == 200 && strings.Contains(fmt.Sprint(body), "held") && strings.Contains(fmt.Sprint(body), fmt.Sprint(acc[c])) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s serial %s: %d %v", c, s, st, body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitHeldAt("TH", "CN-CCER-CCER-14-2024-001-2024-1-1-250")
	id2 := send("TH", "SG", 100, "x-2")
	if got := waitFinal(id2).Statuses(); !slices.Equal(got, want) {
		t.Fatalf("TH → SG statuses %v", got)
	}
	waitHeldAt("SG", serial)

	c.reconciliation(cnSigner)
}

const procAdminToken = "proc-test-hub-admin"

// latestReconciliations reads GET /hub/v1/reconciliations, by registry.
func (c *procCorridor) latestReconciliations() map[string]hub.Reconciliation {
	c.t.Helper()
	resp, err := c.httpc.Get(c.hubURL + "/hub/v1/reconciliations")
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Reconciliations []hub.Reconciliation `json:"reconciliations"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != 200 {
		c.t.Fatalf("GET reconciliations: %d %v", resp.StatusCode, err)
	}
	out := map[string]hub.Reconciliation{}
	for _, r := range doc.Reconciliations {
		out[r.Registry] = r
	}
	return out
}

// reconciliation: the hub process reconciles with the three node
// processes on its schedule, with no node token: clean after the
// transfers; a snapshot request without the hub's signature is refused
// with its code; units removed from SG's database by hand (SG stopped,
// edited, restarted) are found by the next scheduled run and frozen at SG
// by the freeze message; 'corridor hub reconcile --hub-url' asks the
// running hub and prints the finding with its labelled totals.
func (c *procCorridor) reconciliation(cnSigner envelope.Signer) {
	t := c.t
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(40 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s; latest reconciliations %+v", what, c.latestReconciliations())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	since := time.Now().Add(3 * time.Second)
	waitFor("a clean reconciliation of every node past the grace", func() bool {
		rs := c.latestReconciliations()
		for _, code := range c.codes {
			r, ok := rs[code]
			if !ok || r.At.Before(since) {
				return false
			}
			if !r.Clean() {
				t.Fatalf("%s: %+v", code, r.Findings)
			}
		}
		return rs["SG"].Head.Seq > 0 && len(rs["SG"].Totals) == 1 && rs["SG"].Totals[0].Node == 100
	})

	// The node's snapshot answers only a request signed by the hub.
	get := func(authz string) (int, string) {
		req, _ := http.NewRequest("GET", "https://"+c.addrs["SG"]+"/hub/v1/snapshot", nil)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		resp, err := c.httpc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var pr hubhttp.Problem
		_ = json.NewDecoder(resp.Body).Decode(&pr)
		return resp.StatusCode, pr.Code
	}
	if st, code := get(""); st != http.StatusUnauthorized || code != string(hubhttp.CodeUnauthenticated) {
		t.Fatalf("snapshot without a request: %d %q", st, code)
	}
	body, _ := json.Marshal(hub.SnapshotRequest{Registry: "SG"})
	byCN, err := cnSigner.Seal(envelope.Header{ID: "snapshot:cn", From: "CN", To: "SG", Version: protocol.Version, SentAt: time.Now().UTC(), Type: hub.SnapshotRequestType}, body)
	if err != nil {
		t.Fatal(err)
	}
	if st, code := get(hub.SnapshotAuthScheme + " " + byCN); st != http.StatusForbidden || code != string(hubhttp.CodeNotHub) {
		t.Fatalf("snapshot request signed by CN: %d %q", st, code)
	}

	// SG loses its units: stopped, its blocks deleted by hand, restarted.
	c.procs["SG"].stop(t)
	c.execSQL("SG", "DELETE FROM blocks")
	c.start("SG")
	cut := time.Now()
	var found hub.Reconciliation
	waitFor("the scheduled run to find SG's loss and freeze it", func() bool {
		r := c.latestReconciliations()["SG"]
		if r.At.Before(cut) || len(r.Findings) != 1 || r.Findings[0].Code != hub.CodeReconcileMissing {
			return false
		}
		found = r
		st, body := c.api("SG").do("GET", "/api/v1/registries/SG/freezes", nil, "")
		fs, _ := body["freezes"].([]any)
		return st == 200 && len(fs) > 0
	})
	if f := found.Findings[0]; f.Origin == nil || f.Origin.Registry != "CN" || f.Start != 1 || f.End != 100 || found.Totals[0].Node != 0 || found.Totals[0].Hub != 100 {
		t.Fatalf("SG finding %+v totals %+v", found.Findings, found.Totals)
	}
	if rs := c.latestReconciliations(); !rs["CN"].Clean() || !rs["TH"].Clean() {
		t.Fatalf("CN %+v TH %+v", rs["CN"].Findings, rs["TH"].Findings)
	}

	// On demand, through the running hub with its administrator's token.
	args := []string{"hub", "reconcile", "--hub-url", c.hubURL, "--tls-ca", c.p.ca, "--tls-client-cert", c.p.clientCert, "--tls-client-key", c.p.clientKey}
	out, err := exec.Command(c.bin, append(args, "--token", "wrong")...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "unauthenticated") {
		t.Fatalf("hub reconcile with a wrong token: %v\n%s", err, out)
	}
	cmd := exec.Command(c.bin, args...)
	cmd.Env = append(os.Environ(), "CORRIDOR_HUB_ADMIN_TOKEN="+procAdminToken)
	out, err = cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitRejected || !strings.Contains(string(out), "registry SG  origin CN/") ||
		!strings.Contains(string(out), "node 0  hub 100") || !strings.Contains(string(out), "reconcile_missing: the hub places CN/") || !strings.Contains(string(out), "[frozen at SG by freeze ") {
		t.Fatalf("hub reconcile --hub-url: %v\n%s", err, out)
	}

	// Stop every process, then verify each node's database (SG's was
	// edited by hand: its journal no longer matches its blocks).
	c.verifyAll("SG")
}

// execSQL runs q on the database of participant code (stopped).
func (c *procCorridor) execSQL(code, q string) {
	c.t.Helper()
	st := c.stores[code]
	var db *sql.DB
	var err error
	if i := slices.Index(st, "--database-url"); i >= 0 {
		db, err = sql.Open("pgx", st[i+1])
		q = strings.Replace(q, "FROM ", "FROM registry_"+strings.ToLower(code)+".", 1)
	} else {
		db, err = sql.Open("sqlite", filepath.Join(st[1], "registries", code+".db"))
	}
	if err != nil {
		c.t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(q); err != nil {
		c.t.Fatalf("%s: %s: %v", code, q, err)
	}
}

// freshDatabase creates an empty PostgreSQL database next to the one of
// url, dropped when the test ends, and returns its URL.
func freshDatabase(t *testing.T, url string) string {
	t.Helper()
	admin, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := fmt.Sprintf("corridor_proc_%x", b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
