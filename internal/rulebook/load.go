package rulebook

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

// DataError reports a defect in a data file: the file, the field path inside
// it (e.g. "schemes[0].rules[1].cite.source") and what is wrong.
type DataError struct {
	File    string
	Field   string
	Problem string
}

func (e *DataError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("rulebook: %s: %s", e.File, e.Problem)
	}
	return fmt.Sprintf("rulebook: %s: %s: %s", e.File, e.Field, e.Problem)
}

// The data files Load reads, in dependency order.
const (
	fileSources       = "sources.yaml"
	fileJurisdictions = "jurisdictions.yaml"
	fileInstruments   = "instruments.yaml"
	fileSchemes       = "schemes.yaml"
	fileMethodologies = "methodologies.yaml"
	fileRecognition   = "recognition.yaml"
	fileMRV           = "mrv.yaml"
)

// knownSectors is the sector vocabulary of the data files.
var knownSectors = []string{"power", "steel", "cement", "aluminium", "energy", "industry",
	"chemicals", "aviation", "fertilisers", "hydrogen", "forestry", "transport"}

type sourcesFile struct {
	Version string   `yaml:"version"`
	Sources []Source `yaml:"sources"`
}

type jurisdictionsFile struct {
	Version       string         `yaml:"version"`
	Jurisdictions []Jurisdiction `yaml:"jurisdictions"`
}

type instrumentsFile struct {
	Version     string       `yaml:"version"`
	Programmes  []Programme  `yaml:"programmes"`
	Instruments []Instrument `yaml:"instruments"`
}

type schemesFile struct {
	Version     string   `yaml:"version"`
	Schemes     []Scheme `yaml:"schemes"`
	GlobalRules []Rule   `yaml:"global_rules"`
}

type methodologiesFile struct {
	Version       string        `yaml:"version"`
	Methodologies []Methodology `yaml:"methodologies"`
}

type recognitionFile struct {
	Version          string            `yaml:"version"`
	MatrixProgrammes []string          `yaml:"matrix_programmes"`
	MatrixSectors    []string          `yaml:"matrix_sectors"`
	Pairs            []RecognitionPair `yaml:"pairs"`
}

type mrvFile struct {
	Version string      `yaml:"version"`
	Regimes []MRVRegime `yaml:"regimes"`
	Aspects []MRVAspect `yaml:"aspects"`
	Sectors []string    `yaml:"sectors"`
	Cells   []MRVCell   `yaml:"cells"`
}

// Load reads and validates the rulebook's data files from fsys (the files
// named in data/ at its root). Any defect, such as an unknown jurisdiction, a
// missing source or an unknown field, is returned as a *DataError naming the
// file and field.
func Load(fsys fs.FS) (*Rulebook, error) {
	rb := &Rulebook{
		Versions:         map[string]string{},
		sourceByID:       map[string]*Source{},
		jurisdictionByID: map[string]*Jurisdiction{},
		programmeByID:    map[string]*Programme{},
		instrumentByID:   map[string]*Instrument{},
		schemeByID:       map[string]*Scheme{},

		programmeByStandard:  map[string]*Programme{},
		instrumentByUnitType: map[string]*Instrument{},
	}
	var (
		sf  sourcesFile
		jf  jurisdictionsFile
		inf instrumentsFile
		sc  schemesFile
		mf  methodologiesFile
		rf  recognitionFile
		mr  mrvFile
	)
	steps := []struct {
		file    string
		dst     any
		version *string
		check   func(v *validator)
	}{
		{fileSources, &sf, &sf.Version, func(v *validator) { v.sources(rb, sf.Sources) }},
		{fileJurisdictions, &jf, &jf.Version, func(v *validator) { v.jurisdictions(rb, jf.Jurisdictions) }},
		{fileInstruments, &inf, &inf.Version, func(v *validator) { v.instruments(rb, inf.Programmes, inf.Instruments) }},
		{fileSchemes, &sc, &sc.Version, func(v *validator) { v.schemes(rb, sc.Schemes, sc.GlobalRules) }},
		{fileMethodologies, &mf, &mf.Version, func(v *validator) { v.methodologies(rb, mf.Methodologies) }},
		{fileRecognition, &rf, &rf.Version, func(v *validator) { v.recognition(rb, rf) }},
		{fileMRV, &mr, &mr.Version, func(v *validator) { v.mrv(rb, mr) }},
	}
	for _, st := range steps {
		if err := decodeFile(fsys, st.file, st.dst); err != nil {
			return nil, err
		}
		v := &validator{file: st.file}
		if strings.TrimSpace(*st.version) == "" {
			v.fail("version", "missing: every data file carries a version")
		}
		if v.err == nil {
			st.check(v)
		}
		if v.err != nil {
			return nil, v.err
		}
		rb.Versions[st.file] = *st.version
	}
	return rb, nil
}

func decodeFile(fsys fs.FS, name string, dst any) error {
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		return &DataError{File: name, Problem: fmt.Sprintf("cannot read: %v", err)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(dst); err != nil {
		if errors.Is(err, io.EOF) {
			return &DataError{File: name, Problem: "empty file"}
		}
		return &DataError{File: name, Problem: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	return nil
}

// validator collects the first defect found in one file.
type validator struct {
	file string
	err  *DataError
}

func (v *validator) fail(field, format string, args ...any) {
	if v.err == nil {
		v.err = &DataError{File: v.file, Field: field, Problem: fmt.Sprintf(format, args...)}
	}
}

func (v *validator) required(field, value string) {
	if strings.TrimSpace(value) == "" {
		v.fail(field, "missing")
	}
}

// cite checks that c names a known source and copies the source's details in.
func (v *validator) cite(rb *Rulebook, field string, c *Citation) {
	if strings.TrimSpace(c.Source) == "" {
		v.fail(field+".source", "missing: every rule and record must cite a source")
		return
	}
	s, ok := rb.sourceByID[c.Source]
	if !ok {
		v.fail(field+".source", "unknown source %q (not in %s)", c.Source, fileSources)
		return
	}
	c.Title, c.Issuer, c.Date, c.URL, c.Kind = s.Title, s.Issuer, s.Date, s.URL, s.Kind
}

// date checks a YYYY-MM-DD date; empty is allowed unless required.
func (v *validator) date(field, value string, required bool) {
	if value == "" {
		if required {
			v.fail(field, "missing: a date YYYY-MM-DD")
		}
		return
	}
	if _, err := time.Parse(time.DateOnly, value); err != nil {
		v.fail(field, "must be a date YYYY-MM-DD, not %q", value)
	}
}

func (v *validator) jurisdiction(rb *Rulebook, field, code string) {
	if _, ok := rb.jurisdictionByID[code]; !ok {
		v.fail(field, "unknown jurisdiction %q (not in %s)", code, fileJurisdictions)
	}
}

func (v *validator) sector(field, s string) {
	if !slices.Contains(knownSectors, s) {
		v.fail(field, "unknown sector %q (known: %s)", s, strings.Join(knownSectors, ", "))
	}
}

func (v *validator) sources(rb *Rulebook, list []Source) {
	if len(list) == 0 {
		v.fail("sources", "no sources")
	}
	for i := range list {
		s := &list[i]
		f := fmt.Sprintf("sources[%d]", i)
		v.required(f+".id", s.ID)
		v.required(f+".title", s.Title)
		v.required(f+".issuer", s.Issuer)
		v.required(f+".date", s.Date)
		v.required(f+".seen", s.Seen)
		switch s.Kind {
		case "official":
			v.required(f+".url", s.URL)
		case "secondary":
		default:
			v.fail(f+".kind", "must be official or secondary (name the primary text even where only a summary was read), not %q", s.Kind)
		}
		if _, dup := rb.sourceByID[s.ID]; dup {
			v.fail(f+".id", "duplicate source id %q", s.ID)
		}
		rb.sourceByID[s.ID] = s
	}
	rb.sources = list
	slices.SortFunc(rb.sources, func(a, b Source) int { return strings.Compare(a.ID, b.ID) })
	// Re-point the index at the sorted slice.
	for i := range rb.sources {
		rb.sourceByID[rb.sources[i].ID] = &rb.sources[i]
	}
}

func (v *validator) jurisdictions(rb *Rulebook, list []Jurisdiction) {
	for i := range list {
		j := &list[i]
		f := fmt.Sprintf("jurisdictions[%d]", i)
		v.required(f+".code", j.Code)
		v.required(f+".name", j.Name)
		if j.Code != normCode(j.Code) {
			v.fail(f+".code", "must be upper case without spaces: %q", j.Code)
		}
		if _, dup := rb.jurisdictionByID[j.Code]; dup {
			v.fail(f+".code", "duplicate jurisdiction %q", j.Code)
		}
		v.cite(rb, f+".cite", &j.Cite)
		rb.jurisdictionByID[j.Code] = j
	}
	rb.jurisdictions = list
}

func (v *validator) instruments(rb *Rulebook, progs []Programme, list []Instrument) {
	for i := range progs {
		p := &progs[i]
		f := fmt.Sprintf("programmes[%d]", i)
		v.required(f+".code", p.Code)
		v.required(f+".name", p.Name)
		v.jurisdiction(rb, f+".jurisdiction", p.Jurisdiction)
		if _, dup := rb.programmeByID[p.Code]; dup {
			v.fail(f+".code", "duplicate programme %q", p.Code)
		}
		v.cite(rb, f+".cite", &p.Cite)
		rb.programmeByID[p.Code] = p
		for k, name := range append([]string{p.Code, p.Name}, p.Names...) {
			key := foldStandard(name)
			if other, dup := rb.programmeByStandard[key]; key == "" || dup && other != p {
				v.fail(f+nameField(k), "name %q is empty or already names programme %q", name, other.Code)
				continue
			}
			rb.programmeByStandard[key] = p
		}
	}
	for i := range list {
		in := &list[i]
		f := fmt.Sprintf("instruments[%d]", i)
		v.required(f+".code", in.Code)
		v.required(f+".name", in.Name)
		switch in.Kind {
		case "allowance", "offset", "itmo", "a64er":
		default:
			v.fail(f+".kind", "must be allowance, offset, itmo or a64er, not %q", in.Kind)
		}
		v.jurisdiction(rb, f+".jurisdiction", in.Jurisdiction)
		if _, ok := rb.programmeByID[in.Programme]; !ok {
			v.fail(f+".programme", "unknown programme %q", in.Programme)
		}
		if _, dup := rb.instrumentByID[in.Code]; dup {
			v.fail(f+".code", "duplicate instrument %q", in.Code)
		}
		v.cite(rb, f+".cite", &in.Cite)
		rb.instrumentByID[in.Code] = in
		for k, ut := range in.UnitTypes {
			uf := fmt.Sprintf("%s.unit_types[%d]", f, k)
			if !ledger.ValidCode(ut) {
				v.fail(uf, "unit type %q must be 2-12 upper-case letters or digits", ut)
			}
			if other, dup := rb.instrumentByUnitType[ut]; dup {
				v.fail(uf, "unit type %q already belongs to instrument %q", ut, other.Code)
			}
			rb.instrumentByUnitType[ut] = in
		}
	}
	rb.programmes, rb.instruments = progs, list
}

func (v *validator) schemes(rb *Rulebook, list []Scheme, global []Rule) {
	ruleIDs := map[string]bool{}
	for i := range list {
		s := &list[i]
		f := fmt.Sprintf("schemes[%d]", i)
		v.required(f+".id", s.ID)
		v.required(f+".name", s.Name)
		v.required(f+".obligation_basis", s.ObligationBasis)
		v.jurisdiction(rb, f+".jurisdiction", s.Jurisdiction)
		for k, a := range s.Allowances {
			in, ok := rb.instrumentByID[a]
			if !ok || in.Kind != "allowance" {
				v.fail(fmt.Sprintf("%s.allowances[%d]", f, k), "%q is not a known allowance instrument", a)
			}
		}
		for k, sec := range s.Sectors {
			v.sector(fmt.Sprintf("%s.sectors[%d]", f, k), sec)
		}
		v.cite(rb, f+".cite", &s.Cite)
		if _, dup := rb.schemeByID[s.ID]; dup {
			v.fail(f+".id", "duplicate scheme %q", s.ID)
		}
		for k := range s.Rules {
			v.rule(rb, fmt.Sprintf("%s.rules[%d]", f, k), &s.Rules[k], ruleIDs, false)
		}
		rb.schemeByID[s.ID] = s
	}
	for k := range global {
		v.rule(rb, fmt.Sprintf("global_rules[%d]", k), &global[k], ruleIDs, true)
	}
	rb.schemes, rb.globalRules = list, global
}

func (v *validator) rule(rb *Rulebook, f string, r *Rule, ids map[string]bool, global bool) {
	v.required(f+".id", r.ID)
	v.required(f+".text", r.Text)
	if ids[r.ID] {
		v.fail(f+".id", "duplicate rule id %q", r.ID)
	}
	ids[r.ID] = true
	if r.Status != StatusConfirmed && r.Status != StatusUnverified {
		v.fail(f+".status", "must be %s or %s, not %q", StatusConfirmed, StatusUnverified, r.Status)
	}
	v.cite(rb, f+".cite", &r.Cite)
	instruments := func(field string, list []string) {
		for k, c := range list {
			if _, ok := rb.instrumentByID[c]; !ok {
				v.fail(fmt.Sprintf("%s.%s[%d]", f, field, k), "unknown instrument %q", c)
			}
		}
	}
	hosts := func(field string, list []string) {
		for k, c := range list {
			v.jurisdiction(rb, fmt.Sprintf("%s.%s[%d]", f, field, k), c)
		}
	}
	instruments("only_for", r.OnlyFor)
	hosts("only_for_hosts", r.OnlyForHosts)
	if r.FromYear != 0 && r.ToYear != 0 && r.FromYear > r.ToYear {
		v.fail(f+".to_year", "before from_year")
	}
	if r.ShareText != "" && r.Kind != KindQuantityCap {
		v.fail(f+".share", "only a quantity_cap rule has a share")
	}
	switch r.Kind {
	case KindInstrumentAllowed:
		if len(r.Instruments) == 0 {
			v.fail(f+".instruments", "missing: an instrument_allowed rule lists the instruments")
		}
		instruments("instruments", r.Instruments)
	case KindProgrammeAllowed:
		if len(r.Programmes) == 0 {
			v.fail(f+".programmes", "missing: a programme_allowed rule lists the programmes")
		}
		for k, p := range r.Programmes {
			if _, ok := rb.programmeByID[p]; !ok {
				v.fail(fmt.Sprintf("%s.programmes[%d]", f, k), "unknown programme %q", p)
			}
		}
	case KindHostAllowed:
		if len(r.Hosts) == 0 {
			v.fail(f+".hosts", "missing: a host_allowed rule lists the hosts")
		}
		hosts("hosts", r.Hosts)
	case KindVintageWindow:
		if r.VintageFrom == 0 && r.VintageTo == 0 {
			v.fail(f+".vintage_from", "missing: a vintage_window needs vintage_from or vintage_to")
		}
		if r.VintageTo != 0 && r.VintageFrom > r.VintageTo {
			v.fail(f+".vintage_to", "before vintage_from")
		}
	case KindAuthorisation, KindCondition:
	case KindQuantityCap:
		d, err := decimal.NewFromString(r.ShareText)
		if err != nil {
			v.fail(f+".share", "must be a decimal fraction such as \"0.05\", not %q", r.ShareText)
			return
		}
		if !d.IsPositive() || d.GreaterThan(decimal.NewFromInt(1)) {
			v.fail(f+".share", "must be in (0, 1], not %s", d)
		}
		r.Share = &d
		instruments("instruments", r.Instruments)
	case KindHostAgreement:
		if len(r.Agreements) == 0 {
			v.fail(f+".agreements", "missing: a host_agreement rule lists the agreements")
		}
		seen := map[string]bool{}
		for k := range r.Agreements {
			a := &r.Agreements[k]
			af := fmt.Sprintf("%s.agreements[%d]", f, k)
			v.jurisdiction(rb, af+".host", a.Host)
			if seen[a.Host] {
				v.fail(af+".host", "host %s has two agreements", a.Host)
			}
			seen[a.Host] = true
			v.date(af+".signed", a.Signed, true)
			v.date(af+".eligibility_list", a.EligibilityList, false)
			v.date(af+".operational_from", a.OperationalFrom, false)
			if a.OperationalFrom != "" && a.OperationalFrom < a.Signed {
				v.fail(af+".operational_from", "before the signing date %s", a.Signed)
			}
			for k, prog := range a.Programmes {
				if _, ok := rb.programmeByID[prog]; !ok {
					v.fail(fmt.Sprintf("%s.programmes[%d]", af, k), "unknown programme %q", prog)
				}
			}
			if a.Status != StatusConfirmed && a.Status != StatusUnverified {
				v.fail(af+".status", "must be %s or %s, not %q", StatusConfirmed, StatusUnverified, a.Status)
			}
			v.cite(rb, af+".cite", &a.Cite)
		}
	case KindRegistrationCutoff:
		v.date(f+".registered_before", r.RegisteredBefore, true)
		v.date(f+".use_from", r.UseFrom, true)
	case KindRegistryLock:
		if !global {
			v.fail(f+".kind", "registry_lock rules belong in global_rules")
		}
		v.required(f+".registry", r.Registry)
		if len(r.AllowedJurisdictions) == 0 {
			v.fail(f+".allowed_jurisdictions", "missing")
		}
		hosts("allowed_jurisdictions", r.AllowedJurisdictions)
	default:
		v.fail(f+".kind", "unknown rule kind %q", r.Kind)
	}
}

func (v *validator) methodologies(rb *Rulebook, list []Methodology) {
	seen := map[string]bool{}
	for i := range list {
		m := &list[i]
		f := fmt.Sprintf("methodologies[%d]", i)
		v.required(f+".code", m.Code)
		v.required(f+".title", m.Title)
		if _, ok := rb.programmeByID[m.Programme]; !ok {
			v.fail(f+".programme", "unknown programme %q", m.Programme)
		}
		if seen[m.Code] {
			v.fail(f+".code", "duplicate methodology %q", m.Code)
		}
		seen[m.Code] = true
		if len(m.Sectors) == 0 {
			v.fail(f+".sectors", "missing")
		}
		for k, s := range m.Sectors {
			v.sector(fmt.Sprintf("%s.sectors[%d]", f, k), s)
		}
		if m.Status != StatusConfirmed && m.Status != StatusUnverified {
			v.fail(f+".status", "must be %s or %s, not %q", StatusConfirmed, StatusUnverified, m.Status)
		}
		v.cite(rb, f+".cite", &m.Cite)
	}
	rb.methodologies = list
}

func (v *validator) recognition(rb *Rulebook, rf recognitionFile) {
	if len(rf.MatrixProgrammes) < 2 {
		v.fail("matrix_programmes", "needs at least two programmes")
	}
	for k, p := range rf.MatrixProgrammes {
		if _, ok := rb.programmeByID[p]; !ok {
			v.fail(fmt.Sprintf("matrix_programmes[%d]", k), "unknown programme %q", p)
		}
	}
	for k, s := range rf.MatrixSectors {
		v.sector(fmt.Sprintf("matrix_sectors[%d]", k), s)
	}
	seen := map[string]bool{}
	for i := range rf.Pairs {
		p := &rf.Pairs[i]
		f := fmt.Sprintf("pairs[%d]", i)
		for _, side := range []struct{ field, code string }{{"a", p.A}, {"b", p.B}} {
			if !slices.Contains(rf.MatrixProgrammes, side.code) {
				v.fail(f+"."+side.field, "programme %q is not in matrix_programmes", side.code)
			}
		}
		if p.A == p.B {
			v.fail(f+".b", "a programme cannot recognise itself")
		}
		if p.Sector != "all" {
			v.sector(f+".sector", p.Sector)
		}
		switch p.Status {
		case Recognised, RecognisedWithConditions, NotRecognised:
		default:
			v.fail(f+".status", "must be recognised, recognised_with_conditions or not_recognised, not %q", p.Status)
		}
		switch p.Evidence {
		case StatusConfirmed, StatusUnverified, StatusInference:
		default:
			v.fail(f+".evidence", "must be confirmed, unverified or inference, not %q", p.Evidence)
		}
		if p.Status == RecognisedWithConditions && len(p.Conditions) == 0 {
			v.fail(f+".conditions", "missing: recognition with conditions must list them")
		}
		key := pairKey(p.A, p.B, p.Sector)
		if seen[key] {
			v.fail(f, "duplicate pair %s/%s for sector %s", p.A, p.B, p.Sector)
		}
		seen[key] = true
		v.cite(rb, f+".cite", &p.Cite)
	}
	rb.matrixProgrammes, rb.matrixSectors, rb.pairs = rf.MatrixProgrammes, rf.MatrixSectors, rf.Pairs
}

func pairKey(a, b, sector string) string {
	if a > b {
		a, b = b, a
	}
	return a + "|" + b + "|" + sector
}

func (v *validator) mrv(rb *Rulebook, mf mrvFile) {
	regimes, aspects := map[string]bool{}, map[string]bool{}
	for i, r := range mf.Regimes {
		v.required(fmt.Sprintf("regimes[%d].id", i), r.ID)
		regimes[r.ID] = true
	}
	for i, a := range mf.Aspects {
		v.required(fmt.Sprintf("aspects[%d].id", i), a.ID)
		aspects[a.ID] = true
	}
	for k, s := range mf.Sectors {
		v.sector(fmt.Sprintf("sectors[%d]", k), s)
	}
	seen := map[string]bool{}
	for i := range mf.Cells {
		c := &mf.Cells[i]
		f := fmt.Sprintf("cells[%d]", i)
		if !slices.Contains(mf.Sectors, c.Sector) {
			v.fail(f+".sector", "sector %q is not in sectors", c.Sector)
		}
		if !aspects[c.Aspect] {
			v.fail(f+".aspect", "unknown aspect %q", c.Aspect)
		}
		if !regimes[c.Regime] {
			v.fail(f+".regime", "unknown regime %q", c.Regime)
		}
		switch c.Status {
		case StatusConfirmed, StatusUnverified, StatusInference:
		default:
			v.fail(f+".status", "must be confirmed, unverified or inference, not %q", c.Status)
		}
		v.required(f+".text", c.Text)
		key := c.Sector + "|" + c.Aspect + "|" + c.Regime
		if seen[key] {
			v.fail(f, "duplicate cell for %s / %s / %s", c.Sector, c.Aspect, c.Regime)
		}
		seen[key] = true
		v.cite(rb, f+".cite", &c.Cite)
	}
	for _, s := range mf.Sectors {
		for _, a := range mf.Aspects {
			for _, r := range mf.Regimes {
				if !seen[s+"|"+a.ID+"|"+r.ID] {
					v.fail("cells", "missing cell for sector %s, aspect %s, regime %s", s, a.ID, r.ID)
				}
			}
		}
	}
	rb.mrvRegimes, rb.mrvAspects, rb.mrvSectors, rb.mrvCells = mf.Regimes, mf.Aspects, mf.Sectors, mf.Cells
}

// nameField is the field of the k-th name Load folds for a programme: its
// code, its name, then names[k-2].
func nameField(k int) string {
	switch k {
	case 0:
		return ".code"
	case 1:
		return ".name"
	}
	return fmt.Sprintf(".names[%d]", k-2)
}
