package api

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/corridor-carbon/corridor/internal/mrv"
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

func (s *Server) handleMRVReport(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		tooLarge(w, err)
		return
	}
	inst, err := mrv.ParseInstallation(raw)
	if err != nil {
		mrvProblem(w, "malformed_json", err)
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
