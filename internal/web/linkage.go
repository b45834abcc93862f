package web

import (
	"net/http"

	"github.com/corridor-carbon/corridor/internal/linkage"
)

// routesLinkage registers the linkage simulator page. The page solves
// through the JSON API (POST /api/v1/linkage/solve) each time a slider moves,
// so its figures are the API's.
func (s *Site) routesLinkage(mux *http.ServeMux) {
	mux.HandleFunc("GET /linkage", s.handleLinkage)
}

type linkagePage struct {
	Scenario string
	Markets  []linkagePageMarket
}

type linkagePageMarket struct{ ID, Name string }

func (s *Site) handleLinkage(w http.ResponseWriter, r *http.Request) {
	page := linkagePage{}
	if sc, err := linkage.DefaultScenario(); err == nil {
		page.Scenario = sc.Name
		for _, m := range sc.Markets {
			page.Markets = append(page.Markets, linkagePageMarket{ID: m.ID, Name: m.Name})
		}
	}
	s.render(w, r, "linkage.html", page)
}
