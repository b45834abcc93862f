package linkage

import (
	"context"
	"reflect"
	"testing"
)

func defaultModel(t testing.TB) *Model {
	t.Helper()
	sc, err := DefaultScenario()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(sc)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMonteCarloIsDeterministicAndBracketsTheCentralCase(t *testing.T) {
	m := defaultModel(t)
	calls := 0
	a, err := MonteCarlo(context.Background(), m, MonteCarloParams{Runs: 500, Seed: 42, Workers: 1, Progress: func(int) { calls++ }})
	if err != nil {
		t.Fatal(err)
	}
	b, err := MonteCarlo(context.Background(), m, MonteCarloParams{Runs: 500, Seed: 42, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different worker count: different bands")
	}
	c, err := MonteCarlo(context.Background(), m, MonteCarloParams{Runs: 500, Seed: 43})
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(a.Gain, c.Gain) {
		t.Error("a different seed gave identical bands")
	}
	if calls == 0 {
		t.Error("progress never reported")
	}
	if a.Failed != 0 || a.Uncertain < 10 {
		t.Errorf("failed %d, uncertain %d", a.Failed, a.Uncertain)
	}
	central := mustSolve(t, m.Scenario)
	for i, mb := range a.Markets {
		lp := mb.LinkedPrice
		if !(lp.P5 <= lp.P25 && lp.P25 <= lp.P50 && lp.P50 <= lp.P75 && lp.P75 <= lp.P95) {
			t.Errorf("%s percentiles out of order: %+v", mb.ID, lp)
		}
		if mb.ID == "EU-ETS" || mb.ID == "SG-TAX" {
			continue
		}
		// The draws are triangular around the central values, so the
		// central solution lies inside the 5–95% band.
		if p := central.Markets[i].LinkedPrice; p < lp.P5 || p > lp.P95 {
			t.Errorf("%s central price %g outside [%g, %g]", mb.ID, p, lp.P5, lp.P95)
		}
		if mb.Gain.P5 < -1e-6 {
			t.Errorf("%s gain band reaches a loss: %+v", mb.ID, mb.Gain)
		}
	}
	// The model itself is untouched by the runs.
	if again := mustSolve(t, m.Scenario); again.Totals.Gain != central.Totals.Gain {
		t.Error("Monte Carlo changed the model")
	}
}

func TestPercentile(t *testing.T) {
	vals := []float64{1, 2, 3, 4, 5}
	for q, want := range map[float64]float64{0: 1, 50: 3, 25: 2, 95: 4.8, 100: 5} {
		if got := percentile(vals, q); got != want {
			t.Errorf("p%g = %g, want %g", q, got, want)
		}
	}
}

func BenchmarkMonteCarlo10000(b *testing.B) {
	m := defaultModel(b)
	for b.Loop() {
		if _, err := MonteCarlo(context.Background(), m, MonteCarloParams{Runs: 10000, Seed: 1, Workers: 1}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "runs/s")
}
