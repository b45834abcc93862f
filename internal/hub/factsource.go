package hub

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
)

// The Article 6 fact source of a networked hub (docs/article6.md, "The
// networked hub's fact source"): each node answers GET
// <endpoint>/hub/v1/article6 with its journal entries of
// registry.Article6Kinds after a sequence, one page in sequence order, to
// a request signed by the hub's key as the reconciliation's snapshot read
// is (an envelope of type article6_request in the Authorization header,
// scheme Corridor-Hub; package hubhttp, Article6Handler and
// Article6Source). The hub's ledger is then built as the embedded
// corridor's (Article6Members, OpenArticle6): same mapping of registries
// to Parties, same hub_article6 table, replayed on restart.

// Article6 request of the networked hub's fact source.
const (
	Article6Path        = "hub/v1/article6"
	Article6RequestType = "article6_request"
	// Article6PageMax bounds the entries of one answer; a node answers at
	// most this many (fewer when the request's limit is smaller).
	Article6PageMax = 1000
)

// Article6Request is the body of an article6_request: the entries of
// Registry after seq After, at most Limit of them (Article6PageMax when
// 0). The cursor is in the signed body, so what the node answers is what
// the hub asked for.
type Article6Request struct {
	Registry string `json:"registry"`
	After    int64  `json:"after"`
	Limit    int    `json:"limit,omitempty"`
}

// SignArticle6Request seals an article6_request to registry code with the
// hub's signer, sent at now.
func SignArticle6Request(hubSigner envelope.Signer, now time.Time, code string, after int64, limit int) (string, error) {
	return signRequest(hubSigner, now, code, Article6RequestType, Article6Request{Registry: code, After: after, Limit: limit})
}

// Article6Page reads one page of n's journal entries of the Article 6
// kinds after seq: at most limit entries, in sequence order, none left
// out before the last one (so a cursor set to the last seq skips
// nothing). An empty page means there are none after seq.
func Article6Page(ctx context.Context, n *registry.Node, after int64, limit int) ([]registry.Transaction, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("hub: article 6 entries of %s: limit %d", n.Code(), limit)
	}
	var out []registry.Transaction
	// A kind that fills its page may have more entries: keep only what
	// precedes its last one.
	upTo := int64(math.MaxInt64)
	for _, k := range registry.Article6Kinds() {
		ts, err := n.Transactions(ctx, registry.Operator, after, k, limit)
		if err != nil {
			return nil, fmt.Errorf("hub: article 6 entries of %s: %w", n.Code(), err)
		}
		if len(ts) == limit {
			upTo = min(upTo, ts[len(ts)-1].Seq)
		}
		out = append(out, ts...)
	}
	out = slices.DeleteFunc(out, func(t registry.Transaction) bool { return t.Seq > upTo })
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// readSource reads every entry of src after seq after, page by page, as
// facts of registry code. A source answering an entry that is not after
// the last one read (out of order, or ignoring the cursor) is refused: it
// would repeat or skip facts.
func (x *Article6) readSource(ctx context.Context, code string, src Article6Source, after int64) ([]Article6Fact, error) {
	var out []Article6Fact
	for {
		ts, err := src.Article6Entries(ctx, after)
		if err != nil {
			return nil, err
		}
		if len(ts) == 0 {
			return out, nil
		}
		for _, t := range ts {
			if t.Seq <= after {
				return nil, fmt.Errorf("hub: %s answered entry %d after %d: its entries must follow the cursor in sequence order", code, t.Seq, after)
			}
			f, err := x.factOf(code, t)
			if err != nil {
				return nil, err
			}
			out = append(out, f)
			after = t.Seq
		}
	}
}

// Article6Member is a registry whose journal feeds the hub's Article 6
// ledger: its code, its Party ("" means the first two letters of the
// code, as the corridor's codes start with their Party's) and its source.
type Article6Member struct {
	Code, Party string
	Source      Article6Source
}

// Article6ConfigFor is the ledger configuration both hubs use: every
// member is a source, its Party is the one given (else the first two
// letters of its code), and a Party's Article 6 registry is the member
// whose code is the Party code.
func Article6ConfigFor(db *store.DB, members []Article6Member, approaches article6.Approaches) Article6Config {
	cfg := Article6Config{DB: db, Ledger: article6.Config{Approaches: approaches, Registries: map[string]string{}}, Sources: map[string]Article6Source{}, Party: map[string]string{}}
	for _, m := range members {
		party := m.Party
		if party == "" {
			party = m.Code
			if len(party) > 2 {
				party = party[:2]
			}
		}
		cfg.Sources[m.Code] = m.Source
		cfg.Party[m.Code] = party
		if m.Code == party {
			cfg.Ledger.Registries[party] = m.Code
		}
	}
	return cfg
}

// ErrArticle6Stale: the hub's Article 6 facts could not be brought up to
// date because a registry's fact source did not answer. Errors of that
// kind are *Article6StaleError.
var ErrArticle6Stale = errors.New("hub: the Article 6 facts are stale")

// Article6StaleError says which registries' facts could not be read (or
// were read but not taken: a sync takes the facts of every registry or
// none, so that they are applied in one time order).
type Article6StaleError struct {
	// Failed maps a registry code to why its read failed.
	Failed map[string]error
	// Unread lists the registries that answered with entries the ledger has
	// not taken yet (they are read again at the next sync).
	Unread []string
}

func (e *Article6StaleError) Error() string {
	var parts []string
	for _, c := range e.Registries() {
		parts = append(parts, fmt.Sprintf("%s: %v", c, e.Failed[c]))
	}
	return "hub: the Article 6 facts are stale: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrArticle6Stale) true.
func (e *Article6StaleError) Is(target error) bool { return target == ErrArticle6Stale }

// Registries are the registries whose reads failed, sorted.
func (e *Article6StaleError) Registries() []string {
	out := make([]string, 0, len(e.Failed))
	for c := range e.Failed {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// Public is a sentence naming the registries, without the errors (which
// carry URLs and network detail): for unauthenticated answers.
func (e *Article6StaleError) Public() string {
	return "the Article 6 facts of registry " + strings.Join(e.Registries(), ", ") + " could not be read, so the hub's Article 6 ledger is not up to date"
}

// Article6Status is the state of the ledger's feed after its last sync.
type Article6Status struct {
	// Synced is when the last sync that took every source's facts ended.
	Synced time.Time `json:"synced"`
	// Unreachable lists the registries whose reads failed at the last
	// sync (empty: up to date then).
	Unreachable []string `json:"unreachable,omitempty"`
	// Since is when the facts became stale (zero when they are not).
	Since time.Time `json:"since"`
}

// Stale reports whether the last sync failed to read a source.
func (s Article6Status) Stale() bool { return len(s.Unreachable) > 0 }

// Status is the ledger's feed state after its last sync.
func (x *Article6) Status() Article6Status {
	x.statusMu.Lock()
	defer x.statusMu.Unlock()
	return x.status
}

// noteSync updates the feed state after a sync ended with err and logs
// each change (a registry becoming unreachable, the facts fresh again).
func (x *Article6) noteSync(err error, now time.Time) {
	x.statusMu.Lock()
	defer x.statusMu.Unlock()
	var se *Article6StaleError
	if !errors.As(err, &se) {
		if err == nil {
			if x.status.Stale() {
				x.cfg.Log.Info("hub: article 6 facts up to date again", "stale_since", x.status.Since)
			}
			x.status = Article6Status{Synced: now}
		}
		return
	}
	regs := se.Registries()
	if !slices.Equal(regs, x.status.Unreachable) {
		x.cfg.Log.Warn("hub: article 6 facts stale: a registry's fact source did not answer; Article 6 transfers are refused until it does", "registries", regs, "err", err)
	}
	if !x.status.Stale() {
		x.status.Since = now
	}
	x.status.Unreachable = regs
}

// staleFindings are the findings on proposal p when the sync failed with
// err. A failure of the hub's own database refuses every proposal (as
// before: the hub checks nothing against facts it could not read). With
// a registry's facts stale, a block is refused with
// article6_unavailable when its check could depend on the facts not
// taken: the purpose needs authorised units (ndc, oimp, icc), the sender
// states Article 6 attributes, the ledger knows the units (ITMOs), or
// the units' origin registry is one whose facts are not taken (its
// issuance could be authorised). Units of none of these (voluntary units
// of a registry read in full) pass, so one registry down does not stop
// the corridor's voluntary transfers.
func (x *Article6) staleFindings(p protocol.Proposal, err error) []protocol.Finding {
	var se *Article6StaleError
	if !errors.As(err, &se) {
		return []protocol.Finding{{Code: CodeArticle6Unavailable, Detail: err.Error()}}
	}
	detail := se.Public() + "; the hub refuses Article 6 transfers until it is (retry when the registry answers)"
	if slices.Contains(article6Purposes, p.Purpose) {
		return []protocol.Finding{{Code: CodeArticle6Unavailable, Detail: fmt.Sprintf("purpose %s needs the Article 6 checks: %s", p.Purpose, detail)}}
	}
	var fs []protocol.Finding
	for _, b := range p.Blocks {
		iss, perr := strconv.ParseInt(b.IssuanceID, 10, 64)
		_, failed := se.Failed[b.OriginRegistry]
		switch {
		case perr != nil:
			fs = append(fs, protocol.Finding{Code: string(article6.CodeActionInvalid), Detail: perr.Error()})
		case b.Article6.Stated(), failed, slices.Contains(se.Unread, b.OriginRegistry), x.ledger.State().Known(b.OriginRegistry, iss):
			fs = append(fs, protocol.Finding{Code: CodeArticle6Unavailable, Detail: fmt.Sprintf("units of %s issuance %s may be ITMOs: %s", b.OriginRegistry, b.IssuanceID, detail)})
		}
	}
	return fs
}
