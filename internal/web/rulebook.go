package web

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/corridor-carbon/corridor/internal/rulebook"
)

// routesRulebook registers the rulebook page: the recognition matrix, the MRV
// side-by-side, the schemes' rules and an eligibility check that calls
// POST /api/v1/rulebook/eligibility.
func (s *Site) routesRulebook(mux *http.ServeMux) {
	mux.HandleFunc("GET /rulebook", s.rulebookPage)
}

type rulebookMatrixCell struct {
	rulebook.MatrixCell
	// Class styles the cell by status; Title is the hover text after the
	// label (which the page shows from the catalogue): the conditions and
	// the shared basis, data in their sources' language.
	Class string
	Title string
}

type rulebookMatrixRow struct {
	Programme string
	Cells     []rulebookMatrixCell
}

type rulebookMRVRow struct {
	// Aspect is the data's English name; the page shows the catalogue's
	// rulebook.aspect.AspectID.
	Aspect, AspectID string
	Cells            []rulebook.MRVCell
}

type rulebookPageData struct {
	Version       string
	Error         string
	Sector        string
	Sectors       []string
	Programmes    []string
	Rows          []rulebookMatrixRow
	Agreements    []rulebookMatrixCell
	MRVSector     string
	MRVSectors    []string
	MRVRegimes    []rulebook.MRVRegime
	MRVRows       []rulebookMRVRow
	Schemes       []rulebook.Scheme
	GlobalRules   []rulebook.Rule
	Instruments   []rulebook.Instrument
	Jurisdictions []rulebook.Jurisdiction
}

func (s *Site) rulebookPage(w http.ResponseWriter, r *http.Request) {
	rb, err := rulebook.Default()
	if err != nil {
		rulebookFailed(w, r, err)
		return
	}
	data := rulebookPageData{
		Version: rb.Version(), Sectors: rb.MatrixSectors(), MRVSectors: rb.MRVSectors(),
		Schemes: rb.Schemes(""), GlobalRules: rb.GlobalRules(), Instruments: rb.Instruments(""), Jurisdictions: rb.Jurisdictions(),
	}
	var problems []string
	data.Sector = strings.ToLower(r.URL.Query().Get("sector"))
	if !slices.Contains(data.Sectors, data.Sector) {
		if data.Sector != "" {
			problems = append(problems, "No recognition matrix for sector "+data.Sector+"; showing "+data.Sectors[0]+".")
		}
		data.Sector = data.Sectors[0]
	}
	data.MRVSector = strings.ToLower(r.URL.Query().Get("mrv"))
	if !slices.Contains(data.MRVSectors, data.MRVSector) {
		if data.MRVSector != "" {
			problems = append(problems, "No MRV comparison for sector "+data.MRVSector+"; showing "+data.MRVSectors[0]+".")
		}
		data.MRVSector = data.MRVSectors[0]
	}
	data.Error = strings.Join(problems, " ")

	m, err := rb.RecognitionMatrix(data.Sector)
	if err != nil {
		rulebookFailed(w, r, err)
		return
	}
	data.Programmes = m.Programmes
	for i, p := range m.Programmes {
		row := rulebookMatrixRow{Programme: p}
		for j, c := range m.Cells[i] {
			cell := rulebookMatrixCell{MatrixCell: c, Class: "rec-no"}
			switch {
			case c.A == c.B:
				cell.Class = "rec-same"
			case c.Status == rulebook.Recognised:
				cell.Class = "rec-yes"
			case c.Status == rulebook.RecognisedWithConditions:
				cell.Class = "rec-cond"
			case c.Cite != nil:
				cell.Class = "rec-refused"
			}
			if len(c.Conditions) > 0 {
				cell.Title += ": " + strings.Join(c.Conditions, " ")
			}
			if len(c.CommonBasis) > 0 {
				cell.Title += " Shared methodology basis [inference]: " + strings.Join(c.CommonBasis, ", ") + "."
			}
			row.Cells = append(row.Cells, cell)
			if j > i && c.Cite != nil {
				data.Agreements = append(data.Agreements, cell)
			}
		}
		data.Rows = append(data.Rows, row)
	}

	t, err := rb.MRVComparison(data.MRVSector)
	if err != nil {
		rulebookFailed(w, r, err)
		return
	}
	data.MRVRegimes = t.Regimes
	for _, row := range t.Rows {
		data.MRVRows = append(data.MRVRows, rulebookMRVRow{Aspect: row.Aspect.Name, AspectID: row.Aspect.ID, Cells: row.Cells})
	}
	s.render(w, r, "rulebook.html", data)
}

// rulebookFailed answers when the embedded rulebook cannot be used: a server
// fault, logged, its text never shown.
func rulebookFailed(w http.ResponseWriter, r *http.Request, err error) {
	slog.ErrorContext(r.Context(), "web: rulebook", "err", err)
	http.Error(w, "The rulebook could not be loaded; the error has been logged.", http.StatusInternalServerError)
}
