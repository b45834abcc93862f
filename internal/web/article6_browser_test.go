package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/article6report"
	"github.com/corridor-carbon/corridor/internal/ledger"
)

// a6Ledger serves a fixed ledger to the pages, as *hub.Article6 would.
type a6Ledger struct{ l *article6.Ledger }

func (x a6Ledger) Ledger(_ context.Context, fn func(*article6.Ledger) error) error { return fn(x.l) }
func (x a6Ledger) AEF(_ context.Context, s article6.Submission) (article6.AEF, error) {
	return x.l.BuildAEF(s)
}

// projectAbroadLedger: Indonesia authorises a Chinese-funded project for
// China's NDC, issues 20,000 t with the approach's deductions and a 60 %
// investor share, first-transfers that share to China, which uses 6,000 t.
func projectAbroadLedger(t *testing.T) *article6.Ledger {
	t.Helper()
	aps, err := article6.DefaultApproaches()
	if err != nil {
		t.Fatal(err)
	}
	l := article6.NewLedger(article6.Config{Approaches: aps, Registries: map[string]string{"ID": "ID", "CN": "CN"}})
	if err := l.Record(article6.AuthEvent{Kind: article6.EventAuthorise, Date: "2026-03-01", Authorisation: article6.Authorisation{ID: "ID-A6-0001", Version: 1, Host: "ID",
		Approach: "CN-ID-PILOT", Purposes: []article6.Purpose{article6.PurposeNDC}, Quantity: 100_000, From: "2026-01-01", Until: "2030-12-31", VintageFrom: 2026, VintageTo: 2030,
		Activities: []string{"ID-SOLAR-01"}, AcquiringParties: []string{"CN"}}}); err != nil {
		t.Fatal(err)
	}
	fr := decimal.RequireFromString("0.6")
	sh, err := article6.Split(aps["CN-ID-PILOT"], 20_000, fr)
	if err != nil {
		t.Fatal(err)
	}
	s := func(start, end int64) ledger.Serial {
		return ledger.Serial{Registry: "ID", UnitType: "CCER", Project: "ID-SOLAR-01", Vintage: 2026, Issuance: 1, Start: start, End: end}
	}
	inv := 20_000 - sh.Investor + 1
	for _, a := range []article6.Action{
		{Kind: article6.ActionIssue, Date: "2026-03-02", Authorisation: "ID-A6-0001", Units: s(1, 20_000), OMGE: sh.OMGE, ShareOfProceeds: sh.ShareOfProceeds, Investor: "CN", InvestorFraction: fr},
		{Kind: article6.ActionTransfer, Date: "2026-04-01", Units: s(inv, 20_000), From: "ID", To: "CN", FirstTransfer: true},
		{Kind: article6.ActionUse, Date: "2026-06-30", Units: s(inv, inv+5_999), Purpose: article6.PurposeNDC, UsingParty: "CN"},
	} {
		if _, err := l.Apply(a); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// TestArticle6PagesInBrowser renders the Article 6 page of Indonesia and of
// China in English and in Simplified Chinese and checks what it shows
// against the ledger: the authorisation's issued and first-transferred
// tonnes, every block with its ITMO ids once first-transferred, the
// adjustments, the balance table and chart, the AEF tables with their
// downloads; the Chinese pages carry no catalogued English outside the
// AEF's own tables.
func TestArticle6PagesInBrowser(t *testing.T) {
	ctx := newBrowser(t)
	l := projectAbroadLedger(t)
	srv := httptest.NewServer(New().WithArticle6(a6Ledger{l}).Handler())
	defer srv.Close()
	run := actionRunner(t, ctx, 30*time.Second)
	eval := stringsEvaluator(t, ctx)
	han := regexp.MustCompile(`\p{Han}`)
	var fragments []string
	for _, f := range englishFragments("zh-Hans") {
		if strings.Contains(f, " ") {
			fragments = append(fragments, f)
		}
	}
	run("viewport", chromedp.EmulateViewport(1280, 900))
	for _, lang := range []string{"en", "zh-Hans"} {
		run(lang+" language", chromedp.Navigate(srv.URL+"/language?to="+lang+"&next=/corridor/article6"), chromedp.WaitVisible(chromedp.CSS(`html[lang="`+lang+`"] #article6-parties`)))
		fitsWidth(t, ctx, lang+" article6")
		for _, party := range []string{"ID", "CN"} {
			name := lang + " " + party
			run(name, chromedp.Navigate(srv.URL+"/corridor/article6?party="+party+"&year=2026"), chromedp.WaitVisible(chromedp.CSS(`html[lang="`+lang+`"] #article6-party[data-party="`+party+`"]`)))
			fitsWidth(t, ctx, name+" article6")
			var wantAuth []string
			for _, a := range article6report.Authorisations(l, party) {
				wantAuth = append(wantAuth, a.ID+" "+strconv.FormatInt(a.Issued, 10)+" "+strconv.FormatInt(a.FirstTransferred, 10))
			}
			gotAuth := eval(name+" authorisations", `[...document.querySelectorAll('#authorisations tr[data-auth]')].map(r => r.dataset.auth + ' ' + r.querySelector('.issued').textContent.replace(/\D/g, '') + ' ' + r.querySelector('.first-transferred').textContent.replace(/\D/g, ''))`)
			if strings.Join(gotAuth, "|") != strings.Join(wantAuth, "|") {
				t.Errorf("%s authorisations %q, want %q", name, gotAuth, wantAuth)
			}
			var wantITMO []string
			// Straight from the ledger's blocks: here the host is the first
			// transferring Party of every first-transferred block.
			for _, b := range l.State().Blocks() {
				if b.Host != party && b.Holder != party {
					continue
				}
				first := ""
				if b.FirstTransfer > 0 {
					f, _ := article6.ITMORange(b.Approach, b.Host, b.Units)
					first = f.String()
				}
				wantITMO = append(wantITMO, b.Units.String()+" "+strconv.FormatInt(b.Units.Count(), 10)+" "+string(b.Status)+" "+first)
			}
			gotITMO := eval(name+" itmos", `[...document.querySelectorAll('#itmos tr[data-serial]')].map(r => r.dataset.serial + ' ' + r.querySelector('.quantity').textContent.replace(/\D/g, '') + ' ' + r.dataset.status + ' ' + r.cells[0].textContent.replace('–', ''))`)
			if strings.Join(gotITMO, "|") != strings.Join(wantITMO, "|") {
				t.Errorf("%s ITMOs %q, want %q", name, gotITMO, wantITMO)
			}
			var wantAdj []string
			for _, a := range article6report.Adjustments(l, party) {
				wantAdj = append(wantAdj, strconv.Itoa(a.Year)+" "+strconv.FormatInt(a.Quantity, 10))
			}
			gotAdj := eval(name+" adjustments", `[...document.querySelectorAll('#adjustments tr[data-year]')].map(r => r.dataset.year + ' ' + r.querySelector('.quantity').dataset.quantity)`)
			if strings.Join(gotAdj, "|") != strings.Join(wantAdj, "|") || len(wantAdj) == 0 {
				t.Errorf("%s adjustments %q, want %q", name, gotAdj, wantAdj)
			}
			bs, err := article6report.Balances(l, article6report.BalanceParams{Parties: []string{party}, Method: article6.MultiYearTrajectory, FirstYear: 2021, LastYear: 2030})
			if err != nil {
				t.Fatal(err)
			}
			var wantBal []string
			for _, r := range bs[0].Rows {
				wantBal = append(wantBal, strconv.Itoa(r.Year)+" "+strconv.FormatInt(r.FirstTransferred, 10)+" "+strconv.FormatInt(r.Used, 10))
			}
			gotBal := eval(name+" balance", `[...document.querySelectorAll('#balance tr[data-year]')].map(r => r.dataset.year + ' ' + r.querySelector('.first').textContent.replace(/\D/g, '') + ' ' + r.querySelector('.used').textContent.replace(/\D/g, ''))`)
			gotChart := eval(name+" chart", `[...document.querySelectorAll('#balance-chart g.year')].map(g => g.dataset.year + ' ' + g.dataset.first + ' ' + g.dataset.used)`)
			if strings.Join(gotBal, "|") != strings.Join(wantBal, "|") || strings.Join(gotChart, "|") != strings.Join(wantBal, "|") {
				t.Errorf("%s balance %q, chart %q, want %q", name, gotBal, gotChart, wantBal)
			}
			// A year with an adjustment has its bar drawn.
			if bars := eval(name+" bars", `[...document.querySelectorAll('#balance-chart rect.first, #balance-chart rect.used')].filter(r => r.getBBox().height > 10).map(r => r.className.baseVal)`); len(bars) == 0 {
				t.Errorf("%s: no bar drawn", name)
			}
			// The y-axis is labelled, inside the chart, as chartOf labels it.
			var wantTicks []string
			for _, tk := range chartOf(bs[0].Rows).Ticks {
				wantTicks = append(wantTicks, tk.Label)
			}
			gotTicks := eval(name+" y-axis", `(() => { const svg = document.querySelector('#balance-chart').getBoundingClientRect(); return [...document.querySelectorAll('#balance-chart .tick-label')].filter(t => { const r = t.getBoundingClientRect(); return r.width > 0 && r.left >= svg.left && r.top >= svg.top && r.bottom <= svg.bottom }).map(t => t.textContent) })()`)
			if len(wantTicks) < 3 || strings.Join(gotTicks, "|") != strings.Join(wantTicks, "|") {
				t.Errorf("%s y-axis labels %q, want %q", name, gotTicks, wantTicks)
			}
			aef, err := l.BuildAEF(article6.Submission{Party: party, Version: 1, Year: 2026, NDCFirstYear: 2021, NDCLastYear: 2030})
			if err != nil {
				t.Fatal(err)
			}
			var wantAEF []string
			for _, tab := range aef.Tables {
				wantAEF = append(wantAEF, tab.Name+" "+strconv.Itoa(len(tab.Rows)))
			}
			gotAEF := eval(name+" aef", `[...document.querySelectorAll('table.aef')].map(t => t.dataset.table + ' ' + t.querySelectorAll('tbody tr').length)`)
			if strings.Join(gotAEF, "|") != strings.Join(wantAEF, "|") {
				t.Errorf("%s AEF tables %q, want %q", name, gotAEF, wantAEF)
			}
			// The AEF tables are data in the format's own English terms.
			text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const m = document.querySelector('main').cloneNode(true); m.querySelectorAll('table.aef').forEach(t => t.remove()); return m.textContent })()`))
			if err != nil {
				t.Fatal(err)
			}
			if lang == "zh-Hans" {
				for _, f := range fragments {
					if strings.Contains(text, f) {
						t.Errorf("zh %s: English text %q left on the page", party, f)
					}
				}
			} else if han.MatchString(strings.ReplaceAll(text, "简体中文", "")) {
				t.Errorf("en %s shows Chinese text", party)
			}
		}
	}
	// The downloads are the article6 writers' output.
	for _, c := range []struct{ path, ctype, first string }{
		{"/corridor/article6/aef?party=ID&year=2026&table=Actions&format=csv", "text/csv", "Action date,"},
		{"/corridor/article6/aef?party=ID&year=2026&format=xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "PK"},
	} {
		resp, err := http.Get(srv.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		n, _ := resp.Body.Read(buf)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), c.ctype) || !strings.HasPrefix(string(buf[:n]), c.first) {
			t.Errorf("%s: %d %s %q", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), buf[:n])
		}
	}
	for _, bad := range []string{"/corridor/article6?party=i", "/corridor/article6?year=2019", "/corridor/article6/aef?party=ID&year=2026&format=pdf", "/corridor/article6/aef?party=ID&year=2026&table=x&format=csv"} {
		resp, err := http.Get(srv.URL + bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s: %d, want 400", bad, resp.StatusCode)
		}
	}
}
