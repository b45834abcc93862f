package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestRegistryPageNamesTheRealTokensFile: the sign-in hint names the demo
// tokens file the server was given (its --data-dir), not
// corridor-data/demo-tokens.json whatever the data directory; without one
// it names no file.
func TestRegistryPageNamesTheRealTokensFile(t *testing.T) {
	cs := newCorridorSite(t, storetest.SQLite(t))
	for _, path := range []string{"/srv/corridor-test/demo-tokens.json", ""} {
		srv := httptest.NewServer(cs.site.WithTokensFile(path).Handler())
		resp, err := http.Get(srv.URL + "/registries/TH")
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		resp.Body.Close()
		srv.Close()
		body := b.String()
		if strings.Contains(body, "corridor-data/demo-tokens.json") {
			t.Errorf("tokens file %q: the page names corridor-data/demo-tokens.json", path)
		}
		if path != "" && !strings.Contains(body, path) {
			t.Errorf("the page does not name %s", path)
		}
		if path == "" && strings.Contains(body, "demo-tokens.json") {
			t.Error("without a tokens file the page names one")
		}
	}
}
