package rulebook

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// The plain-text report writers of the rulebook, for a terminal. Each
// writes one answer (a list, a scheme, a matrix, a decision); JSON callers
// encode the same values directly.

func writeTable(w io.Writer, header string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// WriteSummary prints the rulebook's version and counts.
func (rb *Rulebook) WriteSummary(w io.Writer) error {
	_, err := fmt.Fprintf(w, "Rulebook %s: %d jurisdictions, %d instruments, %d schemes, %d sources.\n",
		rb.Version(), len(rb.jurisdictions), len(rb.instruments), len(rb.schemes), len(rb.sources))
	return err
}

// WriteJurisdictions prints one line per jurisdiction.
func WriteJurisdictions(w io.Writer, list []Jurisdiction) error {
	var rows [][]string
	for _, j := range list {
		rows = append(rows, []string{j.Code, j.Name, j.Region})
	}
	return writeTable(w, "CODE\tNAME\tREGION", rows)
}

// WriteInstruments prints one line per instrument.
func WriteInstruments(w io.Writer, list []Instrument) error {
	var rows [][]string
	for _, in := range list {
		rows = append(rows, []string{in.Code, in.Kind, in.Jurisdiction, in.Programme, in.Name})
	}
	return writeTable(w, "CODE\tKIND\tJURISDICTION\tPROGRAMME\tNAME", rows)
}

// WriteSchemes prints one line per scheme with its credit limits.
func WriteSchemes(w io.Writer, list []Scheme) error {
	var rows [][]string
	for _, s := range list {
		caps := []string{}
		for _, r := range s.Rules {
			if r.Kind == KindQuantityCap {
				caps = append(caps, r.Share.Shift(2).String()+"% ("+r.Status+")")
			}
		}
		if len(caps) == 0 {
			caps = append(caps, "none found")
		}
		rows = append(rows, []string{s.ID, s.Jurisdiction, strings.Join(caps, ", "), fmt.Sprint(len(s.Rules)), s.Name})
	}
	return writeTable(w, "ID\tJURISDICTION\tCREDIT LIMIT\tRULES\tNAME", rows)
}

// WriteScheme prints one scheme and every rule that applies to it (its own
// and the global ones) with its source; a host_agreement rule lists each
// agreement's dates and status.
func (rb *Rulebook) WriteScheme(w io.Writer, s Scheme) error {
	fmt.Fprintf(w, "%s · %s (%s)\n%s\nObligation basis: %s\n\n", s.ID, s.Name, s.Jurisdiction, s.Description, s.ObligationBasis)
	for _, r := range slices.Concat(s.Rules, rb.globalRules) {
		fmt.Fprintf(w, "%s [%s, %s]\n  %s\n  Source: %s\n", r.ID, r.Kind, r.Status, r.Text, r.Cite)
		for _, a := range r.Agreements {
			op := "operational: no date found"
			if a.OperationalFrom != "" {
				op = "operational from " + a.OperationalFrom
			}
			fmt.Fprintf(w, "    %s: signed %s, %s [%s] — %s\n", a.Host, a.Signed, op, a.Status, a.Cite)
		}
	}
	return nil
}

// WriteSources prints every source and what of it was checked.
func WriteSources(w io.Writer, list []Source) error {
	for _, s := range list {
		if _, err := fmt.Fprintf(w, "%s (%s, %s)\n  %s — %s\n  %s\n  Checked: %s\n", s.ID, s.Kind, s.Date, s.Title, s.Issuer, s.URL, s.Seen); err != nil {
			return err
		}
	}
	return nil
}

// WriteMethodologies prints one line per methodology record.
func WriteMethodologies(w io.Writer, list []Methodology) error {
	var rows [][]string
	for _, m := range list {
		rows = append(rows, []string{m.Programme, m.Code, strings.Join(m.Sectors, ","), m.Status, m.Title})
	}
	return writeTable(w, "PROGRAMME\tCODE\tSECTORS\tSTATUS\tTITLE", rows)
}

// WriteRecognitionCell prints one pair of programmes for a sector.
func WriteRecognitionCell(w io.Writer, cell MatrixCell, sector string) error {
	fmt.Fprintf(w, "%s – %s (%s): %s\n", cell.A, cell.B, sector, cell.Label)
	for _, c := range cell.Conditions {
		fmt.Fprintf(w, "  · %s\n", c)
	}
	if len(cell.CommonBasis) > 0 {
		fmt.Fprintf(w, "  Shared methodology basis [inference, not recognition]: %s\n", strings.Join(cell.CommonBasis, ", "))
	}
	if cell.Cite != nil {
		fmt.Fprintf(w, "  Source (%s): %s\n", cell.Evidence, cell.Cite)
	}
	return nil
}

// WriteRecognitionMatrix prints the matrix, then every agreement found
// with its source.
func WriteRecognitionMatrix(w io.Writer, m Matrix) error {
	short := map[string]string{Recognised: "yes", RecognisedWithConditions: "conditions", NotRecognised: "no"}
	var rows [][]string
	for i, p := range m.Programmes {
		row := []string{p}
		for _, c := range m.Cells[i] {
			v := short[c.Status]
			switch {
			case c.A == c.B:
				v = "·"
			case c.Label == LabelNoAgreement:
				v = "none found"
			}
			row = append(row, v)
		}
		rows = append(rows, row)
	}
	fmt.Fprintf(w, "Recognition matrix, sector %s (\"none found\" = not recognised, no agreement found):\n", m.Sector)
	if err := writeTable(w, "\t"+strings.Join(m.Programmes, "\t"), rows); err != nil {
		return err
	}
	for i := range m.Cells {
		for j := i + 1; j < len(m.Cells[i]); j++ {
			if c := m.Cells[i][j]; c.Cite != nil {
				fmt.Fprintf(w, "%s – %s: %s. %s Source (%s): %s\n", c.A, c.B, c.Label, strings.Join(c.Conditions, " "), c.Evidence, c.Cite)
			}
		}
	}
	return nil
}

// WriteMRV prints the MRV side-by-side of one sector.
func WriteMRV(w io.Writer, t MRVTable) error {
	fmt.Fprintf(w, "MRV side by side, sector %s\n", t.Sector)
	for _, row := range t.Rows {
		fmt.Fprintf(w, "\n%s\n", row.Aspect.Name)
		for i, c := range row.Cells {
			fmt.Fprintf(w, "  %-28s %s [%s]\n  %-28s Source: %s\n", t.Regimes[i].Name, c.Text, c.Status, "", c.Cite)
		}
	}
	return nil
}

// WriteDecision prints an eligibility decision: the verdict, the cap and
// its rounding, a caution when it rests on unverified rules, the day
// date-dependent rules were judged on, and every reason with its source.
func WriteDecision(w io.Writer, d Decision) error {
	verdict := "NOT ELIGIBLE"
	if d.Allowed {
		verdict = "ELIGIBLE"
	}
	fmt.Fprintf(w, "%s: %s in %s, maximum %d t this year", verdict, d.Instrument, d.Scheme, d.MaxQuantity)
	if d.Requested > 0 {
		fmt.Fprintf(w, " (granted %d of %d t requested)", d.Granted, d.Requested)
	}
	fmt.Fprintln(w, ".")
	if d.Cap != nil {
		fmt.Fprintf(w, "Cap: %s.\n", d.Cap.Rounding)
	}
	if !d.Confirmed {
		fmt.Fprintln(w, "Caution: this answer relies on at least one UNVERIFIED rule or on no limit being found.")
	}
	fmt.Fprintf(w, "Reasons (rulebook %s, dates judged on %s):\n", d.RulebookVersion, d.Date)
	for _, r := range d.Reasons {
		if _, err := fmt.Fprintf(w, "  %s\n", r); err != nil {
			return err
		}
	}
	return nil
}
