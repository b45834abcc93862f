// Package export writes a registry's holdings, journal and retirements as
// CSV or XLSX files, with CAD Trust unit field names where a column fits one.
//
// Columns follow the CAD Trust `units` data model as its reference
// implementation defines it (https://github.com/Chia-Network/cadt; see
// docs/sources.md): serialNumberBlock, unitBlockStart, unitBlockEnd,
// unitCount, vintageYear, unitType, unitStatus, unitStatusReason, unitOwner,
// countryJurisdictionOfOwner, issuanceId; and its `projects` model
// (projectId, projectName, methodology, program, currentRegistry). Columns with no CAD Trust counterpart (accountId,
// pendingTransaction, the journal's seq and hash…) use the same camelCase
// style. Rows are written as they come, so an export of any size streams.
package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// Format is a file format.
type Format string

const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// ParseFormat validates a format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case CSV, XLSX:
		return f, nil
	}
	return "", fmt.Errorf("export: format %q is not csv or xlsx", s)
}

// Kind is what an export lists.
type Kind string

const (
	Holdings     Kind = "holdings"     // every block held or reserved in the accounts read
	Transactions Kind = "transactions" // the journal, one row per entry
	Retirements  Kind = "retirements"  // public retirement records, one row per retired block
)

// ParseKind validates a kind name.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(strings.ToLower(s)); k {
	case Holdings, Transactions, Retirements:
		return k, nil
	}
	return "", fmt.Errorf("export: %q is not holdings, transactions or retirements", s)
}

// Columns returns the header row of a kind.
func Columns(k Kind) []string {
	switch k {
	case Holdings:
		return []string{"currentRegistry", "accountId", "accountName", "accountType", "unitOwner", "countryJurisdictionOfOwner",
			"serialNumberBlock", "unitBlockStart", "unitBlockEnd", "unitCount", "vintageYear", "unitType", "unitStatus",
			"pendingTransaction", "issuanceId", "projectId", "projectName", "methodology", "program"}
	case Transactions:
		return []string{"currentRegistry", "seq", "timestamp", "kind", "actor", "fromAccount", "toAccount", "toRegistry", "toAccountRef",
			"unitType", "quantity", "serialNumberBlocks", "resultId", "pendingTransaction", "hash", "request"}
	case Retirements:
		return []string{"currentRegistry", "seq", "timestamp", "serialNumberBlock", "unitBlockStart", "unitBlockEnd", "unitCount",
			"vintageYear", "unitType", "unitStatus", "unitStatusReason", "retirementBeneficiary", "complianceYear", "retirementNote",
			"issuanceId", "projectId", "projectName", "methodology", "program"}
	}
	return nil
}

// Options configure a Writer.
type Options struct {
	Format Format
	Kind   Kind
	// Registry is the code written in the currentRegistry column.
	Registry string
	// Issuances give the project columns (name, methodology, programme) by
	// issuance id; blocks of issuances not listed leave them empty.
	Issuances []registry.IssuanceView
}

// Owner is the account a holding is in, with its organisation's country
// (empty when the reader may not see organisations).
type Owner struct {
	Account registry.AccountView
	Country string
}

// Writer writes one export. Call Close to finish the file: an XLSX file is
// only complete (and only written to the output) after Close.
type Writer struct {
	opt       Options
	issuances map[int64]registry.IssuanceView
	cols      int
	rows      int64
	sink      sink
}

// sink receives typed rows; nil cells are empty.
type sink interface {
	row(cells []any) error
	close() error
}

// NewWriter starts an export to out and writes the header row.
func NewWriter(out io.Writer, opt Options) (*Writer, error) {
	cols := Columns(opt.Kind)
	if cols == nil {
		return nil, fmt.Errorf("export: unknown kind %q", opt.Kind)
	}
	w := &Writer{opt: opt, issuances: map[int64]registry.IssuanceView{}, cols: len(cols)}
	for _, x := range opt.Issuances {
		w.issuances[x.ID] = x
	}
	switch opt.Format {
	case CSV:
		w.sink = &csvSink{w: csv.NewWriter(out)}
	case XLSX:
		s, err := newXLSXSink(out, string(opt.Kind), cols)
		if err != nil {
			return nil, err
		}
		w.sink = s
	default:
		return nil, fmt.Errorf("export: unknown format %q", opt.Format)
	}
	header := make([]any, len(cols))
	for i, c := range cols {
		header[i] = c
	}
	if err := w.sink.row(header); err != nil {
		return nil, err
	}
	return w, nil
}

// Rows is the number of data rows written so far.
func (w *Writer) Rows() int64 { return w.rows }

// Close finishes the file.
func (w *Writer) Close() error { return w.sink.close() }

func (w *Writer) write(cells []any) error {
	if len(cells) != w.cols {
		panic(fmt.Sprintf("export: %s row has %d cells, header %d", w.opt.Kind, len(cells), w.cols))
	}
	w.rows++
	return w.sink.row(cells)
}

// project returns the project columns of issuance id (projectId comes from
// the serial, which always carries it).
func (w *Writer) project(id int64) (name, methodology, program any) {
	x, ok := w.issuances[id]
	if !ok {
		return nil, nil, nil
	}
	return text(x.ProjectName), text(x.Methodology), text(x.Standard)
}

// Holding writes one held or reserved block.
func (w *Writer) Holding(o Owner, b registry.BlockView) error {
	if w.opt.Kind != Holdings {
		return fmt.Errorf("export: holding row in a %s export", w.opt.Kind)
	}
	s, err := ledger.ParseSerial(b.Serial)
	if err != nil {
		return fmt.Errorf("export: block of account %d: %w", o.Account.ID, err)
	}
	name, meth, prog := w.project(b.IssuanceID)
	return w.write([]any{
		text(w.opt.Registry), o.Account.ID, text(o.Account.Name), text(string(o.Account.Type)), text(o.Account.Organisation), text(o.Country),
		b.Serial, b.Start, b.End, b.Quantity, s.Vintage, s.UnitType, UnitStatus(b.State, o.Account.Type),
		optional(b.Pending), b.IssuanceID, s.Project, name, meth, prog,
	})
}

// UnitStatus maps a block's state onto the CAD Trust unit status (Held,
// Retired, Cancelled, Buffer, Exported); held units in a buffer account are
// Buffer. A reservation has no CAD Trust status of its own ("Pending Export"
// is only one of its uses: a reservation may also settle inside the
// registry), so it is written as Reserved with its pendingTransaction.
func UnitStatus(s ledger.State, t ledger.AccountType) string {
	switch s {
	case ledger.Held:
		if t == ledger.Buffer {
			return "Buffer"
		}
		return "Held"
	case ledger.Reserved:
		return "Reserved"
	case ledger.Retired:
		return "Retired"
	case ledger.Cancelled:
		return "Cancelled"
	case ledger.Exported:
		return "Exported"
	}
	return string(s)
}

// requestParties are the request fields a journal row shows in columns.
type requestParties struct {
	From         int64  `json:"from_account"`
	To           int64  `json:"to_account"`
	AccountID    int64  `json:"account_id"`
	ToRegistry   string `json:"to_registry"`
	ToAccountRef string `json:"to_account_ref"`
	UnitType     string `json:"unit_type"`
	Units        struct {
		UnitType string `json:"unit_type"`
	} `json:"units"`
}

// Transaction writes one journal entry.
func (w *Writer) Transaction(t registry.Transaction) error {
	if w.opt.Kind != Transactions {
		return fmt.Errorf("export: transaction row in a %s export", w.opt.Kind)
	}
	var p requestParties
	// The request is the journal's own JSON; a body without these fields
	// simply leaves the columns empty.
	_ = json.Unmarshal(t.Request, &p)
	to := p.To
	if t.Kind == (registry.Issue{}).Kind() {
		to = p.AccountID
	}
	unitType := p.Units.UnitType
	if unitType == "" {
		unitType = p.UnitType
	}
	serials := make([]string, len(t.Result.Blocks))
	for i, b := range t.Result.Blocks {
		serials[i] = b.Serial
		if unitType == "" {
			if s, err := ledger.ParseSerial(b.Serial); err == nil {
				unitType = s.UnitType
			}
		}
	}
	return w.write([]any{
		text(w.opt.Registry), t.Seq, timestamp(t.At), text(t.Kind), text(t.Actor), optional(p.From), optional(to), text(p.ToRegistry), text(p.ToAccountRef),
		text(unitType), optional(t.Result.Quantity), text(strings.Join(serials, " ")), optional(t.Result.ID), optional(t.Result.Pending),
		text(t.Hash), text(compactJSON(t.Request)),
	})
}

// compactJSON puts a request on one line; the API may send it indented.
func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// Retirement writes one row per retired block of a retirement record.
func (w *Writer) Retirement(r registry.Retirement) error {
	if w.opt.Kind != Retirements {
		return fmt.Errorf("export: retirement row in a %s export", w.opt.Kind)
	}
	for _, b := range r.Blocks {
		s, err := ledger.ParseSerial(b.Serial)
		if err != nil {
			return fmt.Errorf("export: retirement %d: %w", r.Seq, err)
		}
		name, meth, prog := w.project(b.IssuanceID)
		if err := w.write([]any{
			text(w.opt.Registry), r.Seq, timestamp(r.At), b.Serial, b.Start, b.End, b.Quantity,
			s.Vintage, s.UnitType, "Retired", text(r.Purpose), text(r.Beneficiary), optional(int64(r.ComplianceYear)), text(r.Reason),
			b.IssuanceID, s.Project, name, meth, prog,
		}); err != nil {
			return err
		}
	}
	return nil
}

// text is a free-text cell (user input that needs guarding in CSV); an
// empty string is an empty cell.
type textCell string

func text(s string) any {
	if s == "" {
		return nil
	}
	return textCell(s)
}

func optional(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

func timestamp(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// csvSink writes RFC 4180 CSV.
type csvSink struct {
	w   *csv.Writer
	buf []string
}

func (s *csvSink) row(cells []any) error {
	s.buf = s.buf[:0]
	for _, c := range cells {
		s.buf = append(s.buf, csvCell(c))
	}
	if err := s.w.Write(s.buf); err != nil {
		return fmt.Errorf("export: write csv: %w", err)
	}
	return nil
}

func (s *csvSink) close() error {
	s.w.Flush()
	if err := s.w.Error(); err != nil {
		return fmt.Errorf("export: write csv: %w", err)
	}
	return nil
}

func csvCell(c any) string {
	switch v := c.(type) {
	case nil:
		return ""
	case textCell:
		return GuardCSV(string(v))
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	}
	panic(fmt.Sprintf("export: cell of type %T", c))
}

// GuardCSV defuses spreadsheet formula injection in a free-text CSV cell:
// text starting with = + - @, a tab or a carriage return is prefixed with a
// single quote, so that a spreadsheet opening the file shows it as text
// instead of evaluating it (OWASP "CSV Injection"). Names, purposes and
// reasons are typed by registry users, so an export must not turn them into
// formulas on an auditor's machine. XLSX cells are typed and need no guard.
func GuardCSV(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// maxRowsPerSheet is the data rows one XLSX sheet takes before the export
// continues on a new sheet: Excel's limit of 1,048,576 rows (excelize
// TotalRows) less the header row. A variable so tests can lower it.
var maxRowsPerSheet = excelize.TotalRows - 1

// xlsxSink streams rows into sheets named after the kind ("holdings",
// "holdings 2", …) and writes the workbook on close.
type xlsxSink struct {
	out     io.Writer
	f       *excelize.File
	name    string
	header  []any
	bold    int
	sw      *excelize.StreamWriter
	sheets  int
	rowInSh int
}

func newXLSXSink(out io.Writer, name string, cols []string) (*xlsxSink, error) {
	f := excelize.NewFile()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("export: xlsx style: %w", err)
	}
	s := &xlsxSink{out: out, f: f, name: name, bold: bold}
	s.header = make([]any, len(cols))
	for i, c := range cols {
		s.header[i] = c
	}
	return s, nil
}

// newSheet starts the next sheet with its header, frozen under the first row.
func (s *xlsxSink) newSheet() error {
	if s.sw != nil {
		if err := s.sw.Flush(); err != nil {
			return fmt.Errorf("export: xlsx: %w", err)
		}
	}
	s.sheets++
	name := s.name
	if s.sheets == 1 {
		if err := s.f.SetSheetName("Sheet1", name); err != nil {
			return fmt.Errorf("export: xlsx: %w", err)
		}
	} else {
		name = fmt.Sprintf("%s %d", s.name, s.sheets)
		if _, err := s.f.NewSheet(name); err != nil {
			return fmt.Errorf("export: xlsx: %w", err)
		}
	}
	sw, err := s.f.NewStreamWriter(name)
	if err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	s.sw = sw
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	if err := sw.SetColWidth(1, len(s.header), 18); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	s.rowInSh = 1
	if err := sw.SetRow("A1", s.header, excelize.RowOpts{StyleID: s.bold}); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	return nil
}

func (s *xlsxSink) row(cells []any) error {
	if s.sw == nil {
		// The first row is the header, written by newSheet.
		return s.newSheet()
	}
	if s.rowInSh > maxRowsPerSheet {
		if err := s.newSheet(); err != nil {
			return err
		}
	}
	vals := make([]any, len(cells))
	for i, c := range cells {
		switch v := c.(type) {
		case textCell:
			vals[i] = XLSXText(string(v))
		case string:
			vals[i] = XLSXText(v)
		default:
			vals[i] = v
		}
	}
	s.rowInSh++
	cell, _ := excelize.CoordinatesToCellName(1, s.rowInSh)
	if err := s.sw.SetRow(cell, vals); err != nil {
		return fmt.Errorf("export: xlsx row %d: %w", s.rowInSh, err)
	}
	return nil
}

func (s *xlsxSink) close() error {
	defer s.f.Close()
	if s.sw == nil {
		if err := s.newSheet(); err != nil {
			return err
		}
	}
	if err := s.sw.Flush(); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	if err := s.f.Write(s.out); err != nil {
		return fmt.Errorf("export: write xlsx: %w", err)
	}
	return nil
}

// truncatedMark ends a cell cut to fit XLSX's cell limit.
const truncatedMark = "…[truncated]"

// XLSXText makes s storable in an XLSX cell: invalid UTF-8 and characters
// XML 1.0 forbids (most C0 controls, U+FFFE/U+FFFF) become U+FFFD, and text
// beyond Excel's cell limit of 32,767 UTF-16 code units (excelize
// TotalCellChars) is cut and marked "…[truncated]" instead of being cut
// silently. The CSV export keeps such text whole.
func XLSXText(s string) string {
	s = strings.ToValidUTF8(s, string(utf8.RuneError))
	s = strings.Map(func(r rune) rune {
		if xmlChar(r) {
			return r
		}
		return utf8.RuneError
	}, s)
	if utf16Len(s) <= excelize.TotalCellChars {
		return s
	}
	room := excelize.TotalCellChars - utf16Len(truncatedMark)
	used := 0
	for i, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if used+w > room {
			return s[:i] + truncatedMark
		}
		used += w
	}
	return s
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// xmlChar reports whether XML 1.0 allows r (the Char production).
func xmlChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}
