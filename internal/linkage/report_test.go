package linkage

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", name, got)
	}
}

// defaultReport solves the default scenario with CBAM and a small seeded
// Monte Carlo, as `corridor link --runs 200 --seed 7` does.
func defaultReport(t *testing.T) *Result {
	t.Helper()
	m := defaultModel(t)
	res := mustSolve(t, m.Scenario)
	var err error
	if res.CBAM, err = ComputeCBAM(m.Scenario, res); err != nil {
		t.Fatal(err)
	}
	if res.MonteCarlo, err = MonteCarlo(context.Background(), m, MonteCarloParams{Runs: 200, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	return res
}

func TestTableGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTable(&buf, defaultReport(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "corridor-2026.txt", buf.Bytes())
}

func TestCSV(t *testing.T) {
	res := defaultReport(t)
	var buf bytes.Buffer
	if err := WriteCSV(&buf, res); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+len(res.Markets) || rows[1][0] != res.Markets[0].ID || len(rows[0]) != len(rows[1]) {
		t.Fatalf("CSV shape: %d rows, header %v", len(rows), rows[0])
	}
}
