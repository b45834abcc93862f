package api

import "net/http"

// routesLinkage registers the linkage endpoints (owned by the linkage work; filled in there).
func (s *Server) routesLinkage(mux *http.ServeMux) {}
