package registry

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
)

// The writer is a two-stage pipeline. The decider takes the queued calls,
// decides them in memory on the state after the batch before (the tip)
// and hands the batch to the committer; while the committer commits batch
// k, the decider already decides batch k+1, so the calls that arrive
// during a commit make the next batch rather than waiting a whole commit
// more. The committer commits and acknowledges in order and publishes each
// durable state to readers. When a commit fails, every batch decided on
// top of it is stale: the committer bumps the epoch, and each batch of an
// older epoch is decided again from the committed state under the write
// lock (process, the slow path, which also splits and retries).

// decided is a batch decided ahead, waiting for the committer.
type decided struct {
	batch []*call
	w     *writeSet
	st    *state       // the state after the batch
	base  ledger.Entry // the journal head it was decided on
	epoch uint64
	slow  bool // deciding failed (a read or an invariant): use the slow path
}

// inflightKeys are the idempotency keys of the open batch and of batches
// handed to the committer but not yet acknowledged: the database cannot
// answer for them yet.
type inflightKeys struct {
	mu      sync.Mutex
	keys    map[string]int
	batches int
	acked   chan struct{} // signalled after each acknowledged batch
}

// add marks calls' keys as in flight; newBatch says they open a batch.
func (k *inflightKeys) add(calls []*call, newBatch bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys == nil {
		k.keys = map[string]int{}
	}
	for _, c := range calls {
		k.keys[c.key]++
	}
	if newBatch {
		k.batches++
	}
}

func (k *inflightKeys) done(batch []*call) {
	k.mu.Lock()
	for _, c := range batch {
		if k.keys[c.key]--; k.keys[c.key] <= 0 {
			delete(k.keys, c.key)
		}
	}
	k.batches--
	k.mu.Unlock()
	select {
	case k.acked <- struct{}{}:
	default:
	}
}

// any reports whether a call of batch has a key in flight.
func (k *inflightKeys) any(batch []*call) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, c := range batch {
		if k.keys[c.key] > 0 {
			return true
		}
	}
	return false
}

func (k *inflightKeys) empty() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.batches == 0
}

// run is the decider; it starts the committer and stops it on Close. It
// keeps one open batch: calls are applied to it in chunks as they arrive,
// and the committer takes it the moment it is free, so a batch holds every
// call that arrived while the one before was committing.
func (n *Node) run() {
	defer close(n.done)
	n.inflight.acked = make(chan struct{}, 1)
	toCommit := make(chan *decided) // unbuffered: a send is the committer taking the batch
	committerDone := make(chan struct{})
	go n.commitLoop(toCommit, committerDone)
	defer func() {
		close(toCommit)
		<-committerDone
	}()
	var open *decided
	var pending []*call // arrived, not yet applied to open
	var f filler
	fillTimer := time.NewTimer(time.Hour)
	fillTimer.Stop()
	defer fillTimer.Stop()
	size := func() int {
		if open == nil {
			return len(pending)
		}
		return len(open.batch) + len(pending)
	}
	send := func() {
		f.handed(len(open.batch))
		toCommit <- open
		open = nil
	}
	flush := func() {
		if len(pending) > 0 {
			// A key whose earlier call is decided but not yet committed
			// waits for that commit, so its answer comes from the
			// database.
			if n.inflight.any(pending) {
				if open != nil {
					send()
				}
				for n.inflight.any(pending) {
					<-n.inflight.acked
				}
			}
			open = n.extend(open, pending)
			pending = nil
		}
	}
	hand := func() {
		flush()
		if open != nil {
			send()
		}
	}
	for {
		var retry <-chan time.Time
		if open == nil && len(pending) == 0 && n.suspect.Load() {
			// While a commit's outcome is unresolved the node is not
			// ready; it keeps trying to settle it even when no call comes.
			retry = time.After(resolveRetry)
		}
		// The flag, not a wake-up, says whether the committer waits: a
		// wake-up may be stale.
		waiting := n.committerWaiting.Load()
		var fillC <-chan time.Time
		if waiting {
			f.arm(size())
			if size() > 0 {
				if !f.full(size(), time.Now()) {
					fillTimer.Reset(time.Until(f.deadline()))
					fillC = fillTimer.C
				} else {
					hand()
					continue
				}
			}
		}
		select {
		case c := <-n.reqs:
			before := size()
			pending = append(pending, c)
		drain:
			for size() < maxBatch {
				select {
				case c := <-n.reqs:
					pending = append(pending, c)
				default:
					break drain
				}
			}
			f.arrived(size()-before, time.Now())
			switch {
			case n.committerWaiting.Load() && f.full(size(), time.Now()) || size() >= maxBatch:
				hand()
			case len(pending) >= applyChunk:
				flush() // decide while the committer commits (or waits for the batch to fill)
			}
		case <-n.free:
			// the loop's head looks at the flag
		case <-fillC:
			// the loop's head hands the batch: its wait is over
		case <-n.kick:
			// the committer set suspect: start the retries
		case <-retry:
			if n.inflight.empty() {
				n.wmu.Lock()
				n.settleSuspect(context.Background())
				n.tip = nil
				n.epoch.Add(1)
				n.wmu.Unlock()
			}
		case <-n.stop:
			hand()
			for {
				select {
				case c := <-n.reqs:
					c.err = ErrClosed
					close(c.ready)
				default:
					return
				}
			}
		}
	}
}

// filler decides when the open batch is full enough to hand to a waiting
// committer. Handing it on the first arrival (as before) left two batches
// taking turns, each with about half the clients: the calls a commit
// acknowledges come back while the next batch commits. So, when the
// committer frees up, the calls it just acknowledged plus those already
// waiting are the batch to wait for (they are in their clients' hands and
// come back soon), for half as long as that commit took (at most
// maxFillWait/2): waiting much longer costs more commit time than a
// fuller batch saves. How soon they come back depends on the clients:
// in-process within microseconds, over HTTP only after the answer's round
// trip, which is often longer. So the filler also learns the usual gap
// between arrivals, and past that first bound keeps waiting while calls
// still come within a few gaps of each other, up to as long as the last
// commit took (at most maxFillWait). A lone client is never kept waiting:
// its batch of one is all that was acknowledged. This is group commit's
// commit delay (PostgreSQL's commit_delay and commit_siblings, "WAL
// Configuration"), sized from the traffic instead of set by hand.
type filler struct {
	handedAt time.Time // when the last batch went to the committer
	last     int       // its calls
	armed    bool      // target, soft and until are set for the committer's current wait
	target   int
	soft     time.Time // the wait's first bound; past it, only while calls keep coming
	until    time.Time // its last bound
	// arrivedAt is the last arrival; gap the mean time between arrivals
	// (an exponentially weighted mean, 0 until learnt).
	arrivedAt time.Time
	gap       time.Duration
}

// maxFillWait bounds how long a waiting committer is kept idle for a
// fuller batch.
const maxFillWait = 4 * time.Millisecond

// quietGaps is how many usual gaps without an arrival end a wait past its
// first bound: the calls still waited for are not coming soon.
const quietGaps = 4

// handed records a batch of n calls going to the committer.
func (f *filler) handed(n int) {
	f.handedAt, f.last, f.armed = time.Now(), n, false
}

// arrived records k calls arriving together at now.
func (f *filler) arrived(k int, now time.Time) {
	if k <= 0 {
		return
	}
	if !f.arrivedAt.IsZero() {
		// A gap longer than the longest wait says only that the
		// clients paused: it counts as that wait.
		g := min(now.Sub(f.arrivedAt), maxFillWait) / time.Duration(k)
		if f.gap == 0 {
			f.gap = g
		} else {
			f.gap += (g - f.gap) / 8
		}
	}
	f.arrivedAt = now
}

// arm sets the wait, once per time the committer frees up, with queued
// calls already waiting for it.
func (f *filler) arm(queued int) {
	if f.armed {
		return
	}
	now := time.Now()
	took := now.Sub(f.handedAt)
	f.armed, f.target = true, f.last+queued
	f.soft = now.Add(min(took/2, maxFillWait/2))
	f.until = now.Add(min(took, maxFillWait))
}

// deadline is when the wait ends if no call comes: at its first bound, or
// later while calls keep coming, but not after until.
func (f *filler) deadline() time.Time {
	if f.gap == 0 || f.arrivedAt.IsZero() {
		return f.soft
	}
	end := f.arrivedAt.Add(quietGaps * f.gap)
	switch {
	case end.Before(f.soft):
		return f.soft
	case end.After(f.until):
		return f.until
	}
	return end
}

// full reports whether a batch of n calls should go now.
func (f *filler) full(n int, now time.Time) bool {
	return n >= f.target || !now.Before(f.deadline())
}

// applyChunk is how many arrived calls the decider applies at once while
// the committer is busy: each application reads the calls' keys from the
// database, so calls are not applied one by one.
const applyChunk = 16

// extend applies calls to the open batch (a new one on the tip when open
// is nil). Their keys' earlier outcomes are read outside the write lock:
// one serving process writes a database (Open's exclusive lock), and if
// another writer did commit a key meanwhile, the commit fails on the key's
// unique index and the batch is decided again under the lock.
func (n *Node) extend(open *decided, calls []*call) *decided {
	ctx, cancel := context.WithTimeout(context.Background(), n.timeout)
	defer cancel()
	n.decideStart.Store(time.Now().UnixNano())
	prior, err := n.priorOutcomes(ctx, calls)
	n.decideStart.Store(0)
	n.wmu.Lock()
	defer n.wmu.Unlock()
	n.inflight.add(calls, open == nil)
	if open == nil {
		open = &decided{epoch: n.epoch.Load()}
		if err == nil && !n.suspect.Load() {
			if n.tip == nil {
				n.tip = n.pub.Load()
			}
			open.base, open.st, open.w = n.tip.head, n.tip.clone(), newWriteSet()
		} else {
			open.slow = true
		}
	}
	open.batch = append(open.batch, calls...)
	if open.slow || err != nil || open.epoch != n.epoch.Load() {
		open.slow = true // decided again, whole, on the slow path
		return open
	}
	n.st = open.st
	defer func() { n.st = nil }()
	if err := n.applyCalls(open.w, calls, prior); err != nil {
		// An invariant broke: open.st holds part of a call. Drop it and
		// every state decided on it.
		open.slow = true
		n.epoch.Add(1)
		n.tip = nil
		return open
	}
	n.sealBlocks(open.w)
	// Plan the new journal entries' and movements' rows now, while the
	// committer commits the batch before: the commit plans only blocks
	// and accounts.
	open.w.batch.Prepare()
	n.tip = open.st
	return open
}

// commitLoop is the committer: it commits each decided batch in order and
// answers its calls.
func (n *Node) commitLoop(in <-chan *decided, done chan<- struct{}) {
	defer close(done)
	for {
		n.committerWaiting.Store(true)
		select {
		case n.free <- struct{}{}:
		default: // a wake-up is already pending
		}
		d, ok := <-in
		n.committerWaiting.Store(false)
		if !ok {
			return
		}
		start := time.Now()
		n.batchStart.Store(start.UnixNano())
		if lost := n.excl.lostErr(); lost != nil {
			// Another process serves the database now: write nothing.
			n.dropTip()
			n.answer(d.batch, errNotServing(lost))
		} else if !n.commitAhead(d) {
			n.process(d.batch) // the slow path: decide again under the lock
		} else {
			n.stats.CommitNanos.Add(int64(time.Since(start)))
			if int64(len(d.batch)) > n.stats.LargestBatch.Load() {
				n.stats.LargestBatch.Store(int64(len(d.batch)))
			}
		}
		n.batchStart.Store(0)
		for _, c := range d.batch {
			close(c.ready)
		}
		n.inflight.done(d.batch)
	}
}

// commitAhead commits a batch decided ahead. It reports false when the
// batch must be decided again (the slow path); true when every call has
// its answer.
func (n *Node) commitAhead(d *decided) bool {
	if d.slow || d.epoch != n.epoch.Load() {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.timeout)
	defer cancel()
	// One call, one round trip on PostgreSQL: the store writes the batch
	// only if the journal head is still the one it was decided on, and
	// answers ErrStale otherwise (another writer, or a commit whose
	// outcome was unknown), which decides the batch again.
	err := n.db.CommitOn(ctx, d.base, &d.w.batch)
	switch {
	case errors.Is(err, store.ErrStale):
		return false
	case err != nil:
		ok, rerr := n.resolve(d.w)
		if rerr != nil {
			n.markSuspect()
			n.dropTip()
			n.log.Error("registry: commit outcome unknown", "err", err, "lookup", rerr, "batch", len(d.batch))
			n.answer(d.batch, errOutcomeUnknown)
			return true
		}
		if !ok {
			return false
		}
		n.log.Warn("registry: commit reported failure but was durable", "err", err, "batch", len(d.batch))
	}
	n.pub.Store(d.st)
	n.count(d.batch, d.w)
	return true
}

// dropTip makes every batch decided ahead be decided again.
func (n *Node) dropTip() {
	n.wmu.Lock()
	defer n.wmu.Unlock()
	n.epoch.Add(1)
	n.tip = nil
}

// markSuspect records that a commit's outcome is unknown and wakes the
// decider, which then retries the reload until it succeeds.
func (n *Node) markSuspect() {
	n.suspect.Store(true)
	select {
	case n.kick <- struct{}{}:
	default:
	}
}
