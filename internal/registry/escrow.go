package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

// A reservation is an escrow (DESIGN.md, ledger rules): it names the
// authority that settles it and an expiry. Only the authority completes or
// voids it, the owner cannot; at the expiry the node voids it itself with a
// journaled expire transaction.

// AuthorityRole is the kind of settlement authority an escrow names.
type AuthorityRole string

const (
	// AuthorityRegistry is the registry administrator, for a local
	// two-phase transfer; any admin token of this registry acts for it.
	AuthorityRegistry AuthorityRole = "registry"
	// AuthorityHub is the corridor hub, for a cross-registry transfer.
	AuthorityHub AuthorityRole = "hub"
	// AuthorityVenue is a trading venue, for delivery versus payment.
	AuthorityVenue AuthorityRole = "venue"
)

// Authority settles an escrow: a role and, for the hub and a venue, the
// organisation that acts in it (registered in this registry).
type Authority struct {
	Role  AuthorityRole `json:"role" limit:"16"`
	OrgID int64         `json:"organisation_id,omitempty"`
}

func (au Authority) String() string {
	if au.Role == AuthorityRegistry {
		return "the registry administrator"
	}
	return fmt.Sprintf("the %s (organisation %d)", au.Role, au.OrgID)
}

// Permits reports whether actor a acts for the authority, so may complete
// or void an escrow that names it.
func (au Authority) Permits(a Actor) bool { return au.permits(a) }

// permits reports whether actor a acts for the authority.
func (au Authority) permits(a Actor) bool {
	switch au.Role {
	case AuthorityRegistry:
		return a.Role == ledger.RoleAdmin
	case AuthorityHub:
		return a.Role == RoleHub && a.OrgID == au.OrgID
	case AuthorityVenue:
		return a.Role == RoleVenue && a.OrgID == au.OrgID
	}
	return false
}

// CodeAuthorityUnknown refuses an escrow whose hub or venue authority is
// not an organisation of this registry: nobody could settle it before it
// expires.
const CodeAuthorityUnknown = "authority_unknown"

// CodeAbroadNeedsHub refuses a reservation towards another registry that
// the corridor hub does not settle. Only the hub relays units between
// registries (it reserves with a hub authority, internal/hub Endpoint.Propose):
// an escrow the administrator could complete would mark units exported that
// no registry imports, and the hub's reconciliation would freeze them.
const CodeAbroadNeedsHub = "abroad_needs_hub"

// Escrow lifetimes, in seconds. These are this registry's own bounds, not a
// regulatory figure: long enough for a hub round trip or a venue's
// settlement cycle, short enough that units are never locked for good.
const (
	MinEscrowSeconds     = 60
	DefaultEscrowSeconds = 24 * 60 * 60
	MaxEscrowSeconds     = 30 * 24 * 60 * 60
)

func (n *Node) reserve(w *writeSet, a Actor, r Reserve, res *Result) error {
	from, err := n.source(a, r.From)
	if err != nil {
		return err
	}
	au := Authority{Role: AuthorityRegistry}
	if r.Authority != nil {
		au = *r.Authority
	}
	switch au.Role {
	case AuthorityRegistry:
		if au.OrgID != 0 {
			return invalid("authority.organisation_id", "the registry authority is the registry administrator; give no organisation_id")
		}
	case AuthorityHub, AuthorityVenue:
		if n.st.orgs.Get(au.OrgID) == nil {
			return ledger.Errorf(ledger.KindNotExist, CodeAuthorityUnknown, 0, "authority.organisation_id",
				"a %s authority names its organisation in this registry; organisation %d is not one", au.Role, au.OrgID)
		}
	default:
		return invalid("authority.role", "authority role %q is not one of registry, hub, venue", au.Role)
	}
	secs := r.ExpiresIn
	if secs == 0 {
		secs = DefaultEscrowSeconds
	}
	if secs < MinEscrowSeconds || secs > MaxEscrowSeconds {
		return invalid("expires_in", "expires_in must be from %d to %d seconds, not %d", MinEscrowSeconds, MaxEscrowSeconds, r.ExpiresIn)
	}
	p := &pendingTxn{Seq: res.Seq, From: from.ID, Authority: au, Expires: res.At.Add(time.Duration(secs) * time.Second)}
	switch {
	case r.Article6 != nil && r.ToRegistry == "":
		return invalid("article6", "an Article 6 statement belongs to a cross-registry transfer (to_registry)")
	case r.ToAccount != 0 && r.ToRegistry != "":
		return invalid("to_account", "give either to_account (this registry) or to_registry, not both")
	case r.ToAccount != 0:
		if r.ToAccount == r.From {
			return ledger.Errorf(ledger.KindInvalid, ledger.CodeSameAccount, 2508, "to_account", "the transferring and acquiring accounts are the same (%d)", r.ToAccount)
		}
		to, err := n.destination(a, "to_account", r.ToAccount)
		if err != nil {
			return err
		}
		p.ToAccount = to.ID
	case r.ToRegistry != "":
		if c := r.Article6; c != nil && (c.Authorisation == "" || c.Version < 1 || c.Approach == "" || len(c.Party) != 2) {
			return invalid("article6", "an Article 6 statement names the authorisation, its version (from 1), the approach and the first transferring Party")
		}
		if !ledger.ValidCode(r.ToRegistry) || r.ToRegistry == n.code {
			return invalid("to_registry", "to_registry %q must be another registry's code", r.ToRegistry)
		}
		if err := text("to_account_ref", r.ToAccountRef, 100, true); err != nil {
			return err
		}
		if au.Role != AuthorityHub {
			return ledger.Errorf(ledger.KindInvalid, CodeAbroadNeedsHub, 0, "to_registry",
				"units leave for registry %s only through the corridor hub: send them with `corridor transfer --to-registry %s` (POST cross-border-transfers), not a reservation settled by %s",
				r.ToRegistry, r.ToRegistry, au)
		}
		p.ToRemote = r.ToRegistry + "/" + r.ToAccountRef
	default:
		return invalid("to_account", "a reservation needs a destination: to_account or to_registry")
	}
	ps, err := n.selectUnits(from.ID, r.Units)
	if err != nil {
		return err
	}
	n.st.putPending(p)
	n.moveAll(w, res, ps, from.ID, ledger.Reserved, p.Seq)
	res.Pending, res.ExpiresAt, res.Authority = p.Seq, p.Expires, &au
	return nil
}

func (n *Node) complete(w *writeSet, a Actor, r Complete, res *Result) error {
	p, err := n.settleable(a, r.Pending)
	if err != nil {
		return err
	}
	return n.release(w, p, true, res)
}

func (n *Node) void(w *writeSet, a Actor, r Void, res *Result) error {
	p, err := n.settleable(a, r.Pending)
	if err != nil {
		return err
	}
	return n.release(w, p, false, res)
}

// settleable returns the escrow seq if a acts for its authority. Permission
// comes before existence: an actor who may not settle it learns nothing
// about it (the answer is the one for an escrow that does not exist), except
// the registry administrator, who sees every escrow anyway.
func (n *Node) settleable(a Actor, seq int64) (*pendingTxn, error) {
	p := n.st.pending.Get(seq)
	if p != nil && p.Authority.permits(a) {
		return p, nil
	}
	if a.Role == ledger.RoleAdmin {
		if p != nil {
			return nil, forbidden("reservation %d is settled by %s, not by the registry administrator", seq, p.Authority)
		}
		if kind := n.st.settled.Get(seq); kind != "" {
			return nil, ledger.Errorf(ledger.KindConflict, ledger.CodeDuplicate, 10006, "pending", "reservation %d was already settled (%s)", seq, kind)
		}
	}
	return nil, ledger.Errorf(ledger.KindNotExist, ledger.CodePendingNotFound, 0, "pending", "no pending reservation %d that you may settle", seq)
}

func (n *Node) expire(w *writeSet, a Actor, r Expire, res *Result) error {
	p := n.st.pending.Get(r.Pending)
	if p == nil {
		if kind := n.st.settled.Get(r.Pending); kind != "" {
			return ledger.Errorf(ledger.KindConflict, ledger.CodeDuplicate, 10006, "pending", "reservation %d was already settled (%s)", r.Pending, kind)
		}
		return ledger.Errorf(ledger.KindNotExist, ledger.CodePendingNotFound, 0, "pending", "no pending reservation %d", r.Pending)
	}
	// The decision reads only the journaled request and entry time, so a
	// replay decides the same.
	if r.AsOf.IsZero() || r.AsOf.After(res.At) {
		return invalid("as_of", "as_of %s must be set and not after the commit time %s", r.AsOf.Format(time.RFC3339Nano), res.At.Format(time.RFC3339Nano))
	}
	if r.AsOf.Before(p.Expires) {
		return ledger.Errorf(ledger.KindConflict, "not_expired", 0, "as_of", "reservation %d expires at %s, after %s", r.Pending, p.Expires.Format(time.RFC3339Nano), r.AsOf.Format(time.RFC3339Nano))
	}
	return n.release(w, p, false, res)
}

// release settles escrow p: completion moves the units to the target (or
// marks them exported); otherwise they return to the sending account.
func (n *Node) release(w *writeSet, p *pendingTxn, complete bool, res *Result) error {
	account, state := p.ToAccount, ledger.Held
	if complete && p.ToAccount == 0 {
		account, state = p.From, ledger.Exported
	}
	if !complete {
		account = p.From
	}
	if complete && p.ToAccount != 0 {
		if _, err := n.account("pending", p.ToAccount, ledger.CodeAcquiringNotFound, 2002); err != nil {
			return err
		}
	}
	// Blocks settle in serial order, so the result does not depend on the
	// order the reservation was rebuilt in after a restart.
	// (A copy: p may be shared with the committed state.)
	refs := slices.Clone(p.Blocks)
	sort.Slice(refs, func(i, j int) bool {
		a, b := refs[i], refs[j]
		return a.Issuance < b.Issuance || a.Issuance == b.Issuance && a.Start < b.Start
	})
	ps := make([]piece, 0, len(refs))
	for _, ref := range refs {
		b, _ := n.st.blocks.Get(ref.Issuance).Get(ledger.Block{Start: ref.Start})
		ps = append(ps, piece{b.Issuance, b.Start, b.End})
	}
	if complete {
		// Frozen units cannot leave the escrow towards anyone (freeze.go);
		// voiding returns them to the sender and stays possible.
		if err := n.checkFrozen("pending", ps); err != nil {
			return err
		}
	}
	n.st.pending.Delete(p.Seq)
	n.st.settled.Set(p.Seq, settledWord[res.Kind])
	n.moveAll(w, res, ps, account, state, 0)
	res.Pending = p.Seq
	if complete && p.ToAccount == 0 {
		// An export: its units' authorisations may now be first-transferred.
		to, _, _ := strings.Cut(p.ToRemote, "/")
		n.st.freezeExported(n.party(), to, exportedIssuances(res.Blocks))
	}
	return nil
}

// settledWord names how a reservation was settled, by the settling kind.
var settledWord = map[string]string{"complete": "completed", "void": "voided", "expire": "expired"}

// pendingFromEntry rebuilds an escrow from its reserve journal entry.
func pendingFromEntry(e ledger.Entry) (*pendingTxn, error) {
	var body struct {
		Request Reserve `json:"request"`
		Result  Result  `json:"result"`
	}
	if err := json.Unmarshal([]byte(e.Body), &body); err != nil {
		return nil, fmt.Errorf("registry: reserve entry %d: %w", e.Seq, err)
	}
	r := body.Request
	p := &pendingTxn{Seq: e.Seq, From: r.From, ToAccount: r.ToAccount, Authority: Authority{Role: AuthorityRegistry}, Expires: body.Result.ExpiresAt}
	if body.Result.Authority != nil {
		p.Authority = *body.Result.Authority
	}
	if p.Expires.IsZero() {
		return nil, fmt.Errorf("registry: reserve entry %d records no expiry", e.Seq)
	}
	if r.ToRegistry != "" {
		p.ToRemote = r.ToRegistry + "/" + r.ToAccountRef
	}
	return p, nil
}

// escrowTick is how often the node looks for escrows past their expiry.
const escrowTick = time.Second

// expireEscrows runs until the node closes, voiding escrows as they expire.
func (n *Node) expireEscrows() {
	t := time.NewTicker(escrowTick)
	defer t.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
			if _, err := n.ExpireDue(context.Background()); err != nil {
				n.log.Warn("registry: expiring escrows", "registry", n.code, "err", err)
			}
		}
	}
}

// ExpireDue submits, through the normal write path, an expire transaction
// for every escrow whose expiry has passed, and returns how many it voided.
// An escrow settled meanwhile is skipped.
func (n *Node) ExpireDue(ctx context.Context) (int, error) {
	now := n.now().UTC()
	var due []int64
	for seq, p := range n.reader().st.pending.All() {
		if !now.Before(p.Expires) {
			due = append(due, seq)
		}
	}
	slices.Sort(due)
	expired := 0
	for _, seq := range due {
		// The key carries the decision time: a refusal recorded under a key
		// (if the escrow was settled meanwhile) never blocks a later run.
		key := systemKeyPrefix + "expire:" + strconv.FormatInt(seq, 10) + ":" + strconv.FormatInt(now.UnixNano(), 10)
		_, err := n.Do(ctx, Actor{Role: RoleSystem}, key, Expire{Pending: seq, AsOf: now})
		if _, rule := ledger.AsError(err); err != nil && !rule {
			return expired, err
		}
		if err == nil {
			expired++
		}
	}
	return expired, nil
}

// systemKeyPrefix starts the idempotency keys of transactions the node
// submits itself; callers may not use it, so no one can take such a key
// first and block an expiry.
const systemKeyPrefix = "system:"

// EscrowView is a pending reservation as a viewer may see it.
type EscrowView struct {
	Pending   int64       `json:"pending"`
	From      int64       `json:"from_account,omitempty"`
	ToAccount int64       `json:"to_account,omitempty"`
	ToRemote  string      `json:"to_remote,omitempty"`
	Authority Authority   `json:"authority"`
	ExpiresAt time.Time   `json:"expires_at"`
	Quantity  int64       `json:"quantity"`
	Blocks    []BlockView `json:"blocks"`
}

// Escrows lists the pending reservations the viewer may see, oldest first:
// all of them for an administrator or auditor, those of its organisation's
// accounts for a holder, those it settles for a hub or venue.
func (n *Node) Escrows(v Actor) ([]EscrowView, error) {
	if v.Role == "" {
		return nil, needToken()
	}
	n = n.reader()
	out := []EscrowView{}
	for _, p := range n.st.pending.All() {
		from := n.st.accounts.Get(p.From)
		if !n.seesAll(v) && !p.Authority.permits(v) && (v.Role != ledger.RoleHolder || from.OrgID != v.OrgID) {
			continue
		}
		e := EscrowView{Pending: p.Seq, ToRemote: p.ToRemote, Authority: p.Authority, ExpiresAt: p.Expires, Blocks: []BlockView{}}
		if n.seesAccount(v, p.From) {
			e.From = p.From
		}
		if n.seesAccount(v, p.ToAccount) {
			e.ToAccount = p.ToAccount
		}
		for _, ref := range p.Blocks {
			b, _ := n.st.blocks.Get(ref.Issuance).Get(ledger.Block{Start: ref.Start})
			e.Blocks = append(e.Blocks, n.viewFor(v, b))
			e.Quantity += b.Count()
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pending < out[j].Pending })
	return out, nil
}
