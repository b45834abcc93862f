// Package rulebook says which carbon unit may be used where and how much of
// it: jurisdictions, instruments, compliance schemes with their offset rules,
// methodology recognition and MRV differences, each rule with its source.
//
// The data lives in versioned YAML files embedded from data/ (or loaded from
// any fs.FS with Load). Every rule names a source in sources.yaml and carries
// a status: "confirmed" when the rule text was seen in the cited source,
// "unverified" when it is reported but the text was not seen. The engine
// (Rulebook.Eligibility) is a pure function of the loaded data and a request;
// it reports unverified rules as such in its reasons.
package rulebook

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/shopspring/decimal"
)

// Rule statuses.
const (
	StatusConfirmed  = "confirmed"
	StatusUnverified = "unverified"
	// StatusInference marks an MRV cell or recognition condition derived
	// by reasoning rather than read in a source.
	StatusInference = "inference"
)

// Source is one cited document.
type Source struct {
	ID     string `yaml:"id" json:"id"`
	Title  string `yaml:"title" json:"title"`
	Issuer string `yaml:"issuer" json:"issuer"`
	Date   string `yaml:"date" json:"date"`
	URL    string `yaml:"url" json:"url,omitempty"`
	// Kind is official (the legal text or the regulator's page) or
	// secondary (a summary of it by ICAP, a law firm or the press).
	Kind string `yaml:"kind" json:"kind"`
	// Seen records what of the text was checked for this dataset, and where.
	Seen string `yaml:"seen" json:"seen"`
}

// Citation points at a source and pins the article or section. After Load,
// the source's title, date and URL are copied in so that a citation can be
// shown on its own.
type Citation struct {
	Source string `yaml:"source" json:"source"`
	Pin    string `yaml:"pin" json:"pin,omitempty"`
	Title  string `yaml:"-" json:"title"`
	Issuer string `yaml:"-" json:"issuer"`
	Date   string `yaml:"-" json:"date"`
	URL    string `yaml:"-" json:"url,omitempty"`
	Kind   string `yaml:"-" json:"kind"`
}

// String renders the citation as one line: title, pin, date, URL.
func (c Citation) String() string {
	var b strings.Builder
	b.WriteString(c.Title)
	if c.Pin != "" {
		b.WriteString(", " + c.Pin)
	}
	if c.Date != "" {
		b.WriteString(" (" + c.Date + ")")
	}
	if c.URL != "" {
		b.WriteString(" " + c.URL)
	}
	return b.String()
}

// Jurisdiction is a country, the EU, or INTL for programmes of no state.
type Jurisdiction struct {
	Code   string   `yaml:"code" json:"code"`
	Name   string   `yaml:"name" json:"name"`
	Region string   `yaml:"region" json:"region"`
	Notes  string   `yaml:"notes" json:"notes,omitempty"`
	Cite   Citation `yaml:"cite" json:"cite"`
}

// Programme is a crediting programme (or ALLOWANCE for cap-and-trade units).
type Programme struct {
	Code          string `yaml:"code" json:"code"`
	Name          string `yaml:"name" json:"name"`
	Administrator string `yaml:"administrator" json:"administrator"`
	Jurisdiction  string `yaml:"jurisdiction" json:"jurisdiction"`
	// Names are the other ways an issuance's standard field names the
	// programme (besides its code and name), compared ignoring case, spaces,
	// hyphens, dots and underscores: "Verra VCS" for VCS, "SRN-PPI" for SPE-GRK.
	Names []string `yaml:"names" json:"names,omitempty"`
	Cite  Citation `yaml:"cite" json:"cite"`
}

// Instrument is a unit type.
type Instrument struct {
	Code string `yaml:"code" json:"code"`
	Name string `yaml:"name" json:"name"`
	// Kind is allowance, offset, itmo or a64er.
	Kind         string `yaml:"kind" json:"kind"`
	Jurisdiction string `yaml:"jurisdiction" json:"jurisdiction"`
	Programme    string `yaml:"programme" json:"programme"`
	Registry     string `yaml:"registry" json:"registry"`
	// UnitTypes are the ledger unit-type codes (2-12 upper-case letters or
	// digits) under which a registry issues this instrument, e.g. TVER for
	// T-VER; a code belongs to one instrument only.
	UnitTypes []string `yaml:"unit_types" json:"unit_types,omitempty"`
	Cite      Citation `yaml:"cite" json:"cite"`
}

// Rule is one eligibility rule. Kind decides which fields matter; see
// data/schemes.yaml for the list of kinds and filters.
type Rule struct {
	ID     string   `yaml:"id" json:"id"`
	Kind   string   `yaml:"kind" json:"kind"`
	Status string   `yaml:"status" json:"status"`
	Text   string   `yaml:"text" json:"text"`
	Cite   Citation `yaml:"cite" json:"cite"`

	Instruments          []string         `yaml:"instruments" json:"instruments,omitempty"`
	Programmes           []string         `yaml:"programmes" json:"programmes,omitempty"`
	Hosts                []string         `yaml:"hosts" json:"hosts,omitempty"`
	HostsComplete        bool             `yaml:"hosts_complete" json:"hosts_complete,omitempty"`
	VintageFrom          int              `yaml:"vintage_from" json:"vintage_from,omitempty"`
	VintageTo            int              `yaml:"vintage_to" json:"vintage_to,omitempty"`
	RequireCA            bool             `yaml:"require_ca" json:"require_ca,omitempty"`
	Share                *decimal.Decimal `yaml:"-" json:"share,omitempty"`
	ShareText            string           `yaml:"share" json:"-"`
	Registry             string           `yaml:"registry" json:"registry,omitempty"`
	AllowedJurisdictions []string         `yaml:"allowed_jurisdictions" json:"allowed_jurisdictions,omitempty"`

	FromYear         int      `yaml:"from_year" json:"from_year,omitempty"`
	ToYear           int      `yaml:"to_year" json:"to_year,omitempty"`
	OnlyFor          []string `yaml:"only_for" json:"only_for,omitempty"`
	OnlyForHosts     []string `yaml:"only_for_hosts" json:"only_for_hosts,omitempty"`
	OnlyIfAuthorised bool     `yaml:"only_if_authorised" json:"only_if_authorised,omitempty"`
	OnlyCrossBorder  bool     `yaml:"only_cross_border" json:"only_cross_border,omitempty"`

	// Agreements are the bilateral agreements of a host_agreement rule.
	Agreements []Agreement `yaml:"agreements" json:"agreements,omitempty"`
	// RegisteredBefore and UseFrom make a registration_cutoff rule: units
	// registered before RegisteredBefore may not be used on or after
	// UseFrom (dates YYYY-MM-DD).
	RegisteredBefore string `yaml:"registered_before" json:"registered_before,omitempty"`
	UseFrom          string `yaml:"use_from" json:"use_from,omitempty"`
}

// Agreement is one bilateral agreement under which a host's credits may be
// used (a Singapore implementation agreement under Article 6.2). Signing is
// not enough: credits count only once the agreement is operational, i.e.
// its Eligibility List of programmes and methodologies is in force.
type Agreement struct {
	Host string `yaml:"host" json:"host"`
	// Signed, EligibilityList and OperationalFrom are dates (YYYY-MM-DD);
	// OperationalFrom is empty when no operational date was found.
	Signed          string `yaml:"signed" json:"signed"`
	EligibilityList string `yaml:"eligibility_list" json:"eligibility_list,omitempty"`
	OperationalFrom string `yaml:"operational_from" json:"operational_from,omitempty"`
	// Programmes are the crediting programmes on the agreement's
	// Eligibility List; empty when the list's content was not captured.
	Programmes []string `yaml:"programmes" json:"programmes,omitempty"`
	// Status is confirmed when the agreement's state (signed, operational
	// or not) was seen in the cited source, unverified otherwise.
	Status string   `yaml:"status" json:"status"`
	Note   string   `yaml:"note" json:"note,omitempty"`
	Cite   Citation `yaml:"cite" json:"cite"`
}

// Rule kinds.
const (
	KindInstrumentAllowed = "instrument_allowed"
	KindProgrammeAllowed  = "programme_allowed"
	KindHostAllowed       = "host_allowed"
	KindVintageWindow     = "vintage_window"
	KindAuthorisation     = "authorisation"
	KindQuantityCap       = "quantity_cap"
	KindCondition         = "condition"
	KindRegistryLock      = "registry_lock"
	// KindHostAgreement: the host must have an agreement that is
	// operational on the date of use (see Agreement).
	KindHostAgreement = "host_agreement"
	// KindRegistrationCutoff: units registered before a date may not be
	// used from another date on (China's pre-2017 CCERs).
	KindRegistrationCutoff = "registration_cutoff"
)

// Scheme is a compliance scheme (ETS or carbon tax) with its unit rules.
type Scheme struct {
	ID              string   `yaml:"id" json:"id"`
	Name            string   `yaml:"name" json:"name"`
	Jurisdiction    string   `yaml:"jurisdiction" json:"jurisdiction"`
	Allowances      []string `yaml:"allowances" json:"allowances"`
	Sectors         []string `yaml:"sectors" json:"sectors"`
	ObligationBasis string   `yaml:"obligation_basis" json:"obligation_basis"`
	Description     string   `yaml:"description" json:"description"`
	Cite            Citation `yaml:"cite" json:"cite"`
	Rules           []Rule   `yaml:"rules" json:"rules"`
}

// Methodology is a methodology record of a programme.
type Methodology struct {
	Programme string   `yaml:"programme" json:"programme"`
	Code      string   `yaml:"code" json:"code"`
	Title     string   `yaml:"title" json:"title"`
	Sectors   []string `yaml:"sectors" json:"sectors"`
	Basis     string   `yaml:"basis" json:"basis,omitempty"`
	Status    string   `yaml:"status" json:"status"`
	Cite      Citation `yaml:"cite" json:"cite"`
}

// RecognitionPair is an official recognition (or refusal) between two
// programmes, for one sector or "all".
type RecognitionPair struct {
	A          string   `yaml:"a" json:"a"`
	B          string   `yaml:"b" json:"b"`
	Sector     string   `yaml:"sector" json:"sector"`
	Status     string   `yaml:"status" json:"status"`
	Conditions []string `yaml:"conditions" json:"conditions"`
	Evidence   string   `yaml:"evidence" json:"evidence"`
	Cite       Citation `yaml:"cite" json:"cite"`
}

// Recognition statuses.
const (
	Recognised               = "recognised"
	RecognisedWithConditions = "recognised_with_conditions"
	NotRecognised            = "not_recognised"
)

// MRVRegime, MRVAspect and MRVCell make up the MRV side-by-side.
type MRVRegime struct {
	ID   string `yaml:"id" json:"id"`
	Name string `yaml:"name" json:"name"`
}

// MRVAspect is one row of the MRV comparison (scope, thresholds, …).
type MRVAspect struct {
	ID   string `yaml:"id" json:"id"`
	Name string `yaml:"name" json:"name"`
}

// MRVCell is what one regime does for one aspect in one sector.
type MRVCell struct {
	Sector string   `yaml:"sector" json:"sector"`
	Aspect string   `yaml:"aspect" json:"aspect"`
	Regime string   `yaml:"regime" json:"regime"`
	Status string   `yaml:"status" json:"status"`
	Text   string   `yaml:"text" json:"text"`
	Cite   Citation `yaml:"cite" json:"cite"`
}

// Rulebook is the loaded, validated data set. It is read-only after Load and
// safe for concurrent use.
type Rulebook struct {
	// Versions maps each data file to its version string.
	Versions map[string]string

	sources       []Source
	jurisdictions []Jurisdiction
	programmes    []Programme
	instruments   []Instrument
	schemes       []Scheme
	globalRules   []Rule
	methodologies []Methodology

	matrixProgrammes []string
	matrixSectors    []string
	pairs            []RecognitionPair

	mrvRegimes []MRVRegime
	mrvAspects []MRVAspect
	mrvSectors []string
	mrvCells   []MRVCell

	sourceByID       map[string]*Source
	jurisdictionByID map[string]*Jurisdiction
	programmeByID    map[string]*Programme
	instrumentByID   map[string]*Instrument
	schemeByID       map[string]*Scheme
	// programmeByStandard maps each folded code, name and alias of a
	// programme (foldStandard) to it; instrumentByUnitType each ledger
	// unit-type code to its instrument.
	programmeByStandard  map[string]*Programme
	instrumentByUnitType map[string]*Instrument
}

//go:embed data/*.yaml
var embedded embed.FS

var (
	defaultOnce sync.Once
	defaultRB   *Rulebook
	defaultErr  error
)

// Default returns the rulebook embedded in the binary, loaded once.
func Default() (*Rulebook, error) {
	defaultOnce.Do(func() {
		sub, err := fs.Sub(embedded, "data")
		if err != nil {
			defaultErr = fmt.Errorf("rulebook: embedded data: %w", err)
			return
		}
		defaultRB, defaultErr = Load(sub)
	})
	return defaultRB, defaultErr
}

// Version is the newest version among the data files.
func (rb *Rulebook) Version() string {
	v := ""
	for _, fv := range rb.Versions {
		if fv > v {
			v = fv
		}
	}
	return v
}

// Sources lists every cited source, sorted by id.
func (rb *Rulebook) Sources() []Source { return slices.Clone(rb.sources) }

// Source returns the source with the given id.
func (rb *Rulebook) Source(id string) (Source, bool) {
	s, ok := rb.sourceByID[id]
	if !ok {
		return Source{}, false
	}
	return *s, true
}

// Jurisdictions lists the jurisdictions in file order.
func (rb *Rulebook) Jurisdictions() []Jurisdiction { return slices.Clone(rb.jurisdictions) }

// Jurisdiction looks a jurisdiction up by code (case-insensitive).
func (rb *Rulebook) Jurisdiction(code string) (Jurisdiction, bool) {
	j, ok := rb.jurisdictionByID[normCode(code)]
	if !ok {
		return Jurisdiction{}, false
	}
	return *j, true
}

// Programmes lists the crediting programmes.
func (rb *Rulebook) Programmes() []Programme { return slices.Clone(rb.programmes) }

// Instruments lists instruments, optionally only those of one jurisdiction.
func (rb *Rulebook) Instruments(jurisdiction string) []Instrument {
	j := normCode(jurisdiction)
	var out []Instrument
	for _, in := range rb.instruments {
		if j == "" || in.Jurisdiction == j {
			out = append(out, in)
		}
	}
	return out
}

// Instrument looks an instrument up by code (case-insensitive).
func (rb *Rulebook) Instrument(code string) (Instrument, bool) {
	in, ok := rb.instrumentByID[normCode(code)]
	if !ok {
		return Instrument{}, false
	}
	return *in, true
}

// ProgrammeByStandard returns the programme an issuance's free-text standard
// names (its code, name or one of its names, ignoring case, spaces, hyphens,
// dots and underscores).
func (rb *Rulebook) ProgrammeByStandard(standard string) (Programme, bool) {
	p, ok := rb.programmeByStandard[foldStandard(standard)]
	if !ok {
		return Programme{}, false
	}
	return *p, true
}

// InstrumentByUnitType returns the instrument a ledger unit-type code
// (e.g. TVER, VCU) stands for.
func (rb *Rulebook) InstrumentByUnitType(unitType string) (Instrument, bool) {
	in, ok := rb.instrumentByUnitType[unitType]
	if !ok {
		return Instrument{}, false
	}
	return *in, true
}

// ProgrammeUnitTypes lists the ledger unit-type codes of the programme's
// instruments, in file order.
func (rb *Rulebook) ProgrammeUnitTypes(programme string) []string {
	var out []string
	for _, in := range rb.instruments {
		if in.Programme == programme {
			out = append(out, in.UnitTypes...)
		}
	}
	return out
}

// foldStandard is how standards are compared: upper case, without spaces,
// hyphens, dots or underscores ("t-ver" and "TVER" are the same).
func foldStandard(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '_', '\t':
			return -1
		}
		return unicode.ToUpper(r)
	}, s)
}

// Schemes lists compliance schemes, optionally only one jurisdiction's.
func (rb *Rulebook) Schemes(jurisdiction string) []Scheme {
	j := normCode(jurisdiction)
	var out []Scheme
	for _, s := range rb.schemes {
		if j == "" || s.Jurisdiction == j {
			s.Rules = slices.Clone(s.Rules)
			out = append(out, s)
		}
	}
	return out
}

// Scheme looks a scheme up by id (case-insensitive).
func (rb *Rulebook) Scheme(id string) (Scheme, bool) {
	s, ok := rb.schemeByID[normCode(id)]
	if !ok {
		return Scheme{}, false
	}
	out := *s
	out.Rules = slices.Clone(s.Rules)
	return out, true
}

// GlobalRules lists the rules that apply to every scheme.
func (rb *Rulebook) GlobalRules() []Rule { return slices.Clone(rb.globalRules) }

// Methodologies lists methodology records, filtered by programme and sector
// when those are non-empty.
func (rb *Rulebook) Methodologies(programme, sector string) []Methodology {
	p, s := normCode(programme), strings.ToLower(strings.TrimSpace(sector))
	var out []Methodology
	for _, m := range rb.methodologies {
		if p != "" && m.Programme != p {
			continue
		}
		if s != "" && !slices.Contains(m.Sectors, s) {
			continue
		}
		out = append(out, m)
	}
	return out
}

// Sectors of the recognition matrix and of the MRV side-by-side.
func (rb *Rulebook) MatrixSectors() []string { return slices.Clone(rb.matrixSectors) }

// MRVSectors lists the sectors of the MRV comparison.
func (rb *Rulebook) MRVSectors() []string { return slices.Clone(rb.mrvSectors) }

func normCode(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
