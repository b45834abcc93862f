package cbam

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

func TestEmbeddedDatasetLoadsAndReportsMalformedRows(t *testing.T) {
	t.Parallel()
	data, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if data.DefaultValuesVersion != "20260204" || data.BenchmarksVersion != "20260206" {
		t.Errorf("versions %s %s", data.DefaultValuesVersion, data.BenchmarksVersion)
	}
	// 12,532 data rows in the file, 8 malformed.
	if got := data.DefaultValueCount(); got != 12532-8 {
		t.Errorf("default values loaded %d, want %d", got, 12532-8)
	}
	// 1,822 lines: header, 5 sector headings, 12 blank separators, 1,804 benchmarks.
	if got := data.BenchmarkCount(); got != 1804 {
		t.Errorf("benchmarks loaded %d, want 1804", got)
	}
	want := map[int]string{
		5:    "shifted columns",
		325:  "2027 value with mark-up 1.5246",
		327:  "2027 value with mark-up 1.5367",
		329:  "2027 value with mark-up 1.4762",
		338:  "2027 value with mark-up 1.089",
		340:  "2027 value with mark-up 1.1132",
		2561: "2026 value with mark-up missing",
		9500: "direct value without a total",
	}
	if len(data.Malformed) != len(want) {
		t.Errorf("malformed rows %d, want %d: %+v", len(data.Malformed), len(want), data.Malformed)
	}
	for _, m := range data.Malformed {
		if !strings.Contains(m.Reason, want[m.Line]) || want[m.Line] == "" {
			t.Errorf("line %d: reason %q, want it to mention %q", m.Line, m.Reason, want[m.Line])
		}
	}
	if len(data.Notes) != 1 || !strings.Contains(data.Notes[0], "Windows-1252") {
		t.Errorf("notes %v", data.Notes)
	}
	// Windows-1252 names decoded: Türkiye and Côte d'Ivoire resolve.
	for _, code := range []string{"TR", "CI", "CW"} {
		found := false
		for _, c := range data.Countries() {
			found = found || c == code
		}
		if !found {
			t.Errorf("country %s missing (encoding?)", code)
		}
	}
}

func TestBrokenDefaultValuesFileRejectedWithLineNumbers(t *testing.T) {
	t.Parallel()
	header := strings.Join(defaultValuesHeader, ";")
	rows := []string{header,
		"China;Cement;25232900;Grey Portland cement;1.35;0.07;1.42;1.562;1.704;1.846;",
		"China;Cement;2523290;Seven digits;1.35;0.07;1.42;1.562;1.704;1.846;",
		"China;Cement;25232100;Comma decimals;1,25;0.14;1.39;1.529;1.668;1.807;",
		"Atlantis;Cement;25232100;Unknown country;1.25;0.14;1.39;1.529;1.668;1.807;",
		"China;Cement;25233000;Missing a field;1.98;0.2;2.18;2.398;2.616;2.834",
	}
	_, _, _, err := ParseDefaultValues([]byte(strings.Join(rows, "\r\n")+"\r\n"), "broken-v20990101.csv")
	var de *DatasetError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want *DatasetError", err)
	}
	lines := map[int]bool{}
	for _, r := range de.Rows {
		lines[r.Line] = true
	}
	for _, l := range []int{3, 4, 5, 6} {
		if !lines[l] || !strings.Contains(err.Error(), "line "+strconv.Itoa(l)) {
			t.Errorf("line %d not reported: %v", l, err)
		}
	}
	if lines[2] {
		t.Error("good line 2 reported")
	}
}

func TestWrongHeaderRejected(t *testing.T) {
	t.Parallel()
	_, _, _, err := ParseDefaultValues([]byte("a;b;c\r\n1;2;3\r\n"), "x-v20990101.csv")
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("err = %v", err)
	}
	_, _, err = ParseBenchmarks([]byte("\ufeffCN;Value\r\n"), "y-v20990101.csv")
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("err = %v", err)
	}
}

func TestParseBenchmarks(t *testing.T) {
	t.Parallel()
	src := "\ufeffCN code;Column B\r\nCement;\r\n25231000;0,666 (A)\r\n25231000;0,859 (B)\r\n;\r\nIron & Steel;\r\n72052100;1,460 (F)(1)\r\n72052100;1,298 (F)(2)\r\n72011011;1,210\r\n76011010;1,423 (K)\r\n72031000;0.397\r\n"
	bms, bad, err := ParseBenchmarks([]byte(src), "b-v20990101.csv")
	if err == nil {
		t.Fatalf("2 of 7 rows bad must exceed the 1%% limit; got %d rows, %d bad", len(bms), len(bad))
	}
	var de *DatasetError
	if !errors.As(err, &de) || len(de.Rows) != 2 || de.Rows[0].Line != 10 || de.Rows[1].Line != 11 {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(de.Rows[0].Reason, "not a iron_steel good") && !strings.Contains(de.Rows[0].Reason, "aluminium") {
		t.Errorf("7601 under the steel heading: %q", de.Rows[0].Reason)
	}
	good := "\ufeffCN code;Column B\r\nIron & Steel;\r\n72052100;1,460 (F)(1)\r\n72052100;1,298 (F)(2)\r\n72011011;1,210\r\n"
	bms, bad, err = ParseBenchmarks([]byte(good), "b-v20990101.csv")
	if err != nil || len(bad) != 0 || len(bms) != 3 {
		t.Fatalf("%v %v %d", err, bad, len(bms))
	}
	if bms[0].Route != "F" || bms[0].Grade != "1" || !bms[0].Value.Equal(d("1.46")) || bms[2].Route != "" {
		t.Errorf("%+v", bms)
	}
}

func TestBenchmarkHighestAlloyGrade(t *testing.T) {
	t.Parallel()
	data, _ := Embedded()
	b, err := data.BenchmarkB("72052100", "F")
	if err != nil {
		t.Fatal(err)
	}
	// 72052100 (F)(1) 1.460 and (F)(2) 1.298: the higher applies.
	if !b.Value.Equal(d("1.46")) || b.Grade != "1" {
		t.Errorf("%+v", b)
	}
	b, _ = data.BenchmarkB("72021120", "")
	if !b.Value.Equal(d("1.361")) {
		t.Errorf("ferro-manganese grades: %+v", b)
	}
}

func TestNewerDatasetReplacesOld(t *testing.T) {
	t.Parallel()
	dv, _ := embeddedData.ReadFile("data/cbam-default-values-v20260204.csv")
	bm, _ := embeddedData.ReadFile("data/cbam-benchmarks-column-b-v20260206.csv")
	newer := strings.Replace(string(dv), "China;Iron and steel;7208;", "China;Iron and steel;7208;NEWER ", 1)
	// Replace China 7208 values with a made-up newer row, to prove the newer file is the one used.
	lines := strings.Split(newer, "\r\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "China;Iron and steel;7208;") {
			lines[i] = "China;Iron and steel;7208;Newer;2.0;;2.0;2.2;2.4;2.6;(C)"
		}
	}
	dir := t.TempDir()
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("cbam-default-values-v20260204.csv", dv)
	write("cbam-default-values-v20260801.csv", []byte(strings.Join(lines, "\r\n")))
	write("cbam-benchmarks-column-b-v20260206.csv", bm)
	data, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if data.DefaultValuesVersion != "20260801" {
		t.Fatalf("version %s", data.DefaultValuesVersion)
	}
	r, err := NewCalculator(data, Params{}).Obligation(Line{Origin: "CN", CN: "72081000", Tonnes: d("1"), Year: 2026})
	if err != nil {
		t.Fatal(err)
	}
	if !r.SEE.Equal(d("2.2")) || !strings.Contains(r.DatasetVersion, "20260801") {
		t.Errorf("SEE %s version %s", r.SEE, r.DatasetVersion)
	}
	if _, err := Load(fstest.MapFS{}); err == nil {
		t.Error("empty directory must fail")
	}
}

func FuzzParseDefaultValues(f *testing.F) {
	header := strings.Join(defaultValuesHeader, ";")
	f.Add([]byte(header + "\r\nChina;Cement;25232900;Grey Portland cement;1.35;0.07;1.42;1.562;1.704;1.846;\r\n"))
	f.Add([]byte(header + "\r\nC\xf4te d'Ivoire;Cement;25070080;Calcined clay;;;;;;;\r\n"))
	f.Add([]byte(header + "\r\n\"a;b\";Cement;2523;x;;;;1;2;3;(A)\r\n"))
	if raw, err := os.ReadFile("testdata/ir-2026-1740/cbam-default-values-v20260731.csv"); err == nil {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		rows, bad, _, err := ParseDefaultValues(raw, "f-v20990101.csv")
		if err != nil {
			return
		}
		for _, r := range rows {
			if r.HasValue && (r.Total.IsNegative() || r.Direct.Add(r.Indirect).Sub(r.Total).Abs().GreaterThan(sumTolerance)) {
				t.Errorf("accepted inconsistent row %+v", r)
			}
		}
		for _, b := range bad {
			if b.Reason == "" {
				t.Error("malformed row without reason")
			}
		}
	})
}

func FuzzParseBenchmarks(f *testing.F) {
	f.Add([]byte("\ufeffCN code;Column B\r\nCement;\r\n25231000;0,666 (A)\r\n;\r\n"))
	f.Add([]byte("CN code;Column B\nIron & Steel;\n72052100;1,460 (F)(1)\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		rows, _, err := ParseBenchmarks(raw, "f-v20990101.csv")
		if err != nil {
			return
		}
		for _, r := range rows {
			if r.Value.IsNegative() || len(r.CN) != 8 {
				t.Errorf("accepted bad row %+v", r)
			}
		}
	})
}
