package article6

import (
	"testing"
)

func TestBalanceWorked(t *testing.T) {
	// Party TH, period 2026-2028: 1,000 t first transferred for 2026,
	// 600 t for 2027, 300 t acquired and used in 2028.
	adj := []Adjustment{
		{Party: "TH", Year: 2026, Quantity: 1000}, {Party: "TH", Year: 2027, Quantity: 600},
		{Party: "TH", Year: 2028, Quantity: -300}, {Party: "SG", Year: 2027, Quantity: -600},
		{Party: "TH", Year: 2031, Quantity: 50}, // outside the period
	}
	em := map[int]int64{2026: 100_000, 2027: 98_000, 2028: 95_000}
	type row struct {
		year            int
		adjust, balance string
	}
	cases := []struct {
		method Method
		target int
		want   []row
	}{
		// balance = emissions + first transferred - used, each year.
		{MultiYearTrajectory, 0, []row{{2026, "1000", "101000"}, {2027, "600", "98600"}, {2028, "-300", "94700"}}},
		// the same, plus the period total 293,000 + 1,300 = 294,300.
		{MultiYearBudget, 0, []row{{2026, "1000", "101000"}, {2027, "600", "98600"}, {2028, "-300", "94700"}, {0, "1300", "294300"}}},
		{SingleYearTrajectory, 2028, []row{{2026, "1000", "101000"}, {2027, "600", "98600"}, {2028, "-300", "94700"}}},
		// averaging: (1,000 + 600 - 300) / 3 = 433.333 (3 places) applied to 2028 only.
		{SingleYearAveraging, 2028, []row{{2026, "0", "100000"}, {2027, "0", "98000"}, {2028, "433.333", "95433.333"}}},
	}
	for _, c := range cases {
		rows, err := Balance(BalanceParams{Party: "TH", Method: c.method, FirstYear: 2026, LastYear: 2028, TargetYear: c.target, Emissions: em, Adjustments: adj})
		if err != nil {
			t.Fatalf("%s: %v", c.method, err)
		}
		if len(rows) != len(c.want) {
			t.Fatalf("%s: %d rows, want %d", c.method, len(rows), len(c.want))
		}
		for i, w := range c.want {
			r := rows[i]
			if r.Year != w.year || r.Adjustment.String() != w.adjust || r.Balance.String() != w.balance {
				t.Errorf("%s row %d: %d %s %s, want %d %s %s", c.method, i, r.Year, r.Adjustment, r.Balance, w.year, w.adjust, w.balance)
			}
		}
	}
	for _, bad := range []BalanceParams{
		{Party: "TH", Method: SingleYearAveraging, FirstYear: 2026, LastYear: 2028, TargetYear: 2030},
		{Party: "TH", Method: "annual", FirstYear: 2026, LastYear: 2028},
		{Party: "TH", Method: MultiYearBudget, FirstYear: 2028, LastYear: 2026},
	} {
		if _, err := Balance(bad); err == nil {
			t.Errorf("Balance(%+v) accepted", bad)
		}
	}
}
