package registry

import (
	"slices"
	"testing"
)

// TestISOCountries: the committed list is the 249 assigned codes, sorted
// (ISOCountry's binary search needs it), with no user-assigned code.
func TestISOCountries(t *testing.T) {
	c := isoCountries()
	if len(c) != 249 || !slices.IsSorted(c) || len(slices.Compact(slices.Clone(c))) != 249 {
		t.Fatalf("%d codes, sorted %v", len(c), slices.IsSorted(c))
	}
	for _, ok := range []string{"CN", "ID", "TH", "VN", "MY", "SG", "KH", "JP", "LA", "AD", "ZW"} {
		if !ISOCountry(ok) {
			t.Errorf("%s is assigned", ok)
		}
	}
	for _, bad := range []string{"ZZ", "AA", "XK", "QM", "EU", "UK", "cn", "C", ""} {
		if ISOCountry(bad) {
			t.Errorf("%q is not an assigned code", bad)
		}
	}
}
