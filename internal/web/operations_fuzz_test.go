package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// FuzzOperationForm posts arbitrary form bodies to every operation as a
// signed-in administrator with a valid CSRF token: the page never fails
// with a server error, answers HTML, and the ledger stays conserved
// (every unit issued is in exactly one state).
func FuzzOperationForm(f *testing.F) {
	d := newDemoSite(f, 1, storetest.SQLite)
	n := d.nodes["CN"]
	admin := d.tokens["CN"][ledger.RoleAdmin].Token
	actor, _, _ := n.Authenticate(f.Context(), admin)
	ss, err := d.site.sessions.create(f.Context(), map[string]registry.Actor{"CN": actor})
	if err != nil {
		f.Fatal(err)
	}
	ops := make([]string, 0, len(operations))
	for op := range operations {
		ops = append(ops, op)
	}
	sort.Strings(ops)

	f.Add(uint8(0), "from_account=1&to_account=2&quantity=5&unit_type=CCER&serials=&idempotency_key=k1")
	f.Add(uint8(3), "from_account=1&serials=CN-CCER-CCER-DEMO-0001-2024-1-1-10%0ACN-CCER-nope&idempotency_key=k2")
	f.Add(uint8(5), "organisation_id=2&type=holding&name=%00%FF&idempotency_key=k3")
	f.Add(uint8(7), "pending=99&action=complete&idempotency_key=k4")
	f.Add(uint8(1), "account_id=-1&status=closed&idempotency_key=")
	f.Add(uint8(2), "standard=X&unit_type=Y&project=P&vintage=99999999999&quantity=1e9&account_id=1&idempotency_key=k5")
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		op := ops[int(which)%len(ops)]
		form, err := url.ParseQuery(body)
		if err != nil {
			form = url.Values{"raw": {body}}
		}
		form.Set("csrf", ss.csrf)
		r := httptest.NewRequest(http.MethodPost, "/registries/CN/operations/"+op, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: ss.id})
		w := httptest.NewRecorder()
		d.site.Handler().ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %q: %d\n%s", op, body, w.Code, w.Body.String())
		}
		if w.Code != http.StatusSeeOther && !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
			t.Fatalf("%s %q: %d with %s", op, body, w.Code, w.Header().Get("Content-Type"))
		}
		tot := n.Totals()
		var sum int64
		for _, q := range tot.ByState {
			sum += q
		}
		if sum != tot.Issued {
			t.Fatalf("after %s %q: states add up to %d, issued %d", op, body, sum, tot.Issued)
		}
	})
}
