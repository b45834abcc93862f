package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/article6report"
	"github.com/corridor-carbon/corridor/internal/hub"
)

// Article6Ledger is the hub's Article 6 ledger brought up to date for a
// read (*hub.Article6 implements it): fn runs on it and must not keep it.
type Article6Ledger interface {
	Ledger(ctx context.Context, fn func(*article6.Ledger) error) error
}

// The Article 6 reads are public for the reason the AEF is (see
// handleAEF): the non-confidential information is published.
func (s *Server) routesArticle6Reads(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/article6/authorisations", s.handleA6Authorisations)
	mux.HandleFunc("GET /api/v1/article6/itmos", s.handleA6ITMOs)
	mux.HandleFunc("GET /api/v1/article6/adjustments", s.handleA6Adjustments)
	mux.HandleFunc("GET /api/v1/article6/balances", s.handleA6Balances)
}

// a6read checks the query (only the names allowed, each at most once) and
// runs fn on the ledger with the party parsed against it
// (article6report.ParseParty: case normalised, a Party of an approach);
// it answers the problem itself when it cannot. A route that needs a party
// says so with needParty.
func (s *Server) a6read(w http.ResponseWriter, r *http.Request, allowed []string, needParty bool, fn func(l *article6.Ledger, party string) error) {
	q := r.URL.Query()
	for name, vs := range q {
		if !slices.Contains(allowed, name) {
			badRequest(w, "unknown_parameter", name, "Query parameter "+strconv.Quote(name)+" is not one of this route's: "+strings.Join(allowed, ", ")+".")
			return
		}
		if len(vs) > 1 {
			badRequest(w, "duplicate_parameter", name, "Query parameter "+name+" is given more than once.")
			return
		}
	}
	if needParty && !q.Has("party") {
		badRequest(w, "missing_parameter", "party", "party is required: an ISO 3166-1 alpha-2 code such as ID.")
		return
	}
	l := s.article6Reports()
	if l == nil {
		writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: "article6_unavailable", Detail: "this server has no hub Article 6 ledger"})
		return
	}
	err := l.Ledger(r.Context(), func(l *article6.Ledger) error {
		party := ""
		if q.Has("party") {
			p, err := article6report.ParseParty(l.Config().Approaches, q.Get("party"))
			if err != nil {
				return err
			}
			party = p
		}
		return fn(l, party)
	})
	var pe *article6report.PartyError
	var bp *badParam
	var ae *article6.Error
	var stale *hub.Article6StaleError
	switch {
	case err == nil:
	case errors.As(err, &stale):
		// A networked hub whose node did not answer: no tables from stale
		// facts (the unauthenticated body names the registries only).
		w.Header().Set("Retry-After", "5")
		writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: "article6_stale", Title: "Article 6 facts not up to date",
			Detail: "The hub could not read every registry's Article 6 facts: " + stale.Public() + ". It serves no Article 6 tables from stale facts; retry when the registry answers."})
	case errors.As(err, &pe):
		badRequest(w, pe.Code, "party", pe.Detail+".")
	case errors.As(err, &bp):
		badRequest(w, bp.code, bp.name, bp.detail)
	case errors.As(err, &ae):
		badRequest(w, "article6_refused", ae.Field, ae.Detail+" ("+string(ae.Code)+").")
	default:
		internalError(w, r, err)
	}
}

// badParam is a query parameter refused, with its snake_case code
// (year_invalid, method_invalid, …).
type badParam struct{ code, name, detail string }

func (e *badParam) Error() string { return e.name + ": " + e.detail }

func (s *Server) handleA6Authorisations(w http.ResponseWriter, r *http.Request) {
	s.a6read(w, r, []string{"party"}, false, func(l *article6.Ledger, party string) error {
		out := article6report.Authorisations(l, party)
		if out == nil {
			out = []article6report.Authorisation{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"authorisations": out})
		return nil
	})
}

func (s *Server) handleA6ITMOs(w http.ResponseWriter, r *http.Request) {
	s.a6read(w, r, []string{"party"}, false, func(l *article6.Ledger, party string) error {
		out := article6report.ITMOs(l, party)
		if out == nil {
			out = []article6report.ITMO{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"itmos": out})
		return nil
	})
}

func (s *Server) handleA6Adjustments(w http.ResponseWriter, r *http.Request) {
	s.a6read(w, r, []string{"party"}, false, func(l *article6.Ledger, party string) error {
		out := article6report.Adjustments(l, party)
		if out == nil {
			out = []article6report.Adjustment{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"adjustments": out})
		return nil
	})
}

// balanceMethods are the methods of applying corresponding adjustments
// (article6.Method) the balances route takes.
var balanceMethods = []article6.Method{article6.MultiYearTrajectory, article6.MultiYearBudget, article6.SingleYearTrajectory, article6.SingleYearAveraging}

// balanceParamsOf reads the balances route's period and method
// (defaults: multi-year-trajectory over 2021-2030, target year the last,
// and for averaging the years elapsed as of today: as_of is this year,
// within the period).
func balanceParamsOf(r *http.Request) (article6report.BalanceParams, error) {
	q := r.URL.Query()
	p := article6report.BalanceParams{Method: article6.MultiYearTrajectory, FirstYear: 2021, LastYear: 2030}
	if m := q.Get("method"); m != "" {
		p.Method = article6.Method(m)
		if !slices.Contains(balanceMethods, p.Method) {
			return p, &badParam{"method_invalid", "method", "method must be multi-year-trajectory, multi-year-budget, single-year-trajectory or single-year-averaging, not " + strconv.Quote(m) + "."}
		}
	}
	for _, f := range []struct {
		name string
		to   *int
	}{{"first_year", &p.FirstYear}, {"last_year", &p.LastYear}, {"target_year", &p.TargetYear}, {"as_of", &p.AsOf}} {
		v := q.Get(f.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 2021 || n > 2100 {
			return p, &badParam{"year_invalid", f.name, f.name + " must be a year from 2021 to 2100, not " + strconv.Quote(v) + "."}
		}
		*f.to = n
	}
	if p.LastYear < p.FirstYear {
		return p, &badParam{"year_invalid", "last_year", "last_year must not be before first_year."}
	}
	if p.TargetYear == 0 {
		p.TargetYear = p.LastYear
	}
	if p.TargetYear < p.FirstYear || p.TargetYear > p.LastYear {
		return p, &badParam{"year_invalid", "target_year", "target_year must be within first_year to last_year."}
	}
	if p.AsOf == 0 {
		p.AsOf = min(max(time.Now().UTC().Year(), p.FirstYear), p.LastYear)
	}
	if p.AsOf < p.FirstYear {
		return p, &badParam{"year_invalid", "as_of", "as_of must not be before first_year: averaging divides by the years of the period elapsed as of that year."}
	}
	return p, nil
}

// handleA6Balances serves each Party's emissions balance per year: the
// corresponding adjustments per year under the chosen method. The ledger
// holds no inventory, so the balance is the adjustment to be applied to
// the Party's reported emissions.
func (s *Server) handleA6Balances(w http.ResponseWriter, r *http.Request) {
	p, perr := balanceParamsOf(r)
	s.a6read(w, r, []string{"party", "method", "first_year", "last_year", "target_year", "as_of"}, false, func(l *article6.Ledger, party string) error {
		if perr != nil {
			return perr
		}
		if party != "" {
			p.Parties = []string{party}
		}
		out, err := article6report.Balances(l, p)
		if err != nil {
			return err
		}
		if out == nil {
			out = []article6report.Balance{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"balances": out, "emissions": "not reported: the hub's ledger holds corresponding adjustments, not inventories"})
		return nil
	})
}
