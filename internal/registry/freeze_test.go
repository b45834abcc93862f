package registry

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestFreeze: a freeze by the hub blocks the serials it names in every
// kind that moves units (transfer, retire, cancel, reserve by serials; a
// quantity selection passes over them; an escrow holding them cannot
// complete, only void), changes no quantity, survives a restart and
// replays in verify; only the administrator unfreezes, with a reason, and
// then the units move again.
func TestFreeze(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		f := newFixture(t, tg)
		hub := Actor{OrgID: f.must(t, system, CreateOrganisation{Name: "Corridor hub", Country: "SG"}).ID, Role: RoleHub}
		o := Origin{"CN", f.iss}
		// An escrow holding 1-10 before the freeze.
		esc := f.must(t, f.holder, Reserve{From: f.a1, Units: Units{Serials: []string{f.serial(t, 1, 10)}}, ToRegistry: "TH", ToAccountRef: "1",
			Authority: &Authority{Role: AuthorityHub, OrgID: hub.OrgID}})
		before := f.n.Totals()
		bal := f.n.OriginBlocks()

		fr := Freeze{Code: "reconcile_unexpected", Reconciliation: "R1", Reason: "test", Blocks: []FreezeBlock{{Origin: o, Start: 1, End: 100}, {Origin: Origin{"TH", 3}, Start: 5, End: 6}}}
		if _, err := f.do(t, system, fr); !isForbidden(err) {
			t.Fatalf("administrator freeze: %v", err)
		}
		if _, err := f.do(t, f.holder, fr); !isForbidden(err) {
			t.Fatalf("holder freeze: %v", err)
		}
		if _, err := f.do(t, hub, Freeze{Code: "x", Reason: "r", Blocks: []FreezeBlock{{Origin: o, Start: 5, End: 4}}}); codeOf(err) != ledger.CodeInvalid {
			t.Fatalf("bad range: %v", err)
		}
		fz := f.must(t, hub, fr)
		// Property: freezing changes no quantity, balance or block.
		if after := f.n.Totals(); !reflect.DeepEqual(before.ByState, after.ByState) || before.Issued != after.Issued {
			t.Fatalf("totals changed by a freeze: %+v → %+v", before, after)
		}
		if !reflect.DeepEqual(bal, f.n.OriginBlocks()) || fz.Quantity != 0 || len(fz.Blocks) != 0 {
			t.Fatalf("a freeze moved blocks: %+v", fz)
		}

		frozen := func(name string, req Request) {
			t.Helper()
			if _, err := f.do(t, f.holder, req); codeOf(err) != CodeUnitsFrozen {
				t.Fatalf("%s of frozen units: %v, want %s", name, err, CodeUnitsFrozen)
			}
		}
		s := Units{Serials: []string{f.serial(t, 50, 60)}}
		frozen("transfer", Transfer{From: f.a1, To: f.a2, Units: s})
		frozen("retire", Retire{From: f.a1, Units: s, Beneficiary: "b", Purpose: "p"})
		frozen("cancel", Cancel{From: f.a1, Units: s})
		frozen("reserve", Reserve{From: f.a1, Units: s, ToAccount: f.a2})
		frozen("partly frozen", Transfer{From: f.a1, To: f.a2, Units: Units{Serials: []string{f.serial(t, 95, 120)}}})
		if _, err := f.do(t, hub, Complete{Pending: esc.Pending}); codeOf(err) != CodeUnitsFrozen {
			t.Fatalf("export of frozen units in escrow: %v", err)
		}
		// A quantity selection takes the first unfrozen serials.
		res := f.must(t, f.holder, Transfer{From: f.a1, To: f.a2, Units: Units{Quantity: 5, UnitType: "CCER"}})
		if len(res.Blocks) != 1 || res.Blocks[0].Start != 101 || res.Blocks[0].End != 105 {
			t.Fatalf("quantity selection took %+v, want 101-105", res.Blocks)
		}
		// Voiding the escrow stays possible; its units stay frozen.
		f.must(t, hub, Void{Pending: esc.Pending, Reason: "frozen"})
		frozen("transfer after void", Transfer{From: f.a1, To: f.a2, Units: Units{Serials: []string{f.serial(t, 1, 1)}}})

		// Restart: the freeze is rebuilt from the journal; verify replays it.
		f.n.Close()
		n, err := Open(context.Background(), f.n.db, Options{Code: "CN"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Close)
		f.n = n
		frozen("transfer after restart", Transfer{From: f.a1, To: f.a2, Units: s})
		verifyOK(t, n)
		fs, err := n.Freezes(Operator)
		if err != nil || len(fs) != 1 || fs[0].Seq != fz.Seq || !reflect.DeepEqual(fs[0].Freeze, fr) {
			t.Fatalf("freezes: %+v %v", fs, err)
		}
		if _, err := n.Freezes(f.holder); !isForbidden(err) {
			t.Fatalf("holder reads freezes: %v", err)
		}

		// Only the administrator unfreezes, with a reason, an active freeze.
		if _, err := f.do(t, hub, Unfreeze{Freeze: fz.Seq, Reason: "r"}); !isForbidden(err) {
			t.Fatalf("hub unfreeze: %v", err)
		}
		if _, err := f.do(t, system, Unfreeze{Freeze: fz.Seq}); codeOf(err) != ledger.CodeInvalid {
			t.Fatalf("unfreeze without reason: %v", err)
		}
		if _, err := f.do(t, system, Unfreeze{Freeze: fz.Seq + 1000, Reason: "r"}); codeOf(err) != CodeFreezeNotFound {
			t.Fatalf("unfreeze of no freeze: %v", err)
		}
		f.must(t, system, Unfreeze{Freeze: fz.Seq, Reason: "corrected by entry 9"})
		if _, err := f.do(t, system, Unfreeze{Freeze: fz.Seq, Reason: "again"}); codeOf(err) != CodeFreezeNotFound {
			t.Fatalf("second unfreeze: %v", err)
		}
		f.must(t, f.holder, Transfer{From: f.a1, To: f.a2, Units: s})
		verifyOK(t, n)
		if snap, err := n.Snapshot(Operator); err != nil || len(snap.Frozen) != 0 || snap.Seq != n.Totals().JournalSeq {
			t.Fatalf("snapshot: %+v %v", snap.Frozen, err)
		}
	})
}

func (f *fixture) serial(t *testing.T, start, end int64) string {
	t.Helper()
	x, err := f.n.Issuance(Operator, f.iss)
	if err != nil {
		t.Fatal(err)
	}
	return ledger.Serial{Registry: "CN", UnitType: x.UnitType, Project: x.Project, Vintage: x.Vintage, Issuance: f.iss, Start: start, End: end}.String()
}

// codeOf is err's ledger code ("" for nil or another error).
func codeOf(err error) string {
	if e, ok := ledger.AsError(err); ok {
		return e.Code
	}
	return ""
}

// TestFreezeProperty: over random freezes, unfreezes and moves (by
// quantity and by serials, between two accounts), a freeze or unfreeze
// never changes a quantity or a block, no move ever takes a frozen serial,
// and the journal verifies at the end.
func TestFreezeProperty(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		// One node for every run (a database per run is slow on
		// PostgreSQL); each run lifts its freezes at the end.
		f := newFixture(t, tg)
		hub := Actor{OrgID: f.must(t, system, CreateOrganisation{Name: "Corridor hub", Country: "SG"}).ID, Role: RoleHub}
		o := Origin{"CN", f.iss}
		rapid.Check(t, func(rt *rapid.T) {
			active := map[int64][2]int64{}
			defer func() {
				for seq := range active {
					f.must(t, system, Unfreeze{Freeze: seq, Reason: "end of run"})
				}
			}()
			accs := []int64{f.a1, f.a2}
			for i := range rapid.IntRange(1, 12).Draw(rt, "steps") {
				switch rapid.IntRange(0, 3).Draw(rt, fmt.Sprintf("op%d", i)) {
				case 0, 1:
					before, blocks := f.n.Totals(), f.n.OriginBlocks()
					if len(active) > 0 && rapid.Bool().Draw(rt, "unfreeze") {
						seqs := slices.Sorted(maps.Keys(active))
						seq := rapid.SampledFrom(seqs).Draw(rt, "seq")
						f.must(t, system, Unfreeze{Freeze: seq, Reason: "corrected"})
						delete(active, seq)
					} else {
						s := rapid.Int64Range(1, 1000).Draw(rt, "start")
						e := rapid.Int64Range(s, min(1000, s+200)).Draw(rt, "end")
						res := f.must(t, hub, Freeze{Code: "reconcile_unexpected", Reason: "p", Blocks: []FreezeBlock{{Origin: o, Start: s, End: e}}})
						active[res.Seq] = [2]int64{s, e}
					}
					if after := f.n.Totals(); !reflect.DeepEqual(before.ByState, after.ByState) || !reflect.DeepEqual(blocks, f.n.OriginBlocks()) {
						rt.Fatalf("a freeze or unfreeze changed the ledger")
					}
				default:
					from := rapid.SampledFrom(accs).Draw(rt, "from")
					to := f.a1 + f.a2 - from
					u := Units{Quantity: rapid.Int64Range(1, 300).Draw(rt, "qty"), UnitType: "CCER"}
					if rapid.Bool().Draw(rt, "serials") {
						s := rapid.Int64Range(1, 1000).Draw(rt, "s")
						u = Units{Serials: []string{f.serial(t, s, rapid.Int64Range(s, min(1000, s+100)).Draw(rt, "e"))}}
					}
					res, err := f.do(t, f.holder, Transfer{From: from, To: to, Units: u})
					if err != nil {
						continue
					}
					for _, b := range res.Blocks {
						for seq, r := range active {
							if b.Start <= r[1] && r[0] <= b.End {
								rt.Fatalf("moved %d-%d, frozen %d-%d by %d", b.Start, b.End, r[0], r[1], seq)
							}
						}
					}
				}
			}
		})
		verifyOK(t, f.n)
	})
}
