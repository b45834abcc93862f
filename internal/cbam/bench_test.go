package cbam

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/shopspring/decimal"
)

// benchLines is a realistic mix of corridor flows (steel, aluminium, cement,
// fertilisers, hydrogen from China and ASEAN), years 2026–2034.
func benchLines(n int) []Line {
	flows := []struct{ origin, cn, route string }{
		{"CN", "72081000", ""}, {"CN", "72085120", ""}, {"VN", "72083900", ""}, {"TH", "72104900", ""},
		{"CN", "76011010", ""}, {"MY", "76061130", ""}, {"ID", "76012080", ""}, {"CN", "25231000", "A"},
		{"MY", "25232900", ""}, {"VN", "28141000", ""}, {"ID", "31021019", ""}, {"ID", "28041000", ""},
		{"LA", "72131000", ""}, {"KH", "73089059", ""}, {"PH", "72142000", ""}, {"SG", "73181100", ""},
	}
	out := make([]Line, n)
	for i := range out {
		f := flows[i%len(flows)]
		out[i] = Line{Origin: f.origin, CN: f.cn, Route: f.route, Tonnes: decimal.New(int64(1+i%997), -1), Year: 2026 + i%9, Quarter: 1 + i%2}
	}
	return out
}

func BenchmarkObligation(b *testing.B) {
	calc := calculator(b)
	lines := benchLines(4096)
	for _, l := range lines {
		if _, err := calc.Obligation(l); err != nil {
			b.Fatal(l, err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := calc.Obligation(lines[i%len(lines)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// generatedCSV streams n import lines as CSV without holding them in memory.
type generatedCSV struct {
	lines []Line
	n, i  int
	buf   bytes.Buffer
}

func (g *generatedCSV) Read(p []byte) (int, error) {
	for g.buf.Len() < len(p) && g.i <= g.n {
		if g.i == 0 {
			g.buf.WriteString("id,origin,cn,tonnes,year,quarter,route\n")
		} else {
			l := g.lines[g.i%len(g.lines)]
			fmt.Fprintf(&g.buf, "L%d,%s,%s,%s,%d,%d,%s\n", g.i, l.Origin, l.CN, l.Tonnes, l.Year, l.Quarter, l.Route)
		}
		g.i++
	}
	if g.buf.Len() == 0 {
		return 0, io.EOF
	}
	return g.buf.Read(p)
}

// BenchmarkRunCSV1M streams 1,000,000 lines CSV in → CSV out, end to end.
func BenchmarkRunCSV1M(b *testing.B) {
	const n = 1_000_000
	lines := benchLines(4096)
	b.ReportAllocs()
	for b.Loop() {
		calc := calculator(b)
		sink := NewCSVSink(io.Discard)
		sum, err := Run(context.Background(), calc, NewCSVRows(&generatedCSV{lines: lines, n: n}), sink, nil)
		if err != nil || sum.Lines != n || sum.Errors != 0 {
			b.Fatal(err, sum.Lines, sum.Errors, sum.FirstErrors)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "lines/s")
}
