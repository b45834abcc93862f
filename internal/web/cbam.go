package web

import "net/http"

// routesCBAM registers the cbam pages (owned by the cbam work; filled in there).
func (s *Site) routesCBAM(mux *http.ServeMux) {}
