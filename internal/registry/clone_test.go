package registry

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

// stateText prints everything a state holds, in key order, so that two
// states can be compared whole.
func stateText(s *state) string {
	var b strings.Builder
	for id, o := range s.orgs.All() {
		fmt.Fprintf(&b, "org %d %+v\n", id, *o)
	}
	for id, a := range s.accounts.All() {
		fmt.Fprintf(&b, "account %d %+v\n", id, *a)
	}
	for id, x := range s.issuances.All() {
		fmt.Fprintf(&b, "issuance %d %+v\n", id, *x)
	}
	for id, t := range s.blocks.All() {
		t.Ascend(func(bl ledger.Block) bool { fmt.Fprintf(&b, "block %d %+v\n", id, bl); return true })
	}
	for id, h := range s.held.All() {
		h.Ascend(func(k holdKey) bool { fmt.Fprintf(&b, "held %d %+v\n", id, k); return true })
	}
	for seq, p := range s.pending.All() {
		fmt.Fprintf(&b, "pending %d %+v\n", seq, *p)
	}
	for seq, k := range s.settled.All() {
		fmt.Fprintf(&b, "settled %d %s\n", seq, k)
	}
	for k, v := range s.bal.All() {
		fmt.Fprintf(&b, "bal %+v %d\n", k, v)
	}
	for id, c := range s.byState.All() {
		fmt.Fprintf(&b, "states %d %v\n", id, c)
	}
	fmt.Fprintf(&b, "types %v issued %d head %d %s next %+v\n", s.unitTypes, s.issued, s.head.Seq, s.head.Hash, s.nextID)
	return b.String()
}

// TestCloneLeavesBaseUnchanged decides batches of every kind that changes
// shared parts (account status, escrows made and settled, blocks split and
// merged, held indexes, balances, a new issuance and unit type) on a clone
// of a committed state, and checks the committed state did not change by a
// byte: readers read it without a lock while the writer decides on the
// clone, and a batch whose commit fails is dropped with its clone.
func TestCloneLeavesBaseUnchanged(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := &Node{code: "BN", log: slog.Default(), now: func() time.Time { at = at.Add(time.Second); return at }}
	admin := Actor{Role: ledger.RoleAdmin}
	holder := func(org int64) Actor { return Actor{OrgID: org, Role: ledger.RoleHolder} }
	run := func(base *state, steps []struct {
		a Actor
		r Request
	}) *state {
		t.Helper()
		n.st = base.clone()
		defer func() { n.st = nil }()
		calls := make([]*call, len(steps))
		for i, s := range steps {
			calls[i] = &call{actor: s.a, key: fmt.Sprintf("%p-%d", base, i), req: s.r, hash: requestHash(s.a, s.r)}
		}
		if _, err := n.applyBatch(calls, nil); err != nil {
			t.Fatal(err)
		}
		for i, c := range calls {
			if c.err != nil {
				t.Fatalf("step %d (%T): %v", i, c.req, c.err)
			}
		}
		return n.st
	}
	type step = struct {
		a Actor
		r Request
	}
	base := benchState(4)
	// Escrows to settle later, committed on the base; the first takes an
	// older vintage of a later issuance first, so its blocks are listed
	// out of serial order (settling sorts them).
	base = run(base, []step{
		{admin, Issue{IssuanceFacts: IssuanceFacts{Standard: "S", UnitType: "BU", Project: "OLD", ProjectName: "Old", Methodology: "m", HostCountry: "SG", Vintage: 2020, Quantity: 5}, AccountID: 1}},
		{holder(1), Reserve{From: 1, ToAccount: 2, Units: Units{Quantity: 8, UnitType: "BU"}}},
		{holder(3), Reserve{From: 3, ToAccount: 2, Units: Units{Quantity: 4, UnitType: "BU"}}},
	})
	before := stateText(base)
	next := run(base, []step{
		{holder(1), Transfer{From: 1, To: 3, Units: Units{Quantity: 2, UnitType: "BU"}}},
		{holder(2), Transfer{From: 2, To: 1, Units: Units{Quantity: 10, UnitType: "BU"}}},
		{admin, Complete{Pending: 3}},
		{admin, Void{Pending: 4}},
		{admin, SetAccountStatus{AccountID: 4, Status: ledger.Suspended}},
		{admin, OpenAccount{OrgID: 4, Type: ledger.Holding, Name: "new"}},
		{admin, Issue{IssuanceFacts: IssuanceFacts{Standard: "S", UnitType: "NU", Project: "Q", ProjectName: "Q", Methodology: "m", HostCountry: "SG", Vintage: 2024, Quantity: 7}, AccountID: 3}},
	})
	if after := stateText(base); after != before {
		t.Fatalf("deciding on a clone changed the committed state:\nbefore\n%s\nafter\n%s", before, after)
	}
	if stateText(next) == before {
		t.Fatal("the batch changed nothing: the test tests nothing")
	}
	// The clone is itself a committed state for the next batch.
	mid := stateText(next)
	run(next, []step{{admin, SetAccountStatus{AccountID: 3, Status: ledger.Suspended}}, {holder(1), Transfer{From: 1, To: 2, Units: Units{Quantity: 1, UnitType: "BU"}}}})
	if stateText(next) != mid || stateText(base) != before {
		t.Fatal("a second clone changed the states before it")
	}
	// A state changed after it was cloned leaves the clone as it was:
	// cloning ends the state's ownership of what the two now share.
	c := next.clone()
	n.st = next
	if _, err := n.applyBatch([]*call{{actor: holder(1), key: "after", req: Transfer{From: 1, To: 3, Units: Units{Quantity: 1, UnitType: "BU"}}}}, nil); err != nil {
		t.Fatal(err)
	}
	n.st = nil
	if stateText(c) != mid {
		t.Fatal("changing a state changed its earlier clone")
	}
}
