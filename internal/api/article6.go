package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/hub"
)

// Article6Reports is what the API reads of the hub's Article 6 ledger
// (*hub.Article6 implements it).
type Article6Reports interface {
	AEF(ctx context.Context, sub article6.Submission) (article6.AEF, error)
}

// WithArticle6 gives the server the hub's Article 6 ledger. Without it the
// ledger of the embedded corridor given with WithLink is used, if it keeps
// one; else the Article 6 reads answer 503 article6_unavailable.
func (s *Server) WithArticle6(r Article6Reports) *Server {
	s.article6 = r
	return s
}

// article6Reports is the ledger given with WithArticle6, else the one of
// the embedded corridor given with WithLink, else nil.
func (s *Server) article6Reports() Article6Reports {
	if s.article6 != nil {
		return s.article6
	}
	if c, ok := s.link.(*hub.Corridor); ok && c.Article6() != nil {
		return c.Article6()
	}
	return nil
}

func (s *Server) routesArticle6(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/article6/aef", s.handleAEF)
}

// handleAEF serves a Party's AEF for a year: ?party=TH&year=2026, optional
// table (one of the five), format json (default), csv (needs a table) or
// xlsx, submitted (YYYY-MM-DD), version, ndc_first_year, ndc_last_year.
// The AEF is the reporting of decision 2/CMA.3, annex, chapter IV
// ("Reporting", so named in decision 6/CMA.4, para. 28,
// FCCC/PA/CMA/2022/10/Add.2), whose non-confidential part is published
// (same, para. 28, citing 2/CMA.3, annex, para. 24), so no token is needed.
func (s *Server) handleAEF(w http.ResponseWriter, r *http.Request) {
	reports := s.article6Reports()
	if reports == nil {
		writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: "article6_unavailable", Detail: "this server has no hub Article 6 ledger"})
		return
	}
	q := r.URL.Query()
	num := func(name string, def int) (int, bool) {
		v := q.Get(name)
		if v == "" {
			return def, true
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			badRequest(w, "invalid_request", name, name+" must be an integer")
			return 0, false
		}
		return n, true
	}
	year, ok := num("year", 0)
	if !ok {
		return
	}
	version, ok := num("version", 1)
	if !ok {
		return
	}
	first, ok := num("ndc_first_year", 2021)
	if !ok {
		return
	}
	last, ok := num("ndc_last_year", 2030)
	if !ok {
		return
	}
	format := q.Get("format")
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "csv" && format != "xlsx" {
		badRequest(w, "invalid_request", "format", "format must be json, csv or xlsx")
		return
	}
	aef, err := reports.AEF(r.Context(), article6.Submission{Party: q.Get("party"), Version: version, Year: year, Date: q.Get("submitted"), NDCFirstYear: first, NDCLastYear: last})
	if err != nil {
		var e *article6.Error
		if errors.As(err, &e) {
			badRequest(w, string(e.Code), e.Field, e.Detail)
			return
		}
		internalError(w, r, err)
		return
	}
	if name := q.Get("table"); name != "" {
		t, ok := aef.Table(strings.ReplaceAll(name, "-", ""))
		if !ok {
			badRequest(w, "invalid_request", "table", "table must be submission, authorizations, actions, holdings or authorized-entities")
			return
		}
		aef.Tables = []article6.Table{t}
	} else if format == "csv" {
		badRequest(w, "invalid_request", "table", "a CSV holds one table: give table")
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch format {
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		_ = aef.Tables[0].WriteCSV(w)
	case "xlsx":
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		_ = aef.WriteXLSX(w)
	default:
		writeJSON(w, http.StatusOK, aef)
	}
}
