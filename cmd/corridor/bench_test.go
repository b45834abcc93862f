package main

import (
	"runtime/debug"
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
