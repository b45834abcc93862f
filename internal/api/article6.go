package api

import (
	"cmp"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/hub"
)

// Article6Reports is what the API reads of the hub's Article 6 ledger
// (*hub.Article6 implements it).
type Article6Reports interface {
	Article6Ledger
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

// NetworkedHubArticle6 is what a networked hub (serve --role hub) that
// keeps no Article 6 ledger answers under /api/v1/article6/: 503
// article6_unavailable, saying why. A networked hub keeps none when no
// agreement of its set has Article 6 terms (no cooperative approach, so
// no unit can be an ITMO); with approaches it reads the nodes' facts over
// /hub/v1/article6 and serves the tables (docs/article6.md). It serves no
// tables rather than empty ones.
func NetworkedHubArticle6() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "86400")
		writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: "article6_unavailable", Title: "Article 6 ledger not available",
			Detail: "This is a networked hub (serve --role hub) that keeps no Article 6 ledger: no agreement of its agreement set has Article 6 terms, so it knows no cooperative approach. " +
				"It serves no Article 6 tables rather than empty ones, and it refuses transfers for purposes ndc, oimp and icc (article6_unavailable). See docs/article6.md."})
	})
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
	sub, table, format, perr := aefParamsOf(r)
	var aef article6.AEF
	done := false
	s.a6read(w, r, []string{"party", "year", "table", "format", "submitted", "version", "ndc_first_year", "ndc_last_year"}, true, func(l *article6.Ledger, party string) error {
		if perr != nil {
			return perr
		}
		sub.Party = party
		var err error
		if aef, err = l.BuildAEF(sub); err != nil {
			return fmt.Errorf("api: AEF of %s for %d: %w", party, sub.Year, err)
		}
		done = true
		return nil
	})
	if !done {
		return
	}
	if table != "" {
		t, ok := aef.Table(strings.ReplaceAll(table, "-", ""))
		if !ok {
			badRequest(w, "table_invalid", "table", "table must be submission, authorizations, actions, holdings or authorized-entities, not "+strconv.Quote(table)+".")
			return
		}
		aef.Tables = []article6.Table{t}
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

// aefParamsOf reads the AEF route's year (required), version,
// ndc_first_year, ndc_last_year, submitted, format and table; the Party is
// parsed against the ledger by a6read.
func aefParamsOf(r *http.Request) (sub article6.Submission, table, format string, err error) {
	q := r.URL.Query()
	sub = article6.Submission{Version: 1, NDCFirstYear: 2021, NDCLastYear: 2030}
	if !q.Has("year") {
		return sub, "", "", &badParam{"missing_parameter", "year", "year is required: the reported year, from 2021."}
	}
	for _, f := range []struct {
		name string
		to   *int
	}{{"year", &sub.Year}, {"ndc_first_year", &sub.NDCFirstYear}, {"ndc_last_year", &sub.NDCLastYear}} {
		v := q.Get(f.name)
		if v == "" && f.name != "year" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 2021 || n > 2100 {
			return sub, "", "", &badParam{"year_invalid", f.name, f.name + " must be a year from 2021 to 2100 (Article 6.2 ITMOs are mitigation from 2021 on), not " + strconv.Quote(v) + "."}
		}
		*f.to = n
	}
	if sub.NDCLastYear < sub.NDCFirstYear {
		return sub, "", "", &badParam{"year_invalid", "ndc_last_year", "ndc_last_year must not be before ndc_first_year."}
	}
	if v := q.Get("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return sub, "", "", &badParam{"version_invalid", "version", "version must be a whole number from 1, not " + strconv.Quote(v) + "."}
		}
		sub.Version = n
	}
	if v := q.Get("submitted"); v != "" {
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return sub, "", "", &badParam{"submitted_invalid", "submitted", "submitted must be a date YYYY-MM-DD, not " + strconv.Quote(v) + "."}
		}
		sub.Date = v
	}
	format = cmp.Or(q.Get("format"), "json")
	if format != "json" && format != "csv" && format != "xlsx" {
		return sub, "", "", &badParam{"format_invalid", "format", "format must be json, csv or xlsx, not " + strconv.Quote(format) + "."}
	}
	table = q.Get("table")
	if table == "" && format == "csv" {
		return sub, "", "", &badParam{"missing_parameter", "table", "a CSV holds one table: give table (submission, authorizations, actions, holdings or authorized-entities)."}
	}
	return sub, table, format, nil
}
