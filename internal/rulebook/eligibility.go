package rulebook

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/corridor-carbon/corridor/internal/numfmt"
)

// Unit describes the units someone wants to use.
type Unit struct {
	// Instrument is an instrument code (CCER, VCU, JCM-CREDIT, …).
	Instrument string `json:"instrument"`
	// Programme defaults to the instrument's programme; when given it must match.
	Programme   string `json:"programme,omitempty"`
	Methodology string `json:"methodology,omitempty"`
	// Host is the jurisdiction where the reductions happened.
	Host string `json:"host"`
	// Vintage is the year the reductions happened.
	Vintage                 int  `json:"vintage"`
	Authorised              bool `json:"authorised"`
	CorrespondingAdjustment bool `json:"corresponding_adjustment"`
	// Registry is the registry of record, e.g. IDX for units on IDXCarbon.
	Registry string `json:"registry,omitempty"`
	// Registered is the date (YYYY-MM-DD) the units' emission reductions
	// were registered (备案) by the competent authority. China's bar on old
	// CCERs turns on this date, not on the vintage; a CCER used from
	// 2025-01-01 must give it.
	Registered string `json:"registered,omitempty"`
	// Quantity offered, in tonnes; 0 asks only for the maximum.
	Quantity int64 `json:"quantity,omitempty"`
}

// Use describes where the units would be surrendered.
type Use struct {
	Scheme         string `json:"scheme"`
	Entity         string `json:"entity,omitempty"`
	ComplianceYear int    `json:"compliance_year"`
	// Obligation is the entity's obligation for the year in tonnes, on the
	// scheme's obligation basis (see Scheme.ObligationBasis).
	Obligation int64 `json:"obligation_tonnes"`
	// AlreadyUsed is the quantity of capped credits already used this year.
	AlreadyUsed int64 `json:"already_used_tonnes"`
	// Date is the day the units are surrendered (YYYY-MM-DD); rules that
	// depend on a date (an agreement operational, a registration bar in
	// force) are evaluated on it. Empty means 31 December of the
	// compliance year, and the reasons say so.
	Date string `json:"date,omitempty"`
}

// EligibilityRequest is a unit and a use.
type EligibilityRequest struct {
	Unit Unit `json:"unit"`
	Use  Use  `json:"use"`
}

// Outcomes of one rule in a decision.
const (
	OutcomePass      = "pass"
	OutcomeFail      = "fail"
	OutcomeCondition = "condition"
	OutcomeInfo      = "info"
)

// Reason is one rule's verdict on a request.
type Reason struct {
	Rule    string `json:"rule"`
	Outcome string `json:"outcome"`
	// Status of the rule itself: confirmed or unverified.
	Status string `json:"status"`
	// Finding says what the engine found for this request.
	Finding  string   `json:"finding"`
	RuleText string   `json:"rule_text"`
	Cite     Citation `json:"cite"`
}

// String renders the reason on one line, saying when the rule is unverified.
func (r Reason) String() string {
	flag := ""
	if r.Status == StatusUnverified {
		flag = " [UNVERIFIED rule: source text not confirmed]"
	}
	return fmt.Sprintf("%s %s: %s%s — %s", strings.ToUpper(r.Outcome), r.Rule, r.Finding, flag, r.Cite)
}

// CapDetail shows how a quantitative limit was computed.
type CapDetail struct {
	Rule  string `json:"rule"`
	Share string `json:"share"`
	// Exact is obligation × share before rounding, in tonnes.
	Exact       string `json:"exact_tonnes"`
	CapTonnes   int64  `json:"cap_tonnes"`
	AlreadyUsed int64  `json:"already_used_tonnes"`
	Rounding    string `json:"rounding"`
}

// Decision is the engine's answer.
type Decision struct {
	Allowed bool `json:"allowed"`
	// Confirmed is false when any rule the decision relied on is unverified,
	// or when no quantitative limit was found for the scheme.
	Confirmed  bool   `json:"confirmed"`
	Scheme     string `json:"scheme"`
	Instrument string `json:"instrument"`
	// MaxQuantity is the most this entity may still use this year, in whole
	// tonnes (0 when not allowed).
	MaxQuantity int64      `json:"max_quantity_tonnes"`
	Cap         *CapDetail `json:"cap,omitempty"`
	// Requested and Granted are set when the unit names a quantity.
	Requested       int64    `json:"requested_tonnes,omitempty"`
	Granted         int64    `json:"granted_tonnes"`
	Reasons         []Reason `json:"reasons"`
	RulebookVersion string   `json:"rulebook_version"`
	// Date is the day date-dependent rules were evaluated on: use.date, or
	// 31 December of the compliance year when none was given.
	Date string `json:"date"`
}

// InputError is a bad request field; Field names it with its JSON path.
type InputError struct {
	Field   string
	Problem string
}

func (e *InputError) Error() string { return fmt.Sprintf("rulebook: %s: %s", e.Field, e.Problem) }

// Bounds on request numbers: beyond them a value is a typo, not an emitter.
const (
	minYear = 1990
	maxYear = 2100
	// maxTonnes is ten times the world's annual emissions, rounded up.
	maxTonnes = 1_000_000_000_000
)

// Eligibility decides whether the unit may be used toward the use, and how
// much of it. It is a pure function of the rulebook and the request.
//
// Rounding: a cap of share × obligation is rounded down to whole tonnes,
// because units are whole tonnes and the rules say the share "may not be
// exceeded" (rounding up would exceed it); e.g. 5% of 12,345 t = 617.25 t
// gives 617 t. The maximum is that cap less the quantity already used,
// never below zero.
func (rb *Rulebook) Eligibility(req EligibilityRequest) (Decision, error) {
	u, use := req.Unit, req.Use
	in, scheme, err := rb.checkRequest(&u, &use)
	if err != nil {
		return Decision{}, err
	}
	dateGiven := use.Date != ""
	if !dateGiven {
		use.Date = fmt.Sprintf("%04d-12-31", use.ComplianceYear)
	}
	d := Decision{Scheme: scheme.ID, Instrument: in.Code, Confirmed: true, Requested: u.Quantity, RulebookVersion: rb.Version(), Date: use.Date}
	addCited := func(r Rule, outcome, finding, status string, cite Citation) {
		d.Reasons = append(d.Reasons, Reason{Rule: r.ID, Outcome: outcome, Status: status, Finding: finding, RuleText: r.Text, Cite: cite})
		if status != StatusConfirmed {
			d.Confirmed = false
		}
	}
	add := func(r Rule, outcome, finding string) { addCited(r, outcome, finding, r.Status, r.Cite) }

	ownAllowance := slices.Contains(scheme.Allowances, in.Code)
	var caps []Rule
	rules := scheme.Rules
	if ownAllowance {
		rules = nil
		d.Reasons = append(d.Reasons, Reason{Rule: scheme.ID + ".allowance", Outcome: OutcomeInfo, Status: StatusConfirmed,
			Finding: fmt.Sprintf("%s is %s's own allowance: no offset limit applies.", in.Code, scheme.ID), RuleText: scheme.Description, Cite: scheme.Cite})
	}
	var notYet *Rule // a cap that would apply in a later compliance year
	// A scheme whose eligible programmes are set per host, by each host's
	// agreement and its Eligibility List, has them judged against the
	// unit's host only (evaluateHostProgramme).
	perHost := hostAgreementRule(rules)
	for _, group := range [2][]Rule{rules, rb.globalRules} {
		for _, r := range group {
			if !applies(r, u, in, scheme, use.ComplianceYear) {
				if r.Kind == KindQuantityCap && r.FromYear > use.ComplianceYear && applies(r, u, in, scheme, r.FromYear) {
					notYet = &r
				}
				continue
			}
			switch r.Kind {
			case KindQuantityCap:
				caps = append(caps, r)
			case KindHostAgreement:
				outcome, finding, a := evaluateAgreement(r, u.Host, u.Programme, use.Date, dateGiven)
				if a == nil {
					add(r, outcome, finding)
				} else {
					addCited(r, outcome, finding, a.Status, a.Cite)
				}
			case KindProgrammeAllowed:
				if perHost == nil {
					outcome, finding := evaluate(r, u, in, scheme)
					add(r, outcome, finding)
					break
				}
				// The host's agreement is the source, as for the
				// host_agreement rule: its status and citation go with it.
				if outcome, finding, a := evaluateHostProgramme(r, *perHost, u.Host, u.Programme); a != nil {
					addCited(r, outcome, finding, a.Status, a.Cite)
				} else {
					add(r, outcome, finding)
				}
			case KindRegistrationCutoff:
				outcome, finding, err := evaluateCutoff(r, u, use.Date, dateGiven)
				if err != nil {
					return Decision{}, err
				}
				add(r, outcome, finding)
			default:
				outcome, finding := evaluate(r, u, in, scheme)
				add(r, outcome, finding)
			}
		}
	}

	failed := slices.ContainsFunc(d.Reasons, func(r Reason) bool { return r.Outcome == OutcomeFail })
	remaining := use.Obligation - use.AlreadyUsed
	switch {
	case failed:
		// Not usable at all: no quantity to compute.
	case ownAllowance:
		d.MaxQuantity = use.Obligation
	case len(caps) == 0 && notYet != nil:
		// The cap's from_year is when credit use under the scheme begins.
		add(*notYet, OutcomeFail, fmt.Sprintf("Credits may not be used under this rule before compliance year %d.", notYet.FromYear))
	case len(caps) == 0:
		d.MaxQuantity = remaining
		d.Confirmed = false
		d.Reasons = append(d.Reasons, Reason{Rule: scheme.ID + ".no-cap-found", Outcome: OutcomeCondition, Status: StatusUnverified,
			Finding:  fmt.Sprintf("No quantitative limit found in Corridor's sources; the maximum shown is the remaining obligation (%s t).", numfmt.Int(remaining)),
			RuleText: "No rule found.", Cite: scheme.Cite})
	default:
		d.Cap = bindingCap(caps, use)
		d.MaxQuantity = max(0, d.Cap.CapTonnes-use.AlreadyUsed)
		for _, r := range caps {
			outcome := OutcomePass
			finding := fmt.Sprintf("%s; %s t already used leaves %s t.", d.Cap.Rounding, numfmt.Int(use.AlreadyUsed), numfmt.Int(d.MaxQuantity))
			if r.ID != d.Cap.Rule {
				outcome, finding = OutcomeInfo, "A tighter limit applies: "+d.Cap.Rule+"."
			} else if d.MaxQuantity == 0 {
				outcome = OutcomeFail
			}
			add(r, outcome, finding)
		}
	}
	if !slices.ContainsFunc(d.Reasons, func(r Reason) bool { return r.Outcome == OutcomeFail }) && d.MaxQuantity == 0 {
		d.Reasons = append(d.Reasons, Reason{Rule: scheme.ID + ".obligation", Outcome: OutcomeFail, Status: StatusConfirmed,
			Finding: "Nothing left to cover: the remaining obligation is 0 t.", RuleText: scheme.ObligationBasis, Cite: scheme.Cite})
	}
	d.Allowed = !slices.ContainsFunc(d.Reasons, func(r Reason) bool { return r.Outcome == OutcomeFail })
	if !d.Allowed {
		d.MaxQuantity = 0
	}
	if u.Quantity > 0 && d.Allowed {
		d.Granted = min(u.Quantity, d.MaxQuantity)
	}
	return d, nil
}

// checkRequest validates and normalises the request in place.
func (rb *Rulebook) checkRequest(u *Unit, use *Use) (*Instrument, *Scheme, error) {
	bad := func(field, format string, args ...any) error {
		return &InputError{Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	u.Instrument, u.Programme, u.Host, u.Registry = normCode(u.Instrument), normCode(u.Programme), normCode(u.Host), normCode(u.Registry)
	use.Scheme = normCode(use.Scheme)
	if u.Instrument == "" {
		return nil, nil, bad("unit.instrument", "missing")
	}
	in, ok := rb.instrumentByID[u.Instrument]
	if !ok {
		return nil, nil, bad("unit.instrument", "unknown instrument %q (known: %s)", u.Instrument, strings.Join(sortedKeys(rb.instrumentByID), ", "))
	}
	if u.Programme == "" {
		u.Programme = in.Programme
	} else if u.Programme != in.Programme {
		return nil, nil, bad("unit.programme", "%q does not match instrument %s, which belongs to programme %s", u.Programme, in.Code, in.Programme)
	}
	u.Methodology = strings.TrimSpace(u.Methodology)
	for _, m := range rb.methodologies {
		// Methodology records are partial: an unknown code is accepted, a
		// known one must belong to the unit's programme.
		if strings.EqualFold(m.Code, u.Methodology) && m.Programme != u.Programme {
			return nil, nil, bad("unit.methodology", "%s is a %s methodology, not %s", m.Code, m.Programme, u.Programme)
		}
	}
	if u.Host == "" {
		return nil, nil, bad("unit.host", "missing: the jurisdiction where the reductions happened")
	}
	if _, ok := rb.jurisdictionByID[u.Host]; !ok {
		return nil, nil, bad("unit.host", "unknown jurisdiction %q (known: %s)", u.Host, strings.Join(sortedKeys(rb.jurisdictionByID), ", "))
	}
	if u.Vintage < minYear || u.Vintage > maxYear {
		return nil, nil, bad("unit.vintage", "must be a year between %d and %d, not %d", minYear, maxYear, u.Vintage)
	}
	if u.CorrespondingAdjustment && !u.Authorised {
		return nil, nil, bad("unit.corresponding_adjustment", "a corresponding adjustment requires an authorised unit")
	}
	if u.Quantity < 0 || u.Quantity > maxTonnes {
		return nil, nil, bad("unit.quantity", "must be between 0 and %s tonnes, not %d", numfmt.Int(maxTonnes), u.Quantity)
	}
	if use.Scheme == "" {
		return nil, nil, bad("use.scheme", "missing")
	}
	scheme, ok := rb.schemeByID[use.Scheme]
	if !ok {
		return nil, nil, bad("use.scheme", "unknown scheme %q (known: %s)", use.Scheme, strings.Join(sortedKeys(rb.schemeByID), ", "))
	}
	if use.ComplianceYear < 2000 || use.ComplianceYear > maxYear {
		return nil, nil, bad("use.compliance_year", "must be a year between 2000 and %d, not %d", maxYear, use.ComplianceYear)
	}
	if use.Obligation < 0 || use.Obligation > maxTonnes {
		return nil, nil, bad("use.obligation_tonnes", "must be between 0 and %s tonnes, not %d", numfmt.Int(maxTonnes), use.Obligation)
	}
	if use.AlreadyUsed < 0 {
		return nil, nil, bad("use.already_used_tonnes", "must not be negative, not %d", use.AlreadyUsed)
	}
	if use.AlreadyUsed > use.Obligation {
		return nil, nil, bad("use.already_used_tonnes", "%d exceeds the obligation of %d tonnes", use.AlreadyUsed, use.Obligation)
	}
	u.Registered, use.Date = strings.TrimSpace(u.Registered), strings.TrimSpace(use.Date)
	if err := checkDate(u.Registered); err != nil {
		return nil, nil, bad("unit.registered", "%v", err)
	}
	if err := checkDate(use.Date); err != nil {
		return nil, nil, bad("use.date", "%v", err)
	}
	if use.Date != "" && u.Registered > use.Date {
		return nil, nil, bad("unit.registered", "%s is after the date of use %s: units cannot be used before they are registered", u.Registered, use.Date)
	}
	return in, scheme, nil
}

// applies reports whether a rule's filters select this request.
func applies(r Rule, u Unit, in *Instrument, s *Scheme, year int) bool {
	if r.FromYear != 0 && year < r.FromYear || r.ToYear != 0 && year > r.ToYear {
		return false
	}
	if len(r.OnlyFor) > 0 && !slices.Contains(r.OnlyFor, in.Code) {
		return false
	}
	if len(r.OnlyForHosts) > 0 && !slices.Contains(r.OnlyForHosts, u.Host) {
		return false
	}
	if r.OnlyIfAuthorised && !u.Authorised {
		return false
	}
	if r.OnlyCrossBorder && s.Jurisdiction == u.Host {
		return false
	}
	if r.Kind == KindRegistryLock && u.Registry != r.Registry {
		return false
	}
	if r.Kind == KindQuantityCap && len(r.Instruments) > 0 && !slices.Contains(r.Instruments, in.Code) {
		return false
	}
	return true
}

// evaluate applies one non-quantity rule.
func evaluate(r Rule, u Unit, in *Instrument, s *Scheme) (outcome, finding string) {
	switch r.Kind {
	case KindInstrumentAllowed:
		if slices.Contains(r.Instruments, in.Code) {
			return OutcomePass, fmt.Sprintf("%s is an eligible instrument.", in.Code)
		}
		return OutcomeFail, fmt.Sprintf("%s is not eligible; eligible: %s.", in.Code, strings.Join(r.Instruments, ", "))
	case KindProgrammeAllowed:
		if slices.Contains(r.Programmes, u.Programme) {
			return OutcomePass, fmt.Sprintf("Programme %s is eligible.", u.Programme)
		}
		return OutcomeFail, fmt.Sprintf("Programme %s is not eligible; eligible: %s.", u.Programme, strings.Join(r.Programmes, ", "))
	case KindHostAllowed:
		switch {
		case slices.Contains(r.Hosts, u.Host):
			return OutcomePass, fmt.Sprintf("Host %s is eligible.", u.Host)
		case r.HostsComplete:
			return OutcomeFail, fmt.Sprintf("Host %s is not eligible; eligible: %s.", u.Host, strings.Join(r.Hosts, ", "))
		default:
			return OutcomeCondition, fmt.Sprintf("Host %s is not in Corridor's partial list (%s); confirm with the scheme.", u.Host, strings.Join(r.Hosts, ", "))
		}
	case KindVintageWindow:
		if r.VintageFrom != 0 && u.Vintage < r.VintageFrom {
			return OutcomeFail, fmt.Sprintf("Vintage %d is before %d.", u.Vintage, r.VintageFrom)
		}
		if r.VintageTo != 0 && u.Vintage > r.VintageTo {
			return OutcomeFail, fmt.Sprintf("Vintage %d is after %d.", u.Vintage, r.VintageTo)
		}
		return OutcomePass, fmt.Sprintf("Vintage %d is within %s.", u.Vintage, window(r.VintageFrom, r.VintageTo))
	case KindAuthorisation:
		switch {
		case !u.Authorised:
			return OutcomeFail, "The unit is not authorised by its host."
		case r.RequireCA && !u.CorrespondingAdjustment:
			return OutcomeFail, "The unit is authorised but carries no corresponding adjustment."
		}
		return OutcomePass, "Authorised and correspondingly adjusted."
	case KindRegistryLock:
		if slices.Contains(r.AllowedJurisdictions, s.Jurisdiction) {
			return OutcomePass, fmt.Sprintf("Registry %s allows use in %s.", u.Registry, s.Jurisdiction)
		}
		return OutcomeFail, fmt.Sprintf("Units held on %s cannot leave it for use in %s (%s).", u.Registry, s.Jurisdiction, s.ID)
	default: // KindCondition
		return OutcomeCondition, "To be satisfied; Corridor cannot check it from the unit's attributes."
	}
}

// checkDate accepts "" or a real date YYYY-MM-DD within the request bounds.
func checkDate(s string) error {
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return fmt.Errorf("must be a date YYYY-MM-DD, not %q", s)
	}
	if t.Year() < minYear || t.Year() > maxYear {
		return fmt.Errorf("must be a date between %d and %d, not %s", minYear, maxYear, s)
	}
	return nil
}

// onDate says which day a date-dependent finding was evaluated on.
func onDate(date string, given bool) string {
	if given {
		return "on " + date
	}
	return "on " + date + " (end of the compliance year; give use.date for the day of surrender)"
}

// evaluateAgreement decides a host_agreement rule on the date of use. The
// agreement found, if any, supplies the reason's status and citation: the
// rule may be confirmed while one host's operational date is not.
func evaluateAgreement(r Rule, host, programme, date string, given bool) (outcome, finding string, a *Agreement) {
	for i := range r.Agreements {
		if r.Agreements[i].Host == host {
			a = &r.Agreements[i]
			break
		}
	}
	when := onDate(date, given)
	switch {
	case a == nil:
		hosts := make([]string, len(r.Agreements))
		for i, x := range r.Agreements {
			hosts[i] = x.Host
		}
		return OutcomeFail, fmt.Sprintf("Host %s has no agreement (agreements: %s).", host, strings.Join(hosts, ", ")), nil
	case a.OperationalFrom == "":
		return OutcomeFail, fmt.Sprintf("Host %s signed its agreement on %s, but no date on which it became operational was found: no Eligibility List is in force %s.%s", host, a.Signed, when, noteSuffix(a.Note)), a
	case date < a.OperationalFrom:
		return OutcomeFail, fmt.Sprintf("Host %s's agreement (signed %s) is operational only from %s: not yet %s.%s", host, a.Signed, a.OperationalFrom, when, noteSuffix(a.Note)), a
	}
	list := ""
	if a.EligibilityList != "" {
		list = " (Eligibility List published " + a.EligibilityList + ")"
	}
	operational := fmt.Sprintf("Host %s's agreement is operational since %s%s, %s", host, a.OperationalFrom, list, when)
	switch {
	case len(a.Programmes) == 0:
		return OutcomeCondition, fmt.Sprintf("%s; the programmes on its Eligibility List were not captured: check programme %s and the methodology against the list.%s", operational, programme, noteSuffix(a.Note)), a
	case !slices.Contains(a.Programmes, programme):
		return OutcomeFail, fmt.Sprintf("%s, but programme %s is not on its Eligibility List (%s).%s", operational, programme, strings.Join(a.Programmes, ", "), noteSuffix(a.Note)), a
	}
	return OutcomePass, fmt.Sprintf("%s; programme %s is on its Eligibility List, and the methodology must be too.%s", operational, programme, noteSuffix(a.Note)), a
}

// hostAgreementRule returns the scheme's host_agreement rule, or nil.
func hostAgreementRule(rules []Rule) *Rule {
	for i := range rules {
		if rules[i].Kind == KindHostAgreement {
			return &rules[i]
		}
	}
	return nil
}

// evaluateHostProgramme decides a programme_allowed rule of a scheme whose
// Eligibility Lists are per host (Singapore's ICC: each implementation
// agreement has its own list). Only the unit's host's list decides: a
// programme on it passes and one missing from it fails; where that list's
// programmes are not captured (or the host has no agreement, which the
// host_agreement rule fails), the answer is a condition, never a failure
// on the union of other hosts' lists that the rule carries.
func evaluateHostProgramme(r Rule, hostRule Rule, host, programme string) (outcome, finding string, a *Agreement) {
	for i := range hostRule.Agreements {
		if hostRule.Agreements[i].Host == host {
			a = &hostRule.Agreements[i]
			break
		}
	}
	switch {
	case a != nil && len(a.Programmes) > 0 && slices.Contains(a.Programmes, programme):
		return OutcomePass, fmt.Sprintf("Programme %s is on host %s's Eligibility List (%s).", programme, host, strings.Join(a.Programmes, ", ")), a
	case a != nil && len(a.Programmes) > 0:
		return OutcomeFail, fmt.Sprintf("Programme %s is not on host %s's Eligibility List (%s).", programme, host, strings.Join(a.Programmes, ", ")), a
	case a != nil:
		return OutcomeCondition, fmt.Sprintf("Programme %s is judged against host %s's own Eligibility List, whose programmes Corridor has not captured: check it there. The programmes this rule lists (%s) come from other hosts' lists and do not decide it.", programme, host, strings.Join(r.Programmes, ", ")), a
	}
	return OutcomeCondition, fmt.Sprintf("Programme %s would be judged against host %s's Eligibility List, and %s has no agreement (see %s).", programme, host, host, hostRule.ID), nil
}

func noteSuffix(note string) string {
	if note == "" {
		return ""
	}
	return " " + note
}

// evaluateCutoff decides a registration_cutoff rule. The registration date
// is required once the bar is in force, because the vintage says nothing
// about it.
func evaluateCutoff(r Rule, u Unit, date string, given bool) (outcome, finding string, err error) {
	when := onDate(date, given)
	if date < r.UseFrom {
		return OutcomePass, fmt.Sprintf("The bar on units registered before %s applies from %s; not yet %s.", r.RegisteredBefore, r.UseFrom, when), nil
	}
	if u.Registered == "" {
		return "", "", &InputError{Field: "unit.registered", Problem: fmt.Sprintf("missing: %s units registered before %s may not be used from %s (%s), so the registration date is needed; the vintage does not decide it", u.Instrument, r.RegisteredBefore, r.UseFrom, r.ID)}
	}
	if u.Registered < r.RegisteredBefore {
		return OutcomeFail, fmt.Sprintf("Registered on %s, before %s: not usable from %s, %s.", u.Registered, r.RegisteredBefore, r.UseFrom, when), nil
	}
	return OutcomePass, fmt.Sprintf("Registered on %s, not before %s.", u.Registered, r.RegisteredBefore), nil
}

func window(from, to int) string {
	switch {
	case from != 0 && to != 0:
		return fmt.Sprintf("%d–%d", from, to)
	case from != 0:
		return fmt.Sprintf("%d onwards", from)
	default:
		return fmt.Sprintf("up to %d", to)
	}
}

// bindingCap computes every applicable cap and returns the smallest.
func bindingCap(caps []Rule, use Use) *CapDetail {
	var best *CapDetail
	obligation := decimal.NewFromInt(use.Obligation)
	for _, r := range caps {
		exact := obligation.Mul(*r.Share)
		// Round down: see Eligibility's doc comment.
		capT := exact.Floor().IntPart()
		pct := r.Share.Shift(2).String()
		c := &CapDetail{
			Rule: r.ID, Share: r.Share.String(), Exact: exact.String(), CapTonnes: capT, AlreadyUsed: use.AlreadyUsed,
			Rounding: fmt.Sprintf("%s%% of %s t = %s t, rounded down to %s t (whole units; rounding up would exceed the limit)",
				pct, numfmt.Int(use.Obligation), numfmt.Decimal(exact), numfmt.Int(capT)),
		}
		if best == nil || c.CapTonnes < best.CapTonnes {
			best = c
		}
	}
	return best
}
