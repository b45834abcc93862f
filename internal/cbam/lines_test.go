package cbam

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

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
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file; run go test -update and review the diff.\ngot:\n%s", name, got)
	}
}

func TestRunGoldenCSV(t *testing.T) {
	in, err := os.Open("testdata/lines.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var out bytes.Buffer
	sink := NewCSVSink(&out)
	sum, err := Run(context.Background(), calculator(t), NewCSVRows(in), sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Flush(); err != nil {
		t.Fatal(err)
	}
	golden(t, "results.golden.csv", out.Bytes())
	summary, _ := json.MarshalIndent(sum, "", "  ")
	golden(t, "summary.golden.json", append(summary, '\n'))
	if sum.Lines != 14 || sum.Errors != 6 {
		t.Errorf("lines %d errors %d, want 14 and 6", sum.Lines, sum.Errors)
	}
	for _, field := range []string{"row 10: year", "row 11: cn", "row 12: origin", "row 13: tonnes", "row 14: tonnes", "row 15: route"} {
		if !strings.Contains(strings.Join(sum.FirstErrors, "\n"), field) {
			t.Errorf("no error naming %q in %v", field, sum.FirstErrors)
		}
	}
}

func TestRunXLSXRoundTrip(t *testing.T) {
	t.Parallel()
	in, _ := os.ReadFile("testdata/lines.csv")
	// CSV → XLSX results, then read the results back as rows.
	sink, err := NewXLSXSink()
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Run(context.Background(), calculator(t), NewCSVRows(bytes.NewReader(in)), sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := sink.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	rows, err := NewXLSXRows(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for {
		rec, _, err := rows.Next()
		if err != nil {
			break
		}
		if n == 0 && rec[0] != "row" {
			t.Errorf("header %v", rec)
		}
		if n == 1 && (rec[2] != "CN" || !strings.HasPrefix(rec[19], "2169.832")) {
			t.Errorf("first result row %v", rec)
		}
		n++
	}
	if n != sum.Lines+1 {
		t.Errorf("xlsx rows %d, want %d", n, sum.Lines+1)
	}
}

func TestLineReaderHeader(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ src, want string }{
		{"", "empty"},
		{"origin,cn,tonnes\n", `"year" missing`},
		{"origin,cn,tonnes,year,colour\n", `unknown column "colour"`},
		{"origin;cn;tonnes;year;direct\n", "both direct and benchmark_a"},
	} {
		_, err := NewLineReader(NewCSVRows(strings.NewReader(tc.src)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.src, err, tc.want)
		}
	}
	lr, err := NewLineReader(NewCSVRows(strings.NewReader("\ufefforigin;cn;tonnes;year;quarter\r\nCN;7208 10 00;12.5;2026;Q2\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	l, row, err := lr.Next()
	if err != nil || row != 2 || l.CN != "72081000" || l.Quarter != 2 || !l.Tonnes.Equal(d("12.5")) {
		t.Errorf("%+v row %d err %v", l, row, err)
	}
}

func FuzzLineReader(f *testing.F) {
	f.Add("origin,cn,tonnes,year\nCN,72081000,1000,2026\n")
	f.Add("origin;cn;tonnes;year;direct;benchmark_a\r\nVN;76011010;0.5;2027;1.2;1.423\r\n")
	f.Add("id,origin,cn,tonnes,year,quarter,price\nx,\"C\"\"N\",72081000,-1,20x6,9,1,2\n")
	f.Fuzz(func(t *testing.T, src string) {
		lr, err := NewLineReader(NewCSVRows(strings.NewReader(src)))
		if err != nil {
			return
		}
		for i := 0; i < 1000; i++ {
			l, _, err := lr.Next()
			if err != nil {
				if _, ok := err.(*LineError); ok {
					continue
				}
				return
			}
			if l.Origin == "" || l.CN == "" {
				t.Fatalf("accepted a line without origin or CN: %+v", l)
			}
		}
	})
}

func TestFormatDecimalMatchesString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"0", "1", "-1", "1.5", "1335.750", "0.000123", "-0.5", "100", "12345678901234567.89", "123456789012345678901234.5", "0.0", "7E+3", "-12.3400"} {
		v := d(s)
		if got, want := formatDecimal(v), v.String(); got != want {
			t.Errorf("formatDecimal(%s) = %s, want %s", s, got, want)
		}
	}
}
