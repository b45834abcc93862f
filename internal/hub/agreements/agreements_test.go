package agreements

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func mustDefault(t *testing.T) Set {
	t.Helper()
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDefaultCoversTheCorridor pins what the embedded file must say: the
// pilots as proposals without official source, Singapore's IAs with SOP
// and OMGE, the seven JCM partners, Switzerland-Thailand.
func TestDefaultCoversTheCorridor(t *testing.T) {
	s := mustDefault(t)
	byID := map[string]Agreement{}
	for _, a := range s.Agreements {
		byID[a.ID] = a
	}
	for _, id := range []string{"pilot-cn-id", "pilot-cn-my", "pilot-cn-th"} {
		a := byID[id]
		if a.Status != StatusProposal || len(a.Sources) != 1 || a.Sources[0].ID != "mission-pilots" {
			t.Errorf("%s: %+v", id, a)
		}
	}
	ia := byID["sg-th-ia"]
	if !ia.Terms.ShareOfProceedsPct.Equal(decimal.NewFromInt(5)) || !ia.Terms.OMGEPct.Equal(decimal.NewFromInt(2)) {
		t.Errorf("sg-th-ia terms = %+v", ia.Terms)
	}
	if ia.Signed.Format(time.DateOnly) != "2025-08-19" || ia.Operational.Format(time.DateOnly) != "2026-03-31" {
		t.Errorf("sg-th-ia dates = %v %v", ia.Signed, ia.Operational)
	}
	for _, p := range []string{"vn", "la", "id", "kh", "mm", "th", "ph"} {
		if byID["jcm-"+p].Kind != KindJCM {
			t.Errorf("JCM partner %s missing", p)
		}
	}
	if byID["ch-th"].Status != StatusOperational {
		t.Errorf("ch-th = %+v", byID["ch-th"])
	}
	for _, src := range s.Sources {
		if src.Kind != "proposal" && src.URL == "" && src.Date == "" {
			t.Errorf("source %s has neither URL nor date", src.ID)
		}
	}
}

func TestAllowed(t *testing.T) {
	s := mustDefault(t)
	tests := []struct {
		name                        string
		from, to, unit, purpose, on string
		want                        Code
		wantID                      string
	}{
		{"pilot out", "CN", "TH", "CCER", "voluntary", "2026-12-01", "", "pilot-cn-th"},
		{"pilot back", "TH", "CN", "CCER", "voluntary", "2026-12-01", "", "pilot-cn-th"},
		{"singapore IA", "TH", "SG", "PTVER", "icc", "2026-04-01", "", "sg-th-ia"},
		{"singapore IA on its first day", "TH", "SG", "PTVER", "ndc", "2026-03-31", "", "sg-th-ia"},
		{"jcm", "TH", "JP", "JCM", "ndc", "2025-11-11", "", "jcm-th"},
		{"switzerland", "TH", "CH", "ITMO", "ndc", "2023-12-15", "", "ch-th"},
		{"unknown sender", "XX", "TH", "CCER", "voluntary", "2026-12-01", CodeUnknownRegistry, ""},
		{"unknown receiver", "CN", "ZZ", "CCER", "voluntary", "2026-12-01", CodeUnknownRegistry, ""},
		{"same registry", "CN", "CN", "CCER", "voluntary", "2026-12-01", CodeSameRegistry, ""},
		{"no pair", "ID", "MY", "CCER", "voluntary", "2026-12-01", CodeNoAgreement, ""},
		{"wrong direction", "SG", "TH", "PTVER", "ndc", "2026-12-01", CodeNoAgreement, ""},
		{"unit type", "CN", "TH", "CEA", "voluntary", "2026-12-01", CodeUnitTypeNotCovered, ""},
		{"pilot for an NDC", "CN", "TH", "CCER", "ndc", "2026-12-01", "", "pilot-cn-th"},
		{"purpose", "CN", "TH", "CCER", "oimp", "2026-12-01", CodePurposeNotCovered, ""},
		{"signed only", "PG", "SG", "ITMO", "ndc", "2026-12-01", CodeNotOperational, ""},
		{"before operational", "TH", "SG", "PTVER", "icc", "2026-03-30", CodeNotInForce, ""},
		{"before JCM authorisation", "VN", "JP", "JCM", "ndc", "2025-03-30", CodeNotInForce, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := s.Allowed(tc.from, tc.to, tc.unit, tc.purpose, day(tc.on).Add(15*time.Hour))
			if got := RefusalCode(err); got != tc.want {
				t.Fatalf("code = %q (%v), want %q", got, err, tc.want)
			}
			if a.ID != tc.wantID {
				t.Fatalf("agreement = %q, want %q", a.ID, tc.wantID)
			}
		})
	}
}

func TestAllowedUntil(t *testing.T) {
	s := mustDefault(t)
	a := findAgreement(t, s, "jcm-th")
	a.Until = &Date{day("2027-01-01")}
	next, err := s.Apply(Edit{Op: OpReplace, Agreement: a, AsOf: day("2026-12-02")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := next.Allowed("TH", "JP", "JCM", "ndc", day("2026-12-31")); err != nil {
		t.Fatalf("last day refused: %v", err)
	}
	if _, err := next.Allowed("TH", "JP", "JCM", "ndc", day("2027-01-01")); RefusalCode(err) != CodeNotInForce {
		t.Fatalf("after until: %v", err)
	}
}

func findAgreement(t *testing.T, s Set, id string) Agreement {
	t.Helper()
	for _, a := range s.Agreements {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("no agreement %q", id)
	return Agreement{}
}

// TestValidateRefuses breaks one thing at a time in the default set.
func TestValidateRefuses(t *testing.T) {
	tests := []struct {
		name   string
		want   string
		break_ func(*Set)
	}{
		{"unknown registry", "unknown registry", func(s *Set) { s.Agreements[0].Routes[0].To = "XX" }},
		{"duplicate route", "already covered", func(s *Set) {
			s.Agreements[1].Routes = append(s.Agreements[1].Routes, s.Agreements[0].Routes[0])
			s.Agreements[1].Parties = s.Agreements[0].Parties
		}},
		{"route outside parties", "not between its parties", func(s *Set) { s.Agreements[0].Routes[0].To = "SG" }},
		{"unknown source", "unknown source", func(s *Set) { s.Agreements[0].Sources[0].ID = "nowhere" }},
		{"unknown purpose", "unknown purpose", func(s *Set) { s.Agreements[0].Purposes = []string{"speculation"} }},
		{"operational before signed", "operational before signed", func(s *Set) {
			a := &s.Agreements[3]
			a.Operational = &Date{a.Signed.AddDate(0, 0, -1)}
		}},
		{"signed without date", "signed without a signing date", func(s *Set) { s.Agreements[4].Signed = nil }},
		{"proposal not a pilot", "only pilots", func(s *Set) { s.Agreements[3].Status = StatusProposal }},
		{"duplicate id", "listed twice", func(s *Set) { s.Agreements[1].ID = s.Agreements[0].ID }},
		{"bad percentage", "outside 0-100", func(s *Set) { d := decimal.NewFromInt(101); s.Agreements[3].Terms.OMGEPct = &d }},
		{"vintage inverted", "vintage from", func(s *Set) { s.Agreements[3].Vintage = &Vintage{From: 2030, To: 2021} }},
		{"registry twice", "listed twice", func(s *Set) { s.Registries = append(s.Registries, s.Registries[0]) }},
		{"revision 0", "revision must", func(s *Set) { s.Revision = 0 }},
		{"terms without approach", "without an approach id", func(s *Set) { s.Agreements[3].Terms.Approach = "" }},
		{"approach twice", "is already agreement", func(s *Set) { s.Agreements[1].Terms.Approach = s.Agreements[0].Terms.Approach }},
		{"bad approach id", "must be 2-24", func(s *Set) { s.Agreements[0].Terms.Approach = "cn.id" }},
		{"NDC approach on a voluntary route", "needs transfer purpose", func(s *Set) { s.Agreements[0].Purposes = []string{"voluntary"} }},
		{"unknown Article 6 purpose", "is not NDC, OIMP or OP", func(s *Set) { s.Agreements[0].Terms.Purposes = []string{"CSR"} }},
		{"no Article 6 purpose", "without purposes", func(s *Set) { s.Agreements[0].Terms.Purposes = nil }},
		{"deductions above the whole", "exceed the whole issuance", func(s *Set) {
			sop, omge := decimal.NewFromInt(60), decimal.NewFromInt(50)
			s.Agreements[3].Terms.ShareOfProceedsPct, s.Agreements[3].Terms.OMGEPct = &sop, &omge
		}},
		{"rounding", "must be up or down", func(s *Set) { s.Agreements[3].Terms.Rounding = "nearest" }},
		{"first transfer", "is not authorisation, issuance", func(s *Set) { s.Agreements[3].Terms.FirstTransfer = "use" }},
		{"terms without sources", "need their source lines", func(s *Set) { s.Agreements[3].Terms.Sources = nil }},
		{"terms source status", "status cited, unverified or assumption", func(s *Set) { s.Agreements[3].Terms.Sources[0].Status = "sure" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustDefault(t).clone()
			tc.break_(&s)
			err := s.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestParseRefusesUnknownFields(t *testing.T) {
	if _, err := Parse([]byte("revision: 1\nas_of: \"2026-01-01\"\nrevison: 2\n")); err == nil {
		t.Fatal("accepted a misspelt field")
	}
	if _, err := Parse([]byte("revision: 1\nas_of: \"1 Jan 2026\"\n")); err == nil {
		t.Fatal("accepted a non-ISO date")
	}
}

func TestApply(t *testing.T) {
	s := mustDefault(t)
	at := day("2026-12-02")
	added := Agreement{
		ID: "pilot-cn-vn", Kind: KindPilot, Title: "China-Viet Nam pilot (test)", Status: StatusProposal,
		Parties: []string{"CN", "VN"}, Routes: []Route{{From: "CN", To: "VN", UnitTypes: []string{"CCER"}}},
		Purposes: []string{"voluntary"}, Sources: []Cite{{ID: "mission-pilots"}},
	}
	next, err := s.Apply(Edit{Op: OpAdd, Agreement: added, AsOf: at})
	if err != nil {
		t.Fatal(err)
	}
	if next.Revision != s.Revision+1 || !next.AsOf.Equal(at) {
		t.Fatalf("revision %d as of %v", next.Revision, next.AsOf)
	}
	if _, err := next.Allowed("CN", "VN", "CCER", "voluntary", at); err != nil {
		t.Fatalf("added agreement not in force: %v", err)
	}
	if _, err := s.Allowed("CN", "VN", "CCER", "voluntary", at); RefusalCode(err) != CodeNoAgreement {
		t.Fatalf("the old revision changed: %v", err)
	}
	if _, err := next.Apply(Edit{Op: OpAdd, Agreement: added, AsOf: at}); err == nil {
		t.Fatal("added the same id twice")
	}
	rep := added
	rep.Routes = []Route{{From: "CN", To: "VN", UnitTypes: []string{"CEA"}}}
	third, err := next.Apply(Edit{Op: OpReplace, Agreement: rep, AsOf: at})
	if err != nil {
		t.Fatal(err)
	}
	// A revision shares no slice with the one it came from.
	third.Agreements[0].Routes[0].UnitTypes[0] = "MUTATED"
	if next.Agreements[0].Routes[0].UnitTypes[0] == "MUTATED" {
		t.Fatal("Apply's result aliases the previous revision")
	}
	third.Agreements[0].Routes[0].UnitTypes[0] = "CCER"
	if _, err := third.Allowed("CN", "VN", "CEA", "voluntary", at); err != nil {
		t.Fatalf("replaced agreement: %v", err)
	}
	if _, err := next.Allowed("CN", "VN", "CCER", "voluntary", at); err != nil {
		t.Fatalf("replace changed the previous revision: %v", err)
	}
	fourth, err := third.Apply(Edit{Op: OpRemove, ID: "pilot-cn-vn", AsOf: at})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fourth.Allowed("CN", "VN", "CEA", "voluntary", at); RefusalCode(err) != CodeNoAgreement {
		t.Fatalf("removed agreement still allowed: %v", err)
	}
	if _, err := fourth.Apply(Edit{Op: OpRemove, ID: "pilot-cn-vn", AsOf: at}); err == nil {
		t.Fatal("removed a missing agreement")
	}
	dup := added
	dup.ID = "pilot-cn-th-2"
	dup.Parties = []string{"CN", "TH"}
	dup.Routes = []Route{{From: "CN", To: "TH", UnitTypes: []string{"CCER"}}}
	if _, err := s.Apply(Edit{Op: OpAdd, Agreement: dup, AsOf: at}); err == nil || !strings.Contains(err.Error(), "already covered") {
		t.Fatalf("an edit creating a duplicate route: %v", err)
	}
}

// TestMarshalRoundTrip: an edited revision exported and parsed again is
// the same revision, so the administrator's export can be re-loaded.
func TestMarshalRoundTrip(t *testing.T) {
	s := mustDefault(t)
	out, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(out)
	if err != nil {
		t.Fatalf("re-parse: %v\n%s", err, out)
	}
	again, err := back.Marshal()
	if err != nil || string(again) != string(out) {
		t.Fatalf("second export differs (%v)", err)
	}
	if len(back.Agreements) != len(s.Agreements) || !back.Agreements[3].Terms.OMGEPct.Equal(*s.Agreements[3].Terms.OMGEPct) {
		t.Fatal("round trip lost data")
	}
}

// FuzzParse: no data file makes the loader panic, and whatever it accepts
// re-exports to a file it accepts again with the same answer to a query.
func FuzzParse(f *testing.F) {
	f.Add(defaultData)
	f.Add([]byte("revision: 1\nas_of: \"2026-01-01\"\n"))
	f.Add([]byte("revision: 1\nas_of: \"2026-01-01\"\nagreements: [{id: x, routes: [{from: CN}]}]\n"))
	f.Add([]byte("{revision: 1, as_of: 2026-13-40}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		out, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse of an accepted file: %v", err)
		}
		at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		for _, a := range s.Agreements {
			for _, r := range a.Routes {
				for _, u := range r.UnitTypes {
					x, e1 := s.Allowed(r.From, r.To, u, a.Purposes[0], at)
					y, e2 := back.Allowed(r.From, r.To, u, a.Purposes[0], at)
					if x.ID != y.ID || RefusalCode(e1) != RefusalCode(e2) {
						t.Fatalf("%s->%s %s: %q/%v vs %q/%v", r.From, r.To, u, x.ID, e1, y.ID, e2)
					}
				}
			}
		}
	})
}

// TestDefaultRegistryCodesAreNodeCodes: every registry the default file
// names is addressable as a node (2-12 upper-case letters or digits, as a
// serial's registry part), so China's national ETS is CNETS, not CN-ETS.
func TestDefaultRegistryCodesAreNodeCodes(t *testing.T) {
	s := mustDefault(t)
	found := false
	for _, r := range s.Registries {
		if !ledger.ValidCode(r.Code) {
			t.Errorf("registry code %q is not a valid node code", r.Code)
		}
		found = found || r.Code == "CNETS" && r.Party == "CN"
	}
	if !found {
		t.Error("no CNETS registry of party CN")
	}
}
