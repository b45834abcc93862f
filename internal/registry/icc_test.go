package registry

import (
	"math"
	"testing"
	"testing/quick"
)

// TestICCLimit: 5 % of taxable emissions, rounded down to whole tonnes.
func TestICCLimit(t *testing.T) {
	for _, c := range []struct {
		taxable, want int64
	}{
		{0, 0}, {-5, 0}, {1, 0}, {19, 0}, {20, 1}, {39, 1}, {40, 2},
		{25_000, 1250}, {50_000, 2500}, {50_019, 2500}, {50_020, 2501},
		{math.MaxInt64, math.MaxInt64 / 20},
	} {
		if got := ICCLimit(c.taxable); got != c.want {
			t.Errorf("ICCLimit(%d) = %d, want %d", c.taxable, got, c.want)
		}
	}
	// The limit is the largest whole number of tonnes not above 5 %:
	// 20·limit ≤ taxable < 20·(limit+1).
	prop := func(x int64) bool {
		x = x & (1<<58 - 1)
		l := ICCLimit(x)
		return 20*l <= x && x < 20*(l+1)
	}
	if err := quick.Check(prop, nil); err != nil {
		t.Fatal(err)
	}
}
