package cbam

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/shopspring/decimal"
)

// Lookup errors; each is wrapped with the details of the failing input.
var (
	// Lookup errors wrap one of these and carry no package prefix: each
	// describes one input's value and reaches users inside an InputError or
	// LineError, which names the field and adds the prefix once.
	ErrUnknownCountry   = errors.New("unknown country")
	ErrOriginInEU       = errors.New("origin is an EU member state: not an import under CBAM")
	ErrOriginExempt     = errors.New("origin is exempt from CBAM (Annex III)")
	ErrUnknownCN        = errors.New("CN code not covered by CBAM")
	ErrNoDefaultValue   = errors.New("no default value")
	ErrMalformedDefault = errors.New("the dataset's default-value row is malformed")
	ErrAmbiguousGood    = errors.New("several default values match; give the production route")
	ErrNoBenchmark      = errors.New("no column-B benchmark")
	ErrRouteRequired    = errors.New("the benchmark depends on the production route; give it")
	ErrRouteMismatch    = errors.New("no benchmark for that production route")
	ErrUnknownRoute     = errors.New("unknown production route")
)

// euMembers are the EU-27 (ISO alpha-2): goods from them are not imports.
var euMembers = map[string]bool{
	"AT": true, "BE": true, "BG": true, "HR": true, "CY": true, "CZ": true, "DK": true, "EE": true, "FI": true,
	"FR": true, "DE": true, "GR": true, "HU": true, "IE": true, "IT": true, "LV": true, "LT": true, "LU": true,
	"MT": true, "NL": true, "PL": true, "PT": true, "RO": true, "SK": true, "SI": true, "ES": true, "SE": true,
}

// annexIII are the third countries outside CBAM (Reg. (EU) 2023/956 Annex III
// point 1: Iceland, Liechtenstein, Norway, Switzerland).
var annexIII = map[string]bool{"IS": true, "LI": true, "NO": true, "CH": true}

// CountryCode normalises a country given as an ISO 3166-1 alpha-2 code (any
// case) or as a name used by the dataset; it returns the alpha-2 code.
func CountryCode(s string) (string, error) {
	t := strings.TrimSpace(s)
	if len(t) == 2 {
		u := strings.ToUpper(t)
		if _, ok := isoCountries[u]; ok {
			return u, nil
		}
	}
	if c, ok := datasetCountryNames[t]; ok {
		return c, nil
	}
	for code, name := range isoCountries {
		if strings.EqualFold(name, t) {
			return code, nil
		}
	}
	return "", fmt.Errorf("%w %q (give an ISO 3166-1 alpha-2 code such as CN, VN, TH)", ErrUnknownCountry, s)
}

// CountryName returns the English short name of an ISO alpha-2 code.
func CountryName(code string) string {
	if code == OtherCountries {
		return "Other countries and territories"
	}
	return isoCountries[code]
}

// IsEUMember reports whether the ISO alpha-2 code is an EU member state.
func IsEUMember(code string) bool { return euMembers[code] }

// DefaultMatch is the default-value row chosen for an (origin, CN) pair.
type DefaultMatch struct {
	Row DefaultValue
	// MatchedCN is the table's code that matched the input (longest prefix).
	MatchedCN string
	// Fallback is set when the origin's own row was missing or empty and
	// the "Other countries and territories" row was used instead.
	Fallback       bool
	FallbackReason string
}

// LookupDefault finds the default value for a good (8-digit CN code or
// 10-digit TARIC code) from origin (ISO alpha-2). The table's codes are
// coarser (4, 6 or 8 digits) or, in the IR (EU) 2026/1740 annex, finer
// (10-digit TARIC codes for clinker, hydraulic cements and calcined
// kaolinic clay): the longest table code that prefixes the input wins, and
// an 8-digit input whose table rows are 10-digit TARIC codes is resolved by
// the route (or refused as ambiguous). When the origin has no row for the
// good, or its row carries no value, the "Other countries and territories"
// row applies (IR (EU) 2025/2621 Annex I: those rows cover every origin not
// listed) and the match says so. route, when not empty, selects among rows
// that share a code (white/grey clinker and hydraulic cements).
func (d *Dataset) LookupDefault(origin, cn, route string) (DefaultMatch, error) {
	if _, ok := SectorOfCN(cn); !ok || !reGoodCode.MatchString(cn) {
		return DefaultMatch{}, fmt.Errorf("%w: %q (an 8-digit CN code or 10-digit TARIC code of a good in Annex I of Reg. (EU) 2023/956 is required)", ErrUnknownCN, cn)
	}
	if euMembers[origin] {
		return DefaultMatch{}, fmt.Errorf("%w: %s", ErrOriginInEU, origin)
	}
	if annexIII[origin] {
		return DefaultMatch{}, fmt.Errorf("%w: %s", ErrOriginExempt, origin)
	}
	if origin != OtherCountries {
		if _, ok := isoCountries[origin]; !ok {
			return DefaultMatch{}, fmt.Errorf("%w %q", ErrUnknownCountry, origin)
		}
	}
	var reason string
	var own *emptyRowError
	if d.countries[origin] {
		m, err := d.lookupIn(origin, cn, route)
		errors.As(err, &own)
		switch {
		case err == nil:
			return m, nil
		case errors.Is(err, ErrNoDefaultValue):
			reason = fmt.Sprintf("%s has no default value for %s in the dataset", CountryName(origin), cn)
		default:
			return DefaultMatch{}, err
		}
	} else {
		reason = fmt.Sprintf("%s has no rows in the dataset", CountryName(origin))
	}
	m, err := d.lookupIn(OtherCountries, cn, route)
	var other *emptyRowError
	if errors.As(err, &other) && own != nil {
		// Both rows are empty (a heading such as 3102): say so of both, and
		// name the finer codes that carry values.
		finer := own.finer
		if len(finer) == 0 {
			finer = other.finer
		}
		return DefaultMatch{}, fmt.Errorf("%w for %s from %s (line %d is empty) nor from %s (line %d is empty)%s", ErrNoDefaultValue, cn,
			CountryName(origin), own.line, CountryName(OtherCountries), other.line, finerHint(finer))
	}
	if err != nil {
		return DefaultMatch{}, err
	}
	m.Fallback, m.FallbackReason = true, reason+"; the value for other countries and territories applies"
	return m, nil
}

func (d *Dataset) lookupIn(country, cn, route string) (DefaultMatch, error) {
	for _, n := range []int{10, 8, 6, 4} {
		if n > len(cn) {
			continue
		}
		code := cn[:n]
		if bad, ok := d.bad[country+"|"+code]; ok {
			return DefaultMatch{}, fmt.Errorf("%w: %s line %d (%s); no value is guessed for %s from %s", ErrMalformedDefault, bad.File, bad.Line, bad.Reason, cn, CountryName(country))
		}
		rows := d.defaults[country+"|"+code]
		if n == 8 && len(rows) == 0 {
			// The table splits this CN code into TARIC codes: a 10-digit
			// input that matched none of them has no default value (a
			// coarser row would be another good); an 8-digit input is
			// resolved among them by route.
			if kids := d.taric[country+"|"+code]; len(kids) > 0 {
				if len(cn) == 10 {
					return DefaultMatch{}, fmt.Errorf("%w for TARIC code %s from %s (the table has %s)", ErrNoDefaultValue, cn, CountryName(country), describeRows(kids))
				}
				rows = kids
			}
		}
		if len(rows) == 0 {
			continue
		}
		var cands []DefaultValue
		for _, r := range rows {
			if route == "" || r.Route == route || len(rows) == 1 {
				cands = append(cands, r)
			}
		}
		switch {
		case len(cands) == 0:
			return DefaultMatch{}, fmt.Errorf("%w: route %q for %s from %s (the table has %s)", ErrRouteMismatch, route, code, CountryName(country), describeRows(rows))
		case len(cands) > 1:
			return DefaultMatch{}, fmt.Errorf("%w: %s from %s has %s", ErrAmbiguousGood, code, CountryName(country), describeRows(cands))
		}
		if !cands[0].HasValue {
			return DefaultMatch{}, &emptyRowError{cn: cn, country: country, line: cands[0].Line, finer: d.finerCodes(country, cn, code)}
		}
		return DefaultMatch{Row: cands[0], MatchedCN: cands[0].CN}, nil
	}
	return DefaultMatch{}, fmt.Errorf("%w for %s from %s", ErrNoDefaultValue, cn, CountryName(country))
}

func describeRows(rows []DefaultValue) string {
	parts := make([]string, len(rows))
	for i, r := range rows {
		parts[i] = fmt.Sprintf("%s %q route %q (line %d)", r.CN, r.Description, r.Route, r.Line)
	}
	return strings.Join(parts, ", ")
}

// BenchmarkChoice is the benchmark used for a good and the rule that chose it.
type BenchmarkChoice struct {
	Value  decimal.Decimal `json:"value"`
	Route  string          `json:"route,omitempty"`
	Grade  string          `json:"grade,omitempty"`
	Line   int             `json:"line,omitempty"`
	Column string          `json:"column"` // "B" (with default values) or "A" (actual data, given by the caller)
	Rule   string          `json:"rule"`
}

// BenchmarkB returns the column-B benchmark of an 8-digit CN code for route.
// Where the table distinguishes production routes, route selects the row (it
// is the route letter of the good's default value, or the one the caller
// gives); where alloy grades (1)/(2) differ, the highest value applies
// (ASSUMPTION 4: the benchmark annex of IR (EU) 2025/2620 gives one value
// per alloy grade, footnotes (1)/(2); no text found here says which one an
// importer using default values applies, so the highest is taken, the
// conservative choice that IR (EU) 2025/2621 recital (3) makes for default
// values).
func (d *Dataset) BenchmarkB(cn, route string) (BenchmarkChoice, error) {
	if len(cn) == 10 {
		// The benchmark annex is keyed on 8-digit CN codes; a TARIC code's
		// route letter picks the row.
		cn = cn[:8]
	}
	rows := d.benchmarks[cn]
	if len(rows) == 0 {
		if near := d.benchmarkCodesUnder(cn); len(near) > 0 {
			// The annex splits some codes finer than the default-value
			// table (7601 10 00 into 7601 10 10 and 7601 10 90).
			return BenchmarkChoice{}, fmt.Errorf("%w for %s: the benchmark annex lists %s under %s; give one of them", ErrNoBenchmark, cn, strings.Join(near, ", "), strings.TrimRight(cn, "0"))
		}
		return BenchmarkChoice{}, fmt.Errorf("%w for %s", ErrNoBenchmark, cn)
	}
	routes := map[string]bool{}
	for _, r := range rows {
		if r.Route != "" {
			routes[r.Route] = true
		}
	}
	var cands []Benchmark
	rule := "single benchmark"
	switch {
	case len(routes) == 0:
		cands = rows
	case route == "":
		return BenchmarkChoice{}, fmt.Errorf("%w: %s has routes %s", ErrRouteRequired, cn, routeList(routes))
	default:
		for _, r := range rows {
			if r.Route == route {
				cands = append(cands, r)
			}
		}
		if len(cands) == 0 {
			return BenchmarkChoice{}, fmt.Errorf("%w: route %s for %s (the table has %s)", ErrRouteMismatch, route, cn, routeList(routes))
		}
		rule = "route " + route
	}
	best := cands[0]
	for _, c := range cands[1:] {
		if c.Value.GreaterThan(best.Value) {
			best = c
		}
	}
	if len(cands) > 1 {
		rule += "; highest of the alloy grades"
	}
	return BenchmarkChoice{Value: best.Value, Route: best.Route, Grade: best.Grade, Line: best.Line, Column: "B", Rule: rule}, nil
}

// benchmarkCodesUnder lists the benchmark annex's 8-digit codes that refine
// cn (share its digits up to its trailing zeros), at most 12.
func (d *Dataset) benchmarkCodesUnder(cn string) []string {
	prefix := strings.TrimRight(cn, "0")
	if len(prefix) < 4 {
		prefix = cn[:min(4, len(cn))]
	}
	var out []string
	for code := range d.benchmarks {
		if code != cn && strings.HasPrefix(code, prefix) {
			out = append(out, code)
		}
	}
	sort.Strings(out)
	if len(out) > 12 {
		out = append(out[:12], "…")
	}
	return out
}

// Routes lists the production route letters the dataset knows.
func (d *Dataset) Routes() []string { return slices.Sorted(maps.Keys(d.routes)) }

func routeList(m map[string]bool) string {
	var s []string
	for r := range m {
		s = append(s, r)
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}

// Countries lists the ISO codes with rows in the dataset (OtherCountries included).
func (d *Dataset) Countries() []string {
	var s []string
	for c := range d.countries {
		s = append(s, c)
	}
	sort.Strings(s)
	return s
}

// emptyRowError is a matched default-value row without a value (a heading
// such as 3102 "Mineral or chemical fertilizers, nitrogenous").
type emptyRowError struct {
	cn, country string
	line        int
	finer       []string
}

func (e *emptyRowError) Error() string {
	return fmt.Sprintf("%v for %s from %s (line %d is empty)%s", ErrNoDefaultValue, e.cn, CountryName(e.country), e.line, finerHint(e.finer))
}

func (e *emptyRowError) Unwrap() error { return ErrNoDefaultValue }

func finerHint(finer []string) string {
	if len(finer) == 0 {
		return ""
	}
	return "; the table has values for the finer codes " + strings.Join(finer, ", ") + ": give the good's own code"
}

// finerCodes returns the country's codes with a value that are finer than
// the matched row's code and share the longest prefix with cn (31021012,
// 31021015, 31021019 for 31021010 under the empty heading 3102).
func (d *Dataset) finerCodes(country, cn, matched string) []string {
	for n := len(cn) - 1; n > len(matched); n-- {
		prefix := country + "|" + cn[:n]
		var out []string
		for k, rows := range d.defaults {
			if !strings.HasPrefix(k, prefix) || k == country+"|"+cn {
				continue
			}
			for _, r := range rows {
				if r.HasValue {
					out = append(out, r.CN)
					break
				}
			}
		}
		if len(out) > 0 {
			slices.Sort(out)
			return slices.Compact(out)
		}
	}
	return nil
}
