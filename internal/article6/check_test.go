package article6

import (
	"testing"
)

// baseLedger: Thailand's ICC authorisation with one issuance of 1,000 t
// (OMGE 20, SOP 50: units 71-1000 held by TH), the CORSIA authorisation
// with one issuance of 1,000 t, and the JCM authorisation with 1,000 t and
// no deductions. The OMGE cancellation is a first transfer, so the first
// two authorisations can no longer change; the JCM one can.
func baseLedger(t *testing.T) *Ledger {
	t.Helper()
	l := NewLedger(testConfig(t))
	for _, a := range []Authorisation{thICCAuth(), thCORSIAAuth(), thJCMAuth()} {
		if err := l.Record(AuthEvent{Kind: EventAuthorise, Date: "2026-01-20", Authorisation: a}); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []Action{
		{Kind: ActionIssue, Date: "2026-02-01", Authorisation: "TH-A6-2026-001", Units: units("TGO", "TVER", "TH-TVER-SOLAR-7", 2025, 7, 1, 1000), OMGE: 20, ShareOfProceeds: 50},
		{Kind: ActionIssue, Date: "2026-02-01", Authorisation: "TH-JCM-2026-001", Units: units("TGO", "JCM", "TH014", 2025, 10, 1, 1000)},
		{Kind: ActionIssue, Date: "2026-02-01", Authorisation: "TH-A6-2026-002", Units: units("TGO", "TVER", "TH-TVER-EBUS-2", 2026, 8, 1, 1000), OMGE: 20, ShareOfProceeds: 50},
	} {
		if _, err := l.Apply(a); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

var (
	solar = func(s, e int64) Action {
		return Action{Units: units("TGO", "TVER", "TH-TVER-SOLAR-7", 2025, 7, s, e)}
	}
	ebus = func(s, e int64) Action {
		return Action{Units: units("TGO", "TVER", "TH-TVER-EBUS-2", 2026, 8, s, e)}
	}
)

func with2(a Authorisation) Authorisation { a.Version = 2; return a }

func with(a Action, f func(*Action)) Action { f(&a); return a }

func transfer(a Action, date, from, to string, first bool) Action {
	return with(a, func(a *Action) {
		a.Kind, a.Date, a.From, a.To, a.FirstTransfer = ActionTransfer, date, from, to, first
	})
}

func issue(auth string, date string, u Action, omge, sop int64) Action {
	return with(u, func(a *Action) {
		a.Kind, a.Date, a.Authorisation, a.OMGE, a.ShareOfProceeds = ActionIssue, date, auth, omge, sop
	})
}

// TestChecksRefuse makes every Article 6 check fail with its code; the
// `before` steps must all succeed, and the refused action must leave the
// state unchanged.
func TestChecksRefuse(t *testing.T) {
	cases := []struct {
		name   string
		before []Action
		events []AuthEvent
		action Action
		want   Code
	}{
		{"no authorisation", nil, nil,
			issue("TH-A6-NOPE", "2026-03-01", with(solar(1, 100), func(a *Action) { a.Units.Issuance = 9 }), 2, 5), CodeNoAuthorisation},
		{"outside scope: quantity", nil, nil,
			issue("TH-A6-2026-002", "2026-03-01", with(ebus(1, 9001), func(a *Action) { a.Units.Issuance = 9 }), 181, 451), CodeScopeQuantity},
		{"outside scope: vintage", nil, nil,
			issue("TH-A6-2026-002", "2026-03-01", with(ebus(1, 100), func(a *Action) { a.Units.Issuance, a.Units.Vintage = 9, 2023 }), 2, 5), CodeScopeVintage},
		{"outside scope: activity", nil, nil,
			issue("TH-A6-2026-002", "2026-03-01", with(ebus(1, 100), func(a *Action) { a.Units.Issuance, a.Units.Project = 9, "TH-OTHER-1" }), 2, 5), CodeScopeActivity},
		{"outside scope: timeframe at issuance", nil, nil,
			issue("TH-A6-2026-002", "2031-01-02", with(ebus(1, 100), func(a *Action) { a.Units.Issuance = 9 }), 2, 5), CodeScopeTimeframe},
		{"outside scope: timeframe at first transfer", nil, nil,
			transfer(solar(71, 100), "2031-01-02", "TH", "SG", true), CodeScopeTimeframe},
		{"outside scope: acquiring party not in the approach", nil, nil,
			transfer(solar(71, 100), "2026-03-01", "TH", "CN", true), CodeScopeAcquirer},
		{"outside scope: acquiring party outside the approach, OIMP units", nil, nil,
			with(transfer(ebus(71, 100), "2026-03-01", "TH", "JP", false), func(a *Action) {}), CodeScopeAcquirer},
		{"revoked before first transfer", nil,
			[]AuthEvent{{Kind: EventRevoke, Date: "2026-02-15", ID: "TH-A6-2026-001", Reason: "test"}},
			transfer(solar(71, 100), "2026-03-01", "TH", "SG", true), CodeRevoked},
		{"revoked: no new issuance", nil,
			[]AuthEvent{{Kind: EventRevoke, Date: "2026-02-15", ID: "TH-A6-2026-002", Reason: "test"}},
			issue("TH-A6-2026-002", "2026-03-01", with(ebus(1, 100), func(a *Action) { a.Units.Issuance = 9 }), 2, 5), CodeRevoked},
		{"double first transfer",
			[]Action{transfer(solar(71, 100), "2026-03-01", "TH", "SG", true)}, nil,
			transfer(solar(71, 100), "2026-03-02", "SG", "TH", true), CodeDoubleFirst},
		{"first transfer not declared", nil, nil,
			transfer(solar(71, 100), "2026-03-01", "TH", "SG", false), CodeFirstMismatch},
		{"vintage before 2021", nil, nil,
			issue("TH-A6-2026-001", "2026-03-01", with(solar(1, 100), func(a *Action) { a.Units.Issuance, a.Units.Vintage = 9, 2020 }), 2, 5), CodeVintageBefore2021},
		{"use towards NDC by a Party that does not hold the units",
			[]Action{transfer(solar(71, 100), "2026-03-01", "TH", "SG", true)}, nil,
			with(solar(71, 100), func(a *Action) { a.Kind, a.Date, a.Purpose, a.UsingParty = ActionUse, "2026-03-02", PurposeNDC, "TH" }), CodeEntityNotEntitled},
		{"use by an entity not entitled",
			[]Action{transfer(solar(71, 100), "2026-03-01", "TH", "SG", true)}, nil,
			with(solar(71, 100), func(a *Action) {
				a.Kind, a.Date, a.Purpose, a.UsingParty, a.UsingEntity = ActionUse, "2026-03-02", PurposeNDC, "SG", "SG-UEN-OTHER"
			}), CodeEntityNotEntitled},
		{"OIMP use by an entity not entitled", nil, nil,
			with(ebus(71, 100), func(a *Action) {
				a.Kind, a.Date, a.Purpose, a.UsingEntity, a.FirstTransfer = ActionUse, "2026-03-02", PurposeOIMP, "ICAO-AO-OTHER", true
			}), CodeEntityNotEntitled},
		{"purpose not authorised", nil, nil,
			with(ebus(71, 100), func(a *Action) { a.Kind, a.Date, a.Purpose, a.UsingParty = ActionUse, "2026-03-02", PurposeNDC, "TH" }), CodePurposeNotAuth},
		{"missing OMGE deduction", nil, nil,
			issue("TH-A6-2026-001", "2026-03-01", with(solar(1, 100), func(a *Action) { a.Units.Issuance = 9 }), 1, 5), CodeMissingDeduction},
		{"missing share of proceeds", nil, nil,
			issue("TH-A6-2026-001", "2026-03-01", with(solar(1, 100), func(a *Action) { a.Units.Issuance = 9 }), 2, 0), CodeMissingDeduction},
		{"issuance too small for the deductions", nil, nil,
			issue("TH-A6-2026-001", "2026-03-01", with(solar(1, 1), func(a *Action) { a.Units.Issuance = 9 }), 1, 1), CodeTooSmall},
		{"excess deduction", nil, nil,
			issue("TH-A6-2026-001", "2026-03-01", with(solar(1, 100), func(a *Action) { a.Units.Issuance = 9 }), 3, 5), CodeExcessDeduction},
		{"units not held by the sender", nil, nil,
			transfer(solar(71, 100), "2026-03-01", "SG", "TH", true), CodeUnitsNotHeld},
		{"cancelled OMGE units never move", nil, nil,
			transfer(solar(1, 20), "2026-03-01", "TH", "SG", false), CodeUnitsNotHeld},
		{"units in mixed states",
			[]Action{transfer(solar(71, 100), "2026-03-01", "TH", "SG", true)}, nil,
			transfer(solar(90, 110), "2026-03-02", "TH", "SG", true), CodeUnitsMixed},
		{"unknown units", nil, nil,
			transfer(solar(990, 1001), "2026-03-01", "TH", "SG", true), CodeUnitsUnknown},
		{"issuance recorded twice", nil, nil,
			issue("TH-A6-2026-001", "2026-03-01", solar(1, 100), 2, 5), CodeUnitsExist},
		{"action backdated before a recorded event", nil,
			[]AuthEvent{{Kind: EventRevoke, Date: "2026-03-01", ID: "TH-A6-2026-002", Reason: "test"}},
			transfer(solar(71, 100), "2026-02-15", "TH", "SG", true), CodeDateOrder},
		{"date out of order", nil, nil,
			transfer(solar(71, 100), "2026-01-31", "TH", "SG", true), CodeDateOrder},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := baseLedger(t)
			for _, ev := range c.events {
				if err := l.Record(ev); err != nil {
					t.Fatal(err)
				}
			}
			for _, a := range c.before {
				if _, err := l.Apply(a); err != nil {
					t.Fatal(err)
				}
			}
			blocks, recs := l.State().Blocks(), len(l.State().Records())
			_, err := l.Apply(c.action)
			if got := CodeOf(err); got != c.want {
				t.Fatalf("code %q (%v), want %q", got, err, c.want)
			}
			if len(l.State().Records()) != recs || len(l.State().Blocks()) != len(blocks) {
				t.Fatal("a refused action changed the state")
			}
		})
	}
}

func TestRevocationKeepsFirstTransferredUnits(t *testing.T) {
	l := baseLedger(t)
	if _, err := l.Apply(transfer(solar(71, 100), "2026-03-01", "TH", "SG", true)); err != nil {
		t.Fatal(err)
	}
	if err := l.Record(AuthEvent{Kind: EventRevoke, Date: "2026-03-05", ID: "TH-A6-2026-001", Reason: "host withdrew"}); err != nil {
		t.Fatal(err)
	}
	// Already first-transferred: onward transfer and use still work.
	if _, err := l.Apply(transfer(solar(71, 80), "2026-03-06", "SG", "TH", false)); err != nil {
		t.Fatalf("onward transfer of ITMOs after revocation: %v", err)
	}
	if _, err := l.Apply(with(solar(81, 100), func(a *Action) {
		a.Kind, a.Date, a.Purpose, a.UsingParty = ActionUse, "2026-03-07", PurposeNDC, "SG"
	})); err != nil {
		t.Fatalf("use of ITMOs after revocation: %v", err)
	}
	// Not first-transferred: refused.
	if _, err := l.Apply(transfer(solar(101, 110), "2026-03-08", "TH", "SG", true)); CodeOf(err) != CodeRevoked {
		t.Fatalf("transfer of units not first-transferred after revocation: %v", err)
	}
}

func TestAuthorisationEvents(t *testing.T) {
	amend := func(f func(*Authorisation)) AuthEvent {
		a := thJCMAuth()
		a.Version = 2
		f(&a)
		return AuthEvent{Kind: EventAmend, Date: "2026-02-10", Authorisation: a}
	}
	auth := func(f func(*Authorisation)) AuthEvent {
		a := thICCAuth()
		a.ID = "TH-A6-NEW"
		f(&a)
		return AuthEvent{Kind: EventAuthorise, Date: "2026-02-10", Authorisation: a}
	}
	cases := []struct {
		name     string
		transfer bool // first-transfer some units first
		ev       AuthEvent
		want     Code
	}{
		{"amend before first transfer", false, amend(func(a *Authorisation) { a.Quantity = 6_000 }), ""},
		{"amend after first transfer", true, amend(func(a *Authorisation) { a.Quantity = 6_000 }), CodeAuthFrozen},
		{"amend after an OMGE cancellation", false, AuthEvent{Kind: EventAmend, Date: "2026-02-10", Authorisation: with2(thICCAuth())}, CodeAuthFrozen},
		{"amend below issued", false, amend(func(a *Authorisation) { a.Quantity = 999 }), CodeQuantityBelowUsed},
		{"amend skips a version", false, amend(func(a *Authorisation) { a.Version = 3 }), CodeAuthVersion},
		{"amend changes host", false, amend(func(a *Authorisation) { a.Host = "JP" }), CodeAuthInvalid},
		{"amend unknown", false, amend(func(a *Authorisation) { a.ID = "TH-X" }), CodeAuthUnknown},
		{"authorise twice", false, AuthEvent{Kind: EventAuthorise, Date: "2026-02-10", Authorisation: thICCAuth()}, CodeAuthExists},
		{"unknown approach", false, auth(func(a *Authorisation) { a.Approach = "XX-YY" }), CodeApproachUnknown},
		{"host not a participant", false, auth(func(a *Authorisation) { a.Host = "JP" }), CodeHostNotParticipant},
		{"vintage before 2021", false, auth(func(a *Authorisation) { a.VintageFrom = 2020 }), CodeVintageBefore2021},
		{"purpose outside the approach", false, auth(func(a *Authorisation) { a.Purposes = []Purpose{PurposeOther} }), CodeAuthInvalid},
		{"OIMP definition without OIMP", false, auth(func(a *Authorisation) { a.FirstTransferOIMP = FirstAtIssuance }), CodeAuthInvalid},
		{"acquirer outside the approach", false, auth(func(a *Authorisation) { a.AcquiringParties = []string{"CN"} }), CodeAuthInvalid},
		{"no activities", false, auth(func(a *Authorisation) { a.Activities = nil }), CodeAuthInvalid},
		{"timeframe reversed", false, auth(func(a *Authorisation) { a.From, a.Until = a.Until, a.From }), CodeAuthInvalid},
		{"revoke twice", false, AuthEvent{Kind: EventRevoke, Date: "2026-02-10", ID: "TH-A6-2026-002"}, CodeRevoked},
		{"revocation backdated before recorded actions", false, AuthEvent{Kind: EventRevoke, Date: "2026-01-31", ID: "TH-A6-2026-001"}, CodeDateOrder},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := baseLedger(t)
			if c.transfer {
				jcm := Action{Units: units("TGO", "JCM", "TH014", 2025, 10, 1, 10)}
				if _, err := l.Apply(transfer(jcm, "2026-02-05", "TH", "JP", true)); err != nil {
					t.Fatal(err)
				}
			}
			if c.name == "revoke twice" {
				if err := l.Record(AuthEvent{Kind: EventRevoke, Date: "2026-02-09", ID: "TH-A6-2026-002"}); err != nil {
					t.Fatal(err)
				}
			}
			n := len(l.Log().Events())
			err := l.Record(c.ev)
			if got := CodeOf(err); got != c.want {
				t.Fatalf("code %q (%v), want %q", got, err, c.want)
			}
			if c.want != "" && len(l.Log().Events()) != n {
				t.Fatal("a refused event was appended")
			}
		})
	}
}

// TestAcquiringPartyRestriction: an authorisation naming its acquiring
// Parties refuses another participant of the same approach.
func TestAcquiringPartyRestriction(t *testing.T) {
	aps, err := NewApproaches([]Approach{{ID: "TRI-TEST", Parties: []string{"TH", "SG", "MY"}, Purposes: []Purpose{PurposeNDC}, Rounding: RoundUp,
		FirstTransferOIMP: FirstAtIssuance, Status: "proposal", Sources: []Source{{Status: "assumption", Text: "test approach"}}}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.Approaches = aps
	l := NewLedger(cfg)
	a := thJCMAuth()
	a.Approach, a.AcquiringParties = "TRI-TEST", []string{"SG"}
	if err := l.Record(AuthEvent{Kind: EventAuthorise, Date: "2026-01-05", Authorisation: a}); err != nil {
		t.Fatal(err)
	}
	u := units("TGO", "JCM", "TH014", 2025, 1, 1, 100)
	if _, err := l.Apply(Action{Kind: ActionIssue, Date: "2026-02-01", Authorisation: a.ID, Units: u}); err != nil {
		t.Fatal(err)
	}
	u.End = 10
	if _, err := l.Apply(transfer(Action{Units: u}, "2026-02-02", "TH", "MY", true)); CodeOf(err) != CodeScopeAcquirer {
		t.Fatalf("transfer to MY: %v, want %s", err, CodeScopeAcquirer)
	}
	if _, err := l.Apply(transfer(Action{Units: u}, "2026-02-02", "TH", "SG", true)); err != nil {
		t.Fatalf("transfer to SG: %v", err)
	}
}
