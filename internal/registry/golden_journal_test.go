package registry

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata golden files")

// TestGoldenJournal pins the journal format (docs/journal.md): a fixed
// sequence of transactions at fixed times gives, on both drivers, exactly
// the entries in testdata/golden_journal.json, hashes included, and the
// journal verifies. A change to the entry hash, the body encoding or the
// apply path that changes what is journaled fails here; an intended one
// is recorded with -update (and is a format change for every verifier).
func TestGoldenJournal(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		now := func() time.Time { clock = clock.Add(time.Second); return clock }
		n, err := Open(context.Background(), tg.Open(t), Options{Code: "CN", Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Close)
		do := func(key string, a Actor, req Request) {
			t.Helper()
			if _, err := n.Do(context.Background(), a, key, req); err != nil {
				t.Fatalf("%s: %v", key, err)
			}
		}
		do("g1", system, CreateOrganisation{Name: "Golden Steel", Country: "CN"})
		holder := Actor{OrgID: 1, Role: ledger.RoleHolder}
		do("g2", system, OpenAccount{OrgID: 1, Type: ledger.Holding, Name: "G1"})
		do("g3", system, OpenAccount{OrgID: 1, Type: ledger.Holding, Name: "G2"})
		do("g4", system, Issue{IssuanceFacts: IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "CCER-14-2024-001", Methodology: "CCER-14-001-V01", HostCountry: "CN", Vintage: 2024, Quantity: 1000}, AccountID: 1})
		do("g5", holder, Transfer{From: 1, To: 2, Units: Units{Quantity: 250, UnitType: "CCER"}})
		do("g6", holder, Retire{From: 2, Units: Units{Quantity: 50, UnitType: "CCER"}, Beneficiary: "Golden Steel", Purpose: "voluntary"})
		var got []ledger.Entry
		if err := n.db.EachEntry(context.Background(), func(e ledger.Entry) error { got = append(got, e); return nil }); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", "golden_journal.json")
		if *updateGolden && tg.Name == "sqlite" {
			b, _ := json.MarshalIndent(got, "", "  ")
			if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		var want []ledger.Entry
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d entries, golden has %d", len(got), len(want))
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.Seq != w.Seq || !g.At.Equal(w.At) || g.Kind != w.Kind || g.Actor != w.Actor || g.IdemKey != w.IdemKey ||
				g.RequestHash != w.RequestHash || g.Body != w.Body || g.PrevHash != w.PrevHash || g.Hash != w.Hash {
				t.Fatalf("entry %d differs from the golden journal:\n got %+v\nwant %+v", i+1, g, w)
			}
			if EntryHash(w) != w.Hash {
				t.Fatalf("golden entry %d: its hash is not EntryHash of its fields", i+1)
			}
		}
		verifyOK(t, n)
	})
}
