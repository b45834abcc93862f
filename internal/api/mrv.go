package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/corridor-carbon/corridor/internal/mrv"
	"github.com/corridor-carbon/corridor/internal/strictjson"
)

// routesMRV registers the MRV endpoint: an installation's monitoring data in,
// its emissions, their attribution to goods and the China-ETS-style and
// CBAM-style reports with their differences out.
func (s *Server) routesMRV(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/mrv/report", s.handleMRVReport)
}

type mrvReportResponse struct {
	Emissions mrv.Result `json:"emissions"`
	mrv.Comparison
	Units string `json:"units"`
}

// mrvUnits is repeated in every response so that nobody has to guess.
const mrvUnits = "Emissions in tCO2e, specific embedded emissions (see_*) in tCO2e per tonne of good, decimals as strings; rounding as stated in emissions.rounding. " +
	"Calculation-based Em = AD × EF × OF with AD = quantity × NCV for fuels; mass balance Em = Σ ± quantity × carbon content × 3.664; " +
	"PFCs by the slope method with GWP CF4 6630, C2F6 11100; indirect = MWh × factor."

// handleMRVReport reads the body as every write does: JSON with
// Content-Type application/json (415 otherwise) decoded strictly (a key
// given twice, an unknown or miscased field, data after the object or a
// body that is not an object are refused with strictjson's codes). YAML is
// for the CLI's files (corridor mrv), not the API.
func (s *Server) handleMRVReport(w http.ResponseWriter, r *http.Request) {
	raw, ok := readBody(w, r, false)
	if !ok {
		return
	}
	var inst mrv.Installation
	if err := strictjson.Decode(raw, &inst); err != nil {
		bodyProblem(w, err) // names the field down to the list index (streams[1].ef)
		return
	}
	if !requireFields(w, r, raw) {
		return
	}
	res, err := mrv.Compute(inst)
	if err != nil {
		mrvProblem(w, "invalid_installation", err)
		return
	}
	writeJSON(w, http.StatusOK, mrvReportResponse{Emissions: res, Comparison: res.Reports(), Units: mrvUnits})
}

// mrvProblem maps an mrv error to a 400 naming the field at fault.
func mrvProblem(w http.ResponseWriter, code string, err error) {
	var fe *mrv.FieldError
	switch {
	case errors.As(err, &fe):
		badRequest(w, code, fe.Field, capitalise(fe.Err.Error())+".")
	case errors.Is(err, mrv.ErrNoProcesses):
		badRequest(w, "invalid_installation", "processes", capitalise(strings.TrimPrefix(err.Error(), "mrv: "))+".")
	default:
		badRequest(w, code, "", capitalise(strings.TrimPrefix(err.Error(), "mrv: "))+".")
	}
}
