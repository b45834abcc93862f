package powerloss

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/crashtest"
	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/store"
)

var (
	seedFlag = flag.Uint64("powerloss.seed", 0, "random seed (0: from the clock; the seed used is logged)")
	cutsFlag = flag.Int("powerloss.cuts", 10, "power cuts under load in TestPowerLoss")
	syncFlag = flag.String("powerloss.synchronous", "", "SQLite synchronous setting for TestPowerLoss (OFF, NORMAL, FULL, EXTRA; empty: the real one), to watch it fail")
)

var (
	buildOnce sync.Once
	buildDir  string
	binary    string
	buildErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// needBinary builds corridor with the corridor_powerloss tag (which lets
// the test change SQLite's synchronous setting) once per test process.
func needBinary(t *testing.T) {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "corridor-powerloss-"); buildErr == nil {
			binary, buildErr = crashtest.BuildBinary(buildDir, "corridor_powerloss")
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// powerRun runs a corridor server whose data directory is the power-loss
// file system: the registries directory serve creates, each registry's
// SQLite database with its WAL and shared-memory files, and the demo tokens
// file. It cuts the power cuts times under load and returns what the checks
// found, with the file system's counters of the load before the first cut.
// synchronous, when not empty, replaces SQLite's synchronous setting;
// flushSeed makes the seeded databases durable before the load (as the
// kernel's writeback would in time), so that what a cut can lose is the
// load's transactions.
func powerRun(t *testing.T, seed uint64, synchronous string, flushSeed bool, cuts int, budget time.Duration) (crashtest.Report, Stats) {
	needBinary(t)
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	fsys := New()
	m, err := fsys.Mount(dataDir)
	if err != nil {
		if os.Getenv(envRequireFUSE) == "1" {
			t.Fatalf("%s=1 but FUSE cannot be mounted: %v", envRequireFUSE, err)
		}
		t.Skipf("SKIPPED power-loss test: FUSE cannot be mounted (%v); set %s=1 to make this fail", err, envRequireFUSE)
	}
	t.Cleanup(func() {
		if err := m.Unmount(); err != nil {
			t.Error(err)
		}
	})
	addr, err := crashtest.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	srv := &crashtest.Server{Binary: binary, DataDir: dataDir, Addr: addr, LogPath: filepath.Join(dir, "serve.log")}
	if synchronous != "" {
		srv.Env = []string{store.EnvPowerLossSynchronous + "=" + synchronous}
	}
	var atFirstCut Stats
	cut := func() error {
		if err := srv.Kill(); err != nil {
			return err
		}
		if fsys.Stats().Cuts == 0 {
			atFirstCut = fsys.Stats()
		}
		next, err := m.PowerCut()
		if err != nil {
			return err
		}
		m = next
		return nil
	}
	var atSeed Stats
	params := crashtest.Params{Seed: seed, Server: srv, Cuts: cuts, Budget: budget, Cut: cut, StartupCuts: true, AfterSeed: func() {
		// Each registry's database, WAL and shared-memory index are on
		// the mount, or the cuts would not touch them.
		for _, reg := range demo.Registries {
			for _, suffix := range []string{".db", ".db-wal", ".db-shm"} {
				if _, err := os.Stat(filepath.Join(dataDir, "registries", reg.Code+suffix)); err != nil {
					t.Errorf("%s%s is not on the power-loss mount: %v", reg.Code, suffix, err)
				}
			}
		}
		if flushSeed {
			fsys.SyncAll()
		}
		atSeed = fsys.Stats()
	}}
	r := crashtest.Run(t, params)
	// What the load did, from the seed to the first cut.
	load := atFirstCut
	load.Writes -= atSeed.Writes
	load.FileSyncs -= atSeed.FileSyncs
	load.DirSyncs -= atSeed.DirSyncs
	return r, load
}

func testSeed(t *testing.T) uint64 {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("power-loss seed %d (rerun with -powerloss.seed=%d)", seed, seed)
	return seed
}

// TestPowerLoss runs the crash test's load (transfers by quantity and by
// serials, retirements, reservations, completions, voids) on SQLite over
// the power-loss file system and cuts the power -powerloss.cuts times: the
// server is killed and everything it wrote but did not fsync is thrown
// away. After each cut corridor verify must pass and every acknowledged
// transaction must be there once. PostgreSQL cannot be tested this way
// (its server, and the disk under it, are outside the test's control); the
// SIGKILL crash test covers it.
func TestPowerLoss(t *testing.T) {
	needFUSE(t)
	seed := testSeed(t)
	r, st := powerRun(t, seed, *syncFlag, false, *cutsFlag, 30*time.Second)
	t.Log(r)
	t.Logf("file system, load before the first cut: %+v", st)
	for _, p := range r.Problems {
		t.Error(p)
	}
	if st.FileSyncs == 0 {
		t.Errorf("under load SQLite synced %d files and %d directories: the databases are not on the power-loss mount", st.FileSyncs, st.DirSyncs)
	}
	if r.Cuts > 1 && st.Writes <= st.FileSyncs {
		t.Errorf("the server wrote %d times and synced %d times before the first cut; the test would not notice a missing fsync", st.Writes, st.FileSyncs)
	}
}

// TestPowerLossCatchesSynchronousOff is the power-loss test's own check:
// with SQLite's synchronous(OFF) nothing is fsynced, so a power cut must
// lose acknowledged transactions and the checks must say so. (The SIGKILL
// crash test passes with synchronous(OFF): the page cache survives a kill.)
// The seed is flushed first, so the loss is the load's transactions.
func TestPowerLossCatchesSynchronousOff(t *testing.T) {
	needFUSE(t)
	seed := testSeed(t)
	r, st := powerRun(t, seed, "OFF", true, 3, 30*time.Second)
	t.Logf("file system, load before the first cut: %+v", st)
	if len(r.Problems) == 0 {
		t.Fatalf("with synchronous(OFF) the power-loss run found no problem: %s", r)
	}
	first := r.Problems[0]
	for _, p := range r.Problems {
		if strings.Contains(p, "lost") {
			first = p
			break
		}
	}
	if i := strings.IndexByte(first, '\n'); i > 0 {
		first = first[:i]
	}
	t.Logf("with synchronous(OFF), as it must, the run found %d problems after %d cuts; the first: %s", len(r.Problems), r.Cuts, first)
	if st.FileSyncs != 0 {
		t.Errorf("with synchronous(OFF) SQLite fsynced %d times under load; the setting did not reach the server", st.FileSyncs)
	}
	if !strings.Contains(strings.Join(r.Problems, "\n"), "lost") {
		t.Errorf("with synchronous(OFF) no acknowledged transaction was reported lost; problems: %v", r.Problems)
	}
}
