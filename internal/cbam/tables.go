package cbam

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"
)

// CSVSink writes result rows as CSV (comma-separated, CRLF-free).
type CSVSink struct{ w *csv.Writer }

// NewCSVSink writes CSV to w; call Flush at the end.
func NewCSVSink(w io.Writer) *CSVSink { return &CSVSink{w: csv.NewWriter(w)} }

// Write implements RowSink.
func (s *CSVSink) Write(row []string) error { return s.w.Write(row) }

// Flush flushes buffered rows.
func (s *CSVSink) Flush() error { s.w.Flush(); return s.w.Error() }

// XLSXRows is a RowSource over the first sheet of an XLSX workbook, read
// with excelize's streaming row iterator. Unlike CSV, excelize holds the
// opened workbook in memory (≈300 MB for a million rows), and the format
// caps a sheet at 1,048,576 rows: CSV is the format for flat-memory runs.
type XLSXRows struct {
	f    *excelize.File
	rows *excelize.Rows
	row  int
}

// NewXLSXRows opens an XLSX workbook from r (raw cell values, so numbers
// come without display formatting).
func NewXLSXRows(r io.Reader) (*XLSXRows, error) {
	f, err := excelize.OpenReader(r, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, fmt.Errorf("cbam: open xlsx: %w", err)
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, fmt.Errorf("cbam: xlsx has no sheet")
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return nil, fmt.Errorf("cbam: xlsx sheet %s: %w", sheets[0], err)
	}
	return &XLSXRows{f: f, rows: rows}, nil
}

// Next implements RowSource.
func (x *XLSXRows) Next() ([]string, int, error) {
	if !x.rows.Next() {
		if err := x.rows.Error(); err != nil {
			return nil, x.row, fmt.Errorf("cbam: xlsx row %d: %w", x.row+1, err)
		}
		return nil, x.row, io.EOF
	}
	x.row++
	cols, err := x.rows.Columns(excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, x.row, fmt.Errorf("cbam: xlsx row %d: %w", x.row, err)
	}
	return cols, x.row, nil
}

// Close releases the workbook.
func (x *XLSXRows) Close() error {
	_ = x.rows.Close()
	return x.f.Close()
}

// XLSXSink writes result rows to a new workbook with excelize's stream
// writer (rows go to a temporary file), but excelize assembles the final
// zip in memory in WriteTo (≈125 bytes per row). Numeric columns are
// written as numbers.
type XLSXSink struct {
	f   *excelize.File
	sw  *excelize.StreamWriter
	row int
}

// NewXLSXSink starts a workbook with one sheet "CBAM obligations".
func NewXLSXSink() (*XLSXSink, error) {
	f := excelize.NewFile()
	const sheet = "CBAM obligations"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, fmt.Errorf("cbam: xlsx: %w", err)
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, fmt.Errorf("cbam: xlsx: %w", err)
	}
	return &XLSXSink{f: f, sw: sw}, nil
}

// Write implements RowSink.
func (s *XLSXSink) Write(row []string) error {
	s.row++
	vals := make([]any, len(row))
	for i, v := range row {
		vals[i] = v
		if s.row > 1 && v != "" && numericColumn[i] {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				// Display only: the CSV output and the API keep the exact decimals.
				vals[i] = f
			}
		}
	}
	cell, _ := excelize.CoordinatesToCellName(1, s.row)
	return s.sw.SetRow(cell, vals)
}

var numericColumn = func() map[int]bool {
	m := map[int]bool{}
	for i, c := range ResultColumns {
		switch c {
		case "row", "year", "see", "tonnes", "embedded_emissions", "cbam_factor", "cscf", "benchmark", "sefa",
			"free_allocation_adjustment", "carbon_price_paid_certificates", "certificates", "price", "cost_eur":
			m[i] = true
		}
	}
	return m
}()

// WriteTo flushes the workbook to w.
func (s *XLSXSink) WriteTo(w io.Writer) (int64, error) {
	if err := s.sw.Flush(); err != nil {
		return 0, fmt.Errorf("cbam: xlsx flush: %w", err)
	}
	n, err := s.f.WriteTo(w)
	_ = s.f.Close()
	return n, err
}
