package host

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/hub/hubhttp"
)

// noTermsAgreements is a test-only agreement set with no Article 6 terms
// (no cooperative approach); it is not a statement about any real
// agreement.
const noTermsAgreements = `revision: 1
purposes:
  - {code: voluntary, name: "Voluntary use"}
registries:
  - {code: CN, party: CN, name: "China"}
  - {code: TH, party: TH, name: "Thailand"}
sources:
  - {id: test, title: "Test corridor", issuer: "Corridor tests", kind: proposal}
agreements:
  - {id: test-cn-th, kind: pilot, title: "Test CN-TH", status: proposal, parties: [CN, TH], routes: [{from: CN, to: TH, unit_types: [CCER]}], purposes: [voluntary], sources: [{id: test}]}
`

func hubGetBody(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeHubArticle6: serve --role hub with the built-in agreements
// keeps the Article 6 ledger fed by the nodes of its trust list: with a
// node whose endpoint does not answer, its Article 6 reads answer 503
// article6_stale naming the node (not 503 article6_unavailable) and
// /readyz stays ready with article6 stale; a hub whose agreements have no
// Article 6 terms keeps none and says so (503 article6_unavailable,
// article6 none), on both drivers.
func TestServeHubArticle6(t *testing.T) {
	eachStorage(t, func(t *testing.T, s Storage) {
		dir := t.TempDir()
		key, _ := hubFiles(t, dir)
		thPub, err := hubhttp.GenerateKeyFile(filepath.Join(dir, "th.key"))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join(dir, "trust.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		// Thailand's node at an endpoint nothing listens on.
		trust := filepath.Join(dir, "trust-th.yaml")
		th := fmt.Sprintf("  - code: TH\n    role: node\n    party: TH\n    endpoint: http://127.0.0.1:1/\n    keys:\n      - public: %s\n        from: 2020-01-01T00:00:00Z\n        until: 2099-01-01T00:00:00Z\n", hubhttp.EncodePublic(thPub))
		if err := os.WriteFile(trust, append(raw, th...), 0o600); err != nil {
			t.Fatal(err)
		}
		o := HubOptions{Addr: freeAddr(t), Storage: s, KeyFile: key, TrustFile: trust}
		startHub(t, o)
		code, body := hubGetBody(t, o.Addr, "/api/v1/article6/itmos")
		if code != http.StatusServiceUnavailable || !strings.Contains(body, `"code":"article6_stale"`) || !strings.Contains(body, "TH") || strings.Contains(body, "127.0.0.1") {
			t.Errorf("the Article 6 reads with TH unreachable: %d %s", code, body)
		}
		if code, m, raw := getHubReady(t, o.Addr); code != http.StatusOK || m["ready"] != true || m["article6"] != "stale" || !strings.Contains(raw, `"article6_unreachable":["TH"]`) {
			t.Errorf("/readyz with TH unreachable: %d %s", code, raw)
		}
	})
	eachStorage(t, func(t *testing.T, s Storage) {
		dir := t.TempDir()
		key, trust := hubFiles(t, dir)
		ag := filepath.Join(dir, "agreements.yaml")
		if err := os.WriteFile(ag, []byte(noTermsAgreements), 0o600); err != nil {
			t.Fatal(err)
		}
		o := HubOptions{Addr: freeAddr(t), Storage: s, KeyFile: key, TrustFile: trust, AgreementsFile: ag}
		startHub(t, o)
		if code, body := hubGetBody(t, o.Addr, "/api/v1/article6/itmos"); code != http.StatusServiceUnavailable || !strings.Contains(body, `"code":"article6_unavailable"`) {
			t.Errorf("the Article 6 reads without approaches: %d %s", code, body)
		}
		if code, m, raw := getHubReady(t, o.Addr); code != http.StatusOK || m["article6"] != "none" {
			t.Errorf("/readyz without approaches: %d %s", code, raw)
		}
	})
}
