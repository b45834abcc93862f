package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestOperationsOverHTTP posts the operations forms as a browser without
// JavaScript would, on both databases: who may see the page, a form applied
// once however often it is posted, a rule refusal and an unreadable field
// shown in the page with the ledger unchanged, and the journal's pages.
func TestOperationsOverHTTP(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		target := func(testing.TB) storetest.Target { return tg }
		d := newDemoSite(t, 1, target)
		n := d.nodes["CN"]

		// Anonymous: the sign-in page; a holder or auditor: not allowed.
		if p := d.visitor(t).get("/registries/CN/operations"); p.status != http.StatusUnauthorized || !strings.Contains(p.body, `id="signin"`) {
			t.Fatalf("anonymous operations page: %d", p.status)
		}
		for _, role := range []ledger.Role{ledger.RoleHolder, ledger.RoleAuditor} {
			v := d.visitor(t)
			v.signIn("CN", d.tokens["CN"][role].Token)
			if p := v.get("/registries/CN/operations"); p.status != http.StatusForbidden {
				t.Fatalf("%s sees the operations page: %d", role, p.status)
			}
		}
		// The journal and escrows are for administrators and auditors; only
		// an administrator gets the settle buttons.
		auditor := d.visitor(t)
		auditor.signIn("CN", d.tokens["CN"][ledger.RoleAuditor].Token)
		for _, path := range []string{"/registries/CN/journal", "/registries/CN/escrows"} {
			if p := auditor.get(path); p.status != http.StatusOK || strings.Contains(p.body, "/operations/settle") {
				t.Fatalf("auditor %s: %d", path, p.status)
			}
		}
		if p := auditor.post("/registries/CN/operations/settle", url.Values{"csrf": {auditor.get("/registries/CN").csrf(t)}, "idempotency_key": {"a"}, "pending": {"1"}, "action": {"void"}}); p.status != http.StatusForbidden {
			t.Fatalf("an auditor's settle: %d", p.status)
		}
		holder := d.visitor(t)
		holder.signIn("CN", d.tokens["CN"][ledger.RoleHolder].Token)
		for _, path := range []string{"/registries/CN/journal", "/registries/CN/escrows"} {
			if p := holder.get(path); p.status != http.StatusForbidden {
				t.Fatalf("holder %s: %d", path, p.status)
			}
		}
		if p := holder.post("/registries/CN/operations/issue", url.Values{"csrf": {holder.get("/registries/CN").csrf(t)}, "idempotency_key": {"x"}}); p.status != http.StatusForbidden {
			t.Fatalf("a holder's post to an operation: %d", p.status)
		}

		admin := d.visitor(t)
		admin.signIn("CN", d.tokens["CN"][ledger.RoleAdmin].Token)
		national := allAccounts(n)[0].ID
		page := admin.get("/registries/CN/operations")
		issue := url.Values{"csrf": {page.csrf(t)}, "idempotency_key": {page.key(t, "issue")}, "standard": {"CCER"}, "unit_type": {"CCER"},
			"project": {"CCER-HTTP-1"}, "project_name": {"Over HTTP"}, "methodology": {"M"}, "host_country": {"CN"}, "vintage": {"2025"},
			"quantity": {"900"}, "account_id": {strconv.FormatInt(national, 10)}}
		first := admin.post("/registries/CN/operations/issue", issue)
		if first.status != http.StatusSeeOther || strings.Contains(first.location, "replayed") {
			t.Fatalf("issue: %d to %q\n%s", first.status, first.location, first.text())
		}
		head := n.Totals().JournalSeq
		issued := n.Totals().Issued
		// The same rendered form posted again (a double click, a resubmit
		// after a lost answer) is answered with the first result.
		for range 2 {
			again := admin.post("/registries/CN/operations/issue", issue)
			if again.status != http.StatusSeeOther || !strings.Contains(again.location, "replayed=1") {
				t.Fatalf("second post: %d to %q", again.status, again.location)
			}
		}
		if n.Totals().JournalSeq != head || n.Totals().Issued != issued {
			t.Fatalf("a repeated form applied again: journal %d -> %d", head, n.Totals().JournalSeq)
		}
		done := admin.get(first.location[:strings.Index(first.location, "#")])
		if !strings.Contains(done.text(), "Transaction #"+strconv.FormatInt(head, 10)+" committed (issue).") {
			t.Fatalf("result page:\n%s", done.text())
		}

		// A rule refusal: more units than the account holds.
		page = admin.get("/registries/CN/operations")
		over := url.Values{"csrf": {page.csrf(t)}, "idempotency_key": {page.key(t, "transfer-quantity")}, "from_account": {strconv.FormatInt(national, 10)},
			"to_account": {strconv.FormatInt(allAccounts(n)[1].ID, 10)}, "quantity": {"1000000"}, "unit_type": {"CCER"}}
		p := admin.post("/registries/CN/operations/transfer-quantity", over)
		if p.status < 400 || p.status >= 500 || !strings.Contains(p.text(), "Refused by the registry: The account does not hold that many units of that type.") ||
			!strings.Contains(p.body, `data-code="insufficient_units"`) || !strings.Contains(p.body, `value="1000000"`) {
			t.Fatalf("over-transfer: %d\n%s", p.status, p.text())
		}
		// An unreadable number never reaches the registry.
		page = admin.get("/registries/CN/operations")
		bad := url.Values{"csrf": {page.csrf(t)}, "idempotency_key": {page.key(t, "retire")}, "from_account": {"one"}, "quantity": {"5"}, "unit_type": {"CCER"}}
		if p := admin.post("/registries/CN/operations/retire", bad); p.status != http.StatusBadRequest || !strings.Contains(p.body, `data-field="from_account"`) {
			t.Fatalf("unreadable field: %d\n%s", p.status, p.text())
		}
		if p := admin.post("/registries/CN/operations/nope", url.Values{"csrf": {page.csrf(t)}}); p.status != http.StatusNotFound {
			t.Fatalf("unknown operation: %d", p.status)
		}
		if n.Totals().JournalSeq != head {
			t.Fatalf("refused forms moved the journal from %d to %d", head, n.Totals().JournalSeq)
		}

		// The journal's pages, 7 entries a page, cover the journal once.
		defer func(size int) { journalPageSize = size }(journalPageSize)
		journalPageSize = 7
		var seqs []string
		next := "/registries/CN/journal"
		for pages := 0; next != ""; pages++ {
			if pages > 20 {
				t.Fatal("journal pages do not end")
			}
			p := admin.get(next)
			if p.status != http.StatusOK {
				t.Fatalf("%s: %d", next, p.status)
			}
			for _, row := range strings.Split(p.body, `<tr data-seq="`)[1:] {
				seqs = append(seqs, row[:strings.Index(row, `"`)])
			}
			next = ""
			if i := strings.Index(p.body, `id="journal-next" href="`); i >= 0 {
				rest := p.body[i+len(`id="journal-next" href="`):]
				next = strings.ReplaceAll(rest[:strings.Index(rest, `"`)], "&amp;", "&")
			}
		}
		if len(seqs) != int(head) || seqs[0] != "1" || seqs[len(seqs)-1] != strconv.FormatInt(head, 10) {
			t.Fatalf("journal pages list %d entries (%v), want 1..%d", len(seqs), seqs, head)
		}
		if p := admin.get("/registries/CN/journal?kind=teleport"); p.status != http.StatusBadRequest || !strings.Contains(p.body, `data-field="kind"`) {
			t.Fatalf("unknown kind filter: %d", p.status)
		}
		// An unknown parameter is refused naming the kinds, not ignored
		// (every entry listed as if it had matched).
		if p := admin.get("/registries/CN/journal?type=bogus"); p.status != http.StatusBadRequest || !strings.Contains(p.body, `data-field="type"`) || !strings.Contains(p.body, "transfer, ") {
			t.Fatalf("unknown filter ?type=: %d", p.status)
		}
		if p := admin.get("/registries/CN/journal?kind=teleport"); !strings.Contains(p.body, "teleport") || !strings.Contains(p.body, "transfer, ") {
			t.Fatalf("unknown kind: the page names neither it nor the kinds")
		}
		if p := admin.get("/registries/CN/journal?from=yesterday"); p.status != http.StatusBadRequest || !strings.Contains(p.body, `data-field="from"`) {
			t.Fatalf("bad date filter: %d", p.status)
		}
	})
}
