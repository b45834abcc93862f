package web

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// demoSite is a dashboard over demo registries, served over HTTP, with the
// demo's tokens by registry and role.
type demoSite struct {
	site   *Site
	srv    *httptest.Server
	nodes  map[string]*registry.Node
	tokens map[string]map[ledger.Role]demo.Token
	// targets are the registries' databases, for a restart.
	targets map[string]storetest.Target
}

// newDemoSite seeds the first count demo registries on target tg (each its
// own database) and serves the dashboard and the API over them, routed as
// 'corridor serve' routes them.
func newDemoSite(t testing.TB, count int, target func(t testing.TB) storetest.Target) *demoSite {
	t.Helper()
	d := &demoSite{nodes: map[string]*registry.Node{}, tokens: map[string]map[ledger.Role]demo.Token{}, targets: map[string]storetest.Target{}}
	var nodes []*registry.Node
	for _, spec := range demo.Registries[:count] {
		d.targets[spec.Code] = target(t)
		n, err := registry.Open(context.Background(), d.targets[spec.Code].Open(t), registry.Options{Code: spec.Code})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Close)
		tokens, err := demo.Seed(context.Background(), n, spec)
		if err != nil {
			t.Fatal(err)
		}
		d.tokens[spec.Code] = map[ledger.Role]demo.Token{}
		for _, tk := range tokens {
			if _, ok := d.tokens[spec.Code][tk.Role]; !ok {
				d.tokens[spec.Code][tk.Role] = tk
			}
		}
		d.nodes[spec.Code] = n
		nodes = append(nodes, n)
	}
	d.serve(t, nodes)
	return d
}

// serve starts the dashboard and the API over nodes.
func (d *demoSite) serve(t testing.TB, nodes []*registry.Node) {
	d.site = New(nodes...)
	mux := http.NewServeMux()
	mux.Handle("/api/", api.New(nodes...).Handler())
	mux.Handle("/", d.site.Handler())
	d.srv = httptest.NewServer(mux)
	t.Cleanup(d.srv.Close)
}

// restart stops the server and its nodes and starts new ones on the same
// databases, as a new process would: nothing in memory survives.
func (d *demoSite) restart(t testing.TB) {
	t.Helper()
	d.srv.Close()
	var nodes []*registry.Node
	for code, n := range d.nodes {
		n.Close()
		again, err := registry.Open(context.Background(), d.targets[code].Open(t), registry.Options{Code: code})
		if err != nil {
			t.Fatalf("reopen %s: %v", code, err)
		}
		t.Cleanup(again.Close)
		d.nodes[code] = again
		nodes = append(nodes, again)
	}
	d.serve(t, nodes)
}

// visitor is one browser without JavaScript: a cookie jar, no redirects
// followed, so each answer can be checked.
type visitor struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (d *demoSite) visitor(t *testing.T) *visitor {
	jar, _ := cookiejar.New(nil)
	return &visitor{t: t, base: d.srv.URL, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is one answer.
type page struct {
	status   int
	body     string
	location string
	cookies  []*http.Cookie
}

func (v *visitor) do(req *http.Request) page {
	v.t.Helper()
	res, err := v.c.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, body: string(b), location: res.Header.Get("Location"), cookies: res.Cookies()}
}

func (v *visitor) get(path string) page {
	v.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, v.base+path, nil)
	return v.do(req)
}

func (v *visitor) post(path string, form url.Values) page {
	v.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, v.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return v.do(req)
}

// session is the visitor's session cookie value ("" without one).
func (v *visitor) session() string {
	u, _ := url.Parse(v.base)
	for _, c := range v.c.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			return c.Value
		}
	}
	return ""
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token in a page's forms.
func (p page) csrf(t *testing.T) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF token in page (status %d):\n%.400s", p.status, p.body)
	}
	return m[1]
}

// key is the idempotency key of the operations form posting to op.
func (p page) key(t *testing.T, op string) string {
	t.Helper()
	re := regexp.MustCompile(`action="[^"]*/operations/` + regexp.QuoteMeta(op) + `">.*?name="idempotency_key" value="([^"]+)"`)
	m := re.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no form for %s in the page (status %d)", op, p.status)
	}
	return m[1]
}

// text is the page's body with HTML entities decoded, for matching messages.
func (p page) text() string { return html.UnescapeString(p.body) }

// signIn signs v in to registry code with token, from that registry's page.
func (v *visitor) signIn(code, token string) page {
	v.t.Helper()
	p := v.get("/registries/" + code)
	return v.post("/signin", url.Values{"csrf": {p.csrf(v.t)}, "registry": {code}, "token": {token}, "next": {"/registries/" + code}})
}

func cookieNamed(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestSessionCookie signs in and out: the cookie is a random server-side
// session id (HttpOnly, SameSite=Lax, Secure under TLS), never the token;
// sign-in starts a new session, sign-out ends it on the server, and a
// session expires after signedInTTL.
func TestSessionCookie(t *testing.T) {
	d := newDemoSite(t, 1, storetest.SQLite)
	admin := d.tokens["CN"][ledger.RoleAdmin].Token
	v := d.visitor(t)

	first := v.get("/registries/CN")
	c := cookieNamed(first.cookies, sessionCookie)
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || len(c.Value) < 43 {
		t.Fatalf("anonymous session cookie %+v", c)
	}
	anonymous := c.Value
	if strings.Contains(first.body, `id="accounts"`) {
		t.Fatal("accounts listed before sign-in")
	}

	p := v.signIn("CN", admin)
	if p.status != http.StatusSeeOther || p.location != "/registries/CN" {
		t.Fatalf("sign-in answered %d to %q:\n%.300s", p.status, p.location, p.body)
	}
	c = cookieNamed(p.cookies, sessionCookie)
	if c == nil || c.Value == anonymous || strings.Contains(c.Value, admin) || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Fatalf("signed-in cookie %+v (anonymous id %s)", c, anonymous)
	}
	if time.Until(c.Expires) > signedInTTL || time.Until(c.Expires) < signedInTTL-time.Minute {
		t.Fatalf("cookie expires %v, want in %v", c.Expires, signedInTTL)
	}
	if len(d.site.currentSessionFor(anonymous).actors) != 0 {
		t.Fatal("the anonymous session id is signed in after sign-in (session fixation)")
	}
	signedIn := v.session()
	if p := v.get("/registries/CN"); !strings.Contains(p.body, `id="accounts"`) {
		t.Fatal("accounts not listed after sign-in")
	}

	// Sign-out ends the session on the server: replaying its id fails.
	p = v.post("/signout", url.Values{"csrf": {v.get("/").csrf(t)}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("sign-out answered %d", p.status)
	}
	if c := cookieNamed(p.cookies, sessionCookie); c == nil || c.MaxAge >= 0 {
		t.Fatalf("sign-out left the cookie: %+v", c)
	}
	replay := d.visitor(t)
	u, _ := url.Parse(d.srv.URL)
	replay.c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: signedIn}})
	if p := replay.get("/registries/CN"); strings.Contains(p.body, `id="accounts"`) {
		t.Fatal("a signed-out session id still signs in")
	}

	// Expiry.
	v.signIn("CN", admin)
	d.site.sessions.now = func() time.Time { return time.Now().Add(signedInTTL + time.Second) }
	if p := v.get("/registries/CN"); strings.Contains(p.body, `id="accounts"`) {
		t.Fatal("an expired session still signs in")
	}

	// Secure under TLS, directly or behind a proxy that says so.
	for _, r := range []*http.Request{httptest.NewRequest(http.MethodGet, "https://corridor.example/", nil), func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("X-Forwarded-Proto", "https")
		return r
	}()} {
		w := httptest.NewRecorder()
		d.site.Handler().ServeHTTP(w, r)
		if c := cookieNamed(w.Result().Cookies(), sessionCookie); c == nil || !c.Secure {
			t.Fatalf("cookie under TLS %+v", c)
		}
	}
}

// TestSignInSaysWhy: each failed sign-in names its reason, and signs no one in.
func TestSignInSaysWhy(t *testing.T) {
	d := newDemoSite(t, 2, storetest.SQLite)
	other := d.tokens["ID"][ledger.RoleHolder].Token
	for _, c := range []struct {
		name, registry, token string
		status                int
		want                  string
	}{
		{"empty", "CN", "  ", http.StatusBadRequest, "Enter an API token: the field was empty."},
		{"unknown token", "CN", "not-a-token", http.StatusUnauthorized, "Registry CN does not know this token."},
		{"other registry's token", "CN", other, http.StatusUnauthorized, "This token is not a token of registry CN; it belongs to registry ID."},
		{"no such registry", "XX", other, http.StatusBadRequest, "Choose a registry of this server"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := d.visitor(t)
			p := v.post("/signin", url.Values{"csrf": {v.get("/signin").csrf(t)}, "registry": {c.registry}, "token": {c.token}, "next": {"/"}})
			if p.status != c.status || !strings.Contains(p.text(), c.want) {
				t.Fatalf("answered %d, want %d with %q:\n%s", p.status, c.status, c.want, p.text())
			}
			if len(d.site.currentSessionFor(v.session()).actors) != 0 {
				t.Fatal("a failed sign-in signed in")
			}
		})
	}
}

// currentSessionFor returns the live session with id (nil-safe for tests).
func (s *Site) currentSessionFor(id string) *session {
	ss := s.sessions.get(context.Background(), id)
	if ss == nil {
		return &session{}
	}
	return ss
}

// TestPostWithoutCSRFRefused: every form endpoint refuses a POST without
// the session's CSRF token (none, wrong, or another session's) with 403,
// and the ledger does not change.
func TestPostWithoutCSRFRefused(t *testing.T) {
	d := newDemoSite(t, 1, storetest.SQLite)
	n := d.nodes["CN"]
	admin := d.visitor(t)
	admin.signIn("CN", d.tokens["CN"][ledger.RoleAdmin].Token)
	ops := admin.get("/registries/CN/operations")
	issue := url.Values{"idempotency_key": {ops.key(t, "issue")}, "standard": {"CCER"}, "unit_type": {"CCER"}, "project": {"CCER-X"},
		"project_name": {"X"}, "methodology": {"M"}, "host_country": {"CN"}, "vintage": {"2025"}, "quantity": {"10"}, "account_id": {"1"}}
	stranger := d.visitor(t)
	strangerToken := stranger.get("/signin").csrf(t)
	head := n.Totals().JournalSeq

	paths := map[string]url.Values{
		"/registries/CN/operations/issue":  issue,
		"/registries/CN/operations/settle": {"idempotency_key": {"k"}, "pending": {"1"}, "action": {"void"}},
		"/signout":                         {},
		"/signin":                          {"registry": {"CN"}, "token": {d.tokens["CN"][ledger.RoleAdmin].Token}},
	}
	for path, form := range paths {
		for name, token := range map[string]string{"none": "", "wrong": "x" + ops.csrf(t), "another session's": strangerToken} {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if token != "" {
				f.Set("csrf", token)
			}
			if p := admin.post(path, f); p.status != http.StatusForbidden || !strings.Contains(p.text(), "did not come from a page of this site") {
				t.Errorf("POST %s with %s CSRF token: %d", path, name, p.status)
			}
		}
	}
	if got := n.Totals().JournalSeq; got != head {
		t.Fatalf("journal moved from %d to %d on refused posts", head, got)
	}
	// The same form with the token goes through, and the session survived.
	issue.Set("csrf", ops.csrf(t))
	if p := admin.post("/registries/CN/operations/issue", issue); p.status != http.StatusSeeOther {
		t.Fatalf("issue with CSRF token: %d\n%s", p.status, p.text())
	}
	if got := n.Totals().JournalSeq; got != head+1 {
		t.Fatalf("journal at %d after one issue, want %d", got, head+1)
	}
}

// TestSessionSurvivesRestart: on both databases, a browser signed in to two
// registries is still signed in to both after the server restarts (before,
// sessions lived in memory and a restart signed everyone out); each
// registry's database holds the session id's hash, never the id; after
// sign-out the stolen cookie signs in nowhere, on this server or after
// another restart.
func TestSessionSurvivesRestart(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		d := newDemoSite(t, 2, func(t testing.TB) storetest.Target { return tg.Fresh(t) })
		v := d.visitor(t)
		for _, code := range []string{"CN", "ID"} {
			if p := v.signIn(code, d.tokens[code][ledger.RoleAdmin].Token); p.status != http.StatusSeeOther {
				t.Fatalf("sign-in to %s: %d\n%s", code, p.status, p.text())
			}
		}
		id := v.session()
		for _, code := range []string{"CN", "ID"} {
			var n int
			db := d.nodes[code].DB().SQL()
			if err := db.QueryRow(`SELECT count(*) FROM web_sessions WHERE id_hash = '` + idHash(id) + `'`).Scan(&n); err != nil || n != 1 {
				t.Fatalf("%s: %d rows for the session's hash (%v), want 1", code, n, err)
			}
			if err := db.QueryRow(`SELECT count(*) FROM web_sessions WHERE id_hash = '` + id + `' OR role LIKE '%` + id[:10] + `%'`).Scan(&n); err != nil || n != 0 {
				t.Fatalf("%s: the session id itself is stored (%d rows, %v)", code, n, err)
			}
		}

		d.restart(t)
		stolen := d.visitor(t) // the cookie, moved to the new server's address
		u, _ := url.Parse(d.srv.URL)
		stolen.c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: id}})
		for _, code := range []string{"CN", "ID"} {
			if p := stolen.get("/registries/" + code); !strings.Contains(p.body, `id="accounts"`) {
				t.Fatalf("signed out of %s by a restart:\n%.300s", code, p.text())
			}
		}
		// A form still works: its CSRF token is the one the session had.
		p := stolen.get("/registries/CN/operations")
		if p.status != http.StatusOK {
			t.Fatalf("operations page after restart: %d", p.status)
		}

		if p := stolen.post("/signout", url.Values{"csrf": {p.csrf(t)}}); p.status != http.StatusSeeOther {
			t.Fatalf("sign-out: %d", p.status)
		}
		thief := d.visitor(t)
		thief.c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: id}})
		check := func(when string) {
			for _, code := range []string{"CN", "ID"} {
				if p := thief.get("/registries/" + code); strings.Contains(p.body, `id="accounts"`) {
					t.Fatalf("%s: the signed-out cookie still signs in to %s", when, code)
				}
				if p := thief.get("/registries/" + code + "/accounts/1"); p.status != http.StatusUnauthorized {
					t.Fatalf("%s: an account page with the signed-out cookie on %s: %d, want 401", when, code, p.status)
				}
			}
		}
		check("after sign-out")
		d.restart(t)
		u, _ = url.Parse(d.srv.URL)
		thief.base = d.srv.URL
		thief.c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: id}})
		check("after sign-out and a restart")
	})
}

// TestSessionsSweptOnATimer: SweepSessions (run by serve) deletes the
// sessions that expired, though nobody signs in again (sign-in was the only
// sweep), and keeps the live ones; it stops when its context ends.
func TestSessionsSweptOnATimer(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		d := newDemoSite(t, 1, func(testing.TB) storetest.Target { return tg })
		n := d.nodes["CN"]
		ctx := context.Background()
		t0 := time.Now()
		a := registry.Actor{OrgID: 1, Role: ledger.RoleAdmin}
		if err := n.StartSession(ctx, "old", a, t0, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := n.StartSession(ctx, "live", a, t0, t0.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		later := t0.Add(2 * time.Hour)
		d.site.sessions.now = func() time.Time { return later }
		// A row is found at t0 while it exists: the sweep at "later" deletes
		// "old" (expired by then), not "live".
		stored := func(h string) bool {
			_, _, found, err := n.Session(ctx, h, t0)
			if err != nil {
				t.Fatal(err)
			}
			return found
		}
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); d.site.SweepSessions(sctx, 10*time.Millisecond) }()
		for deadline := time.Now().Add(5 * time.Second); stored("old"); {
			if time.Now().After(deadline) {
				t.Fatal("the expired session was never swept")
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("SweepSessions did not stop with its context")
		}
		if !stored("live") {
			t.Fatal("the sweep deleted a live session")
		}
	})
}
