package crashtest

import (
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

var (
	seedFlag  = flag.Uint64("crash.seed", 0, "random seed of the crash test (0: from the clock; the seed used is logged)")
	killsFlag = flag.Int("crash.kills", 20, "SIGKILLs per database in the crash test")
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

// needBinary builds the corridor binary once per test process.
func needBinary(t *testing.T) {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "corridor-crashtest-"); buildErr == nil {
			binary, buildErr = BuildBinary(buildDir)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// TestCrashRecovery drives transfers by quantity and by serials,
// retirements, reservations, completions and voids among the demo accounts
// from several concurrent clients, SIGKILLs the server at random moments
// (-crash.kills times per database, some during start-up; on a machine too
// busy to fit them in 40 s, as many as fit, and at least a quarter), and after
// each kill and restart checks that corridor verify passes, that every
// acknowledged transaction is still there with its first answer, that
// those whose outcome the kill hid apply at most once when re-sent, and that
// every block is where the acknowledged history, in journal order, puts it.
// SIGKILL keeps the operating system's page cache, so this does not test
// what reaches the disk: internal/powerloss does, for SQLite.
func TestCrashRecovery(t *testing.T) {
	needBinary(t)
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("crash test seed %d (rerun with go test ./internal/crashtest -crash.seed=%d)", seed, seed)
	run := func(t *testing.T, dbURL string) {
		dir := t.TempDir()
		addr, err := FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		srv := &Server{Binary: binary, DataDir: filepath.Join(dir, "data"), DBURL: dbURL, Addr: addr, LogPath: filepath.Join(dir, "serve.log")}
		r := Run(t, Params{Seed: seed, Server: srv, Cuts: *killsFlag, Budget: 40 * time.Second, Cut: srv.Kill, StartupCuts: true})
		for _, p := range r.Problems {
			t.Error(p)
		}
		t.Log(r)
	}
	t.Run("sqlite", func(t *testing.T) { run(t, "") })
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv(storetest.EnvURL)
		if base == "" {
			t.Skipf("SKIPPED PostgreSQL half: set %s (e.g. postgres://postgres@127.0.0.1:5432/test) to run it", storetest.EnvURL)
		}
		run(t, ScratchDatabase(t, base))
	})
}
