package linkage

import (
	"strings"
	"testing"
)

// TestDefaultRatesSayWhatToReplace: every rate of the default scenario is
// either the ECB figure (its source names the series key EXR.A.<cur>.EUR) or
// a flagged stand-in whose note says so, names the series to replace it with
// and when it was looked for. The note is what the linkage page shows, so a
// stand-in can never appear as if it were the ECB's number.
func TestDefaultRatesSayWhatToReplace(t *testing.T) {
	sc, err := DefaultScenario()
	if err != nil {
		t.Fatal(err)
	}
	if sc.ExchangeRates == nil || sc.ExchangeRates.Year != 2025 {
		t.Fatalf("default scenario exchange rates: %+v", sc.ExchangeRates)
	}
	for _, code := range []string{"CNY", "IDR", "THB", "SGD"} {
		r, ok := sc.ExchangeRates.Rates[code]
		if !ok {
			t.Errorf("rate %s missing", code)
			continue
		}
		key := "EXR.A." + code + ".EUR.SP00.A"
		if !r.Assumption {
			if !strings.Contains(r.Source, key) {
				t.Errorf("rate %s is not flagged but its source does not name %s: %+v", code, key, r)
			}
			continue
		}
		for _, want := range []string{"stand-in", key, "searched for on 2026-12-01", "replace it with the ECB figure"} {
			if !strings.Contains(r.Note, want) {
				t.Errorf("stand-in rate %s: note lacks %q: %q", code, want, r.Note)
			}
		}
		if r.Source != "" {
			t.Errorf("stand-in rate %s carries a source %q, which would read as the ECB's figure", code, r.Source)
		}
	}
}
