// Package web serves Corridor's dashboard: server-rendered html/template pages
// with htmx and Chart.js, every asset embedded (nothing loads from the internet).
package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Site renders the dashboard pages. Each page is one template file in
// templates/ that defines "title" and "content"; it is parsed with layout.html.
type Site struct {
	nodes map[string]*registry.Node
	codes []string

	sessions *sessions

	// link is the corridor this server is part of (nil: none); recon the
	// hub's reconciliation results, when wired.
	link  hub.Link
	recon Reconciler
	// article6 is the hub's Article 6 ledger (nil: none).
	article6 Article6Ledger
	// tokensFile is where this server's demo tokens are ("": none).
	tokensFile string
	// demo: the registries hold the demo's seeded data, so the pages
	// say so (and where its tokens are).
	demo bool

	mu    sync.Mutex
	pages map[string]*template.Template
}

// New returns a Site showing the given registry nodes.
func New(nodes ...*registry.Node) *Site {
	s := &Site{nodes: map[string]*registry.Node{}, pages: map[string]*template.Template{}}
	s.sessions = newSessions(s.nodes)
	for _, n := range nodes {
		s.nodes[n.Code()] = n
		s.codes = append(s.codes, n.Code())
	}
	sort.Strings(s.codes)
	return s
}

// WithTokensFile names the file holding the demo's API tokens (the data
// directory's demo-tokens.json), which the sign-in hint points to; ""
// (the default) names none. It returns s.
func (s *Site) WithTokensFile(path string) *Site {
	s.tokensFile = path
	return s
}

// WithDemo says whether the registries hold the demo's seeded data: the
// pages then show the demo's notes (its legal caveats, where its tokens
// are), which a production registry must not.
func (s *Site) WithDemo(on bool) *Site {
	s.demo = on
	return s
}

// Handler returns the dashboard's routes: pages at / and assets at /static/.
// A path no route matches gets the site's 404 page.
func (s *Site) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /language", s.handleLanguage)
	s.routesRegistry(mux)
	s.routesOperations(mux)
	s.routesCBAM(mux)
	s.routesRulebook(mux)
	s.routesLinkage(mux)
	s.routesCorridor(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			// Every route that changes something checks the form's CSRF
			// token here, so a new form cannot forget to.
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				if _, ok := s.checkCSRF(w, r); !ok {
					return
				}
			}
			mux.ServeHTTP(w, r) // sets the path values, which Handler does not
			return
		}
		// No route: the mux answers 404, 405 (with Allow) or a redirect.
		// Only its 404 is replaced, by the site's page.
		c := &notFoundCatcher{ResponseWriter: w}
		h.ServeHTTP(c, r)
		if !c.caught {
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/") {
			// An API client asked for a route the API does not have: it
			// reads problem+json, not a page.
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": "Not Found", "status": http.StatusNotFound,
				"code": "not_found", "detail": "No API route matches " + r.Method + " " + r.URL.Path + "."})
			return
		}
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
	})
}

// notFoundCatcher swallows a 404 answer so the site can send its own.
type notFoundCatcher struct {
	http.ResponseWriter
	caught bool
}

func (c *notFoundCatcher) WriteHeader(code int) {
	if code == http.StatusNotFound {
		c.caught = true
		// http.Error set these for its text answer; the page sets its own.
		c.Header().Del("Content-Type")
		c.Header().Del("X-Content-Type-Options")
		return
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *notFoundCatcher) Write(b []byte) (int, error) {
	if c.caught {
		return len(b), nil
	}
	return c.ResponseWriter.Write(b)
}

// render executes page (a file name in templates/) inside the layout.
func (s *Site) render(w http.ResponseWriter, r *http.Request, page string, data any) {
	s.renderStatus(w, r, http.StatusOK, page, data)
}

// renderStatus renders page with an HTTP status. Every page may hold a form,
// so the session (and its CSRF token) is made before the status is written.
func (s *Site) renderStatus(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	s.execute(w, r, status, page, "layout", data)
}

// renderFragment executes one named template of a page, without the layout.
func (s *Site) renderFragment(w http.ResponseWriter, r *http.Request, page, name string, data any) {
	s.execute(w, r, http.StatusOK, page, name, data)
}

// errorData is the error page's content: a catalogue key and its arguments.
type errorData struct {
	Status int
	Key    string
	Args   []any
}

// renderError shows a message from the catalogue in the site's layout.
func (s *Site) renderError(w http.ResponseWriter, r *http.Request, status int, key string, args ...any) {
	s.renderStatus(w, r, status, "error.html", errorData{Status: status, Key: key, Args: args})
}

func (s *Site) execute(w http.ResponseWriter, r *http.Request, status int, page, name string, data any) {
	base, err := s.template(page)
	var t *template.Template
	if err == nil {
		t, err = base.Clone()
	}
	if err == nil {
		ss := s.ensureSession(w, r)
		t.Funcs(s.requestFuncs(r, ss))
		var buf bytes.Buffer
		if err = t.ExecuteTemplate(&buf, name, data); err == nil {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(status)
			_, _ = buf.WriteTo(w)
			return
		}
	}
	slog.ErrorContext(r.Context(), "web: render", "page", page, "err", err)
	http.Error(w, "The page could not be rendered; the error has been logged.", http.StatusInternalServerError)
}

func (s *Site) template(page string) (*template.Template, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.pages[page]; ok {
		return t, nil
	}
	t, err := template.New(page).Funcs(parseFuncs).ParseFS(templateFS, "templates/layout.html", "templates/"+page)
	if err != nil {
		return nil, fmt.Errorf("web: parse %s: %w", page, err)
	}
	s.pages[page] = t
	return t, nil
}

// languageLink is one entry of the language switch.
type languageLink struct {
	Tag, Name, Href string
	Current         bool
}

// signedInAs is one registry the session is signed in to.
type signedInAs struct {
	Registry string
	Role     ledger.Role
	OrgID    int64
}

// requestFuncs are the template functions bound to one request: its
// language (text, numbers, dates), its session's CSRF token and sign-ins.
func (s *Site) requestFuncs(r *http.Request, ss *session) template.FuncMap {
	l := siteCatalogue.localizer(siteCatalogue.pick(r))
	here := r.URL.RequestURI()
	return template.FuncMap{
		"t":     l.T,
		"tl":    func(key string, args []any) string { return l.T(key, args...) },
		"tn":    l.TN,
		"tv":    l.Value,
		"tcode": l.Code,
		"jsmessages": func(prefix string) map[string]string {
			out := map[string]string{}
			for _, k := range siteCatalogue.keys {
				if strings.HasPrefix(k, prefix) {
					out[strings.TrimPrefix(k, prefix)] = l.T(k)
				}
			}
			return out
		},
		"demo": func() bool { return s.demo },
		"num":  l.Num,
		"date": l.DateTime,
		"lang": func() string { return l.tag.String() },
		"csrf": func() string { return ss.csrf },
		"here": func() string { return here },
		"languages": func() []languageLink {
			var out []languageLink
			for _, tag := range siteCatalogue.tags {
				out = append(out, languageLink{Tag: tag.String(), Name: siteCatalogue.names[tag], Current: tag == l.tag,
					Href: "/language?" + url.Values{"to": {tag.String()}, "next": {here}}.Encode()})
			}
			return out
		},
		"signedin": func() []signedInAs {
			var out []signedInAs
			for _, c := range s.codes {
				if a := ss.actor(c); a != nil {
					out = append(out, signedInAs{Registry: c, Role: a.Role, OrgID: a.OrgID})
				}
			}
			return out
		},
	}
}

// parseFuncs declare the request functions' names and types for parsing;
// requestFuncs replaces them before every execution.
var parseFuncs = template.FuncMap{
	"t":          func(string, ...any) string { return "" },
	"tl":         func(string, []any) string { return "" },
	"tn":         func(string, int, ...any) string { return "" },
	"tv":         func(string, any) string { return "" },
	"tcode":      func(string) string { return "" },
	"jsmessages": func(string) map[string]string { return nil },
	"demo":       func() bool { return false },
	"num":        func(int64) string { return "" },
	"date":       func(time.Time) string { return "" },
	"lang":       func() string { return "" },
	"csrf":       func() string { return "" },
	"here":       func() string { return "" },
	"languages":  func() []languageLink { return nil },
	"signedin":   func() []signedInAs { return nil },
	"state":      func(m map[ledger.State]int64, s string) int64 { return m[ledger.State(s)] },
	"span":       func(start, end int64) int64 { return end - start + 1 },
	"int64":      func(v int) int64 { return int64(v) },
	"list":       func(v ...string) []string { return v },
}
