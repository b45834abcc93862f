package cbam

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// PricePeriod is the period a certificate price applies to: a quarter for
// 2026 imports, a week (ISO week number) from 2027 (Reg. (EU) 2023/956
// Art. 21(1) as amended by Reg. (EU) 2025/2083; IR (EU) 2025/2548).
type PricePeriod struct {
	Year    int
	Quarter int // 1–4 for 2026
	Week    int // ISO week for 2027+
}

func (p PricePeriod) String() string {
	if p.Week > 0 {
		return fmt.Sprintf("%d-W%02d", p.Year, p.Week)
	}
	return fmt.Sprintf("%d-Q%d", p.Year, p.Quarter)
}

var rePeriod = regexp.MustCompile(`^([0-9]{4})-(Q[1-4]|W[0-9]{2})$`)

// ParsePricePeriod reads "2026-Q3" or "2027-W05".
func ParsePricePeriod(s string) (PricePeriod, error) {
	m := rePeriod.FindStringSubmatch(strings.ToUpper(strings.TrimSpace(s)))
	if m == nil {
		return PricePeriod{}, fmt.Errorf("price period %q is not YYYY-Qn or YYYY-Wnn", s)
	}
	y, _ := strconv.Atoi(m[1])
	n, _ := strconv.Atoi(m[2][1:])
	if y < FirstDefinitiveYear {
		return PricePeriod{}, fmt.Errorf("price period %q is before the definitive period", s)
	}
	if m[2][0] == 'Q' {
		return PricePeriod{Year: y, Quarter: n}, nil
	}
	if n < 1 || n > 53 {
		return PricePeriod{}, fmt.Errorf("price period %q: week %d is not 1–53", s, n)
	}
	return PricePeriod{Year: y, Week: n}, nil
}

// Price statuses of a price table row.
const (
	// PricePublished is a price published by the Commission and checked
	// against a report of that publication.
	PricePublished = "published"
	// PriceUnverified is a price used but not confirmed against the
	// Commission's publication; results that use it say so.
	PriceUnverified = "unverified"
	// PriceUnknown is a period whose price this table does not have (not
	// yet published, or published but not found): no price is guessed.
	PriceUnknown = "unknown"
	// PriceUser is a price the user supplied.
	PriceUser = "user"
)

// CertificatePrice is one row of a price table.
type CertificatePrice struct {
	Period    PricePeriod     `json:"-"`
	PeriodS   string          `json:"period"`
	Price     decimal.Decimal `json:"price,omitempty"`
	HasPrice  bool            `json:"has_price"`
	Status    string          `json:"status"`
	Published string          `json:"published,omitempty"` // publication date (YYYY-MM-DD), due or past
	Source    string          `json:"source"`
}

// PriceTable is a set of certificate prices by period, each with its
// status and source. The embedded one is data/cbam-certificate-prices.csv;
// a user's table has the same columns (period;price_eur;status;published;
// source, only period and price_eur required).
type PriceTable struct {
	File string
	rows map[PricePeriod]CertificatePrice
}

//go:embed data/cbam-certificate-prices.csv
var embeddedPrices []byte

var embeddedPriceTable = func() *PriceTable {
	t, err := ParsePriceTable(embeddedPrices, "cbam-certificate-prices.csv")
	if err != nil {
		panic(err)
	}
	return t
}()

// EmbeddedPrices returns the price table shipped in the binary.
func EmbeddedPrices() *PriceTable { return embeddedPriceTable }

// ParsePriceTable reads a price table: a header naming the columns period
// and price_eur (and optionally status, published, source), separated by
// ";" or ",", decimals with a point. A row without a price must have status
// unknown; a row with a price and no status is the user's (status user).
func ParsePriceTable(raw []byte, name string) (*PriceTable, error) {
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	src := NewCSVRows(bytes.NewReader(raw))
	header, _, err := src.Next()
	if err != nil {
		return nil, fmt.Errorf("cbam: price table %s: header: %w", name, err)
	}
	ncol := len(header)
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		switch h {
		case "period", "price_eur", "status", "published", "source":
		default:
			return nil, fmt.Errorf("cbam: price table %s: unknown column %q (known: period, price_eur, status, published, source)", name, h)
		}
		if _, dup := col[h]; dup {
			return nil, fmt.Errorf("cbam: price table %s: column %q twice", name, h)
		}
		col[h] = i
	}
	for _, req := range []string{"period", "price_eur"} {
		if _, ok := col[req]; !ok {
			return nil, fmt.Errorf("cbam: price table %s: column %q missing", name, req)
		}
	}
	t := &PriceTable{File: name, rows: map[PricePeriod]CertificatePrice{}}
	for {
		rec, row, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("cbam: price table %s: %w", name, err)
		}
		if blank(rec) {
			continue
		}
		get := func(c string) string {
			i, ok := col[c]
			if !ok || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		bad := func(format string, a ...any) error {
			return fmt.Errorf("cbam: price table %s: row %d: %s", name, row, fmt.Sprintf(format, a...))
		}
		// A separator inside an unquoted source would otherwise cut the
		// source short without a word.
		if len(rec) > ncol {
			return nil, bad("%d fields for %d columns: quote a value that contains the separator", len(rec), ncol)
		}
		p, err := ParsePricePeriod(get("period"))
		if err != nil {
			return nil, bad("%v", err)
		}
		if _, dup := t.rows[p]; dup {
			return nil, bad("period %s twice", p)
		}
		cp := CertificatePrice{Period: p, PeriodS: p.String(), Status: get("status"), Published: get("published"), Source: get("source")}
		if s := get("price_eur"); s != "" {
			v, err := parseDecimal(s, true)
			if err != nil || !v.IsPositive() {
				return nil, bad("price_eur %q is not a positive decimal with a point", s)
			}
			cp.Price, cp.HasPrice = v, true
		}
		switch {
		case cp.Status == "" && cp.HasPrice:
			cp.Status = PriceUser
		case cp.Status == "" || cp.Status == PriceUnknown:
			if cp.HasPrice {
				return nil, bad("status unknown with a price")
			}
			cp.Status = PriceUnknown
		case cp.Status == PricePublished || cp.Status == PriceUnverified || cp.Status == PriceUser:
			if !cp.HasPrice {
				return nil, bad("status %s without a price", cp.Status)
			}
		default:
			return nil, bad("status %q is not published, unverified, unknown or user", cp.Status)
		}
		if cp.Source == "" && cp.Status == PriceUser {
			cp.Source = "price table " + name
		}
		t.rows[p] = cp
	}
	if len(t.rows) == 0 {
		return nil, errors.New("cbam: price table " + name + ": no rows")
	}
	return t, nil
}

// Lookup returns the row of period, if the table has one.
func (t *PriceTable) Lookup(p PricePeriod) (CertificatePrice, bool) {
	if t == nil {
		return CertificatePrice{}, false
	}
	cp, ok := t.rows[p]
	return cp, ok
}

// Rows returns the table's rows in period order.
func (t *PriceTable) Rows() []CertificatePrice {
	out := make([]CertificatePrice, 0, len(t.rows))
	for _, r := range t.rows {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return periodLess(out[i].Period, out[j].Period) })
	return out
}

func periodLess(a, b PricePeriod) bool {
	if a.Year != b.Year {
		return a.Year < b.Year
	}
	return a.Quarter*100+a.Week < b.Quarter*100+b.Week
}

// PublishedPrice returns the certificate price of period from the embedded
// table, when it has one (published or unverified: see its status).
func PublishedPrice(p PricePeriod) (CertificatePrice, bool) {
	cp, ok := embeddedPriceTable.Lookup(p)
	return cp, ok && cp.HasPrice
}

// priceChoice is the price of a line and where it came from.
type priceChoice struct {
	price  decimal.Decimal
	source string
	status string
	ok     bool
	// missing says plainly why there is no price and what to do; note is
	// said with a price that is not confirmed.
	missing, note string
}

// priceHelp is what a user can do about a missing price, in both the CLI's
// and the API's terms.
const priceHelp = "give the price of the line (CLI --price, API lines[].price) or a price table (CLI --price-table FILE, API prices)"

// price chooses the line's certificate price: the line's own, then for
// 2026 imports the user's price of the quarter (Params.Prices) or the
// embedded table's. From 2027 the price is the weekly average of the week
// in which the certificates are bought (Reg. (EU) 2023/956 Art. 21(1) as
// amended by Reg. (EU) 2025/2083; IR (EU) 2025/2548), which the import
// quarter does not determine: a 2027+ line is priced only by its own price.
func (c *Calculator) price(l Line) priceChoice {
	if l.Price.IsPositive() {
		return priceChoice{price: l.Price, source: "given", status: PriceUser, ok: true}
	}
	// The choice depends only on the period: cached, so a stream of lines
	// does not format the same sentences again.
	k := PricePeriod{Year: l.Year, Quarter: l.Quarter}
	if pc, ok := c.prices[k]; ok {
		return pc
	}
	pc := c.periodPrice(l)
	if pc.status == PriceUnverified {
		pc.note = fmt.Sprintf("certificate price %s of %s is unverified (not confirmed against the Commission's publication); %s to replace it", pc.price, k, priceHelp)
	}
	c.prices[k] = pc
	return pc
}

func (c *Calculator) periodPrice(l Line) priceChoice {
	if l.Year != 2026 {
		return priceChoice{missing: fmt.Sprintf("no certificate price: from 2027 the price is the weekly average of the week in which the certificates are bought, which the import date does not fix; %s", priceHelp)}
	}
	if l.Quarter == 0 {
		return priceChoice{missing: "no certificate price: 2026 imports are priced at the average of their import quarter; give the quarter, or " + priceHelp}
	}
	p := PricePeriod{Year: l.Year, Quarter: l.Quarter}
	if v, ok := c.params.Prices[p]; ok {
		src := c.params.PriceSource
		if src == "" {
			src = "parameter"
		}
		return priceChoice{price: v, source: src + " " + p.String(), status: PriceUser, ok: true}
	}
	cp, ok := embeddedPriceTable.Lookup(p)
	switch {
	case ok && cp.HasPrice:
		return priceChoice{price: cp.Price, source: cp.Status + " " + p.String() + ": " + cp.Source, status: cp.Status, ok: true}
	case ok && cp.Published != "":
		return priceChoice{status: PriceUnknown, missing: fmt.Sprintf("no certificate price for %s (publication date %s): this tool's price table does not have the value (%s); %s", p, cp.Published, cp.Source, priceHelp)}
	}
	return priceChoice{status: PriceUnknown, missing: fmt.Sprintf("no certificate price for %s in this tool's price table; %s", p, priceHelp)}
}

// Prices returns the table's priced rows as Params.Prices.
func (t *PriceTable) Prices() map[PricePeriod]decimal.Decimal {
	out := map[PricePeriod]decimal.Decimal{}
	for p, r := range t.rows {
		if r.HasPrice {
			out[p] = r.Price
		}
	}
	return out
}
