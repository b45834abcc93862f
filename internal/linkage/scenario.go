package linkage

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Scenario is a linkage scenario as users write it (YAML or JSON): markets,
// the regions inside them with their MAC curves, the links between markets
// and the CBAM export flows. Every number is a Param carrying its source or
// marked as an assumption.
type Scenario struct {
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	// Currency of every price and cost (ISO 4217); quantities are MtCO2e.
	Currency string       `json:"currency" yaml:"currency"`
	Year     int          `json:"year" yaml:"year"`
	Markets  []MarketSpec `json:"markets" yaml:"markets"`
	Regions  []RegionSpec `json:"regions" yaml:"regions"`
	Links    []LinkSpec   `json:"links,omitempty" yaml:"links,omitempty"`
	CBAM     *CBAMSpec    `json:"cbam,omitempty" yaml:"cbam,omitempty"`
	// ExchangeRates converts parameters given in another currency (a Param
	// with currency set) into the scenario currency, which must be EUR.
	ExchangeRates *ExchangeRates `json:"exchange_rates,omitempty" yaml:"exchange_rates,omitempty"`
}

// ExchangeRates are euro reference rates from one named series: each rate
// is units of the currency per euro, the ECB's quotation (e.g. SGD 1.47
// means one euro costs 1.47 Singapore dollars).
type ExchangeRates struct {
	// Series names where the rates come from, e.g. "ECB euro foreign
	// exchange reference rates, annual average"; Year is its year.
	Series string           `json:"series" yaml:"series"`
	Year   int              `json:"year" yaml:"year"`
	Rates  map[string]Param `json:"rates" yaml:"rates"`
}

// Param is one number with its provenance. Low and High, when set, give the
// range a Monte Carlo run draws from (triangular with mode Value).
type Param struct {
	Value      float64  `json:"value" yaml:"value"`
	Low        *float64 `json:"low,omitempty" yaml:"low,omitempty"`
	High       *float64 `json:"high,omitempty" yaml:"high,omitempty"`
	Source     string   `json:"source,omitempty" yaml:"source,omitempty"`
	Assumption bool     `json:"assumption,omitempty" yaml:"assumption,omitempty"`
	Note       string   `json:"note,omitempty" yaml:"note,omitempty"`
	// Currency, when set on a tax, price floor or price ceiling, says the
	// value (and its range) is in that currency; Compile converts it into
	// the scenario currency at exchange_rates.
	Currency string `json:"currency,omitempty" yaml:"currency,omitempty"`
}

// Instrument is how a market prices carbon.
type Instrument string

const (
	// ETS is a cap-and-trade market: its regions' caps fix the abatement required.
	ETS Instrument = "ets"
	// Tax is a carbon tax: the domestic price is the tax, tradable units are
	// never exported, and imported credits (within the import limit) replace
	// taxed tonnes. Modelled as floor = ceiling = tax with export limit 0.
	Tax Instrument = "tax"
	// Offsets is a crediting host with no obligation of its own: it abates
	// and sells credits only (import limit 0), like the corridor's Tier-4 hosts.
	Offsets Instrument = "offsets"
)

// MarketSpec is one compliance market (one unit, one price).
type MarketSpec struct {
	ID           string     `json:"id" yaml:"id"`
	Name         string     `json:"name,omitempty" yaml:"name,omitempty"`
	Jurisdiction string     `json:"jurisdiction" yaml:"jurisdiction"`
	Instrument   Instrument `json:"instrument" yaml:"instrument"`
	Unit         string     `json:"unit,omitempty" yaml:"unit,omitempty"`
	// Tax is the tax rate (currency per tCO2e), for instrument tax only.
	Tax *Param `json:"tax,omitempty" yaml:"tax,omitempty"`
	// PriceFloor and PriceCeiling are hard: the authority withdraws or
	// issues units to hold the domestic price inside them.
	PriceFloor   *Param `json:"price_floor,omitempty" yaml:"price_floor,omitempty"`
	PriceCeiling *Param `json:"price_ceiling,omitempty" yaml:"price_ceiling,omitempty"`
	// ImportLimit caps the foreign units counted toward this market's
	// compliance (net imports); ExportLimit caps net exports.
	ImportLimit *Limit `json:"import_limit,omitempty" yaml:"import_limit,omitempty"`
	ExportLimit *Limit `json:"export_limit,omitempty" yaml:"export_limit,omitempty"`
}

// Limit is a quantitative limit: a share of the market's cap (for a tax, of
// its taxed emissions) or a number of MtCO2e. Exactly one is set.
type Limit struct {
	ShareOfCap *Param `json:"share_of_cap,omitempty" yaml:"share_of_cap,omitempty"`
	Tonnes     *Param `json:"tonnes,omitempty" yaml:"tonnes,omitempty"`
}

// RegionSpec is one region or sector inside a market, with its own curve.
type RegionSpec struct {
	ID     string `json:"id" yaml:"id"`
	Market string `json:"market" yaml:"market"`
	Sector string `json:"sector,omitempty" yaml:"sector,omitempty"`
	// BAU is business-as-usual emissions, MtCO2e per year.
	BAU Param `json:"bau" yaml:"bau"`
	// Cap is the region's allowance budget, MtCO2e (ets markets only).
	Cap *Param `json:"cap,omitempty" yaml:"cap,omitempty"`
	// AllowSurplus permits a cap above BAU (over-allocation, "hot air").
	AllowSurplus bool    `json:"allow_surplus,omitempty" yaml:"allow_surplus,omitempty"`
	MAC          MACSpec `json:"mac" yaml:"mac"`
}

// MACSpec describes a region's marginal abatement cost curve.
type MACSpec struct {
	Kind         CurveKind   `json:"kind" yaml:"kind"`
	Coefficients []float64   `json:"coefficients,omitempty" yaml:"coefficients,omitempty"`
	Points       [][]float64 `json:"points,omitempty" yaml:"points,omitempty"`
	// Scale multiplies every price on the curve (default 1); give it a range
	// to make the curve uncertain in Monte Carlo runs.
	Scale      *Param `json:"scale,omitempty" yaml:"scale,omitempty"`
	Source     string `json:"source,omitempty" yaml:"source,omitempty"`
	Assumption bool   `json:"assumption,omitempty" yaml:"assumption,omitempty"`
	Note       string `json:"note,omitempty" yaml:"note,omitempty"`
}

// LinkSpec links two markets. Rate is the exchange rate: one unit of
// Between[0] counts as Rate units in Between[1] (default 1).
type LinkSpec struct {
	Between []string `json:"between" yaml:"between"`
	Rate    *Param   `json:"rate,omitempty" yaml:"rate,omitempty"`
	Note    string   `json:"note,omitempty" yaml:"note,omitempty"`
}

// CBAMSpec gives the export flows to the EU whose CBAM bill depends on the
// carbon price paid at home.
type CBAMSpec struct {
	// Year selects the CBAM free-allocation phase-out factor and the CSCF.
	Year int `json:"year" yaml:"year"`
	// CertificatePrice is the CBAM certificate price, EUR per certificate.
	CertificatePrice Param `json:"certificate_price" yaml:"certificate_price"`
	// EURPerCurrency converts the scenario currency into euros (1 for EUR).
	EURPerCurrency *Param     `json:"eur_per_currency,omitempty" yaml:"eur_per_currency,omitempty"`
	Flows          []CBAMFlow `json:"flows" yaml:"flows"`
}

// CBAMFlow is one export flow of CBAM goods to the EU, computed as one
// import line by the cbam package (see CBAMEffect).
type CBAMFlow struct {
	// Market is the exporting market whose price is paid at home.
	Market string `json:"market" yaml:"market"`
	Sector string `json:"sector" yaml:"sector"`
	// CNCode is the good's 8-digit CN code (Annex I of Reg. (EU) 2023/956).
	CNCode string `json:"cn_code" yaml:"cn_code"`
	// Origin is the country of production (ISO 3166-1 alpha-2); it
	// defaults to the market's jurisdiction.
	Origin string `json:"origin,omitempty" yaml:"origin,omitempty"`
	// Route is the production route letter (C BF-BOF, K primary aluminium …).
	Route string `json:"route,omitempty" yaml:"route,omitempty"`
	// Goods is the mass exported per year, Mt of goods.
	Goods Param `json:"goods" yaml:"goods"`
	// Actual are the installation's verified data. Without them the cbam
	// package's default value and column-B benchmark for the origin, code
	// and route apply, and no carbon price paid is deducted.
	Actual *CBAMActual `json:"actual,omitempty" yaml:"actual,omitempty"`
	// PaidShare is the share of embedded emissions on which the home carbon
	// price is effectively paid, net of free allocation and rebates. It
	// counts only with Actual: with default values Art. 9 deducts no
	// carbon price paid (see CBAMEffect).
	PaidShare Param `json:"paid_share" yaml:"paid_share"`

	// Replaced fields, kept so that an older scenario is told what replaced
	// them rather than meeting an unknown-field error.
	EmbeddedEmissions *Param `json:"embedded_emissions,omitempty" yaml:"embedded_emissions,omitempty"`
	DefaultValue      *Param `json:"default_value,omitempty" yaml:"default_value,omitempty"`
	Benchmark         *Param `json:"benchmark,omitempty" yaml:"benchmark,omitempty"`
}

// CBAMActual are actual (verified) data of a good's own production step,
// tCO2e per tonne of good, with the column-A benchmark of that step and the
// precursors it consumes (as cbam.ActualData).
type CBAMActual struct {
	Direct Param `json:"direct" yaml:"direct"`
	// Indirect counts only for goods outside Annex II of Reg. (EU) 2023/956.
	Indirect   *Param          `json:"indirect,omitempty" yaml:"indirect,omitempty"`
	BenchmarkA Param           `json:"benchmark_a" yaml:"benchmark_a"`
	Precursors []CBAMPrecursor `json:"precursors,omitempty" yaml:"precursors,omitempty"`
}

// CBAMPrecursor is a precursor consumed per tonne of the good, with its own
// actual data or, without them, the default values of its origin.
type CBAMPrecursor struct {
	CN string `json:"cn" yaml:"cn"`
	// Origin defaults to the good's origin.
	Origin         string      `json:"origin,omitempty" yaml:"origin,omitempty"`
	Route          string      `json:"route,omitempty" yaml:"route,omitempty"`
	TonnesPerTonne Param       `json:"tonnes_per_tonne" yaml:"tonnes_per_tonne"`
	Actual         *CBAMActual `json:"actual,omitempty" yaml:"actual,omitempty"`
}

// Jurisdictions are the codes a market may name: the corridor's
// jurisdictions (China and ASEAN), the Tier-4 crediting hosts, Japan and Korea as partners,
// and the EU as the CBAM reference.
var Jurisdictions = map[string]string{
	"CN": "China", "ID": "Indonesia", "VN": "Viet Nam", "TH": "Thailand", "MY": "Malaysia",
	"SG": "Singapore", "KH": "Cambodia", "LA": "Lao PDR", "MM": "Myanmar", "PH": "Philippines",
	"BN": "Brunei", "JP": "Japan", "KR": "Republic of Korea", "EU": "European Union",
}

// FieldError is a scenario problem located by its field path, such as
// regions[3].mac.coefficients[1].
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return "linkage: " + e.Field + ": " + e.Msg }

// ValidationError lists every problem found in a scenario.
type ValidationError struct {
	Problems []FieldError
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("linkage: invalid scenario: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Field + ": " + p.Msg)
	}
	return b.String()
}

//go:embed scenarios/*.yaml
var scenarioFS embed.FS

// DefaultScenarioName is the file of the shipped corridor scenario.
const DefaultScenarioName = "corridor-2026.yaml"

// DefaultScenarioYAML returns the shipped corridor scenario as written, for
// users to copy and edit.
func DefaultScenarioYAML() []byte {
	b, err := scenarioFS.ReadFile("scenarios/" + DefaultScenarioName)
	if err != nil {
		panic("linkage: embedded default scenario missing: " + err.Error())
	}
	return b
}

// DefaultScenario parses the shipped corridor scenario.
func DefaultScenario() (*Scenario, error) {
	return ParseScenario(DefaultScenarioYAML())
}

var yamlLine = regexp.MustCompile(`^yaml: (line \d+: )?`)

// ParseScenario reads a scenario from YAML or JSON (detected by a leading
// '{'), strictly: unknown fields are errors. The result is validated.
func ParseScenario(data []byte) (*Scenario, error) {
	var s Scenario
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return nil, fmt.Errorf("linkage: parse scenario JSON: %w", err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, errors.New("linkage: parse scenario JSON: data after the scenario object")
		}
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&s); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, errors.New("linkage: parse scenario: the file is empty")
			}
			return nil, fmt.Errorf("linkage: parse scenario YAML: %s", yamlLine.ReplaceAllString(err.Error(), "$1"))
		}
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Validate checks the scenario and returns a *ValidationError naming each
// bad field, or nil.
func (s *Scenario) Validate() error {
	_, err := Compile(s)
	return err
}

// validator collects field errors.
type validator struct{ problems []FieldError }

func (v *validator) add(field, format string, args ...any) {
	v.problems = append(v.problems, FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

// param checks provenance and the Monte Carlo range of p at field.
func (v *validator) param(field string, p *Param) {
	if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
		v.add(field+".value", "must be a finite number")
	}
	if strings.TrimSpace(p.Source) == "" && !p.Assumption {
		v.add(field, "needs a source, or assumption: true with a note saying why")
	}
	if p.Low != nil && *p.Low > p.Value {
		v.add(field+".low", "must be ≤ value (%g > %g)", *p.Low, p.Value)
	}
	if p.High != nil && *p.High < p.Value {
		v.add(field+".high", "must be ≥ value (%g < %g)", *p.High, p.Value)
	}
}

// nonNegative checks a parameter whose whole range must be ≥ 0 (or > 0).
func (v *validator) positive(field string, p *Param, strict bool) {
	v.param(field, p)
	lo := p.Value
	if p.Low != nil {
		lo = min(lo, *p.Low)
	}
	if strict && !(lo > 0) {
		v.add(field, "must be > 0 (range included), got %g", lo)
	} else if !strict && lo < 0 {
		v.add(field, "must be ≥ 0 (range included), got %g", lo)
	}
}
