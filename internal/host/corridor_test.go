package host

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
)

// demoClock is after every agreement the demo's transfers use became
// usable (the pilots have no date; JCM Lao PDR from 31 March 2025).
var demoClock = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

// corridorState is what a restart must leave unchanged: every node's
// journal head (served and stopped) and the hub's transfer records.
func corridorState(t *testing.T, ns *Nodes) (heads map[string]string, transfers string) {
	t.Helper()
	heads = map[string]string{}
	for _, n := range ns.all {
		tot := n.Totals()
		heads[n.Code()] = strconv.FormatInt(tot.JournalSeq, 10) + ":" + tot.JournalHash
	}
	ts, err := ns.Link.Transfers(context.Background(), hub.TransferFilter{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(ts)
	if err != nil {
		t.Fatal(err)
	}
	return heads, string(raw)
}

// TestDemoCorridor: the first Open of an empty storage with the demo
// seeds the nine registries and the hub (on its own database), and runs
// the mission's pilots through the hub: CN → ID, MY and TH completed with
// statuses 1 2 8 4, their units held at the acquirer as blocks of the
// Chinese issuance with the serials the hub forwarded, the corridor
// conserved and every node verified; the LA → JP transfer stays accepted
// (8), waiting for the stopped Lao PDR node. With Article 6 on, the
// voluntary pilots (unauthorised CCERs) pass as non-ITMOs and the project
// abroad is seeded end to end (checkDemoArticle6, through the HTTP API).
// A second Open changes nothing: the same journal heads, the same
// transfer records, no tokens.
func TestDemoCorridor(t *testing.T) {
	// Each run has its own storage.
	t.Parallel()
	eachStorage(t, func(t *testing.T, s Storage) {
		ctx := context.Background()
		opt := OpenOptions{SeedDemo: true, Now: func() time.Time { return demoClock }}
		ns, err := Open(ctx, s, opt)
		if err != nil {
			t.Fatal(err)
		}
		var codes []string
		for _, n := range ns.List {
			codes = append(codes, n.Code())
		}
		want := []string{"CN", "ID", "TH", "CNETS", "VN", "MY", "SG", "KH", "JP"}
		if !slices.Equal(codes, want) || len(ns.stopped) != 1 || ns.stopped[0].Code() != "LA" {
			t.Fatalf("served %v, stopped %d", codes, len(ns.stopped))
		}
		if len(ns.Tokens) == 0 {
			t.Fatal("the first open wrote no tokens")
		}
		nodes := map[string]*registry.Node{}
		for _, n := range ns.all {
			nodes[n.Code()] = n
		}
		ts, err := ns.Link.Transfers(ctx, hub.TransferFilter{})
		if err != nil {
			t.Fatal(err)
		}
		// The pilots, the in-flight transfer, the project abroad's and
		// the ICCs Thailand sends Singapore.
		if len(ts) != len(demo.Pilots)+3 {
			t.Fatalf("the hub has %d transfers: %+v", len(ts), ts)
		}
		checkDemoICC(t, nodes, ts)
		completed := st(protocol.StatusProposed, protocol.StatusChecked, protocol.StatusAccepted, protocol.StatusCompleted)
		for _, p := range demo.Pilots {
			var x *hub.Transfer
			for i := range ts {
				if ts[i].Proposal.FromRegistry == p.From && ts[i].Proposal.ToRegistry == p.To {
					x = &ts[i]
				}
			}
			if x == nil {
				t.Fatalf("no transfer %s → %s at the hub", p.From, p.To)
			}
			if !slices.Equal(x.Statuses(), completed) || x.Proposal.Quantity != p.Quantity || x.Proposal.UnitType != "CCER" {
				t.Errorf("%s: %v, %d %s", x.ID, x.Statuses(), x.Proposal.Quantity, x.Proposal.UnitType)
			}
			// The acquirer holds every forwarded block as a block of the
			// Chinese issuance, same serials, in the acquiring account.
			for _, b := range x.Proposal.Blocks {
				id, _ := strconv.ParseInt(b.IssuanceID, 10, 64)
				var held int64
				for _, ob := range nodes[p.To].OriginBlocks() {
					if ob.Origin == (registry.Origin{Registry: "CN", Issuance: id}) && ob.State == ledger.Held &&
						ob.AccountID == demo.HolderAccount(p.ToHolder) && ob.Start >= b.Start && ob.End <= b.End {
						held += ob.End - ob.Start + 1
					}
				}
				if b.OriginRegistry != "CN" || held != b.Quantity() {
					t.Errorf("%s: %s holds %d of block %s/%s %d-%d", x.ID, p.To, held, b.OriginRegistry, b.IssuanceID, b.Start, b.End)
				}
			}
		}
		fly, err := ns.Link.Transfers(ctx, hub.TransferFilter{Active: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(fly) != 1 || fly[0].Proposal.FromRegistry != "LA" || fly[0].Proposal.ToRegistry != "JP" || fly[0].Status != protocol.StatusAccepted {
			t.Fatalf("in flight: %+v", fly)
		}
		if bad := hub.CheckCorridor(ns.all...); len(bad) > 0 {
			t.Errorf("corridor: %v", bad)
		}
		for i, db := range ns.dbs {
			rep, err := registry.Verify(ctx, db)
			if err != nil || !rep.OK() {
				t.Errorf("%s verify: %v %v", ns.all[i].Code(), err, rep.Violations)
			}
		}
		checkDemoArticle6(t, ns, demoClock.Year())
		heads, transfers := corridorState(t, ns)
		ns.Close()

		// A restart reopens every node and the hub (replaying its
		// events) and neither seeds nor sends anything again.
		ns, err = Open(ctx, s, opt)
		if err != nil {
			t.Fatal(err)
		}
		defer ns.Close()
		if err := ns.Corridor.Run(ctx); err != nil {
			t.Fatal(err)
		}
		heads2, transfers2 := corridorState(t, ns)
		if len(ns.Tokens) != 0 || !mapsEqual(heads, heads2) || transfers != transfers2 {
			t.Errorf("the second open changed the corridor:\nheads %v\n   -> %v\ntransfers %s\n       -> %s\ntokens %d", heads, heads2, transfers, transfers2, len(ns.Tokens))
		}
		if fly, _ := ns.Link.Transfers(ctx, hub.TransferFilter{Active: true}); len(fly) != 1 {
			t.Errorf("after the restart %d transfers are in flight", len(fly))
		}
	})
}

// TestDemoInFlightCompletesWhenLANodeRuns: the transfer in flight is
// waiting only on the stopped node: serving LA too (naming it among the
// registries) lets it complete, and the units reach Japan.
func TestDemoInFlightCompletesWhenLANodeRuns(t *testing.T) {
	// Each run has its own storage.
	t.Parallel()
	s := Storage{DataDir: t.TempDir()}
	ctx := context.Background()
	opt := OpenOptions{SeedDemo: true, Now: func() time.Time { return demoClock }}
	ns, err := Open(ctx, s, opt)
	if err != nil {
		t.Fatal(err)
	}
	ns.Close()
	opt.Codes = append(demo.Codes(), "LA")
	ns, err = Open(ctx, s, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	if err := ns.Corridor.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if fly, _ := ns.Link.Transfers(ctx, hub.TransferFilter{Active: true}); len(fly) != 0 {
		t.Fatalf("still in flight: %+v", fly)
	}
	if bad := hub.CheckCorridor(ns.all...); len(bad) > 0 {
		t.Errorf("corridor: %v", bad)
	}
	var atJP int64
	for _, n := range ns.List {
		if n.Code() != "JP" {
			continue
		}
		for _, ob := range n.OriginBlocks() {
			// Parts of the origin issuance that are not here show as
			// exported.
			if ob.Origin.Registry == "LA" && ob.State == ledger.Held {
				atJP += ob.End - ob.Start + 1
			}
		}
	}
	if atJP != demo.InFlight.Quantity {
		t.Errorf("JP holds %d units of Lao PDR origin, want %d", atJP, demo.InFlight.Quantity)
	}
	// They were authorised by Lao PDR: the hub's ledger records their first
	// transfer and Lao PDR's adjustment, besides the one for Japan's share
	// of the JCM decision issued in Japan's registry (demo.JPShare).
	var laAdj int64
	err = ns.Corridor.Article6().Ledger(ctx, func(l *article6.Ledger) error {
		for _, a := range l.State().Adjustments() {
			if a.Party == demo.InFlight.From {
				laAdj += a.Quantity
			}
		}
		return nil
	})
	if want := demo.InFlight.Quantity + demo.JPShare.Quantity; err != nil || laAdj != want {
		t.Errorf("Lao PDR's corresponding adjustment %d (%v), want %d", laAdj, err, want)
	}
}

func st(s ...protocol.Status) []protocol.Status { return s }

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestDemoPilotsResumeAfterCrash: a start that dies after a pilot's
// escrow and proposal but before the hub saw it (the in-process queue is
// lost) leaves the escrow in CN's journal; the next start finds it by its
// key, proposes that same transfer again and runs the rest, so the
// corridor ends as after an uninterrupted first start: three completed
// pilots, one in flight, the project abroad's investor share sent once,
// one escrow per pilot at the sender.
func TestDemoPilotsResumeAfterCrash(t *testing.T) {
	// Each run has its own storage.
	t.Parallel()
	eachStorage(t, func(t *testing.T, s Storage) {
		ctx := context.Background()
		crash := errors.New("crash")
		for _, at := range []string{demo.Pilots[0].Key, demo.Pilots[2].Key, demo.InFlight.Key, demo.AbroadSendKey, demo.ICCSendKey} {
			opt := OpenOptions{SeedDemo: true, Now: func() time.Time { return demoClock }, afterPilot: func(key string) error {
				if key == at {
					return crash
				}
				return nil
			}}
			if _, err := Open(ctx, s, opt); !errors.Is(err, crash) {
				t.Fatalf("crash at %s: %v", at, err)
			}
		}
		ns, err := Open(ctx, s, OpenOptions{SeedDemo: true, Now: func() time.Time { return demoClock }})
		if err != nil {
			t.Fatal(err)
		}
		defer ns.Close()
		ts, err := ns.Link.Transfers(ctx, hub.TransferFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var done, flying, abroad, icc int
		for _, x := range ts {
			switch {
			case x.Status == protocol.StatusCompleted && x.Proposal.FromRegistry == "CN":
				done++
			case x.Status == protocol.StatusCompleted && x.Proposal.FromRegistry == demo.Abroad.Host:
				abroad++
			case x.Status == protocol.StatusCompleted && x.Proposal.FromRegistry == "TH" && x.Proposal.ToRegistry == "SG":
				icc++
			case x.Status == protocol.StatusAccepted && x.Proposal.FromRegistry == "LA":
				flying++
			default:
				t.Errorf("unexpected transfer %s %v", x.ID, x.Statuses())
			}
		}
		if done != len(demo.Pilots) || flying != 1 || abroad != 1 || icc != 1 {
			t.Errorf("%d pilots completed, %d in flight, %d for the project abroad, %d ICC transfers: %+v", done, flying, abroad, icc, ts)
		}
		for _, n := range ns.all {
			if n.Code() != "CN" {
				continue
			}
			if got := n.Totals().ByState[ledger.Exported]; got != 10000+5000+4000 {
				t.Errorf("CN exported %d units", got)
			}
		}
		if bad := hub.CheckCorridor(ns.all...); len(bad) > 0 {
			t.Errorf("corridor: %v", bad)
		}
	})
}

// TestDemoSeedResumes: registries whose demo seed a crash cut short (the
// first steps in the journal, not the last) are finished by the next
// start with the same keys, and the pilots still run: the result has
// every demo organisation, account and issuance once.
func TestDemoSeedResumes(t *testing.T) {
	// Each run has its own storage.
	t.Parallel()
	eachStorage(t, func(t *testing.T, s Storage) {
		ctx := context.Background()
		cuts := map[string]int{"CN": 12, "KH": 2}
		for code, steps := range cuts {
			db, err := store.Open(ctx, s.Store(code))
			if err != nil {
				t.Fatal(err)
			}
			n, err := registry.Open(ctx, db, registry.Options{Code: code, Now: func() time.Time { return demoClock }})
			if err != nil {
				t.Fatal(err)
			}
			spec, _ := demo.Spec(code)
			if err := demo.SeedPartly(ctx, n, spec, steps); err != nil {
				t.Fatal(err)
			}
			if got := n.Totals().JournalSeq; got != int64(steps) {
				t.Fatalf("%s: the cut seed wrote %d entries", code, got)
			}
			n.Close()
			db.Close()
		}
		ns, err := Open(ctx, s, OpenOptions{SeedDemo: true, Now: func() time.Time { return demoClock }})
		if err != nil {
			t.Fatal(err)
		}
		defer ns.Close()
		for _, n := range ns.List {
			if _, cut := cuts[n.Code()]; !cut {
				continue
			}
			spec, _ := demo.Spec(n.Code())
			tot := n.Totals()
			// China also holds the project abroad's investor share it
			// imported: one more issuance record, and the account the
			// import opens for the rest of the foreign issuance's serials.
			imported := 0
			if n.Code() == demo.Abroad.To {
				imported = 1
			}
			if tot.Organisations != len(spec.Holders)+2 || tot.Accounts != len(spec.Holders)+1+imported || tot.Issuances != len(spec.Issuances)+imported {
				t.Errorf("%s after the resumed seed: %d organisations, %d accounts, %d issuances", n.Code(), tot.Organisations, tot.Accounts, tot.Issuances)
			}
		}
		fly, _ := ns.Link.Transfers(ctx, hub.TransferFilter{Active: true})
		all, _ := ns.Link.Transfers(ctx, hub.TransferFilter{})
		// The pilots, the in-flight transfer, the project abroad's and the
		// ICC flow's.
		if len(all) != len(demo.Pilots)+3 || len(fly) != 1 {
			t.Errorf("%d transfers, %d in flight", len(all), len(fly))
		}
	})
}
