// Package web serves Corridor's dashboard: server-rendered html/template pages
// with htmx and Chart.js, every asset embedded (nothing loads from the internet).
package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/numfmt"
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

	mu    sync.Mutex
	pages map[string]*template.Template
}

// New returns a Site showing the given registry nodes.
func New(nodes ...*registry.Node) *Site {
	s := &Site{nodes: map[string]*registry.Node{}, pages: map[string]*template.Template{}}
	for _, n := range nodes {
		s.nodes[n.Code()] = n
		s.codes = append(s.codes, n.Code())
	}
	sort.Strings(s.codes)
	return s
}

// Handler returns the dashboard's routes: pages at / and assets at /static/.
func (s *Site) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.routesRegistry(mux)
	s.routesCBAM(mux)
	s.routesRulebook(mux)
	s.routesLinkage(mux)
	return mux
}

// render executes page (a file name in templates/) inside the layout.
func (s *Site) render(w http.ResponseWriter, r *http.Request, page string, data any) {
	t, err := s.template(page)
	if err == nil {
		var buf bytes.Buffer
		if err = t.ExecuteTemplate(&buf, "layout", data); err == nil {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
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
	t, err := template.New(page).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+page)
	if err != nil {
		return nil, fmt.Errorf("web: parse %s: %w", page, err)
	}
	s.pages[page] = t
	return t, nil
}

var funcs = template.FuncMap{
	"num":   thousands,
	"state": func(m map[ledger.State]int64, s string) int64 { return m[ledger.State(s)] },
	"date":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
}

// thousands renders an integer with comma grouping (1,234,567).
func thousands(v int64) string { return numfmt.Int(v) }
