package api

import "net/http"

// routesRulebook registers the rulebook endpoints (owned by the rulebook work; filled in there).
func (s *Server) routesRulebook(mux *http.ServeMux) {}
