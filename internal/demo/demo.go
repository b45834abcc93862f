// Package demo seeds a fresh Corridor with a demo corridor: registry nodes
// for China (CCER and the national ETS's CEA), Indonesia (SPE-GRK),
// Thailand (T-VER), Viet Nam, Malaysia, Singapore, Cambodia and Japan
// (JCM), each with organisations, accounts, projects, issuances and API
// tokens, and the mission's voluntary pilots run through the hub (Pilots).
//
// Everything here is illustrative demo data (organisation names, project
// identifiers, quantities), not a record of real issuances.
package demo

import (
	"context"
	"errors"
	"fmt"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// Registry describes one demo registry node.
type Registry struct {
	Code        string
	Name        string
	Country     string
	Admin       string
	Holders     []string
	Issuances   []registry.Issue // AccountID is the index+1 of the holder whose account receives them
	Retirements []retirement
}

type retirement struct {
	Holder      int
	Quantity    int64
	UnitType    string
	Beneficiary string
	Purpose     string
	Year        int
}

// Registries is the demo corridor: China's CCER registry and national ETS
// registry (CEA), Indonesia, Thailand, Viet Nam, Malaysia, Singapore,
// Cambodia and Japan. The first three (CN, ID, TH) are the original demo,
// which tests rely on; keep them first and unchanged. Methodology
// identifiers are real ones named in domain/markets.md (CCER-10-001-V01
// coal-mine methane, CCER-07-001-V01 tunnel lighting, both MEE, Jan 2025)
// or plain descriptions; administrators are named only where the domain
// files name them (NCSC for CCER, the Hubei registry for CEA, TGO for
// T-VER); organisations, projects and quantities are invented for the
// demo and marked "(demo)".
var Registries = []Registry{
	{
		Code: "CN", Name: "China CCER registry (demo)", Country: "CN", Admin: "National Climate Strategy Centre (registry administrator)",
		Holders: []string{"Shanxi Coal-Mine Methane Utilisation Co. (demo)", "Yunnan Tunnel Lighting Co. (demo)", "Baowu Steel Trading (demo)"},
		Issuances: []registry.Issue{
			{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "CCER-DEMO-0001", ProjectName: "Coal-mine methane utilisation, Shanxi (demo)", Methodology: "CCER-10-001-V01", HostCountry: "CN", Vintage: 2024, Quantity: 250000}, AccountID: 1},
			{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "CCER-DEMO-0002", ProjectName: "Energy-efficient tunnel lighting, Yunnan (demo)", Methodology: "CCER-07-001-V01", HostCountry: "CN", Vintage: 2025, Quantity: 40000}, AccountID: 2},
			{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "CCER-DEMO-0001", ProjectName: "Coal-mine methane utilisation, Shanxi (demo)", Methodology: "CCER-10-001-V01", HostCountry: "CN", Vintage: 2025, Quantity: 180000}, AccountID: 1},
		},
		Retirements: []retirement{{Holder: 3, Quantity: 12000, UnitType: "CCER", Beneficiary: "Baowu Steel (demo)", Purpose: "China ETS compliance offset", Year: 2025}},
	},
	{
		Code: "ID", Name: "Indonesia SRN-PPI (demo)", Country: "ID", Admin: "SRN-PPI registry administrator (demo)",
		Holders: []string{"Sumatra Geothermal Power (demo)", "Kalimantan Peatland Restoration (demo)", "Jakarta Cement Buyer (demo)"},
		Issuances: []registry.Issue{
			{IssuanceFacts: registry.IssuanceFacts{Standard: "SRN-PPI", UnitType: "SPEGRK", Project: "IDN-DEMO-GEO-01", ProjectName: "Geothermal power plant, North Sumatra (demo)", Methodology: "Grid-connected renewable power (demo description)", HostCountry: "ID", Vintage: 2023, Quantity: 120000}, AccountID: 1},
			{IssuanceFacts: registry.IssuanceFacts{Standard: "SRN-PPI", UnitType: "SPEGRK", Project: "IDN-DEMO-PEAT-02", ProjectName: "Peatland rewetting, Central Kalimantan (demo)", Methodology: "Peatland restoration (demo description)", HostCountry: "ID", Vintage: 2024, Quantity: 300000}, AccountID: 2},
		},
	},
	{
		Code: "TH", Name: "Thailand T-VER registry (demo)", Country: "TH", Admin: "Thailand Greenhouse Gas Management Organization (registry administrator)",
		Holders: []string{"Bangkok Electric Bus Operator (demo)", "Chiang Mai Forest Restoration (demo)", "Thai Steel Exporter (demo)"},
		Issuances: []registry.Issue{
			{IssuanceFacts: registry.IssuanceFacts{Standard: "T-VER", UnitType: "PTVER", Project: "TVER-DEMO-EBUS", ProjectName: "Electric buses, Bangkok (demo)", Methodology: "Electric vehicles in public transport (demo description)", HostCountry: "TH", Vintage: 2023, Quantity: 15000}, AccountID: 1},
			{IssuanceFacts: registry.IssuanceFacts{Standard: "T-VER", UnitType: "TVER", Project: "TVER-DEMO-FOREST", ProjectName: "Community forest restoration, Chiang Mai (demo)", Methodology: "Afforestation and reforestation (demo description)", HostCountry: "TH", Vintage: 2024, Quantity: 60000}, AccountID: 2},
		},
		Retirements: []retirement{{Holder: 2, Quantity: 2500, UnitType: "TVER", Beneficiary: "Thai Steel Exporter (demo)", Purpose: "voluntary", Year: 2025}},
	},
	{
		// China's national ETS (Interim Regulation, State Council Order
		// 775): allowances (CEA) allocated free on intensity benchmarks;
		// the registry is in Hubei (Wuhan). An allowance has no project:
		// the project field names the allocation.
		Code: "CNETS", Name: "China national ETS registry (CEA) (demo)", Country: "CN", Admin: "National ETS registry administrator, Hubei (Wuhan) (demo)",
		Holders: []string{"Guangdong Coal Power Plant (demo)", "Hebei Steel Works (demo)", "Anhui Cement Co. (demo)"},
		Issuances: []registry.Issue{
			{IssuanceFacts: registry.IssuanceFacts{Standard: "China national ETS", UnitType: "CEA", Project: "CEA-DEMO-2024-POWER", ProjectName: "2024 free allocation, power sector (demo)", Methodology: "Intensity-benchmark free allocation (demo description)", HostCountry: "CN", Vintage: 2024, Quantity: 500000}, AccountID: 1},
			{IssuanceFacts: registry.IssuanceFacts{Standard: "China national ETS", UnitType: "CEA", Project: "CEA-DEMO-2025-STEEL", ProjectName: "2025 free allocation, steel sector (demo)", Methodology: "Intensity-benchmark free allocation (demo description)", HostCountry: "CN", Vintage: 2025, Quantity: 300000}, AccountID: 2},
		},
		Retirements: []retirement{{Holder: 3, Quantity: 20000, UnitType: "CEA", Beneficiary: "Anhui Cement Co. (demo)", Purpose: "China ETS compliance surrender", Year: 2024}},
	},
	{
		// Viet Nam holds its share of JCM credits (each JCM side runs a
		// registry); the pilot ETS's allowances are not modelled here.
		Code: "VN", Name: "Viet Nam national registry (demo)", Country: "VN", Admin: "Viet Nam national registry administrator (demo)",
		Holders: []string{"Ha Nam Cement Waste-Heat Recovery (demo)", "Mekong Delta Biogas Developer (demo)", "Hai Phong Steel (demo)"},
		Issuances: []registry.Issue{
			{IssuanceFacts: registry.IssuanceFacts{Standard: "JCM", UnitType: "JCM", Project: "JCM-DEMO-VN-01", ProjectName: "Waste-heat recovery at a cement plant, Ha Nam (demo)", Methodology: "JCM methodology (demo description)", HostCountry: "VN", Vintage: 2024, Quantity: 8000}, AccountID: 1},
			{IssuanceFacts: registry.IssuanceFacts{Standard: "JCM", UnitType: "JCM", Project: "JCM-DEMO-VN-02", ProjectName: "Biogas digesters, Mekong Delta (demo)", Methodology: "JCM methodology (demo description)", HostCountry: "VN", Vintage: 2023, Quantity: 5000}, AccountID: 2},
		},
	},
	{
		// Malaysia's exchange (Bursa Carbon Exchange) trades Verra credits;
		// the registry here holds them as VCUs.
		Code: "MY", Name: "Malaysia registry (demo)", Country: "MY", Admin: "Malaysia registry administrator (demo)",
		Holders: []string{"Sarawak Mangrove Conservation (demo)", "Johor Solar Developer (demo)", "Penang Electronics Buyer (demo)"},
		Issuances: []registry.Issue{
			{IssuanceFacts: registry.IssuanceFacts{Standard: "Verra VCS", UnitType: "VCU", Project: "VCS-DEMO-MY-01", ProjectName: "Mangrove conservation, Sarawak (demo)", Methodology: "Mangrove conservation (demo description)", HostCountry: "MY", Vintage: 2022, Quantity: 50000}, AccountID: 1},
			{IssuanceFacts: registry.IssuanceFacts{Standard: "Verra VCS", UnitType: "VCU", Project: "VCS-DEMO-MY-02", ProjectName: "Rooftop solar, Johor (demo)", Methodology: "Grid-connected renewable power (demo description)", HostCountry: "MY", Vintage: 2023, Quantity: 20000}, AccountID: 2},
		},
	},
	{
		// Singapore issues nothing of its own here: its carbon-tax payers
		// acquire International Carbon Credits from host countries.
		Code: "SG", Name: "Singapore Carbon Credits Registry (demo)", Country: "SG", Admin: "Singapore registry administrator (demo)",
		Holders: []string{"Jurong Island Refinery (demo)", "Singapore Carbon Trader (demo)"},
	},
	{
		// Cambodia supplies forestry (REDD+) credits and JCM credits.
		Code: "KH", Name: "Cambodia national registry (demo)", Country: "KH", Admin: "Cambodia national registry administrator (demo)",
		Holders: []string{"Cardamom Forest REDD+ Developer (demo)", "Battambang Rice-Husk Power (demo)", "Phnom Penh Credit Buyer (demo)"},
		Issuances: []registry.Issue{
			{IssuanceFacts: registry.IssuanceFacts{Standard: "Verra VCS", UnitType: "VCU", Project: "VCS-DEMO-KH-REDD", ProjectName: "REDD+ forest protection, Cardamom Mountains (demo)", Methodology: "REDD+ (demo description)", HostCountry: "KH", Vintage: 2022, Quantity: 90000}, AccountID: 1},
			{IssuanceFacts: registry.IssuanceFacts{Standard: "JCM", UnitType: "JCM", Project: "JCM-DEMO-KH-01", ProjectName: "Rice-husk power plant, Battambang (demo)", Methodology: "JCM methodology (demo description)", HostCountry: "KH", Vintage: 2024, Quantity: 6000}, AccountID: 2},
		},
	},
	{
		// Japan's JCM registry holds Japan's share of JCM credits, issued
		// by decision of each Joint Committee (the host is the partner).
		Code: "JP", Name: "Japan JCM registry (demo)", Country: "JP", Admin: "JCM registry administrator, Government of Japan (demo)",
		Holders: []string{"Japan JCM Project Participant (demo)", "Tokyo Power Utility (demo)"},
		Issuances: []registry.Issue{
			{IssuanceFacts: registry.IssuanceFacts{Standard: "JCM", UnitType: "JCM", Project: "JCM-DEMO-VN-01", ProjectName: "Waste-heat recovery at a cement plant, Ha Nam (demo)", Methodology: "JCM methodology (demo description)", HostCountry: "VN", Vintage: 2024, Quantity: 8000}, AccountID: 1},
		},
	},
}

// Stopped are demo registries that are in the corridor's trust list but
// whose node does not run in the demo: Open seeds them so the hub has a
// transfer waiting on them (one still in flight), and does not serve them.
// Running one (naming it in --registries) lets that transfer finish.
var Stopped = []Registry{
	{
		// Lao PDR is a JCM partner of Japan: its registry holds Lao PDR's
		// share of JCM credits.
		Code: "LA", Name: "Lao PDR national registry (demo)", Country: "LA", Admin: "Lao PDR national registry administrator (demo)",
		Holders: []string{"Vientiane Biogas Developer (demo)", "Luang Prabang Cookstoves (demo)"},
		Issuances: []registry.Issue{
			{IssuanceFacts: registry.IssuanceFacts{Standard: "JCM", UnitType: "JCM", Project: "JCM-DEMO-LA-01", ProjectName: "Biogas digesters, Vientiane Province (demo)", Methodology: "JCM methodology (demo description)", HostCountry: "LA", Vintage: 2024, Quantity: 3000}, AccountID: 1},
		},
	},
}

// Token is a demo API token.
type Token struct {
	Registry     string      `json:"registry"`
	Organisation string      `json:"organisation"`
	Role         ledger.Role `json:"role"`
	Token        string      `json:"token"`
	AccountID    int64       `json:"account_id,omitempty"`
}

// Seed fills an empty node with spec's demo data and returns the tokens it
// created. Every step uses a fixed idempotency key, so a seed interrupted by
// a crash resumes where it stopped (but tokens made before the crash are not
// returned again). The organisation acting for the hub comes last, so its
// key (HubOrgKey) marks a finished seed.
func Seed(ctx context.Context, n *registry.Node, spec Registry) ([]Token, error) {
	return seed(ctx, n, spec, -1)
}

// SeedPartly runs only the first steps of Seed, as a seed cut short by a
// crash (for tests of resuming it).
func SeedPartly(ctx context.Context, n *registry.Node, spec Registry, steps int) error {
	_, err := seed(ctx, n, spec, steps)
	if errors.Is(err, errCut) {
		return nil
	}
	return err
}

var errCut = errors.New("demo: seed cut short")

// SeedKey is the idempotency key of step (from 1) of spec's seed.
func SeedKey(code string, step int) string { return fmt.Sprintf("demo-seed-%s-%d", code, step) }

func seed(ctx context.Context, n *registry.Node, spec Registry, steps int) ([]Token, error) {
	sys := registry.Actor{Role: ledger.RoleAdmin}
	step := 0
	do := func(actor registry.Actor, req registry.Request) (registry.Result, error) {
		if step == steps {
			return registry.Result{}, errCut
		}
		step++
		res, err := n.Do(ctx, actor, SeedKey(spec.Code, step), req)
		if err != nil {
			return res, fmt.Errorf("demo: seed %s step %d (%s): %w", spec.Code, step, req.Kind(), err)
		}
		return res, nil
	}
	var tokens []Token
	token := func(org int64, orgName string, role ledger.Role, account int64) error {
		res, err := do(sys, registry.CreateToken{OrgID: org, Role: role, Name: "demo " + string(role)})
		if err == nil && res.Token != "" {
			tokens = append(tokens, Token{Registry: spec.Code, Organisation: orgName, Role: role, Token: res.Token, AccountID: account})
		}
		return err
	}
	adminOrg, err := do(sys, registry.CreateOrganisation{Name: spec.Admin, Country: spec.Country})
	if err != nil {
		return nil, err
	}
	if _, err := do(sys, registry.OpenAccount{OrgID: adminOrg.ID, Type: ledger.NationalHolding, Name: "National holding account"}); err != nil {
		return nil, err
	}
	if err := token(adminOrg.ID, spec.Admin, ledger.RoleAdmin, 0); err != nil {
		return nil, err
	}
	if err := token(adminOrg.ID, spec.Admin, ledger.RoleAuditor, 0); err != nil {
		return nil, err
	}
	accounts := make([]int64, len(spec.Holders))
	orgs := make([]int64, len(spec.Holders))
	for i, h := range spec.Holders {
		org, err := do(sys, registry.CreateOrganisation{Name: h, Country: spec.Country})
		if err != nil {
			return nil, err
		}
		acc, err := do(sys, registry.OpenAccount{OrgID: org.ID, Type: ledger.Holding, Name: h + " holding account"})
		if err != nil {
			return nil, err
		}
		orgs[i], accounts[i] = org.ID, acc.ID
		if err := token(org.ID, h, ledger.RoleHolder, acc.ID); err != nil {
			return nil, err
		}
	}
	for _, is := range spec.Issuances {
		is.AccountID = accounts[is.AccountID-1]
		if _, err := do(sys, is); err != nil {
			return nil, err
		}
	}
	// Some movement so the explorer has history: each issuer sells a part
	// to the last holder, who retires some.
	last := len(accounts) - 1
	for i, is := range spec.Issuances {
		holder := int(is.AccountID - 1)
		if holder == last {
			continue
		}
		from := accounts[holder]
		owner := registry.Actor{OrgID: orgs[holder], Role: ledger.RoleHolder}
		if _, err := do(owner, registry.Transfer{From: from, To: accounts[last], Units: registry.Units{Quantity: is.Quantity / 10 * int64(1+i%2), UnitType: is.UnitType}}); err != nil {
			return nil, err
		}
	}
	for _, r := range spec.Retirements {
		acc := accounts[r.Holder-1]
		owner := registry.Actor{OrgID: orgs[r.Holder-1], Role: ledger.RoleHolder}
		if _, err := do(owner, registry.Retire{From: acc, Units: registry.Units{Quantity: r.Quantity, UnitType: r.UnitType},
			Beneficiary: r.Beneficiary, Purpose: r.Purpose, ComplianceYear: r.Year}); err != nil {
			return nil, err
		}
	}
	// The organisation acting for the hub, under its own fixed key so that
	// the host finds it again on every start.
	if step == steps {
		return nil, errCut
	}
	if _, err := n.Do(ctx, sys, HubOrgKey(spec.Code), HubOrgRequest(spec)); err != nil {
		return nil, fmt.Errorf("demo: seed %s: the hub's organisation: %w", spec.Code, err)
	}
	return tokens, nil
}

// Codes lists the demo corridor's registry codes.
func Codes() []string {
	codes := make([]string, len(Registries))
	for i, r := range Registries {
		codes[i] = r.Code
	}
	return codes
}

// Spec returns the demo registry with this code (running or stopped), if
// there is one.
func Spec(code string) (Registry, bool) {
	for _, list := range [][]Registry{Registries, Stopped} {
		for _, r := range list {
			if r.Code == code {
				return r, true
			}
		}
	}
	return Registry{}, false
}

// HubOrgKey is the idempotency key under which a demo registry's seed
// creates the organisation acting for the hub (the escrow authority), so
// every later start finds it again (the same key answers the first result).
func HubOrgKey(code string) string { return "demo-hub-org-" + code }

// HubOrgRequest creates the organisation acting for the corridor's hub in
// spec's registry.
func HubOrgRequest(spec Registry) registry.CreateOrganisation {
	return registry.CreateOrganisation{Name: "Corridor hub, escrow authority (demo)", Country: spec.Country}
}

// Pilot is one cross-registry transfer the demo runs through the hub on
// first start. Holders are numbered as in Registry.Holders from 1; the
// seed gives holder i organisation and account i+1 (the administrator's
// are 1).
type Pilot struct {
	// Key is the sending registry's idempotency key for the escrow, fixed
	// so a restart finds the transfer again instead of sending another.
	Key        string
	From       string
	FromHolder int
	To         string
	ToHolder   int
	Quantity   int64
	UnitType   string
	// Vintage, when set, selects only units of that vintage.
	Vintage int
	Purpose string
	// ExpiresIn is the escrow's lifetime in seconds (0: the default).
	ExpiresIn int64
}

// Pilots are the mission's voluntary bilateral pilots of China with
// Indonesia, Malaysia and Thailand (agreements pilot-cn-id, pilot-cn-my,
// pilot-cn-th: proposals, no official source), completed on first start.
var Pilots = []Pilot{
	{Key: "demo-pilot-cn-id", From: "CN", FromHolder: 1, To: "ID", ToHolder: 3, Quantity: 10000, UnitType: "CCER", Purpose: "voluntary"},
	{Key: "demo-pilot-cn-my", From: "CN", FromHolder: 1, To: "MY", ToHolder: 3, Quantity: 5000, UnitType: "CCER", Purpose: "voluntary"},
	{Key: "demo-pilot-cn-th", From: "CN", FromHolder: 2, To: "TH", ToHolder: 3, Quantity: 4000, UnitType: "CCER", Purpose: "voluntary"},
}

// InFlight is the demo transfer that stays in flight: Lao PDR's share of a
// JCM project's credits first-transferred to Japan (agreement jcm-la). The
// Lao PDR node is stopped in the demo (Stopped): Japan accepts (8), and the
// completion waits for the sender to run again. Its escrow lasts the
// longest a registry allows. It moves units issued under Lao PDR's
// Article 6 authorisation (LAAuthorisation, LAIssue), since its purpose
// ndc needs authorised units.
var InFlight = Pilot{Key: "demo-inflight-la-jp", From: "LA", FromHolder: 1, To: "JP", ToHolder: 1, Quantity: 1000, UnitType: "JCM", Vintage: InFlightVintage, Purpose: "ndc", ExpiresIn: registry.MaxEscrowSeconds}

// HolderActor is holder i (from 1) of a seeded demo registry acting for
// itself, and HolderAccount its holding account.
func HolderActor(i int) registry.Actor {
	return registry.Actor{OrgID: int64(i + 1), Role: ledger.RoleHolder}
}

// HolderAccount is the holding account of holder i (from 1).
func HolderAccount(i int) int64 { return int64(i + 1) }
