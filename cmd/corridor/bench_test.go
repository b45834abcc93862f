package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

// TestBenchGOGC: bench registry runs with its GOGC and restores the one
// before; 0 (a GOGC environment variable) keeps the process's.
func TestBenchGOGC(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	got, restore := setGOGC(250)
	if now := debug.SetGCPercent(250); got != 250 || now != 250 {
		t.Errorf("setGOGC(250): reports %d, collector at %d", got, now)
	}
	restore()
	if now := debug.SetGCPercent(100); now != 100 {
		t.Errorf("restored to %d, not 100", now)
	}
	debug.SetGCPercent(70)
	got, restore = setGOGC(0)
	restore()
	if now := debug.SetGCPercent(100); got != 70 || now != 70 {
		t.Errorf("setGOGC(0): reports %d, collector at %d; want the environment's 70", got, now)
	}
}

// TestGOGCFlag: serve and bench registry take --gogc (a positive
// percentage, exit 2 otherwise) and leave a GOGC environment variable in
// force when the flag is not given.
func TestGOGCFlag(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--gogc", "0", "--data-dir", t.TempDir()},
		{"bench", "registry", "--gogc", "-5", "--data-dir", t.TempDir()},
	} {
		if r := run(args...); r.code() != 2 || !strings.Contains(r.err.Error(), "--gogc must be a positive percentage") {
			t.Errorf("corridor %s: exit %d, %v; want exit 2 naming --gogc", strings.Join(args, " "), r.code(), r.err)
		}
	}
	cmd := newServeCmd()
	if got, err := gogcFlag(cmd, defaultGOGC); err != nil || got != defaultGOGC {
		t.Errorf("no GOGC in the environment: %d, %v; want %d", got, err, defaultGOGC)
	}
	t.Setenv("GOGC", "150")
	if got, err := gogcFlag(cmd, defaultGOGC); err != nil || got != 0 {
		t.Errorf("GOGC=150 and no flag: %d, %v; want 0 (keep the environment's)", got, err)
	}
	if err := cmd.Flags().Set("gogc", "300"); err != nil {
		t.Fatal(err)
	}
	if got, err := gogcFlag(cmd, 300); err != nil || got != 300 {
		t.Errorf("GOGC=150 and --gogc 300: %d, %v; want 300", got, err)
	}
}
