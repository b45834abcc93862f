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
	// Without arrivals, a fast commit waits at most half as long as it took.
	f.handed(8)
	f.handedAt = time.Now().Add(-200 * time.Microsecond)
	f.arm(0)
	if wait := time.Until(f.deadline()); wait > 100*time.Microsecond {
		t.Errorf("a 200 µs commit makes the next batch wait %s", wait)
	}
	// One client, one call at a time.
	f.handed(1)
	f.arm(0)
	if !f.full(1, time.Now()) {
		t.Error("a lone client's call waited")
	}
}

// TestFillerWaitsWhileArrivalsCome: the wait for the acknowledged calls
// lasts while they keep arriving at their usual gap (an HTTP round trip
// can be longer than the commit), and ends a few gaps after the last one
// when the rest are not coming.
func TestFillerWaitsWhileArrivalsCome(t *testing.T) {
	t.Parallel()
	var f filler
	t0 := time.Now()
	// Calls arrive every 100 µs: the gap is learnt.
	for i := range 20 {
		f.arrived(1, t0.Add(time.Duration(i)*100*time.Microsecond))
	}
	if f.gap < 90*time.Microsecond || f.gap > 110*time.Microsecond {
		t.Fatalf("learnt gap %s from arrivals every 100 µs", f.gap)
	}
	last := t0.Add(19 * 100 * time.Microsecond)
	// The committer frees up after a 4 ms commit of 32; 10 are queued.
	f.handed(32)
	f.target, f.armed = 42, true
	f.soft, f.until = last.Add(time.Millisecond), last.Add(4*time.Millisecond)
	// Arrivals keep coming: the batch waits past its first bound while
	// each comes within the usual gap.
	at := last
	for n := 11; n < 40; n++ {
		at = at.Add(100 * time.Microsecond)
		if at.After(f.until) {
			break
		}
		f.arrived(1, at)
		if f.full(n, at) {
			t.Fatalf("handed %d of %d at %s while calls kept arriving", n, f.target, at.Sub(last))
		}
	}
	if !at.After(f.soft) {
		t.Fatal("the arrivals did not outlast the first bound")
	}
	// The arrivals stop: the batch goes within a few gaps, not at until.
	if !f.full(30, f.arrivedAt.Add(quietGaps*f.gap+time.Microsecond)) {
		t.Error("the batch still waits though no call came for a few gaps")
	}
	if f.full(30, f.arrivedAt.Add(f.gap)) {
		t.Error("the batch went one gap after the last arrival")
	}
	// Before the first bound the batch waits even when calls pause (as
	// it did before the gap was learnt).
	var h filler
	h.arrived(1, t0)
	h.arrived(1, t0.Add(10*time.Microsecond))
	h.target, h.armed, h.soft, h.until = 10, true, t0.Add(time.Millisecond), t0.Add(2*time.Millisecond)
	if h.full(5, t0.Add(500*time.Microsecond)) {
		t.Error("the batch went before its first bound")
	}
	if !h.full(5, h.soft) {
		t.Error("the batch still waits at its first bound though no call came")
	}
	// A pause longer than the longest wait counts only as that wait.
	var g filler
	g.arrived(1, t0)
	g.arrived(1, t0.Add(time.Hour))
	if g.gap > maxFillWait {
		t.Errorf("a pause made the gap %s", g.gap)
	}
}
