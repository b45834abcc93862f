package host

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func getPage(t *testing.T, base, path string) string {
	t.Helper()
	res, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, res.StatusCode, body)
	}
	return string(body)
}

var registryCount = regexp.MustCompile(`id="registry-count">(\d+)<`)

// TestPagesDemoNotesOnlyWithDemoData: the demo's notes (its legal caveat
// on the Article 6 page, where its tokens are) show when the registries
// hold the demo's data and not on a bootstrapped registry run without it;
// the corridor page counts the registries served (the demo's LA is
// stopped: 9 of 10).
func TestPagesDemoNotesOnlyWithDemoData(t *testing.T) {
	eachStorage(t, func(t *testing.T, s Storage) {
		ctx := context.Background()
		demoNodes, err := Open(ctx, s, OpenOptions{SeedDemo: true})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(demoNodes.Handler())
		if p := getPage(t, srv.URL, "/corridor/article6"); !strings.Contains(p, `id="article6-demo"`) || !strings.Contains(p, "Demo data.") {
			t.Errorf("demo: /corridor/article6 lacks the demo note")
		}
		if p := getPage(t, srv.URL, "/registries/VN"); !strings.Contains(p, "demo-tokens.json") {
			t.Errorf("demo: /registries/VN does not say where the demo's tokens are")
		}
		p := getPage(t, srv.URL, "/corridor")
		if m := registryCount.FindStringSubmatch(p); m == nil || m[1] != "9" || !strings.Contains(p, "of 10 in the corridor") {
			t.Errorf("demo: /corridor registry count %v, want 9 of 10", m)
		}
		srv.Close()
		demoNodes.Close()

		prod := Storage{DataDir: t.TempDir(), DatabaseURL: s.DatabaseURL}
		if s.DatabaseURL != "" {
			prod = freshPostgres(t)
		}
		if _, err := Bootstrap(ctx, prod, BootstrapParams{Code: "VN", OrgName: "Viet Nam registry (test)", Country: "VN"}); err != nil {
			t.Fatal(err)
		}
		nodes, err := Open(ctx, prod, OpenOptions{Codes: []string{"VN"}})
		if err != nil {
			t.Fatal(err)
		}
		defer nodes.Close()
		srv = httptest.NewServer(nodes.Handler())
		defer srv.Close()
		for _, path := range []string{"/corridor/article6", "/registries/VN", "/corridor", "/"} {
			if p := getPage(t, srv.URL, path); strings.Contains(p, "Demo data") || strings.Contains(p, "demo-tokens") || strings.Contains(p, "article6-demo") {
				t.Errorf("production: %s shows the demo's notes", path)
			}
		}
		if m := registryCount.FindStringSubmatch(getPage(t, srv.URL, "/corridor")); m == nil || m[1] != "1" {
			t.Errorf("production: /corridor registry count %v, want 1", m)
		}
	})
}
