package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/corridor-carbon/corridor/internal/linkage"
)

// maxLinkageRuns bounds the Monte Carlo runs of one request (10,000 runs of
// the default scenario take about 50 ms on one core).
const maxLinkageRuns = 10000

// routesLinkage registers the linkage simulator endpoints.
func (s *Server) routesLinkage(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/linkage/scenarios/default", s.handleLinkageDefault)
	mux.HandleFunc("POST /api/v1/linkage/solve", s.handleLinkageSolve)
}

// linkageSolveRequest is the body of POST /api/v1/linkage/solve.
type linkageSolveRequest struct {
	// Scenario to solve; the shipped corridor scenario when absent.
	Scenario *linkage.Scenario `json:"scenario"`
	// Runs of the Monte Carlo (0: none), deterministic for Seed.
	Runs int    `json:"runs"`
	Seed uint64 `json:"seed"`
}

func (s *Server) handleLinkageDefault(w http.ResponseWriter, r *http.Request) {
	sc, err := linkage.DefaultScenario()
	if err != nil {
		internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sc)
}

func (s *Server) handleLinkageSolve(w http.ResponseWriter, r *http.Request) {
	var req linkageSolveRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	if req.Runs < 0 || req.Runs > maxLinkageRuns {
		badRequest(w, "runs_invalid", "runs", fmt.Sprintf("runs must be between 0 and %d; use `corridor link --runs N` for more.", maxLinkageRuns))
		return
	}
	sc := req.Scenario
	if sc == nil {
		var err error
		if sc, err = linkage.DefaultScenario(); err != nil {
			internalError(w, r, err)
			return
		}
	}
	model, err := linkage.Compile(sc)
	if err != nil {
		linkageProblem(w, r, err)
		return
	}
	solver := linkage.NewSolver(model)
	if err := solver.Solve(); err != nil {
		linkageProblem(w, r, err)
		return
	}
	res := &linkage.Result{}
	solver.Fill(res)
	if res.CBAM, err = linkage.ComputeCBAM(sc, res); err != nil {
		linkageProblem(w, r, err)
		return
	}
	if req.Runs > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		if res.MonteCarlo, err = linkage.MonteCarlo(ctx, model, linkage.MonteCarloParams{Runs: req.Runs, Seed: req.Seed}); err != nil {
			linkageProblem(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, res)
}

// linkageProblem maps linkage errors onto problem documents: scenario faults
// name the field under "scenario.".
func linkageProblem(w http.ResponseWriter, r *http.Request, err error) {
	var ve *linkage.ValidationError
	var fe *linkage.FieldError
	switch {
	case errors.As(err, &ve):
		first := ve.Problems[0]
		badRequest(w, "invalid_scenario", "scenario."+first.Field, ve.Error())
	case errors.As(err, &fe):
		badRequest(w, "invalid_scenario", "scenario."+fe.Field, fe.Error())
	case errors.Is(err, linkage.ErrNoEquilibrium):
		writeProblem(w, Problem{Status: http.StatusUnprocessableEntity, Code: "no_equilibrium", Detail: err.Error()})
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: "timeout", Detail: "The Monte Carlo run took too long; use fewer runs or the CLI."})
	default:
		internalError(w, r, err)
	}
}
