package hub

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/hub/simnet"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
)

// simA6Agreements is simAgreements with the China-Thailand and
// China-Malaysia routes also open for NDC use, under the embedded pilots'
// Article 6 terms (CN-TH-PILOT, CN-MY-PILOT: the approaches every node
// applies, registry.Article6Config). Test-only, like simAgreements.
const simA6Agreements = `revision: 1
purposes:
  - {code: voluntary, name: "Voluntary use"}
  - {code: ndc, name: "NDC use"}
registries:
  - {code: CN, party: CN, name: "China"}
  - {code: TH, party: TH, name: "Thailand"}
  - {code: SG, party: SG, name: "Singapore"}
  - {code: MY, party: MY, name: "Malaysia"}
sources:
  - {id: test, title: "Test corridor", issuer: "Corridor tests", kind: proposal}
agreements:
  - {id: sim-cn-th, kind: pilot, title: "Sim CN-TH", status: proposal, parties: [CN, TH], routes: [{from: CN, to: TH, unit_types: [CCER]}, {from: TH, to: CN, unit_types: [CCER]}], purposes: [voluntary, ndc], sources: [{id: test}]}
  - {id: sim-cn-sg, kind: pilot, title: "Sim CN-SG", status: proposal, parties: [CN, SG], routes: [{from: CN, to: SG, unit_types: [CCER]}, {from: SG, to: CN, unit_types: [CCER]}], purposes: [voluntary, ndc], sources: [{id: test}]}
  - {id: sim-cn-my, kind: pilot, title: "Sim CN-MY", status: proposal, parties: [CN, MY], routes: [{from: CN, to: MY, unit_types: [CCER]}, {from: MY, to: CN, unit_types: [CCER]}], purposes: [voluntary, ndc], sources: [{id: test}]}
  - {id: sim-th-sg, kind: pilot, title: "Sim TH-SG", status: proposal, parties: [TH, SG], routes: [{from: TH, to: SG, unit_types: [CCER]}, {from: SG, to: TH, unit_types: [CCER]}], purposes: [voluntary, ndc], sources: [{id: test}]}
  - {id: sim-th-my, kind: pilot, title: "Sim TH-MY", status: proposal, parties: [TH, MY], routes: [{from: TH, to: MY, unit_types: [CCER]}, {from: MY, to: TH, unit_types: [CCER]}], purposes: [voluntary, ndc], sources: [{id: test}]}
  - {id: sim-sg-my, kind: pilot, title: "Sim SG-MY", status: proposal, parties: [SG, MY], routes: [{from: SG, to: MY, unit_types: [CCER]}, {from: MY, to: SG, unit_types: [CCER]}], purposes: [voluntary, ndc], sources: [{id: test}]}
`

// simA6 is the Article 6 part of a simulation: Thailand and Malaysia
// authorise units for China's NDC (CN-TH-PILOT, CN-MY-PILOT) and issue
// them with the pilots' deductions; the hub keeps its Article 6 ledger on
// its own database and reads the registries' journals through a source
// that follows each node across its crashes and restarts.
type simA6 struct {
	ledger *Article6
	// revoked: the authorisations revoked so far.
	revoked map[string]bool
}

// simA6Hosts are the authorisations of the run: host registry, id, approach.
var simA6Hosts = []struct{ host, id, approach string }{
	{"TH", "TH-A6-SIM-1", "CN-TH-PILOT"},
	{"TH", "TH-A6-SIM-2", "CN-TH-PILOT"},
	{"MY", "MY-A6-SIM-1", "CN-MY-PILOT"},
}

// simSource reads the journal of whatever node object currently runs
// under code; a node that is down answers with an error, as its API would
// over the network, and the hub then refuses with article6_unavailable.
type simSource struct {
	s    *sim
	code string
}

func (src simSource) Article6Entries(ctx context.Context, after int64) ([]registry.Transaction, error) {
	n := src.s.byCode[src.code]
	if n.node == nil {
		return nil, errors.New("sim: registry " + src.code + " is down")
	}
	return NodeSource{Node: n.node}.Article6Entries(ctx, after)
}

func (a *simA6) open(s *sim, db *store.DB) *Article6 {
	aps, err := article6.DefaultApproaches()
	if err != nil {
		s.t.Fatal(err)
	}
	cfg := Article6Config{DB: db, Ledger: article6.Config{Approaches: aps, Registries: map[string]string{}}, Sources: map[string]Article6Source{}, Party: map[string]string{}, Log: quiet}
	for _, n := range s.nodes {
		cfg.Sources[n.code] = simSource{s, n.code}
		cfg.Party[n.code] = n.code
		cfg.Ledger.Registries[n.code] = n.code
	}
	x, err := OpenArticle6(s.ctx, cfg)
	if err != nil {
		s.t.Fatalf("seed %d: open article 6 ledger: %v", s.seed, err)
	}
	a.ledger = x
	return x
}

func (a *simA6) setupNode(s *sim, n *simNode, do func(registry.Actor, registry.Request) registry.Result) {
	n.a6acc = do(admin, registry.OpenAccount{OrgID: n.holder.OrgID, Type: ledger.Holding, Name: "Article 6"}).ID
	n.adapt = do(admin, registry.OpenAccount{OrgID: n.holder.OrgID, Type: ledger.Holding, Name: "Adaptation"}).ID
	for i, h := range simA6Hosts {
		if h.host != n.code {
			continue
		}
		project := fmt.Sprintf("%s-SIM-%d", n.code, i)
		do(admin, registry.Authorise{Authorisation: registry.Authorisation{ID: h.id, Version: 1, Host: n.code, Approach: h.approach, Purposes: []string{"NDC"},
			Quantity: 50_000, From: "2026-01-01", Until: "2030-12-31", VintageFrom: 2026, VintageTo: 2030, Activities: []string{project}, AcquiringParties: []string{"CN"},
			Sector: "Energy", ActivityType: "Solar photovoltaic power", MitigationType: "emission reductions"}})
		do(admin, registry.IssueAuthorised{Issue: registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: project, Methodology: "CCER-01-001-V01",
			HostCountry: n.code, Vintage: 2026, Quantity: 20_000}, AccountID: n.a6acc}, Authorisation: h.id, AdaptationAccount: n.adapt})
	}
}

// step is one random Article 6 move from a node that is up: an NDC
// transfer of units from its Article 6 account (first transfers to China,
// returns, onward moves to Singapore), China's NDC use of
// what it holds, or a host's revocation. It reports whether a transfer
// was proposed.
func (a *simA6) step(s *sim, rng *rand.Rand, from *simNode) bool {
	ctx := s.ctx
	s.keys++
	key := fmt.Sprintf("a6-%d", s.keys)
	switch r := rng.IntN(60); {
	case r == 0:
		h := simA6Hosts[rng.IntN(len(simA6Hosts))]
		if a.revoked[h.id] || !s.net.Up(simnet.Addr(h.host)) {
			return false
		}
		if _, err := s.byCode[h.host].node.Do(ctx, admin, key, registry.RevokeAuthorisation{ID: h.id, Reason: "simulation"}); err != nil {
			s.fail("revoke %s: %v", h.id, err)
			return false
		}
		a.revoked[h.id] = true
		s.counts["a6 revocation"]++
		return false
	case r < 12 && from.code == "CN":
		_, err := from.node.Do(ctx, from.holder, key, registry.Retire{From: from.a6acc, Units: registry.Units{Quantity: int64(1 + rng.IntN(500)), UnitType: "CCER"},
			Beneficiary: "People's Republic of China", Purpose: "ndc"})
		if _, rule := ledger.AsError(err); err != nil && !rule {
			s.fail("CN ndc retirement: %v", err)
		}
		if err == nil {
			s.counts["a6 ndc use"]++
		}
		return false
	}
	to := s.byCode["CN"]
	if from.code == "CN" {
		to = s.nodes[1+rng.IntN(len(s.nodes)-1)] // back to a host, or onward to SG
	}
	_, err := from.ep.Propose(ctx, Send{Actor: from.holder, Key: key, From: from.a6acc, ToRegistry: to.code, ToAccount: to.a6acc,
		Units: registry.Units{Quantity: int64(1 + rng.IntN(1500)), UnitType: "CCER"}, Purpose: "ndc", ExpiresIn: 3600})
	if _, rule := ledger.AsError(err); err != nil {
		if !rule {
			s.fail("a6 propose at %s: %v", from.code, err)
		}
		s.counts["a6 refused at sender"]++
		return false
	}
	s.counts["a6 proposed"]++
	return true
}

// check states the Article 6 properties once the corridor is quiet, with
// the ledger as it stands and again rebuilt from the hub's database.
func (a *simA6) check(s *sim, nodes []*registry.Node) {
	t := s.t
	for _, bad := range article6Properties(s.ctx, a.ledger, nodes, []string{"CN", "TH", "MY"}) {
		t.Errorf("seed %d: article 6: %s", s.seed, bad)
	}
	var firsts int
	_ = a.ledger.Ledger(s.ctx, func(l *article6.Ledger) error {
		for _, r := range l.State().Records() {
			if r.Type == article6.RecordFirstTransfer {
				firsts++
			}
		}
		// The ITMO identifiers a registry shows for units it imported are
		// the hub's (the statement it attached at 4, or the sender's).
		for _, b := range l.State().Blocks() {
			n := s.byCode[b.Holder]
			if b.FirstTransfer == 0 || n == nil || b.Holder == b.Units.Registry || b.Status == article6.StatusCancelled {
				continue
			}
			info, err := n.node.Lookup(s.ctx, admin, b.Units.String())
			if err != nil {
				t.Errorf("seed %d: %s lookup %s: %v", s.seed, n.code, b.Units, err)
				continue
			}
			for _, it := range info.ITMOs {
				part := b.Units
				part.Start, part.End = it.Start, it.End
				if err := l.CheckStatement(part, it.Authorisation, it.Version, it.First, it.Last); err != nil {
					t.Errorf("seed %d: %s shows %s as ITMOs %s-%s: %v", s.seed, n.code, part, it.First, it.Last, err)
				}
				s.counts["a6 imported ITMO ranges shown"]++
			}
		}
		return nil
	})
	s.counts["a6 first transfers"] += firsts
	for _, tr := range s.hub.Transfers() {
		for _, c := range a6codes(tr) {
			if strings.HasPrefix(c, "article6-") {
				s.counts["a6 refused "+c]++
			}
		}
	}
	for _, f := range a.ledger.Facts() {
		for _, r := range f.Records {
			s.counts["a6 record "+string(r.Type)]++
		}
	}
}

// TestSimulationArticle6 is TestSimulation with Article 6 units: the hub
// keeps its Article 6 ledger (reopened from its database after each hub
// crash, its sources following each node across restarts), Thailand and
// Malaysia issue units authorised for China's NDC with the pilots'
// deductions, and half the random steps are NDC transfers of those units
// (first transfers to China, returns to the hosts, onward moves to
// Singapore), China's NDC retirements and revocations,
// under the same loss, duplication, partitions, crashes and clock skew.
// Once quiet, besides everything TestSimulation checks: no ITMO was
// first-transferred twice, each first transfer has exactly one
// corresponding adjustment of its quantity, each Party's adjustments add
// up to what its AEF Actions report, no fact was refused, the ITMO
// identifiers a registry shows for units it imported are the hub's, and
// the ledger places every unit where the registries hold it, before and after
// rebuilding it from the hub's database. Seeds and transfers are counts
// (CORRIDOR_SIM_A6_SEEDS, CORRIDOR_SIM_A6_TRANSFERS), not a time budget.
func TestSimulationArticle6(t *testing.T) {
	set, err := agreements.Parse([]byte(simA6Agreements))
	if err != nil {
		t.Fatal(err)
	}
	total := eachSeed(t, "CORRIDOR_SIM_A6", 8, 320, func(t *testing.T, seed uint64, per int) *sim {
		s := newSimWith(t, seed, set, &simA6{revoked: map[string]bool{}})
		s.run(per)
		s.check()
		// The ledger rebuilt from the hub's database keeps the properties.
		s.a6.open(s, s.hubDB)
		for _, bad := range article6Properties(s.ctx, s.a6.ledger, s.nodeList(), []string{"CN", "TH", "MY"}) {
			t.Errorf("seed %d: rebuilt article 6 ledger: %s", s.seed, bad)
		}
		return s
	})
	if total["a6 first transfers"] == 0 || total["a6 record "+string(article6.RecordUse)] == 0 || total["a6 imported ITMO ranges shown"] == 0 {
		t.Fatalf("the run first-transferred or used no ITMO: %v", total)
	}
}

func (s *sim) nodeList() []*registry.Node {
	var out []*registry.Node
	for _, n := range s.nodes {
		out = append(out, n.node)
	}
	return out
}
