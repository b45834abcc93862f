package mrv

import (
	"testing"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

// Attribution conserves emissions: a source's embedded direct emissions,
// split over consumers that take all its output, arrive whole (each share is
// the exact fraction tonnes / activity level, rounded once at the end, so
// the shares add up to the source's total within one rounding unit per
// consumer), and each share is the exactly rounded quotient.
func TestAttributionConservesEmissions(t *testing.T) {
	t.Parallel()
	unit := decimal.New(1, -ReportDecimals)
	rapid.Check(t, func(t *rapid.T) {
		em := decimal.New(rapid.Int64Range(1, 1e12).Draw(t, "em"), -int32(rapid.IntRange(0, 6).Draw(t, "emExp")))
		n := rapid.IntRange(1, 5).Draw(t, "consumers")
		takes := make([]decimal.Decimal, n)
		var al decimal.Decimal
		for i := range takes {
			takes[i] = decimal.New(rapid.Int64Range(1, 1e9).Draw(t, "take"), -int32(rapid.IntRange(0, 3).Draw(t, "takeExp")))
			al = al.Add(takes[i])
		}
		inst := Installation{Name: "p", Country: "CN", Year: 2026,
			Streams:   []SourceStream{{ID: "s", Process: "src", Kind: "process", Quantity: em, EF: d("1")}},
			Processes: []Process{{ID: "src", CN: "26011200", ActivityLevel: al}}}
		for i, tk := range takes {
			inst.Processes = append(inst.Processes, Process{ID: string(rune('a' + i)), CN: "72011011", ActivityLevel: d("1"),
				Precursors: []PrecursorUse{{FromProcess: "src", Tonnes: tk}}})
		}
		r, err := Compute(inst)
		if err != nil {
			t.Fatal(err)
		}
		var sum decimal.Decimal
		for i, g := range r.Goods[1:] {
			want := em.Mul(takes[i]).DivRound(al, ReportDecimals)
			if !g.PrecursorDirect.Equal(want) {
				t.Fatalf("consumer %d: %s, want %s", i, g.PrecursorDirect, want)
			}
			sum = sum.Add(g.PrecursorDirect)
		}
		if sum.Sub(em).Abs().GreaterThan(unit.Mul(decimal.NewFromInt(int64(n)))) {
			t.Fatalf("shares add up to %s, source emitted %s", sum, em)
		}
	})
}
