// Package registry is one jurisdiction's registry node: organisations,
// accounts, issuances and serial blocks; issue, transfer, retire, cancel and
// two-phase reserve/complete/void; idempotency and a hash-chained journal.
package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/google/btree"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
)

// maxBatch bounds how many queued transactions one database commit carries.
const maxBatch = 1024

// Node is one registry node. All writes go through a single writer goroutine
// that applies queued transactions to the in-memory state and commits them
// together (group commit); readers see the state as of the last commit.
type Node struct {
	code string
	db   *store.DB
	log  *slog.Logger
	now  func() time.Time

	// pub is the last committed state. It is never changed once published,
	// so readers take it without a lock and never wait on the database.
	pub atomic.Pointer[state]
	// st is the writer's clone of pub while it decides a batch (nil
	// between batches); apply works on it.
	st *state
	// wmu serialises deciding: the pipeline's decider, the committer's
	// slow path (process), and tests that hand process a batch directly.
	// It is never held across the fast path's database I/O.
	wmu sync.Mutex
	// tip is the state after the last batch decided ahead (committed or
	// not; nil = pub); epoch counts the times the pipeline was reset, so a
	// batch decided on a tip that was dropped is decided again (pipeline.go).
	tip      *state
	epoch    atomic.Uint64
	inflight inflightKeys
	kick     chan struct{} // wakes the decider when a commit's outcome is unknown
	free     chan struct{} // wakes the decider when the committer starts waiting
	// committerWaiting is set while the committer waits for a batch.
	committerWaiting atomic.Bool
	// suspect is set while a commit's outcome is unknown and the committed
	// state may be behind the database; batchStart is when the batch being
	// decided started (Unix ns, 0 when idle). Both feed Ready.
	suspect    atomic.Bool
	batchStart atomic.Int64
	// decideStart is when the decider started deciding calls (it reads
	// their keys' earlier outcomes from the database), 0 when idle: a
	// database that blocks those reads stalls writes before any commit.
	decideStart atomic.Int64
	excl        *exclusive // the serving lock (exclusive.go)
	exclOnce    sync.Once
	timeout     time.Duration

	stats Stats
	heads *heads // the node's signing key and published heads (head.go)
	// tokens remembers valid API tokens: hash -> Actor.
	tokens sync.Map

	reqs   chan *call
	stop   chan struct{}
	done   chan struct{}
	closed sync.Once
}

type call struct {
	actor Actor
	key   string
	req   Request
	hash  string
	res   Result
	err   error
	ready chan struct{}
}

// Options configure a node.
type Options struct {
	// Code is the registry code used in serial numbers (e.g. CN).
	Code string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
	// SharedDatabase skips the lock that keeps a second serving process off
	// the database (see ErrDatabaseInUse); for tests of several writers.
	SharedDatabase bool
	// CommitTimeout bounds one attempt at a group commit (lock, reads,
	// writes, COMMIT) and one look at the journal after a failed COMMIT;
	// default 15 s.
	CommitTimeout time.Duration
	// ManualExpiry leaves escrow expiry to the caller (ExpireDue) instead
	// of a background ticker: a deterministic simulation drives it on its
	// own clock.
	ManualExpiry bool
}

// Open loads the node's state from db and starts its writer. The registry
// code is stored in the database on first open and must match afterwards.
func Open(ctx context.Context, db *store.DB, opt Options) (*Node, error) {
	if !ledger.ValidCode(opt.Code) {
		return nil, fmt.Errorf("registry: code %q must be 2-12 upper-case letters or digits", opt.Code)
	}
	stored, err := db.Meta(ctx, "registry_code")
	if err != nil {
		return nil, err
	}
	switch {
	case stored == "":
		if err := db.SetMeta(ctx, "registry_code", opt.Code); err != nil {
			return nil, err
		}
	case stored != opt.Code:
		return nil, fmt.Errorf("registry: database belongs to registry %s, not %s", stored, opt.Code)
	}
	n := &Node{code: opt.Code, db: db, log: opt.Logger, now: opt.Now,
		reqs: make(chan *call, maxBatch), kick: make(chan struct{}, 1), free: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	if n.log == nil {
		n.log = slog.Default()
	}
	if n.now == nil {
		n.now = time.Now
	}
	n.timeout = opt.CommitTimeout
	if n.timeout <= 0 {
		n.timeout = defaultCommitTimeout
	}
	n.excl = &exclusive{release: func() {}}
	if !opt.SharedDatabase {
		if n.excl, err = holdExclusive(ctx, db, n.log); err != nil {
			return nil, err
		}
	}
	st, err := n.load(ctx)
	if err != nil {
		n.excl.release()
		return nil, err
	}
	if n.heads, err = openHeads(ctx, db, opt.Code, n.now); err != nil {
		n.excl.release()
		return nil, err
	}
	n.pub.Store(st)
	go n.excl.watch(n.stop, n.log)
	go n.run()
	if !opt.ManualExpiry {
		go n.expireEscrows()
	}
	return n, nil
}

// reader returns the node as one read sees it: its st is the last committed
// state, which no one changes, so the read takes no lock and never waits for
// the writer's database I/O. Read methods start with n = n.reader().
func (n *Node) reader() *Node {
	return &Node{code: n.code, db: n.db, log: n.log, now: n.now, st: n.pub.Load()}
}

// Code is the registry code.
func (n *Node) Code() string { return n.code }

// DB is the node's database.
func (n *Node) DB() *store.DB { return n.db }

// Close stops the writer after the queued transactions; the database stays open.
func (n *Node) Close() {
	n.closed.Do(func() { close(n.stop) })
	<-n.done
	n.exclOnce.Do(n.excl.release)
}

// ErrClosed is returned for transactions submitted after Close.
var ErrClosed = errors.New("registry: node is closed")

// Do applies one transaction and returns its result once it is durably
// committed. key is the client's idempotency key: a repeat of the same
// request returns the first result; the same key with another request fails
// with idempotency_conflict.
func (n *Node) Do(ctx context.Context, actor Actor, key string, req Request) (Result, error) {
	if err := checkCall(actor, key, req); err != nil {
		return Result{}, err
	}
	// The wall clock, not n.now: a vintage is in the future by the
	// calendar, and a test's clock must not tick for a check.
	if err := CheckIssuanceFacts(req, time.Now()); err != nil {
		return Result{}, err
	}
	if !utf8.ValidString(key) || strings.ContainsRune(key, 0) {
		return Result{}, ledger.Errorf(ledger.KindInvalid, "idempotency_key_invalid", 0, "Idempotency-Key", "the Idempotency-Key must be valid UTF-8 without NUL (no store keeps other text)")
	}
	if lost := n.excl.lostErr(); lost != nil {
		return Result{}, errNotServing(lost)
	}
	c := &call{actor: actor, key: key, req: req, hash: requestHash(actor, req), ready: make(chan struct{})}
	select {
	case n.reqs <- c:
	case <-n.stop:
		return Result{}, ErrClosed
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	// Once queued the transaction will be decided; wait for it even if ctx
	// ends, so the caller never mistakes a committed transaction for a lost one.
	// The writer closes ready before done, so a call still unready when the
	// writer has exited was queued after its last drain and never taken.
	select {
	case <-c.ready:
	case <-n.done:
		select {
		case <-c.ready:
		default:
			return Result{}, ErrClosed
		}
	}
	return c.res, c.err
}

// requestHash is the SHA-256 of the actor, kind and canonical JSON request.
func requestHash(actor Actor, req Request) string {
	body, _ := json.Marshal(req)
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", actor, req.Kind())
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// EntryHash is the journal hash of e: SHA-256 over the previous hash and
// every other field of the entry, newline-separated.
func EntryHash(e ledger.Entry) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%d\n%s\n%s\n%s\n%s\n%s\n", e.PrevHash, e.Seq, e.At.UTC().Format(time.RFC3339Nano), e.Kind, e.Actor, e.IdemKey, e.RequestHash)
	h.Write([]byte(e.Body))
	return hex.EncodeToString(h.Sum(nil))
}

// Ready reports whether the node can take writes: its committed state is
// known to match the database, the writer is not stuck on one batch and the
// queue is below its bound. It does no I/O (see Ping). Reads are answered
// whatever it says.
func (n *Node) Ready() error {
	select {
	case <-n.stop:
		return ErrClosed
	default:
	}
	if n.suspect.Load() {
		return errors.New("registry: a commit's outcome is not known yet; the node is reloading its state from the database")
	}
	if lost := n.excl.lostErr(); lost != nil {
		return lost
	}
	if t := n.batchStart.Load(); t != 0 {
		if d := time.Since(time.Unix(0, t)); d > stuckAfter {
			return fmt.Errorf("registry: the writer has been on one group commit for %s (the database is slow or unreachable)", d.Round(time.Millisecond))
		}
	}
	if t := n.decideStart.Load(); t != 0 {
		if d := time.Since(time.Unix(0, t)); d > stuckAfter {
			return fmt.Errorf("registry: the writer has been deciding one group commit for %s, waiting on the database's reads (the database is slow, locked or unreachable)", d.Round(time.Millisecond))
		}
	}
	if q := len(n.reqs); q >= readyQueue {
		return fmt.Errorf("registry: %d transactions are queued (bound %d)", q, readyQueue)
	}
	return nil
}

// Ping checks that the node's database answers within ctx.
func (n *Node) Ping(ctx context.Context) error {
	var one int
	if err := n.db.SQL().QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("registry: database unreachable: %w", err)
	}
	return nil
}

// Timing of the writer's retries.
const (
	// maxAttempts bounds how often one batch is tried before its calls are
	// answered with a failure.
	maxAttempts = 4
	// defaultCommitTimeout bounds one attempt (lock, reads, writes,
	// COMMIT): a database that hangs is answered rather than waited on.
	defaultCommitTimeout = 15 * time.Second
	// resolveRetry is how often an unresolved commit is looked at again.
	resolveRetry = 500 * time.Millisecond
	// stuckAfter is how long one group commit may take before the node
	// reports not ready; a healthy one takes milliseconds.
	stuckAfter = 2 * time.Second
	// readyQueue is the queue depth from which the node reports not ready.
	readyQueue = maxBatch * 3 / 4
)

// process decides a batch of calls and commits them; every call has its
// answer when it returns.
func (n *Node) process(batch []*call) {
	n.wmu.Lock()
	defer n.wmu.Unlock()
	n.batchStart.Store(time.Now().UnixNano())
	defer n.batchStart.Store(0)
	start := time.Now()
	n.epoch.Add(1) // batches decided ahead on the old tip are decided again
	n.decide(context.Background(), batch)
	n.tip = nil
	n.stats.CommitNanos.Add(int64(time.Since(start)))
	if int64(len(batch)) > n.stats.LargestBatch.Load() {
		n.stats.LargestBatch.Store(int64(len(batch)))
	}
}

// outcome is what one attempt at committing a batch came to.
type outcome int

const (
	committed   outcome = iota // durable; the calls have their answers
	stale                      // another writer committed first: decide again
	unreachable                // the lock or the journal head could not be read: nothing written
	refused                    // the database refused the batch's reads or writes: not committed
	unknown                    // COMMIT was sent and its outcome could not be learned
)

// decide commits batch, trying again when that is safe, and answers every
// call. A batch the database refuses is split in halves, each decided on
// its own, so one call the database cannot take (a byte sequence it refuses,
// a failing row) is answered alone and the others commit.
func (n *Node) decide(ctx context.Context, batch []*call) {
	for attempt := 0; ; attempt++ {
		out, err := n.attempt(ctx, batch)
		switch out {
		case committed:
			return
		case stale:
			if attempt < maxAttempts {
				continue // another writer slipped in; decide again on fresh state
			}
		case unreachable:
			if attempt < maxAttempts-1 {
				time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
				continue
			}
		case refused:
			if len(batch) > 1 {
				h := len(batch) / 2
				n.decide(ctx, batch[:h])
				n.decide(ctx, batch[h:])
				return
			}
			if attempt < 1 {
				continue // once more, in case the failure was passing
			}
		case unknown:
			n.log.Error("registry: commit outcome unknown", "err", err, "batch", len(batch))
			n.answer(batch, errOutcomeUnknown)
			return
		}
		n.log.Error("registry: commit failed", "err", err, "batch", len(batch), "outcome", out)
		n.answer(batch, errNotCommitted)
		return
	}
}

var (
	errNotCommitted = &ledger.Error{Kind: ledger.KindTransient, Code: "unavailable",
		Detail: "the transaction was not committed (the database did not take it); nothing changed, retry with the same Idempotency-Key"}
	errOutcomeUnknown = &ledger.Error{Kind: ledger.KindTransient, Code: CodeOutcomeUnknown,
		Detail: "the database did not confirm the commit, so the transaction may or may not have been committed; retry with the SAME Idempotency-Key, which returns its result if it was committed and applies it once if it was not"}
)

// CodeOutcomeUnknown answers a write whose commit may or may not have
// happened (the database connection was lost during COMMIT). The client
// must retry with the same Idempotency-Key, never with a new one.
const CodeOutcomeUnknown = "outcome_unknown"

// answer fails every call of batch with err.
func (n *Node) answer(batch []*call, err error) {
	n.stats.Failed.Add(int64(len(batch)))
	for _, c := range batch {
		c.res, c.err = Result{}, err
	}
}

// attempt takes the database write lock, brings the committed state up to
// the journal head if another process wrote, decides the batch on a clone
// of it and commits. Only a durable batch is published to readers: until
// then they keep reading the state before it, without waiting.
func (n *Node) attempt(ctx context.Context, batch []*call) (outcome, error) {
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	wtx, head, err := n.db.BeginWrite(ctx)
	if err != nil {
		return unreachable, err
	}
	defer wtx.Rollback()
	base, err := n.atHead(ctx, head)
	if err != nil {
		return unreachable, err
	}
	prior, err := n.priorOutcomes(ctx, batch)
	if err != nil {
		return refused, err
	}
	n.st = base.clone()
	defer func() { n.st = nil }()
	w, err := n.applyBatch(batch, prior)
	if err != nil {
		return refused, err
	}
	if len(w.batch.Entries) == 0 && len(w.batch.Rejections) == 0 {
		n.count(batch, w)
		return committed, nil
	}
	err = wtx.Commit(ctx, &w.batch)
	if errors.Is(err, store.ErrStale) {
		return stale, err
	}
	if err != nil {
		// Whether COMMIT took effect is learned under the write lock, where
		// every earlier transaction on this database has ended.
		done, rerr := n.resolve(w)
		switch {
		case rerr != nil:
			n.markSuspect()
			return unknown, fmt.Errorf("%w (and the outcome could not be read: %v)", err, rerr)
		case !done:
			return refused, err
		}
		n.log.Warn("registry: commit reported failure but was durable", "err", err, "batch", len(batch))
	}
	n.pub.Store(n.st)
	n.count(batch, w)
	return committed, nil
}

// atHead returns the committed state as of head, reloading it from the
// database when another process (or a commit whose outcome was not known)
// moved the journal since it was published.
func (n *Node) atHead(ctx context.Context, head ledger.Entry) (*state, error) {
	base := n.pub.Load()
	if head.Seq == base.head.Seq && head.Hash == base.head.Hash {
		n.suspect.Store(false)
		return base, nil
	}
	st, err := n.load(ctx)
	if err != nil {
		return nil, fmt.Errorf("registry: reload after the journal moved: %w", err)
	}
	n.pub.Store(st)
	n.stats.Reloads.Add(1)
	n.suspect.Store(false)
	return st, nil
}

// resolve reports whether w, whose COMMIT failed, is in the database: its
// last entry is there with its hash (the hash chains every earlier entry).
// A batch of rejections only is resolved as not committed: deciding it again
// finds its rejections if they were written.
func (n *Node) resolve(w *writeSet) (bool, error) {
	if len(w.batch.Entries) == 0 {
		return false, nil
	}
	last := w.batch.Entries[len(w.batch.Entries)-1]
	var err error
	for try := 0; try < 3; try++ {
		if try > 0 {
			time.Sleep(time.Duration(try) * 100 * time.Millisecond)
		}
		var done bool
		if done, err = n.journalHas(last); err == nil {
			return done, nil
		}
	}
	return false, err
}

// journalHas reports, under the write lock, whether the journal holds e.
func (n *Node) journalHas(e ledger.Entry) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), n.timeout)
	defer cancel()
	wtx, head, err := n.db.BeginWrite(ctx)
	if err != nil {
		return false, err
	}
	defer wtx.Rollback()
	if head.Seq < e.Seq {
		return false, nil
	}
	if head.Seq == e.Seq {
		return head.Hash == e.Hash, nil
	}
	got, ok, err := n.db.Entry(ctx, e.Seq)
	if err != nil {
		return false, err
	}
	return ok && got.Hash == e.Hash, nil
}

// settleSuspect brings the committed state to the journal head after a
// commit whose outcome could not be learned; until it succeeds the node
// reports not ready.
func (n *Node) settleSuspect(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	wtx, head, err := n.db.BeginWrite(ctx)
	if err != nil {
		n.log.Warn("registry: still cannot read the journal head after an unknown commit outcome", "err", err)
		return
	}
	defer wtx.Rollback()
	if _, err := n.atHead(ctx, head); err != nil {
		n.log.Warn("registry: reload after an unknown commit outcome failed", "err", err)
	}
}

// count adds a decided batch to the node's counters.
func (n *Node) count(batch []*call, w *writeSet) {
	if len(w.batch.Entries) > 0 || len(w.batch.Rejections) > 0 {
		n.stats.Commits.Add(1)
		n.stats.Committed.Add(int64(len(w.batch.Entries)))
	}
	for _, c := range batch {
		if c.res.Replayed {
			n.stats.Replayed.Add(1)
		} else if c.err != nil {
			n.stats.Rejected.Add(1)
		}
	}
}

// Stats are a node's running counters, for monitoring.
type Stats struct {
	Commits      atomic.Int64 // database transactions committed
	Committed    atomic.Int64 // ledger transactions committed
	Rejected     atomic.Int64 // ledger transactions refused by a rule
	Replayed     atomic.Int64 // requests answered from an earlier idempotency key
	Failed       atomic.Int64 // ledger transactions answered not committed or outcome unknown (retryable)
	Reloads      atomic.Int64 // state reloads (another writer, or a commit of unknown outcome)
	CommitNanos  atomic.Int64 // time spent in batches, from lock to commit
	LargestBatch atomic.Int64
}

// Stats returns the node's counters.
func (n *Node) Stats() *Stats { return &n.stats }

// prior is what an idempotency key already stands for: a journal entry or
// a recorded rejection.
type prior struct {
	entry *ledger.Entry
	rej   *store.Rejection
}

// priorOutcomes reads what the batch's keys already stand for.
func (n *Node) priorOutcomes(ctx context.Context, batch []*call) (map[string]prior, error) {
	keys := make([]string, len(batch))
	for i, c := range batch {
		keys[i] = c.key
	}
	es, rs, err := n.db.Outcomes(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[string]prior, len(es)+len(rs))
	for k, e := range es {
		out[k] = prior{entry: &e}
	}
	for k, r := range rs {
		out[k] = prior{rej: &r}
	}
	return out, nil
}

// applyBatch applies each call to memory (n.st) and returns the batch's
// writes. A call that breaks a rule gets its error, changes nothing and has
// its rejection recorded under its key; the rest commit together. An error
// means an invariant broke: the clone is dropped.
func (n *Node) applyBatch(batch []*call, prior map[string]prior) (*writeSet, error) {
	w := newWriteSet()
	if err := n.applyCalls(w, batch, prior); err != nil {
		return w, err
	}
	n.sealBlocks(w)
	return w, nil
}

// applyCalls applies calls to n.st, adding to w (a batch may grow by
// several calls to applyCalls before it is sealed and committed).
func (n *Node) applyCalls(w *writeSet, calls []*call, prior map[string]prior) error {
	if !w.haveStored {
		// n.st is still the state the batch is decided on, which the
		// database holds when the batch's writes run.
		w.stored, w.haveStored = n.st.blocksNow(), true
	}
	for _, c := range calls {
		c.res, c.err = Result{}, nil
		if p, ok := prior[c.key]; ok {
			c.res, c.err = p.replay(c.hash)
			continue
		}
		// A call refused by a rule binds its key to that refusal, as an
		// applied one binds it to its result; the same request again is
		// answered the same way, another request is a conflict.
		if first, ok := w.keys[c.key]; ok {
			switch {
			case first.hash != c.hash:
				c.err = conflict(c.key)
			case first.err != nil:
				c.err = first.err
			default:
				c.res = first.res
				c.res.Replayed = true
				c.res.Token = ""
			}
			continue
		}
		w.keys[c.key] = c
		at := n.st.head.Seq
		c.res, c.err = n.apply(w, c)
		if c.err != nil {
			le, isRule := ledger.AsError(c.err)
			if !isRule {
				return c.err
			}
			body, _ := json.Marshal(le)
			w.batch.Rejections = append(w.batch.Rejections, store.Rejection{Key: c.key, RequestHash: c.hash, AfterSeq: at, At: n.now().UTC(), Body: string(body)})
		}
	}
	return nil
}

// sealBlocks sets w's block writes from the blocks its calls touched, as
// they stand in n.st, telling the store which keys it holds (w.stored): a
// key stored and still a block's is set (unless the block is unchanged), a
// new one added, a stored one no longer a block's deleted, and a key made
// and merged away within the batch not written at all.
func (n *Node) sealBlocks(w *writeSet) {
	b := &w.batch
	b.SetBlocks, b.AddBlocks, b.DeleteBlocks = b.SetBlocks[:0], b.AddBlocks[:0], b.DeleteBlocks[:0]
	for ref := range w.dirty {
		now, isNow := blockAt(n.st.blocks, ref)
		was, wasStored := blockAt(w.stored, ref)
		switch {
		case isNow && wasStored:
			if now != was {
				b.SetBlocks = append(b.SetBlocks, now)
			}
		case isNow:
			b.AddBlocks = append(b.AddBlocks, now)
		case wasStored:
			b.DeleteBlocks = append(b.DeleteBlocks, was)
		}
	}
}

// blockAt returns the block that starts at ref.
func blockAt(blocks pmap[int64, *btree.BTreeG[ledger.Block]], ref blockRef) (ledger.Block, bool) {
	tree := blocks.Get(ref.Issuance)
	if tree == nil {
		return ledger.Block{}, false
	}
	return tree.Get(ledger.Block{Start: ref.Start})
}

// replay answers a call whose key is already recorded.
func (p prior) replay(hash string) (Result, error) {
	if p.entry != nil {
		return replay(*p.entry, hash)
	}
	if p.rej.RequestHash != hash {
		return Result{}, conflict(p.rej.Key)
	}
	var e ledger.Error
	if err := json.Unmarshal([]byte(p.rej.Body), &e); err != nil {
		return Result{}, fmt.Errorf("registry: rejection recorded under %q: %w", p.rej.Key, err)
	}
	return Result{}, &e
}

func conflict(key string) error {
	return ledger.Errorf(ledger.KindConflict, ledger.CodeIdempotencyConflict, 0, "Idempotency-Key",
		"the Idempotency-Key %q was already used for a different request", key)
}

func replay(e ledger.Entry, hash string) (Result, error) {
	if e.RequestHash != hash {
		return Result{}, conflict(e.IdemKey)
	}
	var body entryBody
	if err := json.Unmarshal([]byte(e.Body), &body); err != nil {
		return Result{}, fmt.Errorf("registry: journal entry %d: %w", e.Seq, err)
	}
	body.Result.Replayed = true
	return body.Result, nil
}

// entryBody is what a journal entry's Body holds.
type entryBody struct {
	Request json.RawMessage `json:"request"`
	Result  Result          `json:"result"`
}

// writeSet collects one batch's writes.
type writeSet struct {
	batch store.Batch
	dirty map[blockRef]struct{}
	// stored are the blocks as the batch found them (applyCalls), which
	// the database holds when the batch is written.
	stored     pmap[int64, *btree.BTreeG[ledger.Block]]
	haveStored bool
	// keys are the batch's calls decided so far, by idempotency key.
	keys map[string]*call
}

func newWriteSet() *writeSet {
	return &writeSet{dirty: map[blockRef]struct{}{}, keys: map[string]*call{}}
}

// putAccount adds an account row to the batch, replacing the batch's earlier
// row for the same account: the rows are one upsert, which on PostgreSQL may
// not touch a row twice.
func (w *writeSet) putAccount(a ledger.Account) {
	for i := range w.batch.Accounts {
		if w.batch.Accounts[i].ID == a.ID {
			w.batch.Accounts[i] = a
			return
		}
	}
	w.batch.Accounts = append(w.batch.Accounts, a)
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
