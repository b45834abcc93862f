package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var at = time.Date(2025, 3, 14, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))

// fixture is a small registry: two issuances, three accounts (one a
// buffer), blocks in every state an account can hold, two journal entries
// and a retirement whose beneficiary looks like a spreadsheet formula.
var fixture = struct {
	issuances   []registry.IssuanceView
	owners      []Owner
	blocks      [][]registry.BlockView
	journal     []registry.Transaction
	retirements []registry.Retirement
}{
	issuances: []registry.IssuanceView{
		{Issuance: ledger.Issuance{ID: 1, Standard: "CCER", UnitType: "CCER", Project: "CCER-DEMO-0001", ProjectName: "Coal-mine methane, Shanxi (demo)", Methodology: "CCER-10-001-V01", HostCountry: "CN", Vintage: 2024, Quantity: 250000}},
		{Issuance: ledger.Issuance{ID: 2, Standard: "CCER", UnitType: "CCER", Project: "CCER-DEMO-0002", ProjectName: "Tunnel lighting, \"Yunnan\", 云南 (demo)", Methodology: "CCER-07-001-V01", HostCountry: "CN", Vintage: 2025, Quantity: 40000}},
	},
	owners: []Owner{
		{Account: registry.AccountView{Account: ledger.Account{ID: 2, OrgID: 2, Type: ledger.Holding, Status: ledger.Open, Name: "Shanxi holding account"}, Organisation: "Shanxi Methane Co. (demo)"}, Country: "CN"},
		{Account: registry.AccountView{Account: ledger.Account{ID: 5, OrgID: 4, Type: ledger.Buffer, Status: ledger.Open, Name: "Buffer pool"}, Organisation: "Registry, buffer\nline two"}, Country: "CN"},
		{Account: registry.AccountView{Account: ledger.Account{ID: 7, OrgID: 5, Type: ledger.Holding, Status: ledger.Suspended, Name: "Holder without visible country"}, Organisation: "-Minus Trading (demo)"}},
	},
	blocks: [][]registry.BlockView{
		{
			{Serial: "CN-CCER-CCER-DEMO-0001-2024-1-1-200000", IssuanceID: 1, Start: 1, End: 200000, Quantity: 200000, AccountID: 2, State: ledger.Held},
			{Serial: "CN-CCER-CCER-DEMO-0001-2024-1-200001-225000", IssuanceID: 1, Start: 200001, End: 225000, Quantity: 25000, AccountID: 2, State: ledger.Reserved, Pending: 41},
		},
		{{Serial: "CN-CCER-CCER-DEMO-0002-2025-2-1-4000", IssuanceID: 2, Start: 1, End: 4000, Quantity: 4000, AccountID: 5, State: ledger.Held}},
		{{Serial: "CN-CCER-CCER-DEMO-0009-2025-9-1-10", IssuanceID: 9, Start: 1, End: 10, Quantity: 10, AccountID: 7, State: ledger.Held}},
	},
	journal: []registry.Transaction{
		{Seq: 12, At: at, Kind: "issue", Actor: "admin@org:1", Hash: strings.Repeat("ab", 32),
			Request: json.RawMessage("{\n  \"standard\": \"CCER\",\n  \"unit_type\": \"CCER\",\n  \"project\": \"CCER-DEMO-0001\",\n  \"vintage\": 2024,\n  \"quantity\": 250000,\n  \"account_id\": 2\n}"),
			Result:  registry.Result{Seq: 12, Kind: "issue", ID: 1, Quantity: 250000, Blocks: []registry.BlockView{{Serial: "CN-CCER-CCER-DEMO-0001-2024-1-1-250000"}}}},
		{Seq: 13, At: at.Add(time.Second), Kind: "reserve", Actor: "holder@org:2", Hash: strings.Repeat("cd", 32),
			Request: json.RawMessage(`{"from_account":2,"units":{"quantity":25000,"unit_type":"CCER"},"to_registry":"TH","to_account_ref":"TH-4"}`),
			Result:  registry.Result{Seq: 13, Kind: "reserve", Quantity: 25000, Pending: 13, Blocks: []registry.BlockView{{Serial: "CN-CCER-CCER-DEMO-0001-2024-1-200001-225000"}}}},
		{Seq: 14, At: at.Add(2 * time.Second), Kind: "transfer", Actor: "holder@org:2", Hash: strings.Repeat("ef", 32),
			Request: json.RawMessage(`{"from_account":2,"to_account":7,"units":{"serials":["CN-CCER-CCER-DEMO-0001-2024-1-225001-225010"]}}`),
			Result:  registry.Result{Seq: 14, Kind: "transfer", Quantity: 10, Blocks: []registry.BlockView{{Serial: "CN-CCER-CCER-DEMO-0001-2024-1-225001-225010"}}}},
	},
	retirements: []registry.Retirement{
		{Seq: 20, At: at.Add(time.Hour), Quantity: 1500, Beneficiary: "=HYPERLINK(\"http://x\")", Purpose: "China ETS compliance offset", ComplianceYear: 2025,
			Blocks: []registry.BlockView{
				{Serial: "CN-CCER-CCER-DEMO-0001-2024-1-1-1000", IssuanceID: 1, Start: 1, End: 1000, Quantity: 1000, State: ledger.Retired},
				{Serial: "CN-CCER-CCER-DEMO-0002-2025-2-1-500", IssuanceID: 2, Start: 1, End: 500, Quantity: 500, State: ledger.Retired},
			}},
		{Seq: 21, At: at.Add(2 * time.Hour), Quantity: 1, Beneficiary: "Jakarta Cement (demo)", Purpose: "voluntary", Reason: "note, with comma",
			Blocks: []registry.BlockView{{Serial: "CN-CCER-CCER-DEMO-0001-2024-1-1001-1001", IssuanceID: 1, Start: 1001, End: 1001, Quantity: 1, State: ledger.Retired}}},
	},
}

// writeFixture writes the fixture's rows of kind k.
func writeFixture(t testing.TB, out io.Writer, f Format, k Kind) *Writer {
	t.Helper()
	w, err := NewWriter(out, Options{Format: f, Kind: k, Registry: "CN", Issuances: fixture.issuances})
	if err != nil {
		t.Fatal(err)
	}
	switch k {
	case Holdings:
		for i, o := range fixture.owners {
			for _, b := range fixture.blocks[i] {
				if err := w.Holding(o, b); err != nil {
					t.Fatal(err)
				}
			}
		}
	case Transactions:
		for _, tx := range fixture.journal {
			if err := w.Transaction(tx); err != nil {
				t.Fatal(err)
			}
		}
	case Retirements:
		for _, r := range fixture.retirements {
			if err := w.Retirement(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// xlsxAsCSV reads an XLSX export back and prints every sheet as CSV, so
// that the golden file compares content rather than zip bytes.
func xlsxAsCSV(t testing.TB, raw []byte) []byte {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	for _, sheet := range f.GetSheetList() {
		fmt.Fprintf(&buf, "# sheet %s\n", sheet)
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		cw := csv.NewWriter(&buf)
		for _, r := range rows {
			_ = cw.Write(r)
		}
		cw.Flush()
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	for _, k := range []Kind{Holdings, Transactions, Retirements} {
		t.Run(string(k), func(t *testing.T) {
			var c bytes.Buffer
			w := writeFixture(t, &c, CSV, k)
			golden(t, string(k)+".csv", c.Bytes())
			var x bytes.Buffer
			if xw := writeFixture(t, &x, XLSX, k); xw.Rows() != w.Rows() {
				t.Errorf("xlsx wrote %d rows, csv %d", xw.Rows(), w.Rows())
			}
			golden(t, string(k)+".xlsx.csv", xlsxAsCSV(t, x.Bytes()))
		})
	}
}

// TestCSVShape checks what the golden files could hide if rewritten
// carelessly: one row per block, the header, formula guards and CAD Trust
// statuses.
func TestCSVShape(t *testing.T) {
	tests := []struct {
		kind Kind
		rows int
		cell func(rec [][]string, col map[string]int) (got, want string)
	}{
		{Holdings, 4, func(r [][]string, c map[string]int) (string, string) { return r[2][c["unitStatus"]], "Reserved" }},
		{Holdings, 4, func(r [][]string, c map[string]int) (string, string) { return r[3][c["unitStatus"]], "Buffer" }},
		{Holdings, 4, func(r [][]string, c map[string]int) (string, string) { return r[2][c["pendingTransaction"]], "41" }},
		{Holdings, 4, func(r [][]string, c map[string]int) (string, string) {
			return r[4][c["unitOwner"]], "'-Minus Trading (demo)"
		}},
		{Holdings, 4, func(r [][]string, c map[string]int) (string, string) { return r[4][c["projectName"]], "" }},
		{Holdings, 4, func(r [][]string, c map[string]int) (string, string) { return r[3][c["vintageYear"]], "2025" }},
		{Transactions, 3, func(r [][]string, c map[string]int) (string, string) { return r[1][c["toAccount"]], "2" }},
		{Transactions, 3, func(r [][]string, c map[string]int) (string, string) { return r[2][c["toRegistry"]], "TH" }},
		{Transactions, 3, func(r [][]string, c map[string]int) (string, string) { return r[3][c["unitType"]], "CCER" }},
		{Transactions, 3, func(r [][]string, c map[string]int) (string, string) {
			return r[2][c["timestamp"]], "2025-03-14T01:30:01Z"
		}},
		{Retirements, 3, func(r [][]string, c map[string]int) (string, string) {
			return r[1][c["retirementBeneficiary"]], "'=HYPERLINK(\"http://x\")"
		}},
		{Retirements, 3, func(r [][]string, c map[string]int) (string, string) {
			return r[2][c["unitStatusReason"]], "China ETS compliance offset"
		}},
		{Retirements, 3, func(r [][]string, c map[string]int) (string, string) { return r[3][c["complianceYear"]], "" }},
	}
	for i, tt := range tests {
		var buf bytes.Buffer
		writeFixture(t, &buf, CSV, tt.kind)
		rec, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rec) != tt.rows+1 || strings.Join(rec[0], ",") != strings.Join(Columns(tt.kind), ",") {
			t.Fatalf("case %d: %d rows, header %v", i, len(rec), rec[0])
		}
		col := map[string]int{}
		for j, name := range rec[0] {
			col[name] = j
		}
		if got, want := tt.cell(rec, col); got != want {
			t.Errorf("case %d (%s): got %q, want %q", i, tt.kind, got, want)
		}
	}
}

// TestXLSXTypes: quantities are numbers in the workbook and free text is
// text, never a formula.
func TestXLSXTypes(t *testing.T) {
	var buf bytes.Buffer
	writeFixture(t, &buf, XLSX, Retirements)
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// A cell without a type attribute is a number in OOXML.
	for cell, want := range map[string]excelize.CellType{"G2": excelize.CellTypeUnset, "L2": excelize.CellTypeInlineString, "D2": excelize.CellTypeInlineString} {
		got, err := f.GetCellType("retirements", cell)
		if err != nil || got != want {
			t.Errorf("%s: type %v (%v), want %v", cell, got, err, want)
		}
	}
	if v, _ := f.GetCellValue("retirements", "G2"); v != "1000" {
		t.Errorf("unitCount G2 = %q", v)
	}
	if formula, _ := f.GetCellFormula("retirements", "L2"); formula != "" {
		t.Errorf("beneficiary became a formula: %q", formula)
	}
	if v, _ := f.GetCellValue("retirements", "L2"); v != `=HYPERLINK("http://x")` {
		t.Errorf("beneficiary text %q", v)
	}
}

// TestXLSXSheetRollover: past the per-sheet row limit the export goes on
// in a new sheet with its own header, losing no row.
func TestXLSXSheetRollover(t *testing.T) {
	old := maxRowsPerSheet
	maxRowsPerSheet = 2
	defer func() { maxRowsPerSheet = old }()
	var buf bytes.Buffer
	writeFixture(t, &buf, XLSX, Holdings)
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if strings.Join(sheets, ",") != "holdings,holdings 2" {
		t.Fatalf("sheets %v", sheets)
	}
	total := 0
	for _, s := range sheets {
		rows, _ := f.GetRows(s)
		if rows[0][0] != "currentRegistry" {
			t.Errorf("sheet %s has no header: %v", s, rows[0])
		}
		total += len(rows) - 1
	}
	if total != 4 {
		t.Errorf("%d data rows over the sheets, want 4", total)
	}
}

func TestUnitStatus(t *testing.T) {
	tests := []struct {
		state ledger.State
		typ   ledger.AccountType
		want  string
	}{
		{ledger.Held, ledger.Holding, "Held"},
		{ledger.Held, ledger.NationalHolding, "Held"},
		{ledger.Held, ledger.Buffer, "Buffer"},
		{ledger.Reserved, ledger.Holding, "Reserved"},
		{ledger.Retired, ledger.Retirement, "Retired"},
		{ledger.Cancelled, ledger.Cancellation, "Cancelled"},
		{ledger.Exported, ledger.Holding, "Exported"},
	}
	for _, tt := range tests {
		if got := UnitStatus(tt.state, tt.typ); got != tt.want {
			t.Errorf("UnitStatus(%s, %s) = %s, want %s", tt.state, tt.typ, got, tt.want)
		}
	}
}

func TestXLSXText(t *testing.T) {
	long := strings.Repeat("ab", excelize.TotalCellChars)
	tests := []struct{ in, want string }{
		{"plain 云南", "plain 云南"},
		{"bell\x07tab\tnl\n", "bell\uFFFDtab\tnl\n"},
		{"bad\xffutf8", "bad\uFFFDutf8"},
		{long, long[:excelize.TotalCellChars-len([]rune(truncatedMark))] + truncatedMark},
	}
	for _, tt := range tests {
		if got := XLSXText(tt.in); got != tt.want {
			t.Errorf("XLSXText(%.40q) = %.40q…, want %.40q…", tt.in, got, tt.want)
		}
	}
	// Characters beyond the BMP count twice, as Excel counts UTF-16 units.
	emoji := strings.Repeat("😀", excelize.TotalCellChars/2+1)
	if got := XLSXText(emoji); utf16Len(got) > excelize.TotalCellChars || !strings.HasSuffix(got, truncatedMark) {
		t.Errorf("emoji text not cut to the limit: %d units", utf16Len(got))
	}
}

func TestParse(t *testing.T) {
	if f, err := ParseFormat("XLSX"); err != nil || f != XLSX {
		t.Errorf("ParseFormat(XLSX) = %v, %v", f, err)
	}
	if _, err := ParseFormat("pdf"); err == nil {
		t.Error("ParseFormat(pdf) accepted")
	}
	if k, err := ParseKind("retirements"); err != nil || k != Retirements {
		t.Errorf("ParseKind = %v, %v", k, err)
	}
	if _, err := ParseKind("accounts"); err == nil {
		t.Error("ParseKind(accounts) accepted")
	}
	if _, err := NewWriter(io.Discard, Options{Format: CSV, Kind: "x"}); err == nil {
		t.Error("unknown kind accepted")
	}
	w, _ := NewWriter(io.Discard, Options{Format: CSV, Kind: Holdings})
	if err := w.Retirement(fixture.retirements[0]); err == nil {
		t.Error("retirement row accepted in a holdings export")
	}
}

// roundTrip writes one retirement whose free-text fields are a, b and c
// in both formats and checks that they read back as written (CSV with the
// formula guard, XLSX after XLSXText).
func roundTrip(t *testing.T, a, b, c string) {
	r := registry.Retirement{Seq: 1, At: at, Quantity: 1, Beneficiary: a, Purpose: b, Reason: c,
		Blocks: []registry.BlockView{{Serial: "CN-CCER-P-2024-1-1-1", IssuanceID: 1, Start: 1, End: 1, Quantity: 1}}}
	cols := Columns(Retirements)
	idx := func(name string) int {
		for i, c := range cols {
			if c == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	fields := []struct {
		col, val string
	}{{"retirementBeneficiary", a}, {"unitStatusReason", b}, {"retirementNote", c}}
	for _, f := range []Format{CSV, XLSX} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, Options{Format: f, Kind: Retirements, Registry: "CN"})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Retirement(r); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var row []string
		if f == CSV {
			rec, err := csv.NewReader(&buf).ReadAll()
			if err != nil || len(rec) != 2 {
				t.Fatalf("csv read back: %d records, %v", len(rec), err)
			}
			row = rec[1]
		} else {
			x, err := excelize.OpenReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := x.GetRows("retirements", excelize.Options{RawCellValue: true})
			x.Close()
			if err != nil || len(rows) != 2 {
				t.Fatalf("xlsx read back: %d rows, %v", len(rows), err)
			}
			row = append(rows[1], make([]string, len(cols))...)
		}
		for _, fl := range fields {
			want := fl.val
			if f == CSV {
				want = GuardCSV(want)
				// encoding/csv reads \r\n inside a quoted field as \n.
				want = strings.ReplaceAll(want, "\r\n", "\n")
			} else {
				want = XLSXText(want)
			}
			if got := row[idx(fl.col)]; got != want {
				t.Fatalf("%s %s: read back %q, wrote %q", f, fl.col, got, fl.val)
			}
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, s := range []string{"", "a,b", "quote \" inside", "line\nbreak", "=1+2", "+", "@SUM(A1)", " lead space ", "云南 ✓", "_x000D_", "\r\nx", "\x00nul"} {
		roundTrip(t, s, "purpose "+s, s+" reason")
	}
}

// FuzzRoundTrip: any text a user can put in a retirement survives an
// export in both formats, up to the documented guard and XLSX cleaning.
func FuzzRoundTrip(f *testing.F) {
	f.Add("Baowu Steel", "compliance", "")
	f.Add("=cmd|' /C calc'!A0", "-2+3", "@x")
	f.Add("a\"b,c\nd", "\r", "_x0041_")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		if len(a)+len(b)+len(c) > 4096 {
			t.Skip()
		}
		roundTrip(t, a, b, c)
	})
}

func BenchmarkHoldingsCSV(b *testing.B) { benchHoldings(b, CSV) }

func BenchmarkHoldingsXLSX(b *testing.B) { benchHoldings(b, XLSX) }

// benchHoldings writes 10,000 holding rows per iteration.
func benchHoldings(b *testing.B, f Format) {
	o := fixture.owners[0]
	blk := fixture.blocks[0][0]
	for b.Loop() {
		w, err := NewWriter(io.Discard, Options{Format: f, Kind: Holdings, Registry: "CN", Issuances: fixture.issuances})
		if err != nil {
			b.Fatal(err)
		}
		for range 10000 {
			if err := w.Holding(o, blk); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/row")
}
