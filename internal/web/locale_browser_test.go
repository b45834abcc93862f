package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPageScriptsFormatInPageLanguage: the CBAM, linkage and rulebook
// scripts format numbers with the page's language (<html lang>, the
// catalogue's tag), not a hard-coded English locale. English and Chinese
// happen to write these numbers alike, so after checking the Chinese page
// says zh-Hans and shows the Chinese formatting, the test relabels the
// document German and redraws: a script that ignores the document's
// language still writes 163,518.56 instead of 163.518,56.
func TestPageScriptsFormatInPageLanguage(t *testing.T) {
	ctx := newBrowser(t)
	srv := serveSite(t)
	tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	text := textReader(t, tctx)
	do := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// relabel sets the document's language, as if the page were served in it.
	relabel := func(tag string) chromedp.Action[chromedp.Void] {
		return discard(chromedp.Evaluate[any](`document.documentElement.lang = '` + tag + `'`))
	}
	pages := []struct {
		name, path, ready string
		redraw            []chromedp.Action[chromedp.Void]
		done, sel         string
		zh, de            func(string) bool
	}{
		{
			name: "cbam", path: "/cbam", ready: "#cbam-form",
			redraw: []chromedp.Action[chromedp.Void]{
				chromedp.SetValue(chromedp.CSS("#origin"), "CN"),
				chromedp.SetValue(chromedp.CSS("#cn"), "72081000"),
				chromedp.SetValue(chromedp.CSS("#tonnes"), "1000"),
				chromedp.SetValue(chromedp.CSS("#year"), "2026"),
				chromedp.SetValue(chromedp.CSS("#quarter"), "1"),
				discard(chromedp.Evaluate[any](`document.getElementById('r-cost').textContent = ''`)),
				chromedp.Click(chromedp.CSS("#calculate")),
			},
			done: `document.getElementById('r-cost').textContent !== ''`, sel: "#r-cost",
			zh: func(s string) bool { return s == "163,518.56" },
			de: func(s string) bool { return s == "163.518,56" },
		},
		{
			name: "linkage", path: "/linkage", ready: "#cn-floor",
			redraw: []chromedp.Action[chromedp.Void]{
				discard(chromedp.Poll[bool](`window.linkageState && window.linkageState.solves >= 1`)),
				discard(chromedp.Evaluate[any](`window.solvesBefore = window.linkageState.solves; document.getElementById('cn-floor').dispatchEvent(new Event('input'))`)),
			},
			done: `window.linkageState.solves > window.solvesBefore`, sel: "#cn-price",
			// A price of EUR 5–11.40 with two decimals.
			zh: func(s string) bool { return len(s) == 4 && s[1] == '.' || len(s) == 5 && s[2] == '.' },
			de: func(s string) bool { return len(s) == 4 && s[1] == ',' || len(s) == 5 && s[2] == ',' },
		},
		{
			name: "rulebook", path: "/rulebook", ready: "#e-check",
			redraw: []chromedp.Action[chromedp.Void]{
				// A large obligation, so that the maximum has a thousands separator.
				chromedp.SetValue(chromedp.CSS("#e-obligation"), "1234567"),
				discard(chromedp.Evaluate[any](`document.getElementById('elig-result').innerHTML = ''`)),
				chromedp.Click(chromedp.CSS("#e-check")),
			},
			done: `document.getElementById('elig-max') !== null`, sel: "#elig-max",
			zh: func(s string) bool { return strings.Contains(s, ",") && !strings.Contains(s, ".") },
			de: func(s string) bool { return strings.Contains(s, ".") && !strings.Contains(s, ",") },
		},
	}
	for _, p := range pages {
		do(p.name+" in Chinese", chromedp.Navigate(srv.URL+"/language?to=zh-Hans&next="+p.path),
			chromedp.WaitVisible(chromedp.CSS(`html[lang="zh-Hans"] `+p.ready)))
		for _, tag := range []string{"zh-Hans", "de-DE"} {
			if tag != "zh-Hans" {
				do(p.name+" relabelled "+tag, relabel(tag))
			}
			do(p.name+" "+tag+" redraw", p.redraw...)
			do(p.name+" "+tag+" drawn", discard(chromedp.Poll[bool](p.done, chromedp.WithPollingTimeout(30*time.Second))))
			got := text(p.sel)
			ok := p.zh
			if tag != "zh-Hans" {
				ok = p.de
			}
			if !ok(got) {
				t.Errorf("%s with <html lang=%q>: %s shows %q", p.name, tag, p.sel, got)
			}
		}
	}
}

// discard makes an action that returns a value usable as a step of
// chromedp.Do.
func discard[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}
