package rulebook

import (
	"slices"
	"testing"
)

func TestRecognitionMatrix(t *testing.T) {
	rb := mustDefault(t)
	for _, sector := range rb.MatrixSectors() {
		m, err := rb.RecognitionMatrix(sector)
		if err != nil {
			t.Fatal(err)
		}
		n := len(m.Programmes)
		if n != 7 || len(m.Cells) != n {
			t.Fatalf("%s: %d programmes, %d rows", sector, n, len(m.Cells))
		}
		for i := range n {
			if m.Cells[i][i].Label != LabelSameProgramme {
				t.Errorf("%s: diagonal %s is %q", sector, m.Programmes[i], m.Cells[i][i].Label)
			}
			for j := range n {
				a, b := m.Cells[i][j], m.Cells[j][i]
				if a.Status != b.Status || a.Label != b.Label || !slices.Equal(a.CommonBasis, b.CommonBasis) {
					t.Errorf("%s: %s/%s not symmetric: %+v vs %+v", sector, a.A, a.B, a, b)
				}
				if a.Status != NotRecognised && i != j && (a.Cite == nil || a.Cite.Title == "") {
					t.Errorf("%s: recognised pair %s/%s has no source", sector, a.A, a.B)
				}
			}
		}
	}
}

func TestRecognitionPairs(t *testing.T) {
	rb := mustDefault(t)
	tests := []struct {
		a, b, sector string
		status       string
		label        string
	}{
		{"SPE-GRK", "GS", "cement", RecognisedWithConditions, "recognised with conditions"},
		{"gs", "spe-grk", "power", RecognisedWithConditions, "recognised with conditions"},
		{"SPE-GRK", "JCM", "steel", RecognisedWithConditions, "recognised with conditions"},
		{"SPE-GRK", "VCS", "power", NotRecognised, "not recognised"},
		{"CCER", "VCS", "power", NotRecognised, LabelNoAgreement},
		{"CCER", "T-VER", "steel", NotRecognised, LabelNoAgreement},
		{"PACM", "JCM", "cement", NotRecognised, LabelNoAgreement},
	}
	for _, tt := range tests {
		c, err := rb.Recognition(tt.a, tt.b, tt.sector)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != tt.status || c.Label != tt.label {
			t.Errorf("%s/%s %s: %s %q, want %s %q", tt.a, tt.b, tt.sector, c.Status, c.Label, tt.status, tt.label)
		}
		if tt.status == RecognisedWithConditions && len(c.Conditions) == 0 {
			t.Errorf("%s/%s: no conditions", tt.a, tt.b)
		}
	}
	if _, err := rb.Recognition("CCER", "XYZ", "power"); err == nil {
		t.Error("unknown programme accepted")
	}
	if _, err := rb.Recognition("CCER", "VCS", "tourism"); err == nil {
		t.Error("unknown sector accepted")
	}
}

func TestCommonBasisIsDerivedFromMethodologies(t *testing.T) {
	rb := mustDefault(t)
	c, _ := rb.Recognition("VCS", "GS", "power")
	if !slices.Contains(c.CommonBasis, "CDM-ACM0002") {
		t.Errorf("VCS/GS power common basis = %v, want CDM-ACM0002", c.CommonBasis)
	}
	if c.Label != LabelNoAgreement {
		t.Errorf("a shared basis must not read as recognition: %q", c.Label)
	}
	c, _ = rb.Recognition("VCS", "GS", "cement")
	if !slices.Contains(c.CommonBasis, "CDM-ACM0012") || slices.Contains(c.CommonBasis, "CDM-ACM0005") {
		t.Errorf("VCS/GS cement common basis = %v, want ACM0012 only (GS has no ACM0005 record)", c.CommonBasis)
	}
	c, _ = rb.Recognition("CCER", "VCS", "power")
	if len(c.CommonBasis) != 0 {
		t.Errorf("CCER/VCS common basis = %v, want none", c.CommonBasis)
	}
}

func TestMRVComparison(t *testing.T) {
	rb := mustDefault(t)
	want := []string{"power", "steel", "cement", "aluminium"}
	if !slices.Equal(rb.MRVSectors(), want) {
		t.Fatalf("sectors %v, want %v", rb.MRVSectors(), want)
	}
	for _, s := range want {
		tab, err := rb.MRVComparison(s)
		if err != nil {
			t.Fatal(err)
		}
		if len(tab.Regimes) != 3 || len(tab.Rows) != 5 {
			t.Fatalf("%s: %d regimes, %d rows", s, len(tab.Regimes), len(tab.Rows))
		}
		for _, row := range tab.Rows {
			if len(row.Cells) != 3 {
				t.Fatalf("%s/%s: %d cells", s, row.Aspect.ID, len(row.Cells))
			}
			for i, c := range row.Cells {
				if c.Regime != tab.Regimes[i].ID || c.Cite.Title == "" || c.Text == "" {
					t.Errorf("%s/%s cell %d: %+v", s, row.Aspect.ID, i, c)
				}
			}
		}
	}
	if _, err := rb.MRVComparison("fertilisers"); err == nil {
		t.Error("sector without comparison accepted")
	}
}
