package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/corridor-carbon/corridor/internal/cbam"
	"github.com/shopspring/decimal"
)

// maxObligationLines bounds one request; larger files go through the CLI's
// streaming run.
const maxObligationLines = 5000

// routesCBAM registers the CBAM endpoints. They use the dataset embedded in
// the binary (its version is in every response).
func (s *Server) routesCBAM(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/cbam/obligations", s.handleCBAMObligations)
	mux.HandleFunc("GET /api/v1/cbam/defaults", s.handleCBAMDefaults)
	mux.HandleFunc("GET /api/v1/cbam/factors", s.handleCBAMFactors)
	mux.HandleFunc("GET /api/v1/cbam/dataset", s.handleCBAMDataset)
}

type obligationsRequest struct {
	Lines []cbam.Line `json:"lines"`
	// Projection adds each line's 2026–2034 projection.
	Projection bool `json:"projection"`
	// DomesticCarbonPrice adds a what-if per line: the saving from this
	// domestic or linked carbon price.
	DomesticCarbonPrice *cbam.CarbonPricePaid `json:"domestic_carbon_price"`
	// Prices is the caller's table of 2026 quarterly certificate prices; it
	// takes precedence over the built-in table (which lacks 2026-Q3/Q4).
	Prices []userPrice `json:"prices"`
}

type userPrice struct {
	Period string          `json:"period"`
	Price  decimal.Decimal `json:"price"`
}

type obligationsResponse struct {
	DatasetVersion    string            `json:"dataset_version"`
	DatasetSuperseded string            `json:"dataset_superseded,omitempty"`
	Lines             []cbam.LineResult `json:"lines"`
	Declaration       []cbam.YearTotals `json:"declaration"`
	Projections       []cbam.Projection `json:"projections,omitempty"`
	WhatIf            []cbam.WhatIf     `json:"what_if,omitempty"`
	Rounding          string            `json:"rounding"`
}

// roundingNote is repeated in responses so that nobody has to guess.
const roundingNote = "All figures exact decimals (strings), no intermediate rounding. certificates per line are exact; " +
	"declaration.certificates_to_surrender rounds the year's total up to whole certificates, and declaration.cost_eur is the cost of those whole certificates " +
	"(declaration.cost_eur_exact_certificates that of the exact total); euros are rounded half-up to the cent."

func (s *Server) handleCBAMObligations(w http.ResponseWriter, r *http.Request) {
	var req obligationsRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	if len(req.Lines) == 0 {
		badRequest(w, "no_lines", "lines", "Give at least one import line.")
		return
	}
	if len(req.Lines) > maxObligationLines {
		badRequest(w, "too_many_lines", "lines", fmt.Sprintf("At most %d lines per request; use `corridor cbam --file` for larger files.", maxObligationLines))
		return
	}
	data, err := cbam.Embedded()
	if err != nil {
		internalError(w, r, err)
		return
	}
	params := cbam.Params{}
	if len(req.Prices) > 0 {
		params.Prices, params.PriceSource = map[cbam.PricePeriod]decimal.Decimal{}, "caller's prices"
		for i, p := range req.Prices {
			field := fmt.Sprintf("prices[%d]", i)
			per, err := cbam.ParsePricePeriod(p.Period)
			if err != nil {
				badRequest(w, "invalid_price", field+".period", capitalise(err.Error())+".")
				return
			}
			if !p.Price.IsPositive() {
				badRequest(w, "invalid_price", field+".price", "A certificate price must be a positive number of euros.")
				return
			}
			if _, dup := params.Prices[per]; dup {
				badRequest(w, "invalid_price", field+".period", fmt.Sprintf("Period %s is given twice.", per))
				return
			}
			params.Prices[per] = p.Price
		}
	}
	calc := cbam.NewCalculator(data, params)
	resp := obligationsResponse{DatasetVersion: data.Version(), DatasetSuperseded: data.Superseded, Rounding: roundingNote}
	decl := cbam.NewDeclaration()
	for i, l := range req.Lines {
		res, err := calc.Obligation(l)
		if err != nil {
			cbamProblem(w, fmt.Sprintf("lines[%d]", i), err)
			return
		}
		decl.Add(res)
		resp.Lines = append(resp.Lines, res)
		if req.Projection {
			p, err := calc.Project(l)
			if err != nil {
				cbamProblem(w, fmt.Sprintf("lines[%d]", i), err)
				return
			}
			resp.Projections = append(resp.Projections, p)
		}
		if req.DomesticCarbonPrice != nil {
			wi, err := calc.WhatIf(l, *req.DomesticCarbonPrice)
			if err != nil {
				var ie *cbam.InputError
				if errors.As(err, &ie) && strings.HasPrefix(ie.Field, "carbon_price_paid") {
					ie.Field = "domestic_carbon_price" + strings.TrimPrefix(ie.Field, "carbon_price_paid")
					cbamProblem(w, "", ie)
					return
				}
				cbamProblem(w, fmt.Sprintf("lines[%d]", i), err)
				return
			}
			resp.WhatIf = append(resp.WhatIf, wi)
		}
	}
	resp.Declaration = decl.Years()
	writeJSON(w, http.StatusOK, resp)
}

// cbamProblem maps a cbam error to a 400 naming the field (prefix + the
// calculator's field) with a stable code.
func cbamProblem(w http.ResponseWriter, prefix string, err error) {
	field := prefix
	var ie *cbam.InputError
	if errors.As(err, &ie) {
		if field != "" {
			field += "."
		}
		field += ie.Field
	}
	code := "invalid_line"
	switch {
	case errors.Is(err, cbam.ErrUnknownCN):
		code = "unknown_cn_code"
	case errors.Is(err, cbam.ErrUnknownCountry):
		code = "unknown_country"
	case errors.Is(err, cbam.ErrOriginInEU), errors.Is(err, cbam.ErrOriginExempt):
		code = "origin_not_covered"
	case errors.Is(err, cbam.ErrYearBeforeDefinitive):
		code = "year_before_definitive_period"
	case errors.Is(err, cbam.ErrYearBeyondRules):
		code = "year_out_of_range"
	case errors.Is(err, cbam.ErrTonnesOutOfRange):
		code = "tonnes_out_of_range"
	case errors.Is(err, cbam.ErrUnknownRoute):
		code = "route_unknown"
	case errors.Is(err, cbam.ErrMalformedDefault):
		code = "dataset_row_malformed"
	case errors.Is(err, cbam.ErrAmbiguousGood), errors.Is(err, cbam.ErrRouteRequired), errors.Is(err, cbam.ErrRouteMismatch):
		code = "route_required"
	case errors.Is(err, cbam.ErrNoDefaultValue), errors.Is(err, cbam.ErrNoBenchmark):
		code = "no_dataset_value"
	case strings.HasSuffix(field, "tonnes") || strings.HasSuffix(field, "tonnes_per_tonne"):
		code = "negative_tonnage"
	}
	detail := strings.TrimPrefix(err.Error(), "cbam: ")
	if ie != nil {
		detail = ie.Err.Error()
	}
	badRequest(w, code, field, capitalise(detail)+".")
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

type defaultsResponse struct {
	DatasetVersion    string                `json:"dataset_version"`
	DatasetSuperseded string                `json:"dataset_superseded,omitempty"`
	Origin            string                `json:"origin"`
	CN                string                `json:"cn"`
	MatchedCN         string                `json:"matched_cn"`
	Country           string                `json:"country"`
	Fallback          bool                  `json:"fallback"`
	FallbackReason    string                `json:"fallback_reason,omitempty"`
	Description       string                `json:"description"`
	Line              int                   `json:"line"`
	Direct            decimal.Decimal       `json:"direct"`
	Indirect          decimal.Decimal       `json:"indirect"`
	Total             decimal.Decimal       `json:"total"`
	WithMarkUp        map[string]string     `json:"with_mark_up"`
	Route             string                `json:"route,omitempty"`
	Benchmark         *cbam.BenchmarkChoice `json:"benchmark_b,omitempty"`
	BenchmarkError    string                `json:"benchmark_error,omitempty"`
}

func (s *Server) handleCBAMDefaults(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	origin, cn, route := q.Get("origin"), strings.ReplaceAll(q.Get("cn"), " ", ""), strings.ToUpper(q.Get("route"))
	if origin == "" {
		badRequest(w, "missing_parameter", "origin", "Give origin, an ISO 3166-1 alpha-2 country code.")
		return
	}
	if cn == "" {
		badRequest(w, "missing_parameter", "cn", "Give cn, an 8-digit CN code.")
		return
	}
	code, err := cbam.CountryCode(origin)
	if err != nil {
		cbamProblem(w, "", &cbam.InputError{Field: "origin", Err: err})
		return
	}
	data, err := cbam.Embedded()
	if err != nil {
		internalError(w, r, err)
		return
	}
	m, err := data.LookupDefault(code, cn, route)
	if err != nil {
		field := "cn"
		switch {
		case errors.Is(err, cbam.ErrOriginInEU), errors.Is(err, cbam.ErrOriginExempt), errors.Is(err, cbam.ErrUnknownCountry):
			field = "origin"
		case errors.Is(err, cbam.ErrAmbiguousGood), errors.Is(err, cbam.ErrRouteMismatch):
			field = "route"
		}
		cbamProblem(w, "", &cbam.InputError{Field: field, Err: err})
		return
	}
	resp := defaultsResponse{
		DatasetVersion: data.Version(), DatasetSuperseded: data.Superseded, Origin: code, CN: cn, MatchedCN: m.MatchedCN, Country: m.Row.Country,
		Fallback: m.Fallback, FallbackReason: m.FallbackReason, Description: m.Row.Description, Line: m.Row.Line,
		Direct: m.Row.Direct, Indirect: m.Row.Indirect, Total: m.Row.Total, Route: m.Row.Route,
		WithMarkUp: map[string]string{},
	}
	// SEE with default values per year = total × (1 + mark-up of the year)
	// (IR (EU) 2026/1740), shown for 2026–2028 as the old columns were.
	sector, _ := cbam.SectorOfCN(cn)
	for y := 2026; y <= 2028; y++ {
		if mu, err := cbam.DefaultValueMarkUp(sector, y); err == nil {
			resp.WithMarkUp[fmt.Sprint(y)] = m.Row.Total.Mul(decimal.NewFromInt(1).Add(mu)).String()
		}
	}
	bmRoute := m.Row.Route
	if bmRoute == "" {
		bmRoute = route
	}
	if b, err := data.BenchmarkB(cn, bmRoute); err == nil {
		resp.Benchmark = &b
	} else {
		resp.BenchmarkError = err.Error()
	}
	writeJSON(w, http.StatusOK, resp)
}

type factorYear struct {
	Year             int             `json:"year"`
	CBAMFactor       decimal.Decimal `json:"cbam_factor"`
	CSCF             decimal.Decimal `json:"cscf"`
	CSCFAssumed      bool            `json:"cscf_assumed"`
	MarkUp           decimal.Decimal `json:"mark_up"`
	MarkUpFertiliser decimal.Decimal `json:"mark_up_fertilisers"`
}

func (s *Server) handleCBAMFactors(w http.ResponseWriter, r *http.Request) {
	var years []factorYear
	for y := cbam.ProjectionFirstYear; y <= cbam.ProjectionLastYear; y++ {
		f, _ := cbam.RetainedFreeAllocationShare(y)
		m, _ := cbam.DefaultValueMarkUp(cbam.SectorIronSteel, y)
		mf, _ := cbam.DefaultValueMarkUp(cbam.SectorFertilisers, y)
		years = append(years, factorYear{Year: y, CBAMFactor: f, CSCF: cbam.CSCF(y), CSCFAssumed: cbam.CSCFIsAssumed(y), MarkUp: m, MarkUpFertiliser: mf})
	}
	prices := cbam.EmbeddedPrices().Rows()
	writeJSON(w, http.StatusOK, map[string]any{
		"years":              years,
		"certificate_prices": prices,
		"de_minimis_tonnes":  cbam.DeMinimisTonnes,
		"sources": map[string]string{
			"cbam_factor": "Directive 2003/87/EC Art. 10a(1a) as amended by Directive (EU) 2023/959; Reg. (EU) 2023/956 Art. 31",
			"mark_up":     "Implementing Regulation (EU) 2025/2621 (10 % 2026, 20 % 2027, 30 % from 2028; fertilisers 1 %), applied to the total default value (Annex I as replaced by IR (EU) 2026/1740)",
			"cscf":        "1 for 2026–2030; from 2031 not published (assumed 1)",
			"de_minimis":  "Reg. (EU) 2023/956 Art. 2a (Reg. (EU) 2025/2083)",
			"prices":      "Commission publications of the quarterly CBAM certificate price for 2026 (IR (EU) 2025/2548); each row has its status (published, unverified, unknown) and source",
		},
	})
}

func (s *Server) handleCBAMDataset(w http.ResponseWriter, r *http.Request) {
	data, err := cbam.Embedded()
	if err != nil {
		internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"version":               data.Version(),
		"layout":                data.Layout,
		"superseded":            data.Superseded,
		"default_values_file":   data.DefaultValuesFile,
		"benchmarks_file":       data.BenchmarksFile,
		"default_values_loaded": data.DefaultValueCount(),
		"benchmarks_loaded":     data.BenchmarkCount(),
		"malformed_rows":        data.Malformed,
		"notes":                 data.Notes,
		"countries_with_rows":   data.Countries(),
	})
}
