package article6

import (
	"testing"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/shopspring/decimal"
)

type fataler interface {
	Helper()
	Fatal(args ...any)
}

func testConfig(t fataler) Config {
	t.Helper()
	aps, err := DefaultApproaches()
	if err != nil {
		t.Fatal(err)
	}
	return Config{Approaches: aps, Registries: map[string]string{
		"CN": "CN", "ID": "SRUK", "TH": "TGO", "SG": "SG", "JP": "JCMJP", "CH": "CH", "MY": "MY"}}
}

// Indonesia's authorisation of the Chinese-funded solar project (the seed's
// step 4, a proposal: see the CN-ID-PILOT approach).
func idSolarAuth() Authorisation {
	return Authorisation{ID: "ID-A6-2026-001", Version: 1, Host: "ID", Approach: "CN-ID-PILOT",
		Purposes: []Purpose{PurposeNDC}, Quantity: 100_000, From: "2026-01-01", Until: "2030-12-31",
		VintageFrom: 2025, VintageTo: 2030, Activities: []string{"ID-SOLAR-CCER-1"}, AcquiringParties: []string{"CN"},
		Sector: "energy", ActivityType: "solar PV (CCER methodology)", MitigationType: "emission reductions"}
}

// Thailand's authorisation of T-VER credits for Singapore (ICC flow).
func thICCAuth() Authorisation {
	return Authorisation{ID: "TH-A6-2026-001", Version: 1, Host: "TH", Approach: "SG-TH-IA",
		Purposes: []Purpose{PurposeNDC}, Quantity: 50_000, From: "2026-01-01", Until: "2030-12-31",
		VintageFrom: 2021, VintageTo: 2030, Activities: []string{"TH-TVER-SOLAR-7"}, AcquiringParties: []string{"SG"},
		Entities: []Entity{{ID: "SG-UEN-199001234A", Name: "Example Refinery Pte Ltd", Country: "SG", Conditions: "carbon-tax surrender only"}},
		Sector:   "energy", ActivityType: "solar PV", MitigationType: "emission reductions"}
}

// Thailand's CORSIA authorisation, first transfer at use or cancellation.
func thCORSIAAuth() Authorisation {
	return Authorisation{ID: "TH-A6-2026-002", Version: 1, Host: "TH", Approach: "SG-TH-IA",
		Purposes: []Purpose{PurposeOIMP}, Quantity: 10_000, From: "2026-01-01", Until: "2030-12-31",
		VintageFrom: 2024, VintageTo: 2030, Activities: []string{"TH-TVER-EBUS-2"}, FirstTransferOIMP: FirstAtUseOrCancellation,
		Entities: []Entity{{ID: "ICAO-AO-XYZ", Name: "Example Airline", Country: "SG"}}, OIMPUse: "CORSIA",
		Sector: "transport", ActivityType: "electric buses", MitigationType: "emission reductions"}
}

// Thailand's JCM authorisation (no deductions; coordinated issuance).
func thJCMAuth() Authorisation {
	return Authorisation{ID: "TH-JCM-2026-001", Version: 1, Host: "TH", Approach: "JP-TH-JCM",
		Purposes: []Purpose{PurposeNDC}, Quantity: 5_000, From: "2026-01-01", Until: "2030-12-31",
		VintageFrom: 2024, VintageTo: 2030, Activities: []string{"TH014"}, Sector: "energy",
		ActivityType: "energy efficiency", MitigationType: "emission reductions"}
}

func units(reg, typ, project string, vintage int, issuance, start, end int64) ledger.Serial {
	return ledger.Serial{Registry: reg, UnitType: typ, Project: project, Vintage: vintage, Issuance: issuance, Start: start, End: end}
}

// storyLedger builds the corridor story the golden files record.
func storyLedger(t testing.TB) *Ledger {
	t.Helper()
	l := NewLedger(testConfig(t))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	apply := func(a Action) {
		t.Helper()
		_, err := l.Apply(a)
		must(err)
	}
	must(l.Record(AuthEvent{Kind: EventAuthorise, Date: "2026-01-15", Authorisation: idSolarAuth()}))
	must(l.Record(AuthEvent{Kind: EventAuthorise, Date: "2026-01-20", Authorisation: thICCAuth()}))
	must(l.Record(AuthEvent{Kind: EventAuthorise, Date: "2026-01-20", Authorisation: thCORSIAAuth()}))
	// Thailand to Singapore: 20,301 t (OMGE ceil(406.02) = 407, SOP
	// ceil(1,015.05) = 1,016) issued first; see below.
	apply(Action{Kind: ActionIssue, Date: "2026-02-01", Authorisation: "TH-A6-2026-001", Units: units("TGO", "TVER", "TH-TVER-SOLAR-7", 2025, 7, 1, 20_301), OMGE: 407, ShareOfProceeds: 1016})
	// Indonesia: 10,000 t, 60 % to the Chinese investor after deductions.
	// OMGE ceil(2 % x 10,000) = 200, SOP 500, net 9,300, investor
	// floor(0.6 x 9,300) = 5,580, host 3,720.
	apply(Action{Kind: ActionIssue, Date: "2026-03-01", Authorisation: "ID-A6-2026-001", Units: units("SRUK", "SPEGRK", "ID-SOLAR-CCER-1", 2025, 1, 1, 10_000),
		OMGE: 200, ShareOfProceeds: 500, Investor: "CN", InvestorFraction: decimal.RequireFromString("0.6")})
	apply(Action{Kind: ActionTransfer, Date: "2026-04-01", Units: units("SRUK", "SPEGRK", "ID-SOLAR-CCER-1", 2025, 1, 4421, 10_000), From: "ID", To: "CN", FirstTransfer: true})
	apply(Action{Kind: ActionUse, Date: "2026-06-30", Units: units("SRUK", "SPEGRK", "ID-SOLAR-CCER-1", 2025, 1, 4421, 8000), Purpose: PurposeNDC, UsingParty: "CN"})
	// Thailand to Singapore: 10,000 t first-transferred, 2,000 t
	// surrendered by a taxable facility.
	apply(Action{Kind: ActionTransfer, Date: "2026-07-01", Units: units("TGO", "TVER", "TH-TVER-SOLAR-7", 2025, 7, 1424, 11_423), From: "TH", To: "SG", FirstTransfer: true})
	apply(Action{Kind: ActionUse, Date: "2026-09-30", Units: units("TGO", "TVER", "TH-TVER-SOLAR-7", 2025, 7, 1424, 3423), Purpose: PurposeNDC, UsingParty: "SG", UsingEntity: "SG-UEN-199001234A"})
	// CORSIA: 1,000 t issued (OMGE 20, SOP 50), 100 t used by the airline:
	// that use is the first transfer.
	apply(Action{Kind: ActionIssue, Date: "2026-10-01", Authorisation: "TH-A6-2026-002", Units: units("TGO", "TVER", "TH-TVER-EBUS-2", 2026, 8, 1, 1000), OMGE: 20, ShareOfProceeds: 50})
	apply(Action{Kind: ActionUse, Date: "2026-11-01", Units: units("TGO", "TVER", "TH-TVER-EBUS-2", 2026, 8, 71, 170), Purpose: PurposeOIMP, UsingEntity: "ICAO-AO-XYZ", FirstTransfer: true})
	return l
}
