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
	"sync"
	"sync/atomic"
	"time"

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

	mu sync.RWMutex // guards st; the writer holds it from apply to commit
	st *state

	stats Stats
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
		reqs: make(chan *call, maxBatch), stop: make(chan struct{}), done: make(chan struct{})}
	if n.log == nil {
		n.log = slog.Default()
	}
	if n.now == nil {
		n.now = time.Now
	}
	if n.st, err = n.load(ctx); err != nil {
		return nil, err
	}
	go n.run()
	return n, nil
}

// Code is the registry code.
func (n *Node) Code() string { return n.code }

// DB is the node's database.
func (n *Node) DB() *store.DB { return n.db }

// Close stops the writer after the queued transactions; the database stays open.
func (n *Node) Close() {
	n.closed.Do(func() { close(n.stop) })
	<-n.done
}

// ErrClosed is returned for transactions submitted after Close.
var ErrClosed = errors.New("registry: node is closed")

// Do applies one transaction and returns its result once it is durably
// committed. key is the client's idempotency key: a repeat of the same
// request returns the first result; the same key with another request fails
// with idempotency_conflict.
func (n *Node) Do(ctx context.Context, actor Actor, key string, req Request) (Result, error) {
	if key == "" {
		return Result{}, ledger.Errorf(ledger.KindInvalid, "idempotency_key_missing", 0, "Idempotency-Key", "every write needs an Idempotency-Key (any unique string of up to 200 characters)")
	}
	if len(key) > 200 {
		return Result{}, ledger.Errorf(ledger.KindInvalid, "idempotency_key_invalid", 0, "Idempotency-Key", "the Idempotency-Key is longer than 200 characters")
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

func (n *Node) run() {
	defer close(n.done)
	batch := make([]*call, 0, maxBatch)
	for {
		select {
		case c := <-n.reqs:
			batch = append(batch[:0], c)
		case <-n.stop:
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
	drain:
		for len(batch) < maxBatch {
			select {
			case c := <-n.reqs:
				batch = append(batch, c)
			default:
				break drain
			}
		}
		n.process(batch)
		for _, c := range batch {
			close(c.ready)
		}
	}
}

// process decides a batch of calls and commits them in one transaction.
func (n *Node) process(batch []*call) {
	ctx := context.Background()
	keys := make([]string, len(batch))
	for i, c := range batch {
		keys[i] = c.key
	}
	for attempt := 0; ; attempt++ {
		err := n.processOnce(ctx, batch, keys)
		if err == nil {
			return
		}
		if errors.Is(err, store.ErrStale) && attempt < 3 {
			continue // another writer slipped in; decide again on fresh state
		}
		n.log.Error("registry: commit failed", "err", err, "batch", len(batch))
		n.failAll(batch)
		return
	}
}

// Stats are a node's running counters, for monitoring.
type Stats struct {
	Commits      atomic.Int64 // database transactions committed
	Committed    atomic.Int64 // ledger transactions committed
	Rejected     atomic.Int64 // ledger transactions refused by a rule
	Replayed     atomic.Int64 // requests answered from an earlier idempotency key
	Failed       atomic.Int64 // ledger transactions lost to a failed commit (retryable)
	Reloads      atomic.Int64 // state reloads (another writer, or a failed commit)
	CommitNanos  atomic.Int64 // time spent in batches, from lock to commit
	LargestBatch atomic.Int64
}

// Stats returns the node's counters.
func (n *Node) Stats() *Stats { return &n.stats }

// processOnce takes the database write lock, brings memory up to the
// journal head if another process wrote, applies the batch and commits.
func (n *Node) processOnce(ctx context.Context, batch []*call, keys []string) error {
	start := time.Now()
	defer func() { n.stats.CommitNanos.Add(int64(time.Since(start))) }()
	wtx, head, err := n.db.BeginWrite(ctx)
	if err != nil {
		return err
	}
	defer wtx.Rollback()
	// Under the lock every other writer's commits are visible.
	prior, err := n.db.EntriesByKey(ctx, keys)
	if err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if head.Seq != n.st.head.Seq || head.Hash != n.st.head.Hash {
		st, err := n.load(ctx)
		if err != nil {
			return fmt.Errorf("registry: reload after another writer: %w", err)
		}
		n.st = st
		n.stats.Reloads.Add(1)
	}
	w, err := n.applyBatch(batch, prior)
	if err == nil && len(w.batch.Entries) > 0 {
		err = wtx.Commit(ctx, &w.batch)
	}
	if err != nil {
		// Memory is ahead of the database: rebuild it from the database.
		st, lerr := n.load(ctx)
		if lerr != nil {
			return fmt.Errorf("registry: reload after failed commit: %v (commit: %w)", lerr, err)
		}
		n.st = st
		n.stats.Reloads.Add(1)
		return err
	}
	if len(w.batch.Entries) > 0 {
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
	if int64(len(batch)) > n.stats.LargestBatch.Load() {
		n.stats.LargestBatch.Store(int64(len(batch)))
	}
	return nil
}

// failAll answers every call of a batch that could not be committed; the
// cause is logged by the caller.
func (n *Node) failAll(batch []*call) {
	n.stats.Failed.Add(int64(len(batch)))
	for _, c := range batch {
		c.res, c.err = Result{}, &ledger.Error{Kind: ledger.KindTransient, Code: "unavailable", Detail: "the transaction was not committed; retry with the same Idempotency-Key"}
	}
}

// applyBatch applies each call to memory and returns the batch's writes. A
// call that breaks a rule gets its error and changes nothing; the rest
// commit together. An error means an invariant broke and memory is suspect.
func (n *Node) applyBatch(batch []*call, prior map[string]ledger.Entry) (*writeSet, error) {
	w := &writeSet{dirty: map[blockRef]struct{}{}}
	inBatch := map[string]*call{}
	for _, c := range batch {
		c.res, c.err = Result{}, nil
		if e, ok := prior[c.key]; ok {
			c.res, c.err = replay(e, c.hash)
			continue
		}
		// A call that failed committed nothing and leaves its key free, as
		// it would if the next call came in a later batch.
		if first, ok := inBatch[c.key]; ok && first.err == nil {
			if first.hash != c.hash {
				c.err = conflict(c.key)
			} else {
				c.res = first.res
				c.res.Replayed = true
				c.res.Token = ""
			}
			continue
		}
		inBatch[c.key] = c
		c.res, c.err = n.apply(w, c)
		if c.err != nil {
			if _, isRule := ledger.AsError(c.err); !isRule {
				return w, c.err
			}
		}
	}
	for ref := range w.dirty {
		if b, ok := n.st.blocks[ref.Issuance].Get(ledger.Block{Start: ref.Start}); ok {
			w.batch.PutBlocks = append(w.batch.PutBlocks, b)
		} else {
			w.batch.DeleteBlocks = append(w.batch.DeleteBlocks, ledger.Block{Issuance: ref.Issuance, Start: ref.Start})
		}
	}
	return w, nil
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
