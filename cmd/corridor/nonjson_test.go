package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/host"
)

// htmlPage is what a web server (or a proxy in front of one) answers for a
// path it does not have.
const htmlPage = "<!DOCTYPE html>\n<html><head><title>Not found</title></head><body><h1>Page not found</h1></body></html>\n"

// TestHubReconcileNotAHub: --hub-url naming an embedded server (web pages
// and the registry API, no hub API) says so and exits 3, without printing
// the HTML page it answered.
func TestHubReconcileNotAHub(t *testing.T) {
	nodes, err := host.Open(t.Context(), host.Storage{DataDir: filepath.Join(t.TempDir(), "data")}, host.OpenOptions{Codes: []string{"VN"}})
	if err != nil {
		t.Fatal(err)
	}
	defer nodes.Close()
	srv := httptest.NewServer(host.Handler(nodes.List, nodes.Link))
	defer srv.Close()
	r := run("hub", "reconcile", "--hub-url", srv.URL, "--token", "x")
	if r.code() != exitRejected || r.err == nil || !strings.Contains(r.err.Error(), "no hub API at "+srv.URL) || !strings.Contains(r.err.Error(), "serve --role hub") {
		t.Fatalf("hub reconcile --hub-url of an embedded server: exit %d, %v", r.code(), r.err)
	}
	if out := r.err.Error() + r.stdout + r.stderr; strings.Contains(strings.ToLower(out), "<html") || strings.Contains(strings.ToLower(out), "<!doctype") {
		t.Fatalf("hub reconcile printed HTML:\n%s", out)
	}
}

// TestAPIErrorNotJSON: a command whose server answers an HTML page (a
// proxy's error, a web server that is not Corridor) says what came back
// in a sentence and never prints the page.
func TestAPIErrorNotJSON(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusNotFound, http.StatusBadGateway} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(htmlPage))
		}))
		for _, args := range [][]string{{"registries"}, {"accounts", "--registry", "CN"}, {"transactions", "--registry", "CN"}} {
			r := run(append(args, "--server", srv.URL)...)
			if r.code() == 0 || r.err == nil {
				t.Errorf("%v against an HTML %d: exit 0", args, status)
				continue
			}
			out := strings.ToLower(r.err.Error() + r.stdout + r.stderr)
			if strings.Contains(out, "<html") || strings.Contains(out, "<!doctype") || strings.Contains(out, "page not found") {
				t.Errorf("%v against an HTML %d printed the page: %v", args, status, r.err)
			}
			if !strings.Contains(out, "not a corridor api") && !strings.Contains(out, "not json (is the url a corridor server's?)") {
				t.Errorf("%v against an HTML %d: %v; want it to say the answer is not a Corridor API's", args, status, r.err)
			}
		}
		srv.Close()
	}
}
