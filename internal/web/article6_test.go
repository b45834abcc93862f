package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/corridor-carbon/corridor/internal/article6report"
	"github.com/corridor-carbon/corridor/internal/numfmt"
)

// renderErrorKeys lists the message keys the package's handlers pass to
// renderError as a literal, read from the source (not a hand-kept list).
func renderErrorKeys(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var keys []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "renderError" || len(call.Args) < 4 {
				return true
			}
			lit, ok := call.Args[3].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Errorf("%s: renderError with a key that is not a literal; the catalogue check cannot see it", fset.Position(call.Pos()))
				return true
			}
			k, _ := strconv.Unquote(lit.Value)
			keys = append(keys, k)
			return true
		})
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// TestRenderErrorKeysCatalogued: every key an error page is rendered with
// has its sentence and its heading (key.title) in every language's own
// file, so no page shows a raw key or falls back to English.
func TestRenderErrorKeysCatalogued(t *testing.T) {
	keys := renderErrorKeys(t)
	if len(keys) < 12 {
		t.Fatalf("only %d renderError keys found: the scan is broken", len(keys))
	}
	for _, tag := range siteCatalogue.tags {
		msgs := siteCatalogue.messages[tag]
		for _, k := range keys {
			for _, want := range []string{k, k + ".title"} {
				if msgs[want] == "" {
					t.Errorf("%s lacks %s (used by renderError)", tag, want)
				}
			}
		}
	}
}

// TestArticle6ErrorPagesTranslated: the Article 6 pages' refusals show a
// heading from the catalogue in the page's language, never the key.
func TestArticle6ErrorPagesTranslated(t *testing.T) {
	srv := httptest.NewServer(New().WithArticle6(a6Ledger{projectAbroadLedger(t)}).Handler())
	defer srv.Close()
	h1 := regexp.MustCompile(`<h1 id="error-title">([^<]*)</h1>`)
	title := regexp.MustCompile(`<title>([^<]*)</title>`)
	for _, c := range []struct{ path, key string }{
		{"/corridor/article6?party=ID&year=1999", "article6.bad_year"},
		{"/corridor/article6?party=I", "article6.bad_party"},
		{"/corridor/article6/aef?party=ID&year=2026&format=pdf", "article6.bad_format"},
		{"/corridor/article6/aef?party=ID&year=2026&table=x&format=csv", "article6.bad_table"},
	} {
		for _, tag := range siteCatalogue.tags {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+c.path, nil)
			req.Header.Set("Accept-Language", tag.String())
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := siteCatalogue.messages[tag][c.key+".title"]
			m, tm := h1.FindStringSubmatch(string(b)), title.FindStringSubmatch(string(b))
			if resp.StatusCode != http.StatusBadRequest || m == nil || tm == nil || want == "" || m[1] != want || !strings.HasPrefix(tm[1], want) || strings.Contains(string(b), c.key+".title") {
				t.Errorf("%s %s: %d, h1 %q title %q, want 400 with heading %q", tag, c.path, resp.StatusCode, m, tm, want)
			}
		}
	}
}

// TestArticle6UnknownPartyRefused: a Party code of no cooperative approach
// is the visitor's mistake, answered 400 with the unknown-Party page, never
// a "try again" 503 or a page with the unreadable banner; a lower-case code
// of a Party is that Party.
func TestArticle6UnknownPartyRefused(t *testing.T) {
	srv := httptest.NewServer(New().WithArticle6(a6Ledger{projectAbroadLedger(t)}).Handler())
	defer srv.Close()
	en := siteCatalogue.messages[defaultLanguage]
	for _, c := range []struct {
		path   string
		status int
		want   string
	}{
		{"/corridor/article6/aef?party=XX&year=2026&format=csv&table=actions", 400, en["article6.unknown_party.title"]},
		{"/corridor/article6/aef?party=ZZ&year=2026&format=xlsx", 400, en["article6.unknown_party.title"]},
		{"/corridor/article6/aef?party=FR&year=2026&format=xlsx", 400, en["article6.unknown_party.title"]},
		{"/corridor/article6?party=XX", 400, en["article6.unknown_party.title"]},
		{"/corridor/article6?party=I1", 400, en["article6.bad_party.title"]},
		{"/corridor/article6?party=id&year=2026", 200, `data-party="ID"`},
		{"/corridor/article6/aef?party=id&year=2026&format=csv&table=actions", 200, "Action date,"},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+c.path, nil)
		req.Header.Set("Accept-Language", "en")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || c.want == "" || !strings.Contains(string(b), c.want) || strings.Contains(string(b), "article6-unreadable") {
			t.Errorf("%s: %d, want %d with %q:\n%.400s", c.path, resp.StatusCode, c.status, c.want, b)
		}
	}
}

// TestBalanceChartTicks: the y-axis steps by a round number, reaches the
// largest bar, labels every tick with numfmt, and the bars are drawn on
// the axis' scale (a bar of the top value ends at the top tick).
func TestBalanceChartTicks(t *testing.T) {
	for _, c := range []struct {
		first, used int64
		top         int64
		labels      []string
	}{
		{11_560, 6_000, 15_000, []string{"0", "+5,000", "-5,000", "+10,000", "-10,000", "+15,000", "-15,000"}},
		{0, 6_000, 6_000, []string{"0", "+2,000", "-2,000", "+4,000", "-4,000", "+6,000", "-6,000"}},
		{3, 0, 3, []string{"0", "+1", "-1", "+2", "-2", "+3", "-3"}},
		{0, 0, 0, []string{"0"}},
	} {
		rows := []article6report.BalanceRow{{Year: 2025}, {Year: 2026, FirstTransferred: c.first, Used: c.used}}
		ch := chartOf(rows)
		var labels []string
		for _, tk := range ch.Ticks {
			labels = append(labels, tk.Label)
		}
		if ch.Top != c.top || !slices.Equal(labels, c.labels) {
			t.Errorf("%d/%d: top %d ticks %v, want %d %v", c.first, c.used, ch.Top, labels, c.top, c.labels)
			continue
		}
		if c.top == 0 {
			continue
		}
		topY, bottomY := ch.Ticks[len(ch.Ticks)-2].Y, ch.Ticks[len(ch.Ticks)-1].Y
		b := ch.Bars[1]
		if c.first == c.top && b.UpY != topY || c.used == c.top && ch.Zero+b.DownH != bottomY {
			t.Errorf("%d/%d: bar up to %d / down to %d, ticks at %d / %d", c.first, c.used, b.UpY, ch.Zero+b.DownH, topY, bottomY)
		}
		if b.FirstLabel != "+"+numfmt.Int(c.first) || b.UsedLabel != numfmt.Int(-c.used) {
			t.Errorf("bar labels %q %q", b.FirstLabel, b.UsedLabel)
		}
	}
}

// TestArticle6PageNumbers: outside the AEF tables (which show the file's
// cells) and identifiers, every quantity on the Article 6 page is written
// with numfmt's thousands separators: the balance table's adjustments, the
// chart's bars and its y-axis.
func TestArticle6PageNumbers(t *testing.T) {
	l := projectAbroadLedger(t)
	srv := httptest.NewServer(New().WithArticle6(a6Ledger{l}).Handler())
	defer srv.Close()
	cell := regexp.MustCompile(`<td class="num adjustment" data-adjustment="([^"]*)">([^<]*)</td>`)
	ungrouped := regexp.MustCompile(`(?:^|[\s(:+])(-\d{4,}|\d{5,})\b`)
	strip := regexp.MustCompile(`(?s)<table class="aef".*?</table>|<code>.*?</code>|<[^>]*>`)
	for _, party := range []string{"ID", "CN"} {
		resp, err := http.Get(srv.URL + "/corridor/article6?party=" + party + "&year=2026")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(b)
		cells := cell.FindAllStringSubmatch(page, -1)
		if len(cells) != 10 {
			t.Fatalf("%s: %d balance rows", party, len(cells))
		}
		nonZero := 0
		for _, m := range cells {
			if m[1] != "0" {
				nonZero++
			}
			if want := numfmt.Decimal(decimal.RequireFromString(m[1])); m[2] != want {
				t.Errorf("%s: adjustment %s printed %q, want %q", party, m[1], m[2], want)
			}
		}
		if nonZero == 0 {
			t.Errorf("%s: no adjustment to check", party)
		}
		if !strings.Contains(page, `class="tick-label"`) {
			t.Errorf("%s: the chart has no y-axis labels", party)
		}
		if bad := ungrouped.FindAllString(strip.ReplaceAllString(page, " "), -1); len(bad) > 0 {
			t.Errorf("%s: numbers without thousands separators on the page: %q", party, bad)
		}
	}
}
