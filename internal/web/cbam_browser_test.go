package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestCBAMPageBrowser fills the calculator form in headless chromium against
// the real API and dashboard handlers and checks the figures shown.
func TestCBAMPageBrowser(t *testing.T) {
	ctx := newBrowser(t)
	srv := serveSite(t)

	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	text := textReader(t, tctx)
	if err := chromedp.Do(tctx,
		chromedp.Navigate(srv.URL+"/cbam"),
		chromedp.WaitVisible(chromedp.CSS("#cbam-form")),
		chromedp.SetValue(chromedp.CSS("#origin"), "CN"),
		chromedp.SetValue(chromedp.CSS("#cn"), "7208 10 00"),
		chromedp.SetValue(chromedp.CSS("#tonnes"), "1000"),
		chromedp.SetValue(chromedp.CSS("#year"), "2026"),
		chromedp.SetValue(chromedp.CSS("#quarter"), "1"),
		chromedp.SetValue(chromedp.CSS("#whatif-price"), "40"),
		chromedp.SetValue(chromedp.CSS("#whatif-free"), "0.5"),
		chromedp.Click(chromedp.CSS("#calculate")),
		chromedp.WaitVisible(chromedp.CSS("#cbam-result")),
	); err != nil {
		t.Fatal(err)
	}
	// China 7208 in 2026: 3.186893 × 1.10 × 1000 = 3505.5823 embedded; FAA 0.975 × 1.370 × 1000 = 1335.75;
	// 2169.8323 certificates × EUR 75.36 (Q1 2026) = 163,518.56.
	for sel, want := range map[string]string{"#r-ee": "3,505.582", "#r-faa": "1,335.750", "#r-cpd": "0.000", "#r-certs": "2,169.832", "#r-cost": "163,518.56"} {
		if got := text(sel); got != want {
			t.Errorf("%s shows %q, want %q", sel, got, want)
		}
	}
	if got := text("#r-table"); !strings.Contains(got, "CBAM factor 0.975 × CSCF 1 × benchmark = SEFA 1.33575") || !strings.Contains(got, "v20260204") {
		t.Errorf("explanation table:\n%s", got)
	}
	// The shipped dataset is the annex IR (EU) 2026/1740 replaced: page and result say so.
	for _, sel := range []string{"#dataset-superseded", "#r-superseded"} {
		if got := text(sel); !strings.Contains(got, "2026/1740") {
			t.Errorf("%s shows %q", sel, got)
		}
	}
	// ... once: the explanation table's notes do not repeat it.
	if got := text("#r-table"); strings.Contains(got, "2026/1740") {
		t.Errorf("the explanation table repeats the superseded note:\n%s", got)
	}
	if got := text("#r-whatif-text"); !strings.Contains(got, "EUR 70,111.65") {
		t.Errorf("what-if: %q", got)
	}
	// The charts hold the waterfall's five steps and the nine projection years, 2034 without free allocation.
	charts, err := chromedp.Run(tctx, chromedp.Evaluate[[]float64](`[
		cbamCharts.waterfall.data.labels.length,
		cbamCharts.waterfall.data.datasets[0].data[3][1],
		cbamCharts.waterfall.data.datasets[1].data[4][1],
		cbamCharts.projection.data.labels.length,
		cbamCharts.projection.data.datasets[1].data[8],
		cbamCharts.projection.data.labels[8]]`))
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{5, 2169.8323, 163518.56, 9, 0, 2034}
	for i := range want {
		if charts[i] != want[i] {
			t.Errorf("chart value %d = %v, want %v", i, charts[i], want[i])
		}
	}
	if got := text("#p-table tbody tr:last-child"); !strings.HasPrefix(got, "2034") {
		t.Errorf("projection last row %q", got)
	}

	// 2026-Q3 has no price in the built-in table: said plainly, with what to do.
	if err := chromedp.Do(tctx,
		chromedp.SetValue(chromedp.CSS("#quarter"), "3"),
		chromedp.SetValue(chromedp.CSS("#whatif-price"), " "),
		chromedp.Click(chromedp.CSS("#calculate")),
	); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`document.getElementById('r-cost').textContent.startsWith('unknown')`)); err != nil {
		t.Fatalf("Q3 cost shows %q (error %q): %v", text("#r-cost"), text("#cbam-error"), err)
	}
	if got := text("#r-table"); !strings.Contains(got, "no certificate price for 2026-Q3") || !strings.Contains(got, "price table") {
		t.Errorf("Q3 explanation:\n%s", got)
	}
	// Nor does its projection show a cost at a price the tool does not know
	// (the API answers cost_eur null, which must not read as EUR 0.00).
	if got := text("#p-table tbody tr:last-child"); !strings.HasSuffix(strings.TrimSpace(got), "–") {
		t.Errorf("Q3 projection last row %q, want no cost", got)
	}
	if got := text("#r-price-assumption"); !strings.Contains(got, "unknown") {
		t.Errorf("Q3 projection price: %q", got)
	}

	// Bad input: the error names the field.
	if err := chromedp.Do(tctx,
		chromedp.SetValue(chromedp.CSS("#tonnes"), "-5"),
		chromedp.Click(chromedp.CSS("#calculate")),
		chromedp.WaitVisible(chromedp.CSS("#cbam-error")),
	); err != nil {
		t.Fatal(err)
	}
	if got := text("#cbam-error"); !strings.HasPrefix(got, "tonnes:") {
		t.Errorf("error shows %q, want it to name tonnes", got)
	}
	if err := chromedp.Do(tctx,
		chromedp.SetValue(chromedp.CSS("#tonnes"), "1"),
		chromedp.SetValue(chromedp.CSS("#year"), "2025"),
		chromedp.Click(chromedp.CSS("#calculate")),
	); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`document.getElementById('cbam-error').textContent.startsWith('year:')`)); err != nil {
		t.Fatalf("year 2025 error not shown (%q): %v", text("#cbam-error"), err)
	}
}
