package web

import (
	"maps"
	"net/http"
	"slices"

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
	// Rates are the scenario's exchange rates with their provenance, so a
	// reader sees which series converts the prices and whether its
	// figures were checked.
	RatesSeries string
	RatesYear   int
	Rates       []linkagePageRate
}

type linkagePageRate struct {
	Currency   string
	PerEUR     float64
	Assumption bool
	Source     string
}

type linkagePageMarket struct{ ID, Name string }

func (s *Site) handleLinkage(w http.ResponseWriter, r *http.Request) {
	page := linkagePage{}
	if sc, err := linkage.DefaultScenario(); err == nil {
		page.Scenario = sc.Name
		for _, m := range sc.Markets {
			page.Markets = append(page.Markets, linkagePageMarket{ID: m.ID, Name: m.Name})
		}
		if fx := sc.ExchangeRates; fx != nil {
			page.RatesSeries, page.RatesYear = fx.Series, fx.Year
			for _, code := range slices.Sorted(maps.Keys(fx.Rates)) {
				r := fx.Rates[code]
				src := r.Source
				if r.Assumption {
					src = r.Note
				}
				page.Rates = append(page.Rates, linkagePageRate{Currency: code, PerEUR: r.Value, Assumption: r.Assumption, Source: src})
			}
		}
	}
	s.render(w, r, "linkage.html", page)
}
