package registry

import (
	"testing"

	"github.com/corridor-carbon/corridor/internal/article6"
)

// TestFreezeExported: which completed exports freeze an authorisation at
// the host's node (a first international transfer): units of an issuance
// made here under an NDC authorisation leaving for another Party's
// registry do; units of an issuance under an authorisation without NDC
// (first transfer by its OIMP definition), of an issuance under none, or
// leaving for a registry of the same Party do not. A frozen authorisation
// stays frozen.
func TestFreezeExported(t *testing.T) {
	auths := map[string][]article6.Purpose{"NDC-1": {article6.PurposeNDC}, "OIMP-1": {article6.PurposeOIMP}, "BOTH-1": {article6.PurposeNDC, article6.PurposeOIMP}}
	issuedUnder := map[int64]string{1: "NDC-1", 2: "OIMP-1", 3: "BOTH-1"}
	for _, c := range []struct {
		name      string
		to        string
		issuances []int64
		frozen    []string
	}{
		{"NDC units abroad", "CN", []int64{1}, []string{"NDC-1"}},
		{"NDC and OIMP units abroad", "CN", []int64{3}, []string{"BOTH-1"}},
		{"OIMP-only units abroad", "CN", []int64{2}, nil},
		{"units under no authorisation", "CN", []int64{9}, nil},
		{"to a registry of the same Party", "ID2", []int64{1, 3}, nil},
		{"no destination", "", []int64{1}, nil},
		{"several at once", "JP", []int64{2, 1, 9, 3}, []string{"BOTH-1", "NDC-1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := newState()
			for id, ps := range auths {
				st.auths.Set(id, authState{Current: article6.Authorisation{ID: id, Purposes: ps}})
			}
			for iss, id := range issuedUnder {
				st.authOf.Set(iss, id)
			}
			st.freezeExported("ID", c.to, c.issuances)
			var got []string
			for id, s := range st.auths.All() {
				if s.Frozen {
					got = append(got, id)
				}
			}
			if len(got) != len(c.frozen) {
				t.Fatalf("frozen %v, want %v", got, c.frozen)
			}
			for i := range got {
				if got[i] != c.frozen[i] {
					t.Fatalf("frozen %v, want %v", got, c.frozen)
				}
			}
			// Nothing unfreezes: a later export of other units leaves them frozen.
			st.freezeExported("ID", "ID", c.issuances)
			for _, id := range got {
				if !st.auths.Get(id).Frozen {
					t.Fatalf("%s unfrozen", id)
				}
			}
		})
	}
}
