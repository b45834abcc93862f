package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/client"
	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// world is a running API server over a seeded demo registry CN.
type world struct {
	srv     *httptest.Server
	node    *registry.Node
	tokens  map[string]string // admin, auditor, holder, other (another holder)
	account int64             // the holder's account
	otherAc int64             // another organisation's account
}

func newWorld(t testing.TB, tg storetest.Target) *world {
	t.Helper()
	ctx := context.Background()
	n, err := registry.Open(ctx, tg.Open(t), registry.Options{Code: "CN"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	return seededWorld(t, n)
}

// seededWorld seeds n with the demo registry CN and serves its API.
func seededWorld(t testing.TB, n *registry.Node) *world {
	t.Helper()
	toks, err := demo.Seed(context.Background(), n, demo.Registries[0])
	if err != nil {
		t.Fatal(err)
	}
	w := &world{node: n, tokens: map[string]string{}}
	for _, tk := range toks {
		switch {
		case tk.Role == ledger.RoleAdmin:
			w.tokens["admin"] = tk.Token
		case tk.Role == ledger.RoleAuditor:
			w.tokens["auditor"] = tk.Token
		case tk.Role == ledger.RoleHolder && w.tokens["holder"] == "":
			w.tokens["holder"], w.account = tk.Token, tk.AccountID
		case tk.Role == ledger.RoleHolder && w.tokens["other"] == "":
			w.tokens["other"], w.otherAc = tk.Token, tk.AccountID
		}
	}
	w.srv = httptest.NewServer(api.New(n).Handler())
	t.Cleanup(w.srv.Close)
	return w
}

func (w *world) raw(t testing.TB, method, path, token, key, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, w.srv.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if resp.StatusCode >= 400 {
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("%s %s: error with content type %q: %s", method, path, ct, b)
		}
		if m["code"] == nil || m["detail"] == nil || m["title"] == nil {
			t.Fatalf("%s %s: problem without code/title/detail: %s", method, path, b)
		}
		if bytes.Contains(b, []byte("goroutine")) || bytes.Contains(b, []byte(".go:")) {
			t.Fatalf("%s %s: response leaks internals: %s", method, path, b)
		}
	}
	return resp.StatusCode, m, resp.Header
}

// TestAuthorizationMatrix checks every registry endpoint against every role.
func TestAuthorizationMatrix(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w := newWorld(t, tg)
		ctx := context.Background()
		// Reservations to complete and void, one per role that tries.
		holder := client.New(w.srv.URL, w.tokens["holder"])
		var pendings []int64
		for i := 0; i < 10; i++ {
			r, err := holder.Submit(ctx, "CN", fmt.Sprintf("setup-res-%d", i), registry.Reserve{From: w.account, Units: registry.Units{Quantity: 1, UnitType: "CCER"}, ToAccount: w.otherAc})
			if err != nil {
				t.Fatal(err)
			}
			pendings = append(pendings, r.Pending)
		}
		serial := w.node.Issuances(registry.Operator)[0].Serial
		move := func(kind string) string {
			switch kind {
			case "transfers":
				return fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":1,"unit_type":"CCER"}}`, w.account, w.otherAc)
			case "retirements":
				return fmt.Sprintf(`{"from_account":%d,"units":{"quantity":1,"unit_type":"CCER"},"beneficiary":"B","purpose":"voluntary"}`, w.account)
			case "cancellations":
				return fmt.Sprintf(`{"from_account":%d,"units":{"quantity":1,"unit_type":"CCER"}}`, w.account)
			default:
				return fmt.Sprintf(`{"from_account":%d,"units":{"quantity":1,"unit_type":"CCER"},"to_account":%d}`, w.account, w.otherAc)
			}
		}
		roles := []string{"anonymous", "holder", "other", "auditor", "admin"}
		type ep struct {
			method, path, body string
			want               [5]int // by role, in the order of roles
		}
		pub := [5]int{200, 200, 200, 200, 200}
		eps := []ep{
			{"GET", "/api/v1/registries", "", pub},
			{"GET", "/api/v1/registries/CN", "", pub},
			{"GET", "/api/v1/registries/CN/issuances", "", pub},
			{"GET", "/api/v1/registries/CN/issuances/1", "", pub},
			{"GET", "/api/v1/registries/CN/retirements", "", pub},
			{"GET", "/api/v1/registries/CN/serials/" + serial, "", pub},
			{"GET", "/api/v1/registries/CN/organisations", "", [5]int{401, 403, 403, 200, 200}},
			{"GET", "/api/v1/registries/CN/accounts", "", [5]int{401, 200, 200, 200, 200}},
			{"GET", fmt.Sprintf("/api/v1/registries/CN/accounts/%d", w.account), "", [5]int{401, 200, 404, 200, 200}},
			{"GET", fmt.Sprintf("/api/v1/registries/CN/accounts/%d/holdings", w.account), "", [5]int{401, 200, 404, 200, 200}},
			{"GET", "/api/v1/registries/CN/transactions", "", [5]int{401, 403, 403, 200, 200}},
			{"GET", "/api/v1/registries/CN/reservations", "", [5]int{401, 200, 200, 200, 200}},
			{"POST", "/api/v1/registries/CN/organisations", `{"name":"New Org","country":"VN"}`, [5]int{401, 403, 403, 403, 201}},
			{"POST", "/api/v1/registries/CN/accounts", `{"organisation_id":1,"type":"holding","name":"New"}`, [5]int{401, 403, 403, 403, 201}},
			{"POST", fmt.Sprintf("/api/v1/registries/CN/accounts/%d/status", w.otherAc), `{"status":"open"}`, [5]int{401, 403, 403, 403, 201}},
			{"POST", "/api/v1/registries/CN/issuances", `{"standard":"CCER","unit_type":"CCER","project":"P-NEW","host_country":"CN","vintage":2025,"quantity":10,"account_id":1}`, [5]int{401, 403, 403, 403, 201}},
			{"POST", "/api/v1/registries/CN/transfers", move("transfers"), [5]int{401, 201, 422, 403, 403}},
			{"POST", "/api/v1/registries/CN/retirements", move("retirements"), [5]int{401, 201, 422, 403, 403}},
			{"POST", "/api/v1/registries/CN/cancellations", move("cancellations"), [5]int{401, 201, 422, 403, 403}},
			{"POST", "/api/v1/registries/CN/reservations", move("reservations"), [5]int{401, 201, 422, 403, 403}},
			{"POST", "/api/v1/registries/CN/tokens", `{"organisation_id":1,"role":"auditor","name":"x"}`, [5]int{401, 403, 403, 403, 201}},
		}
		for _, e := range eps {
			for i, role := range roles {
				status, body, _ := w.raw(t, e.method, e.path, w.tokens[role], fmt.Sprintf("m-%s-%s-%s", role, e.method, e.path), e.body)
				if status != e.want[i] {
					t.Errorf("%s %s as %s: status %d, want %d (%v)", e.method, e.path, role, status, e.want[i], body)
				}
			}
		}
		// Settle endpoints: role i tries to complete reservation i and to
		// void reservation 5+i. The reservations' authority is the registry:
		// only an admin settles; the owner (holder) cannot void.
		for i, role := range roles {
			for k, kind := range []string{"complete", "void"} {
				want := [2][5]int{{401, 403, 403, 403, 201}, {401, 403, 403, 403, 201}}[k][i]
				path := fmt.Sprintf("/api/v1/registries/CN/reservations/%d/%s", pendings[5*k+i], kind)
				status, body, _ := w.raw(t, "POST", path, w.tokens[role], "settle-"+role+"-"+kind, "")
				if status != want {
					t.Errorf("POST %s as %s: status %d, want %d (%v)", path, role, status, want, body)
				}
			}
		}
		rep, err := registry.Verify(ctx, w.node.DB())
		if err != nil || !rep.OK() {
			t.Fatalf("verify after matrix: %v %v", err, rep.Violations)
		}
	})
}

// TestPublicReadsHideAccounts: the public explorer never shows an account
// number to anonymous callers, nor to a holder unless the account is its
// own; the issuance's account is one too. Administrators and auditors see
// it. (The demo issues into the first holder's account.)
func TestPublicReadsHideAccounts(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	serial := w.node.Issuances(registry.Operator)[0].Serial
	issuanceAccount := func(m map[string]any, path string) float64 {
		switch {
		case m["issuances"] != nil:
			return m["issuances"].([]any)[0].(map[string]any)["account_id"].(float64)
		case m["issuance"] != nil:
			return m["issuance"].(map[string]any)["account_id"].(float64)
		}
		return m["account_id"].(float64)
	}
	for _, path := range []string{"/api/v1/registries/CN/issuances", "/api/v1/registries/CN/issuances/1", "/api/v1/registries/CN/serials/" + serial} {
		for _, role := range []string{"anonymous", "holder", "other", "auditor", "admin"} {
			status, m, _ := w.raw(t, "GET", path, w.tokens[role], "", "")
			if status != 200 {
				t.Fatalf("GET %s as %s: %d", path, role, status)
			}
			got := issuanceAccount(m, path)
			if hidden := role == "anonymous" || role == "other"; hidden && got != 0 || !hidden && got != float64(w.account) {
				t.Errorf("GET %s as %s: issuance account_id %v", path, role, got)
			}
		}
	}
}

// TestListLimitZero: limit is "at most this many", from 1 to 1000 on every
// list: limit=0 must neither turn into no limit at all (the whole journal,
// every retirement) nor answer an empty page, and limit=abc and limit=0
// get the same sentence.
func TestListLimitZero(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	for _, c := range []struct{ path, token string }{
		{"/api/v1/registries/CN/retirements", ""},
		{"/api/v1/registries/CN/transactions", w.tokens["auditor"]},
		{fmt.Sprintf("/api/v1/registries/CN/accounts/%d/holdings", w.account), w.tokens["holder"]},
	} {
		var first string
		for _, v := range []string{"0", "abc", "1001", "-1"} {
			status, m, _ := w.raw(t, "GET", c.path+"?limit="+v, c.token, "", "")
			d, _ := m["detail"].(string)
			if status != 400 || m["code"] != "invalid_query" || m["field"] != "limit" || !strings.Contains(d, "must be an integer from 1 to 1000") {
				t.Errorf("GET %s?limit=%s: %d %v, want 400 invalid_query from 1 to 1000", c.path, v, status, m)
			}
			sentence, _, _ := strings.Cut(d, ", not")
			if first == "" {
				first = sentence
			} else if sentence != first {
				t.Errorf("GET %s?limit=%s says %q, limit=0 says %q", c.path, v, sentence, first)
			}
		}
		if status, m, _ := w.raw(t, "GET", c.path+"?limit=1000", c.token, "", ""); status != 200 {
			t.Errorf("GET %s?limit=1000: %d %v", c.path, status, m)
		}
	}
}
