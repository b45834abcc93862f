package hub

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

var updateAEF = flag.Bool("update", false, "rewrite the golden AEF files in testdata/")

// clock is the corridor's shared, settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// a6site is a registry node of the Article 6 test corridor.
type a6site struct {
	node   *registry.Node
	db     *store.DB
	hubOrg int64
}

func (s *a6site) do(t *testing.T, a registry.Actor, req registry.Request) registry.Result {
	t.Helper()
	res, err := s.node.Do(context.Background(), a, fmt.Sprintf("k-%d-%s", time.Now().UnixNano(), req.Kind()), req)
	if err != nil {
		t.Fatalf("%s %s: %v", s.node.Code(), req.Kind(), err)
	}
	return res
}

func (s *a6site) holder(t *testing.T, name string) (registry.Actor, int64) {
	t.Helper()
	org := s.do(t, admin, registry.CreateOrganisation{Name: name, Country: s.node.Code()[:2]}).ID
	acc := s.do(t, admin, registry.OpenAccount{OrgID: org, Type: ledger.Holding, Name: name}).ID
	return registry.Actor{OrgID: org, Role: ledger.RoleHolder}, acc
}

// a6world is Indonesia (host of a Chinese-funded solar project), China
// (the investor's Party) and Malaysia (a Party outside the pilot's
// approach), with the hub keeping the Article 6 ledger.
type a6world struct {
	c          *Corridor
	clk        *clock
	id, cn, my *a6site
	a6         *Article6
	hubDB      *store.DB
	// Indonesia's accounts: project developer, adaptation (share of
	// proceeds), the Chinese investor's account; China's national account.
	dev, adapt, inv, cnAcc, myAcc int64
	devActor, invActor, cnActor   registry.Actor
}

var a6start = time.Date(2026, 6, 15, 9, 0, 0, 0, time.UTC)

func newA6World(t *testing.T, tg storetest.Target, approaches article6.Approaches) *a6world {
	t.Helper()
	ctx := context.Background()
	w := &a6world{clk: &clock{t: a6start}}
	open := func(tg storetest.Target, code string) *a6site {
		db := tg.Open(t)
		n, err := registry.Open(ctx, db, registry.Options{Code: code, Now: w.clk.now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Close)
		s := &a6site{node: n, db: db}
		s.hubOrg = s.do(t, admin, registry.CreateOrganisation{Name: "Corridor hub", Country: "SG"}).ID
		return s
	}
	w.id, w.cn, w.my = open(tg, "ID"), open(tg.Fresh(t), "CN"), open(tg.Fresh(t), "MY")
	w.devActor, w.dev = w.id.holder(t, "PT Surya Energi (project developer)")
	_, w.adapt = w.id.holder(t, "Indonesia adaptation account")
	w.invActor, w.inv = w.id.holder(t, "China Solar Investment Co. (investor)")
	w.cnActor, w.cnAcc = w.cn.holder(t, "China national holding")
	_, w.myAcc = w.my.holder(t, "Malaysia holding")
	set, err := agreements.Default()
	if err != nil {
		t.Fatal(err)
	}
	// The pilots cover NDC use (their Article 6 terms); this corridor adds
	// a route between Indonesia and Malaysia, Parties of no common
	// approach.
	set.Agreements = append(set.Agreements, agreements.Agreement{ID: "test-id-my", Kind: agreements.KindPilot, Title: "test route ID-MY", Status: agreements.StatusProposal,
		Parties: []string{"ID", "MY"}, Routes: []agreements.Route{{From: "ID", To: "MY", UnitTypes: []string{"CCER"}}}, Purposes: []string{"ndc"}, Sources: []agreements.Cite{{ID: "mission-pilots"}}})
	if err := set.Validate(); err != nil {
		t.Fatal(err)
	}
	members := []Member{{Node: w.id.node, HubOrg: w.id.hubOrg}, {Node: w.cn.node, HubOrg: w.cn.hubOrg}, {Node: w.my.node, HubOrg: w.my.hubOrg}}
	w.hubDB = tg.Fresh(t).Open(t)
	w.a6, err = EmbeddedArticle6(ctx, w.hubDB, members, approaches)
	if err != nil {
		t.Fatal(err)
	}
	w.c, err = Embedded(ctx, EmbeddedConfig{HubDB: w.hubDB, Members: members, Agreements: set, Now: w.clk.now, Article6: w.a6})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func defaultApproaches(t *testing.T) article6.Approaches {
	t.Helper()
	aps, err := article6.DefaultApproaches()
	if err != nil {
		t.Fatal(err)
	}
	return aps
}

func solarAuthorisation(id string, until string) registry.Authorisation {
	return registry.Authorisation{ID: id, Version: 1, Host: "ID", Approach: "CN-ID-PILOT", Purposes: []string{"NDC"}, Quantity: 100_000,
		From: "2026-01-01", Until: until, VintageFrom: 2026, VintageTo: 2030, Activities: []string{"ID-SOLAR-01"}, AcquiringParties: []string{"CN"},
		Sector: "Energy", ActivityType: "Solar photovoltaic power", MitigationType: "emission reductions"}
}

// issueSolar issues gross tonnes of the solar project under auth, 60 % of
// the net to the Chinese investor.
func (w *a6world) issueSolar(t *testing.T, auth string, gross int64) registry.Result {
	t.Helper()
	return w.id.do(t, admin, registry.IssueAuthorised{Issue: registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "ID-SOLAR-01", ProjectName: "Cirata floating solar (Chinese-funded)",
		Methodology: "CCER-01-001-V01", HostCountry: "ID", Vintage: 2026, Quantity: gross}, AccountID: w.dev},
		Authorisation: auth, AdaptationAccount: w.adapt, Investor: "CN", InvestorFraction: "0.6", InvestorAccount: w.inv})
}

func (w *a6world) send(t *testing.T, actor registry.Actor, from int64, to string, toAcc int64, units registry.Units, purpose string) string {
	t.Helper()
	sent, err := w.c.Send(context.Background(), "ID", Send{Actor: actor, Key: fmt.Sprintf("send-%d", time.Now().UnixNano()), From: from, ToRegistry: to, ToAccount: toAcc, Units: units, Purpose: purpose})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return sent.ID
}

func (w *a6world) transfer(t *testing.T, id string) Transfer {
	t.Helper()
	tr, err := w.c.Transfer(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func a6codes(tr Transfer) []string {
	var out []string
	for _, h := range tr.History {
		for _, f := range h.Findings {
			out = append(out, f.Code)
		}
	}
	return out
}

// TestArticle6ProjectAbroad: the mission's step 4 end to end through the
// embedded corridor with real nodes, on both drivers. Indonesia's
// administrator authorises the Chinese-funded solar project for NDC use by
// China; the issuance takes 2 % OMGE (cancelled) and 5 % share of proceeds
// (to the adaptation account) and splits the rest 40/60 host/investor; the
// investor's share goes to China's registry through the hub, which records
// it as the first transfer with Indonesia's corresponding adjustment;
// China retires 3,000 t of it for its NDC (its own adjustment); the AEF
// tables equal the golden files, and the hub's ledger rebuilt from its
// database gives the same tables.
func TestArticle6ProjectAbroad(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		w := newA6World(t, tg, defaultApproaches(t))
		w.id.do(t, admin, registry.Authorise{Authorisation: solarAuthorisation("ID-A6-0001", "2030-12-31")})
		res := w.issueSolar(t, "ID-A6-0001", 10_000)
		// 2 % of 10,000 = 200 OMGE, 5 % = 500 SOP, net 9,300; the investor
		// gets floor(0.6 × 9,300) = 5,580, the host keeps 3,720.
		type part struct {
			start, end, account int64
			state               ledger.State
		}
		var got []part
		for _, b := range res.Blocks {
			got = append(got, part{b.Start, b.End, b.AccountID, b.State})
		}
		want := []part{{1, 200, w.dev, ledger.Cancelled}, {201, 700, w.adapt, ledger.Held}, {701, 4420, w.dev, ledger.Held}, {4421, 10_000, w.inv, ledger.Held}}
		if !slices.Equal(got, want) {
			t.Fatalf("issuance layout\n got %v\nwant %v", got, want)
		}
		w.clk.set(a6start.Add(24 * time.Hour))
		tx := w.send(t, w.invActor, w.inv, "CN", w.cnAcc, registry.Units{Quantity: 5580, UnitType: "CCER"}, "ndc")
		if tr := w.transfer(t, tx); !slices.Equal(tr.Statuses(), st(1, 2, 8, 4)) {
			t.Fatalf("statuses %v (findings %v), want 1 2 8 4", tr.Statuses(), a6codes(tr))
		}
		if bad := CheckCorridor(w.id.node, w.cn.node, w.my.node); len(bad) > 0 {
			t.Fatal(bad)
		}
		// China uses 3,000 t of them towards its NDC.
		w.clk.set(a6start.Add(48 * time.Hour))
		w.cn.do(t, w.cnActor, registry.Retire{From: w.cnAcc, Units: registry.Units{Quantity: 3000, UnitType: "CCER"}, Beneficiary: "People's Republic of China", Purpose: "ndc", ComplianceYear: 2026})
		adj := map[string]int64{}
		var firsts int
		err := w.a6.Ledger(ctx, func(l *article6.Ledger) error {
			for _, a := range l.State().Adjustments() {
				adj[fmt.Sprintf("%s/%d", a.Party, a.Year)] += a.Quantity
			}
			for _, r := range l.State().Records() {
				if r.Type == article6.RecordFirstTransfer {
					firsts++
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Indonesia adjusts for the OMGE cancellation and the first transfer
		// of the investor's share, in the vintage year; China for its use,
		// in the year of use.
		if adj["ID/2026"] != 200+5580 || adj["CN/2026"] != -3000 || len(adj) != 2 || firsts != 2 {
			t.Fatalf("adjustments %v, first transfers %d; want ID/2026 = 5780, CN/2026 = -3000 and 2 first transfers", adj, firsts)
		}
		for _, f := range w.a6.Facts() {
			if f.Refused != "" {
				t.Fatalf("fact %d refused: %s %s", f.Fact.Seq, f.Refused, f.Detail)
			}
		}
		sub := func(p string) article6.Submission {
			return article6.Submission{Party: p, Version: 1, Year: 2026, Date: "2027-04-10", NDCFirstYear: 2021, NDCLastYear: 2030}
		}
		tables := map[string]string{}
		for _, p := range []string{"ID", "CN"} {
			aef, err := w.a6.AEF(ctx, sub(p))
			if err != nil {
				t.Fatal(err)
			}
			for _, tab := range aef.Tables {
				var buf bytes.Buffer
				if err := tab.WriteCSV(&buf); err != nil {
					t.Fatal(err)
				}
				name := fmt.Sprintf("aef-%s-2026-%s.csv", p, tab.Name)
				tables[name] = buf.String()
				golden(t, name, buf.String())
			}
		}
		// Rebuilt from the hub's database alone.
		again, err := OpenArticle6(ctx, Article6Config{DB: w.hubDB, Ledger: w.a6.cfg.Ledger, Party: w.a6.cfg.Party, ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"ID", "CN"} {
			aef, err := again.AEF(ctx, sub(p))
			if err != nil {
				t.Fatal(err)
			}
			for _, tab := range aef.Tables {
				var buf bytes.Buffer
				_ = tab.WriteCSV(&buf)
				if name := fmt.Sprintf("aef-%s-2026-%s.csv", p, tab.Name); tables[name] != buf.String() {
					t.Fatalf("%s differs after rebuilding from the database:\n%s\nwant\n%s", name, buf.String(), tables[name])
				}
			}
		}
		for _, s := range []*a6site{w.id, w.cn, w.my} {
			rep, err := registry.Verify(ctx, s.db)
			if err != nil || !rep.OK() {
				t.Fatalf("%s verify: %v %v", s.node.Code(), err, rep.Violations)
			}
		}
	})
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateAEF {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if string(want) != got {
		t.Fatalf("%s differs from the golden file:\n%s\nwant\n%s", name, got, want)
	}
}

// TestArticle6ChecksAtHub: each Article 6 check the hub runs at proposal
// refuses the transfer (status 3, the sender voids) with its code, on both
// drivers.
func TestArticle6ChecksAtHub(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		cases := []struct {
			name string
			code article6.Code
			// setup returns the holder, account and units to send, the
			// acquiring registry and the purpose.
			setup func(t *testing.T, w *a6world) (registry.Actor, int64, registry.Units, string, int64, string)
		}{
			{"units issued without authorisation", article6.CodeNoAuthorisation, func(t *testing.T, w *a6world) (registry.Actor, int64, registry.Units, string, int64, string) {
				w.id.do(t, admin, registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "ID-SOLAR-01", HostCountry: "ID", Vintage: 2026, Quantity: 100}, AccountID: w.dev})
				return w.devActor, w.dev, registry.Units{Quantity: 100, UnitType: "CCER"}, "CN", w.cnAcc, "ndc"
			}},
			{"acquiring Party outside the approach", article6.CodeScopeAcquirer, func(t *testing.T, w *a6world) (registry.Actor, int64, registry.Units, string, int64, string) {
				w.id.do(t, admin, registry.Authorise{Authorisation: solarAuthorisation("ID-A6-0002", "2030-12-31")})
				w.issueSolar(t, "ID-A6-0002", 1000)
				return w.invActor, w.inv, registry.Units{Quantity: 100, UnitType: "CCER"}, "MY", w.myAcc, "ndc"
			}},
			{"revoked before first transfer", article6.CodeRevoked, func(t *testing.T, w *a6world) (registry.Actor, int64, registry.Units, string, int64, string) {
				w.id.do(t, admin, registry.Authorise{Authorisation: solarAuthorisation("ID-A6-0003", "2030-12-31")})
				w.issueSolar(t, "ID-A6-0003", 1000)
				w.id.do(t, admin, registry.RevokeAuthorisation{ID: "ID-A6-0003", Reason: "project suspended"})
				return w.invActor, w.inv, registry.Units{Quantity: 100, UnitType: "CCER"}, "CN", w.cnAcc, "ndc"
			}},
			{"first transfer after the timeframe", article6.CodeScopeTimeframe, func(t *testing.T, w *a6world) (registry.Actor, int64, registry.Units, string, int64, string) {
				w.id.do(t, admin, registry.Authorise{Authorisation: solarAuthorisation("ID-A6-0004", "2026-06-30")})
				w.issueSolar(t, "ID-A6-0004", 1000)
				w.clk.set(time.Date(2026, 7, 15, 9, 0, 0, 0, time.UTC))
				return w.invActor, w.inv, registry.Units{Quantity: 100, UnitType: "CCER"}, "CN", w.cnAcc, "ndc"
			}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				w := newA6World(t, tg.Fresh(t), defaultApproaches(t))
				actor, from, units, to, toAcc, purpose := tc.setup(t, w)
				tr := w.transfer(t, w.send(t, actor, from, to, toAcc, units, purpose))
				if tr.Status != protocol.StatusTerminated || !slices.Contains(a6codes(tr), string(tc.code)) {
					t.Fatalf("status %d, findings %v; want 5 with %s", tr.Status, a6codes(tr), tc.code)
				}
			})
		}
		// The hub's terms differ from the node's (here OMGE 3 % at the hub,
		// 2 % at the node): the hub refuses the issuance, and a transfer of
		// its units carries the issuance's code.
		t.Run("issuance without the deduction the hub's terms require", func(t *testing.T) {
			aps := defaultApproaches(t)
			ap := aps["CN-ID-PILOT"]
			ap.OMGE = decimal.RequireFromString("0.03")
			aps["CN-ID-PILOT"] = ap
			w := newA6World(t, tg.Fresh(t), aps)
			w.id.do(t, admin, registry.Authorise{Authorisation: solarAuthorisation("ID-A6-0005", "2030-12-31")})
			w.issueSolar(t, "ID-A6-0005", 1000)
			tr := w.transfer(t, w.send(t, w.invActor, w.inv, "CN", w.cnAcc, registry.Units{Quantity: 100, UnitType: "CCER"}, "ndc"))
			if tr.Status != protocol.StatusTerminated || !slices.Contains(a6codes(tr), string(article6.CodeMissingDeduction)) {
				t.Fatalf("status %d, findings %v; want 5 with %s", tr.Status, a6codes(tr), article6.CodeMissingDeduction)
			}
		})
		// A voluntary transfer of units outside any authorisation is not
		// the Article 6 checks' business.
		t.Run("voluntary units pass", func(t *testing.T) {
			w := newA6World(t, tg.Fresh(t), defaultApproaches(t))
			w.id.do(t, admin, registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "ID-SOLAR-01", HostCountry: "ID", Vintage: 2026, Quantity: 100}, AccountID: w.dev})
			tr := w.transfer(t, w.send(t, w.devActor, w.dev, "CN", w.cnAcc, registry.Units{Quantity: 100, UnitType: "CCER"}, "voluntary"))
			if !slices.Equal(tr.Statuses(), st(1, 2, 8, 4)) {
				t.Fatalf("statuses %v, findings %v", tr.Statuses(), a6codes(tr))
			}
		})
	})
}

// TestApproachesFromAgreements: the corridor agreements are the one source
// of cooperative approaches. Each agreement with Article 6 terms yields
// exactly one approach with its Parties and terms, an agreement without
// yields none, an edit of an agreement's terms changes its approach, and
// the JCM with Lao PDR (the demo's LA->JP transfer) is one.
func TestApproachesFromAgreements(t *testing.T) {
	set, err := agreements.Default()
	if err != nil {
		t.Fatal(err)
	}
	aps := defaultApproaches(t)
	hundred := decimal.NewFromInt(100)
	n := 0
	for _, a := range set.Agreements {
		if !a.Article6() {
			continue
		}
		n++
		ap, ok := aps[a.Terms.Approach]
		if !ok || ap.Agreement != a.ID {
			t.Errorf("agreement %s: approach %s = %+v", a.ID, a.Terms.Approach, ap)
			continue
		}
		if !slices.Equal(ap.Parties, a.Parties) || !ap.ShareOfProceeds.Mul(hundred).Equal(a.Terms.SOP()) || !ap.OMGE.Mul(hundred).Equal(a.Terms.OMGE()) ||
			ap.CoordinatedIssuance != a.Terms.CoordinatedIssuance || len(ap.Sources) != len(a.Terms.Sources) || ap.Proposal() != (a.Status == agreements.StatusProposal) {
			t.Errorf("agreement %s and approach %s disagree: %+v / %+v", a.ID, ap.ID, a.Terms, ap)
		}
	}
	if n != len(aps) || n == 0 {
		t.Fatalf("%d agreements with Article 6 terms, %d approaches", n, len(aps))
	}
	for id, agreement := range map[string]string{"SG-TH-IA": "sg-th-ia", "JP-TH-JCM": "jcm-th", "JP-LA-JCM": "jcm-la", "CH-TH-BA": "ch-th",
		"CN-ID-PILOT": "pilot-cn-id", "CN-MY-PILOT": "pilot-cn-my", "CN-TH-PILOT": "pilot-cn-th"} {
		if aps[id].Agreement != agreement {
			t.Errorf("approach %s is agreement %q, want %s", id, aps[id].Agreement, agreement)
		}
	}
	if la := aps["JP-LA-JCM"]; !la.CoordinatedIssuance || !la.Participant("LA") || !la.Participant("JP") || !slices.Equal(la.Purposes, []article6.Purpose{article6.PurposeNDC}) {
		t.Errorf("JP-LA-JCM = %+v", la)
	}
	// An administrator's edit of the terms is the approach's change.
	i := slices.IndexFunc(set.Agreements, func(a agreements.Agreement) bool { return a.ID == "sg-th-ia" })
	edited := set.Agreements[i]
	three := decimal.NewFromInt(3)
	edited.Terms.OMGEPct = &three
	next, err := set.Apply(agreements.Edit{Op: agreements.OpReplace, Agreement: edited, AsOf: a6start})
	if err != nil {
		t.Fatal(err)
	}
	got, err := article6.ApproachesFrom(next)
	if err != nil {
		t.Fatal(err)
	}
	if !got["SG-TH-IA"].OMGE.Equal(decimal.RequireFromString("0.03")) {
		t.Fatalf("edited OMGE not read: %s", got["SG-TH-IA"].OMGE)
	}
	edited.Terms = agreements.Terms{}
	if next, err = set.Apply(agreements.Edit{Op: agreements.OpReplace, Agreement: edited, AsOf: a6start}); err != nil {
		t.Fatal(err)
	}
	if got, err = article6.ApproachesFrom(next); err != nil || len(got) != len(aps)-1 {
		t.Fatalf("an agreement without terms still yields an approach: %d of %d, %v", len(got), len(aps), err)
	}
}

// TestArticle6CorridorSequence: seeded random sequences of sends of the
// investor's share to China and back, NDC retirements in China, a
// revocation, days passing, and a report read between a transfer's
// acceptance and its completion (after a day and a new fact), through
// the embedded corridor with real nodes on both drivers. After each
// sequence: no serial is first-
// transferred twice; each first transfer has exactly one corresponding
// adjustment of its quantity; each Party's adjustments add up to what its
// AEF Actions report; the ledger places every held and used unit where the
// registries hold and retired them; conservation holds corridor-wide.
func TestArticle6CorridorSequence(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		for seed := uint64(1); seed <= 2; seed++ {
			t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
				article6Sequence(t, tg.Fresh(t), seed, 14)
			})
		}
	})
}

func article6Sequence(t *testing.T, tg storetest.Target, seed uint64, steps int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 6))
	w := newA6World(t, tg, defaultApproaches(t))
	a := solarAuthorisation("ID-A6-0001", "2030-12-31")
	w.id.do(t, admin, registry.Authorise{Authorisation: a})
	b := solarAuthorisation("ID-A6-0002", "2030-12-31")
	b.AcquiringParties = nil
	w.id.do(t, admin, registry.Authorise{Authorisation: b})
	w.issueSolar(t, "ID-A6-0001", 2000)
	w.issueSolar(t, "ID-A6-0002", 1000)
	revoked := false
	revoke := func() {
		if !revoked {
			w.id.do(t, admin, registry.RevokeAuthorisation{ID: "ID-A6-0002", Reason: "sequence"})
			revoked = true
		}
	}
	// send proposes; with between, it delivers until the hub accepted the
	// transfer, then a day passes, the host revokes (or, revoked already,
	// issues) and the hub's ledger is read (a report read) before the
	// transfer completes.
	send := func(from string, actor registry.Actor, acc int64, to string, toAcc int64, q int64, between bool) {
		sent, err := w.c.Send(ctx, from, Send{Actor: actor, Key: fmt.Sprintf("s-%d-%d", seed, rng.Uint64()), From: acc, ToRegistry: to, ToAccount: toAcc,
			Units: registry.Units{Quantity: q, UnitType: "CCER"}, Purpose: "ndc"})
		if err != nil {
			// Too few units, or none of the type yet (CN before its first import).
			if e, ok := ledger.AsError(err); ok && (e.Code == ledger.CodeInsufficientUnits || e.Code == registry.CodeUnitTypeUnknown) {
				return
			}
			t.Fatalf("send %s→%s %d: %v", from, to, q, err)
		}
		for between {
			tr, _ := w.c.Hub.Transfer(sent.ID)
			if tr.Status == protocol.StatusAccepted {
				w.clk.set(w.clk.now().Add(24 * time.Hour))
				if revoked {
					// Any fact dated after the acceptance will do.
					w.issueSolar(t, "ID-A6-0001", 10)
				}
				revoke()
				if err := w.a6.Sync(ctx); err != nil {
					t.Fatal(err)
				}
				break
			}
			if n, _ := w.c.Transport.Run(ctx, 1); n == 0 || tr.Status.Final() {
				break // refused or cancelled: nothing to read between
			}
		}
		if err := w.c.Run(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for range steps {
		q := 1 + rng.Int64N(400)
		switch rng.IntN(6) {
		case 0, 1:
			send("ID", w.invActor, w.inv, "CN", w.cnAcc, q, false)
		case 5:
			send("ID", w.invActor, w.inv, "CN", w.cnAcc, q, true)
		case 2:
			send("CN", w.cnActor, w.cnAcc, "ID", w.inv, q, false)
		case 3:
			if _, err := w.cn.node.Do(ctx, w.cnActor, fmt.Sprintf("r-%d", rng.Uint64()), registry.Retire{From: w.cnAcc, Units: registry.Units{Quantity: q, UnitType: "CCER"},
				Beneficiary: "People's Republic of China", Purpose: "ndc"}); err != nil {
				if e, ok := ledger.AsError(err); !ok || e.Code != ledger.CodeInsufficientUnits && e.Code != registry.CodeUnitTypeUnknown {
					t.Fatal(err)
				}
			}
		case 4:
			revoke()
			w.clk.set(w.clk.now().Add(24 * time.Hour))
		}
	}
	if bad := CheckCorridor(w.id.node, w.cn.node, w.my.node); len(bad) > 0 {
		t.Fatal(bad)
	}
	for _, bad := range article6Properties(ctx, w.a6, []*registry.Node{w.id.node, w.cn.node, w.my.node}, []string{"ID", "CN"}) {
		t.Error(bad)
	}
}

// article6Properties states issue 10's properties of the hub's Article 6
// ledger against the registries: no serial first-transferred twice; each
// first transfer has exactly one corresponding adjustment, of its
// quantity; each of parties' adjustments add up to what its 2026 AEF
// Actions report; no fact was refused; and the ledger places every held
// and used unit of an issuance it knows where the registries hold and
// retired them. It returns what does not hold.
func article6Properties(ctx context.Context, a6 *Article6, nodes []*registry.Node, parties []string) []string {
	var bad []string
	type key struct {
		party string
		state string
	}
	ledgerUnits := map[key]int64{}
	adjusted := map[string]int64{}
	known := func(ledger.Serial) bool { return false }
	err := a6.Ledger(ctx, func(l *article6.Ledger) error {
		st := l.State()
		recs := st.Records()
		seen := map[string][][2]int64{}
		bySeq := map[int]article6.Record{}
		for _, r := range recs {
			bySeq[r.Seq] = r
			if r.Type != article6.RecordFirstTransfer {
				continue
			}
			k := r.Units.Registry + "/" + strconv.FormatInt(r.Units.Issuance, 10)
			for _, s := range seen[k] {
				if r.Units.Start <= s[1] && s[0] <= r.Units.End {
					bad = append(bad, fmt.Sprintf("serials %s first-transferred twice", r.Units))
				}
			}
			seen[k] = append(seen[k], [2]int64{r.Units.Start, r.Units.End})
		}
		perRecord := map[int]int{}
		for _, a := range st.Adjustments() {
			adjusted[a.Party] += a.Quantity
			r := bySeq[a.Record]
			if a.Quantity > 0 {
				perRecord[a.Record]++
				if r.Type != article6.RecordFirstTransfer || r.Quantity() != a.Quantity {
					bad = append(bad, fmt.Sprintf("adjustment %+v does not match its first transfer %+v", a, r))
				}
			}
		}
		for _, r := range recs {
			if r.Type == article6.RecordFirstTransfer && perRecord[r.Seq] != 1 {
				bad = append(bad, fmt.Sprintf("first transfer %d (%s) has %d adjustments", r.Seq, r.Units, perRecord[r.Seq]))
			}
		}
		for _, b := range st.Blocks() {
			if b.Status != article6.StatusCancelled {
				ledgerUnits[key{b.Holder, string(b.Status)}] += b.Units.Count()
			}
		}
		knownIss := map[[2]string]bool{}
		for _, b := range st.Blocks() {
			knownIss[[2]string{b.Units.Registry, strconv.FormatInt(b.Units.Issuance, 10)}] = true
		}
		known = func(s ledger.Serial) bool { return knownIss[[2]string{s.Registry, strconv.FormatInt(s.Issuance, 10)}] }
		return nil
	})
	if err != nil {
		return append(bad, err.Error())
	}
	for _, f := range a6.Facts() {
		if f.Refused != "" {
			bad = append(bad, fmt.Sprintf("fact %d refused: %s", f.Fact.Seq, f.Detail))
		}
	}
	// Every unit of the authorised issuances as the registries hold it.
	nodeUnits := map[key]int64{}
	for _, n := range nodes {
		for _, ob := range n.OriginBlocks() {
			if !known(ledger.Serial{Registry: ob.Origin.Registry, Issuance: ob.Origin.Issuance}) {
				continue
			}
			switch ob.State {
			case ledger.Held, ledger.Reserved:
				nodeUnits[key{n.Code(), string(article6.StatusHeld)}] += ob.End - ob.Start + 1
			case ledger.Retired:
				nodeUnits[key{n.Code(), string(article6.StatusUsed)}] += ob.End - ob.Start + 1
			}
		}
	}
	if fmt.Sprint(nodeUnits) != fmt.Sprint(ledgerUnits) {
		bad = append(bad, fmt.Sprintf("the ledger places units\n%v\nthe registries hold\n%v", ledgerUnits, nodeUnits))
	}
	for _, p := range parties {
		aef, err := a6.AEF(ctx, article6.Submission{Party: p, Version: 1, Year: 2026, Date: "2027-04-10", NDCFirstYear: 2021, NDCLastYear: 2030})
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		tab, _ := aef.Table("Actions")
		col := func(name string) int { return slices.Index(tab.Header, name) }
		code, _ := article6.PartyCode(p)
		var sum int64
		for _, row := range tab.Rows {
			q, _ := strconv.ParseInt(row[col(article6.ColQuantity)], 10, 64)
			switch {
			case row[col(article6.ColActionType)] == article6.TypeFirstTransfer && row[col(article6.ColFirstTransferringParty)] == code:
				sum += q
			case row[col(article6.ColActionType)] == article6.TypeUse && row[col(article6.ColYearUsedForNDC)] != "NA" && row[col(article6.ColUsingParty)] == code:
				sum -= q
			}
		}
		if sum != adjusted[p] {
			bad = append(bad, fmt.Sprintf("%s: AEF actions add up to %d, adjustments to %d", p, sum, adjusted[p]))
		}
	}
	return bad
}

// sendA6 sends units from registry code with the sender's Article 6
// statement and runs the corridor until it settles.
func (w *a6world) sendA6(t *testing.T, code string, actor registry.Actor, from int64, to string, toAcc int64, units registry.Units, claim *registry.Article6Claim) Transfer {
	t.Helper()
	sent, err := w.c.Send(context.Background(), code, Send{Actor: actor, Key: fmt.Sprintf("send-%d", time.Now().UnixNano()), From: from, ToRegistry: to, ToAccount: toAcc,
		Units: units, Purpose: "ndc", Article6: claim})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return w.transfer(t, sent.ID)
}

// TestArticle6StatementAtHub: the proposal carries the sender's Article 6
// statement per block (authorisation id and version, first transfer or
// not, first and last ITMO identifier), so the hub refuses, with their
// codes, a statement of another authorisation or version, ITMO
// identifiers that are not the units', a first transfer denied, and a
// second first transfer of units that came back; a true statement
// completes, and the ledger records one first transfer.
func TestArticle6StatementAtHub(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w := newA6World(t, tg, defaultApproaches(t))
		w.id.do(t, admin, registry.Authorise{Authorisation: solarAuthorisation("ID-A6-0001", "2030-12-31")})
		w.issueSolar(t, "ID-A6-0001", 1000)
		claim := func(edit func(*registry.Article6Claim)) *registry.Article6Claim {
			c := &registry.Article6Claim{Authorisation: "ID-A6-0001", Version: 1, Approach: "CN-ID-PILOT", Party: "ID", FirstTransfer: true}
			edit(c)
			return c
		}
		hundred := registry.Units{Quantity: 100, UnitType: "CCER"}
		refused := func(name string, c *registry.Article6Claim, code article6.Code) {
			t.Helper()
			tr := w.sendA6(t, "ID", w.invActor, w.inv, "CN", w.cnAcc, hundred, c)
			if tr.Status != protocol.StatusTerminated || !slices.Contains(a6codes(tr), string(code)) {
				t.Fatalf("%s: status %d, findings %v; want 5 with %s", name, tr.Status, a6codes(tr), code)
			}
		}
		refused("another authorisation", claim(func(c *registry.Article6Claim) { c.Authorisation = "ID-A6-0009" }), article6.CodeAuthMismatch)
		refused("another version", claim(func(c *registry.Article6Claim) { c.Version = 2 }), article6.CodeAuthVersion)
		refused("ITMOs of another first transferring Party", claim(func(c *registry.Article6Claim) { c.Party = "CN" }), article6.CodeITMOMismatch)
		// (CN takes part in CN-MY-PILOT, so the statement's shape passes
		// the sender's check, registry.CheckArticle6Claim.)
		refused("ITMOs of another approach", claim(func(c *registry.Article6Claim) { c.Approach, c.Party = "CN-MY-PILOT", "CN" }), article6.CodeITMOMismatch)
		refused("first transfer denied", claim(func(c *registry.Article6Claim) { c.FirstTransfer = false }), article6.CodeFirstMismatch)

		out := w.sendA6(t, "ID", w.invActor, w.inv, "CN", w.cnAcc, hundred, claim(func(*registry.Article6Claim) {}))
		if !slices.Equal(out.Statuses(), st(1, 2, 8, 4)) {
			t.Fatalf("a true statement: statuses %v, findings %v", out.Statuses(), a6codes(out))
		}
		b := out.Proposal.Blocks[0]
		if b.Article6.FirstITMO != fmt.Sprintf("CN-ID-PILOT.ID.ID.2026.%s.%d", b.IssuanceID, b.Start) || !b.Article6.FirstTransfer {
			t.Fatalf("block statement %+v", b.Article6)
		}
		iss, _ := strconv.ParseInt(b.IssuanceID, 10, 64)
		serial := ledger.Serial{Registry: b.OriginRegistry, UnitType: b.UnitType, Project: b.Project, Vintage: b.Vintage, Issuance: iss, Start: b.Start, End: b.End}.String()
		// Back to Indonesia (not a first transfer any more), then out again
		// declared as a first transfer: the double first transfer.
		back := w.sendA6(t, "CN", w.cnActor, w.cnAcc, "ID", w.inv, registry.Units{Serials: []string{serial}}, claim(func(c *registry.Article6Claim) { c.FirstTransfer = false }))
		if !slices.Equal(back.Statuses(), st(1, 2, 8, 4)) {
			t.Fatalf("back to ID: statuses %v, findings %v", back.Statuses(), a6codes(back))
		}
		again := w.sendA6(t, "ID", w.invActor, w.inv, "CN", w.cnAcc, registry.Units{Serials: []string{serial}}, claim(func(*registry.Article6Claim) {}))
		if again.Status != protocol.StatusTerminated || !slices.Contains(a6codes(again), string(article6.CodeDoubleFirst)) {
			t.Fatalf("second first transfer: status %d, findings %v; want 5 with %s", again.Status, a6codes(again), article6.CodeDoubleFirst)
		}
		// A statement about units issued outside any authorisation.
		plain := w.id.do(t, admin, registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "ID-SOLAR-02", HostCountry: "ID", Vintage: 2026, Quantity: 50}, AccountID: w.dev})
		vol := w.sendA6(t, "ID", w.devActor, w.dev, "CN", w.cnAcc, registry.Units{Quantity: 50, UnitType: "CCER", IssuanceID: plain.ID}, claim(func(*registry.Article6Claim) {}))
		if vol.Status != protocol.StatusTerminated || !slices.Contains(a6codes(vol), string(article6.CodeNoAuthorisation)) {
			t.Fatalf("a statement about unauthorised units: status %d, findings %v; want 5 with %s", vol.Status, a6codes(vol), article6.CodeNoAuthorisation)
		}
		firsts := 0
		if err := w.a6.Ledger(context.Background(), func(l *article6.Ledger) error {
			for _, r := range l.State().Records() {
				if r.Type == article6.RecordFirstTransfer && r.Units.Project == "ID-SOLAR-01" && r.TransferringParty == "ID" {
					firsts++
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if firsts != 1 {
			t.Fatalf("%d first-transfer records of the international transfer, want 1", firsts)
		}
	})
}

// held sums the units held in account of site s.
func (s *a6site) held(t *testing.T, account int64) int64 {
	t.Helper()
	bs, err := s.node.Holdings(admin, account, 0, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, b := range bs {
		if b.State == ledger.Held {
			n += b.Quantity
		}
	}
	return n
}

// runUntil delivers messages one by one until the hub's record of tx
// reaches status want.
func (w *a6world) runUntil(t *testing.T, tx string, want protocol.Status) {
	t.Helper()
	for range 100 {
		if tr, ok := w.c.Hub.Transfer(tx); ok && tr.Status == want {
			return
		}
		// One delivery at a time: Run reports the queue still busy.
		if n, _ := w.c.Transport.Run(context.Background(), 1); n == 0 {
			t.Fatalf("transfer %s never reached %s: nothing left to deliver", tx, want)
		}
	}
	t.Fatalf("transfer %s never reached %s", tx, want)
}

// TestArticle6RevocationBeforeCompletion: the host revokes the
// authorisation after the hub checked a first transfer at proposal. Before
// the hub accepted it, the hub's acceptance check cancels the transfer (7,
// article6_authorisation_revoked) and the units stay with the investor in
// Indonesia, as in the ledger. After the acceptance (and on a later day
// than it, the completion later still), the transfer completes, the ledger
// counts the units first-transferred, takes the revocation (not refused
// as out of date order), and refuses the next transfer of units never
// first-transferred with article6_authorisation_revoked.
func TestArticle6RevocationBeforeCompletion(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		start := func(t *testing.T) (*a6world, string) {
			w := newA6World(t, tg.Fresh(t), defaultApproaches(t))
			w.id.do(t, admin, registry.Authorise{Authorisation: solarAuthorisation("ID-A6-0001", "2030-12-31")})
			w.issueSolar(t, "ID-A6-0001", 1000) // the investor holds 558 t
			sent, err := w.c.Send(ctx, "ID", Send{Actor: w.invActor, Key: "first", From: w.inv, ToRegistry: "CN", ToAccount: w.cnAcc,
				Units: registry.Units{Quantity: 100, UnitType: "CCER"}, Purpose: "ndc"})
			if err != nil {
				t.Fatal(err)
			}
			return w, sent.ID
		}
		revoke := func(t *testing.T, w *a6world) {
			w.id.do(t, admin, registry.RevokeAuthorisation{ID: "ID-A6-0001", Reason: "project suspended"})
		}
		firsts := func(t *testing.T, w *a6world) (n int) {
			if err := w.a6.Ledger(ctx, func(l *article6.Ledger) error {
				for _, r := range l.State().Records() {
					if r.Type == article6.RecordFirstTransfer && r.AcquiringParty == "CN" {
						n++
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			for _, f := range w.a6.Facts() {
				if f.Refused != "" {
					t.Fatalf("the ledger refused fact %d: %s %s", f.Fact.Seq, f.Refused, f.Detail)
				}
			}
			return n
		}
		t.Run("before acceptance", func(t *testing.T) {
			w, tx := start(t)
			w.runUntil(t, tx, protocol.StatusChecked)
			revoke(t, w)
			if err := w.c.Run(ctx); err != nil {
				t.Fatal(err)
			}
			tr := w.transfer(t, tx)
			if tr.Status != protocol.StatusCancelled || !slices.Contains(a6codes(tr), string(article6.CodeRevoked)) {
				t.Fatalf("statuses %v, findings %v; want 7 with %s", tr.Statuses(), a6codes(tr), article6.CodeRevoked)
			}
			if inv, cn := w.id.held(t, w.inv), w.cn.held(t, w.cnAcc); inv != 558 || cn != 0 {
				t.Fatalf("investor holds %d, China %d; want 558 and 0", inv, cn)
			}
			if n := firsts(t, w); n != 0 {
				t.Fatalf("%d first transfers to China in the ledger, want 0", n)
			}
			if bad := CheckCorridor(w.id.node, w.cn.node, w.my.node); len(bad) > 0 {
				t.Fatal(bad)
			}
		})
		t.Run("after acceptance", func(t *testing.T) {
			w, tx := start(t)
			w.runUntil(t, tx, protocol.StatusAccepted)
			w.clk.set(a6start.Add(24 * time.Hour))
			revoke(t, w)
			w.clk.set(a6start.Add(48 * time.Hour))
			if err := w.c.Run(ctx); err != nil {
				t.Fatal(err)
			}
			if tr := w.transfer(t, tx); !slices.Equal(tr.Statuses(), st(1, 2, 8, 4)) {
				t.Fatalf("statuses %v, findings %v; want 1 2 8 4", tr.Statuses(), a6codes(tr))
			}
			if inv, cn := w.id.held(t, w.inv), w.cn.held(t, w.cnAcc); inv != 458 || cn != 100 {
				t.Fatalf("investor holds %d, China %d; want 458 and 100", inv, cn)
			}
			if n := firsts(t, w); n != 1 {
				t.Fatalf("%d first transfers to China in the ledger, want 1", n)
			}
			next := w.transfer(t, w.send(t, w.invActor, w.inv, "CN", w.cnAcc, registry.Units{Quantity: 100, UnitType: "CCER"}, "ndc"))
			if next.Status != protocol.StatusTerminated || !slices.Contains(a6codes(next), string(article6.CodeRevoked)) {
				t.Fatalf("a transfer after the revocation: status %d, findings %v; want 5 with %s", next.Status, a6codes(next), article6.CodeRevoked)
			}
		})
	})
}

// TestCoordinatedIssuanceFromJournal: a JCM host registry's issue_authorised
// names its Joint Committee decision, and the hub's ledger, fed from the
// registry's journal, records the share under that decision (not complete
// while the partner's share is missing) and refuses a second share of the
// same decision from the same registry with article6_decision_issued_twice
// (a journal that holds one: the node itself now refuses it).
func TestCoordinatedIssuanceFromJournal(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		la, err := registry.Open(ctx, tg.Open(t), registry.Options{Code: "LA"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(la.Close)
		s := &a6site{node: la}
		_, acc := s.holder(t, "Vientiane biogas")
		s.do(t, admin, registry.Authorise{Authorisation: registry.Authorisation{ID: "LA-JCM-0001", Version: 1, Host: "LA", Approach: "JP-LA-JCM", Purposes: []string{"NDC"},
			Quantity: 10_000, From: "2025-01-01", Until: "2030-12-31", VintageFrom: 2025, VintageTo: 2030, Activities: []string{"LA-BIOGAS-01"}, AcquiringParties: []string{"JP"}}})
		s.do(t, admin, registry.IssueAuthorised{Issue: registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "JCM", UnitType: "JCM", Project: "LA-BIOGAS-01", HostCountry: "LA", Vintage: 2026, Quantity: 600}, AccountID: acc},
			Authorisation: "LA-JCM-0001", Decision: "JC-LA-0007", DecisionQuantity: 1000})
		a6, err := OpenArticle6(ctx, Article6Config{DB: tg.Fresh(t).Open(t), Ledger: article6.Config{Approaches: defaultApproaches(t), Registries: map[string]string{"LA": "LA", "JP": "JP"}},
			Sources: map[string]Article6Source{"LA": NodeSource{Node: la}}, Log: quiet})
		if err != nil {
			t.Fatal(err)
		}
		var d article6.Decision
		if err := a6.Ledger(ctx, func(l *article6.Ledger) error { d = l.State().Decisions()["JC-LA-0007"]; return nil }); err != nil {
			t.Fatal(err)
		}
		if d.Quantity != 1000 || d.Issued["LA"] != 600 || d.Complete() {
			t.Fatalf("decision at the hub: %+v", d)
		}
		// The node refuses a second share itself now
		// (TestDecisionShareOnce); a registry that journaled one anyway (an
		// older node) is refused by the hub's ledger.
		ts, err := NodeSource{Node: la}.Article6Entries(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		again := ts[len(ts)-1]
		again.Seq, again.Result.ID = again.Seq+1, again.Result.ID+1
		a6.cfg.Sources["LA"] = entriesSource(append(ts, again))
		if err := a6.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		fs := a6.Facts()
		if last := fs[len(fs)-1]; last.Refused != article6.CodeDecisionTwice {
			t.Fatalf("a second LA share of the decision: %+v", last)
		}
	})
}

// entriesSource answers a fixed journal.
type entriesSource []registry.Transaction

func (s entriesSource) Article6Entries(_ context.Context, after int64) ([]registry.Transaction, error) {
	var out []registry.Transaction
	for _, t := range s {
		if t.Seq > after {
			out = append(out, t)
		}
	}
	return out, nil
}

// TestHubWithoutArticle6Ledger: a hub that keeps no Article 6 ledger (a
// networked hub today) refuses a transfer whose purpose needs authorised
// units with article6_unavailable, rather than let it pass without the
// checks and without its first transfer recorded; a voluntary transfer
// completes.
func TestHubWithoutArticle6Ledger(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		clk := &clock{t: a6start}
		open := func(tg storetest.Target, code string) *a6site {
			n, err := registry.Open(ctx, tg.Open(t), registry.Options{Code: code, Now: clk.now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(n.Close)
			s := &a6site{node: n}
			s.hubOrg = s.do(t, admin, registry.CreateOrganisation{Name: "Corridor hub", Country: "SG"}).ID
			return s
		}
		id, cn := open(tg, "ID"), open(tg.Fresh(t), "CN")
		actor, from := id.holder(t, "PT Surya Energi")
		_, to := cn.holder(t, "China national holding")
		id.do(t, admin, registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "ID-SOLAR-01", Methodology: "CCER-01-001-V01", HostCountry: "ID", Vintage: 2026, Quantity: 1000}, AccountID: from})
		set, err := agreements.Default()
		if err != nil {
			t.Fatal(err)
		}
		c, err := Embedded(ctx, EmbeddedConfig{HubDB: tg.Fresh(t).Open(t), Members: []Member{{Node: id.node, HubOrg: id.hubOrg}, {Node: cn.node, HubOrg: cn.hubOrg}}, Agreements: set, Now: clk.now})
		if err != nil {
			t.Fatal(err)
		}
		for _, purpose := range []string{"ndc", "voluntary"} {
			sent, err := c.Send(ctx, "ID", Send{Actor: actor, Key: "send-" + purpose, From: from, ToRegistry: "CN", ToAccount: to, Units: registry.Units{Quantity: 10, UnitType: "CCER"}, Purpose: purpose})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Run(ctx); err != nil {
				t.Fatal(err)
			}
			tr, err := c.Transfer(ctx, sent.ID)
			if err != nil {
				t.Fatal(err)
			}
			switch purpose {
			case "ndc":
				if tr.Status != protocol.StatusTerminated || !slices.Contains(a6codes(tr), CodeArticle6Unavailable) {
					t.Errorf("ndc without a ledger: %v %v", tr.Statuses(), a6codes(tr))
				}
			default:
				if tr.Status != protocol.StatusCompleted {
					t.Errorf("voluntary without a ledger: %v %v", tr.Statuses(), a6codes(tr))
				}
			}
		}
	})
}
