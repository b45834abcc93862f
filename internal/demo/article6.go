package demo

import "github.com/corridor-carbon/corridor/internal/registry"

// Article 6 in the demo: the mission's project abroad (step 4) and the
// authorisation the in-flight JCM transfer needs. Like the rest of the
// demo these are illustrative: no Chinese Article 6.2 authorisation
// framework is published and CCERs are domestic only (2023 CCER Measures,
// Art. 2), so the project abroad shows what the mission proposes, not
// current law.

// ProjectAbroad is a project in a host Party funded by an investor of
// another Party: authorised by the host for the investor Party's NDC,
// issued with the approach's deductions and the sharing agreement's split,
// the investor's share first-transferred to its Party's registry through
// the hub and partly used there toward that Party's NDC.
type ProjectAbroad struct {
	Host          string // the host registry (and Party)
	Authorisation registry.Authorisation
	// Issue is the issuance under the authorisation; its AccountID is set
	// to the developer's account when it runs.
	Issue            registry.Issue
	Developer        string // organisation names in the host registry
	Adaptation       string
	InvestorOrg      string
	Investor         string // the investor's Party
	InvestorFraction string // of the net issuance
	// To is the investor Party's registry; the share arrives in its
	// national holding account (account 1), from which Use tonnes are
	// retired toward its NDC.
	To  string
	Use int64
}

// Abroad is the mission's project abroad: a Chinese-funded solar thermal
// plant in Indonesia under the CCER methodology for grid-connected solar
// thermal power (the rulebook's CCER-SOLAR-THERMAL-2023), authorised by
// Indonesia for China's NDC under the proposed China–Indonesia approach
// (CN-ID-PILOT, whose 5 % share of proceeds and 2 % OMGE are placeholders).
var Abroad = ProjectAbroad{
	Host: "ID",
	Authorisation: registry.Authorisation{ID: "ID-A6-DEMO-0001", Version: 1, Host: "ID", Approach: "CN-ID-PILOT", Purposes: []string{"NDC"}, Quantity: 100000,
		From: "2026-01-01", Until: "2030-12-31", VintageFrom: 2026, VintageTo: 2030, Activities: []string{"IDN-DEMO-CNSOLAR-01"}, AcquiringParties: []string{"CN"},
		Sector: "Energy", ActivityType: "Grid-connected solar thermal power", MitigationType: "emission reductions",
		Terms: "demo: the mission's proposed project abroad; no official authorisation exists"},
	Issue: registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "IDN-DEMO-CNSOLAR-01", ProjectName: "Chinese-funded solar thermal plant, West Java (demo)",
		Methodology: "CCER-SOLAR-THERMAL-2023", HostCountry: "ID", Vintage: 2026, Quantity: 20000}},
	Developer:        "PT Surya Jawa Solar Thermal (demo)",
	Adaptation:       "Indonesia adaptation fund, share of proceeds (demo)",
	InvestorOrg:      "China Solar Overseas Investment Co. (demo)",
	Investor:         "CN",
	InvestorFraction: "0.6",
	To:               "CN",
	Use:              6000,
}

// InFlightVintage is the vintage of the authorised JCM units the
// in-flight transfer moves (InFlight); LAAuthorisation covers them.
const InFlightVintage = 2025

// LAAuthorisation is Lao PDR's authorisation of its JCM project's credits
// for Japan's NDC under the Japan–Lao PDR JCM (JP-LA-JCM), which the
// in-flight LA → JP transfer (purpose ndc) needs.
var LAAuthorisation = registry.Authorisation{ID: "LA-A6-DEMO-0001", Version: 1, Host: "LA", Approach: "JP-LA-JCM", Purposes: []string{"NDC"}, Quantity: 10000,
	From: "2025-04-01", Until: "2030-12-31", VintageFrom: InFlightVintage, VintageTo: 2030, Activities: []string{"JCM-DEMO-LA-01"}, AcquiringParties: []string{"JP"},
	Sector: "Energy", ActivityType: "Biogas digesters", MitigationType: "emission reductions",
	Terms: "demo: illustrative authorisation for the in-flight JCM transfer"}

// LAIssue is the JCM issuance under LAAuthorisation, into holder 1's
// account (the in-flight transfer's sender).
var LAIssue = registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "JCM", UnitType: "JCM", Project: "JCM-DEMO-LA-01", ProjectName: "Biogas digesters, Vientiane Province (demo)",
	Methodology: "JCM methodology (demo description)", HostCountry: "LA", Vintage: InFlightVintage, Quantity: 2000}, AccountID: HolderAccount(1)}

// LADecision is the Joint Committee decision LAIssue is Lao PDR's share
// of (JP-LA-JCM has coordinated issuance: each side issues its share in
// its own registry), and LADecisionQuantity its whole quantity: Lao PDR's
// 2,000 t and Japan's 500 t (JPShare). Illustrative: no real decision.
const (
	LADecision         = "JC-LA-DEMO-0001"
	LADecisionQuantity = 2500
)

// JPShare is Japan's share of LADecision, issued in Japan's JCM registry
// into its first holder's account (the Japanese project participant)
// under Lao PDR's authorisation
// (registry.PartnerShare: the Joint Committee decides the issuance and
// each side records its share in its own registry). The hub's ledger
// records it as first-transferred by Lao PDR at issuance, with Lao PDR's
// corresponding adjustment.
var JPShare = registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "JCM", UnitType: "JCM", Project: LAIssue.Project, ProjectName: LAIssue.ProjectName,
	Methodology: LAIssue.Methodology, HostCountry: "LA", Vintage: InFlightVintage, Quantity: LADecisionQuantity - 2000}, AccountID: HolderAccount(1)}

// JPPartner names the authorisation JPShare is issued under.
var JPPartner = registry.PartnerShare{Host: LAAuthorisation.Host, Approach: LAAuthorisation.Approach}

// Article6Key is the fixed idempotency key of the Article 6 seed's step
// name in registry code.
func Article6Key(code, name string) string { return "demo-a6-" + code + "-" + name }

// AbroadSendKey is the host registry's key for the escrow of the
// investor's share sent to its Party, and AbroadUseKey the investor
// registry's key for the NDC use.
var (
	AbroadSendKey = Article6Key(Abroad.Host, "send-investor-share")
	AbroadUseKey  = Article6Key(Abroad.To, "ndc-use")
)

// ICCFlow is the demo's Singapore ICC flow from Thailand (issue 10's
// proof): Thailand authorises a project's credits for acquisition by
// Singapore under the Singapore–Thailand Implementation Agreement
// (SG-TH-IA: 5 % share of proceeds, 2 % OMGE), issues them to the
// developer (the TH registry's first holder), who sends Send tonnes to
// the Singapore facility (SG's first holder) through the hub for purpose
// icc; Singapore's administrator records the facility's taxable emissions
// for Year, and the facility surrenders Surrender ICCs for it, within the
// 5 % limit (registry.ICCLimit). Illustrative figures: no real
// authorisation, facility or emissions report.
type ICCFlow struct {
	Authorisation registry.Authorisation
	// Issue's AccountID is the developer's account in Thailand's registry.
	Issue            registry.Issue
	Adaptation       string // the organisation receiving the share of proceeds
	Facility         int64  // the facility's account in Singapore's registry
	Beneficiary      string
	Year             int
	TaxableEmissions int64
	Send, Surrender  int64
}

// ICC is the demo's ICC flow. 120,000 t of taxable emissions is above
// the carbon tax's 25,000 tCO2e threshold (compliance.md), so the limit
// is 6,000 ICCs and 2,000 t of headroom stay after the surrender.
var ICC = ICCFlow{
	Authorisation: registry.Authorisation{ID: "TH-A6-DEMO-ICC-0001", Version: 1, Host: "TH", Approach: "SG-TH-IA", Purposes: []string{"NDC"}, Quantity: 50000,
		From: "2026-01-01", Until: "2030-12-31", VintageFrom: 2026, VintageTo: 2030, Activities: []string{"TVER-DEMO-ICC-EBUS"}, AcquiringParties: []string{"SG"},
		Sector: "Transport", ActivityType: "Electric buses", MitigationType: "emission reductions",
		Terms: "demo: illustrative authorisation for Singapore's carbon-tax ICCs; no official authorisation exists"},
	Issue: registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "T-VER", UnitType: "PTVER", Project: "TVER-DEMO-ICC-EBUS", ProjectName: "Electric buses, Chiang Mai (demo)",
		Methodology: "Electric vehicles in public transport (demo description)", HostCountry: "TH", Vintage: 2026, Quantity: 20000}, AccountID: HolderAccount(1)},
	Adaptation:       "Thailand adaptation fund, share of proceeds (demo)",
	Facility:         HolderAccount(1),
	Beneficiary:      "Jurong Island Refinery (demo)",
	Year:             2026,
	TaxableEmissions: 120000,
	Send:             4000,
	Surrender:        4000,
}

// ICCSendKey is Thailand's key for the escrow of the ICCs sent to
// Singapore, and ICCSurrenderKey Singapore's key for the surrender.
var (
	ICCSendKey      = Article6Key("TH", "icc-send")
	ICCSurrenderKey = Article6Key("SG", "icc-surrender")
)
