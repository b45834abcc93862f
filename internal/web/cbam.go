package web

import (
	"net/http"

	"github.com/corridor-carbon/corridor/internal/cbam"
)

// routesCBAM registers the CBAM calculator page. The page computes through
// the JSON API (POST /api/v1/cbam/obligations), so its figures are the API's.
func (s *Site) routesCBAM(mux *http.ServeMux) {
	mux.HandleFunc("GET /cbam", s.handleCBAM)
}

type cbamPage struct {
	Origins           []cbamOrigin
	DatasetVersion    string
	DatasetSuperseded string
}

type cbamOrigin struct{ Code, Name string }

// corridorOrigins are the origins the page offers first: China and ASEAN.
var corridorOrigins = []string{"CN", "ID", "VN", "TH", "MY", "SG", "PH", "KH", "LA", "MM", "BN", "IN", "JP", "KR", "TR", "US"}

func (s *Site) handleCBAM(w http.ResponseWriter, r *http.Request) {
	page := cbamPage{}
	if data, err := cbam.Embedded(); err == nil {
		page.DatasetVersion, page.DatasetSuperseded = data.Version(), data.Superseded
	}
	for _, c := range corridorOrigins {
		page.Origins = append(page.Origins, cbamOrigin{Code: c, Name: cbam.CountryName(c)})
	}
	s.render(w, r, "cbam.html", page)
}
