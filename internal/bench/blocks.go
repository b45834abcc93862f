package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
)

// maxRangesPerTransfer is the registry's limit of serial ranges in one
// transaction.
const maxRangesPerTransfer = 1000

// BlocksParams configure BuildLarge.
type BlocksParams struct {
	Store store.Config
	// Blocks is how many serial blocks the registry ends up with.
	Blocks int
	// PerIssuance caps the blocks of one issuance; 0 puts them all in one
	// issuance, the worst case for a serial lookup.
	PerIssuance int
	// Accounts receive the split-off blocks (64 when zero).
	Accounts int
	// RangesPerTransfer is how many single-unit serial ranges each build
	// transfer moves (100 when zero, at most 1000). Fewer make more, smaller
	// journal entries, closer to real traffic: a lookup reads the entries
	// in the serial's history.
	RangesPerTransfer int
	// Progress, if set, is called after each committed build transfer.
	Progress func(done, total int)
}

// Large is a registry node of many blocks, built by BuildLarge.
type Large struct {
	Node      *registry.Node
	Holders   []Holder
	Blocks    int64
	Transfers int
	// Build is the time to build it; Reopen the time to rebuild the node's
	// memory from the database afterwards (what a restart costs).
	Build, Reopen time.Duration

	issuances []issued
	close     func()
}

type issued struct {
	registry.Issue
	ID int64
}

// Close stops the node and closes its database.
func (l *Large) Close() { l.close() }

// serial is the serial of the single unit s of issuance i (0-based).
func (l *Large) serial(i int, s int64) string {
	x := l.issuances[i]
	return ledger.Serial{Registry: Code, UnitType: x.UnitType, Project: x.Project, Vintage: x.Vintage, Issuance: x.ID, Start: s, End: s}.String()
}

// RandomSerial is the serial of one random unit of the registry.
func (l *Large) RandomSerial(rng *rand.Rand) string {
	i := rng.IntN(len(l.issuances))
	return l.serial(i, 1+rng.Int64N(l.issuances[i].Quantity))
}

// RandomAccount is one random holder's account.
func (l *Large) RandomAccount(rng *rand.Rand) int64 {
	return l.Holders[rng.IntN(len(l.Holders))].Account
}

// BuildLarge builds a registry of p.Blocks blocks the way a busy registry
// grows, but fast: each issuance is split by transfers of many single-unit
// serial ranges each (every other serial), sent concurrently so that the
// group commit packs them into few database transactions. An issuance of b
// units split by moving serials 2, 4, …, 2⌊b/2⌋ ends as b blocks.
func BuildLarge(ctx context.Context, p BlocksParams) (*Large, error) {
	if p.Blocks < 1 {
		return nil, fmt.Errorf("bench: blocks must be positive, not %d", p.Blocks)
	}
	per := p.PerIssuance
	if per <= 0 || per > p.Blocks {
		per = p.Blocks
	}
	if p.Accounts < 2 {
		p.Accounts = 64
	}
	ranges := p.RangesPerTransfer
	if ranges <= 0 {
		ranges = 100
	}
	if ranges > maxRangesPerTransfer {
		return nil, fmt.Errorf("bench: at most %d serial ranges per transfer, not %d", maxRangesPerTransfer, ranges)
	}
	n, closeNode, err := OpenNode(ctx, p.Store)
	if err != nil {
		return nil, err
	}
	l := &Large{Node: n, close: closeNode}
	fail := func(err error) (*Large, error) { l.close(); return nil, err }
	start := time.Now()
	f, err := Setup(ctx, n, SetupParams{Accounts: p.Accounts})
	if err != nil {
		return fail(err)
	}
	l.Holders = f.Holders
	from := f.Holders[0]
	for left := p.Blocks; left > 0; left -= per {
		l.issuances = append(l.issuances, issued{Issue: IssueRequest(from.Account, int64(min(per, left)), len(l.issuances))})
	}
	var wg sync.WaitGroup
	errs := make([]error, len(l.issuances))
	sem := make(chan struct{}, 256)
	for i := range l.issuances {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			r, err := n.Do(ctx, admin, fmt.Sprintf("large-issue-%d", i), l.issuances[i].Issue)
			l.issuances[i].ID, errs[i] = r.ID, err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fail(fmt.Errorf("bench: issue: %w", err))
	}
	type job struct {
		req registry.Transfer
		key string
	}
	var jobs []job
	for i, x := range l.issuances {
		moves := int(x.Quantity / 2)
		for m := 0; m < moves; m += ranges {
			serials := make([]string, min(ranges, moves-m))
			for r := range serials {
				serials[r] = l.serial(i, int64(2+2*(m+r)))
			}
			to := f.Holders[1+len(jobs)%(len(f.Holders)-1)]
			jobs = append(jobs, job{registry.Transfer{From: from.Account, To: to.Account, Units: registry.Units{Serials: serials}}, fmt.Sprintf("large-split-%d", len(jobs))})
		}
	}
	l.Transfers = len(jobs)
	queue := make(chan job)
	var mu sync.Mutex
	var done int
	var firstErr error
	for range 32 {
		wg.Go(func() {
			for j := range queue {
				_, err := n.Do(ctx, from.Actor, j.key, j.req)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("bench: split transfer %s: %w", j.key, err)
				}
				done++
				if p.Progress != nil {
					p.Progress(done, len(jobs))
				}
				mu.Unlock()
			}
		})
	}
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	wg.Wait()
	if firstErr != nil {
		return fail(firstErr)
	}
	l.Build = time.Since(start)
	if err := n.DB().EachBlock(ctx, func(ledger.Block) error { l.Blocks++; return nil }); err != nil {
		return fail(err)
	}
	if l.Blocks != int64(p.Blocks) {
		return fail(fmt.Errorf("bench: built %d blocks, wanted %d", l.Blocks, p.Blocks))
	}
	n.Close()
	db := n.DB()
	t0 := time.Now()
	if l.Node, err = registry.Open(ctx, db, registry.Options{Code: Code}); err != nil {
		db.Close()
		return nil, fmt.Errorf("bench: reopen: %w", err)
	}
	l.Reopen = time.Since(t0)
	l.close = func() { l.Node.Close(); db.Close() }
	return l, nil
}

// ReadResult is what MeasureReads timed.
type ReadResult struct {
	Account Latency `json:"account"`
	Lookup  Latency `json:"lookup"`
}

// MeasureReads times samples account balance reads (Node.Account) and
// serial lookups with history (Node.Lookup) of random accounts and units.
func MeasureReads(ctx context.Context, l *Large, samples int, seed uint64) (ReadResult, error) {
	var r ReadResult
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	for range samples {
		acc := l.RandomAccount(rng)
		t0 := time.Now()
		if _, err := l.Node.Account(registry.Operator, acc); err != nil {
			return r, fmt.Errorf("bench: account %d: %w", acc, err)
		}
		r.Account.Add(time.Since(t0))
		serial := l.RandomSerial(rng)
		t0 = time.Now()
		info, err := l.Node.Lookup(ctx, registry.Operator, serial)
		if err != nil {
			return r, fmt.Errorf("bench: lookup %s: %w", serial, err)
		}
		r.Lookup.Add(time.Since(t0))
		if len(info.Blocks) != 1 || len(info.History) == 0 {
			return r, fmt.Errorf("bench: lookup %s found %d blocks and %d events", serial, len(info.Blocks), len(info.History))
		}
	}
	r.Account.Finish()
	r.Lookup.Finish()
	return r, nil
}
