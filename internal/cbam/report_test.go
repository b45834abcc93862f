package cbam

import (
	"bytes"
	"testing"
	"time"
)

// The text reports of `corridor cbam` are the package's: a golden file
// each (go test -update rewrites them).
func TestReportsGolden(t *testing.T) {
	t.Parallel()
	c := calculator(t)
	l := Line{Origin: "CN", CN: "72081000", Tonnes: d("1000"), Year: 2026, Quarter: 3}
	r, err := c.Obligation(l)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Project(l)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteLineReport(&b, r, &p, nil); err != nil {
		t.Fatal(err)
	}
	golden(t, "line-report.golden.txt", b.Bytes())

	b.Reset()
	decl := NewDeclaration()
	decl.Add(r)
	WriteRunReport(&b, RunSummary{Lines: 2, Errors: 1, Years: decl.Years(), FirstErrors: []string{"row 3: origin: unknown country \"XX\""}}, 2*time.Second, c.Dataset())
	golden(t, "run-report.golden.txt", b.Bytes())
}
