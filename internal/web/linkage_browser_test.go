package web

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestLinkagePageBrowser loads /linkage in headless chromium against the real
// API and dashboard handlers, moves the China price-floor slider with the
// keyboard as a person would, and checks that the page re-solves and shows
// the new price.
func TestLinkagePageBrowser(t *testing.T) {
	ctx := newBrowser(t)
	srv := serveSite(t)

	tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	solves := func() int {
		t.Helper()
		n, err := chromedp.Run(tctx, chromedp.Evaluate[int](`window.linkageState.solves`))
		if err != nil {
			t.Fatalf("read solves: %v", err)
		}
		return n
	}
	waitSolves := func(n int) {
		t.Helper()
		if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`window.linkageState && window.linkageState.solves >= `+strconv.Itoa(n), chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			t.Fatalf("page did not solve %d times: %v", n, err)
		}
	}
	price := func() float64 {
		t.Helper()
		s, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS("#cn-price")))
		if err != nil {
			t.Fatal(err)
		}
		v, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(s), ",", ""), 64)
		if err != nil {
			t.Fatalf("price %q: %v", s, err)
		}
		return v
	}

	if err := chromedp.Do(tctx, chromedp.Navigate(srv.URL+"/linkage"), chromedp.WaitVisible(chromedp.CSS("#cn-floor"))); err != nil {
		t.Fatal(err)
	}
	waitSolves(1)
	before := price()
	// The default linked price lies below China's autarky price of EUR 11.40
	// (China imports), and every market is charted.
	if !(before > 5 && before < 11.40) {
		t.Fatalf("initial China price %g, want between 5 and 11.40", before)
	}
	counts, err := chromedp.Run(tctx, chromedp.Evaluate[[]int](`[
		linkageCharts.price.data.labels.length, linkageCharts.price.data.datasets.length,
		linkageCharts.gain.data.datasets[0].data.length, linkageCharts.mc.data.labels.length,
		document.querySelectorAll("#flow-svg path.flow").length,
		document.querySelectorAll("#cbam-table tbody tr").length]`))
	if err != nil {
		t.Fatal(err)
	}
	if counts[0] != 9 || counts[1] != 2 || counts[2] != 9 || counts[3] != 9 || counts[4] == 0 || counts[5] != 3 {
		t.Errorf("charts/tables [labels, datasets, gains, mc markets, flow arrows, cbam rows] = %v", counts)
	}
	// The exchange rates say which series they come from and that the
	// 2025 ECB figures are stand-ins until replaced.
	fx, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](`[
		document.querySelector("#rates-table tr[data-currency=SGD] td:nth-child(3)").textContent,
		document.querySelector("#rates-table").previousElementSibling.textContent]`))
	if err != nil {
		t.Fatal(err)
	}
	if fx[0] != "assumption" || !strings.Contains(fx[1], "ECB") {
		t.Errorf("SGD rate status %q, series %q", fx[0], fx[1])
	}
	// Singapore's firms gain from importing credits (tax avoided), but the
	// country pays abroad for them: its social gain is negative, and the
	// headline is the social gain, below the private one.
	gains, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](`[
		document.getElementById("gn-SG-TAX").textContent, document.getElementById("sg-SG-TAX").textContent,
		document.getElementById("total-social-gain").textContent, document.getElementById("total-gain").textContent]`))
	if err != nil {
		t.Fatal(err)
	}
	parse := func(s string) float64 {
		v, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(s), ",", ""), 64)
		if err != nil {
			t.Fatalf("number %q: %v", s, err)
		}
		return v
	}
	if sgPrivate, sgSocial, social, private := parse(gains[0]), parse(gains[1]), parse(gains[2]), parse(gains[3]); !(sgPrivate > 0 && sgSocial < 0 && social < private) {
		t.Errorf("SG private gain %g, social gain %g; totals social %g, private %g: want SG private > 0 > social and total social < private", sgPrivate, sgSocial, social, private)
	}

	// Move the floor slider up 20 steps of EUR 0.5 to EUR 10: China's
	// price is held at its floor, above the linked price.
	n := solves()
	actions := []chromedp.Action[chromedp.Void]{chromedp.Focus(chromedp.CSS("#cn-floor"))}
	for range 20 {
		actions = append(actions, chromedp.KeyEvent(kb.ArrowRight))
	}
	if err := chromedp.Do(tctx, actions...); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`document.getElementById("cn-price").textContent === "10.00"`, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("price after moving the floor slider: %g (was %g), solves %d → %d: %v", price(), before, n, solves(), err)
	}
	if floor, _ := chromedp.Run(tctx, chromedp.Text(chromedp.CSS("#cn-floor-out"))); floor != "10.0" {
		t.Errorf("slider label %q, want 10.0", floor)
	}
	if b, _ := chromedp.Run(tctx, chromedp.Text(chromedp.CSS("#bd-CN-ETS"))); b != "floor" {
		t.Errorf("China binding %q, want floor", b)
	}

	// Move the import-limit slider to zero with the Home key:
	// China can import nothing and returns to its autarky price, 11.40.
	if err := chromedp.Do(tctx, chromedp.Focus(chromedp.CSS("#cn-limit")), chromedp.KeyEvent(kb.Home)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`document.getElementById("cn-price").textContent === "11.40"`, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("price after closing imports: %g: %v", price(), err)
	}
}
