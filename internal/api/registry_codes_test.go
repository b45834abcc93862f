package api_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestNoSuchRegistryIsOneCode: a registry code that does not exist is
// registry_not_found with the same sentence wherever the request names it
// (the path, the transfers filter, a cross-border body), and a code typed
// in lower case is the upper-case registry.
func TestNoSuchRegistryIsOneCode(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		cw := newCorridorWorld(t, tg)
		tok := cw.tokens["CN/holder"]
		seq := cw.nodes["CN"].Totals().JournalSeq
		for _, c := range []struct {
			name, method, path, key, body string
			status                        int
			field                         string
		}{
			{"path", "GET", "/api/v1/registries/XX/issuances", "", "", 404, "registry"},
			{"transfers filter", "GET", "/api/v1/transfers?registry=XX", "", "", 404, "registry"},
			{"cross-border body", "POST", crossBorder, "nr1",
				fmt.Sprintf(`{"from_account":%d,"to_registry":"XX","to_account":1,"quantity":5,"unit_type":"CCER"}`, cw.accs["CN/holder"]), 422, "to_registry"},
		} {
			token := ""
			if c.method == "POST" {
				token = tok
			}
			st, m, _ := cw.raw(t, c.method, c.path, token, c.key, c.body)
			d, _ := m["detail"].(string)
			if st != c.status || m["code"] != "registry_not_found" || m["field"] != c.field {
				t.Errorf("%s: %d %v; want %d registry_not_found [%s]", c.name, st, m, c.status, c.field)
			}
			if !strings.HasPrefix(d, `No registry "XX" `) || !strings.Contains(d, "GET /api/v1/registries lists the registry codes.") || strings.Contains(d, "role node") {
				t.Errorf("%s: detail %q is not the one sentence", c.name, d)
			}
		}
		if got := cw.nodes["CN"].Totals().JournalSeq; got != seq {
			t.Fatalf("a refused send moved CN's journal from %d to %d", seq, got)
		}

		// Lower case reads as the registry.
		if st, m, _ := cw.raw(t, "GET", "/api/v1/registries/cn", "", "", ""); st != 200 || m["registry"] != "CN" {
			t.Fatalf("GET /registries/cn: %d %v", st, m)
		}
		if st, m, _ := cw.raw(t, "GET", "/api/v1/registries/th/issuances", "", "", ""); st != 200 {
			t.Fatalf("GET /registries/th/issuances: %d %v", st, m)
		}
		if st, m, _ := cw.raw(t, "GET", "/api/v1/transfers?registry=th", "", "", ""); st != 200 {
			t.Fatalf("transfers?registry=th: %d %v", st, m)
		}
		st, m, _ := cw.raw(t, "POST", crossBorder, tok, "nr2",
			fmt.Sprintf(`{"from_account":%d,"to_registry":"th","to_account":%d,"quantity":5,"unit_type":"CCER"}`, cw.accs["CN/holder"], cw.accs["TH/holder"]))
		if st != 202 {
			t.Fatalf("send to th: %d %v", st, m)
		}
		cw.deliver(t)
		st, m, _ = cw.raw(t, "GET", "/api/v1/transfers/"+m["id"].(string), "", "", "")
		if st != 200 || m["to_registry"] != "TH" || m["status_name"] != "completed" {
			t.Fatalf("the transfer to th: %d %v", st, m)
		}
	})
}

// TestRegistriesServing: GET /api/v1/registries marks each registry
// serving or not; only a serving one carries totals. A registry of the
// corridor this server does not run (as LA in the demo) is serving false
// with no totals and a reason.
func TestRegistriesServing(t *testing.T) {
	cw := newCorridorWorld(t, storetest.SQLite(t))
	srv := httptest.NewServer(api.New(cw.nodes["CN"]).WithLink(cw.c).Handler())
	t.Cleanup(srv.Close)
	only := &world{srv: srv, node: cw.nodes["CN"]}
	st, m, _ := only.raw(t, "GET", "/api/v1/registries", "", "", "")
	if st != 200 {
		t.Fatalf("%d %v", st, m)
	}
	got := map[string]map[string]any{}
	for _, e := range m["registries"].([]any) {
		e := e.(map[string]any)
		got[e["code"].(string)] = e
	}
	if e := got["CN"]; e["served"] != true || e["serving"] != true || e["issued"] == nil || e["not_serving"] != nil {
		t.Errorf("CN (served here): %v", e)
	}
	for _, c := range []string{"ID", "TH"} {
		if e := got[c]; e["served"] != false || e["serving"] != false || e["issued"] != nil || e["journal_seq"] != nil || e["not_serving"] == "" || e["not_serving"] == nil {
			t.Errorf("%s (not run here): %v", c, e)
		}
	}
}
