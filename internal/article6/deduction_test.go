package article6

import (
	"testing"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

func TestApproachesData(t *testing.T) {
	aps := testConfig(t).Approaches
	sg := aps["SG-TH-IA"]
	if !sg.ShareOfProceeds.Equal(decimal.RequireFromString("0.05")) || !sg.OMGE.Equal(decimal.RequireFromString("0.02")) || sg.Proposal() {
		t.Fatalf("Singapore-Thailand terms: %+v", sg)
	}
	for _, id := range []string{"CN-ID-PILOT", "CN-MY-PILOT", "CN-TH-PILOT"} {
		if !aps[id].Proposal() {
			t.Errorf("%s must be marked a proposal", id)
		}
	}
	if !aps["JP-TH-JCM"].CoordinatedIssuance {
		t.Error("the JCM needs coordinated issuance")
	}
	good := func() Approach {
		return Approach{ID: "AB", Parties: []string{"SG", "TH"}, Purposes: []Purpose{PurposeNDC}, Rounding: RoundUp,
			FirstTransferOIMP: FirstAtIssuance, Status: "in-force", Sources: []Source{{Status: "cited", Text: "t"}}}
	}
	if _, err := NewApproaches([]Approach{good()}); err != nil {
		t.Fatalf("a valid approach is refused: %v", err)
	}
	for name, breakIt := range map[string]func(*Approach){
		"one-letter id": func(a *Approach) { a.ID = "X" },
		"one Party":     func(a *Approach) { a.Parties = []string{"SG"} },
		"deductions > 1": func(a *Approach) {
			a.ShareOfProceeds, a.OMGE = decimal.RequireFromString("0.6"), decimal.RequireFromString("0.5")
		},
		"no sources":         func(a *Approach) { a.Sources = nil },
		"unknown status":     func(a *Approach) { a.Status = "agreed" },
		"source status":      func(a *Approach) { a.Sources[0].Status = "sure" },
		"rounding":           func(a *Approach) { a.Rounding = "nearest" },
		"purpose":            func(a *Approach) { a.Purposes = []Purpose{"CSR"} },
		"first transfer":     func(a *Approach) { a.FirstTransferOIMP = FirstInternationalTransfer },
		"negative deduction": func(a *Approach) { a.OMGE = decimal.RequireFromString("-0.01") },
	} {
		a := good()
		breakIt(&a)
		if _, err := NewApproaches([]Approach{a}); err == nil {
			t.Errorf("NewApproaches accepted an approach with a bad %s", name)
		}
	}
}

func TestDeductionsWorked(t *testing.T) {
	sg := testConfig(t).Approaches["SG-TH-IA"]
	cases := []struct {
		gross    int64
		fraction string
		want     Shares
	}{
		// 2 % and 5 % of 10,000 are whole: 200 and 500.
		{10_000, "0.6", Shares{Gross: 10_000, OMGE: 200, ShareOfProceeds: 500, Host: 3720, Investor: 5580}},
		// 2 % of 20,301 = 406.02 -> 407; 5 % = 1,015.05 -> 1,016; rest to host.
		{20_301, "0", Shares{Gross: 20_301, OMGE: 407, ShareOfProceeds: 1016, Host: 18_878}},
		// 99 t: 1.98 -> 2, 4.95 -> 5, net 92; investor floor(0.5 x 92) = 46.
		{99, "0.5", Shares{Gross: 99, OMGE: 2, ShareOfProceeds: 5, Host: 46, Investor: 46}},
		// 101 t: 2.02 -> 3, 5.05 -> 6, net 92; investor floor(0.33 x 92 = 30.36) = 30.
		{101, "0.33", Shares{Gross: 101, OMGE: 3, ShareOfProceeds: 6, Host: 62, Investor: 30}},
	}
	for _, c := range cases {
		got, err := Split(sg, c.gross, decimal.RequireFromString(c.fraction))
		if err != nil || got != c.want {
			t.Errorf("Split(%d, %s) = %+v, %v; want %+v", c.gross, c.fraction, got, err, c.want)
		}
	}
	down := sg
	down.Rounding = RoundDown
	if o, s := Deductions(down, 20_301); o != 406 || s != 1015 {
		t.Errorf("round-down deductions %d, %d; want 406, 1015", o, s)
	}
	if _, err := Split(sg, 1, decimal.Zero); err == nil {
		t.Error("a 1 t issuance cannot carry 1 t OMGE and 1 t SOP")
	}
}

func TestPropertySplitConserves(t *testing.T) {
	aps := testConfig(t).Approaches
	ids := []string{"SG-TH-IA", "JP-TH-JCM", "CN-ID-PILOT"}
	rapid.Check(t, func(t *rapid.T) {
		ap := aps[rapid.SampledFrom(ids).Draw(t, "approach")]
		if rapid.Bool().Draw(t, "down") {
			ap.Rounding = RoundDown
		}
		gross := rapid.Int64Range(1, 1_000_000_000_000).Draw(t, "gross")
		frac := decimal.New(rapid.Int64Range(0, 10_000).Draw(t, "bp"), -4)
		sh, err := Split(ap, gross, frac)
		if err != nil {
			o, s := Deductions(ap, gross)
			if o+s <= gross {
				t.Fatalf("Split(%d) failed although deductions fit: %v", gross, err)
			}
			return
		}
		if sh.OMGE+sh.ShareOfProceeds+sh.Host+sh.Investor != gross || sh.Host < 0 || sh.Investor < 0 {
			t.Fatalf("shares %+v do not sum to %d", sh, gross)
		}
		exact := ap.OMGE.Mul(decimal.NewFromInt(gross))
		if ap.Rounding == RoundUp && (decimal.NewFromInt(sh.OMGE).LessThan(exact) || decimal.NewFromInt(sh.OMGE-1).GreaterThanOrEqual(exact)) {
			t.Fatalf("OMGE %d is not %s rounded up", sh.OMGE, exact)
		}
		net := decimal.NewFromInt(gross - sh.OMGE - sh.ShareOfProceeds)
		if decimal.NewFromInt(sh.Investor).GreaterThan(frac.Mul(net)) {
			t.Fatalf("investor %d exceeds its share %s of %s", sh.Investor, frac, net)
		}
	})
}

func TestCoordinatedIssuance(t *testing.T) {
	parts, err := CoordinatedSplit(1009, "TH", map[string]decimal.Decimal{"JP": decimal.RequireFromString("0.5")})
	if err != nil || parts["JP"] != 504 || parts["TH"] != 505 {
		t.Fatalf("split %v, %v; want JP 504, TH 505", parts, err)
	}
	if _, err := CoordinatedSplit(10, "TH", map[string]decimal.Decimal{"JP": decimal.RequireFromString("1.1")}); err == nil {
		t.Fatal("fractions above 1 accepted")
	}
	// One Joint Committee decision, each share issued in its own registry:
	// Japan's share arriving in Japan's registry is its first international
	// transfer, with Thailand's corresponding adjustment.
	l := NewLedger(testConfig(t))
	if err := l.Record(AuthEvent{Kind: EventAuthorise, Date: "2026-01-05", Authorisation: thJCMAuth()}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Apply(Action{Kind: ActionIssue, Date: "2026-02-01", Authorisation: "TH-JCM-2026-001", IssueTo: "JP",
		Units: units("JCMJP", "JCM", "TH014", 2025, 1, 1, parts["JP"])}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Apply(Action{Kind: ActionIssue, Date: "2026-02-01", Authorisation: "TH-JCM-2026-001",
		Units: units("TGO", "JCM", "TH014", 2025, 1, 1, parts["TH"])}); err != nil {
		t.Fatal(err)
	}
	adj := l.State().Adjustments()
	if len(adj) != 1 || adj[0].Party != "TH" || adj[0].Quantity != 504 || adj[0].Units.Registry != "JCMJP" {
		t.Fatalf("adjustments %+v; want one +504 for TH", adj)
	}
	// Coordinated issuance is refused where the approach has none.
	l2 := NewLedger(testConfig(t))
	if err := l2.Record(AuthEvent{Kind: EventAuthorise, Date: "2026-01-05", Authorisation: thICCAuth()}); err != nil {
		t.Fatal(err)
	}
	_, err = l2.Apply(Action{Kind: ActionIssue, Date: "2026-02-01", Authorisation: "TH-A6-2026-001", IssueTo: "SG",
		Units: units("SG", "TVER", "TH-TVER-SOLAR-7", 2025, 1, 1, 100), OMGE: 2, ShareOfProceeds: 5})
	if CodeOf(err) != CodeScopeAcquirer {
		t.Fatalf("coordinated issuance under SG-TH-IA: %v", err)
	}
}

// TestCoordinatedIssuanceDecision: the issuances under one Joint Committee
// decision, one in each registry, add up to the decision and each
// registry issues its share once; a share above the decision, a second
// share in the same registry, a decision stated with another quantity
// and a decision under an approach without coordinated issuance are
// refused with their codes.
func TestCoordinatedIssuanceDecision(t *testing.T) {
	issue := func(l *Ledger, reg string, issuance, n int64, to string, decision string, q int64) error {
		_, err := l.Apply(Action{Kind: ActionIssue, Date: "2026-02-01", Authorisation: "TH-JCM-2026-001", IssueTo: to,
			Units: units(reg, "JCM", "TH014", 2025, issuance, 1, n), Decision: decision, DecisionQuantity: q})
		return err
	}
	ledger := func(t *testing.T) *Ledger {
		l := NewLedger(testConfig(t))
		if err := l.Record(AuthEvent{Kind: EventAuthorise, Date: "2026-01-05", Authorisation: thJCMAuth()}); err != nil {
			t.Fatal(err)
		}
		return l
	}
	l := ledger(t)
	if err := issue(l, "JCMJP", 1, 504, "JP", "JC-TH-2026-01", 1009); err != nil {
		t.Fatal(err)
	}
	if d := l.State().Decisions()["JC-TH-2026-01"]; d.Complete() || d.Issued["JCMJP"] != 504 {
		t.Fatalf("after Japan's share: %+v", d)
	}
	for _, c := range []struct {
		name     string
		reg      string
		n        int64
		to       string
		decision string
		q        int64
		want     Code
	}{
		{"above the decision", "TGO", 506, "", "JC-TH-2026-01", 1009, CodeDecisionExceeded},
		{"another quantity", "TGO", 505, "", "JC-TH-2026-01", 1000, CodeDecisionMismatch},
		{"Japan's share twice", "JCMJP", 1, "JP", "JC-TH-2026-01", 1009, CodeDecisionTwice},
		{"no quantity", "TGO", 505, "", "JC-TH-2026-01", 0, CodeDecisionMismatch},
	} {
		if err := issue(l, c.reg, 2, c.n, c.to, c.decision, c.q); CodeOf(err) != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
	if err := issue(l, "TGO", 2, 505, "", "JC-TH-2026-01", 1009); err != nil {
		t.Fatal(err)
	}
	if d := l.State().Decisions()["JC-TH-2026-01"]; !d.Complete() || d.Issued["TGO"] != 505 {
		t.Fatalf("after both shares: %+v", d)
	}
	// Singapore's IA has no coordinated issuance: no decision under it.
	l2 := NewLedger(testConfig(t))
	if err := l2.Record(AuthEvent{Kind: EventAuthorise, Date: "2026-01-05", Authorisation: thICCAuth()}); err != nil {
		t.Fatal(err)
	}
	_, err := l2.Apply(Action{Kind: ActionIssue, Date: "2026-02-01", Authorisation: "TH-A6-2026-001", Units: units("TGO", "TVER", "TH-TVER-SOLAR-7", 2025, 1, 1, 100),
		OMGE: 2, ShareOfProceeds: 5, Decision: "JC-X", DecisionQuantity: 100})
	if CodeOf(err) != CodeDecisionMismatch {
		t.Fatalf("a decision under SG-TH-IA: %v, want %s", err, CodeDecisionMismatch)
	}
}
