package rulebook

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

func mustDefault(t testing.TB) *Rulebook {
	t.Helper()
	rb, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return rb
}

// outcomeOf returns the outcome a rule got in d, or "" when it did not apply.
func outcomeOf(d Decision, rule string) string {
	for _, r := range d.Reasons {
		if r.Rule == rule {
			return r.Outcome
		}
	}
	return ""
}

func TestEligibilityBySchemeRules(t *testing.T) {
	rb := mustDefault(t)
	ccer := Unit{Instrument: "CCER", Host: "CN", Vintage: 2024, Registered: "2024-06-01"}
	vcuTH := Unit{Instrument: "VCU", Host: "TH", Vintage: 2023, Authorised: true, CorrespondingAdjustment: true}
	jcmTH := Unit{Instrument: "JCM-CREDIT", Host: "TH", Vintage: 2025}
	type want struct {
		allowed   bool
		max       int64
		confirmed bool
		// rule → outcome that must appear
		outcomes map[string]string
	}
	tests := []struct {
		name string
		unit Unit
		use  Use
		want want
	}{
		{"CN: CCER within 5%", ccer, Use{Scheme: "CN-ETS", ComplianceYear: 2025, Obligation: 12345},
			want{true, 617, false, map[string]string{"CN-ETS.offset-cap": OutcomePass, "CN-ETS.offset-instrument": OutcomePass}}},
		{"CN: cap partly used", ccer, Use{Scheme: "CN-ETS", ComplianceYear: 2025, Obligation: 12345, AlreadyUsed: 600},
			want{true, 17, false, map[string]string{"CN-ETS.offset-cap": OutcomePass}}},
		{"CN: cap used up", ccer, Use{Scheme: "CN-ETS", ComplianceYear: 2025, Obligation: 12345, AlreadyUsed: 617},
			want{false, 0, false, map[string]string{"CN-ETS.offset-cap": OutcomeFail}}},
		{"CN: VCU not eligible", Unit{Instrument: "VCU", Host: "CN", Vintage: 2024}, Use{Scheme: "CN-ETS", ComplianceYear: 2025, Obligation: 10000},
			want{false, 0, true, map[string]string{"CN-ETS.offset-instrument": OutcomeFail}}},
		// MEE notice of 24 Oct 2023, item 3: CCERs registered (备案) before
		// 14 March 2017 may offset surrender until 31 Dec 2024, not from
		// 1 Jan 2025. The registration date decides, not the vintage.
		{"CN: CCER registered before 14 Mar 2017 barred from 2025", Unit{Instrument: "CCER", Host: "CN", Vintage: 2016, Registered: "2016-05-10"}, Use{Scheme: "CN-ETS", ComplianceYear: 2025, Obligation: 10000},
			want{false, 0, false, map[string]string{"CN-ETS.pre-2017-ccer": OutcomeFail}}},
		{"CN: registered 13 Mar 2017, the last barred day", Unit{Instrument: "CCER", Host: "CN", Vintage: 2016, Registered: "2017-03-13"}, Use{Scheme: "CN-ETS", ComplianceYear: 2025, Obligation: 10000},
			want{false, 0, false, map[string]string{"CN-ETS.pre-2017-ccer": OutcomeFail}}},
		{"CN: vintage-2016 CCER registered on 14 Mar 2017 stays usable", Unit{Instrument: "CCER", Host: "CN", Vintage: 2016, Registered: "2017-03-14"}, Use{Scheme: "CN-ETS", ComplianceYear: 2025, Obligation: 10000},
			want{true, 500, false, map[string]string{"CN-ETS.pre-2017-ccer": OutcomePass}}},
		{"CN: pre-2017 CCER still usable on 31 Dec 2024", Unit{Instrument: "CCER", Host: "CN", Vintage: 2016, Registered: "2016-05-10"}, Use{Scheme: "CN-ETS", ComplianceYear: 2024, Obligation: 10000},
			want{true, 500, false, map[string]string{"CN-ETS.pre-2017-ccer": OutcomePass}}},
		{"CN: pre-2017 CCER surrendered on 1 Jan 2025 for the 2024 cycle", Unit{Instrument: "CCER", Host: "CN", Vintage: 2016, Registered: "2016-05-10"}, Use{Scheme: "CN-ETS", ComplianceYear: 2024, Obligation: 10000, Date: "2025-01-01"},
			want{false, 0, false, map[string]string{"CN-ETS.pre-2017-ccer": OutcomeFail}}},
		{"CN: CCER claimed from Viet Nam", Unit{Instrument: "CCER", Host: "VN", Vintage: 2024, Registered: "2024-06-01"}, Use{Scheme: "CN-ETS", ComplianceYear: 2025, Obligation: 10000},
			want{false, 0, false, map[string]string{"CN-ETS.ccer-domestic": OutcomeFail}}},
		{"CN: own allowance", Unit{Instrument: "CEA", Host: "CN", Vintage: 2024}, Use{Scheme: "CN-ETS", ComplianceYear: 2025, Obligation: 10000},
			want{true, 10000, true, map[string]string{"CN-ETS.allowance": OutcomeInfo, "CN-ETS.offset-cap": ""}}},

		{"SG: authorised VCU from Thailand", vcuTH, Use{Scheme: "SG-CT", ComplianceYear: 2026, Obligation: 100000},
			want{true, 5000, true, map[string]string{"SG-CT.icc-cap": OutcomePass, "SG-CT.host": OutcomeCondition, "SG-CT.authorised-ca": OutcomePass, "GLOBAL.th-international-transfer": OutcomeCondition}}},
		{"SG: not authorised", Unit{Instrument: "VCU", Host: "TH", Vintage: 2023}, Use{Scheme: "SG-CT", ComplianceYear: 2026, Obligation: 100000},
			want{false, 0, true, map[string]string{"SG-CT.authorised-ca": OutcomeFail}}},
		{"SG: authorised without CA", Unit{Instrument: "VCU", Host: "TH", Vintage: 2023, Authorised: true}, Use{Scheme: "SG-CT", ComplianceYear: 2026, Obligation: 100000},
			want{false, 0, true, map[string]string{"SG-CT.authorised-ca": OutcomeFail}}},
		{"SG: host without agreement", Unit{Instrument: "GS-VER", Host: "CN", Vintage: 2023, Authorised: true, CorrespondingAdjustment: true}, Use{Scheme: "SG-CT", ComplianceYear: 2026, Obligation: 100000},
			want{false, 0, true, map[string]string{"SG-CT.host": OutcomeFail}}},
		{"SG: vintage 2020", Unit{Instrument: "VCU", Host: "GH", Vintage: 2020, Authorised: true, CorrespondingAdjustment: true}, Use{Scheme: "SG-CT", ComplianceYear: 2026, Obligation: 100000},
			want{false, 0, true, map[string]string{"SG-CT.vintage": OutcomeFail, "GLOBAL.article6-vintage": OutcomeFail}}},
		{"SG: vintage 2031", Unit{Instrument: "VCU", Host: "GH", Vintage: 2031, Authorised: true, CorrespondingAdjustment: true}, Use{Scheme: "SG-CT", ComplianceYear: 2026, Obligation: 100000},
			want{false, 0, true, map[string]string{"SG-CT.vintage": OutcomeFail}}},
		// Ghana's list admits GS4GG and VCS only (Quantum, 15 Jul 2024): a
		// VCU passes the host's list instead of leaving it to be checked.
		{"SG: Ghanaian VCU on Ghana's Eligibility List", Unit{Instrument: "VCU", Host: "GH", Vintage: 2025, Authorised: true, CorrespondingAdjustment: true}, Use{Scheme: "SG-CT", ComplianceYear: 2026, Obligation: 100000},
			want{true, 5000, true, map[string]string{"SG-CT.host": OutcomePass}}},
		// Thailand's own Eligibility List decides, and its programmes are
		// not captured: a condition on both rules, never a failure on the
		// programmes of Bhutan's or PNG's lists (newcomer review).
		{"SG: T-VER from Thailand, whose list is not captured", Unit{Instrument: "PREMIUM-T-VER", Host: "TH", Vintage: 2024, Authorised: true, CorrespondingAdjustment: true}, Use{Scheme: "SG-CT", ComplianceYear: 2026, Obligation: 100000},
			want{true, 5000, true, map[string]string{"SG-CT.programme": OutcomeCondition, "SG-CT.host": OutcomeCondition}}},
		// PNG's list is captured (GS, VCS, ACR, GCC): it decides a VCS
		// credit from PNG (TestEligibilityListOfTheHost cuts it).
		{"SG: VCS from PNG, on PNG's list", Unit{Instrument: "VCU", Host: "PG", Vintage: 2024, Authorised: true, CorrespondingAdjustment: true}, Use{Scheme: "SG-CT", ComplianceYear: 2026, Obligation: 100000},
			want{true, 5000, false, map[string]string{"SG-CT.programme": OutcomePass, "SG-CT.host": OutcomePass}}}, // PNG's pass is unverified: no call under its agreement found
		{"SG: before the ICC framework (no agreement was operational yet either)", vcuTH, Use{Scheme: "SG-CT", ComplianceYear: 2023, Obligation: 100000},
			want{false, 0, true, map[string]string{"SG-CT.host": OutcomeFail}}},
		// Singapore: credits must fit the Eligibility List of an
		// operational implementation agreement; signing is not enough.
		// Thailand's became operational on 31 March 2026 (DPM Gan, COS 2026).
		{"SG: Thai credit the day before Thailand's agreement is operational", vcuTH, Use{Scheme: "SG-CT", ComplianceYear: 2026, Obligation: 100000, Date: "2026-03-30"},
			want{false, 0, true, map[string]string{"SG-CT.host": OutcomeFail}}},
		// Thailand's Eligibility List (18 Nov 2025) was not captured: its
		// programmes are a condition to check, not a pass.
		{"SG: Thai credit on the day Thailand's agreement is operational", vcuTH, Use{Scheme: "SG-CT", ComplianceYear: 2026, Obligation: 100000, Date: "2026-03-31"},
			want{true, 5000, true, map[string]string{"SG-CT.host": OutcomeCondition}}},
		{"SG: Thai credit for the 2025 tax year, by default judged on 31 Dec 2025", vcuTH, Use{Scheme: "SG-CT", ComplianceYear: 2025, Obligation: 100000},
			want{false, 0, true, map[string]string{"SG-CT.host": OutcomeFail}}},
		{"SG: Chile signed, no operational agreement found", Unit{Instrument: "VCU", Host: "CL", Vintage: 2025, Authorised: true, CorrespondingAdjustment: true}, Use{Scheme: "SG-CT", ComplianceYear: 2026, Obligation: 100000},
			want{false, 0, false, map[string]string{"SG-CT.host": OutcomeFail}}},
		{"SG: Mongolia signed, no operational agreement found", Unit{Instrument: "GS-VER", Host: "MN", Vintage: 2025, Authorised: true, CorrespondingAdjustment: true}, Use{Scheme: "SG-CT", ComplianceYear: 2026, Obligation: 100000},
			want{false, 0, false, map[string]string{"SG-CT.host": OutcomeFail}}},
		// PNG's Eligibility List is in force from 1 Jan 2024, but no call for
		// projects under its agreement was found (MSE, 30 Jan 2026: the four
		// calls were Ghana, Peru, Bhutan, Rwanda), so the pass is unconfirmed.
		{"SG: Papua New Guinea's list in force from 1 Jan 2024, no call for projects found", Unit{Instrument: "VCU", Host: "PG", Vintage: 2022, Authorised: true, CorrespondingAdjustment: true}, Use{Scheme: "SG-CT", ComplianceYear: 2024, Obligation: 100000},
			want{true, 5000, false, map[string]string{"SG-CT.host": OutcomePass}}},
		// Rwanda's call for projects opened on 30 Jan 2026 (MSE release of
		// that day); its Eligibility List was not captured: a condition.
		{"SG: Rwandan credit the day before Rwanda's call for projects", Unit{Instrument: "VCU", Host: "RW", Vintage: 2025, Authorised: true, CorrespondingAdjustment: true}, Use{Scheme: "SG-CT", ComplianceYear: 2026, Obligation: 100000, Date: "2026-01-29"},
			want{false, 0, true, map[string]string{"SG-CT.host": OutcomeFail}}},
		{"SG: Rwandan credit on the day of Rwanda's call for projects", Unit{Instrument: "VCU", Host: "RW", Vintage: 2025, Authorised: true, CorrespondingAdjustment: true}, Use{Scheme: "SG-CT", ComplianceYear: 2026, Obligation: 100000, Date: "2026-01-30"},
			want{true, 5000, true, map[string]string{"SG-CT.host": OutcomeCondition}}},
		// Bhutan's call came before Rwanda's (the third); its date was not
		// found, so 30 Jan 2026 bounds it and the pass is unconfirmed.
		{"SG: Bhutanese credit before 30 Jan 2026, the day Bhutan's call is known to be open", Unit{Instrument: "VCU", Host: "BT", Vintage: 2025, Authorised: true, CorrespondingAdjustment: true}, Use{Scheme: "SG-CT", ComplianceYear: 2026, Obligation: 100000, Date: "2026-01-29"},
			want{false, 0, false, map[string]string{"SG-CT.host": OutcomeFail}}},
		{"SG: Bhutanese VCS credit on its list from 30 Jan 2026", Unit{Instrument: "VCU", Host: "BT", Vintage: 2025, Authorised: true, CorrespondingAdjustment: true}, Use{Scheme: "SG-CT", ComplianceYear: 2026, Obligation: 100000, Date: "2026-01-30"},
			want{true, 5000, false, map[string]string{"SG-CT.host": OutcomePass}}},
		{"SG: Peru before its call for projects of 24 Oct 2025", Unit{Instrument: "VCU", Host: "PE", Vintage: 2022, Authorised: true, CorrespondingAdjustment: true}, Use{Scheme: "SG-CT", ComplianceYear: 2025, Obligation: 100000, Date: "2025-10-23"},
			want{false, 0, true, map[string]string{"SG-CT.host": OutcomeFail}}},
		{"SG: Vietnamese credit: agreement signed, not operational", Unit{Instrument: "GS-VER", Host: "VN", Vintage: 2025, Authorised: true, CorrespondingAdjustment: true}, Use{Scheme: "SG-CT", ComplianceYear: 2026, Obligation: 40000},
			want{false, 0, false, map[string]string{"SG-CT.host": OutcomeFail, "GLOBAL.vn-international-transfer": OutcomeCondition}}},
		{"SG: IDX-held units cannot leave IDX", Unit{Instrument: "GS-VER", Host: "ID", Vintage: 2024, Authorised: true, CorrespondingAdjustment: true, Registry: "idx"}, Use{Scheme: "SG-CT", ComplianceYear: 2026, Obligation: 100000},
			want{false, 0, true, map[string]string{"GLOBAL.idx-stay-on-exchange": OutcomeFail}}},

		{"VN: credit under the 30% cap (unverified)", Unit{Instrument: "GS-VER", Host: "VN", Vintage: 2024}, Use{Scheme: "VN-ETS", ComplianceYear: 2025, Obligation: 1001},
			want{true, 300, false, map[string]string{"VN-ETS.offset-cap": OutcomePass, "VN-ETS.eligible-credits": OutcomeCondition, "GLOBAL.vn-international-transfer": ""}}},
		{"VN: own quota", Unit{Instrument: "VN-QUOTA", Host: "VN", Vintage: 2025}, Use{Scheme: "VN-ETS", ComplianceYear: 2025, Obligation: 1001},
			want{true, 1001, true, nil}},

		{"JP: JCM credit from Thailand (unverified 10%)", jcmTH, Use{Scheme: "JP-GX-ETS", ComplianceYear: 2026, Obligation: 200001},
			want{true, 20000, false, map[string]string{"JP-GX-ETS.credit-cap": OutcomePass, "JP-GX-ETS.jcm-partner": OutcomePass}}},
		{"JP: JCM host outside the partial list is a condition", Unit{Instrument: "JCM-CREDIT", Host: "MN", Vintage: 2025}, Use{Scheme: "JP-GX-ETS", ComplianceYear: 2026, Obligation: 1000},
			want{true, 100, false, map[string]string{"JP-GX-ETS.jcm-partner": OutcomeCondition}}},
		{"JP: VCU not usable", Unit{Instrument: "VCU", Host: "TH", Vintage: 2025}, Use{Scheme: "JP-GX-ETS", ComplianceYear: 2026, Obligation: 1000},
			want{false, 0, false, map[string]string{"JP-GX-ETS.credit-instrument": OutcomeFail}}},
		{"JP: authorised JCM of 2020 is no ITMO", Unit{Instrument: "JCM-CREDIT", Host: "TH", Vintage: 2020, Authorised: true}, Use{Scheme: "JP-GX-ETS", ComplianceYear: 2026, Obligation: 1000},
			want{false, 0, false, map[string]string{"GLOBAL.article6-vintage": OutcomeFail}}},
		{"JP: before the mandatory phase", jcmTH, Use{Scheme: "JP-GX-ETS", ComplianceYear: 2025, Obligation: 1000},
			want{false, 0, false, map[string]string{"JP-GX-ETS.credit-cap": OutcomeFail}}},

		{"ID: SPE-GRK on IDX, no cap found", Unit{Instrument: "SPE-GRK", Host: "ID", Vintage: 2024, Registry: "IDX"}, Use{Scheme: "ID-ETS", ComplianceYear: 2025, Obligation: 5000, AlreadyUsed: 1000},
			want{true, 4000, false, map[string]string{"GLOBAL.idx-stay-on-exchange": OutcomePass, "ID-ETS.no-cap-found": OutcomeCondition}}},
		{"ID: T-VER not an Indonesian offset", Unit{Instrument: "T-VER", Host: "TH", Vintage: 2024}, Use{Scheme: "ID-ETS", ComplianceYear: 2025, Obligation: 5000},
			want{false, 0, false, map[string]string{"ID-ETS.offset-instrument": OutcomeFail}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := rb.Eligibility(EligibilityRequest{Unit: tt.unit, Use: tt.use})
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed != tt.want.allowed || d.MaxQuantity != tt.want.max || d.Confirmed != tt.want.confirmed {
				t.Errorf("allowed=%v max=%d confirmed=%v, want %v %d %v", d.Allowed, d.MaxQuantity, d.Confirmed, tt.want.allowed, tt.want.max, tt.want.confirmed)
			}
			for rule, want := range tt.want.outcomes {
				if got := outcomeOf(d, rule); got != want {
					t.Errorf("rule %s: outcome %q, want %q", rule, got, want)
				}
			}
			for _, r := range d.Reasons {
				if r.Cite.Title == "" {
					t.Errorf("reason %s has no source", r.Rule)
				}
				if r.Status == StatusUnverified && !strings.Contains(r.String(), "UNVERIFIED") {
					t.Errorf("reason %s is unverified but does not say so: %s", r.Rule, r)
				}
			}
			if t.Failed() {
				for _, r := range d.Reasons {
					t.Log(r)
				}
			}
		})
	}
}

func TestEligibilityGrantsRequestedQuantityUpToMax(t *testing.T) {
	rb := mustDefault(t)
	req := EligibilityRequest{
		Unit: Unit{Instrument: "CCER", Host: "CN", Vintage: 2024, Registered: "2024-06-01", Quantity: 1000},
		Use:  Use{Scheme: "CN-ETS", ComplianceYear: 2025, Obligation: 12345},
	}
	d, err := rb.Eligibility(req)
	if err != nil {
		t.Fatal(err)
	}
	if d.Requested != 1000 || d.Granted != 617 {
		t.Errorf("requested %d granted %d, want 1000 and 617", d.Requested, d.Granted)
	}
	req.Unit.Quantity = 100
	if d, _ = rb.Eligibility(req); d.Granted != 100 {
		t.Errorf("granted %d, want 100", d.Granted)
	}
}

func TestEligibilityRejectsBadInput(t *testing.T) {
	rb := mustDefault(t)
	good := EligibilityRequest{
		Unit: Unit{Instrument: "CCER", Host: "CN", Vintage: 2024, Registered: "2024-06-01"},
		Use:  Use{Scheme: "CN-ETS", ComplianceYear: 2025, Obligation: 1000},
	}
	tests := []struct {
		name   string
		mutate func(*EligibilityRequest)
		field  string
	}{
		{"no instrument", func(r *EligibilityRequest) { r.Unit.Instrument = "" }, "unit.instrument"},
		{"unknown instrument", func(r *EligibilityRequest) { r.Unit.Instrument = "EUA" }, "unit.instrument"},
		{"programme mismatch", func(r *EligibilityRequest) { r.Unit.Programme = "VCS" }, "unit.programme"},
		{"methodology of another programme", func(r *EligibilityRequest) { r.Unit.Methodology = "VCS-CDM-ACM0002" }, "unit.methodology"},
		{"no host", func(r *EligibilityRequest) { r.Unit.Host = "" }, "unit.host"},
		{"unknown host", func(r *EligibilityRequest) { r.Unit.Host = "XX" }, "unit.host"},
		{"vintage zero", func(r *EligibilityRequest) { r.Unit.Vintage = 0 }, "unit.vintage"},
		{"CA without authorisation", func(r *EligibilityRequest) { r.Unit.CorrespondingAdjustment = true }, "unit.corresponding_adjustment"},
		{"negative quantity", func(r *EligibilityRequest) { r.Unit.Quantity = -1 }, "unit.quantity"},
		{"no scheme", func(r *EligibilityRequest) { r.Use.Scheme = "" }, "use.scheme"},
		{"unknown scheme", func(r *EligibilityRequest) { r.Use.Scheme = "EU-ETS" }, "use.scheme"},
		{"year too early", func(r *EligibilityRequest) { r.Use.ComplianceYear = 1999 }, "use.compliance_year"},
		{"negative obligation", func(r *EligibilityRequest) { r.Use.Obligation = -5 }, "use.obligation_tonnes"},
		{"absurd obligation", func(r *EligibilityRequest) { r.Use.Obligation = maxTonnes + 1 }, "use.obligation_tonnes"},
		{"negative used", func(r *EligibilityRequest) { r.Use.AlreadyUsed = -1 }, "use.already_used_tonnes"},
		{"used above obligation", func(r *EligibilityRequest) { r.Use.AlreadyUsed = 1001 }, "use.already_used_tonnes"},
		// The pre-2017 bar turns on the registration date, so a CCER used
		// from 2025 without one cannot be decided.
		{"CCER without registration date", func(r *EligibilityRequest) { r.Unit.Registered = "" }, "unit.registered"},
		{"registration date not a date", func(r *EligibilityRequest) { r.Unit.Registered = "2024-02-30" }, "unit.registered"},
		{"registered after the date of use", func(r *EligibilityRequest) { r.Use.Date = "2025-03-01"; r.Unit.Registered = "2025-03-02" }, "unit.registered"},
		{"date of use not a date", func(r *EligibilityRequest) { r.Use.Date = "31/12/2025" }, "use.date"},
	}
	if _, err := rb.Eligibility(good); err != nil {
		t.Fatalf("the unmodified request fails: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := good
			tt.mutate(&req)
			_, err := rb.Eligibility(req)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("got %v, want *InputError", err)
			}
			if ie.Field != tt.field {
				t.Errorf("field = %q, want %q (%v)", ie.Field, tt.field, err)
			}
		})
	}
}

// TestEligibilityProperties checks invariants over random requests drawn from
// the rulebook's own vocabulary.
func TestEligibilityProperties(t *testing.T) {
	rb := mustDefault(t)
	var instruments, hosts, schemes []string
	for _, in := range rb.Instruments("") {
		instruments = append(instruments, in.Code)
	}
	for _, j := range rb.Jurisdictions() {
		hosts = append(hosts, j.Code)
	}
	for _, s := range rb.Schemes("") {
		schemes = append(schemes, s.ID)
	}
	rapid.Check(t, func(t *rapid.T) {
		obligation := rapid.Int64Range(0, maxTonnes).Draw(t, "obligation")
		authorised := rapid.Bool().Draw(t, "authorised")
		req := EligibilityRequest{
			Unit: Unit{
				Instrument:              rapid.SampledFrom(instruments).Draw(t, "instrument"),
				Host:                    rapid.SampledFrom(hosts).Draw(t, "host"),
				Vintage:                 rapid.IntRange(2010, 2035).Draw(t, "vintage"),
				Authorised:              authorised,
				CorrespondingAdjustment: authorised && rapid.Bool().Draw(t, "ca"),
				Registry:                rapid.SampledFrom([]string{"", "IDX", "VERRA"}).Draw(t, "registry"),
				Quantity:                rapid.Int64Range(0, maxTonnes).Draw(t, "quantity"),
				// Registration dates up to 2019-12-31, never after the
				// earliest day of use drawn below.
				Registered: time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rapid.IntRange(0, 2921).Draw(t, "registered")).Format(time.DateOnly),
			},
			Use: Use{
				Scheme:         rapid.SampledFrom(schemes).Draw(t, "scheme"),
				ComplianceYear: rapid.IntRange(2020, 2032).Draw(t, "year"),
				Obligation:     obligation,
				AlreadyUsed:    rapid.Int64Range(0, obligation).Draw(t, "used"),
				Date:           rapid.SampledFrom([]string{"", "2024-12-31", "2025-01-01", "2026-03-30", "2026-03-31"}).Draw(t, "date"),
			},
		}
		d, err := rb.Eligibility(req)
		if err != nil {
			t.Fatalf("valid request rejected: %v", err)
		}
		if d.MaxQuantity < 0 || d.MaxQuantity > req.Use.Obligation {
			t.Fatalf("max %d outside [0, obligation %d]", d.MaxQuantity, req.Use.Obligation)
		}
		failed := slices.ContainsFunc(d.Reasons, func(r Reason) bool { return r.Outcome == OutcomeFail })
		if d.Allowed == failed || d.Allowed != (d.MaxQuantity > 0) {
			t.Fatalf("allowed=%v with failing rule=%v and max=%d", d.Allowed, failed, d.MaxQuantity)
		}
		if d.Granted > d.MaxQuantity || d.Granted > req.Unit.Quantity {
			t.Fatalf("granted %d exceeds max %d or request %d", d.Granted, d.MaxQuantity, req.Unit.Quantity)
		}
		if d.Cap != nil {
			cap := d.Cap
			r := findRule(rb, cap.Rule)
			share := decimal.NewFromInt(req.Use.Obligation).Mul(*r.Share)
			// The cap never exceeds the share, and misses it by less than a tonne.
			if decimal.NewFromInt(cap.CapTonnes).GreaterThan(share) || share.Sub(decimal.NewFromInt(cap.CapTonnes)).GreaterThanOrEqual(decimal.NewFromInt(1)) {
				t.Fatalf("cap %d is not floor(%s)", cap.CapTonnes, share)
			}
			if d.MaxQuantity+req.Use.AlreadyUsed > cap.CapTonnes && d.MaxQuantity > 0 {
				t.Fatalf("max %d + used %d exceeds cap %d", d.MaxQuantity, req.Use.AlreadyUsed, cap.CapTonnes)
			}
		}
		for _, r := range d.Reasons {
			if r.Status == StatusUnverified && d.Confirmed {
				t.Fatalf("decision confirmed although rule %s is unverified", r.Rule)
			}
		}
	})
}

func findRule(rb *Rulebook, id string) Rule {
	for _, s := range rb.schemes {
		for _, r := range s.Rules {
			if r.ID == id {
				return r
			}
		}
	}
	for _, r := range rb.globalRules {
		if r.ID == id {
			return r
		}
	}
	panic("no rule " + id)
}

func BenchmarkEligibility(b *testing.B) {
	rb := mustDefault(b)
	req := EligibilityRequest{
		Unit: Unit{Instrument: "VCU", Host: "TH", Vintage: 2023, Authorised: true, CorrespondingAdjustment: true, Quantity: 4000},
		Use:  Use{Scheme: "SG-CT", ComplianceYear: 2026, Obligation: 100000},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rb.Eligibility(req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoad(b *testing.B) {
	fsys := embeddedFS(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(fsys); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEligibilityListOfTheHost: a credit must fit the Eligibility List of
// its host's agreement, not only the union of all lists. With PNG's list cut
// to GS4GG and ACR, a VCS credit from PNG fails (on both the agreement rule
// and the programme rule) though VCS is on other lists.
func TestEligibilityListOfTheHost(t *testing.T) {
	fsys := embeddedFS(t)
	raw := string(fsys["schemes.yaml"].Data)
	const list = "programmes: [GS, VCS, ACR, GCC]\n"
	if !strings.Contains(raw, list) {
		t.Fatal("fixture: PNG's programme list moved")
	}
	fsys["schemes.yaml"].Data = []byte(strings.Replace(raw, list, "programmes: [GS, ACR]\n", 1))
	rb, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	req := EligibilityRequest{
		Unit: Unit{Instrument: "VCU", Host: "PG", Vintage: 2022, Authorised: true, CorrespondingAdjustment: true},
		Use:  Use{Scheme: "SG-CT", ComplianceYear: 2024, Obligation: 100000},
	}
	d, err := rb.Eligibility(req)
	if err != nil {
		t.Fatal(err)
	}
	if d.Allowed || outcomeOf(d, "SG-CT.host") != OutcomeFail || outcomeOf(d, "SG-CT.programme") != OutcomeFail {
		t.Errorf("VCS credit from PNG with PNG's list [GS, ACR]: allowed=%v host %q programme %q", d.Allowed, outcomeOf(d, "SG-CT.host"), outcomeOf(d, "SG-CT.programme"))
	}
	req.Unit.Instrument = "GS-VER"
	if d, _ = rb.Eligibility(req); !d.Allowed || outcomeOf(d, "SG-CT.host") != OutcomePass {
		t.Errorf("GS credit from PNG: allowed=%v host %q", d.Allowed, outcomeOf(d, "SG-CT.host"))
	}
}
