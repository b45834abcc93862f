package cbam

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// TestErrorPrefixOnce: an input error names the package once, in front;
// the inner error it wraps carries no prefix, so callers (CLI, API,
// results file) show it as is instead of stripping "cbam: " (they used
// to, in seven places).
func TestErrorPrefixOnce(t *testing.T) {
	data, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	calc := NewCalculator(data, Params{})
	one := decimal.NewFromInt(1)
	lines := []struct {
		name string
		line Line
	}{
		{"unknown CN", Line{Origin: "CN", CN: "01010000", Tonnes: one, Year: 2026}},
		{"EU origin", Line{Origin: "DE", CN: "72081000", Tonnes: one, Year: 2026}},
		{"exempt origin", Line{Origin: "NO", CN: "72081000", Tonnes: one, Year: 2026}},
		{"unknown country", Line{Origin: "QQ", CN: "72081000", Tonnes: one, Year: 2026}},
		{"year before 2026", Line{Origin: "CN", CN: "72081000", Tonnes: one, Year: 2025}},
		{"negative tonnes", Line{Origin: "CN", CN: "72081000", Tonnes: one.Neg(), Year: 2026}},
	}
	for _, tt := range lines {
		_, err := calc.Obligation(tt.line)
		ie, ok := errors.AsType[*InputError](err)
		if !ok {
			t.Errorf("%s: %v is not an InputError", tt.name, err)
			continue
		}
		if strings.Contains(ie.Err.Error(), "cbam:") {
			t.Errorf("%s: inner error %q carries the package prefix", tt.name, ie.Err)
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "cbam: ") || strings.Count(msg, "cbam:") != 1 {
			t.Errorf("%s: %q should name the package once, in front", tt.name, msg)
		}
	}
	if _, err := ParsePricePeriod("2026-Q9"); err == nil || strings.Contains(err.Error(), "cbam:") {
		t.Errorf("ParsePricePeriod: %v", err)
	}

	// A file run: the results' error column and the summary show each
	// line's error without the prefix.
	src := NewCSVRows(strings.NewReader("origin,cn,tonnes,year\nCN,01010000,1,2026\nDE,72081000,1,2026\n"))
	var out bytes.Buffer
	sink := NewCSVSink(&out)
	sum, err := Run(context.Background(), calc, src, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Flush(); err != nil {
		t.Fatal(err)
	}
	if sum.Errors != 2 || len(sum.FirstErrors) != 2 {
		t.Fatalf("summary: %+v", sum)
	}
	for _, e := range sum.FirstErrors {
		if !strings.HasPrefix(e, "row ") || strings.Contains(e, "cbam:") {
			t.Errorf("summary error %q", e)
		}
	}
	if strings.Contains(out.String(), "cbam:") {
		t.Errorf("results file shows the prefix:\n%s", out.String())
	}
}

// TestEmptyHeadingNamesBothRowsAndFinerCodes: 31021010 falls under the
// empty heading 3102 for China and for other countries; the error says both
// rows are empty and names the finer codes that carry values.
func TestEmptyHeadingNamesBothRowsAndFinerCodes(t *testing.T) {
	t.Parallel()
	c := calculator(t)
	_, err := c.Obligation(Line{Origin: "CN", CN: "31021010", Tonnes: d("100"), Year: 2028, Price: d("80")})
	if !errors.Is(err, ErrNoDefaultValue) {
		t.Fatalf("err = %v, want ErrNoDefaultValue", err)
	}
	for _, want := range []string{"from China (line 2640 is empty)", "nor from Other countries and territories (line 12263 is empty)", "finer codes 31021012, 31021015, 31021019"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v lacks %q", err, want)
		}
	}
}
