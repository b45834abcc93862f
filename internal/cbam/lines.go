package cbam

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// Line files (CSV) have a header row naming the columns, in any order:
//
//	origin, cn, tonnes, year            required
//	id, quarter, route, price           optional
//	direct, indirect, benchmark_a       optional actual data (simple goods,
//	                                    no precursors); all three or none
//
// Separator "," or ";" (taken from the header), decimals with a point.
var lineColumns = map[string]bool{
	"id": true, "origin": true, "cn": true, "tonnes": true, "year": true, "quarter": true,
	"route": true, "price": true, "direct": true, "indirect": true, "benchmark_a": true,
}

// LineError is a bad row of a line file: Row is the 1-based row number
// (the header is row 1), Field the column.
type LineError struct {
	Row   int
	Field string
	Err   error
}

func (e *LineError) Error() string { return "cbam: " + e.Detail() }
func (e *LineError) Unwrap() error { return e.Err }

// Detail is the error without the package prefix, as the results file and
// the run summary show it: "row 3: cn: …".
func (e *LineError) Detail() string { return fmt.Sprintf("row %d: %s: %v", e.Row, e.Field, e.Err) }

// RowSource yields the rows of a table (CSV or XLSX), header first.
type RowSource interface {
	// Next returns the next row and its 1-based row number, or io.EOF.
	Next() ([]string, int, error)
}

// LineReader turns a RowSource of import lines into Lines, one at a time.
type LineReader struct {
	src RowSource
	col map[string]int
}

// NewLineReader reads and checks the header.
func NewLineReader(src RowSource) (*LineReader, error) {
	header, _, err := src.Next()
	if err == io.EOF {
		return nil, errors.New("cbam: line file is empty (a header row is required)")
	}
	if err != nil {
		return nil, fmt.Errorf("cbam: line file header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !lineColumns[h] {
			return nil, fmt.Errorf("cbam: line file header: unknown column %q (known: id, origin, cn, tonnes, year, quarter, route, price, direct, indirect, benchmark_a)", h)
		}
		if _, dup := col[h]; dup {
			return nil, fmt.Errorf("cbam: line file header: column %q twice", h)
		}
		col[h] = i
	}
	for _, req := range []string{"origin", "cn", "tonnes", "year"} {
		if _, ok := col[req]; !ok {
			return nil, fmt.Errorf("cbam: line file header: column %q missing", req)
		}
	}
	_, d := col["direct"]
	_, i := col["indirect"]
	_, b := col["benchmark_a"]
	if (d || b) && !(d && b) {
		return nil, errors.New("cbam: line file header: actual data need both direct and benchmark_a columns")
	}
	_ = i
	return &LineReader{src: src, col: col}, nil
}

// Next returns the next line; a *LineError for a bad row (the caller may go
// on to the next row), io.EOF at the end.
func (lr *LineReader) Next() (Line, int, error) {
	for {
		rec, row, err := lr.src.Next()
		if err != nil {
			return Line{}, row, err
		}
		if blank(rec) {
			continue
		}
		l, err := lr.parse(rec, row)
		return l, row, err
	}
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func (lr *LineReader) get(rec []string, name string) string {
	i, ok := lr.col[name]
	if !ok || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

func (lr *LineReader) parse(rec []string, row int) (Line, error) {
	l := Line{ID: lr.get(rec, "id"), Origin: lr.get(rec, "origin"), CN: strings.ReplaceAll(lr.get(rec, "cn"), " ", ""), Route: strings.ToUpper(lr.get(rec, "route"))}
	bad := func(field string, err error) (Line, error) {
		return Line{}, &LineError{Row: row, Field: field, Err: err}
	}
	if l.Origin == "" {
		return bad("origin", errors.New("empty"))
	}
	if l.CN == "" {
		return bad("cn", errors.New("empty"))
	}
	var err error
	if l.Tonnes, err = parseDecimal(lr.get(rec, "tonnes"), true); err != nil {
		return bad("tonnes", err)
	}
	if l.Year, err = strconv.Atoi(lr.get(rec, "year")); err != nil {
		return bad("year", fmt.Errorf("%q is not a year", lr.get(rec, "year")))
	}
	if q := lr.get(rec, "quarter"); q != "" {
		if l.Quarter, err = strconv.Atoi(strings.TrimPrefix(strings.ToUpper(q), "Q")); err != nil {
			return bad("quarter", fmt.Errorf("%q is not a quarter 1–4", q))
		}
	}
	if p := lr.get(rec, "price"); p != "" {
		if l.Price, err = parseDecimal(p, true); err != nil {
			return bad("price", err)
		}
	}
	if d := lr.get(rec, "direct"); d != "" {
		a := &ActualData{}
		if a.Direct, err = parseDecimal(d, true); err != nil {
			return bad("direct", err)
		}
		if s := lr.get(rec, "indirect"); s != "" {
			if a.Indirect, err = parseDecimal(s, true); err != nil {
				return bad("indirect", err)
			}
		}
		if a.BenchmarkA, err = parseDecimal(lr.get(rec, "benchmark_a"), true); err != nil {
			return bad("benchmark_a", err)
		}
		l.Actual = a
	}
	return l, nil
}

// parseDecimal accepts plain decimals with a point ("1000", "12.5"); no
// exponents, no thousands separators, no decimal comma (ambiguous in a
// CSV export).
func parseDecimal(s string, required bool) (decimal.Decimal, error) {
	if s == "" {
		if required {
			return decimal.Zero, errors.New("empty")
		}
		return decimal.Zero, nil
	}
	body := strings.TrimPrefix(s, "-")
	dot := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 0 && i < len(body)-1:
			dot = true
		default:
			return decimal.Zero, fmt.Errorf("%q is not a decimal number with a point", s)
		}
	}
	if body == "" {
		return decimal.Zero, fmt.Errorf("%q is not a number", s)
	}
	return decimal.NewFromString(s)
}

// CSVRows is a RowSource over CSV text; the separator is taken from the
// header (";" if it holds one, else ",").
type CSVRows struct {
	r   *csv.Reader
	row int
}

// NewCSVRows reads CSV from r, detecting the separator from the first line.
func NewCSVRows(r io.Reader) *CSVRows {
	br := &peekReader{r: r}
	first := br.peekLine()
	cr := csv.NewReader(br)
	if strings.Contains(first, ";") {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return &CSVRows{r: cr}
}

// Next implements RowSource.
func (c *CSVRows) Next() ([]string, int, error) {
	rec, err := c.r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			c.row = pe.StartLine
			return nil, pe.StartLine, &LineError{Row: pe.StartLine, Field: "csv", Err: pe.Err}
		}
		return nil, c.row, err
	}
	c.row, _ = c.r.FieldPos(0)
	return rec, c.row, nil
}

// peekReader lets the CSV reader see the bytes used to sniff the separator.
type peekReader struct {
	r   io.Reader
	buf []byte
}

func (p *peekReader) peekLine() string {
	tmp := make([]byte, 4096)
	n, _ := io.ReadAtLeast(p.r, tmp, 1)
	p.buf = tmp[:n]
	s := string(p.buf)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return s
}

func (p *peekReader) Read(b []byte) (int, error) {
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	return p.r.Read(b)
}

// ResultColumns are the columns of a results file, one row per line.
var ResultColumns = []string{"row", "id", "origin", "cn", "year", "method", "default_value_cn", "default_value_country",
	"fallback", "route", "see", "tonnes", "embedded_emissions", "cbam_factor", "cscf", "benchmark", "sefa",
	"free_allocation_adjustment", "carbon_price_paid_certificates", "certificates", "price", "price_status", "cost_eur", "dataset_version",
	"dataset_superseded", "error"}

// ResultRow formats a result (or a line's error) as a results-file row.
func ResultRow(row int, r LineResult, lineErr error) []string {
	return appendResultRow(make([]string, 0, len(ResultColumns)), row, r, lineErr)
}

// lineDetail is a line's error as the results show it: a LineError's
// Detail, else the error's text.
func lineDetail(err error) string {
	if le, ok := errors.AsType[*LineError](err); ok {
		return le.Detail()
	}
	return err.Error()
}

func appendResultRow(out []string, row int, r LineResult, lineErr error) []string {
	if lineErr != nil {
		out = append(out, strconv.Itoa(row))
		for len(out) < len(ResultColumns)-1 {
			out = append(out, "")
		}
		return append(out, lineDetail(lineErr))
	}
	price, cost := "", ""
	if r.HasPrice {
		price, cost = formatDecimal(r.Price), r.CostEUR.StringFixed(2)
	}
	return append(out, strconv.Itoa(row), r.ID, r.Origin, r.CN, strconv.Itoa(r.Year), r.Method, r.DefaultValueCN, r.DefaultValueCountry,
		strconv.FormatBool(r.Fallback), r.Route, formatDecimal(r.SEE), formatDecimal(r.Tonnes), formatDecimal(r.EmbeddedEmissions),
		formatDecimal(r.CBAMFactor), formatDecimal(r.CSCF), formatDecimal(r.Benchmark.Value), formatDecimal(r.SEFA),
		formatDecimal(r.FreeAllocationAdjustment), formatDecimal(r.CarbonPricePaidCertificates), formatDecimal(r.Certificates),
		price, r.PriceStatus, cost, r.DatasetVersion, strconv.FormatBool(r.DatasetSuperseded != ""), "")
}

// formatDecimal is decimal.String (trailing zeros trimmed) without the
// big.Int detour for coefficients of up to 18 digits: result files format
// a dozen decimals per line, and this is most of the cost of a run.
func formatDecimal(d decimal.Decimal) string {
	if d.NumDigits() > 18 {
		return d.String()
	}
	c, e := d.CoefficientInt64(), d.Exponent()
	if e >= 0 {
		if e > 18 {
			return d.String()
		}
		s := strconv.FormatInt(c, 10)
		if c == 0 {
			return s
		}
		return s + strings.Repeat("0", int(e))
	}
	neg := c < 0
	if neg {
		c = -c
	}
	frac := int(-e)
	for frac > 0 && c%10 == 0 {
		c /= 10
		frac--
	}
	var buf [48]byte
	b := strconv.AppendInt(buf[:0], c, 10)
	var out []byte
	if neg {
		out = append(out, '-')
	}
	switch {
	case frac == 0:
		out = append(out, b...)
	case len(b) > frac:
		out = append(out, b[:len(b)-frac]...)
		out = append(out, '.')
		out = append(out, b[len(b)-frac:]...)
	default:
		out = append(out, '0', '.')
		for i := len(b); i < frac; i++ {
			out = append(out, '0')
		}
		out = append(out, b...)
	}
	return string(out)
}

// RowSink receives result rows (CSV or XLSX writer).
type RowSink interface {
	Write(row []string) error
}

// RunSummary reports a streamed run.
type RunSummary struct {
	Lines  int          `json:"lines"`
	Errors int          `json:"errors"`
	Years  []YearTotals `json:"years"`
	// FirstErrors keeps the first few line errors for the report.
	FirstErrors []string `json:"first_errors,omitempty"`
}

// Run streams lines from src through calc into sink (header first), one
// line at a time: memory stays flat in the number of lines. Bad lines are
// written with their error and counted; progress, if not nil, is called
// every 4096 lines with the count so far.
func Run(ctx context.Context, calc *Calculator, src RowSource, sink RowSink, progress func(lines int)) (RunSummary, error) {
	lr, err := NewLineReader(src)
	if err != nil {
		return RunSummary{}, err
	}
	if err := sink.Write(ResultColumns); err != nil {
		return RunSummary{}, fmt.Errorf("cbam: write results: %w", err)
	}
	decl := NewDeclaration()
	var sum RunSummary
	buf := make([]string, 0, len(ResultColumns))
	for {
		l, row, err := lr.Next()
		if err == io.EOF {
			break
		}
		var lerr *LineError
		if err != nil && !errors.As(err, &lerr) {
			return sum, err
		}
		sum.Lines++
		var res LineResult
		if err == nil {
			res, err = calc.Obligation(l)
			var ie *InputError
			if errors.As(err, &ie) {
				err = &LineError{Row: row, Field: ie.Field, Err: ie.Err}
			}
		}
		if err != nil {
			sum.Errors++
			if len(sum.FirstErrors) < 10 {
				sum.FirstErrors = append(sum.FirstErrors, lineDetail(err))
			}
		} else {
			decl.Add(res)
		}
		if werr := sink.Write(appendResultRow(buf[:0], row, res, err)); werr != nil {
			return sum, fmt.Errorf("cbam: write results: %w", werr)
		}
		if sum.Lines%4096 == 0 {
			if progress != nil {
				progress(sum.Lines)
			}
			if err := ctx.Err(); err != nil {
				return sum, err
			}
		}
	}
	if progress != nil {
		progress(sum.Lines)
	}
	sum.Years = decl.Years()
	return sum, nil
}
