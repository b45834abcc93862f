package cbam

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// DefaultValue is one row of the Commission's default-values table: specific
// embedded emissions (tCO2e per tonne of good) of a good from a country.
type DefaultValue struct {
	Line        int    // line number in the source file (1 = header)
	CountryName string // as written in the file
	Country     string // ISO 3166-1 alpha-2; OtherCountries for the fallback rows
	Sector      Sector
	// CN is the table's code: 4, 6 or 8 digits of the Combined Nomenclature,
	// or a 10-digit TARIC code (IR (EU) 2026/1740 keys white/grey clinker,
	// white/other hydraulic cement and calcined kaolinic clay on TARIC codes).
	CN          string
	Description string
	// HasValue is false for rows that carry no default value (heading rows
	// such as "7206", or goods the Commission left blank for that country).
	HasValue bool
	Direct   decimal.Decimal
	Indirect decimal.Decimal // zero when the file leaves it empty (not counted)
	Total    decimal.Decimal
	Route    string // production route letter ("C", "K", …) or ""
}

// Benchmark is one row of the column-B benchmark table (tCO2e per tonne).
type Benchmark struct {
	Line   int
	Sector Sector
	CN     string // 8 digits
	Value  decimal.Decimal
	Route  string // production route letter or ""
	Grade  string // alloy-grade footnote "1"/"2" or ""
}

// MalformedRow is a row the loader refused, with the reason.
type MalformedRow struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Reason string `json:"reason"`
	Raw    string `json:"raw"`

	// country and cn are the (country, code) the row was meant for, when
	// they could be read, so that a lookup landing on it fails loudly.
	country, cn string
}

// OtherCountries is the Country of the default-value rows for "Other
// Countries and Territories", used when the origin has no row.
const OtherCountries = "OTHER"

// markUpTolerance bounds |column − total × (1 + mark-up)| in files of the
// superseded layout: the Commission rounded those columns to 4–6 decimals,
// so a difference above 0.0005 tCO2e/t is not rounding but an error in the
// row. The columns are only checked, never used: SEE = total × (1 + mark-up).
var markUpTolerance = decimal.RequireFromString("0.0005")

// sumTolerance bounds |direct + indirect − total|: the three columns are
// each rounded to two decimals in the workbook, so their sum may differ from
// the rounded total by up to 0.01 (+ one unit of the last place).
var sumTolerance = decimal.RequireFromString("0.0101")

// MaxMalformedShare is the share of malformed data rows above which a whole
// file is rejected rather than loaded with its bad rows reported: a file
// that broken is the wrong file or a broken export, not a few bad rows.
var MaxMalformedShare = decimal.RequireFromString("0.01")

var (
	reNumber   = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
	reCN       = regexp.MustCompile(`^([0-9]{4}|[0-9]{6}|[0-9]{8}|[0-9]{10})$`)
	reGoodCode = regexp.MustCompile(`^([0-9]{8}|[0-9]{10})$`)
	reCN8      = regexp.MustCompile(`^[0-9]{8}$`)
	reRoute    = regexp.MustCompile(`^\(([A-Z])\)$`)
	reBMValue  = regexp.MustCompile(`^([0-9]+,[0-9]+|[0-9]+)((?: ?\([A-Z0-9]\))*)$`)
	reBMSuffix = regexp.MustCompile(`\(([A-Z0-9])\)`)
	reVersion  = regexp.MustCompile(`-v([0-9]{8})\.csv$`)
)

// defaultValuesHeader is the header of the superseded v20260204 workbook
// (Annex I of IR (EU) 2025/2621 as first published), with its three
// per-year "including mark-up" columns.
var defaultValuesHeader = []string{"Country", "Sector", "Product CN Code", "Description",
	"Default Value (direct emissions)", "Default Value (Indirect emissions)", "Default Value (total emissions)",
	"2026 Default Value (Including mark-up)", "2027 Default Value (Including mark-up)",
	"2028 Default Value (Including mark-up)", "Underlying production route determining CBAM BM"}

// Columns of a default-values file, found by their header (any order, case
// and spacing ignored). The layout of IR (EU) 2026/1740 has no per-year
// columns and may name the code column "CN code" or "TARIC code"; the
// superseded layout has the three per-year columns (all three or none).
const (
	colCountry = iota
	colSector
	colCN
	colDescription
	colDirect
	colIndirect
	colTotal
	colRoute
	colMarkUp2026
	colMarkUp2027
	colMarkUp2028
	numColumns
)

var columnNames = [numColumns][]string{
	colCountry:     {"country", "country of origin"},
	colSector:      {"sector", "aggregated goods category"},
	colCN:          {"product cn code", "cn code", "taric code", "product taric code", "cn/taric code", "product cn/taric code", "cn or taric code"},
	colDescription: {"description", "product description"},
	colDirect:      {"default value (direct emissions)", "direct emissions"},
	colIndirect:    {"default value (indirect emissions)", "indirect emissions"},
	colTotal:       {"default value (total emissions)", "total emissions"},
	colRoute:       {"underlying production route determining cbam bm", "production route", "production route determining cbam bm"},
	colMarkUp2026:  {"2026 default value (including mark-up)"},
	colMarkUp2027:  {"2027 default value (including mark-up)"},
	colMarkUp2028:  {"2028 default value (including mark-up)"},
}

// Layouts of the default-values table.
const (
	// LayoutSuperseded is the v20260204 workbook of IR (EU) 2025/2621
	// Annex I with per-year "including mark-up" columns. IR (EU) 2026/1740
	// replaced that annex retroactively from 1 January 2026.
	LayoutSuperseded = "IR (EU) 2025/2621 Annex I as first published (per-year mark-up columns)"
	// LayoutCurrent has direct, indirect and total values only; the mark-up
	// of the year is applied to the total (IR (EU) 2026/1740).
	LayoutCurrent = "IR (EU) 2026/1740 Annex I (no per-year mark-up columns)"
)

// SupersededNote is what results computed from a dataset of the superseded
// layout say about it.
const SupersededNote = "its default values are those of Annex I to IR (EU) 2025/2621 as first published, " +
	"which Implementing Regulation (EU) 2026/1740 replaced retroactively from 1 January 2026; load the 2026/1740 dataset " +
	"with --dataset-dir (env CORRIDOR_CBAM_DATASET_DIR) for figures under the rules in force"

func normHeader(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(strings.TrimPrefix(s, "\ufeff")), " "))
}

// defaultValuesLayout maps a header to column indexes, or explains why it
// is not a default-values header.
func defaultValuesLayout(header []string) ([numColumns]int, string, error) {
	var idx [numColumns]int
	for i := range idx {
		idx[i] = -1
	}
	for pos, h := range header {
		n := normHeader(h)
		found := false
		for c, names := range columnNames {
			for _, name := range names {
				if n == name {
					if idx[c] >= 0 {
						return idx, "", fmt.Errorf("column %q twice", h)
					}
					idx[c], found = pos, true
				}
			}
		}
		if !found {
			return idx, "", fmt.Errorf("unknown column %q", h)
		}
	}
	for c := colCountry; c <= colRoute; c++ {
		if idx[c] < 0 {
			return idx, "", fmt.Errorf("column %q missing", columnNames[c][0])
		}
	}
	marks := 0
	for c := colMarkUp2026; c <= colMarkUp2028; c++ {
		if idx[c] >= 0 {
			marks++
		}
	}
	switch marks {
	case 0:
		return idx, LayoutCurrent, nil
	case 3:
		return idx, LayoutSuperseded, nil
	}
	return idx, "", errors.New("the per-year mark-up columns must be all three (2026, 2027, 2028) or none")
}

var sectorNames = map[string]Sector{
	"Cement": SectorCement, "Fertilisers": SectorFertilisers, "Aluminium": SectorAluminium,
	"Hydrogen": SectorHydrogen, "Iron and steel": SectorIronSteel, "Iron & Steel": SectorIronSteel,
	"Electricity": SectorElectricity,
}

// sectorNamesFolded matches sector names case-insensitively, with the US
// spelling of fertilisers, for files other than the shipped one.
var sectorNamesFolded = func() map[string]Sector {
	m := map[string]Sector{"fertilizers": SectorFertilisers}
	for k, v := range sectorNames {
		m[strings.ToLower(k)] = v
	}
	return m
}()

// DatasetError rejects a whole file; Rows lists the offending lines.
type DatasetError struct {
	File   string
	Reason string
	Rows   []MalformedRow
}

func (e *DatasetError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cbam: dataset %s rejected: %s", e.File, e.Reason)
	for i, r := range e.Rows {
		if i == 20 {
			fmt.Fprintf(&b, "; … %d more", len(e.Rows)-20)
			break
		}
		fmt.Fprintf(&b, "; line %d: %s", r.Line, r.Reason)
	}
	return b.String()
}

// decodeText returns the file as UTF-8 without a BOM. A file that is not
// valid UTF-8 is decoded as Windows-1252, the encoding Excel uses for CSV
// exports (the shipped default-values file is such an export); the note
// says so. Any byte Windows-1252 leaves undefined rejects the file.
func decodeText(raw []byte, name string) (string, string, error) {
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if utf8.Valid(raw) {
		return string(raw), "", nil
	}
	var b strings.Builder
	b.Grow(len(raw) + 64)
	for i, c := range raw {
		switch {
		case c < 0x80 || c >= 0xa0:
			b.WriteRune(rune(c))
		default:
			r := cp1252[c-0x80]
			if r == 0 {
				return "", "", &DatasetError{File: name, Reason: fmt.Sprintf("byte 0x%02x at offset %d is neither UTF-8 nor Windows-1252", c, i)}
			}
			b.WriteRune(r)
		}
	}
	return b.String(), name + ": not UTF-8; decoded as Windows-1252", nil
}

// cp1252 maps bytes 0x80–0x9f of Windows-1252; 0 marks undefined bytes.
var cp1252 = [32]rune{
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
}

// ParseDefaultValues reads the default-values table (";"-separated, CRLF or
// LF, UTF-8 or Windows-1252) and validates every row. Valid rows are
// returned; every other row is returned as a MalformedRow with its line and
// reason, and no value is guessed for it. The whole file is rejected (a
// *DatasetError) when the header is not a default-values header or when
// more than MaxMalformedShare of the rows are malformed.
//
// Columns are found by their header names (see columnNames), so both the
// superseded v20260204 layout and the IR (EU) 2026/1740 layout (no per-year
// mark-up columns, 10-digit TARIC codes) load without a code change.
func ParseDefaultValues(raw []byte, name string) ([]DefaultValue, []MalformedRow, []string, error) {
	rows, bad, notes, _, err := parseDefaultValues(raw, name)
	return rows, bad, notes, err
}

func parseDefaultValues(raw []byte, name string) ([]DefaultValue, []MalformedRow, []string, string, error) {
	text, note, err := decodeText(raw, name)
	if err != nil {
		return nil, nil, nil, "", err
	}
	var notes []string
	if note != "" {
		notes = append(notes, note)
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.Comma = ';'
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, nil, nil, "", &DatasetError{File: name, Reason: fmt.Sprintf("header unreadable: %v", err)}
	}
	cols, layout, err := defaultValuesLayout(header)
	if err != nil {
		return nil, nil, nil, "", &DatasetError{File: name, Reason: fmt.Sprintf("line 1: header %q is not a default-values header: %v", strings.Join(header, ";"), err)}
	}
	var (
		rows []DefaultValue
		bad  []MalformedRow
		seen = map[string]int{}
		n    int
	)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		n++
		if err != nil {
			var pe *csv.ParseError
			line := 0
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			bad = append(bad, MalformedRow{File: name, Line: line, Reason: "unreadable CSV: " + err.Error()})
			continue
		}
		line, _ := cr.FieldPos(0)
		dv, reason := validateDefaultValue(rec, cols, len(header), line)
		if reason == "" {
			key := dv.Country + "|" + dv.CN + "|" + dv.Description
			if first, dup := seen[key]; dup {
				reason = fmt.Sprintf("duplicate of line %d (same country, CN code and description)", first)
			} else {
				seen[key] = line
			}
		}
		if reason != "" {
			m := MalformedRow{File: name, Line: line, Reason: reason, Raw: strings.Join(rec, ";")}
			if dv.Country != "" && reCN.MatchString(dv.CN) {
				m.country, m.cn = dv.Country, dv.CN
			}
			bad = append(bad, m)
			continue
		}
		rows = append(rows, dv)
	}
	if n == 0 {
		return nil, nil, nil, "", &DatasetError{File: name, Reason: "no data rows"}
	}
	if decimal.NewFromInt(int64(len(bad))).GreaterThan(MaxMalformedShare.Mul(decimal.NewFromInt(int64(n)))) {
		return nil, nil, nil, "", &DatasetError{File: name, Reason: fmt.Sprintf("%d of %d rows malformed (more than %s%%)", len(bad), n, MaxMalformedShare.Shift(2)), Rows: bad}
	}
	return rows, bad, notes, layout, nil
}

// validateDefaultValue checks one record; a non-empty reason rejects it.
// The returned row carries the country and code whenever they were read.
func validateDefaultValue(rec []string, cols [numColumns]int, width, line int) (DefaultValue, string) {
	if len(rec) != width {
		return DefaultValue{}, fmt.Sprintf("%d fields, want %d", len(rec), width)
	}
	for i := range rec {
		rec[i] = strings.TrimSpace(rec[i])
	}
	get := func(c int) string {
		if cols[c] < 0 {
			return ""
		}
		return rec[cols[c]]
	}
	country := get(colCountry)
	dv := DefaultValue{Line: line, CountryName: country, CN: strings.ReplaceAll(get(colCN), " ", ""), Description: get(colDescription)}
	if strings.HasPrefix(country, "_Other Countries") || strings.HasPrefix(country, "Other Countries") {
		dv.Country = OtherCountries
	} else if code, ok := datasetCountryNames[country]; ok {
		dv.Country = code
	} else if code, err := CountryCode(country); err == nil {
		// A newer file may name the country by ISO code or English name.
		dv.Country = code
	} else {
		return dv, fmt.Sprintf("unknown country name %q", country)
	}
	sector, ok := sectorNames[get(colSector)]
	if !ok {
		sector, ok = sectorNamesFolded[strings.ToLower(get(colSector))]
	}
	if !ok {
		return dv, fmt.Sprintf("unknown sector %q", get(colSector))
	}
	dv.Sector = sector
	if !reCN.MatchString(dv.CN) {
		return dv, fmt.Sprintf("CN code %q is not 4, 6 or 8 digits (or a 10-digit TARIC code)", dv.CN)
	}
	if s, ok := SectorOfCN(dv.CN); ok && s != sector {
		return dv, fmt.Sprintf("CN code %s is a %s good, not %s", dv.CN, s, sector)
	}
	if r := get(colRoute); r != "" {
		m := reRoute.FindStringSubmatch(r)
		if m == nil {
			return dv, fmt.Sprintf("production route %q is not a letter in brackets", r)
		}
		dv.Route = m[1]
	}
	withMarks := cols[colMarkUp2026] >= 0
	fields := []int{colDirect, colIndirect, colTotal, colMarkUp2026, colMarkUp2027, colMarkUp2028}
	names := []string{"direct", "indirect", "total", "2026 with mark-up", "2027 with mark-up", "2028 with mark-up"}
	if !withMarks {
		fields, names = fields[:3], names[:3]
	}
	vals := make([]decimal.Decimal, len(fields))
	present := make([]bool, len(fields))
	none := true
	for i, c := range fields {
		s := get(c)
		if s == "" {
			continue
		}
		if !reNumber.MatchString(s) {
			return dv, fmt.Sprintf("%s value %q is not a non-negative decimal with a point", names[i], s)
		}
		vals[i] = decimal.RequireFromString(s)
		present[i], none = true, false
	}
	if none {
		return dv, ""
	}
	switch {
	case !present[0] && !present[2]:
		return dv, "values filled while direct and total are empty (shifted columns)"
	case !present[2]:
		return dv, "direct value without a total"
	case !present[0]:
		return dv, "total without a direct value"
	}
	if vals[0].Add(vals[1]).Sub(vals[2]).Abs().GreaterThan(sumTolerance) {
		return dv, fmt.Sprintf("direct %s + indirect %s differs from total %s by more than rounding", vals[0], vals[1], vals[2])
	}
	if withMarks {
		// The superseded layout's per-year columns are checked against the
		// rule (they are never used: see Calculator.defaultFactors).
		for y := 0; y < 3; y++ {
			if !present[3+y] {
				return dv, fmt.Sprintf("%d value with mark-up missing", 2026+y)
			}
			m, err := DefaultValueMarkUp(sector, 2026+y)
			if err != nil {
				return dv, err.Error()
			}
			want := vals[2].Mul(decimal.NewFromInt(1).Add(m))
			if vals[3+y].Sub(want).Abs().GreaterThan(markUpTolerance) {
				return dv, fmt.Sprintf("%d value with mark-up %s is not total %s × (1 + %s) = %s", 2026+y, vals[3+y], vals[2], m, want)
			}
		}
	}
	dv.HasValue = true
	dv.Direct, dv.Indirect, dv.Total = vals[0], vals[1], vals[2]
	return dv, ""
}

// ParseBenchmarks reads the column-B benchmark table: UTF-8 (BOM allowed),
// ";"-separated, decimal comma, route letter and alloy grade in brackets
// after the value, sector heading rows ("Cement;") and blank separator rows.
// Like ParseDefaultValues it reports malformed rows and never guesses.
func ParseBenchmarks(raw []byte, name string) ([]Benchmark, []MalformedRow, error) {
	text, _, err := decodeText(raw, name)
	if err != nil {
		return nil, nil, err
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	var (
		rows   []Benchmark
		bad    []MalformedRow
		sector Sector
		line   int
		n      int
		seen   = map[string]int{}
	)
	for sc.Scan() {
		line++
		s := strings.TrimRight(sc.Text(), "\r")
		if line == 1 {
			if strings.ReplaceAll(s, " ", "") != "CNcode;ColumnB" {
				return nil, nil, &DatasetError{File: name, Reason: fmt.Sprintf("line 1: header %q is not \"CN code;Column B\"", s)}
			}
			continue
		}
		f := strings.Split(s, ";")
		if len(f) != 2 {
			n++
			bad = append(bad, MalformedRow{File: name, Line: line, Reason: fmt.Sprintf("%d fields, want 2", len(f)), Raw: s})
			continue
		}
		a, b := strings.TrimSpace(f[0]), strings.TrimSpace(f[1])
		switch {
		case a == "" && b == "":
			continue
		case b == "" && !reCN8.MatchString(a):
			sec, ok := sectorNames[a]
			if !ok {
				n++
				bad = append(bad, MalformedRow{File: name, Line: line, Reason: fmt.Sprintf("unknown sector heading %q", a), Raw: s})
				continue
			}
			sector = sec
			continue
		}
		n++
		bm, reason := validateBenchmark(a, b, sector, line)
		if reason == "" {
			key := bm.CN + "|" + bm.Route + "|" + bm.Grade
			if first, dup := seen[key]; dup {
				reason = fmt.Sprintf("duplicate of line %d (same CN code, route and grade)", first)
			} else {
				seen[key] = line
			}
		}
		if reason != "" {
			bad = append(bad, MalformedRow{File: name, Line: line, Reason: reason, Raw: s})
			continue
		}
		rows = append(rows, bm)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, &DatasetError{File: name, Reason: fmt.Sprintf("line %d: %v", line+1, err)}
	}
	if n == 0 {
		return nil, nil, &DatasetError{File: name, Reason: "no data rows"}
	}
	if decimal.NewFromInt(int64(len(bad))).GreaterThan(MaxMalformedShare.Mul(decimal.NewFromInt(int64(n)))) {
		return nil, nil, &DatasetError{File: name, Reason: fmt.Sprintf("%d of %d rows malformed (more than %s%%)", len(bad), n, MaxMalformedShare.Shift(2)), Rows: bad}
	}
	return rows, bad, nil
}

func validateBenchmark(cn, val string, sector Sector, line int) (Benchmark, string) {
	bm := Benchmark{Line: line, CN: cn, Sector: sector}
	if sector == "" {
		return bm, "benchmark before any sector heading"
	}
	if !reCN8.MatchString(cn) {
		return bm, fmt.Sprintf("CN code %q is not 8 digits", cn)
	}
	if s, ok := SectorOfCN(cn); !ok || s != sector {
		return bm, fmt.Sprintf("CN code %s is not a %s good (under that sector heading)", cn, sector)
	}
	m := reBMValue.FindStringSubmatch(val)
	if m == nil {
		return bm, fmt.Sprintf("value %q is not a decimal-comma number with optional (route)(grade)", val)
	}
	bm.Value = decimal.RequireFromString(strings.Replace(m[1], ",", ".", 1))
	for _, sfx := range reBMSuffix.FindAllStringSubmatch(m[2], -1) {
		c := sfx[1]
		switch {
		case c >= "A" && c <= "Z" && bm.Route == "" && bm.Grade == "":
			bm.Route = c
		case c >= "0" && c <= "9" && bm.Grade == "":
			bm.Grade = c
		default:
			return bm, fmt.Sprintf("unexpected bracket suffix %q in %q", c, val)
		}
	}
	return bm, ""
}

// Dataset is one loaded version of the default values and benchmarks, ready
// for lookups. It is immutable and safe for concurrent use.
type Dataset struct {
	DefaultValuesFile    string
	DefaultValuesVersion string
	BenchmarksFile       string
	BenchmarksVersion    string
	// Layout is LayoutSuperseded or LayoutCurrent; Superseded is
	// SupersededNote for a dataset of the superseded annex, else "".
	Layout     string
	Superseded string
	Malformed  []MalformedRow
	Notes      []string

	defaults   map[string][]DefaultValue // country|cn → rows
	bad        map[string]MalformedRow   // country|cn of malformed rows
	countries  map[string]bool
	benchmarks map[string][]Benchmark // cn → rows
	// taric indexes 10-digit TARIC rows by country|8-digit CN code.
	taric map[string][]DefaultValue
	// routes holds every production route letter of either table.
	routes map[string]bool
}

// Version names the dataset as recorded in results.
func (d *Dataset) Version() string {
	return "default-values v" + d.DefaultValuesVersion + " + benchmarks-column-b v" + d.BenchmarksVersion
}

// DefaultValueCount and BenchmarkCount report how many rows were loaded.
func (d *Dataset) DefaultValueCount() int {
	n := 0
	for _, r := range d.defaults {
		n += len(r)
	}
	return n
}

// BenchmarkCount reports how many benchmark rows were loaded.
func (d *Dataset) BenchmarkCount() int {
	n := 0
	for _, r := range d.benchmarks {
		n += len(r)
	}
	return n
}

// Parse builds a Dataset from the two files' contents. The versions come
// from the file names (…-vYYYYMMDD.csv).
func Parse(dvName string, dvRaw []byte, bmName string, bmRaw []byte) (*Dataset, error) {
	dvVer, err := versionOf(dvName)
	if err != nil {
		return nil, err
	}
	bmVer, err := versionOf(bmName)
	if err != nil {
		return nil, err
	}
	dvs, badDV, notes, layout, err := parseDefaultValues(dvRaw, dvName)
	if err != nil {
		return nil, err
	}
	bms, badBM, err := ParseBenchmarks(bmRaw, bmName)
	if err != nil {
		return nil, err
	}
	d := &Dataset{
		DefaultValuesFile: dvName, DefaultValuesVersion: dvVer,
		BenchmarksFile: bmName, BenchmarksVersion: bmVer,
		Layout: layout, Malformed: append(badDV, badBM...), Notes: notes,
		defaults: map[string][]DefaultValue{}, bad: map[string]MalformedRow{},
		countries: map[string]bool{}, benchmarks: map[string][]Benchmark{},
		taric: map[string][]DefaultValue{}, routes: map[string]bool{},
	}
	for _, dv := range dvs {
		k := dv.Country + "|" + dv.CN
		d.defaults[k] = append(d.defaults[k], dv)
		d.countries[dv.Country] = true
		if dv.Route != "" {
			d.routes[dv.Route] = true
		}
		if len(dv.CN) == 10 {
			k8 := dv.Country + "|" + dv.CN[:8]
			d.taric[k8] = append(d.taric[k8], dv)
		}
	}
	// Malformed default-value rows still tell us which (country, CN) they
	// were meant for, so a lookup that lands on one fails loudly instead of
	// silently falling back to a coarser code or another country.
	for _, m := range badDV {
		if m.country == "" {
			continue
		}
		d.bad[m.country+"|"+m.cn] = m
		d.countries[m.country] = true
	}
	if layout == LayoutSuperseded {
		d.Superseded = SupersededNote
	}
	for _, bm := range bms {
		d.benchmarks[bm.CN] = append(d.benchmarks[bm.CN], bm)
		if bm.Route != "" {
			d.routes[bm.Route] = true
		}
	}
	return d, nil
}

func versionOf(name string) (string, error) {
	m := reVersion.FindStringSubmatch(name)
	if m == nil {
		return "", fmt.Errorf("cbam: dataset file %s: name must end in -vYYYYMMDD.csv", name)
	}
	return m[1], nil
}

//go:embed data/*.csv
var embeddedData embed.FS

var (
	embeddedOnce sync.Once
	embeddedSet  *Dataset
	embeddedErr  error
)

// Embedded returns the dataset shipped in the binary (see data/SOURCE.md).
func Embedded() (*Dataset, error) {
	embeddedOnce.Do(func() {
		sub, err := fs.Sub(embeddedData, "data")
		if err != nil {
			embeddedErr = err
			return
		}
		embeddedSet, embeddedErr = Load(sub)
	})
	return embeddedSet, embeddedErr
}

// LoadDir loads the newest dataset found in dir (files named
// cbam-default-values-vYYYYMMDD.csv and cbam-benchmarks-column-b-vYYYYMMDD.csv).
func LoadDir(dir string) (*Dataset, error) {
	return Load(os.DirFS(dir))
}

// Load loads the newest default-values and benchmark files in fsys.
func Load(fsys fs.FS) (*Dataset, error) {
	dv, err := newest(fsys, "cbam-default-values-v*.csv")
	if err != nil {
		return nil, err
	}
	bm, err := newest(fsys, "cbam-benchmarks-column-b-v*.csv")
	if err != nil {
		return nil, err
	}
	dvRaw, err := fs.ReadFile(fsys, dv)
	if err != nil {
		return nil, fmt.Errorf("cbam: read %s: %w", dv, err)
	}
	bmRaw, err := fs.ReadFile(fsys, bm)
	if err != nil {
		return nil, fmt.Errorf("cbam: read %s: %w", bm, err)
	}
	return Parse(dv, dvRaw, bm, bmRaw)
}

func newest(fsys fs.FS, pattern string) (string, error) {
	names, err := fs.Glob(fsys, pattern)
	if err != nil {
		return "", fmt.Errorf("cbam: dataset glob %s: %w", pattern, err)
	}
	var ok []string
	for _, n := range names {
		if reVersion.MatchString(n) {
			ok = append(ok, n)
		}
	}
	if len(ok) == 0 {
		return "", fmt.Errorf("cbam: no dataset file matching %s", pattern)
	}
	sort.Strings(ok)
	return ok[len(ok)-1], nil
}
