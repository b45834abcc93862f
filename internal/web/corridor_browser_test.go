package web

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestCorridorInBrowser drives headless chromium over an embedded
// corridor with a completed CN → TH transfer and one in flight: the
// corridor page's SVG has the registries, the hub and the flow's arrow,
// the flows table its volume; a click leads to the completed transfer's
// page with the statuses 1 2 8 4; then CN's holder sends units to ID with
// the account page's form and lands on the transfer's page, which shows
// it completed once the corridor has delivered its messages.
func TestCorridorInBrowser(t *testing.T) {
	ctx := newBrowser(t)
	cs := newCorridorSite(t, storetest.SQLite(t))
	done, flying := cs.completedAndInFlight(t)
	srv := cs.srv

	run := actionRunner(t, ctx, 20*time.Second)
	eval := stringsEvaluator(t, ctx)
	text := textReader(t, ctx)

	run("home", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#nav-corridor`)))
	run("corridor via the navigation", chromedp.Click(chromedp.CSS(`#nav-corridor`)), chromedp.WaitVisible(chromedp.CSS(`#corridor-map`)))
	nodes := eval("map nodes", `[...document.querySelectorAll('#corridor-map g.node')].map(g => g.dataset.code + ':' + g.querySelector('text').textContent)`)
	if got := strings.Join(nodes, " "); got != "HUB:HUB CN:CN ID:ID TH:TH" {
		t.Errorf("map nodes %q", got)
	}
	edges := eval("map edges", `[...document.querySelectorAll('#corridor-map path.flow')].map(p => p.dataset.from + '>' + p.dataset.to + ' ' + p.dataset.volume + ' ' + (p.getTotalLength() > 20))`)
	if len(edges) != 1 || edges[0] != "CN>TH 300 true" {
		t.Errorf("map edges %q, want one drawn CN → TH of 300", edges)
	}
	if f := eval("in-flight arrow", `[...document.querySelectorAll('#corridor-map path.in-flight')].map(p => p.dataset.from + '>' + p.dataset.to)`); len(f) != 1 || f[0] != "CN>TH" {
		t.Errorf("in-flight arrows %q", f)
	}
	if v := text(`#flows tr[data-from="CN"][data-to="TH"] td.volume`); v != "300" {
		t.Errorf("flows table volume %q", v)
	}
	if st := text(fmt.Sprintf(`#in-flight tr[data-transfer="%s"] td.status`, flying)); st != "2 · checked, no discrepancy" {
		t.Errorf("in-flight status %q", st)
	}

	run("click through to the transfer", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#recent tr[data-transfer="%s"] a.transfer`, done))),
		chromedp.WaitVisible(chromedp.CSS(`#transfer-history`)))
	if h := text(`h1`); !strings.Contains(h, done) {
		t.Errorf("transfer page heading %q", h)
	}
	if got := eval("history", `[...document.querySelectorAll('#transfer-history tbody tr')].map(r => r.dataset.status)`); strings.Join(got, " ") != "1 2 8 4" {
		t.Errorf("history %q, want 1 2 8 4", got)
	}
	if st := text(`#transfer-status`); st != "4 · completed" {
		t.Errorf("status %q", st)
	}
	run("serial link", chromedp.Click(chromedp.CSS(`#transfer-blocks a.serial`)), chromedp.WaitVisible(chromedp.CSS(`#history td.kind`)))

	// CN's holder sends 75 units to ID from the account page.
	cn := cs.nodes["CN"]
	run("sign in", chromedp.Navigate(srv.URL+"/registries/CN"), chromedp.WaitVisible(chromedp.CSS(`#signin`)),
		chromedp.SendKeys(chromedp.CSS(`#signin input[name=token]`), cn.token), chromedp.Submit(chromedp.CSS(`#signin input[name=token]`)),
		chromedp.WaitVisible(chromedp.CSS(`#accounts`)))
	run("account page", chromedp.Navigate(fmt.Sprintf("%s/registries/CN/accounts/%d", srv.URL, cn.acc)), chromedp.WaitVisible(chromedp.CSS(`#send-form`)))
	run("fill the form", chromedp.SetValue(chromedp.CSS(`#send-to-registry`), "ID"),
		chromedp.SetValue(chromedp.CSS(`#send-to-account`), fmt.Sprint(cs.nodes["ID"].acc)),
		chromedp.SetValue(chromedp.CSS(`#send-quantity`), "75"),
		chromedp.SetValue(chromedp.CSS(`#send-purpose`), "voluntary"),
		chromedp.Click(chromedp.CSS(`#send-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#transfer-status`)))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimPrefix(loc, srv.URL+"/corridor/transfers/")
	if !strings.HasPrefix(id, "CN:") {
		t.Fatalf("form landed on %s", loc)
	}
	if q := text(`#transfer-quantity`); q != "75" {
		t.Errorf("sent quantity %q", q)
	}
	cs.deliver(t)
	run("transfer completed", chromedp.Navigate(loc), chromedp.WaitVisible(chromedp.CSS(`#transfer-history`)))
	if st := text(`#transfer-status`); st != "4 · completed" {
		t.Errorf("sent transfer's status %q", st)
	}
	if to := text(`#transfer-to`); !strings.HasPrefix(to, "ID") {
		t.Errorf("sent transfer goes to %q", to)
	}
	if tr, err := cs.c.Transfer(context.Background(), strings.ReplaceAll(id, "%3A", ":")); err != nil || tr.Proposal.ToRegistry != "ID" || tr.Proposal.Quantity != 75 {
		t.Errorf("hub's record of %s: %+v, %v", id, tr.Proposal, err)
	}
	run("corridor page again", chromedp.Navigate(srv.URL+"/corridor"), chromedp.WaitVisible(chromedp.CSS(`#corridor-map`)))
	if n := eval("edges after", `[...document.querySelectorAll('#corridor-map path.flow')].map(p => p.dataset.from + '>' + p.dataset.to)`); strings.Join(n, " ") != "CN>ID CN>TH" {
		t.Errorf("edges after the send %q", n)
	}

	if dir := os.Getenv("CORRIDOR_SCREENSHOT_DIR"); dir != "" {
		for name, u := range map[string]string{"corridor": srv.URL + "/corridor", "corridor-transfer": srv.URL + "/corridor/transfers/" + done,
			"corridor-account": fmt.Sprintf("%s/registries/CN/accounts/%d", srv.URL, cn.acc)} {
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

// TestCorridorPagesInBothLanguages renders the corridor page, a
// transfer's page and the account page with its send form in Simplified
// Chinese and checks that no catalogued English text is left on them.
func TestCorridorPagesInBothLanguages(t *testing.T) {
	ctx := newBrowser(t)
	cs := newCorridorSite(t, storetest.SQLite(t))
	done, _ := cs.completedAndInFlight(t)
	srv := cs.srv
	run := actionRunner(t, ctx, 30*time.Second)
	run("viewport", chromedp.EmulateViewport(1280, 900))
	run("sign in", chromedp.Navigate(srv.URL+"/registries/CN"), chromedp.WaitVisible(chromedp.CSS(`#signin`)),
		chromedp.SendKeys(chromedp.CSS(`#signin input[name=token]`), cs.nodes["CN"].token), chromedp.Submit(chromedp.CSS(`#signin input[name=token]`)),
		chromedp.WaitVisible(chromedp.CSS(`#accounts`)))
	run("switch language", chromedp.Click(chromedp.CSS(`#languages a[lang="zh-Hans"]`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="zh-Hans"] #accounts`)))
	fragments := englishFragments("zh-Hans")
	han := regexp.MustCompile(`\p{Han}`)
	for _, p := range []struct{ name, path, ready string }{
		{"corridor", "/corridor", "#corridor-map"},
		{"transfer", "/corridor/transfers/" + done, "#transfer-history"},
		{"account", fmt.Sprintf("/registries/CN/accounts/%d", cs.nodes["CN"].acc), "#send-form"},
		{"registry", "/registries/CN", "#corridor-transfers"},
	} {
		run(p.name, chromedp.Navigate(srv.URL+p.path), chromedp.WaitVisible(chromedp.CSS(`html[lang="zh-Hans"] `+p.ready)))
		fitsWidth(t, ctx, "zh "+p.name)
		text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText + '\n' + [...document.querySelectorAll('svg title')].map(e => e.textContent).join('\n')`))
		if err != nil {
			t.Fatal(err)
		}
		if !han.MatchString(strings.ReplaceAll(text, "简体中文", "")) {
			t.Errorf("zh %s shows no Chinese text", p.name)
		}
		for _, f := range fragments {
			if strings.Contains(text, f) {
				t.Errorf("zh %s: English text %q left on the page", p.name, f)
			}
		}
	}
}
