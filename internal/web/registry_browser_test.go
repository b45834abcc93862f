package web

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestRegistryPagesInBrowser drives headless chromium through the home page,
// a registry page, sign-in, an account page and an htmx serial lookup.
func TestRegistryPagesInBrowser(t *testing.T) {
	ctx := newBrowser(t)
	n, err := registry.Open(context.Background(), storetest.SQLite(t).Open(t), registry.Options{Code: "CN"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	tokens, err := demo.Seed(context.Background(), n, demo.Registries[0])
	if err != nil {
		t.Fatal(err)
	}
	var holder demo.Token
	for _, tk := range tokens {
		if tk.Role == ledger.RoleHolder {
			holder = tk
			break
		}
	}
	srv := serveSite(t, n)
	tot := n.Totals()
	en := siteCatalogue.localizer(defaultLanguage)

	step := func(name string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, a); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	text := textReader(t, ctx)

	// Home: the registry's issued total, formatted.
	step("open home", chromedp.Navigate(srv.URL+"/"))
	if got, want := text(`tr[data-registry="CN"] td.issued`), en.Num(tot.Issued); got != want {
		t.Fatalf("home shows issued %q, want %q", got, want)
	}
	// Registry page via the link.
	step("click registry", chromedp.Click(`tr[data-registry="CN"] a`))
	step("registry page", chromedp.WaitVisible(`#total-issued`))
	if got := text(`#total-retired`); got != en.Num(tot.ByState[ledger.Retired]) {
		t.Fatalf("retired total %q", got)
	}
	// Accounts are private until signed in.
	step("sign in", chromedp.SendKeys(`#signin input[name=token]`, holder.Token))
	step("submit", chromedp.Submit(`#signin input[name=token]`))
	step("accounts listed", chromedp.WaitVisible(`#accounts`))
	// The holder's account page shows its balance.
	step("open account", chromedp.Navigate(srv.URL+"/registries/CN/accounts/"+strconv.FormatInt(holder.AccountID, 10)))
	step("balances", chromedp.WaitVisible(`#balances`))
	v, _ := n.Account(registry.Operator, holder.AccountID)
	balances := text(`#balances`)
	for _, b := range v.Balances {
		if !strings.Contains(balances, en.Num(b.Quantity)) {
			t.Fatalf("balances table %q lacks %d", balances, b.Quantity)
		}
	}
	// Serial lookup through htmx: the history of the first retired unit.
	rets, _ := n.Retirements(context.Background(), registry.Operator, 0, 1)
	if len(rets) == 0 {
		t.Fatal("demo has no retirement")
	}
	s, _ := ledger.ParseSerial(rets[0].Blocks[0].Serial)
	s.Start = s.Start + s.Count()/2 // a unit inside the retired block, not its first
	s.End = s.Start
	step("open lookup", chromedp.Navigate(srv.URL+"/serials"))
	step("type serial", chromedp.SendKeys(`#q`, s.String()))
	step("look up", chromedp.Submit(`#q`))
	step("history", chromedp.WaitVisible(`#history td.kind`))
	hist := text(`#history`)
	if !strings.Contains(hist, "issue") || !strings.Contains(hist, "retire") {
		t.Fatalf("history %q lacks issue and retire", hist)
	}
	if st := text(`#blocks td.state`); st != "Retired" {
		t.Fatalf("unit state shown %q, want retired", st)
	}
	// A whole block lists every event that touched any of its serials,
	// each with the part it touched; its first serial saw fewer of them.
	block := n.Issuances(registry.Anonymous)[0].Serial
	whole, err := n.Lookup(context.Background(), registry.Anonymous, block)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := ledger.ParseSerial(block)
	first.End = first.Start
	one, _ := n.Lookup(context.Background(), registry.Anonymous, first.String())
	if len(whole.History) <= len(one.History) {
		t.Fatalf("demo block: %d events, its first serial %d: the test needs more", len(whole.History), len(one.History))
	}
	step("open block", chromedp.Navigate(srv.URL+"/serials?q="+block))
	step("block history", chromedp.WaitVisible(`#history td.kind`))
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#history tbody tr')].map(r => r.dataset.seq + ' ' + r.dataset.touched)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(whole.History) {
		t.Fatalf("page lists %d events, the registry %d", len(rows), len(whole.History))
	}
	for i, h := range whole.History {
		if want := fmt.Sprintf("%d %d-%d", h.Seq, h.TouchedStart, h.TouchedEnd); rows[i] != want {
			t.Fatalf("event %d: %q, want %q", i, rows[i], want)
		}
	}
	if h := text(`#history-of`); !strings.Contains(h, fmt.Sprintf("(%d events)", len(whole.History))) {
		t.Fatalf("history heading %q", h)
	}
	// A bad serial shows a clear error, not a crash: clicked, the form goes
	// through htmx, which swaps the 400 answer in as well (it swaps no 4xx
	// by default).
	step("clear", chromedp.SetValue(`#q`, "CN-CCER-nope"))
	step("look up bad", chromedp.Click(`form[hx-get="/serials"] button[type=submit]`))
	step("error shown", chromedp.WaitVisible(`#lookup-error`))
}
