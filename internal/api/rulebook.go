package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/corridor-carbon/corridor/internal/rulebook"
)

// routesRulebook registers the rulebook endpoints, all read-only except the
// eligibility decision (a pure calculation). They serve the rulebook embedded
// in the binary; its version is in every response.
func (s *Server) routesRulebook(mux *http.ServeMux) {
	h := rulebookHandlers{}
	mux.HandleFunc("GET /api/v1/rulebook", h.with(h.summary))
	mux.HandleFunc("GET /api/v1/rulebook/sources", h.with(h.sources))
	mux.HandleFunc("GET /api/v1/rulebook/jurisdictions", h.with(h.jurisdictions))
	mux.HandleFunc("GET /api/v1/rulebook/jurisdictions/{code}", h.with(h.jurisdiction))
	mux.HandleFunc("GET /api/v1/rulebook/programmes", h.with(h.programmes))
	mux.HandleFunc("GET /api/v1/rulebook/instruments", h.with(h.instruments))
	mux.HandleFunc("GET /api/v1/rulebook/schemes", h.with(h.schemes))
	mux.HandleFunc("GET /api/v1/rulebook/schemes/{id}", h.with(h.scheme))
	mux.HandleFunc("GET /api/v1/rulebook/methodologies", h.with(h.methodologies))
	mux.HandleFunc("GET /api/v1/rulebook/recognition", h.with(h.recognition))
	mux.HandleFunc("GET /api/v1/rulebook/mrv", h.with(h.mrv))
	mux.HandleFunc("POST /api/v1/rulebook/eligibility", h.with(h.eligibility))
}

type rulebookHandlers struct{}

// with loads the embedded rulebook (once per process) and passes it on; a
// rulebook that fails validation is a server fault, logged, never shown.
func (rulebookHandlers) with(next func(http.ResponseWriter, *http.Request, *rulebook.Rulebook)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rb, err := rulebook.Default()
		if err != nil {
			internalError(w, r, err)
			return
		}
		next(w, r, rb)
	}
}

// rulebookListResponse wraps every list with the rulebook version it came from.
type rulebookListResponse[T any] struct {
	RulebookVersion string `json:"rulebook_version"`
	Items           []T    `json:"items"`
}

func rulebookList[T any](rb *rulebook.Rulebook, items []T) rulebookListResponse[T] {
	if items == nil {
		items = []T{}
	}
	return rulebookListResponse[T]{RulebookVersion: rb.Version(), Items: items}
}

type rulebookSummary struct {
	RulebookVersion string            `json:"rulebook_version"`
	Files           map[string]string `json:"files"`
	Counts          map[string]int    `json:"counts"`
	MatrixSectors   []string          `json:"matrix_sectors"`
	MRVSectors      []string          `json:"mrv_sectors"`
	Links           map[string]string `json:"links"`
}

func (rulebookHandlers) summary(w http.ResponseWriter, r *http.Request, rb *rulebook.Rulebook) {
	rules := len(rb.GlobalRules())
	for _, s := range rb.Schemes("") {
		rules += len(s.Rules)
	}
	writeJSON(w, http.StatusOK, rulebookSummary{
		RulebookVersion: rb.Version(),
		Files:           rb.Versions,
		Counts: map[string]int{
			"jurisdictions": len(rb.Jurisdictions()), "programmes": len(rb.Programmes()), "instruments": len(rb.Instruments("")),
			"schemes": len(rb.Schemes("")), "rules": rules, "methodologies": len(rb.Methodologies("", "")), "sources": len(rb.Sources()),
		},
		MatrixSectors: rb.MatrixSectors(),
		MRVSectors:    rb.MRVSectors(),
		Links: map[string]string{
			"jurisdictions": "/api/v1/rulebook/jurisdictions", "programmes": "/api/v1/rulebook/programmes",
			"instruments": "/api/v1/rulebook/instruments", "schemes": "/api/v1/rulebook/schemes",
			"methodologies": "/api/v1/rulebook/methodologies", "recognition": "/api/v1/rulebook/recognition?sector=power",
			"mrv": "/api/v1/rulebook/mrv?sector=steel", "sources": "/api/v1/rulebook/sources",
			"eligibility": "POST /api/v1/rulebook/eligibility",
		},
	})
}

func (rulebookHandlers) sources(w http.ResponseWriter, r *http.Request, rb *rulebook.Rulebook) {
	writeJSON(w, http.StatusOK, rulebookList(rb, rb.Sources()))
}

func (rulebookHandlers) jurisdictions(w http.ResponseWriter, r *http.Request, rb *rulebook.Rulebook) {
	writeJSON(w, http.StatusOK, rulebookList(rb, rb.Jurisdictions()))
}

type jurisdictionDetail struct {
	RulebookVersion string `json:"rulebook_version"`
	rulebook.Jurisdiction
	Instruments []rulebook.Instrument `json:"instruments"`
	Schemes     []rulebook.Scheme     `json:"schemes"`
}

func (rulebookHandlers) jurisdiction(w http.ResponseWriter, r *http.Request, rb *rulebook.Rulebook) {
	code := r.PathValue("code")
	j, ok := rb.Jurisdiction(code)
	if !ok {
		rulebookNotFound(w, "code", fmt.Sprintf("No jurisdiction %q; GET /api/v1/rulebook/jurisdictions lists them.", code))
		return
	}
	writeJSON(w, http.StatusOK, jurisdictionDetail{
		RulebookVersion: rb.Version(), Jurisdiction: j,
		Instruments: rulebookNonNil(rb.Instruments(j.Code)), Schemes: rulebookNonNil(rb.Schemes(j.Code)),
	})
}

func (rulebookHandlers) programmes(w http.ResponseWriter, r *http.Request, rb *rulebook.Rulebook) {
	writeJSON(w, http.StatusOK, rulebookList(rb, rb.Programmes()))
}

func (rulebookHandlers) instruments(w http.ResponseWriter, r *http.Request, rb *rulebook.Rulebook) {
	j, ok := rulebookJurisdictionParam(w, r, rb)
	if ok {
		writeJSON(w, http.StatusOK, rulebookList(rb, rb.Instruments(j)))
	}
}

func (rulebookHandlers) schemes(w http.ResponseWriter, r *http.Request, rb *rulebook.Rulebook) {
	j, ok := rulebookJurisdictionParam(w, r, rb)
	if ok {
		writeJSON(w, http.StatusOK, rulebookList(rb, rb.Schemes(j)))
	}
}

type schemeDetail struct {
	RulebookVersion string `json:"rulebook_version"`
	rulebook.Scheme
	// GlobalRules apply to every scheme (registry locks, Article 6, host export rules).
	GlobalRules []rulebook.Rule `json:"global_rules"`
}

func (rulebookHandlers) scheme(w http.ResponseWriter, r *http.Request, rb *rulebook.Rulebook) {
	id := r.PathValue("id")
	s, ok := rb.Scheme(id)
	if !ok {
		rulebookNotFound(w, "id", fmt.Sprintf("No scheme %q; GET /api/v1/rulebook/schemes lists them.", id))
		return
	}
	writeJSON(w, http.StatusOK, schemeDetail{RulebookVersion: rb.Version(), Scheme: s, GlobalRules: rb.GlobalRules()})
}

func (rulebookHandlers) methodologies(w http.ResponseWriter, r *http.Request, rb *rulebook.Rulebook) {
	q := r.URL.Query()
	writeJSON(w, http.StatusOK, rulebookList(rb, rb.Methodologies(q.Get("programme"), q.Get("sector"))))
}

type recognitionResponse struct {
	RulebookVersion string `json:"rulebook_version"`
	rulebook.Matrix
}

type recognitionPairResponse struct {
	RulebookVersion string              `json:"rulebook_version"`
	Sector          string              `json:"sector"`
	Cell            rulebook.MatrixCell `json:"cell"`
}

// recognition serves the matrix of one sector, or one pair with ?a=&b=.
func (rulebookHandlers) recognition(w http.ResponseWriter, r *http.Request, rb *rulebook.Rulebook) {
	q := r.URL.Query()
	sector := q.Get("sector")
	if sector == "" {
		badRequest(w, "missing_parameter", "sector", "Give ?sector= (one of "+strings.Join(rb.MatrixSectors(), ", ")+").")
		return
	}
	if a, b := q.Get("a"), q.Get("b"); a != "" || b != "" {
		cell, err := rb.Recognition(a, b, sector)
		if err != nil {
			rulebookInputError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, recognitionPairResponse{RulebookVersion: rb.Version(), Sector: strings.ToLower(sector), Cell: cell})
		return
	}
	m, err := rb.RecognitionMatrix(sector)
	if err != nil {
		rulebookInputError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, recognitionResponse{RulebookVersion: rb.Version(), Matrix: m})
}

type mrvResponse struct {
	RulebookVersion string `json:"rulebook_version"`
	rulebook.MRVTable
}

func (rulebookHandlers) mrv(w http.ResponseWriter, r *http.Request, rb *rulebook.Rulebook) {
	sector := r.URL.Query().Get("sector")
	if sector == "" {
		badRequest(w, "missing_parameter", "sector", "Give ?sector= (one of "+strings.Join(rb.MRVSectors(), ", ")+").")
		return
	}
	t, err := rb.MRVComparison(sector)
	if err != nil {
		rulebookInputError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, mrvResponse{RulebookVersion: rb.Version(), MRVTable: t})
}

func (rulebookHandlers) eligibility(w http.ResponseWriter, r *http.Request, rb *rulebook.Rulebook) {
	var req rulebook.EligibilityRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	d, err := rb.Eligibility(req)
	if err != nil {
		rulebookInputError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// rulebookInputError maps a *rulebook.InputError to a 400 naming the field;
// anything else is a server fault.
func rulebookInputError(w http.ResponseWriter, r *http.Request, err error) {
	var ie *rulebook.InputError
	if errors.As(err, &ie) {
		badRequest(w, "invalid_field", ie.Field, ie.Problem)
		return
	}
	internalError(w, r, err)
}

func rulebookJurisdictionParam(w http.ResponseWriter, r *http.Request, rb *rulebook.Rulebook) (string, bool) {
	j := r.URL.Query().Get("jurisdiction")
	if j == "" {
		return "", true
	}
	if _, ok := rb.Jurisdiction(j); !ok {
		badRequest(w, "invalid_field", "jurisdiction", fmt.Sprintf("Unknown jurisdiction %q.", j))
		return "", false
	}
	return j, true
}

func rulebookNotFound(w http.ResponseWriter, field, detail string) {
	writeProblem(w, Problem{Status: http.StatusNotFound, Code: "not_found", Field: field, Detail: detail})
}

func rulebookNonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
