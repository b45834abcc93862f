// Package numfmt writes numbers for people in the one way Corridor uses in
// English text: comma-grouped thousands, a point before decimals
// (1,234,567.5), the sign in front.
package numfmt

import (
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// Int groups an integer's digits by thousands: -1234567 → "-1,234,567".
func Int(n int64) string { return group(strconv.FormatInt(n, 10)) }

// Decimal groups a decimal's whole digits by thousands and keeps its
// fraction as written: -1234.50 → "-1,234.5".
func Decimal(d decimal.Decimal) string { return group(d.String()) }

// group inserts commas into the whole part of a plain decimal numeral
// (optional '-', digits, optional '.' and digits).
func group(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	b.WriteString(sign)
	for i := range len(whole) {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(whole[i])
	}
	if hasFrac {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}
