// Package api serves Corridor's HTTP JSON API under /api/v1: routes on the
// standard ServeMux, problem+json errors, token authentication and the OpenAPI document.
package api

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
	"sync"

	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// Server holds what the handlers need. It has no package-level state, so a
// process can run several.
type Server struct {
	nodes   map[string]*registry.Node
	codes   []string
	metrics *metrics
	// link is the corridor (nil: a server outside any corridor).
	link hub.Link
	// article6 is the hub's Article 6 ledger (article6.go); nil: none.
	article6 Article6Reports
	// hubLink is a networked node's hub link status (health.go); nil: none.
	hubLink HubLinkReporter

	openapiOnce sync.Once
	openapi     []byte
	openapiErr  error
}

// New returns a Server for the given registry nodes (none for a server that
// only calculates).
func New(nodes ...*registry.Node) *Server {
	s := &Server{nodes: map[string]*registry.Node{}, metrics: newMetrics()}
	for _, n := range nodes {
		s.nodes[n.Code()] = n
		s.codes = append(s.codes, n.Code())
	}
	sort.Strings(s.codes)
	s.metrics.reg.MustRegister(nodeCollector{s})
	return s
}

// Handler returns the API's routes, rooted at /api/v1/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/openapi.json", s.handleOpenAPI)
	s.routesRegistry(mux)
	s.routesCBAM(mux)
	s.routesMRV(mux)
	s.routesRulebook(mux)
	s.routesLinkage(mux)
	s.routesCorridor(mux)
	s.routesArticle6(mux)
	s.routesArticle6Reads(mux)
	mux.HandleFunc("/api/", unmatched(mux, "/api/"))
	return withDeadline(s.instrument(mux, guardQueries(mux, mux)))
}

//go:embed openapi/*.json
var openapiFragments embed.FS

// handleOpenAPI serves the OpenAPI 3.1 document, merged from one fragment per
// domain (openapi/*.json): each fragment contributes paths and component schemas.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	s.openapiOnce.Do(func() { s.openapi, s.openapiErr = MergeOpenAPI(openapiFragments) })
	if s.openapiErr != nil {
		internalError(w, r, s.openapiErr)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.openapi)
}

// MergeOpenAPI merges the fragments in fsys (openapi/*.json) into one document.
// The fragment named base.json supplies the top-level fields.
func MergeOpenAPI(fsys fs.FS) ([]byte, error) {
	names, err := fs.Glob(fsys, "openapi/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	doc := map[string]any{}
	paths := map[string]any{}
	schemas := map[string]any{}
	for _, name := range names {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var frag map[string]any
		if err := json.Unmarshal(raw, &frag); err != nil {
			return nil, fmt.Errorf("api: openapi fragment %s: %w", name, err)
		}
		for k, v := range frag {
			switch k {
			case "paths":
				for p, item := range v.(map[string]any) {
					if _, dup := paths[p]; dup {
						return nil, fmt.Errorf("api: openapi path %s defined twice (%s)", p, name)
					}
					paths[p] = item
				}
			case "components":
				comps, _ := v.(map[string]any)
				for sk, sv := range comps {
					if sk != "schemas" {
						doc["components"] = mergeMap(doc["components"], map[string]any{sk: sv})
						continue
					}
					for n, sch := range sv.(map[string]any) {
						schemas[n] = sch
					}
				}
			default:
				doc[k] = v
			}
		}
	}
	doc["paths"] = paths
	comps, _ := doc["components"].(map[string]any)
	if comps == nil {
		comps = map[string]any{}
	}
	comps["schemas"] = schemas
	doc["components"] = comps
	return json.MarshalIndent(doc, "", "  ")
}

func mergeMap(a any, b map[string]any) map[string]any {
	m, _ := a.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}
