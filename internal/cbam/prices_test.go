package cbam

import (
	"strings"
	"testing"
)

// The embedded price table: Q1 2026 published (€75.36, 7 April 2026), Q2
// used but unverified, Q3 (published 5 October 2026) and Q4 unknown: no
// official source for their values was found, so none is guessed.
func TestEmbeddedPriceTable(t *testing.T) {
	t.Parallel()
	want := map[string]struct {
		price, status, published string
	}{
		"2026-Q1": {"75.36", PricePublished, "2026-04-07"},
		"2026-Q2": {"75.28", PriceUnverified, "2026-07-06"},
		"2026-Q3": {"", PriceUnknown, "2026-10-05"},
		"2026-Q4": {"", PriceUnknown, "2027-01-04"},
	}
	rows := EmbeddedPrices().Rows()
	if len(rows) != len(want) {
		t.Fatalf("%d rows", len(rows))
	}
	for _, r := range rows {
		w := want[r.PeriodS]
		if r.Status != w.status || r.Published != w.published || r.HasPrice != (w.price != "") || (r.HasPrice && !r.Price.Equal(d(w.price))) || r.Source == "" {
			t.Errorf("%s: %+v, want %+v", r.PeriodS, r, w)
		}
	}
}

func TestMissingPriceSaidPlainly(t *testing.T) {
	t.Parallel()
	c := calculator(t)
	r, err := c.Obligation(Line{Origin: "CN", CN: "72081000", Tonnes: d("1000"), Year: 2026, Quarter: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r.HasPrice || !r.CostEUR.IsZero() || r.PriceStatus != PriceUnknown {
		t.Fatalf("Q3 priced: %s %s %s", r.Price, r.CostEUR, r.PriceStatus)
	}
	note := strings.Join(r.Notes, " | ")
	for _, want := range []string{"no certificate price for 2026-Q3", "2026-10-05", "--price-table", "API prices"} {
		if !strings.Contains(note, want) {
			t.Errorf("notes lack %q: %s", want, note)
		}
	}
	r, err = c.Obligation(Line{Origin: "CN", CN: "72081000", Tonnes: d("1000"), Year: 2026, Quarter: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !r.HasPrice || r.PriceStatus != PriceUnverified || !strings.Contains(strings.Join(r.Notes, " "), "unverified") {
		t.Errorf("Q2: status %q notes %v", r.PriceStatus, r.Notes)
	}
	r, _ = c.Obligation(Line{Origin: "CN", CN: "72081000", Tonnes: d("1000"), Year: 2026, Quarter: 1})
	if r.PriceStatus != PricePublished || strings.Contains(strings.Join(r.Notes, " "), "price") {
		t.Errorf("Q1: status %q notes %v", r.PriceStatus, r.Notes)
	}
}

// A user's price table fills the quarter the embedded table lacks.
func TestUserPriceTable(t *testing.T) {
	t.Parallel()
	pt, err := ParsePriceTable([]byte("period,price_eur\n2026-Q3,70.10\n"), "mine.csv")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := Embedded()
	c := NewCalculator(data, Params{Prices: pt.Prices(), PriceSource: "price table mine.csv"})
	r, err := c.Obligation(Line{Origin: "CN", CN: "72081000", Tonnes: d("1000"), Year: 2026, Quarter: 3})
	if err != nil {
		t.Fatal(err)
	}
	// 2169.8323 × 70.10 = 152105.24423.
	if !r.HasPrice || r.PriceStatus != PriceUser || !r.CostEUR.Equal(d("152105.24")) || !strings.Contains(r.PriceSource, "mine.csv") {
		t.Errorf("price %s status %s cost %s source %q", r.Price, r.PriceStatus, r.CostEUR, r.PriceSource)
	}
	for _, bad := range []string{
		"period;price_eur;status\n2026-Q3;70;unknown\n",
		"period;price_eur;status\n2026-Q3;;published\n",
		"period;price_eur\n2026-Q5;70\n",
		"period;price_eur\n2026-Q3;-70\n",
		"period;price_eur\n2026-Q3;70\n2026-Q3;71\n",
		"period;price\n2026-Q3;70\n",
	} {
		if _, err := ParsePriceTable([]byte(bad), "bad.csv"); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func FuzzParsePriceTable(f *testing.F) {
	f.Add(embeddedPrices)
	f.Add([]byte("period,price_eur\n2026-Q3,70.10\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		pt, err := ParsePriceTable(raw, "f.csv")
		if err != nil {
			return
		}
		for _, r := range pt.Rows() {
			if r.HasPrice != r.Price.IsPositive() || (r.Status == PriceUnknown) == r.HasPrice {
				t.Errorf("inconsistent row %+v", r)
			}
		}
	})
}

// TestPriceTableRefusesExtraFields: a separator inside an unquoted source
// used to cut the source short silently (the shipped table lost half of
// its Q1 source that way); a row with more fields than columns is refused,
// naming the row, and a quoted value is read whole.
func TestPriceTableRefusesExtraFields(t *testing.T) {
	t.Parallel()
	_, err := ParsePriceTable([]byte("period;price_eur;source\n2026-Q3;70.10;Commission; CBAM web page\n"), "p.csv")
	if err == nil || !strings.Contains(err.Error(), "row 2") || !strings.Contains(err.Error(), "quote") {
		t.Fatalf("extra field: %v", err)
	}
	tb, err := ParsePriceTable([]byte("period;price_eur;source\n2026-Q3;70.10;\"Commission; CBAM web page\"\n"), "p.csv")
	if err != nil {
		t.Fatal(err)
	}
	if cp, _ := tb.Lookup(PricePeriod{Year: 2026, Quarter: 3}); cp.Source != "Commission; CBAM web page" {
		t.Errorf("quoted source read as %q", cp.Source)
	}
	for _, r := range EmbeddedPrices().Rows() {
		if !strings.Contains(r.Source, "IR (EU) 2025/2548") {
			t.Errorf("%s: source cut short or without its legal basis: %q", r.PeriodS, r.Source)
		}
	}
	if cp, _ := EmbeddedPrices().Lookup(PricePeriod{Year: 2026, Quarter: 1}); !strings.Contains(cp.Source, "https://") {
		t.Errorf("Q1 source lost the address of the report it rests on: %q", cp.Source)
	}
}
