package web

import (
	"net/http"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

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
	// Country names in the page's language (CLDR through x/text); the
	// dataset's English name where CLDR has none.
	names := display.Regions(siteCatalogue.pick(r))
	for _, c := range corridorOrigins {
		name := cbam.CountryName(c)
		if reg, err := language.ParseRegion(c); err == nil {
			if n := names.Name(reg); n != "" {
				name = n
			}
		}
		page.Origins = append(page.Origins, cbamOrigin{Code: c, Name: name})
	}
	s.render(w, r, "cbam.html", page)
}
