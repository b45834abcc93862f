package cbam

import "testing"

// Reg. (EU) 2023/956 Art. 22(2) as amended by Reg. (EU) 2025/2083: at the
// end of each quarter hold certificates for at least 50 % of the embedded
// emissions of the goods imported since the beginning of the year.
func TestQuarterlyHolding(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"0", "0"}, {"-3", "0"}, {"100", "50"}, {"3505.582", "1753"}, {"1", "1"},
	} {
		if got := QuarterlyHolding(d(tc.in)); !got.Equal(d(tc.want)) {
			t.Errorf("QuarterlyHolding(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
	c := calculator(t)
	decl := NewDeclaration()
	// China 7208 in 2027: SEE total 3.186893 × 1.2 = 3.8242716; Q1 100 t, Q3 200 t.
	for _, l := range []Line{
		{Origin: "CN", CN: "72081000", Tonnes: d("100"), Year: 2027, Quarter: 1},
		{Origin: "CN", CN: "72081000", Tonnes: d("200"), Year: 2027, Quarter: 3},
		{Origin: "CN", CN: "72081000", Tonnes: d("100"), Year: 2026, Quarter: 1},
	} {
		r, err := c.Obligation(l)
		if err != nil {
			t.Fatal(err)
		}
		decl.Add(r)
	}
	years := decl.Years()
	if years[0].Year != 2026 || years[0].QuarterlyHolding != nil {
		t.Errorf("2026 has a quarterly holding: %+v", years[0].QuarterlyHolding)
	}
	q := years[1].QuarterlyHolding
	want := []struct{ emb, min string }{{"382.42716", "192"}, {"382.42716", "192"}, {"1147.28148", "574"}, {"1147.28148", "574"}}
	if len(q) != 4 {
		t.Fatalf("2027 quarterly holding %+v", q)
	}
	for i, w := range want {
		if !q[i].EmbeddedSinceJanuary.Equal(d(w.emb)) || !q[i].MinCertificates.Equal(d(w.min)) {
			t.Errorf("Q%d: %s / %s, want %s / %s", i+1, q[i].EmbeddedSinceJanuary, q[i].MinCertificates, w.emb, w.min)
		}
	}
}
