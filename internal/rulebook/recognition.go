package rulebook

import (
	"fmt"
	"slices"
	"strings"
)

// MatrixCell is one programme pair of the recognition matrix for a sector.
type MatrixCell struct {
	A      string `json:"a"`
	B      string `json:"b"`
	Status string `json:"status"`
	// Label is the status in words; pairs without a record read
	// "not recognised (no agreement found)".
	Label      string    `json:"label"`
	Conditions []string  `json:"conditions,omitempty"`
	Evidence   string    `json:"evidence,omitempty"`
	Cite       *Citation `json:"cite,omitempty"`
	// CommonBasis lists methodologies both programmes build on in this
	// sector (e.g. CDM-ACM0002). It is an inference about comparability,
	// never a recognition.
	CommonBasis []string `json:"common_basis,omitempty"`
}

// Matrix is the recognition matrix of one sector: Cells[i][j] pairs
// Programmes[i] with Programmes[j].
type Matrix struct {
	Sector     string         `json:"sector"`
	Programmes []string       `json:"programmes"`
	Cells      [][]MatrixCell `json:"cells"`
	// Methodologies per programme in this sector.
	Methodologies map[string][]Methodology `json:"methodologies"`
}

// Labels of the matrix cells.
const (
	LabelSameProgramme  = "same programme"
	LabelNoAgreement    = "not recognised (no agreement found)"
	labelRecognised     = "recognised"
	labelWithConditions = "recognised with conditions"
	labelNotRecognised  = "not recognised"
)

// Recognition returns the recognition status of programmes a and b in sector.
func (rb *Rulebook) Recognition(a, b, sector string) (MatrixCell, error) {
	a, b, sector = normCode(a), normCode(b), strings.ToLower(strings.TrimSpace(sector))
	for _, p := range []string{a, b} {
		if _, ok := rb.programmeByID[p]; !ok {
			return MatrixCell{}, &InputError{Field: "programme", Problem: fmt.Sprintf("unknown programme %q", p)}
		}
	}
	if !slices.Contains(knownSectors, sector) {
		return MatrixCell{}, &InputError{Field: "sector", Problem: fmt.Sprintf("unknown sector %q", sector)}
	}
	return rb.cell(a, b, sector), nil
}

func (rb *Rulebook) cell(a, b, sector string) MatrixCell {
	c := MatrixCell{A: a, B: b}
	if a == b {
		c.Status, c.Label = Recognised, LabelSameProgramme
		return c
	}
	var found *RecognitionPair
	for i := range rb.pairs {
		p := &rb.pairs[i]
		if pairKey(p.A, p.B, "") != pairKey(a, b, "") {
			continue
		}
		if p.Sector == sector {
			found = p
			break
		}
		if p.Sector == "all" && found == nil {
			found = p
		}
	}
	if found == nil {
		c.Status, c.Label = NotRecognised, LabelNoAgreement
	} else {
		c.Status, c.Conditions, c.Evidence = found.Status, found.Conditions, found.Evidence
		cite := found.Cite
		c.Cite = &cite
		switch found.Status {
		case Recognised:
			c.Label = labelRecognised
		case RecognisedWithConditions:
			c.Label = labelWithConditions
		default:
			c.Label = labelNotRecognised
		}
	}
	c.CommonBasis = rb.commonBasis(a, b, sector)
	return c
}

func (rb *Rulebook) commonBasis(a, b, sector string) []string {
	bases := func(p string) []string {
		var out []string
		for _, m := range rb.Methodologies(p, sector) {
			if m.Basis != "" && !slices.Contains(out, m.Basis) {
				out = append(out, m.Basis)
			}
		}
		return out
	}
	var common []string
	bb := bases(b)
	for _, x := range bases(a) {
		if slices.Contains(bb, x) {
			common = append(common, x)
		}
	}
	return common
}

// RecognitionMatrix builds the matrix of the configured programmes for one
// sector (one of MatrixSectors, or any known sector).
func (rb *Rulebook) RecognitionMatrix(sector string) (Matrix, error) {
	sector = strings.ToLower(strings.TrimSpace(sector))
	if !slices.Contains(knownSectors, sector) {
		return Matrix{}, &InputError{Field: "sector", Problem: fmt.Sprintf("unknown sector %q (matrix sectors: %s)", sector, strings.Join(rb.matrixSectors, ", "))}
	}
	m := Matrix{Sector: sector, Programmes: slices.Clone(rb.matrixProgrammes), Methodologies: map[string][]Methodology{}}
	for _, a := range rb.matrixProgrammes {
		row := make([]MatrixCell, 0, len(rb.matrixProgrammes))
		for _, b := range rb.matrixProgrammes {
			row = append(row, rb.cell(a, b, sector))
		}
		m.Cells = append(m.Cells, row)
		m.Methodologies[a] = rb.Methodologies(a, sector)
	}
	return m, nil
}

// MRVRow is one aspect of the MRV comparison, one cell per regime.
type MRVRow struct {
	Aspect MRVAspect `json:"aspect"`
	Cells  []MRVCell `json:"cells"`
}

// MRVTable is the MRV side-by-side for one sector.
type MRVTable struct {
	Sector  string      `json:"sector"`
	Regimes []MRVRegime `json:"regimes"`
	Rows    []MRVRow    `json:"rows"`
}

// MRVComparison returns the side-by-side of MRV rules for one sector.
func (rb *Rulebook) MRVComparison(sector string) (MRVTable, error) {
	sector = strings.ToLower(strings.TrimSpace(sector))
	if !slices.Contains(rb.mrvSectors, sector) {
		return MRVTable{}, &InputError{Field: "sector", Problem: fmt.Sprintf("no MRV comparison for sector %q (sectors: %s)", sector, strings.Join(rb.mrvSectors, ", "))}
	}
	t := MRVTable{Sector: sector, Regimes: slices.Clone(rb.mrvRegimes)}
	for _, a := range rb.mrvAspects {
		row := MRVRow{Aspect: a}
		for _, r := range rb.mrvRegimes {
			for _, c := range rb.mrvCells {
				if c.Sector == sector && c.Aspect == a.ID && c.Regime == r.ID {
					row.Cells = append(row.Cells, c)
					break
				}
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}
