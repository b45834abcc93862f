package web

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestOperationsInBrowser signs in as the registry administrator in
// chromium and drives every operations form: open an account, issue,
// transfer by quantity and by serials, retire, cancel, suspend, reserve and
// settle (complete on the operations page, void on the escrows page),
// checking the ledger after each; a rule error shows beside its form, a
// double submit applies once, and the journal browser filters by account.
func TestOperationsInBrowser(t *testing.T) {
	ctx := newBrowser(t)
	d := newDemoSite(t, 1, storetest.SQLite)
	n := d.nodes["CN"]
	srv := d.srv

	run := actionRunner(t, ctx, 20*time.Second)
	text := textReader(t, ctx)
	admin := registry.Actor{Role: ledger.RoleAdmin}
	balance := func(acc int64, st ledger.State) int64 {
		t.Helper()
		v, err := n.Account(registry.Operator, acc)
		if err != nil {
			t.Fatal(err)
		}
		var q int64
		for _, b := range v.Balances {
			if b.State == st {
				q += b.Quantity
			}
		}
		return q
	}
	// press fills the form of section op and clicks its button (value
	// picks one of several), in one script: chromedp's node ids can go
	// stale while a page finishes loading, a script's lookups cannot.
	press := func(op string, fields map[string]string, button string) {
		t.Helper()
		js, _ := json.Marshal(fields)
		sel := "button[type=submit]"
		if button != "" {
			sel = "button[value=" + button + "]"
		}
		script := fmt.Sprintf(`(() => { const f = document.querySelector('#op-%s form'); const v = %s;
			for (const k in v) { f.elements[k].value = v[k]; }
			f.querySelector('%s').click(); return true; })()`, op, js, sel)
		run("form "+op, chromedp.WaitVisible(chromedp.CSS("#op-"+op)))
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](script)); err != nil {
			t.Fatalf("form %s: %v", op, err)
		}
	}
	// submit presses a form and waits for the page of its transaction.
	submit := func(op string, fields map[string]string, button string) int64 {
		t.Helper()
		seq := n.Totals().JournalSeq + 1
		press(op, fields, button)
		run("result of "+op, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#result[data-seq="%d"]`, seq))))
		return seq
	}
	ops := srv.URL + "/registries/CN/operations"

	// Sign in through the registry page; the operations link appears.
	run("registry page", chromedp.Navigate(srv.URL+"/registries/CN"), chromedp.WaitVisible(chromedp.CSS(`#signin`)))
	run("sign in", chromedp.SendKeys(chromedp.CSS(`#signin input[name=token]`), d.tokens["CN"][ledger.RoleAdmin].Token),
		chromedp.Submit(chromedp.CSS(`#signin input[name=token]`)), chromedp.WaitVisible(chromedp.CSS(`#link-operations`)))
	run("operations", chromedp.Click(chromedp.CSS(`#link-operations`)), chromedp.WaitVisible(chromedp.CSS(`#op-issue`)))

	// Open an account for the first holder's organisation.
	holderOrg := allAccounts(n)[1].OrgID
	seq := submit("open-account", map[string]string{"organisation_id": strconv.FormatInt(holderOrg, 10), "type": "holding", "name": "Opened in the browser"}, "")
	var acct int64
	for _, a := range allAccounts(n) {
		if a.Name == "Opened in the browser" {
			acct = a.ID
		}
	}
	if acct == 0 {
		t.Fatalf("open account (#%d): no account in the ledger", seq)
	}
	national := allAccounts(n)[0].ID // the administrator's national holding account

	// Issue 5,000 into the national holding account.
	submit("issue", map[string]string{"standard": "CCER", "unit_type": "CCER", "project": "CCER-WEB-0001", "project_name": "Issued in the browser",
		"methodology": "CCER-10-001-V01", "host_country": "CN", "vintage": "2025", "quantity": "5000", "account_id": strconv.FormatInt(national, 10)}, "")
	var iss registry.IssuanceView
	for _, x := range n.Issuances(registry.Operator) {
		if x.Project == "CCER-WEB-0001" {
			iss = x
		}
	}
	if iss.Quantity != 5000 || balance(national, ledger.Held) != 5000 {
		t.Fatalf("issuance %+v, national account holds %d", iss, balance(national, ledger.Held))
	}
	serial := func(a, b int64) string {
		s, _ := ledger.ParseSerial(iss.Serial)
		s.Start, s.End = a, b
		return s.String()
	}

	// Transfer by quantity, then by serials.
	submit("transfer-quantity", map[string]string{"from_account": strconv.FormatInt(national, 10), "to_account": strconv.FormatInt(acct, 10), "quantity": "1000", "unit_type": "CCER"}, "")
	if got := balance(acct, ledger.Held); got != 1000 {
		t.Fatalf("after transfer by quantity the new account holds %d", got)
	}
	submit("transfer-serials", map[string]string{"from_account": strconv.FormatInt(national, 10), "to_account": strconv.FormatInt(acct, 10), "serials": serial(4001, 4100) + "\n" + serial(4201, 4250)}, "")
	if got := balance(acct, ledger.Held); got != 1150 {
		t.Fatalf("after transfer by serials the new account holds %d", got)
	}
	if info, err := n.Lookup(context.Background(), registry.Operator, serial(4201, 4250)); err != nil || len(info.Blocks) != 1 || info.Blocks[0].AccountID != acct {
		t.Fatalf("serials 4201-4250 not in account %d: %+v %v", acct, info.Blocks, err)
	}

	// Retire by quantity, cancel by serials.
	retiredBefore := n.Totals().ByState[ledger.Retired]
	submit("retire", map[string]string{"from_account": strconv.FormatInt(national, 10), "quantity": "50", "unit_type": "CCER", "beneficiary": "Retired in the browser", "purpose": "voluntary"}, "")
	if got := n.Totals().ByState[ledger.Retired] - retiredBefore; got != 50 {
		t.Fatalf("retired %d, want 50", got)
	}
	submit("cancel", map[string]string{"from_account": strconv.FormatInt(national, 10), "serials": serial(4901, 4910), "reason": "browser test"}, "")
	if info, _ := n.Lookup(context.Background(), registry.Anonymous, serial(4901, 4910)); len(info.Blocks) != 1 || info.Blocks[0].State != ledger.Cancelled {
		t.Fatalf("serials 4901-4910 not cancelled: %+v", info.Blocks)
	}

	// Suspend the new account; a transfer into it is refused by the
	// registry and the reason shows beside the form, the ledger unchanged.
	submit("account-status", map[string]string{"account_id": strconv.FormatInt(acct, 10), "status": "suspended"}, "")
	if v, _ := n.Account(registry.Operator, acct); v.Status != ledger.Suspended {
		t.Fatalf("account status %s", v.Status)
	}
	head := n.Totals().JournalSeq
	press("transfer-quantity", map[string]string{"from_account": strconv.FormatInt(national, 10), "to_account": strconv.FormatInt(acct, 10), "quantity": "10", "unit_type": "CCER"}, "")
	run("refused transfer", chromedp.WaitVisible(chromedp.CSS(`#op-transfer-quantity .form-error`)))
	if e := text(`#op-transfer-quantity .form-error`); !strings.Contains(e, "Refused by the registry") || !strings.Contains(e, "account_not_open") {
		t.Fatalf("rule error shown: %q", e)
	}
	typed, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`#op-transfer-quantity [name=quantity]`)))
	if err != nil {
		t.Fatal(err)
	}
	if typed != "10" || n.Totals().JournalSeq != head || balance(acct, ledger.Held) != 1150 {
		t.Fatalf("after the refused transfer: typed %q, journal %d (was %d), balance %d", typed, n.Totals().JournalSeq, head, balance(acct, ledger.Held))
	}

	// A double submit applies once: the same rendered form posted twice.
	run("reload operations", chromedp.Navigate(ops), chromedp.WaitVisible(chromedp.CSS(`#op-retire`)))
	retiredBefore = n.Totals().ByState[ledger.Retired]
	urls, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(async () => {
		const f = document.querySelector('#op-retire form');
		f.from_account.value = '`+strconv.FormatInt(national, 10)+`'; f.quantity.value = '7'; f.unit_type.value = 'CCER';
		f.beneficiary.value = 'Twice clicked'; f.purpose.value = 'voluntary';
		const send = () => fetch(f.action, {method: 'POST', body: new URLSearchParams(new FormData(f)), credentials: 'same-origin'}).then(r => r.url);
		return [await send(), await send()];
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Totals().ByState[ledger.Retired] - retiredBefore; got != 7 || len(urls) != 2 || strings.Contains(urls[0], "replayed") || !strings.Contains(urls[1], "replayed=1") {
		t.Fatalf("double submit retired %d (want 7 once); pages %v", got, urls)
	}
	run("replayed page", chromedp.Navigate(urls[1]), chromedp.WaitVisible(chromedp.CSS(`#replayed`)))

	// Reserve twice; complete the first here, void the second on the
	// escrows page.
	run("reload", chromedp.Navigate(ops), chromedp.WaitVisible(chromedp.CSS(`#op-reserve`)))
	holder := allAccounts(n)[1].ID
	p1 := submit("reserve", map[string]string{"from_account": strconv.FormatInt(national, 10), "to_account": strconv.FormatInt(holder, 10), "quantity": "200", "unit_type": "CCER"}, "")
	p2 := submit("reserve", map[string]string{"from_account": strconv.FormatInt(national, 10), "to_account": strconv.FormatInt(holder, 10), "quantity": "300", "unit_type": "CCER", "expires_in_hours": "1"}, "")
	if got := balance(national, ledger.Reserved); got != 500 {
		t.Fatalf("reserved %d, want 500", got)
	}
	holderHeld := balance(holder, ledger.Held)
	submit("settle", map[string]string{"pending": strconv.FormatInt(p1, 10)}, "complete")
	if got := balance(holder, ledger.Held) - holderHeld; got != 200 || balance(national, ledger.Reserved) != 300 {
		t.Fatalf("complete moved %d (want 200); %d still reserved", got, balance(national, ledger.Reserved))
	}
	heldBefore := balance(national, ledger.Held)
	run("escrows page", chromedp.Navigate(srv.URL+"/registries/CN/escrows"), chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#escrows tr[data-pending="%d"]`, p2))))
	if rows := text(`#escrows tbody`); strings.Contains(rows, "#"+strconv.FormatInt(p1, 10)+" ") {
		t.Fatalf("settled reservation %d still listed: %q", p1, rows)
	}
	// The second reservation expires within the hour: flagged; both are
	// settled by the registry administrator (a local two-phase transfer).
	if exp := text(fmt.Sprintf(`#escrows tr[data-pending="%d"] td.expires`, p2)); !strings.Contains(exp, "expiring") {
		t.Fatalf("reservation %d expires %q, not flagged", p2, exp)
	}
	if au := text(fmt.Sprintf(`#escrows tr[data-pending="%d"] td.authority`, p2)); au != "administrator of this registry" {
		t.Fatalf("reservation %d settled by %q", p2, au)
	}
	if at := text(fmt.Sprintf(`#escrows tr[data-pending="%d"] td.nowrap`, p2)); !strings.HasSuffix(at, "UTC") || !strings.Contains(at, strconv.Itoa(time.Now().UTC().Year())) {
		t.Fatalf("reservation %d shows reserved at %q", p2, at)
	}
	seq = n.Totals().JournalSeq + 1
	run("void from escrows", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#escrows tr[data-pending="%d"] button[value=void]`, p2))),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#result[data-seq="%d"]`, seq))))
	if left, _ := n.Escrows(admin); balance(national, ledger.Held)-heldBefore != 300 || len(left) != 0 {
		t.Fatalf("void returned %d (want 300); escrows left %d", balance(national, ledger.Held)-heldBefore, len(left))
	}

	// The journal browser: the new account's entries, each with its hash.
	run("journal", chromedp.Navigate(srv.URL+"/registries/CN/journal"), chromedp.WaitVisible(chromedp.CSS(`#journal-filter`)),
		chromedp.SetValue(chromedp.CSS(`#journal-filter [name=account]`), strconv.FormatInt(acct, 10)),
		chromedp.Click(chromedp.CSS(`#journal-filter button`)),
		// The filtered page renders the account into the input's attribute.
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#journal-filter [name=account][value="%d"]`, acct))))
	want, err := n.Journal(context.Background(), admin, registry.JournalFilter{Account: acct, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#journal tbody tr')].map(r => r.dataset.seq + ' ' + r.querySelector('.hash').textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || len(want) != 2 {
		t.Fatalf("journal for account %d: %v (ledger has %d entries)", acct, rows, len(want))
	}
	for i, tx := range want {
		if rows[i] != fmt.Sprintf("%d %s", tx.Seq, tx.Hash) {
			t.Fatalf("journal row %d: %q, want seq %d hash %s", i, rows[i], tx.Seq, tx.Hash)
		}
	}

	if dir := os.Getenv("CORRIDOR_SCREENSHOT_DIR"); dir != "" {
		for name, u := range map[string]string{"operations": ops, "journal": srv.URL + "/registries/CN/journal", "escrows": srv.URL + "/registries/CN/escrows"} {
			run("screenshot "+name, chromedp.Navigate(u), chromedp.WaitVisible(chromedp.CSS("main")))
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
