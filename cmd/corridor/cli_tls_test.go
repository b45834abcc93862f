package main

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/hub/hubhttp"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// TestCLITLS: a node behind HTTPS with a private CA that requires client
// certificates is usable from every API command with --tls-ca, --tls-cert
// and --tls-key (or their environment variables); without the CA or the
// client certificate the command exits 4 naming the flag that fixes it;
// a CA file that is not PEM is a usage error (exit 2) and nothing is sent.
func TestCLITLS(t *testing.T) {
	s := startCLIServer(t)
	p := newPKI(t, t.TempDir())
	cert, err := tls.LoadX509KeyPair(p.serverCert, p.serverKey)
	if err != nil {
		t.Fatal(err)
	}
	nodes := make([]*registry.Node, 0, len(s.nodes))
	for _, n := range s.nodes {
		nodes = append(nodes, n)
	}
	srv := httptest.NewUnstartedServer(api.New(nodes...).Handler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: p.client.RootCAs, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	// srv.URL is https://127.0.0.1:port, the name of the test certificate.
	tlsArgs := []string{"--tls-ca", p.ca, "--tls-cert", p.clientCert, "--tls-key", p.clientKey}
	admin := s.tokens["CN/admin"]
	for _, args := range [][]string{
		{"accounts", "--registry", "CN", "--token", admin},
		{"registries"},
		{"account", "show", "1", "--registry", "CN", "--token", admin},
		{"issuances", "--registry", "CN"},
	} {
		r := run(append(append(args, "--server", srv.URL), tlsArgs...)...)
		if r.code() != 0 {
			t.Fatalf("%v: exit %d: %v\n%s", args, r.code(), r.err, r.stderr)
		}
	}

	// The transfers group (connection flags only) reaches the server too:
	// this one is not in a corridor, which it says.
	if r := run(append([]string{"transfers", "list", "--server", srv.URL}, tlsArgs...)...); r.code() != exitRejected || !strings.Contains(r.err.Error(), "corridor_not_served") {
		t.Fatalf("transfers list: exit %d: %v", r.code(), r.err)
	}

	// The same from the environment.
	t.Setenv("CORRIDOR_TLS_CA", p.ca)
	t.Setenv("CORRIDOR_TLS_CLIENT_CERT", p.clientCert)
	t.Setenv("CORRIDOR_TLS_CLIENT_KEY", p.clientKey)
	if r := run("registries", "--server", srv.URL); r.code() != 0 {
		t.Fatalf("registries with the TLS environment: exit %d: %v", r.code(), r.err)
	}
	t.Setenv("CORRIDOR_TLS_CA", "")
	t.Setenv("CORRIDOR_TLS_CLIENT_CERT", "")
	t.Setenv("CORRIDOR_TLS_CLIENT_KEY", "")

	if r := run("registries", "--server", srv.URL); r.code() != exitUnreachable || !strings.Contains(r.err.Error(), "--tls-ca") {
		t.Fatalf("without --tls-ca: exit %d: %v", r.code(), r.err)
	}
	if r := run("registries", "--server", srv.URL, "--tls-ca", p.ca); r.code() != exitUnreachable || !strings.Contains(r.err.Error(), "--tls-cert") {
		t.Fatalf("without a client certificate: exit %d: %v", r.code(), r.err)
	}
	if r := run("registries", "--server", srv.URL, "--tls-ca", p.clientKey); r.code() != exitUsage || !strings.Contains(r.err.Error(), "no PEM certificate") {
		t.Fatalf("a CA file that is a key: exit %d: %v", r.code(), r.err)
	}
	if r := run("registries", "--server", srv.URL, "--tls-ca", p.ca, "--tls-cert", p.clientCert); r.code() != exitUsage || !strings.Contains(r.err.Error(), "--tls-cert and --tls-key go together") {
		t.Fatalf("--tls-cert without --tls-key: exit %d: %v", r.code(), r.err)
	}
	if r := run("accounts", "--help"); !strings.Contains(r.stdout, "--tls-ca") || !strings.Contains(r.stdout, "CORRIDOR_TLS_CLIENT_CERT") {
		t.Fatalf("accounts --help:\n%s", r.stdout)
	}
}

// TestServeNodeProtocolMismatch: 'serve --role node' with an http://
// --hub-url for an HTTPS hub exits 3 at once, saying to use https://.
func TestServeNodeProtocolMismatch(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "th.key")
	pub, err := hubhttp.GenerateKeyFile(key)
	if err != nil {
		t.Fatal(err)
	}
	hubSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer hubSrv.Close()
	hubURL := "http://" + strings.TrimPrefix(hubSrv.URL, "https://")
	done := make(chan cliRun, 1)
	go func() {
		done <- run("serve", "--role", "node", "--registry", "TH", "--addr", "127.0.0.1:0", "--data-dir", dir, "--hub-url", hubURL,
			"--hub-public-key", hubhttp.EncodePublic(pub), "--node-key", key)
	}()
	select {
	case r := <-done:
		if r.code() != exitRejected || !strings.Contains(r.err.Error(), "speaks HTTPS, not plain HTTP: use https://") {
			t.Fatalf("exit %d: %v", r.code(), r.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve --role node kept waiting for a hub it cannot speak to")
	}
}
