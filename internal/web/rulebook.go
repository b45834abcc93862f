package web

import "net/http"

// routesRulebook registers the rulebook pages (owned by the rulebook work; filled in there).
func (s *Site) routesRulebook(mux *http.ServeMux) {}
