package web

import "net/http"

// routesLinkage registers the linkage pages (owned by the linkage work; filled in there).
func (s *Site) routesLinkage(mux *http.ServeMux) {}
