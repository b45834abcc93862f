package registry

import (
	"context"
	"testing"

	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestLookupShowsFreezes: a serial lookup names the active freezes that
// meet the range, by the id the freezes list and unfreeze use, with the
// frozen part only; once unfrozen the lookup names none.
func TestLookupShowsFreezes(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	hub := Actor{OrgID: f.must(t, system, CreateOrganisation{Name: "Corridor hub", Country: "SG"}).ID, Role: RoleHub}
	o := Origin{"CN", f.iss}
	res := f.must(t, hub, Freeze{Code: "reconcile_unexpected", Reconciliation: "R7", Reason: "test", Blocks: []FreezeBlock{{Origin: o, Start: 5, End: 20}}})
	fs, err := f.n.Freezes(Operator)
	if err != nil || len(fs) != 1 {
		t.Fatalf("freezes: %v %v", fs, err)
	}
	info, err := f.n.Lookup(context.Background(), f.holder, f.serial(t, 1, 10))
	if err != nil {
		t.Fatal(err)
	}
	want := SerialFreeze{Freeze: fs[0].Seq, Start: 5, End: 10, Code: "reconcile_unexpected", Reconciliation: "R7"}
	if len(info.Frozen) != 1 || info.Frozen[0] != want || fs[0].Seq != res.Seq {
		t.Fatalf("lookup frozen %+v, want %+v (freeze result seq %d)", info.Frozen, want, res.Seq)
	}
	if info, _ := f.n.Lookup(context.Background(), f.holder, f.serial(t, 21, 30)); len(info.Frozen) != 0 {
		t.Fatalf("a range the freeze does not meet: %+v", info.Frozen)
	}
	f.must(t, system, Unfreeze{Freeze: fs[0].Seq, Reason: "corrected"})
	if info, _ := f.n.Lookup(context.Background(), f.holder, f.serial(t, 1, 10)); len(info.Frozen) != 0 {
		t.Fatalf("after unfreeze: %+v", info.Frozen)
	}
}
