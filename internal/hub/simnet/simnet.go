// Package simnet is a deterministic simulated network and clock for the
// corridor simulation test: one seed decides every delay, loss,
// duplication, partition, crash and restart, so a failing run is
// reproduced from its seed alone.
package simnet

import (
	"cmp"
	"container/heap"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Addr names an endpoint (a registry code or the hub).
type Addr string

// Packet is one delivery. A duplicated packet is delivered twice with the
// same ID, as a re-transmission on a real network would be.
type Packet struct {
	ID       uint64
	From, To Addr
	Payload  []byte
}

// Endpoint is what a simulated participant registers. Handle runs for
// each delivered packet; Crash drops the participant's in-memory state (its
// database survives); Restart re-opens it. The network calls them; they
// may call Send and After.
type Endpoint struct {
	Handle  func(Packet)
	Crash   func()
	Restart func()
}

// Faults are the scheduler's fault rates. Probabilities are per packet
// (loss, duplication) or per scheduled step (partition, crash); float64
// is fine here: this is a numerical model, not a ledger quantity.
type Faults struct {
	Loss      float64
	Duplicate float64
	MinDelay  time.Duration
	MaxDelay  time.Duration
	// PartitionRate: chance per step that a random pair is cut off until
	// HealAfter has passed.
	PartitionRate float64
	HealAfter     time.Duration
	// CrashRate: chance per step that a random endpoint crashes; it
	// restarts after RestartAfter.
	CrashRate    float64
	RestartAfter time.Duration
	// MaxSkew: each endpoint's clock is off by a fixed amount drawn in
	// [-MaxSkew, MaxSkew] at registration.
	MaxSkew time.Duration
}

// Config configures a network.
type Config struct {
	Seed   uint64
	Start  time.Time
	Faults Faults
}

type eventKind int

const (
	evDeliver eventKind = iota
	evTimer
	evHeal
	evRestart
)

type event struct {
	at     time.Time
	seq    uint64
	kind   eventKind
	packet Packet
	owner  Addr
	fn     func()
	epoch  uint64 // timers die with the endpoint incarnation that set them
	pair   [2]Addr
}

type queue []*event

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if c := q[i].at.Compare(q[j].at); c != 0 {
		return c < 0
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type endpoint struct {
	Endpoint
	up    bool
	epoch uint64
	skew  time.Duration
}

// Network is the simulated network. It is single-threaded: handlers run
// inside Step, one at a time, in the order the seed decides.
type Network struct {
	cfg       Config
	rng       *rand.Rand
	now       time.Time
	seq       uint64
	packetID  uint64
	q         queue
	endpoints map[Addr]*endpoint
	cut       map[[2]Addr]bool
	faulty    bool
	trace     strings.Builder
	stats     Stats
}

// Stats counts what the scheduler did.
type Stats struct {
	Sent, Delivered, Lost, Duplicated, DroppedDown, DroppedPartition int
	Crashes, Restarts, Partitions                                    int
}

// New returns a network at cfg.Start with faults on.
func New(cfg Config) *Network {
	return &Network{
		cfg:       cfg,
		rng:       rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		now:       cfg.Start,
		endpoints: map[Addr]*endpoint{},
		cut:       map[[2]Addr]bool{},
		faulty:    true,
	}
}

func (n *Network) logf(format string, a ...any) {
	fmt.Fprintf(&n.trace, "%s ", n.now.UTC().Format("15:04:05.000000"))
	fmt.Fprintf(&n.trace, format, a...)
	n.trace.WriteByte('\n')
}

// Register adds an endpoint, up, with its clock skew drawn from the seed.
func (n *Network) Register(a Addr, e Endpoint) {
	if _, dup := n.endpoints[a]; dup {
		panic(fmt.Sprintf("simnet: %s registered twice", a))
	}
	var skew time.Duration
	if m := n.cfg.Faults.MaxSkew; m > 0 {
		skew = time.Duration(n.rng.Int64N(int64(2*m)+1)) - m
	}
	n.endpoints[a] = &endpoint{Endpoint: e, up: true, skew: skew}
	n.logf("register %s skew=%s", a, skew)
}

// Now is the network's true time.
func (n *Network) Now() time.Time { return n.now }

// Clock returns endpoint a's clock: true time plus its skew.
func (n *Network) Clock(a Addr) func() time.Time {
	return func() time.Time { return n.now.Add(n.endpoints[a].skew) }
}

// Stats returns the counters so far.
func (n *Network) Stats() Stats { return n.stats }

// Trace is the run's log, one line per event; two runs with one seed
// produce the same bytes.
func (n *Network) Trace() string { return n.trace.String() }

func (n *Network) push(e *event) {
	n.seq++
	e.seq = n.seq
	heap.Push(&n.q, e)
}

func (n *Network) delay() time.Duration {
	lo, hi := n.cfg.Faults.MinDelay, n.cfg.Faults.MaxDelay
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(n.rng.Int64N(int64(hi-lo)+1))
}

// Send enqueues payload from one endpoint to another. Whether it is lost,
// duplicated and how long each copy takes is decided now, from the seed;
// independent delays reorder packets.
func (n *Network) Send(from, to Addr, payload []byte) {
	n.packetID++
	p := Packet{ID: n.packetID, From: from, To: to, Payload: slices.Clone(payload)}
	n.stats.Sent++
	if n.faulty && n.rng.Float64() < n.cfg.Faults.Loss {
		n.stats.Lost++
		n.logf("lose #%d %s->%s", p.ID, from, to)
		return
	}
	copies := 1
	if n.faulty && n.rng.Float64() < n.cfg.Faults.Duplicate {
		copies = 2
		n.stats.Duplicated++
	}
	for range copies {
		d := n.delay()
		n.push(&event{at: n.now.Add(d), kind: evDeliver, packet: p})
		n.logf("send #%d %s->%s len=%d delay=%s", p.ID, from, to, len(payload), d)
	}
}

// After runs fn on a's behalf after d of true time, unless a crashes
// first: a crash loses every timer, as a process's goroutines die with it.
func (n *Network) After(a Addr, d time.Duration, fn func()) {
	n.push(&event{at: n.now.Add(d), kind: evTimer, owner: a, fn: fn, epoch: n.endpoints[a].epoch})
}

func pairOf(a, b Addr) [2]Addr {
	if b < a {
		a, b = b, a
	}
	return [2]Addr{a, b}
}

// Partition cuts a and b off from each other (both directions).
func (n *Network) Partition(a, b Addr) {
	n.cut[pairOf(a, b)] = true
	n.stats.Partitions++
	n.logf("partition %s|%s", a, b)
}

// PartitionFor cuts a and b off from each other until d of true time has
// passed (a long silence, e.g. past a timeout).
func (n *Network) PartitionFor(a, b Addr, d time.Duration) {
	pair := pairOf(a, b)
	n.Partition(pair[0], pair[1])
	n.push(&event{at: n.now.Add(d), kind: evHeal, pair: pair})
}

// Heal removes every partition.
func (n *Network) Heal() {
	clear(n.cut)
	n.logf("heal")
}

// Crash takes a down: packets to it are dropped and its timers are lost.
func (n *Network) Crash(a Addr) {
	e := n.endpoints[a]
	if !e.up {
		return
	}
	e.up = false
	e.epoch++
	n.stats.Crashes++
	n.logf("crash %s", a)
	if e.Crash != nil {
		e.Crash()
	}
}

// Restart brings a up again through its restart hook.
func (n *Network) Restart(a Addr) {
	e := n.endpoints[a]
	if e.up {
		return
	}
	e.up = true
	n.stats.Restarts++
	n.logf("restart %s", a)
	if e.Restart != nil {
		e.Restart()
	}
}

// Up reports whether a is running.
func (n *Network) Up(a Addr) bool { return n.endpoints[a].up }

// Calm switches random faults off (loss, duplication, new partitions and
// crashes), heals every partition and restarts every crashed endpoint,
// so a run can settle: the "network healed, timeouts passed" phase.
// Delays stay, so messages still reorder.
func (n *Network) Calm() {
	n.faulty = false
	n.Heal()
	for _, a := range n.addrs() {
		n.Restart(a)
	}
	n.logf("calm")
}

func (n *Network) addrs() []Addr {
	out := make([]Addr, 0, len(n.endpoints))
	for a := range n.endpoints {
		out = append(out, a)
	}
	slices.SortFunc(out, func(x, y Addr) int { return cmp.Compare(x, y) })
	return out
}

// injectFaults may start a partition or a crash, drawn from the seed.
func (n *Network) injectFaults() {
	f := n.cfg.Faults
	addrs := n.addrs()
	if len(addrs) < 2 || !n.faulty {
		return
	}
	if f.PartitionRate > 0 && n.rng.Float64() < f.PartitionRate {
		i := n.rng.IntN(len(addrs))
		j := (i + 1 + n.rng.IntN(len(addrs)-1)) % len(addrs)
		pair := pairOf(addrs[i], addrs[j])
		if !n.cut[pair] {
			n.Partition(pair[0], pair[1])
			n.push(&event{at: n.now.Add(f.HealAfter), kind: evHeal, pair: pair})
		}
	}
	if f.CrashRate > 0 && n.rng.Float64() < f.CrashRate {
		a := addrs[n.rng.IntN(len(addrs))]
		if n.endpoints[a].up {
			n.Crash(a)
			n.push(&event{at: n.now.Add(f.RestartAfter), kind: evRestart, owner: a})
		}
	}
}

// Step runs the next event, advancing time to it; false when none is left.
func (n *Network) Step() bool {
	if n.q.Len() == 0 {
		return false
	}
	n.injectFaults()
	e := heap.Pop(&n.q).(*event)
	if e.at.After(n.now) {
		n.now = e.at
	}
	switch e.kind {
	case evDeliver:
		p := e.packet
		dst, ok := n.endpoints[p.To]
		switch {
		case !ok || !dst.up:
			n.stats.DroppedDown++
			n.logf("drop-down #%d %s->%s", p.ID, p.From, p.To)
		case n.cut[pairOf(p.From, p.To)]:
			n.stats.DroppedPartition++
			n.logf("drop-cut #%d %s->%s", p.ID, p.From, p.To)
		default:
			n.stats.Delivered++
			n.logf("deliver #%d %s->%s", p.ID, p.From, p.To)
			dst.Handle(p)
		}
	case evTimer:
		owner := n.endpoints[e.owner]
		if owner.up && owner.epoch == e.epoch {
			n.logf("timer %s", e.owner)
			e.fn()
		}
	case evHeal:
		if n.cut[e.pair] {
			delete(n.cut, e.pair)
			n.logf("heal %s|%s", e.pair[0], e.pair[1])
		}
	case evRestart:
		n.Restart(e.owner)
	}
	return true
}

// RunUntil steps until true time passes t, no event is left, or maxSteps
// events ran; it returns the number of steps.
func (n *Network) RunUntil(t time.Time, maxSteps int) int {
	steps := 0
	for steps < maxSteps && n.q.Len() > 0 && !n.q[0].at.After(t) {
		n.Step()
		steps++
	}
	if n.now.Before(t) && steps < maxSteps {
		n.now = t
	}
	return steps
}

// Rand is the network's PRNG, for a workload that must draw from the
// same seed (which transfer to start next) so the whole run stays
// reproducible.
func (n *Network) Rand() *rand.Rand { return n.rng }
