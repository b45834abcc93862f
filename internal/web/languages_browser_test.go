package web

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/chromedp/chromedp"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// englishFragments are the pieces of catalogued English text that must not
// appear on a page rendered in another language: each message cut at its
// format verbs, keeping fragments of two words or more and capitalised
// words (a lower-case single word like "holding" also occurs in data such
// as account names, which are not translated). Fragments the translation
// itself contains (codes, file names) are left out.
func englishFragments(tag string) []string {
	han := regexp.MustCompile(`\p{Han}`)
	en := siteCatalogue.messages[defaultLanguage]
	var tr map[string]string
	for t, m := range siteCatalogue.messages {
		if t.String() == tag {
			tr = m
		}
	}
	// English terms the translations themselves use (CBAM, API, SEE) are
	// not leaks wherever they appear.
	var corpus strings.Builder
	for _, m := range tr {
		corpus.WriteString(m + "\n")
	}
	seen := map[string]bool{}
	var out []string
	for k, msg := range en {
		if strings.HasPrefix(k, "format.") || k == "language.name" {
			continue
		}
		for _, frag := range verbs.Split(msg, -1) {
			frag = strings.TrimFunc(frag, func(r rune) bool { return !unicode.IsLetter(r) })
			words := strings.Fields(frag)
			multi := len(words) >= 2 && len(frag) >= 8
			capital := len(words) == 1 && len(frag) >= 4 && unicode.IsUpper([]rune(frag)[0])
			// A translation may embed a code or file name; one without any
			// Chinese is no translation, so its English is looked for.
			embedded := strings.Contains(tr[k], frag) && han.MatchString(tr[k])
			if (!multi && !capital) || embedded || strings.Contains(corpus.String(), frag) || seen[frag] {
				continue
			}
			seen[frag] = true
			out = append(out, frag)
		}
	}
	return out
}

// TestPagesInBothLanguages renders every page in English and in Simplified
// Chinese (switched once with the language links, then remembered) and
// checks that no catalogued English text is left on the Chinese pages.
// With CORRIDOR_SCREENSHOT_DIR set it saves a screenshot of each.
func TestPagesInBothLanguages(t *testing.T) {
	ctx := newBrowser(t)
	d := newDemoSite(t, 1, storetest.SQLite)
	n := d.nodes["CN"]
	national := allAccounts(n)[0].ID
	holder := allAccounts(n)[1].ID
	// One pending reservation, so the escrows page lists one.
	var units registry.Units
	for _, b := range allAccounts(n)[1].Balances {
		if b.State == ledger.Held {
			units = registry.Units{Quantity: 5, UnitType: b.UnitType}
		}
	}
	owner := registry.Actor{OrgID: allAccounts(n)[1].OrgID, Role: ledger.RoleHolder}
	if _, err := n.Do(context.Background(), owner, "escrow-for-page", registry.Reserve{From: holder, ToAccount: national, Units: units}); err != nil {
		t.Fatal(err)
	}
	rets, _ := n.Retirements(context.Background(), registry.Operator, 0, 1)
	iss := n.Issuances(registry.Operator)[0]

	run := actionRunner(t, ctx, 30*time.Second)
	run("viewport", chromedp.EmulateViewport(1280, 900))
	run("registry page", chromedp.Navigate(d.srv.URL+"/registries/CN"), chromedp.WaitVisible(chromedp.CSS(`#signin`)))
	run("sign in", chromedp.SendKeys(chromedp.CSS(`#signin input[name=token]`), d.tokens["CN"][ledger.RoleAdmin].Token),
		chromedp.Submit(chromedp.CSS(`#signin input[name=token]`)), chromedp.WaitVisible(chromedp.CSS(`#link-operations`)))

	// scope selects the elements whose text is checked.
	// click, when set, is pressed once the page is ready, and done is
	// what it brings.
	pages := []struct {
		name, path, ready, scope string
		click, done              string
	}{
		{"home", "/", "#registries", "body", "", ""},
		{"registry", "/registries/CN", "#accounts", "body", "", ""},
		{"account", "/registries/CN/accounts/" + strconv.FormatInt(holder, 10), "#balances", "body", "", ""},
		{"serials", "/serials?q=" + iss.Serial, "#history", "body", "", ""},
		{"serials-retired", "/serials?q=" + rets[0].Blocks[0].Serial, "#history", "body", "", ""},
		{"signin", "/signin?registry=CN", "#signin", "body", "", ""},
		{"operations", "/registries/CN/operations", "#op-settle", "body", "", ""},
		{"journal", "/registries/CN/journal", "#journal", "body", "", ""},
		{"escrows", "/registries/CN/escrows", "#escrows tr[data-pending]", "body", "", ""},
		{"notfound", "/no/such/page", "#error-title", "body", "", ""},
		{"cbam", "/cbam", "main", "body", "", ""},
		// The CBAM result, drawn by the page's script from the API's
		// answer: its labels come from the catalogue, its figures and
		// the data's notes from the API.
		{"cbam-result", "/cbam", "#calculate", "header, h1, h2, label, button, .card .k, #r-table th", "#calculate", "#r-table tr"},
		// The rulebook's rules are data in their sources' languages
		// (English and Chinese): its catalogued text is its headings,
		// labels, buttons and table heads, the MRV rows' aspects and the
		// statuses and recognition labels.
		{"rulebook", "/rulebook", "#matrix", "header, h1, h2, h3, label, button, thead, #mrv tbody th, .st, #matrix td", "", ""},
		{"rulebook-check", "/rulebook", "#e-check", "#elig-result .card .k, #elig-allowed, #elig-confirmed, #elig-date", "#e-check", "#elig-allowed"},
		{"linkage", "/linkage", "main", "body", "", ""},
	}
	fragments := englishFragments("zh-Hans")
	if len(fragments) < 100 {
		t.Fatalf("only %d English fragments to look for", len(fragments))
	}
	han := regexp.MustCompile(`\p{Han}`)
	dir := os.Getenv("CORRIDOR_SCREENSHOT_DIR")
	for _, lang := range []string{"en", "zh-Hans"} {
		if lang != "en" {
			run("switch language", chromedp.Navigate(d.srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#languages`)),
				chromedp.Click(chromedp.CSS(`#languages a[lang="`+lang+`"]`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="`+lang+`"] #registries`)))
		}
		for _, p := range pages {
			run(lang+" "+p.name, chromedp.Navigate(d.srv.URL+p.path), chromedp.WaitVisible(chromedp.CSS(`html[lang="`+lang+`"] `+p.ready)))
			if p.click != "" {
				run(lang+" "+p.name+" click", chromedp.Click(chromedp.CSS(p.click)), chromedp.WaitVisible(chromedp.CSS(p.done)))
			}
			fitsWidth(t, ctx, lang+" "+p.name)
			text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('`+p.scope+`')].map(e => e.innerText).join('\n')`))
			if err != nil {
				t.Fatal(err)
			}
			if lang == "en" {
				if han.MatchString(strings.ReplaceAll(text, "简体中文", "")) {
					t.Errorf("en %s shows Chinese text", p.name)
				}
			} else {
				if !han.MatchString(strings.ReplaceAll(text, "简体中文", "")) {
					t.Errorf("zh %s shows no Chinese text", p.name)
				}
				for _, f := range fragments {
					// A single word is looked for as a word ("Euros" is
					// not left in "Eurostat", a proper name in data notes).
					if leaked(text, f) {
						t.Errorf("zh %s: English text %q left on the page", p.name, f)
					}
				}
			}
			if dir != "" {
				png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, p.name+"-"+lang+".png"), png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// leaked reports whether the English fragment f occurs in text: a phrase
// anywhere, a single word only as a whole word.
func leaked(text, f string) bool {
	if strings.ContainsRune(f, ' ') {
		return strings.Contains(text, f)
	}
	return regexp.MustCompile(`\b` + regexp.QuoteMeta(f) + `\b`).MatchString(text)
}
