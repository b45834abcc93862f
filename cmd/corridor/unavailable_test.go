package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHubUnavailableExit: with the corridor's hub down the server answers
// 503 hub_unavailable; transfer, transfers show and transfers list exit 4
// (unavailable, retry later) and do not call it a refusal (before: exit 3,
// "rejected by the server").
func TestHubUnavailableExit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"type":"about:blank","title":"Service Unavailable","status":503,"code":"hub_unavailable","detail":"The corridor's hub could not be reached; retry later."}`))
	}))
	t.Cleanup(srv.Close)
	t.Setenv("CORRIDOR_SERVER", srv.URL)
	t.Setenv("CORRIDOR_TOKEN", "tok")
	t.Setenv("CORRIDOR_REGISTRY", "CN")
	for _, args := range [][]string{
		{"transfers", "show", "CN:1"},
		{"transfers", "list"},
		{"transfer", "--from", "2", "--to-registry", "TH", "--to-account", "2", "--quantity", "1", "--unit-type", "CCER", "--idempotency-key", "k1"},
	} {
		r := run(args...)
		if r.code() != exitUnreachable || r.err == nil || strings.Contains(r.err.Error(), "rejected") ||
			!strings.Contains(r.err.Error(), "hub_unavailable") || !strings.Contains(r.err.Error(), "unavailable now, retry later (HTTP 503)") {
			t.Errorf("corridor %s with the hub down: exit %d: %v, want exit %d saying unavailable, retry", strings.Join(args, " "), r.code(), r.err, exitUnreachable)
		}
	}
}

// TestHubReconcileWrongToken: a token the hub refuses exits 3 saying so
// (before: exit 1, "needs the hub administrator's token" though one was
// given); a hub that is not up exits 4.
func TestHubReconcileWrongToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("WWW-Authenticate", `Bearer realm="corridor-hub"`)
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"type":"about:blank","title":"Unauthorized","status":401,"code":"unauthenticated","detail":"POST /hub/v1/reconcile needs the hub administrator's token as 'Authorization: Bearer <token>'"}`))
	}))
	t.Cleanup(srv.Close)
	t.Setenv("CORRIDOR_HUB_ADMIN_TOKEN", "")
	r := run("hub", "reconcile", "--hub-url", srv.URL, "--token", "wrong")
	if r.code() != exitRejected || r.err == nil || !strings.Contains(r.err.Error(), "the hub refused the token") || strings.Contains(r.err.Error(), "needs the hub") {
		t.Errorf("reconcile with a wrong token: exit %d: %v, want exit %d 'the hub refused the token'", r.code(), r.err, exitRejected)
	}
	url := srv.URL
	srv.Close()
	r = run("hub", "reconcile", "--hub-url", url, "--token", "wrong")
	if r.code() != exitUnreachable {
		t.Errorf("reconcile with the hub down: exit %d: %v, want %d", r.code(), r.err, exitUnreachable)
	}
}

// TestServeHelpHubStorage: serve --help names where --role hub keeps its
// state, as host.NetworkHubStore opens it (before: "--data-dir/hub.db or
// schema "hub"", the embedded hub's file and a schema nothing uses).
func TestServeHelpHubStorage(t *testing.T) {
	help := mustRun(t, "serve", "--help").stdout
	hubPart, _, _ := strings.Cut(help[strings.Index(help, "--role hub --hub-key"):], "--role node")
	for _, want := range []string{"--data-dir/network-hub.db", "schema network_hub", "/readyz"} {
		if !strings.Contains(hubPart, want) {
			t.Errorf("serve --help, --role hub: no %q in\n%s", want, hubPart)
		}
	}
	if strings.Contains(hubPart, `"hub"`) || strings.Contains(hubPart, "--data-dir/hub.db") {
		t.Errorf("serve --help, --role hub still names the embedded hub's storage:\n%s", hubPart)
	}
}
