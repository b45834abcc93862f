package numfmt

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

func TestInt(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0"},
		{7, "7"},
		{999, "999"},
		{1000, "1,000"},
		{12345, "12,345"},
		{123456, "123,456"},
		{1234567, "1,234,567"},
		{-1, "-1"},
		{-999, "-999"},
		{-1000, "-1,000"},
		{-1234567, "-1,234,567"},
		{math.MaxInt64, "9,223,372,036,854,775,807"},
		{math.MinInt64, "-9,223,372,036,854,775,808"},
	}
	for _, tt := range tests {
		if got := Int(tt.n); got != tt.want {
			t.Errorf("Int(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestDecimal(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"0", "0"},
		{"0.5", "0.5"},
		{"-0.5", "-0.5"},
		{"12.5", "12.5"},
		{"-12.5", "-12.5"}, // the old rulebook copy wrote "-12-0.5"
		{"1234.5", "1,234.5"},
		{"-1234.50", "-1,234.5"},
		{"1000000", "1,000,000"},
		{"-1000000.125", "-1,000,000.125"},
		{"2169.832", "2,169.832"},
		{"12345678901234567890.1", "12,345,678,901,234,567,890.1"}, // beyond int64
	}
	for _, tt := range tests {
		if got := Decimal(decimal.RequireFromString(tt.in)); got != tt.want {
			t.Errorf("Decimal(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestGroupingProperty: for any integer or decimal, removing the commas
// gives back the plain numeral, and every comma is followed by exactly
// three digits before the next comma or the point.
func TestGroupingProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.Int64().Draw(t, "n")
		exp := rapid.Int32Range(-6, 0).Draw(t, "exp")
		d := decimal.New(n, exp)
		for _, pair := range [][2]string{{Int(n), strconv.FormatInt(n, 10)}, {Decimal(d), d.String()}} {
			got, plain := pair[0], pair[1]
			if strings.ReplaceAll(got, ",", "") != plain {
				t.Fatalf("%q without commas is not %q", got, plain)
			}
			whole, _, _ := strings.Cut(strings.TrimPrefix(got, "-"), ".")
			parts := strings.Split(whole, ",")
			for i, p := range parts {
				if p == "" || len(p) > 3 || i > 0 && len(p) != 3 {
					t.Fatalf("%q: group %q", got, p)
				}
			}
		}
	})
}
