package hub

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// serialOf is block b of a proposal as a serial.
func serialOf(b protocol.Block) ledger.Serial {
	iss, _ := strconv.ParseInt(b.IssuanceID, 10, 64)
	return ledger.Serial{Registry: b.OriginRegistry, UnitType: b.UnitType, Project: b.Project, Vintage: b.Vintage, Issuance: iss, Start: b.Start, End: b.End}
}

// importedITMOs is what the acquiring site shows, for the units of block b,
// as ITMOs brought by transfer tx: the ranges and their identifiers.
func importedITMOs(t *testing.T, s *a6site, b protocol.Block, tx string) []registry.ITMORange {
	t.Helper()
	info, err := s.node.Lookup(context.Background(), admin, serialOf(b).String())
	if err != nil {
		t.Fatal(err)
	}
	var out []registry.ITMORange
	for _, it := range info.ITMOs {
		if it.Transfer == tx {
			out = append(out, it)
		}
	}
	return out
}

// wantITMOs checks that the ranges shown for block b cover it exactly, in
// parts, each with the identifiers and authorisation the hub's record
// gives it.
func wantITMOs(t *testing.T, w *a6world, b protocol.Block, got []registry.ITMORange, parts int) {
	t.Helper()
	if len(got) != parts {
		t.Fatalf("%d ITMO ranges shown for %s, want %d: %+v", len(got), serialOf(b), parts, got)
	}
	next := b.Start
	for _, it := range got {
		if it.Start != next {
			t.Fatalf("ITMO ranges %+v do not cover %s in order", got, serialOf(b))
		}
		next = it.End + 1
		part := serialOf(b)
		part.Start, part.End = it.Start, it.End
		if err := w.a6.Ledger(context.Background(), func(l *article6.Ledger) error {
			return l.CheckStatement(part, it.Authorisation, it.Version, it.First, it.Last)
		}); err != nil {
			t.Fatalf("range %+v: %v", it, err)
		}
	}
	if next != b.End+1 {
		t.Fatalf("ITMO ranges %+v stop before the end of %s", got, serialOf(b))
	}
}

// TestImportITMOsPerPart: a block that spans several blocks of the hub's
// record (ITMOs that came back to Indonesia merged in one registry block
// with units never first-transferred) arrives in China with the ITMO
// identifiers of each part, one statement per part, so China's serial
// lookup shows all its units as ITMOs; the ledger takes the completion
// without a refusal.
func TestImportITMOsPerPart(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w := newA6World(t, tg, defaultApproaches(t))
		w.id.do(t, admin, registry.Authorise{Authorisation: solarAuthorisation("ID-A6-0001", "2030-12-31")})
		w.issueSolar(t, "ID-A6-0001", 1000) // the investor holds 558 t
		out := w.transfer(t, w.send(t, w.invActor, w.inv, "CN", w.cnAcc, registry.Units{Quantity: 100, UnitType: "CCER"}, "ndc"))
		if !slices.Equal(out.Statuses(), st(1, 2, 8, 4)) {
			t.Fatalf("first send: statuses %v, findings %v", out.Statuses(), a6codes(out))
		}
		back, err := w.c.Send(context.Background(), "CN", Send{Actor: w.cnActor, Key: "back", From: w.cnAcc, ToRegistry: "ID", ToAccount: w.inv,
			Units: registry.Units{Serials: []string{serialOf(out.Proposal.Blocks[0]).String()}}, Purpose: "ndc"})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.c.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if tr := w.transfer(t, back.ID); !slices.Equal(tr.Statuses(), st(1, 2, 8, 4)) {
			t.Fatalf("back to ID: statuses %v, findings %v", tr.Statuses(), a6codes(tr))
		}
		// The 100 ITMOs and 458 units never first-transferred, one block in
		// Indonesia's registry: 200 of them leave as one block.
		w.clk.set(a6start.Add(24 * time.Hour))
		tx := w.send(t, w.invActor, w.inv, "CN", w.cnAcc, registry.Units{Quantity: 200, UnitType: "CCER"}, "ndc")
		tr := w.transfer(t, tx)
		if !slices.Equal(tr.Statuses(), st(1, 2, 8, 4)) || len(tr.Proposal.Blocks) != 1 {
			t.Fatalf("merged send: statuses %v, findings %v, blocks %+v", tr.Statuses(), a6codes(tr), tr.Proposal.Blocks)
		}
		b := tr.Proposal.Blocks[0]
		var parts int
		if err := w.a6.Ledger(context.Background(), func(l *article6.Ledger) error {
			parts = len(l.State().Parts(serialOf(b)))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if parts < 2 {
			t.Fatalf("the merged block %s is %d part(s) of the hub's record; the test needs a block that spans several", serialOf(b), parts)
		}
		wantITMOs(t, w, b, importedITMOs(t, w.cn, b, tx), parts)
		for _, f := range w.a6.Facts() {
			if f.Refused != "" {
				t.Fatalf("fact %d refused: %s %s", f.Fact.Seq, f.Refused, f.Detail)
			}
		}
		for _, s := range []*a6site{w.id, w.cn} {
			rep, err := registry.Verify(context.Background(), s.db)
			if err != nil || !rep.OK() {
				t.Fatalf("%s verify: %v %v", s.node.Code(), err, rep.Violations)
			}
		}
	})
}
