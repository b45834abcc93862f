package mrv

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The text report of `corridor mrv` is the package's; golden file (go test
// -update rewrites it).
func TestWriteTextGolden(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("testdata", "installation.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	inst, err := ParseInstallation(raw)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Compute(inst)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteText(&b, r, r.Reports()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "installation-report.golden.txt")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("report differs from %s; run go test -update and review the diff.\ngot:\n%s", path, b.Bytes())
	}
}
