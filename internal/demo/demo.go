// Package demo seeds a fresh Corridor with a small demo corridor: registry
// nodes for China (CCER), Indonesia (SPE-GRK) and Thailand (T-VER), each
// with organisations, accounts, projects, issuances and API tokens.
//
// Everything here is illustrative demo data (organisation names, project
// identifiers, quantities), not a record of real issuances.
package demo

import (
	"context"
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

// Registries is the demo corridor. Methodology identifiers are real ones
// named in domain/markets.md (CCER-10-001-V01 coal-mine methane,
// CCER-07-001-V01 tunnel lighting, both MEE, Jan 2025) or plain
// descriptions; projects and quantities are invented for the demo.
var Registries = []Registry{
	{
		Code: "CN", Name: "China CCER registry (demo)", Country: "CN", Admin: "National Climate Strategy Centre (registry administrator)",
		Holders: []string{"Shanxi Coal-Mine Methane Utilisation Co. (demo)", "Yunnan Tunnel Lighting Co. (demo)", "Baowu Steel Trading (demo)"},
		Issuances: []registry.Issue{
			{Standard: "CCER", UnitType: "CCER", Project: "CCER-DEMO-0001", ProjectName: "Coal-mine methane utilisation, Shanxi (demo)", Methodology: "CCER-10-001-V01", HostCountry: "CN", Vintage: 2024, Quantity: 250000, AccountID: 1},
			{Standard: "CCER", UnitType: "CCER", Project: "CCER-DEMO-0002", ProjectName: "Energy-efficient tunnel lighting, Yunnan (demo)", Methodology: "CCER-07-001-V01", HostCountry: "CN", Vintage: 2025, Quantity: 40000, AccountID: 2},
			{Standard: "CCER", UnitType: "CCER", Project: "CCER-DEMO-0001", ProjectName: "Coal-mine methane utilisation, Shanxi (demo)", Methodology: "CCER-10-001-V01", HostCountry: "CN", Vintage: 2025, Quantity: 180000, AccountID: 1},
		},
		Retirements: []retirement{{Holder: 3, Quantity: 12000, UnitType: "CCER", Beneficiary: "Baowu Steel (demo)", Purpose: "China ETS compliance offset", Year: 2025}},
	},
	{
		Code: "ID", Name: "Indonesia SRN-PPI (demo)", Country: "ID", Admin: "SRN-PPI registry administrator (demo)",
		Holders: []string{"Sumatra Geothermal Power (demo)", "Kalimantan Peatland Restoration (demo)", "Jakarta Cement Buyer (demo)"},
		Issuances: []registry.Issue{
			{Standard: "SRN-PPI", UnitType: "SPEGRK", Project: "IDN-DEMO-GEO-01", ProjectName: "Geothermal power plant, North Sumatra (demo)", Methodology: "Grid-connected renewable power (demo description)", HostCountry: "ID", Vintage: 2023, Quantity: 120000, AccountID: 1},
			{Standard: "SRN-PPI", UnitType: "SPEGRK", Project: "IDN-DEMO-PEAT-02", ProjectName: "Peatland rewetting, Central Kalimantan (demo)", Methodology: "Peatland restoration (demo description)", HostCountry: "ID", Vintage: 2024, Quantity: 300000, AccountID: 2},
		},
	},
	{
		Code: "TH", Name: "Thailand T-VER registry (demo)", Country: "TH", Admin: "Thailand Greenhouse Gas Management Organization (registry administrator)",
		Holders: []string{"Bangkok Electric Bus Operator (demo)", "Chiang Mai Forest Restoration (demo)", "Thai Steel Exporter (demo)"},
		Issuances: []registry.Issue{
			{Standard: "T-VER", UnitType: "PTVER", Project: "TVER-DEMO-EBUS", ProjectName: "Electric buses, Bangkok (demo)", Methodology: "Electric vehicles in public transport (demo description)", HostCountry: "TH", Vintage: 2023, Quantity: 15000, AccountID: 1},
			{Standard: "T-VER", UnitType: "TVER", Project: "TVER-DEMO-FOREST", ProjectName: "Community forest restoration, Chiang Mai (demo)", Methodology: "Afforestation and reforestation (demo description)", HostCountry: "TH", Vintage: 2024, Quantity: 60000, AccountID: 2},
		},
		Retirements: []retirement{{Holder: 2, Quantity: 2500, UnitType: "TVER", Beneficiary: "Thai Steel Exporter (demo)", Purpose: "voluntary", Year: 2025}},
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
// returned again).
func Seed(ctx context.Context, n *registry.Node, spec Registry) ([]Token, error) {
	sys := registry.Actor{Role: ledger.RoleAdmin}
	step := 0
	do := func(actor registry.Actor, req registry.Request) (registry.Result, error) {
		step++
		res, err := n.Do(ctx, actor, fmt.Sprintf("demo-seed-%s-%d", spec.Code, step), req)
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

// Spec returns the demo registry with this code, if there is one.
func Spec(code string) (Registry, bool) {
	for _, r := range Registries {
		if r.Code == code {
			return r, true
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
