package registry

import (
	"testing"
	"time"
)

// TestFillerWaitsForTheAcknowledged: when the committer frees up, the
// open batch waits for the calls the last commit acknowledged (they come
// back) on top of those already queued, bounded in time; a lone client is
// never kept waiting.
func TestFillerWaitsForTheAcknowledged(t *testing.T) {
	t.Parallel()
	var f filler
	// The first batch ever: nothing was acknowledged, nothing to wait for.
	f.arm(1)
	if now := time.Now(); !f.full(1, now) {
		t.Fatal("the first call waited")
	}
	// Two halves of 64 clients taking turns: 32 just acknowledged, 30 queued.
	f.handed(32)
	f.handedAt = time.Now().Add(-10 * time.Millisecond) // the commit took 10 ms
	f.arm(30)
	now := time.Now()
	if f.full(30, now) || f.full(61, now) {
		t.Errorf("the batch went before the acknowledged calls came back (target %d)", f.target)
	}
	if !f.full(62, now) {
		t.Errorf("62 of 62 calls is not full (target %d)", f.target)
	}
	if wait := f.until.Sub(now); wait > maxFillWait {
		t.Errorf("waits %s, more than %s", wait, maxFillWait)
	}
	if !f.full(30, f.until) {
		t.Error("the batch still waits after its wait ended")
	}
	f.arm(0) // armed once per time the committer frees up
	if f.target != 62 {
		t.Errorf("re-armed while the committer waits: target %d", f.target)
	}
	// A fast commit waits at most half as long as it took.
	f.handed(8)
	f.handedAt = time.Now().Add(-200 * time.Microsecond)
	f.arm(0)
	if wait := time.Until(f.until); wait > 100*time.Microsecond {
		t.Errorf("a 200 µs commit makes the next batch wait %s", wait)
	}
	// One client, one call at a time.
	f.handed(1)
	f.arm(0)
	if !f.full(1, time.Now()) {
		t.Error("a lone client's call waited")
	}
}
