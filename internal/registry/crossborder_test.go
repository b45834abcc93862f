package registry

import (
	"context"
	"testing"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// peer is a second registry node with one holder organisation, one
// holding account and the hub's organisation.
type peer struct {
	*fixture
	hub Actor
	acc int64
}

func openPeer(t *testing.T, tg storetest.Target, code string) *peer {
	t.Helper()
	n, err := Open(context.Background(), tg.Open(t), Options{Code: code})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	f := &fixture{n: n}
	p := &peer{fixture: f}
	p.org = f.must(t, system, CreateOrganisation{Name: "Holder " + code, Country: "TH"}).ID
	p.holder = Actor{OrgID: p.org, Role: ledger.RoleHolder}
	p.acc = f.must(t, system, OpenAccount{OrgID: p.org, Type: ledger.Holding, Name: "Main"}).ID
	p.hub = Actor{OrgID: f.must(t, system, CreateOrganisation{Name: "Corridor hub", Country: "SG"}).ID, Role: RoleHub}
	return p
}

// export reserves units out of from's account with the hub as authority
// and completes the escrow as the hub, returning the import blocks the
// acquirer must record.
func export(t *testing.T, from *peer, acc int64, units Units, to string) []ImportBlock {
	t.Helper()
	res := from.must(t, from.holder, Reserve{From: acc, Units: units, ToRegistry: to, ToAccountRef: "1", Authority: &Authority{Role: AuthorityHub, OrgID: from.hub.OrgID}})
	done := from.must(t, from.hub, Complete{Pending: res.Pending})
	var out []ImportBlock
	for _, b := range done.Blocks {
		if b.State != ledger.Exported {
			t.Fatalf("completed block %s is %s, want exported", b.Serial, b.State)
		}
		o, ok := from.n.OriginOf(b.IssuanceID)
		if !ok {
			t.Fatalf("no origin for issuance %d", b.IssuanceID)
		}
		out = append(out, ImportBlock{Origin: o, Start: b.Start, End: b.End})
	}
	return out
}

func code(err error) string {
	e, _ := ledger.AsError(err)
	return e.Code
}

// TestImportKeepsSerials: units CN exports arrive in TH as blocks of the
// CN issuance with the same serials; TH's serial lookup shows them held
// there; they move on to SG and back to CN, where they are held again in
// the same block, never a second copy; every node verifies, before and
// after a restart.
func TestImportKeepsSerials(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		cnf := newFixture(t, tg)
		cn := &peer{fixture: cnf, acc: cnf.a1, hub: Actor{OrgID: cnf.must(t, system, CreateOrganisation{Name: "Corridor hub", Country: "SG"}).ID, Role: RoleHub}}
		th := openPeer(t, tg.Fresh(t), "TH")
		sg := openPeer(t, tg.Fresh(t), "SG")

		blocks := export(t, cn, cn.a1, Units{Quantity: 100, UnitType: "CCER"}, "TH")
		if len(blocks) != 1 || blocks[0].Origin.Origin != (Origin{"CN", cn.iss}) || blocks[0].Start != 1 || blocks[0].End != 100 {
			t.Fatalf("exported blocks: %+v", blocks)
		}
		// Only the hub imports.
		if _, err := th.do(t, system, Import{Transfer: "CN:7", ToAccount: th.acc, Blocks: blocks}); !isForbidden(err) {
			t.Fatalf("admin import: %v", err)
		}
		if _, err := th.do(t, th.holder, Import{Transfer: "CN:7", ToAccount: th.acc, Blocks: blocks}); !isForbidden(err) {
			t.Fatalf("holder import: %v", err)
		}
		if _, err := th.do(t, th.hub, Import{Transfer: "CN:7", ToAccount: 999, Blocks: blocks}); code(err) != ledger.CodeAcquiringNotFound {
			t.Fatalf("import to an unknown account: %v", err)
		}
		// Keys starting with hub: are the hub's: a holder cannot take one
		// first and block the hub's own transaction.
		if _, err := th.n.Do(context.Background(), th.holder, "hub:HUB:CN:7:TH:2", Transfer{From: th.acc, To: th.acc, Units: Units{Quantity: 1, UnitType: "CCER"}}); code(err) != "idempotency_key_invalid" {
			t.Fatalf("holder with a hub key: %v", err)
		}
		imp, err := th.n.Do(context.Background(), th.hub, "hub:HUB:CN:7:TH:2", Import{Transfer: "CN:7", ToAccount: th.acc, Blocks: blocks})
		if err != nil {
			t.Fatal(err)
		}
		serial := "CN-CCER-CCER-14-2024-001-2024-1-1-100"
		if len(imp.Blocks) != 1 || imp.Blocks[0].Serial != serial || imp.Blocks[0].State != ledger.Held || imp.Quantity != 100 {
			t.Fatalf("import result: %+v", imp)
		}
		if got := held(t, th.n, th.acc); got != 100 {
			t.Fatalf("TH holds %d, want 100", got)
		}
		// A second import of the same serials would be a second copy.
		if _, err := th.do(t, th.hub, Import{Transfer: "CN:8", ToAccount: th.acc, Blocks: blocks}); code(err) != CodeUnitsPresent {
			t.Fatalf("second import: %v", err)
		}
		// The origin issuance described otherwise is refused.
		bad := blocks[0]
		bad.Origin.Quantity++
		bad.Start, bad.End = 500, 510
		if _, err := th.do(t, th.hub, Import{Transfer: "CN:9", ToAccount: th.acc, Blocks: []ImportBlock{bad}}); code(err) != CodeOriginMismatch {
			t.Fatalf("mismatched origin: %v", err)
		}
		lookup := func(n *Node, s string) SerialInfo {
			t.Helper()
			info, err := n.Lookup(context.Background(), Operator, s)
			if err != nil {
				t.Fatalf("%s lookup %s: %v", n.Code(), s, err)
			}
			return info
		}
		info := lookup(th.n, "CN-CCER-CCER-14-2024-001-2024-1-40-60")
		if len(info.Blocks) != 1 || info.Blocks[0].State != ledger.Held || info.Blocks[0].AccountID != th.acc || info.Blocks[0].Serial != serial {
			t.Fatalf("TH lookup: %+v", info.Blocks)
		}
		// A range reaching beyond what came here lists only the block here,
		// and the local record says where it comes from and how much of it
		// is not here.
		info = lookup(th.n, "CN-CCER-CCER-14-2024-001-2024-1-90-200")
		if len(info.Blocks) != 1 || info.Blocks[0].State != ledger.Held || info.Blocks[0].Serial != serial {
			t.Fatalf("TH lookup beyond the import lists blocks not here: %+v", info.Blocks)
		}
		if o := info.Issuance.Origin; o == nil || *o != (Origin{"CN", cn.iss}) || info.Issuance.NotHere != info.Issuance.Quantity-100 || info.Issuance.ByState[ledger.Exported] != 0 || info.Issuance.ByState[ledger.Held] != 100 {
			t.Fatalf("TH's record of the CN issuance: origin %v, not here %d, by state %v", info.Issuance.Origin, info.Issuance.NotHere, info.Issuance.ByState)
		}
		if cnv, err := cn.n.Issuance(Operator, cn.iss); err != nil || cnv.Origin != nil || cnv.NotHere != 0 || cnv.ByState[ledger.Exported] != 100 {
			t.Fatalf("CN's own issuance: %+v %v", cnv, err)
		}
		if info.Issuance.Serial != "CN-CCER-CCER-14-2024-001-2024-1-1-1000" {
			t.Fatalf("TH shows the issuance as %s", info.Issuance.Serial)
		}
		if info := lookup(cn.n, serial); info.Blocks[0].State != ledger.Exported {
			t.Fatalf("CN lookup: %+v", info.Blocks)
		}
		verifyOK(t, cn.n)
		verifyOK(t, th.n)
		if tot := th.n.Totals(); tot.Issued != 0 || tot.ByState[ledger.Held] != 100 || tot.ByState[ledger.Exported] != 0 {
			t.Fatalf("TH totals count the foreign issuance as issued here: %+v", tot)
		}

		// Restart TH: the origin of its foreign issuance is rebuilt.
		th.n.Close()
		n, err := Open(context.Background(), th.n.db, Options{Code: "TH"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Close)
		th.n = n
		if info := lookup(th.n, serial); info.Blocks[0].State != ledger.Held {
			t.Fatalf("after restart: %+v", info.Blocks)
		}

		// TH → SG, by serials in their origin form.
		on := export(t, th, th.acc, Units{Serials: []string{"CN-CCER-CCER-14-2024-001-2024-1-1-30"}}, "SG")
		sg.must(t, sg.hub, Import{Transfer: "TH:1", ToAccount: sg.acc, Blocks: on})
		if held(t, th.n, th.acc) != 70 || held(t, sg.n, sg.acc) != 30 {
			t.Fatalf("after TH → SG: TH %d, SG %d", held(t, th.n, th.acc), held(t, sg.n, sg.acc))
		}
		// TH → CN: the units come home and are held again in the origin.
		back := export(t, th, th.acc, Units{Quantity: 70, UnitType: "CCER"}, "CN")
		before := held(t, cn.n, cn.a2)
		cn.must(t, cn.hub, Import{Transfer: "TH:2", ToAccount: cn.a2, Blocks: back})
		if got := held(t, cn.n, cn.a2); got != before+70 {
			t.Fatalf("CN a2 holds %d, want %d", got, before+70)
		}
		if info := lookup(cn.n, "CN-CCER-CCER-14-2024-001-2024-1-31-100"); len(info.Blocks) != 1 || info.Blocks[0].State != ledger.Held {
			t.Fatalf("CN after return: %+v", info.Blocks)
		}
		if _, err := cn.do(t, cn.hub, Import{Transfer: "TH:3", ToAccount: cn.a2, Blocks: back}); code(err) != CodeUnitsPresent {
			t.Fatalf("CN second import: %v", err)
		}
		// The returned units move like any others.
		cn.must(t, cn.holder, Transfer{From: cn.a2, To: cn.a3, Units: Units{Serials: []string{"CN-CCER-CCER-14-2024-001-2024-1-31-40"}}})
		for _, p := range []*peer{cn, th, sg} {
			rep := verifyOK(t, p.n)
			if rep.Blocks == 0 {
				t.Fatalf("%s verified no blocks", p.n.Code())
			}
		}
		if got := held(t, th.n, th.acc); got != 0 {
			t.Fatalf("TH still holds %d", got)
		}
	})
}

// TestImportTamperDetected: an import entry's blocks that differ from the
// journal's replay are found by verify.
func TestImportTamperDetected(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		cnf := newFixture(t, tg)
		cn := &peer{fixture: cnf, acc: cnf.a1, hub: Actor{OrgID: cnf.must(t, system, CreateOrganisation{Name: "Corridor hub", Country: "SG"}).ID, Role: RoleHub}}
		th := openPeer(t, tg.Fresh(t), "TH")
		th.must(t, th.hub, Import{Transfer: "CN:1", ToAccount: th.acc, Blocks: export(t, cn, cn.a1, Units{Quantity: 10, UnitType: "CCER"}, "TH")})
		verifyOK(t, th.n)
		db := th.n.db
		if _, err := db.SQL().Exec(db.Rebind(`UPDATE blocks SET end_serial = end_serial + 5 WHERE state = 'held'`)); err != nil {
			t.Fatal(err)
		}
		rep, err := Verify(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK() {
			t.Fatal("verify passed a widened imported block")
		}
	})
}

// TestImportSpanningBlocks: one imported range that covers several
// exported blocks here (serials that left from an account, and serials
// that were never here, in the corridor account) moves all of them, not
// only the first block (found by the hub's simulation).
func TestImportSpanningBlocks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		cnf := newFixture(t, tg)
		cn := &peer{fixture: cnf, acc: cnf.a1, hub: Actor{OrgID: cnf.must(t, system, CreateOrganisation{Name: "Corridor hub", Country: "SG"}).ID, Role: RoleHub}}
		th := openPeer(t, tg.Fresh(t), "TH")
		th.must(t, th.hub, Import{Transfer: "CN:1", ToAccount: th.acc, Blocks: export(t, cn, cn.a1, Units{Quantity: 100, UnitType: "CCER"}, "TH")})
		export(t, th, th.acc, Units{Quantity: 100, UnitType: "CCER"}, "SG") // 1-100 exported from th.acc
		more := export(t, cn, cn.a1, Units{Quantity: 100, UnitType: "CCER"}, "TH")
		if len(more) != 1 || more[0].Start != 101 || more[0].End != 200 {
			t.Fatalf("second export: %+v", more)
		}
		span := more[0]
		span.Start = 1 // 1-100 left from th.acc, 101-200 were never here
		res := th.must(t, th.hub, Import{Transfer: "SG:9", ToAccount: th.acc, Blocks: []ImportBlock{span}})
		if res.Quantity != 200 {
			t.Fatalf("import moved %d units, want 200: %+v", res.Quantity, res.Blocks)
		}
		if got := held(t, th.n, th.acc); got != 200 {
			t.Fatalf("TH holds %d, want 200", got)
		}
	})
}
