// Package agreements holds the corridor's agreements as data: which unit
// types may move between which registries and for what purpose, each with
// its source, and the query the hub's checks ask before a transfer.
package agreements

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"
)

//go:embed data/agreements.yaml
var defaultData []byte

// Status of an agreement.
type Status string

const (
	// StatusProposal: proposed (the mission's pilots), no official source;
	// transfers allowed and flagged.
	StatusProposal Status = "proposal"
	// StatusSigned: signed but not usable yet.
	StatusSigned Status = "signed"
	// StatusOperational: transfers allowed from the operational date.
	StatusOperational Status = "operational"
)

// Kind of an agreement.
type Kind string

const (
	KindPilot                   Kind = "pilot"
	KindImplementationAgreement Kind = "implementation_agreement"
	KindJCM                     Kind = "jcm"
	KindBilateral               Kind = "bilateral"
)

// Date is a calendar day (UTC) as written in the data file.
type Date struct{ time.Time }

// UnmarshalYAML reads YYYY-MM-DD.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	t, err := time.Parse(time.DateOnly, n.Value)
	if err != nil {
		return fmt.Errorf("line %d: date %q is not YYYY-MM-DD", n.Line, n.Value)
	}
	d.Time = t
	return nil
}

// MarshalYAML writes YYYY-MM-DD.
func (d Date) MarshalYAML() (any, error) { return d.Format(time.DateOnly), nil }

// Route is one direction of an agreement and the unit types it carries.
type Route struct {
	From      string   `yaml:"from"`
	To        string   `yaml:"to"`
	UnitTypes []string `yaml:"unit_types"`
}

// Vintage bounds the vintages an agreement admits (inclusive).
type Vintage struct {
	From int `yaml:"from"`
	To   int `yaml:"to"`
}

// Terms are an agreement's Article 6 terms: the cooperative approach it
// is (Paris Agreement, Article 6.2) and what that approach requires. An
// agreement with terms is exactly one approach of the Article 6 accounting
// (article6.ApproachesFrom reads them); one without (a voluntary route)
// is none. The terms live here, with the routes, because the hub
// administrator edits agreements as revisions (Apply): a change of terms
// is then one edit that both the hub's checks and its Article 6 ledger
// see.
type Terms struct {
	// Approach is the corridor's identifier of the cooperative approach
	// (2-24 upper-case letters, digits or '-'): the ITMO identifier's
	// first part. CARP assigns official identifiers; CooperativeApproachID
	// holds CARP's once known.
	Approach              string `yaml:"approach,omitempty"`
	CooperativeApproachID string `yaml:"cooperative_approach_id,omitempty"`
	// Purposes are the authorisation purposes the approach admits (NDC,
	// OIMP, OP: decision 2/CMA.3, annex, para. 1 [recall]).
	Purposes []string `yaml:"purposes,omitempty"`
	// ShareOfProceedsPct and OMGEPct are per cent of the gross quantity
	// issued under an authorisation; absent means none (SOP, OMGE).
	ShareOfProceedsPct *decimal.Decimal `yaml:"share_of_proceeds_pct,omitempty"`
	OMGEPct            *decimal.Decimal `yaml:"omge_pct,omitempty"`
	// Rounding turns a fractional deduction into whole tonnes: up (the
	// deduction is never below the stated share) or down.
	Rounding string `yaml:"rounding,omitempty"`
	// FirstTransfer is the default first-transfer definition of an OIMP
	// authorisation that states none (authorisation, issuance or
	// use-or-cancellation; 2/CMA.3 annex para. 2(b) [recall]).
	FirstTransfer string `yaml:"first_transfer,omitempty"`
	// CoordinatedIssuance: one decision (a JCM Joint Committee's) issues
	// each side's share in its own registry.
	CoordinatedIssuance bool `yaml:"coordinated_issuance,omitempty"`
	// Sources say, line by line, which term was checked against which
	// text ("cited"), not checked ("unverified"), or is our assumption.
	Sources []TermSource `yaml:"sources,omitempty"`
}

// SOP is the share of proceeds in per cent (0 when the terms state none).
func (t Terms) SOP() decimal.Decimal { return pctOr0(t.ShareOfProceedsPct) }

// OMGE is the OMGE cancellation in per cent (0 when the terms state none).
func (t Terms) OMGE() decimal.Decimal { return pctOr0(t.OMGEPct) }

func pctOr0(p *decimal.Decimal) decimal.Decimal {
	if p == nil {
		return decimal.Zero
	}
	return *p
}

// TermSource is one line behind an agreement's terms, with its status.
type TermSource struct {
	Status string `yaml:"status"`
	Text   string `yaml:"text"`
	URL    string `yaml:"url,omitempty"`
}

// Article6 reports whether the agreement carries Article 6 terms.
func (a Agreement) Article6() bool { return a.Terms.Approach != "" }

var (
	approachPattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{0,22}[A-Z0-9]$`)
	a6Purposes      = map[string]string{"NDC": "ndc", "OIMP": "oimp", "OP": ""}
)

// validateTerms checks an agreement's Article 6 terms; approaches holds
// the approach ids seen so far, so none is used twice.
func (a Agreement) validateTerms(approaches map[string]string, bad func(string, ...any)) {
	where := fmt.Sprintf("agreement %q", a.ID)
	t := a.Terms
	if !a.Article6() {
		if t.CooperativeApproachID != "" || len(t.Purposes) > 0 || t.ShareOfProceedsPct != nil || t.OMGEPct != nil ||
			t.Rounding != "" || t.FirstTransfer != "" || t.CoordinatedIssuance || len(t.Sources) > 0 {
			bad("%s: Article 6 terms without an approach id", where)
		}
		return
	}
	if !approachPattern.MatchString(t.Approach) {
		bad("%s: approach %q must be 2-24 upper-case letters, digits or '-'", where, t.Approach)
	}
	if other, dup := approaches[t.Approach]; dup {
		bad("%s: approach %s is already agreement %q", where, t.Approach, other)
	}
	approaches[t.Approach] = a.ID
	if len(t.Purposes) == 0 {
		bad("%s: Article 6 terms without purposes", where)
	}
	for _, p := range t.Purposes {
		use, ok := a6Purposes[p]
		if !ok {
			bad("%s: Article 6 purpose %q is not NDC, OIMP or OP", where, p)
		} else if use != "" && !slices.Contains(a.Purposes, use) {
			// An approach for NDC use whose routes refuse purpose ndc
			// could authorise units no transfer may carry.
			bad("%s: Article 6 purpose %s needs transfer purpose %q", where, p, use)
		}
	}
	if t.SOP().Add(t.OMGE()).GreaterThan(decimal.NewFromInt(100)) {
		bad("%s: share of proceeds and OMGE exceed the whole issuance", where)
	}
	if t.Rounding != "up" && t.Rounding != "down" {
		bad("%s: rounding %q must be up or down", where, t.Rounding)
	}
	if !slices.Contains([]string{"authorisation", "issuance", "use-or-cancellation"}, t.FirstTransfer) {
		bad("%s: first_transfer %q is not authorisation, issuance or use-or-cancellation", where, t.FirstTransfer)
	}
	if len(t.Sources) == 0 {
		bad("%s: Article 6 terms need their source lines", where)
	}
	for i, s := range t.Sources {
		if !slices.Contains([]string{"cited", "unverified", "assumption"}, s.Status) || s.Text == "" {
			bad("%s: terms source %d needs text and status cited, unverified or assumption", where, i)
		}
	}
}

// Cite names a source and pins the part of it that says the fact.
type Cite struct {
	ID  string `yaml:"id"`
	Pin string `yaml:"pin,omitempty"`
}

// Agreement is one corridor agreement.
type Agreement struct {
	ID          string   `yaml:"id"`
	Kind        Kind     `yaml:"kind"`
	Title       string   `yaml:"title"`
	Status      Status   `yaml:"status"`
	Parties     []string `yaml:"parties"`
	Signed      *Date    `yaml:"signed,omitempty"`
	Operational *Date    `yaml:"operational,omitempty"`
	Until       *Date    `yaml:"until,omitempty"`
	Routes      []Route  `yaml:"routes"`
	Purposes    []string `yaml:"purposes"`
	Vintage     *Vintage `yaml:"vintage,omitempty"`
	Terms       Terms    `yaml:"terms,omitempty"`
	Sources     []Cite   `yaml:"sources"`
	Notes       string   `yaml:"notes,omitempty"`
}

// VintageAllowed reports whether units of vintage v may move under a.
func (a Agreement) VintageAllowed(v int) bool {
	return a.Vintage == nil || (v >= a.Vintage.From && v <= a.Vintage.To)
}

// Registry is a registry the agreements may name.
type Registry struct {
	Code  string `yaml:"code"`
	Party string `yaml:"party"`
	Name  string `yaml:"name"`
}

// Purpose is a use a transfer may be for.
type Purpose struct {
	Code string `yaml:"code"`
	Name string `yaml:"name"`
}

// Source is a document an agreement cites.
type Source struct {
	ID     string `yaml:"id"`
	Title  string `yaml:"title"`
	Issuer string `yaml:"issuer"`
	Date   string `yaml:"date,omitempty"`
	URL    string `yaml:"url,omitempty"`
	// Kind: official, secondary, or proposal (no official source exists).
	Kind string `yaml:"kind"`
}

// Set is one revision of the corridor's agreements.
type Set struct {
	Revision   uint64      `yaml:"revision"`
	AsOf       Date        `yaml:"as_of"`
	Purposes   []Purpose   `yaml:"purposes"`
	Registries []Registry  `yaml:"registries"`
	Sources    []Source    `yaml:"sources"`
	Agreements []Agreement `yaml:"agreements"`
}

// Default returns the embedded revision.
func Default() (Set, error) { return Parse(defaultData) }

// Parse reads and validates a data file; unknown fields are refused.
func Parse(data []byte) (Set, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Set
	if err := dec.Decode(&s); err != nil {
		return Set{}, fmt.Errorf("agreements: parsing: %w", err)
	}
	if err := s.Validate(); err != nil {
		return Set{}, err
	}
	return s, nil
}

var (
	// A registry code is a node code (2-12 upper-case letters or digits,
	// the registry part of a serial, which cannot hold '-'): the Party's
	// code, optionally followed by a suffix (CNETS).
	codePattern  = regexp.MustCompile(`^[A-Z]{2}[A-Z0-9]{0,10}$`)
	partyPattern = regexp.MustCompile(`^[A-Z]{2}$`)
	idPattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)
)

// Validate checks every entry: registry codes and sources known, dates
// in order, statuses consistent with their dates, and no (from, to, unit
// type) covered by two agreements (so Allowed has one answer).
func (s Set) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if s.Revision == 0 {
		bad("revision must be at least 1")
	}
	registries := map[string]Registry{}
	for _, r := range s.Registries {
		if !codePattern.MatchString(r.Code) || !partyPattern.MatchString(r.Party) {
			bad("registry %q (party %q): code must be a Party code optionally followed by up to 10 upper-case letters or digits, party ISO 3166-1 alpha-2", r.Code, r.Party)
		}
		if _, dup := registries[r.Code]; dup {
			bad("registry %q listed twice", r.Code)
		}
		registries[r.Code] = r
	}
	purposes := map[string]bool{}
	for _, p := range s.Purposes {
		purposes[p.Code] = true
	}
	sources := map[string]bool{}
	for _, src := range s.Sources {
		if src.ID == "" || src.Title == "" || src.Issuer == "" {
			bad("source %q: id, title and issuer required", src.ID)
		}
		if !slices.Contains([]string{"official", "secondary", "proposal"}, src.Kind) {
			bad("source %q: kind %q is not official, secondary or proposal", src.ID, src.Kind)
		}
		if sources[src.ID] {
			bad("source %q listed twice", src.ID)
		}
		sources[src.ID] = true
	}
	ids := map[string]bool{}
	approaches := map[string]string{}
	covered := map[[3]string]string{}
	for _, a := range s.Agreements {
		where := fmt.Sprintf("agreement %q", a.ID)
		if !idPattern.MatchString(a.ID) {
			bad("%s: id must be lower-case letters, digits and dashes", where)
		}
		if ids[a.ID] {
			bad("%s listed twice", where)
		}
		ids[a.ID] = true
		if !slices.Contains([]Kind{KindPilot, KindImplementationAgreement, KindJCM, KindBilateral}, a.Kind) {
			bad("%s: unknown kind %q", where, a.Kind)
		}
		if a.Title == "" {
			bad("%s: no title", where)
		}
		switch a.Status {
		case StatusProposal:
			if a.Kind != KindPilot {
				bad("%s: only pilots may be proposals", where)
			}
		case StatusSigned:
			if a.Signed == nil {
				bad("%s: signed without a signing date", where)
			}
		case StatusOperational:
			if a.Signed == nil && a.Operational == nil {
				bad("%s: operational without a signing or operational date", where)
			}
		default:
			bad("%s: unknown status %q", where, a.Status)
		}
		if a.Signed != nil && a.Operational != nil && a.Operational.Before(a.Signed.Time) {
			bad("%s: operational before signed", where)
		}
		if start := a.start(); start != nil && a.Until != nil && !a.Until.After(start.Time) {
			bad("%s: until is not after the start", where)
		}
		if a.Vintage != nil && a.Vintage.From > a.Vintage.To {
			bad("%s: vintage from %d after to %d", where, a.Vintage.From, a.Vintage.To)
		}
		for _, pct := range []*decimal.Decimal{a.Terms.ShareOfProceedsPct, a.Terms.OMGEPct} {
			if pct != nil && (pct.IsNegative() || pct.GreaterThan(decimal.NewFromInt(100))) {
				bad("%s: percentage %s outside 0-100", where, pct)
			}
		}
		a.validateTerms(approaches, bad)
		if len(a.Parties) != 2 {
			bad("%s: %d parties, want 2", where, len(a.Parties))
		}
		for _, p := range a.Parties {
			if !partyPattern.MatchString(p) {
				bad("%s: party %q is not ISO 3166-1 alpha-2", where, p)
			}
		}
		if len(a.Purposes) == 0 {
			bad("%s: no purposes", where)
		}
		for _, p := range a.Purposes {
			if !purposes[p] {
				bad("%s: unknown purpose %q", where, p)
			}
		}
		if len(a.Sources) == 0 {
			bad("%s: no source", where)
		}
		for _, c := range a.Sources {
			if !sources[c.ID] {
				bad("%s: unknown source %q", where, c.ID)
			}
		}
		if len(a.Routes) == 0 {
			bad("%s: no routes", where)
		}
		for _, r := range a.Routes {
			from, okFrom := registries[r.From]
			to, okTo := registries[r.To]
			if !okFrom || !okTo {
				bad("%s: route %s -> %s names an unknown registry", where, r.From, r.To)
				continue
			}
			if r.From == r.To {
				bad("%s: route %s -> %s stays in one registry", where, r.From, r.To)
			}
			if !slices.Contains(a.Parties, from.Party) || !slices.Contains(a.Parties, to.Party) {
				bad("%s: route %s -> %s is not between its parties %v", where, r.From, r.To, a.Parties)
			}
			if len(r.UnitTypes) == 0 {
				bad("%s: route %s -> %s carries no unit type", where, r.From, r.To)
			}
			for _, u := range r.UnitTypes {
				if u == "" || strings.TrimSpace(u) != u {
					bad("%s: route %s -> %s: empty or padded unit type %q", where, r.From, r.To, u)
				}
				key := [3]string{r.From, r.To, u}
				if other, dup := covered[key]; dup {
					bad("%s: %s -> %s %s is already covered by %q", where, r.From, r.To, u, other)
				}
				covered[key] = a.ID
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("agreements: revision %d: %w", s.Revision, errors.Join(errs...))
	}
	return nil
}

// start is the first day transfers are allowed: the operational date if
// there is one, else the signing date (nil for undated proposals).
func (a Agreement) start() *Date {
	if a.Operational != nil {
		return a.Operational
	}
	return a.Signed
}

// Code is a stable refusal code of Allowed.
type Code string

const (
	CodeUnknownRegistry    Code = "unknown_registry"
	CodeSameRegistry       Code = "same_registry"
	CodeNoAgreement        Code = "no_agreement"
	CodeUnitTypeNotCovered Code = "unit_type_not_covered"
	CodePurposeNotCovered  Code = "purpose_not_covered"
	CodeNotOperational     Code = "not_operational"
	CodeNotInForce         Code = "not_in_force"
)

// Refusal is Allowed's refusal, with the field it concerns.
type Refusal struct {
	Code   Code
	Field  string
	Detail string
}

func (r *Refusal) Error() string { return fmt.Sprintf("agreements: %s: %s", r.Code, r.Detail) }

// RefusalCode returns the code inside err, or "".
func RefusalCode(err error) Code {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Code
	}
	return ""
}

func refuse(c Code, field, format string, a ...any) error {
	return &Refusal{Code: c, Field: field, Detail: fmt.Sprintf(format, a...)}
}

// Allowed returns the agreement under which unitType may move from one
// registry to another for purpose on date, or a refusal saying which
// condition failed. Checks run from the broadest to the narrowest so the
// code names the first thing the user must change.
func (s Set) Allowed(from, to, unitType, purpose string, date time.Time) (Agreement, error) {
	known := func(c string) bool {
		return slices.ContainsFunc(s.Registries, func(r Registry) bool { return r.Code == c })
	}
	if !known(from) {
		return Agreement{}, refuse(CodeUnknownRegistry, "from_registry", "registry %q is not in the corridor", from)
	}
	if !known(to) {
		return Agreement{}, refuse(CodeUnknownRegistry, "to_registry", "registry %q is not in the corridor", to)
	}
	if from == to {
		return Agreement{}, refuse(CodeSameRegistry, "to_registry", "a transfer from %s to itself is not cross-registry", from)
	}
	var pair []Agreement
	for _, a := range s.Agreements {
		if slices.ContainsFunc(a.Routes, func(r Route) bool { return r.From == from && r.To == to }) {
			pair = append(pair, a)
		}
	}
	if len(pair) == 0 {
		return Agreement{}, refuse(CodeNoAgreement, "to_registry", "no agreement lets units move from %s to %s", from, to)
	}
	i := slices.IndexFunc(pair, func(a Agreement) bool {
		return slices.ContainsFunc(a.Routes, func(r Route) bool {
			return r.From == from && r.To == to && slices.Contains(r.UnitTypes, unitType)
		})
	})
	if i < 0 {
		return Agreement{}, refuse(CodeUnitTypeNotCovered, "unit_type", "no agreement from %s to %s covers unit type %q", from, to, unitType)
	}
	a := pair[i]
	if !slices.Contains(a.Purposes, purpose) {
		return Agreement{}, refuse(CodePurposeNotCovered, "purpose", "agreement %s covers purposes %v, not %q", a.ID, a.Purposes, purpose)
	}
	if a.Status == StatusSigned {
		return Agreement{}, refuse(CodeNotOperational, "to_registry", "agreement %s is signed but not operational", a.ID)
	}
	day := date.UTC().Truncate(24 * time.Hour)
	if start := a.start(); start != nil && day.Before(start.Time) {
		return Agreement{}, refuse(CodeNotInForce, "date", "agreement %s applies from %s", a.ID, start.Format(time.DateOnly))
	}
	if a.Until != nil && !day.Before(a.Until.Time) {
		return Agreement{}, refuse(CodeNotInForce, "date", "agreement %s ended on %s", a.ID, a.Until.Format(time.DateOnly))
	}
	return a, nil
}

// Op is an administrator's edit operation.
type Op string

const (
	OpAdd     Op = "add"
	OpReplace Op = "replace"
	OpRemove  Op = "remove"
)

// Edit is one administrator edit. The hub journals it with its actor;
// Apply is the pure function replayed from that journal.
type Edit struct {
	Op        Op
	ID        string    // for remove; add and replace use Agreement.ID
	Agreement Agreement // for add and replace
	AsOf      time.Time
}

// Apply returns the next revision with e applied; s is not modified. The
// result is validated as a whole, so an edit that would create a
// duplicate route or cite an unknown source is refused.
func (s Set) Apply(e Edit) (Set, error) {
	next := s.clone()
	next.Revision = s.Revision + 1
	next.AsOf = Date{e.AsOf.UTC().Truncate(24 * time.Hour)}
	idx := func(id string) int {
		return slices.IndexFunc(next.Agreements, func(a Agreement) bool { return a.ID == id })
	}
	switch e.Op {
	case OpAdd:
		if idx(e.Agreement.ID) >= 0 {
			return Set{}, fmt.Errorf("agreements: add: %q already exists", e.Agreement.ID)
		}
		next.Agreements = append(next.Agreements, e.Agreement)
	case OpReplace:
		i := idx(e.Agreement.ID)
		if i < 0 {
			return Set{}, fmt.Errorf("agreements: replace: no agreement %q", e.Agreement.ID)
		}
		next.Agreements[i] = e.Agreement
	case OpRemove:
		i := idx(e.ID)
		if i < 0 {
			return Set{}, fmt.Errorf("agreements: remove: no agreement %q", e.ID)
		}
		next.Agreements = slices.Delete(next.Agreements, i, i+1)
	default:
		return Set{}, fmt.Errorf("agreements: unknown edit %q", e.Op)
	}
	if err := next.Validate(); err != nil {
		return Set{}, err
	}
	return next, nil
}

// clone copies s deeply enough that Apply never aliases s's slices.
func (s Set) clone() Set {
	c := s
	c.Purposes = slices.Clone(s.Purposes)
	c.Registries = slices.Clone(s.Registries)
	c.Sources = slices.Clone(s.Sources)
	c.Agreements = make([]Agreement, len(s.Agreements))
	for i, a := range s.Agreements {
		a.Parties = slices.Clone(a.Parties)
		a.Purposes = slices.Clone(a.Purposes)
		a.Sources = slices.Clone(a.Sources)
		a.Terms.Purposes = slices.Clone(a.Terms.Purposes)
		a.Terms.Sources = slices.Clone(a.Terms.Sources)
		routes := make([]Route, len(a.Routes))
		for j, r := range a.Routes {
			r.UnitTypes = slices.Clone(r.UnitTypes)
			routes[j] = r
		}
		a.Routes = routes
		c.Agreements[i] = a
	}
	return c
}

// Marshal writes s in the data file's format, so an edited revision can
// be exported and loaded again.
func (s Set) Marshal() ([]byte, error) {
	out, err := yaml.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("agreements: encoding revision %d: %w", s.Revision, err)
	}
	return out, nil
}
