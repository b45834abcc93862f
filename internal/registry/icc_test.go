package registry

import (
	"maps"
	"math"
	"slices"
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

// TestCheckImportPurposes: an import's stated purposes are known ones,
// each once, in the order NDC, OIMP, OP; none stated is accepted
// (unknown).
func TestCheckImportPurposes(t *testing.T) {
	for _, c := range []struct {
		purposes string
		ok       bool
	}{
		{"", true}, {"NDC", true}, {"OIMP", true}, {"OP", true}, {"NDC,OIMP", true}, {"NDC,OIMP,OP", true}, {"OIMP,OP", true},
		{"OIMP,NDC", false}, {"NDC,NDC", false}, {"ndc", false}, {"NDC,", false}, {",NDC", false}, {"NDC OIMP", false}, {"CORSIA", false},
	} {
		err := checkImportPurposes("itmo.purposes", &ImportITMO{Purposes: c.purposes})
		if (err == nil) != c.ok {
			t.Errorf("checkImportPurposes(%q) = %v, want ok %v", c.purposes, err, c.ok)
		}
	}
	if err := checkImportPurposes("itmo.purposes", nil); err != nil {
		t.Errorf("no statement: %v", err)
	}
}

// TestWithSpan: a Singapore registry's ITMO ranges never overlap, and the
// latest import of a unit decides its purposes (units that left and came
// back under another statement), for random sequences of imports
// (property, against a per-unit model).
func TestWithSpan(t *testing.T) {
	purposes := []string{"", "NDC", "OIMP", "NDC,OIMP"}
	f := func(ops []struct{ A, B, P uint8 }) bool {
		var spans []iccSpan
		model := map[int64]string{}
		for _, o := range ops {
			lo, hi := int64(o.A%40)+1, int64(o.B%40)+1
			if lo > hi {
				lo, hi = hi, lo
			}
			p := purposes[int(o.P)%len(purposes)]
			before := slices.Clone(spans)
			next := withSpan(spans, iccSpan{lo, hi, p})
			if !slices.Equal(before, spans) { // the state's copy is shared
				return false
			}
			spans = next
			for u := lo; u <= hi; u++ {
				model[u] = p
			}
		}
		got := map[int64]string{}
		for i, s := range spans {
			if s.Start > s.End || i > 0 && spans[i-1].End >= s.Start {
				return false
			}
			for u := s.Start; u <= s.End; u++ {
				got[u] = s.Purposes
			}
		}
		return maps.Equal(got, model)
	}
	if err := quick.Check(f, nil); err != nil {
		t.Fatal(err)
	}
}
