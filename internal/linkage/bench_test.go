package linkage

import "testing"

// BenchmarkSolveDefault12 measures one autarky-plus-linked equilibrium of the
// shipped 12-region scenario on one goroutine.
func BenchmarkSolveDefault12(b *testing.B) {
	s := NewSolver(defaultModel(b))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Solve(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "solves/s")
}

// BenchmarkSolveAndFill12 adds writing the full Result (regions, flows).
func BenchmarkSolveAndFill12(b *testing.B) {
	s := NewSolver(defaultModel(b))
	res := &Result{}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Solve(); err != nil {
			b.Fatal(err)
		}
		s.Fill(res)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "solves/s")
}

func TestSolveDoesNotAllocate(t *testing.T) {
	s := NewSolver(defaultModel(t))
	if n := testing.AllocsPerRun(100, func() { _ = s.Solve() }); n != 0 {
		t.Errorf("Solve allocates %g times per call", n)
	}
}
