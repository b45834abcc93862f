package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
)

// The hub is the corridor's system of record for Article 6 facts
// (DESIGN.md, linking): it keeps one article6.Ledger, fed with
//
//   - each host registry's authorisation events and issuances under an
//     authorisation, read from the registry's journal (kinds authorise,
//     amend_authorisation, revoke_authorisation, issue_authorised), through
//     an Article6Source: the node itself in an embedded corridor, its
//     GET /hub/v1/article6 in a networked one (factsource.go, package
//     hubhttp) — the same entries either way;
//   - each completed cross-registry transfer of units the ledger knows,
//     read from the hub's own event log (hub_events), as a transfer
//     between the Parties of the two registries.
//
// Every fact is appended to the table hub_article6 in the order the ledger
// took it, and Open replays that table, so the ledger is rebuilt
// identically. Facts are pulled when the hub checks a proposal (before the
// check, so it sees every authorisation recorded until then) and when a
// report is read; each pull takes the completions first (see sync). At proposal the hub runs Ledger.Check on each block and
// refuses (status 3) with the article6-* codes.

// Revocation between the check at proposal and completion. A revocation
// never touches units already first-transferred (decision 2/CMA.3, annex,
// para. 2 [recall], and the authorisation's own rules; docs/article6.md).
// An NDC transfer's first transfer is the international transfer itself,
// which the hub decides in two steps: the check at proposal (1 -> 2) and
// its acceptance (2 -> 8), after which the protocol cancels nothing. So
// the hub runs the Article 6 checks at both: a revocation recorded before
// the acceptance cancels the transfer (7, article6_authorisation_revoked,
// the sender voids its escrow and the units stay with the host, as the
// registries then hold them); one recorded after finds the units
// first-transferred, dated the day of acceptance, and the completion
// applies as it does in both registries. The ledger therefore never has a
// first transfer the revocation should have stopped, nor a revocation it
// refused for coming after a later-dated completion.

// Revocation read before completion. The hub may read a registry's entries
// between its acceptance of a transfer and that transfer's completion (at
// another proposal's check, a report read): taken then, a revocation, or
// any fact dated after the acceptance, would come before the completion
// in the ledger, which would refuse the completion (revoked, or dated out
// of order) and lose the first transfer, its adjustment and the ITMO
// identifiers of the import. So a sync holds back each registry entry
// read while a transfer it accepted is not final and that must follow the
// completion, until the transfer is final (hold): the completion, found
// in the hub's events, is then taken first. The
// checks consult what is held: a held revocation refuses units not
// first-transferred (article6_authorisation_revoked), a held issuance
// refuses its units for now (article6_unavailable, "retry").

// CodeArticle6Unavailable: the hub could not bring its Article 6 ledger up
// to date (a source or its database failed), so it refuses rather than
// check against stale facts.
const CodeArticle6Unavailable = "article6_unavailable"

// Article6Source reads a registry's journal entries of the Article 6
// kinds (registry.Article6Kinds) after seq, in sequence order.
type Article6Source interface {
	Article6Entries(ctx context.Context, after int64) ([]registry.Transaction, error)
}

// NodeSource reads an in-process node's journal.
type NodeSource struct{ Node *registry.Node }

// Article6Entries implements Article6Source.
func (s NodeSource) Article6Entries(ctx context.Context, after int64) ([]registry.Transaction, error) {
	return Article6Page(ctx, s.Node, after, 10000)
}

// Article6Config wires the hub's Article 6 ledger.
type Article6Config struct {
	// DB is the hub's database (hub_events is read from it, hub_article6
	// written to it).
	DB *store.DB
	// Ledger holds the cooperative approaches and each Party's registry
	// code (its Article 6 registry).
	Ledger article6.Config
	// Sources are the host registries whose journals the hub reads, by
	// registry code.
	Sources map[string]Article6Source
	// Party maps a registry code to its Party (the trust list's party).
	Party map[string]string
	// Expect, when set, names the registries whose facts the ledger must
	// read (a networked hub: the nodes of its trust list now). One without
	// a source (a node added after the hub started) makes the facts stale
	// until the hub is restarted with it.
	Expect func() []string
	// ReadOnly: facts found are applied in memory but not recorded (the
	// CLI reading a serving hub's database).
	ReadOnly bool
	Log      *slog.Logger
}

// Article6Fact is one fact the hub's Article 6 ledger took, in order.
type Article6Fact struct {
	Seq int64     `json:"seq"`
	At  time.Time `json:"at"`
	// Registry and Entry name the journal entry of a host registry.
	Registry string `json:"registry,omitempty"`
	Entry    int64  `json:"entry,omitempty"`
	// Transfer and HubEvent name a completed cross-registry transfer.
	Transfer string              `json:"transfer,omitempty"`
	HubEvent int64               `json:"hub_event,omitempty"`
	Event    *article6.AuthEvent `json:"event,omitempty"`
	Actions  []article6.Action   `json:"actions,omitempty"`
}

// Article6Outcome is what the ledger made of a fact.
type Article6Outcome struct {
	Fact Article6Fact
	// Refused is the first refusal (code and sentence); a refused fact
	// changes nothing.
	Refused article6.Code `json:"refused,omitempty"`
	Detail  string        `json:"detail,omitempty"`
	Records []article6.Record
}

type issuanceRef struct {
	registry string
	issuance int64
}

// Article6 is the hub's Article 6 ledger and its feed.
type Article6 struct {
	cfg    Article6Config
	mu     sync.Mutex
	ledger *article6.Ledger
	facts  []Article6Outcome
	// cursor is the last journal seq read per registry, hubEvent the last
	// hub event read.
	cursor   map[string]int64
	hubEvent int64
	seen     map[string]bool // completed transfers already taken
	// refused remembers issuances the ledger refused, so a transfer of
	// their units is refused with the issuance's own code.
	refused map[issuanceRef]Article6Outcome
	// status is the feed's state after the last sync (Status), under its
	// own lock: /readyz reads it while a sync waits on a node.
	statusMu sync.Mutex
	status   Article6Status
	// accepted are the transfers the hub accepted (or whose acceptance
	// check passed) and that are not final yet, under their own lock: the
	// hub notes them with its own lock held (noteTransfer).
	acceptedMu sync.Mutex
	accepted   map[string]acceptedTransfer
	// blockers are, per registry entry read and not taken yet, the
	// accepted transfers it waits for (see hold); held are the entries
	// the last sync held back, which the checks consult.
	blockers map[entryRef][]string
	held     []Article6Fact
}

type entryRef struct {
	registry string
	entry    int64
}

// acceptedTransfer is a transfer the hub accepted, not final yet: when,
// and its proposal.
type acceptedTransfer struct {
	at time.Time
	p  protocol.Proposal
}

// OpenArticle6 rebuilds the ledger from the hub's Article 6 log.
func OpenArticle6(ctx context.Context, cfg Article6Config) (*Article6, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	x := &Article6{cfg: cfg, ledger: article6.NewLedger(cfg.Ledger), cursor: map[string]int64{}, seen: map[string]bool{}, refused: map[issuanceRef]Article6Outcome{},
		accepted: map[string]acceptedTransfer{}, blockers: map[entryRef][]string{}}
	err := cfg.DB.Log(store.HubArticle6).ReadFrom(ctx, 0, func(r store.LogRecord) error {
		var f Article6Fact
		if err := json.Unmarshal([]byte(r.Body), &f); err != nil {
			return fmt.Errorf("hub: article 6 fact %d: %w", r.Seq, err)
		}
		x.take(f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hub: reading article 6 facts: %w", err)
	}
	return x, nil
}

// take applies a fact to the ledger and remembers it and its outcome.
func (x *Article6) take(f Article6Fact) Article6Outcome {
	o := Article6Outcome{Fact: f}
	refuse := func(err error) {
		if o.Refused == "" {
			o.Refused, o.Detail = article6.CodeOf(err), err.Error()
			if o.Refused == "" {
				o.Refused = article6.CodeActionInvalid
			}
		}
	}
	if f.Event != nil {
		if err := x.ledger.Record(*f.Event); err != nil {
			refuse(err)
		}
	}
	for _, a := range f.Actions {
		if a.Kind != article6.ActionIssue && !x.ledger.State().Known(a.Units.Registry, a.Units.Issuance) {
			// Units issued outside any authorisation move without Article 6
			// accounting (a voluntary transfer).
			continue
		}
		for _, a := range x.split(a) {
			recs, err := x.ledger.Apply(a)
			if err != nil {
				refuse(err)
				if a.Kind == article6.ActionIssue {
					x.refused[issuanceRef{a.Units.Registry, a.Units.Issuance}] = o
				}
				continue
			}
			o.Records = append(o.Records, recs...)
		}
	}
	if o.Refused != "" {
		x.cfg.Log.Warn("hub: article 6 ledger refused a fact", "seq", f.Seq, "registry", f.Registry, "entry", f.Entry, "transfer", f.Transfer, "code", o.Refused, "detail", o.Detail)
	}
	x.facts = append(x.facts, o)
	if f.Registry != "" {
		x.cursor[f.Registry] = max(x.cursor[f.Registry], f.Entry)
	}
	if f.Transfer != "" {
		x.seen[f.Transfer] = true
		x.hubEvent = max(x.hubEvent, f.HubEvent)
	}
	return o
}

// split divides a transfer, use or cancellation along the ledger's blocks
// (a registry merges units the ledger keeps apart, e.g. ITMOs that came
// back and units never first-transferred) and states each part's first
// transfer from the hub's record.
func (x *Article6) split(a article6.Action) []article6.Action {
	if a.Kind == article6.ActionIssue {
		return []article6.Action{a}
	}
	var out []article6.Action
	for _, p := range x.ledger.State().Parts(a.Units) {
		part := a
		part.Units = p
		part.FirstTransfer = x.ledger.FirstTransferOf(part)
		out = append(out, part)
	}
	return out
}

// Sync reads new facts from the sources and the hub's event log and
// applies them, ordered by time.
func (x *Article6) Sync(ctx context.Context) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.sync(ctx)
}

func (x *Article6) sync(ctx context.Context) (err error) {
	defer func() { x.noteSync(err, time.Now()) }()
	var fresh []Article6Fact
	codes := make([]string, 0, len(x.cfg.Sources))
	for c := range x.cfg.Sources {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	// Every source is read, at once, even when one fails, so the refusal
	// names all that did not answer and a hanging one costs its timeout
	// once; then the facts of all or none are taken (one time order
	// across registries), each registry's in its journal order.
	failed := map[string]error{}
	var read []string
	got := make([][]Article6Fact, len(codes))
	errs := make([]error, len(codes))
	var wg sync.WaitGroup
	for i, code := range codes {
		src, after := x.cfg.Sources[code], x.cursor[code]
		wg.Go(func() { got[i], errs[i] = x.readSource(ctx, code, src, after) })
	}
	wg.Wait()
	for i, code := range codes {
		if errs[i] != nil {
			failed[code] = errs[i]
			continue
		}
		if len(got[i]) > 0 {
			read = append(read, code)
		}
		fresh = append(fresh, got[i]...)
	}
	if x.cfg.Expect != nil {
		for _, code := range x.cfg.Expect() {
			if _, ok := x.cfg.Sources[code]; !ok {
				failed[code] = fmt.Errorf("hub: registry %s has no Article 6 fact source here (it joined the trust list after the hub started; restart the hub)", code)
			}
		}
	}
	if len(failed) > 0 {
		return &Article6StaleError{Failed: failed, Unread: read}
	}
	// The transfers still accepted are read before the completions: one
	// that becomes final after this line has its completion found below
	// or at the next sync, never after an entry it held back.
	accepted := x.acceptedNow()
	done, scanned, err := x.completions(ctx)
	if err != nil {
		return err
	}
	// Causal order, not the clocks of different machines: every completion
	// found now was proposed and checked at an earlier sync, which took
	// the issuance and authorisation it moves; every registry entry found
	// now came after that check, and may depend on the completion (a
	// retirement of the imported units) but never the other way round (a
	// revocation after the hub accepted a transfer does not stop it; one
	// before, the hub's acceptance check refuses).
	// So completions first, in the hub's order, then the registries'
	// entries by time, each registry's in its journal order; entries read
	// while a transfer accepted is not final wait for it (hold).
	sort.SliceStable(fresh, func(i, j int) bool { return fresh[i].At.Before(fresh[j].At) })
	fresh = append(done, x.afterAuthorisations(x.hold(fresh, accepted))...)
	if len(fresh) == 0 {
		x.hubEvent = max(x.hubEvent, scanned)
		return nil
	}
	next := int64(len(x.facts))
	for i := range fresh {
		next++
		fresh[i].Seq = next
	}
	if !x.cfg.ReadOnly {
		if err := x.record(ctx, fresh); err != nil {
			return err
		}
	}
	for _, f := range fresh {
		x.take(f)
	}
	x.hubEvent = max(x.hubEvent, scanned)
	return nil
}

// hold keeps back, from the registries' entries fs (time order), those
// read while a transfer the hub accepted is not final yet and that the
// ledger must take after that transfer's completion, until every such
// transfer is final: the hub decided the transfer's first transfer at its
// acceptance, so an entry read after it that would change the
// completion's outcome comes after the completion in the ledger (see
// "Revocation read before completion" above). Such an entry is dated
// after the day of the acceptance (the completion, dated then, would
// follow it out of date order), or revokes or amends an authorisation the
// transfer's units carry. Each entry waits for the transfers accepted
// when it was first read (blockers; after a restart, for those accepted
// then, which is safe too), never for later ones, so a busy corridor does
// not hold it for ever. What is taken is the longest prefix of fs without
// a blocker still accepted (one time order across registries, each
// registry's journal order); the rest stays unread (the cursors do not
// pass it), in x.held for the checks.
func (x *Article6) hold(fs []Article6Fact, accepted map[string]acceptedTransfer) []Article6Fact {
	auths := map[string]map[string]bool{} // per accepted transfer, the authorisations its units carry
	for tx, at := range accepted {
		auths[tx] = x.carried(at.p)
	}
	n := len(fs)
	for i, f := range fs {
		ref := entryRef{f.Registry, f.Entry}
		bs, known := x.blockers[ref]
		if !known {
			for _, tx := range slices.Sorted(maps.Keys(accepted)) {
				if mustFollow(f, accepted[tx].at, auths[tx]) {
					bs = append(bs, tx)
				}
			}
			x.blockers[ref] = bs
		}
		if n == len(fs) && slices.ContainsFunc(bs, func(tx string) bool { _, ok := accepted[tx]; return ok }) {
			n = i
		}
	}
	for _, f := range fs[:n] {
		delete(x.blockers, entryRef{f.Registry, f.Entry})
	}
	x.held = slices.Clone(fs[n:])
	if len(x.held) > 0 {
		x.cfg.Log.Debug("hub: article 6 facts held until accepted transfers are final", "held", len(x.held), "accepted", len(accepted))
	}
	return fs[:n]
}

// mustFollow says whether fact f, read while a transfer accepted at
// accepted whose units carry authorisations auths is not final, must be
// taken after that transfer's completion.
func mustFollow(f Article6Fact, accepted time.Time, auths map[string]bool) bool {
	if f.At.UTC().Format(time.DateOnly) > accepted.UTC().Format(time.DateOnly) {
		return true
	}
	if f.Event == nil {
		return false
	}
	return auths[f.Event.ID] || auths[f.Event.Authorisation.ID]
}

// carried is the authorisations the units of proposal p carry in the
// ledger.
func (x *Article6) carried(p protocol.Proposal) map[string]bool {
	out := map[string]bool{}
	for _, b := range p.Blocks {
		a, err := x.transferAction(p, b, "")
		if err != nil {
			continue
		}
		for _, part := range x.ledger.State().Parts(a.Units) {
			if auth, _, ok := x.ledger.Carried(part); ok {
				out[auth] = true
			}
		}
	}
	return out
}

// acceptedNow is a copy of the transfers accepted and not final.
func (x *Article6) acceptedNow() map[string]acceptedTransfer {
	x.acceptedMu.Lock()
	defer x.acceptedMu.Unlock()
	return maps.Clone(x.accepted)
}

// noteTransfer follows the hub's record of t (each event it commits or
// replays): accepted (8) until final. nil-safe.
func (x *Article6) noteTransfer(t Transfer) {
	if x == nil {
		return
	}
	x.acceptedMu.Lock()
	defer x.acceptedMu.Unlock()
	switch {
	case t.Status == protocol.StatusAccepted:
		x.accepted[t.ID] = acceptedTransfer{at: t.Updated(), p: t.Proposal}
	case t.Status.Final():
		delete(x.accepted, t.ID)
	}
}

// accept runs the Article 6 checks of transfer tx's proposal p when its
// acquirer accepts it and, when they pass, counts tx as accepted before
// the ledger's lock is released, so no entry read after this check is
// taken before tx is final (hold), even before the hub records the 8.
// A tx whose acceptance is then not recorded stays counted until the
// hub's record of it is final (noteTransfer). nil-safe, as findings.
func (x *Article6) accept(tx string, p protocol.Proposal, now time.Time) []protocol.Finding {
	if x == nil {
		return x.findings(p, now)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	fs := x.check(p, now)
	if len(fs) == 0 {
		x.acceptedMu.Lock()
		x.accepted[tx] = acceptedTransfer{at: now, p: p}
		x.acceptedMu.Unlock()
	}
	return fs
}

// heldFacts is what the entries held back say that the checks must not
// miss: the authorisations they revoke (id -> date) and the issuances
// they record.
func (x *Article6) heldFacts() (revoked map[string]string, issued map[issuanceRef]bool) {
	revoked, issued = map[string]string{}, map[issuanceRef]bool{}
	for _, f := range x.held {
		if f.Event != nil && f.Event.Kind == article6.EventRevoke {
			revoked[f.Event.ID] = f.Event.Date
		}
		for _, a := range f.Actions {
			if a.Kind == article6.ActionIssue {
				issued[issuanceRef{a.Units.Registry, a.Units.Issuance}] = true
			}
		}
	}
	return revoked, issued
}

// afterAuthorisations keeps a partner registry's share of a coordinated
// issuance (registry.PartnerShare) behind the host's authorisation it is
// issued under, which another registry's journal records: clocks (or
// equal instants) may order the share first. A share whose authorisation
// the ledger does not know and that no earlier fact here authorises waits,
// with every later fact of its registry (journal order), until the
// authorising fact; one never authorised in this read stays unread (the
// registry's cursor does not pass it), so the next read takes it once the
// host registry's authorisation has been read, instead of the ledger
// refusing it for good.
func (x *Article6) afterAuthorisations(fs []Article6Fact) []Article6Fact {
	partnerAuth := func(f Article6Fact) string {
		if len(f.Actions) == 1 && f.Actions[0].Kind == article6.ActionIssue && f.Actions[0].IssueTo != "" {
			return f.Actions[0].Authorisation
		}
		return ""
	}
	authorised := map[string]bool{}
	waiting := map[string][]Article6Fact{} // by the authorisation awaited
	blockedOn := map[string]string{}       // registry -> authorisation awaited
	out := make([]Article6Fact, 0, len(fs))
	for _, f := range fs {
		if id, blocked := blockedOn[f.Registry]; blocked && f.Registry != "" {
			waiting[id] = append(waiting[id], f)
			continue
		}
		if id := partnerAuth(f); id != "" && !authorised[id] {
			if _, known := x.ledger.Log().Current(id); !known {
				waiting[id] = append(waiting[id], f)
				blockedOn[f.Registry] = id
				continue
			}
		}
		out = append(out, f)
		if f.Event != nil && f.Event.Kind == article6.EventAuthorise {
			id := f.Event.Authorisation.ID
			authorised[id] = true
			out = append(out, waiting[id]...)
			delete(waiting, id)
			for r, on := range blockedOn {
				if on == id {
					delete(blockedOn, r)
				}
			}
		}
	}
	return out
}

func (x *Article6) record(ctx context.Context, fs []Article6Fact) error {
	recs := make([]store.LogRecord, len(fs))
	for i, f := range fs {
		body, err := json.Marshal(f)
		if err != nil {
			return fmt.Errorf("hub: encoding article 6 fact: %w", err)
		}
		recs[i] = store.LogRecord{Seq: f.Seq, Body: string(body)}
	}
	if err := x.cfg.DB.Log(store.HubArticle6).Append(ctx, recs...); err != nil {
		return fmt.Errorf("hub: recording article 6 facts: %w", err)
	}
	return nil
}

// factOf turns a registry's journal entry into a fact.
func (x *Article6) factOf(code string, t registry.Transaction) (Article6Fact, error) {
	f := Article6Fact{At: t.At, Registry: code, Entry: t.Seq}
	req, err := registry.DecodeRequest(t.Kind, t.Request)
	if err != nil {
		return f, fmt.Errorf("hub: %s entry %d: %w", code, t.Seq, err)
	}
	if ev, ok := registry.AuthEvent(req, t.At); ok {
		f.Event = &ev
		return f, nil
	}
	if r, ok := req.(registry.IssueAuthorised); ok {
		a, err := registry.IssuanceActionOf(code, r, t.Result)
		if err != nil {
			return f, err
		}
		f.Actions = []article6.Action{a}
		return f, nil
	}
	f.Actions = registry.UseActions(x.party(code), req, t.Result)
	return f, nil
}

// party is the Party of registry code: the configured one, else the
// first two letters of the code (the corridor's registry codes start with
// their Party's).
func (x *Article6) party(code string) string {
	if p, ok := x.cfg.Party[code]; ok {
		return p
	}
	if len(code) > 2 {
		return code[:2]
	}
	return code
}

// completions reads the hub's event log after the last event taken and
// returns each newly completed transfer as a fact, and the last event
// read.
func (x *Article6) completions(ctx context.Context) ([]Article6Fact, int64, error) {
	var out []Article6Fact
	var last int64
	err := x.cfg.DB.Log(store.HubEvents).ReadFrom(ctx, x.hubEvent, func(r store.LogRecord) error {
		seq := r.Seq
		last = seq
		var e event
		if err := json.Unmarshal([]byte(r.Body), &e); err != nil {
			return fmt.Errorf("hub: event %d: %w", seq, err)
		}
		t := e.Transfer
		if t == nil || t.Status != protocol.StatusCompleted || t.Completed != seq || x.seen[t.ID] {
			return nil
		}
		f, err := x.transferFact(*t, seq)
		if err != nil {
			return err
		}
		out = append(out, f)
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("hub: reading events for article 6: %w", err)
	}
	return out, last, nil
}

// transferFact is a completed transfer as a fact, dated when the hub
// accepted it: the hub's last check, after which the transfer can no
// longer be refused, so a revocation recorded later finds the units
// first-transferred (see revocation below).
func (x *Article6) transferFact(t Transfer, seq int64) (Article6Fact, error) {
	at := t.Updated()
	for _, h := range t.History {
		if h.Status == protocol.StatusAccepted {
			at = h.At
		}
	}
	f := Article6Fact{At: at, Transfer: t.ID, HubEvent: seq}
	date := at.UTC().Format(time.DateOnly)
	for _, b := range t.Proposal.Blocks {
		a, err := x.transferAction(t.Proposal, b, date)
		if err != nil {
			return f, err
		}
		f.Actions = append(f.Actions, a)
	}
	return f, nil
}

func (x *Article6) transferAction(p protocol.Proposal, b protocol.Block, date string) (article6.Action, error) {
	iss, err := strconv.ParseInt(b.IssuanceID, 10, 64)
	if err != nil {
		return article6.Action{}, fmt.Errorf("hub: block issuance %q: %w", b.IssuanceID, err)
	}
	return article6.Action{Kind: article6.ActionTransfer, Date: date,
		Units: ledger.Serial{Registry: b.OriginRegistry, UnitType: b.UnitType, Project: b.Project, Vintage: b.Vintage, Issuance: iss, Start: b.Start, End: b.End},
		From:  x.party(p.FromRegistry), To: x.party(p.ToRegistry)}, nil
}

// article6Purposes are the proposal purposes that need authorised units.
var article6Purposes = []string{"ndc", "oimp", "icc"}

// findings runs the Article 6 checks on a proposal (the hub's check
// pipeline; nil when the hub keeps no Article 6 ledger). Units the ledger
// knows are checked whatever the purpose; units it does not know pass
// unless the purpose is an Article 6 one.
func (x *Article6) findings(p protocol.Proposal, now time.Time) []protocol.Finding {
	if x == nil {
		// A hub without an Article 6 ledger (a networked hub whose
		// agreements have no Article 6 terms) cannot check a transfer whose purpose needs
		// authorised units, nor record its first transfer and
		// corresponding adjustment: it refuses it rather than let it pass
		// unchecked. Voluntary transfers pass.
		if slices.Contains(article6Purposes, p.Purpose) {
			return []protocol.Finding{{Code: CodeArticle6Unavailable, Detail: fmt.Sprintf("this hub keeps no Article 6 ledger, so it cannot check a transfer for purpose %s (docs/article6.md)", p.Purpose)}}
		}
		return nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.check(p, now)
}

// check is findings with the ledger's lock held.
func (x *Article6) check(p protocol.Proposal, now time.Time) []protocol.Finding {
	// The check pipeline has no context of its own; the sync's reads are
	// bounded by the sources' and the database's own timeouts.
	if err := x.sync(context.Background()); err != nil {
		return x.staleFindings(p, err)
	}
	var fs []protocol.Finding
	revoked, issued := x.heldFacts()
	date := now.UTC().Format(time.DateOnly)
	for _, b := range p.Blocks {
		a, err := x.transferAction(p, b, date)
		if err != nil {
			fs = append(fs, protocol.Finding{Code: string(article6.CodeActionInvalid), Detail: err.Error()})
			continue
		}
		ref := issuanceRef{a.Units.Registry, a.Units.Issuance}
		if o, bad := x.refused[ref]; bad {
			fs = append(fs, protocol.Finding{Code: string(o.Refused), Detail: "the issuance of these units was refused: " + o.Detail})
			continue
		}
		if issued[ref] {
			fs = append(fs, protocol.Finding{Code: CodeArticle6Unavailable, Detail: fmt.Sprintf("units %s were issued under an Article 6 authorisation the hub has read but not yet taken (it waits for a transfer accepted earlier to complete); retry shortly", a.Units)})
			continue
		}
		stated := b.Article6
		if !x.ledger.State().Known(a.Units.Registry, a.Units.Issuance) {
			if slices.Contains(article6Purposes, p.Purpose) || stated.Stated() {
				fs = append(fs, protocol.Finding{Code: string(article6.CodeNoAuthorisation), Detail: fmt.Sprintf("units %s were not issued under an Article 6 authorisation; purpose %s needs one", a.Units, p.Purpose)})
			}
			continue
		}
		if stated.Stated() {
			if err := x.ledger.CheckStatement(a.Units, stated.Authorisation, stated.Version, stated.FirstITMO, stated.LastITMO); err != nil {
				fs = append(fs, finding(err))
				continue
			}
		}
		for _, a := range x.split(a) {
			if stated.Stated() {
				// The sender's statement, not the hub's record: Check then
				// refuses a double or a contradicted first transfer.
				a.FirstTransfer = stated.FirstTransfer
			}
			if err := x.ledger.Check(a); err != nil {
				fs = append(fs, finding(err))
				continue
			}
			// A revocation held back (hold) binds as the ledger's own
			// would: units not first-transferred cannot act under it.
			if auth, first, ok := x.ledger.Carried(a.Units); ok && !first && revoked[auth] != "" {
				fs = append(fs, protocol.Finding{Code: string(article6.CodeRevoked), Detail: fmt.Sprintf("authorisation %s was revoked on %s (read by the hub, taken once the transfers accepted before it are final); units %s are not first-transferred and cannot act under it", auth, revoked[auth], a.Units)})
			}
		}
	}
	return fs
}

// attach states, for each block of a completed transfer that the sender
// made no Article 6 statement about, what the hub's record says of it
// (Ledger.StatementOf: the authorisation and version, first transfer or
// not, and the ITMO identifiers), so the acquiring registry records the
// ITMO identifiers with the import (DESIGN.md: an import keeps "the
// Article 6 attributes the hub attaches"). A block that spans several
// blocks of the record (a registry merges ITMOs that came back with units
// never first-transferred) is forwarded as one block per part, each with
// the statement the record makes of that part, so the import journals a
// statement per sub-range; the parts cover the block exactly, so the
// units imported are the same. Parts the record says nothing of (units
// issued without authorisation, not yet ITMOs) carry no statement; a
// block none of whose parts has one stays as it is, and so does every
// block when splitting would take the notice above what an import takes
// (registry.MaxImportBlocks). Every block with a statement, the sender's
// or the record's, also carries the purposes the record's authorisation
// allows (purposes), so the acquirer can refuse a use the ledger would
// refuse. nil-safe: a hub without an Article 6 ledger forwards the blocks
// unchanged.
func (x *Article6) attach(p protocol.Proposal, blocks []protocol.Block, now time.Time) []protocol.Block {
	if x == nil {
		return blocks
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	date := now.UTC().Format(time.DateOnly)
	stated := slices.Clone(blocks)
	var split []protocol.Block
	for i, b := range blocks {
		parts := x.statements(p, b, date)
		if len(parts) == 1 {
			stated[i] = parts[0]
		}
		split = append(split, parts...)
	}
	out := split
	if len(split) > registry.MaxImportBlocks {
		out = stated
	}
	for i := range out {
		out[i].Article6.Purposes = x.purposes(out[i].Article6)
	}
	return out
}

// purposes is what the hub's record says the authorisation of statement
// a allows, in protocol.Article6Units.Purposes' form ("" for no statement,
// or an authorisation the record does not have at that version: the
// acquirer then knows no purposes, as from a hub before purposes).
func (x *Article6) purposes(a protocol.Article6Units) string {
	if !a.Stated() {
		return ""
	}
	auth, ok := x.ledger.Log().Current(a.Authorisation)
	if !ok || auth.Version != a.Version {
		return ""
	}
	var ps []string
	for _, p := range []article6.Purpose{article6.PurposeNDC, article6.PurposeOIMP, article6.PurposeOther} {
		if auth.Has(p) {
			ps = append(ps, string(p))
		}
	}
	return strings.Join(ps, ",")
}

// statements is block b as the parts of the hub's record it spans, each
// with the record's statement when it makes one; b alone when the sender
// stated it, the record does not know it, or no part has a statement.
func (x *Article6) statements(p protocol.Proposal, b protocol.Block, date string) []protocol.Block {
	if b.Article6.Stated() {
		return []protocol.Block{b}
	}
	a, err := x.transferAction(p, b, date)
	if err != nil {
		return []protocol.Block{b}
	}
	var out []protocol.Block
	said := false
	for _, s := range x.ledger.State().Parts(a.Units) {
		part := a
		part.Units = s
		pb := b
		pb.Start, pb.End = s.Start, s.End
		if st, ok := x.ledger.StatementOf(part); ok {
			pb.Article6 = protocol.Article6Units{Authorisation: st.Authorisation, Version: st.Version, FirstTransfer: st.FirstTransfer, FirstITMO: st.First.String(), LastITMO: st.Last.String()}
			said = true
		}
		out = append(out, pb)
	}
	if !said {
		return []protocol.Block{b}
	}
	return out
}

// finding is an Article 6 refusal as a protocol finding.
func finding(err error) protocol.Finding {
	code := article6.CodeOf(err)
	if code == "" {
		code = article6.CodeActionInvalid
	}
	return protocol.Finding{Code: string(code), Detail: err.Error()}
}

// Ledger runs fn on the ledger brought up to date (fn must not keep it).
func (x *Article6) Ledger(ctx context.Context, fn func(*article6.Ledger) error) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := x.sync(ctx); err != nil {
		return err
	}
	return fn(x.ledger)
}

// Facts lists the facts taken, with their outcomes, in order.
func (x *Article6) Facts() []Article6Outcome {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.facts)
}

// AEF builds a Party's Agreed Electronic Format tables for a year from the
// ledger brought up to date.
func (x *Article6) AEF(ctx context.Context, sub article6.Submission) (article6.AEF, error) {
	var out article6.AEF
	err := x.Ledger(ctx, func(l *article6.Ledger) error {
		var err error
		out, err = l.BuildAEF(sub)
		return err
	})
	return out, err
}

// EmbeddedArticle6 wires an Article 6 ledger for an embedded corridor's
// members: every member is a source, its Party is the first two letters
// of its code, and a Party's Article 6 registry is the member whose code
// is the Party code.
func EmbeddedArticle6(ctx context.Context, db *store.DB, members []Member, approaches article6.Approaches) (*Article6, error) {
	ms := make([]Article6Member, 0, len(members))
	for _, m := range members {
		ms = append(ms, Article6Member{Code: m.Node.Code(), Source: NodeSource{Node: m.Node}})
	}
	return OpenArticle6(ctx, Article6ConfigFor(db, ms, approaches))
}

// Article6 is the embedded corridor's Article 6 ledger (nil when it keeps
// none): what the API's and the CLI's reports read.
func (c *Corridor) Article6() *Article6 { return c.cfg.Article6 }
