package powerloss

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// mountForTest mounts a fresh file system on a temporary directory, or fails
// (CORRIDOR_REQUIRE_FUSE=1) or skips when FUSE is not available.
func mountForTest(t *testing.T) (*FS, *Mount, string) {
	t.Helper()
	needFUSE(t)
	dir := t.TempDir()
	f := New()
	m, err := f.Mount(dir)
	if err != nil {
		if os.Getenv(envRequireFUSE) == "1" {
			t.Fatalf("%s=1 but FUSE cannot be mounted: %v", envRequireFUSE, err)
		}
		t.Skipf("SKIPPED power-loss test: FUSE cannot be mounted (%v); install fuse3 and run as root, or set %s=1 to make this fail", err, envRequireFUSE)
	}
	t.Cleanup(func() {
		if err := m.Unmount(); err != nil {
			t.Error(err)
		}
	})
	return f, m, dir
}

// envRequireFUSE makes a missing FUSE a failure instead of a skip (CI sets it).
const envRequireFUSE = "CORRIDOR_REQUIRE_FUSE"

func needFUSE(t *testing.T) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv(envRequireFUSE) == "1" {
			t.Fatalf("%s=1 but FUSE is not available: %v", envRequireFUSE, err)
		}
		t.Skipf("SKIPPED power-loss test: %v; set %s=1 to make this fail", err, envRequireFUSE)
	}
}

func writeFile(t *testing.T, path string, data []byte, syncFile bool) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if syncFile {
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func syncDir(t *testing.T, dir string) {
	t.Helper()
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
}

// TestCutKeepsOnlySynced checks the durability model itself: what a cut
// keeps and what it throws away.
func TestCutKeepsOnlySynced(t *testing.T) {
	f, m, dir := mountForTest(t)
	p := func(name string) string { return filepath.Join(dir, name) }

	// sub/e: a directory whose own name was synced, file and name synced.
	if err := os.Mkdir(p("sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, p("sub/e"), []byte("deep"), true)
	syncDir(t, p("sub"))
	// a: written and synced; c: contents never synced; d: synced.
	writeFile(t, p("a"), []byte("synced-content"), true)
	writeFile(t, p("c"), nil, false)
	writeFile(t, p("d"), []byte("removed"), true)
	writeFile(t, p("r1"), []byte("renamed"), true)
	syncDir(t, dir)
	// After the last directory sync: b is written and synced but its name
	// is not (it vanishes), d is removed (it comes back), a is overwritten
	// in part and c written, neither synced.
	writeFile(t, p("b"), []byte("orphan"), true)
	if err := os.Remove(p("d")); err != nil {
		t.Fatal(err)
	}
	// r1 is renamed to r2 without a directory sync: the old name returns.
	if err := os.Rename(p("r1"), p("r2")); err != nil {
		t.Fatal(err)
	}
	fc, err := os.OpenFile(p("c"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fc.Write([]byte("never synced")); err != nil {
		t.Fatal(err)
	}
	fc.Close()
	fa, err := os.OpenFile(p("a"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fa.WriteAt([]byte("XXXXXX-and-a-longer-tail"), 0); err != nil {
		t.Fatal(err)
	}
	fa.Close()
	// Before the cut everything reads as written.
	if got, _ := os.ReadFile(p("a")); string(got) != "XXXXXX-and-a-longer-tail" {
		t.Fatalf("a before the cut: %q", got)
	}

	m2, err := m.PowerCut()
	if err != nil {
		t.Fatal(err)
	}
	*m = *m2 // the cleanup unmounts the new mount

	want := map[string]string{"a": "synced-content", "c": "", "d": "removed", "r1": "renamed", "sub/e": "deep"}
	for name, content := range want {
		got, err := os.ReadFile(p(name))
		if err != nil {
			t.Errorf("%s after the cut: %v", name, err)
			continue
		}
		if !bytes.Equal(got, []byte(content)) {
			t.Errorf("%s after the cut = %q, want %q", name, got, content)
		}
	}
	for _, name := range []string{"b", "r2"} {
		if _, err := os.Stat(p(name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s, whose name was never synced, after the cut: %v; want it gone", name, err)
		}
	}
	st := f.Stats()
	if st.Cuts != 1 || st.LostNames != 2 || st.LostBytes == 0 {
		t.Errorf("stats after one cut: %+v", st)
	}
}

// TestTruncateAndSync checks that a synced truncation and a synced growth
// are kept, as SQLite's WAL reset relies on.
func TestTruncateAndSync(t *testing.T) {
	_, m, dir := mountForTest(t)
	path := filepath.Join(dir, "wal")
	writeFile(t, path, bytes.Repeat([]byte("x"), 10000), true)
	syncDir(t, dir)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(100); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("tail"), 5000); err != nil {
		t.Fatal(err)
	}
	f.Close()
	m2, err := m.PowerCut()
	if err != nil {
		t.Fatal(err)
	}
	*m = *m2
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, bytes.Repeat([]byte("x"), 100)) {
		t.Errorf("after truncate+sync, unsynced write and cut: %d bytes, want the 100 synced", len(got))
	}
}
