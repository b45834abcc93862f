package api

import "net/http"

// routesCBAM registers the cbam endpoints (owned by the cbam work; filled in there).
func (s *Server) routesCBAM(mux *http.ServeMux) {}
