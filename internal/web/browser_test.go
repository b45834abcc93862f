package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// chromiumPath finds Debian's chromium. The browser tests fail (not skip)
// without it when CORRIDOR_REQUIRE_BROWSER is set, as it is in CI.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CORRIDOR_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	if os.Getenv("CORRIDOR_REQUIRE_BROWSER") != "" {
		t.Fatal("chromium not found and CORRIDOR_REQUIRE_BROWSER is set: apt-get install -y chromium")
	}
	t.Skip("SKIPPED browser test: chromium not installed (apt-get install -y chromium)")
	return ""
}

// newBrowser starts headless chromium for one test and returns a context for
// chromedp.Run; everything is torn down when the test ends.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The first Run starts the browser; it must not carry a timeout, or the
	// timeout would stop the whole browser (chromedp's documented rule).
	if _, err := chromedp.Run(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// serveSite starts the API and the dashboard over nodes, routed as
// 'corridor serve' routes them; it stops when the test ends.
func serveSite(t *testing.T, nodes ...*registry.Node) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/api/", api.New(nodes...).Handler())
	mux.Handle("/", New(nodes...).Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// textReader returns a function that reads the visible text of the first
// element matching a CSS selector, failing the test if there is none.
// actionRunner runs chromedp actions with a timeout, failing the test with
// the step's name.
func actionRunner(t *testing.T, ctx context.Context, timeout time.Duration) func(name string, actions ...chromedp.Action[chromedp.Void]) {
	return func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// stringsEvaluator evaluates a script that returns a list of strings.
func stringsEvaluator(t *testing.T, ctx context.Context) func(name, js string) []string {
	return func(name, js string) []string {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		v, err := chromedp.Run(sctx, chromedp.Evaluate[[]string](js))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}
}

func textReader(t *testing.T, ctx context.Context) func(sel string) string {
	return func(sel string) string {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
}

// fitsWidth fails the test when the page now shown scrolls sideways: its
// document is wider than the window (the viewport the test set, 1280 px
// wide), so a wide table or an unbroken identifier pushes the page out.
// A table may scroll inside its own container; the page may not.
func fitsWidth(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	w, err := chromedp.Run(sctx, chromedp.Evaluate[[]int](`[document.scrollingElement.scrollWidth, window.innerWidth]`))
	if err != nil {
		t.Fatalf("%s: page width: %v", name, err)
	}
	if w[0] > w[1] {
		t.Errorf("%s scrolls sideways: the page is %d px wide in a %d px window", name, w[0], w[1])
	}
}
