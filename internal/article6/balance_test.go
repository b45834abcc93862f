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

// TestBalanceAveragingElapsedYears builds the single-year averaging case
// from decision 2/CMA.3, annex, para. 7(a)(ii) (as quoted in
// docs/sources.md): the average annual amount of ITMOs first transferred
// and used over the NDC implementation period, "by taking the cumulative
// amount of ITMOs and dividing by the number of elapsed years", applied in
// the NDC year. A Party with a 2030 single-year NDC and the period
// 2021-2030 first transfers 1,200 t for 2022 and 600 t for 2025, uses
// 300 t in 2026 and first transfers 900 t for 2028. As of 2026, six years
// (2021-2026) have elapsed and the cumulative amount is 1,200 + 600 - 300 =
// 1,500 t: the average is 1,500 / 6 = 250 t (not 1,500 / 10 = 150 t, the
// period's length), and the 2028 transfer is not yet in it. Once the
// period has ended, the cumulative 2,400 t over ten elapsed years is 240 t.
func TestBalanceAveragingElapsedYears(t *testing.T) {
	adj := []Adjustment{
		{Party: "TH", Year: 2022, Quantity: 1200}, {Party: "TH", Year: 2025, Quantity: 600},
		{Party: "TH", Year: 2026, Quantity: -300}, {Party: "TH", Year: 2028, Quantity: 900},
	}
	for _, c := range []struct {
		asOf int
		want string
	}{
		{2026, "250"},
		{2021, "0"},       // one elapsed year, nothing first transferred in it
		{2022, "600"},     // 1,200 over two years
		{0, "240"},        // the period has ended
		{2030, "240"},     // its last year
		{2035, "240"},     // after it
		{2028, "300"},     // 2,400 over eight years
		{2027, "214.286"}, // 1,500 over seven years, to AveragingPlaces
	} {
		rows, err := Balance(BalanceParams{Party: "TH", Method: SingleYearAveraging, FirstYear: 2021, LastYear: 2030, TargetYear: 2030, AsOf: c.asOf, Adjustments: adj})
		if err != nil {
			t.Fatalf("as of %d: %v", c.asOf, err)
		}
		for _, r := range rows {
			want := "0"
			if r.Year == 2030 {
				want = c.want
			}
			if r.Adjustment.String() != want {
				t.Errorf("as of %d: %d adjusted by %s, want %s", c.asOf, r.Year, r.Adjustment, want)
			}
		}
		// The per-year columns report what happened, whatever the date.
		if rows[2028-2021].FirstTransferred != 900 || rows[2026-2021].Used != 300 {
			t.Errorf("as of %d: rows %+v", c.asOf, rows)
		}
	}
	if _, err := Balance(BalanceParams{Party: "TH", Method: SingleYearAveraging, FirstYear: 2021, LastYear: 2030, TargetYear: 2030, AsOf: 2020, Adjustments: adj}); err == nil {
		t.Error("a date before the period was accepted")
	}
}
