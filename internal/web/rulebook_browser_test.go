package web

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestRulebookPageBrowser drives /rulebook in headless chromium against the
// real API and dashboard handlers: the recognition matrix, the MRV
// side-by-side and the eligibility check.
func TestRulebookPageBrowser(t *testing.T) {
	ctx := newBrowser(t)
	srv := serveSite(t)

	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	text := textReader(t, tctx)

	// Recognition matrix for cement, MRV for aluminium.
	if err := chromedp.Do(tctx,
		chromedp.Navigate(srv.URL+"/rulebook?sector=cement&mrv=aluminium"),
		chromedp.WaitVisible(chromedp.CSS("#matrix")),
	); err != nil {
		t.Fatal(err)
	}
	for sel, want := range map[string]string{
		`#matrix td[data-a="SPE-GRK"][data-b="GS"]`:           "recognised with conditions",
		`#matrix td[data-a="GS"][data-b="SPE-GRK"]`:           "recognised with conditions",
		`#matrix td[data-a="CCER"][data-b="VCS"]`:             "not recognised (no agreement found)",
		`#matrix td[data-a="SPE-GRK"][data-b="VCS"]`:          "not recognised",
		`#matrix td[data-a="JCM"][data-b="JCM"]`:              "same programme",
		`#mrv td[data-regime="VN-ETS"][data-aspect="scope"]`:  "Not covered",
		`#mrv td[data-regime="EU-CBAM"][data-aspect="scope"]`: "GWP CF4 6630",
	} {
		if got := text(sel); !strings.HasPrefix(got, want) && !strings.Contains(got, want) {
			t.Errorf("%s shows %q, want %q", sel, got, want)
		}
	}
	if got := text("#agreements"); !strings.Contains(got, "Gold Standard, May 2025") {
		t.Errorf("agreements list: %q", got)
	}
	// Switching sector through the tabs re-renders the matrix.
	if err := chromedp.Do(tctx,
		chromedp.Click(chromedp.CSS(`.tabs a[href^="/rulebook?sector=power"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#matrix[data-sector="power"]`)),
	); err != nil {
		t.Fatal(err)
	}
	if got := text(`#matrix td[data-a="VCS"][data-b="GS"]`); !strings.Contains(got, "CDM-ACM0002") || !strings.HasPrefix(got, "not recognised (no agreement found)") {
		t.Errorf("VCS/GS power cell: %q", got)
	}
	if got := text(`#mrv`); !strings.Contains(got, "26,000") {
		t.Errorf("MRV table lost its aluminium threshold: %q", got)
	}

	// Eligibility: CCER in the China ETS, obligation 12,345 t, 1,000 t offered.
	if err := chromedp.Do(tctx,
		chromedp.SetValue(chromedp.CSS("#e-scheme"), "CN-ETS"),
		chromedp.SetValue(chromedp.CSS("#e-instrument"), "CCER"),
		chromedp.SetValue(chromedp.CSS("#e-host"), "CN"),
		chromedp.SetValue(chromedp.CSS("#e-vintage"), "2024"),
		chromedp.SetValue(chromedp.CSS("#e-year"), "2025"),
		chromedp.SetValue(chromedp.CSS("#e-obligation"), "12345"),
		chromedp.SetValue(chromedp.CSS("#e-quantity"), "1000"),
		chromedp.Click(chromedp.CSS("#e-check")),
		chromedp.WaitVisible(chromedp.CSS("#elig-max")),
	); err != nil {
		t.Fatal(err)
	}
	for sel, want := range map[string]string{"#elig-allowed": "yes", "#elig-max": "617 t", "#elig-granted": "617 t", "#elig-confirmed": "includes unverified"} {
		if got := text(sel); got != want {
			t.Errorf("%s shows %q, want %q", sel, got, want)
		}
	}
	if got := text("#elig-rounding"); !strings.Contains(got, "5% of 12,345 t = 617.25 t, rounded down to 617 t") {
		t.Errorf("rounding: %q", got)
	}
	reasons := text("#elig-reasons")
	for _, want := range []string{"CN-ETS.offset-cap", "MEE Order No. 19", "Art. 29", "UNVERIFIED rule"} {
		if !strings.Contains(reasons, want) {
			t.Errorf("reasons lack %q:\n%s", want, reasons)
		}
	}

	// A Thai VCU without authorisation is refused in Singapore.
	if err := chromedp.Do(tctx,
		chromedp.SetValue(chromedp.CSS("#e-scheme"), "SG-CT"),
		chromedp.SetValue(chromedp.CSS("#e-instrument"), "VCU"),
		chromedp.SetValue(chromedp.CSS("#e-host"), "TH"),
		chromedp.SetValue(chromedp.CSS("#e-vintage"), "2023"),
		chromedp.SetValue(chromedp.CSS("#e-year"), "2026"),
		chromedp.SetValue(chromedp.CSS("#e-obligation"), "100000"),
		chromedp.SetValue(chromedp.CSS("#e-quantity"), ""),
		chromedp.Click(chromedp.CSS("#e-check")),
		chromedp.WaitVisible(chromedp.CSS("#elig-allowed")),
	); err != nil {
		t.Fatal(err)
	}
	if got := text("#elig-allowed"); got != "no" {
		t.Errorf("unauthorised VCU allowed: %q", got)
	}
	if got := text("#elig-reasons"); !strings.Contains(got, "SG-CT.authorised-ca") || !strings.Contains(got, "not authorised") {
		t.Errorf("reasons: %q", got)
	}

	// The Singapore scheme lists each implementation agreement with its
	// operational date; a signed one without a date is shown as not eligible.
	if got := text(`#agreements-SG-CT\.host tr[data-host="TH"] td.op`); got != "2026-03-31" {
		t.Errorf("Thailand's agreement operational from %q, want 2026-03-31", got)
	}
	if got := text(`#agreements-SG-CT\.host tr[data-host="VN"] td.op`); !strings.Contains(got, "not eligible") {
		t.Errorf("Viet Nam's agreement shows %q", got)
	}

	// Authorised and adjusted, but a month before Thailand's agreement
	// with Singapore became operational (31 March 2026): still refused.
	if err := chromedp.Do(tctx,
		chromedp.Click(chromedp.CSS("#e-authorised")),
		chromedp.Click(chromedp.CSS("#e-ca")),
		chromedp.SetValue(chromedp.CSS("#e-date"), "2026-03-01"),
		chromedp.Click(chromedp.CSS("#e-check")),
		chromedp.WaitVisible(chromedp.CSS("#elig-date")),
	); err != nil {
		t.Fatal(err)
	}
	if got := text("#elig-allowed"); got != "no" {
		t.Errorf("Thai credit before the agreement was operational allowed: %q", got)
	}
	if got := text("#elig-reasons"); !strings.Contains(got, "SG-CT.host") || !strings.Contains(got, "operational only from 2026-03-31") {
		t.Errorf("reasons: %q", got)
	}
	if got := text("#elig-date"); !strings.Contains(got, "2026-03-01") {
		t.Errorf("date shown: %q", got)
	}

	// Bad input comes back as a problem naming the field.
	if err := chromedp.Do(tctx,
		chromedp.SetValue(chromedp.CSS("#e-obligation"), "-5"),
		chromedp.Click(chromedp.CSS("#e-check")),
		chromedp.WaitVisible(chromedp.CSS("#elig-error")),
	); err != nil {
		t.Fatal(err)
	}
	if got := text("#elig-error"); !strings.Contains(got, "use.obligation_tonnes") {
		t.Errorf("error: %q", got)
	}

	if dir := os.Getenv("CORRIDOR_SCREENSHOT_DIR"); dir != "" {
		if err := chromedp.Do(tctx, chromedp.Navigate(srv.URL+"/rulebook?sector=cement&mrv=steel"), chromedp.WaitVisible(chromedp.CSS("#matrix"))); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(tctx, chromedp.FullScreenshot(90))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir+"/rulebook.png", png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
