package registry

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"encoding/json"
	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
)

// Article 6 facts at the host registry. The host Party's registry
// administrator records authorisations of mitigation outcomes under a
// cooperative approach (Paris Agreement, Article 6.2; decision 2/CMA.3,
// annex) as journaled transactions, and issues units under one with the
// deductions its approach requires already taken: the OMGE units
// cancelled, the share of proceeds moved to the host's adaptation account,
// and the investor's share of a project abroad moved to the investor's
// account (article6.Split fixes the layout: OMGE, share of proceeds, host,
// investor). The hub reads these entries from the journal and keeps the
// Article 6 ledger (internal/hub/article6.go); the stateful checks that
// need the whole corridor (first transfer, corresponding adjustment) are
// its, and the ones the host can decide alone are also made here.

// Authorisation is the body of an authorisation version, as the
// administrator submits it (article6.Authorisation in JSON).
type Authorisation struct {
	ID       string   `json:"id" limit:"64"`
	Version  int      `json:"version"`
	Host     string   `json:"host" limit:"2"`
	Approach string   `json:"approach" limit:"24"`
	Purposes []string `json:"purposes" limit:"4"`
	// Quantity is gross, deductions included.
	Quantity          int64              `json:"quantity"`
	From              string             `json:"from" limit:"10"`
	Until             string             `json:"until" limit:"10"`
	VintageFrom       int                `json:"vintage_from"`
	VintageTo         int                `json:"vintage_to"`
	Activities        []string           `json:"activities" limit:"64"`
	AcquiringParties  []string           `json:"acquiring_parties,omitempty" limit:"2"`
	Entities          []AuthorisedEntity `json:"entities,omitempty"`
	FirstTransferOIMP string             `json:"first_transfer_oimp,omitempty" limit:"32"`
	OIMPUse           string             `json:"oimp_use,omitempty" limit:"200"`
	Sector            string             `json:"sector,omitempty" limit:"200"`
	ActivityType      string             `json:"activity_type,omitempty" limit:"200"`
	MitigationType    string             `json:"mitigation_type,omitempty" limit:"200"`
	Terms             string             `json:"terms,omitempty" limit:"1000"`
}

// AuthorisedEntity is an entity the authorisation entitles to use the
// ITMOs (AEF "Authorized entities"). Its text is checked in apply.
type AuthorisedEntity struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Country    string `json:"country"`
	Conditions string `json:"conditions,omitempty"`
}

// Authorise records version 1 of a host's authorisation (admin).
type Authorise struct {
	Authorisation Authorisation `json:"authorisation"`
}

// AmendAuthorisation records the next version of an authorisation (admin).
type AmendAuthorisation struct {
	Authorisation Authorisation `json:"authorisation"`
}

// RevokeAuthorisation revokes an authorisation (admin). Units already
// first-transferred keep their status; the hub stops the others.
type RevokeAuthorisation struct {
	ID     string `json:"id" limit:"64"`
	Reason string `json:"reason" limit:"1000"`
}

// IssueAuthorised issues units under an authorisation (admin), taking the
// deductions the cooperative approach requires at issuance.
type IssueAuthorised struct {
	Issue         Issue  `json:"issue"`
	Authorisation string `json:"authorisation" limit:"64"`
	// AdaptationAccount receives the share of proceeds (required when the
	// approach has one).
	AdaptationAccount int64 `json:"adaptation_account,omitempty"`
	// Investor is the Party of a project abroad's investor, with its share
	// of the net issuance (a decimal fraction) and the account here that
	// receives it.
	Investor         string `json:"investor,omitempty" limit:"2"`
	InvestorFraction string `json:"investor_fraction,omitempty" limit:"20"`
	InvestorAccount  int64  `json:"investor_account,omitempty"`
	// Decision names the Joint Committee decision a coordinated issuance
	// (the JCM: one decision, each side's share issued in its own
	// registry) issues its share under, with the decision's whole
	// quantity; required under an approach with coordinated issuance and
	// refused under any other.
	Decision         string `json:"decision,omitempty" limit:"64"`
	DecisionQuantity int64  `json:"decision_quantity,omitempty"`
	// Partner, on a partner registry's share of a coordinated issuance,
	// names the host Party whose authorisation (recorded in the host's own
	// registry, not here) the share is issued under, and its approach.
	// Absent on an issuance under this registry's own authorisation.
	Partner *PartnerShare `json:"partner,omitempty"`
}

// PartnerShare names, for a partner registry's share of a JCM-style
// coordinated issuance, the host Party that authorised the mitigation
// and the cooperative approach. The JCM's Joint Committee decides each
// issuance and each side records its share in its own registry: the
// registry manager records "a specified amount of JCM credits into
// holding accounts of project participants and/or the respective
// governments in line with the corresponding decision by the Joint
// Committee" (Common Specifications of the JCM Registry, Japan–Indonesia,
// ver01.0, section A, para. 1; para. 6: "Each side establishes and
// maintains a JCM registry"), and the Joint Committee may "notify both
// sides to issue credits for a JCM project" (Indonesia's JCM secretariat,
// jcm.ekon.go.id, "Joint Committee Result"). So the share is issued here
// under the host's authorisation and decision; this registry checks the
// share against the decision, and the hub's ledger, which reads both
// registries, checks the shares' sum against it and records this share's
// first transfer (docs/article6.md).
type PartnerShare struct {
	Host     string `json:"host" limit:"2"`
	Approach string `json:"approach" limit:"24"`
}

func (Authorise) Kind() string           { return "authorise" }
func (AmendAuthorisation) Kind() string  { return "amend_authorisation" }
func (RevokeAuthorisation) Kind() string { return "revoke_authorisation" }
func (IssueAuthorised) Kind() string     { return "issue_authorised" }

// article6Kinds are the journal kinds the hub reads as Article 6 facts.
var article6Kinds = []string{Authorise{}.Kind(), AmendAuthorisation{}.Kind(), RevokeAuthorisation{}.Kind(), IssueAuthorised{}.Kind()}

// Article6Kinds lists the journal kinds that carry Article 6 facts: the
// authorisation events and issuances, and the retirements and
// cancellations that use or cancel units (UseActions).
func Article6Kinds() []string {
	return append(slices.Clone(article6Kinds), Retire{}.Kind(), Cancel{}.Kind())
}

// UseActions are the Article 6 actions a journaled retire or cancel
// records, one per block, in the origin's serials: a retirement for
// purpose "ndc" is use towards the NDC of party (the Party whose registry
// holds the units), "icc" the same use by a Singapore taxable facility
// (the beneficiary, as the using entity), "oimp" or "op" use for that purpose by the
// beneficiary; any other retirement, and a cancellation, cancels the units
// (AEF action "Cancellation"). Units the hub's ledger does not know are
// skipped there.
func UseActions(party string, req Request, res Result) []article6.Action {
	a := article6.Action{Kind: article6.ActionCancel, Date: res.At.UTC().Format(time.DateOnly)}
	switch r := req.(type) {
	case Retire:
		switch p := strings.ToLower(strings.TrimSpace(r.Purpose)); p {
		case "ndc":
			a.Kind, a.Purpose, a.UsingParty = article6.ActionUse, article6.PurposeNDC, party
		case "oimp", "op":
			a.Kind, a.Purpose, a.UsingParty, a.UsingEntity = article6.ActionUse, article6.Purpose(strings.ToUpper(p)), party, r.Beneficiary
		case PurposeICC:
			// A Singapore taxable facility's ICC surrender (icc.go) is use
			// by Singapore towards its NDC, the facility the using entity
			// (our reading: Singapore applies the corresponding adjustment
			// for ICCs it counts; docs/article6.md, "Singapore ICC
			// surrender").
			a.Kind, a.Purpose, a.UsingParty, a.UsingEntity = article6.ActionUse, article6.PurposeNDC, party, r.Beneficiary
		}
	case Cancel:
	default:
		return nil
	}
	var out []article6.Action
	for _, b := range res.Blocks {
		s, err := ledger.ParseSerial(b.Serial)
		if err != nil {
			continue
		}
		x := a
		x.Units = s
		out = append(out, x)
	}
	return out
}

// authState is the node's record of one authorisation (a value: replaced,
// never changed in place).
type authState struct {
	Current article6.Authorisation
	Revoked string
	// Issued is the gross quantity issued under it here.
	Issued int64
	// Frozen: a unit under it has been first-transferred, so it can no
	// longer change: at issuance (an OMGE cancellation or an OIMP
	// authorisation that says so), or by the first international transfer
	// of units issued here under it, known when their export to another
	// Party's registry completes (freezeExported). It stays frozen.
	Frozen bool
}

var (
	approachesOnce sync.Once
	approaches     article6.Approaches
	approachesErr  error
)

// Article6Config is the Article 6 configuration every node applies: the
// embedded cooperative approaches (the Article 6 terms of the corridor
// agreements, internal/hub/agreements/data/agreements.yaml),
// the same set the hub uses by default.
func Article6Config() (article6.Config, error) {
	approachesOnce.Do(func() { approaches, approachesErr = article6.DefaultApproaches() })
	return article6.Config{Approaches: approaches}, approachesErr
}

func a6err(kind ledger.Kind, code article6.Code, field, format string, args ...any) error {
	return ledger.Errorf(kind, string(code), 0, field, format, args...)
}

// a6refusal turns the article6 package's refusal into the registry's error.
func a6refusal(err error) error {
	var e *article6.Error
	if ok := asA6(err, &e); ok {
		return ledger.Errorf(ledger.KindInvalid, string(e.Code), 0, "authorisation."+e.Field, "%s", e.Detail)
	}
	return err
}

func asA6(err error, target **article6.Error) bool {
	e, ok := err.(*article6.Error)
	if ok {
		*target = e
	}
	return ok
}

func (r Authorisation) event(kind article6.EventKind, date string) article6.AuthEvent {
	a := article6.Authorisation{ID: r.ID, Version: r.Version, Host: r.Host, Approach: r.Approach, Quantity: r.Quantity,
		From: r.From, Until: r.Until, VintageFrom: r.VintageFrom, VintageTo: r.VintageTo,
		Activities: slices.Clone(r.Activities), AcquiringParties: slices.Clone(r.AcquiringParties),
		FirstTransferOIMP: article6.FirstTransfer(r.FirstTransferOIMP), OIMPUse: r.OIMPUse, Sector: r.Sector,
		ActivityType: r.ActivityType, MitigationType: r.MitigationType, Terms: r.Terms}
	for _, p := range r.Purposes {
		a.Purposes = append(a.Purposes, article6.Purpose(p))
	}
	for _, e := range r.Entities {
		a.Entities = append(a.Entities, article6.Entity{ID: e.ID, Name: e.Name, Country: e.Country, Conditions: e.Conditions})
	}
	return article6.AuthEvent{Kind: kind, Date: date, Authorisation: a}
}

// AuthEvent is the Article 6 event a journaled authorise, amend or revoke
// request records, dated by the entry (what the hub feeds its ledger).
func AuthEvent(req Request, at time.Time) (article6.AuthEvent, bool) {
	date := at.UTC().Format(time.DateOnly)
	switch r := req.(type) {
	case Authorise:
		return r.Authorisation.event(article6.EventAuthorise, date), true
	case AmendAuthorisation:
		return r.Authorisation.event(article6.EventAmend, date), true
	case RevokeAuthorisation:
		return article6.AuthEvent{Kind: article6.EventRevoke, Date: date, ID: r.ID, Reason: r.Reason}, true
	}
	return article6.AuthEvent{}, false
}

// checkAuthorisation validates an authorise or amend at this registry.
func (n *Node) checkAuthorisation(r Authorisation, kind article6.EventKind, at time.Time) (article6.Authorisation, error) {
	cfg, err := Article6Config()
	if err != nil {
		return article6.Authorisation{}, fmt.Errorf("registry: article 6 approaches: %w", err)
	}
	for i, e := range r.Entities {
		f := fmt.Sprintf("authorisation.entities[%d].", i)
		for _, t := range []struct {
			name, v string
			n       int
		}{{"id", e.ID, 64}, {"name", e.Name, 200}, {"country", e.Country, 2}, {"conditions", e.Conditions, 1000}} {
			if err := text(f+t.name, t.v, t.n, t.name != "conditions"); err != nil {
				return article6.Authorisation{}, err
			}
		}
	}
	// Only the host Party's own registry authorises for it: authorisation
	// is the first transferring Party's prerogative (2/CMA.3, annex, para.
	// 18 lists its elements [para. number seen cited in the SBSTA 60 draft
	// text of 6 Dec 2024; the decision itself not read]).
	if r.Host != n.party() {
		return article6.Authorisation{}, a6err(ledger.KindPermission, article6.CodeAuthInvalid, "authorisation.host", "registry %s authorises for %s, not %s", n.code, n.party(), r.Host)
	}
	a, err := article6.ValidateAuthorisation(cfg, r.event(kind, at.UTC().Format(time.DateOnly)))
	if err != nil {
		return a, a6refusal(err)
	}
	return a, nil
}

// party is the Party this registry belongs to: the two letters of its code.
func (n *Node) party() string {
	if len(n.code) < 2 {
		return n.code
	}
	return n.code[:2]
}

func (n *Node) authorise(w *writeSet, a Actor, r Authorise, res *Result) error {
	auth, err := n.checkAuthorisation(r.Authorisation, article6.EventAuthorise, res.At)
	if err != nil {
		return err
	}
	if _, ok := n.st.auths.Lookup(auth.ID); ok {
		return a6err(ledger.KindConflict, article6.CodeAuthExists, "authorisation.id", "authorisation %s exists; amend it instead", auth.ID)
	}
	if auth.Version != 1 {
		return a6err(ledger.KindInvalid, article6.CodeAuthVersion, "authorisation.version", "a new authorisation starts at version 1, not %d", auth.Version)
	}
	n.st.auths.Set(auth.ID, authState{Current: auth})
	return nil
}

func (n *Node) amendAuthorisation(w *writeSet, a Actor, r AmendAuthorisation, res *Result) error {
	auth, err := n.checkAuthorisation(r.Authorisation, article6.EventAmend, res.At)
	if err != nil {
		return err
	}
	cur, ok := n.st.auths.Lookup(auth.ID)
	switch {
	case !ok:
		return a6err(ledger.KindNotExist, article6.CodeAuthUnknown, "authorisation.id", "authorisation %s does not exist", auth.ID)
	case cur.Revoked != "":
		return a6err(ledger.KindConflict, article6.CodeRevoked, "authorisation.id", "authorisation %s was revoked on %s", auth.ID, cur.Revoked)
	case auth.Version != cur.Current.Version+1:
		return a6err(ledger.KindConflict, article6.CodeAuthVersion, "authorisation.version", "the next version of %s is %d, not %d", auth.ID, cur.Current.Version+1, auth.Version)
	case auth.Approach != cur.Current.Approach:
		return a6err(ledger.KindInvalid, article6.CodeAuthInvalid, "authorisation.approach", "an amendment cannot change the cooperative approach")
	case cur.Frozen:
		return a6err(ledger.KindConflict, article6.CodeAuthFrozen, "authorisation.id", "units under %s have been first-transferred; it can no longer change", auth.ID)
	case auth.Quantity < cur.Issued:
		return a6err(ledger.KindConflict, article6.CodeQuantityBelowUsed, "authorisation.quantity", "%d t already issued under %s exceed the new quantity %d", cur.Issued, auth.ID, auth.Quantity)
	}
	cur.Current = auth
	n.st.auths.Set(auth.ID, cur)
	return nil
}

func (n *Node) revokeAuthorisation(w *writeSet, a Actor, r RevokeAuthorisation, res *Result) error {
	if err := text("reason", r.Reason, 1000, true); err != nil {
		return err
	}
	cur, ok := n.st.auths.Lookup(r.ID)
	if !ok {
		return a6err(ledger.KindNotExist, article6.CodeAuthUnknown, "id", "authorisation %s does not exist", r.ID)
	}
	if cur.Revoked != "" {
		return a6err(ledger.KindConflict, article6.CodeRevoked, "id", "authorisation %s was already revoked on %s", r.ID, cur.Revoked)
	}
	cur.Revoked = res.At.UTC().Format(time.DateOnly)
	n.st.auths.Set(r.ID, cur)
	return nil
}

// issueAuthorised issues the gross quantity, then in the same entry
// cancels the OMGE units, moves the share of proceeds to the adaptation
// account and the investor's share to the investor's account, with
// article6.Split's layout, so the hub's Article 6 ledger finds the
// deductions it requires.
func (n *Node) issueAuthorised(w *writeSet, a Actor, r IssueAuthorised, res *Result) error {
	cfg, err := Article6Config()
	if err != nil {
		return fmt.Errorf("registry: article 6 approaches: %w", err)
	}
	if q, twice := n.st.decisions.Lookup(r.Decision); twice && r.Decision != "" {
		// Each side issues its share of a Joint Committee decision once, in
		// its own registry (Common Specifications of the JCM Registry,
		// Japan–Indonesia, ver01.0, section A, paras. 1 and 6): a second
		// issuance naming it here is refused, as the hub's ledger refuses
		// it.
		return a6err(ledger.KindConflict, article6.CodeDecisionTwice, "decision", "registry %s already issued its share of decision %s (%d t)", n.code, r.Decision, q)
	}
	if r.Partner != nil {
		if err := n.issuePartnerShare(w, a, cfg, r, res); err != nil {
			return err
		}
		n.st.rememberDecision(r)
		return nil
	}
	cur, ok := n.st.auths.Lookup(r.Authorisation)
	if !ok {
		return a6err(ledger.KindNotExist, article6.CodeNoAuthorisation, "authorisation", "authorisation %q does not exist in registry %s", r.Authorisation, n.code)
	}
	auth := cur.Current
	date := res.At.UTC().Format(time.DateOnly)
	iss := r.Issue
	switch {
	case cur.Revoked != "":
		return a6err(ledger.KindConflict, article6.CodeRevoked, "authorisation", "authorisation %s was revoked on %s", auth.ID, cur.Revoked)
	case iss.HostCountry != auth.Host:
		return a6err(ledger.KindInvalid, article6.CodeScopeActivity, "issue.host_country", "the project is in %s; authorisation %s is %s's", iss.HostCountry, auth.ID, auth.Host)
	case !slices.Contains(auth.Activities, iss.Project):
		return a6err(ledger.KindInvalid, article6.CodeScopeActivity, "issue.project", "project %s is not an activity of %s", iss.Project, auth.ID)
	case iss.Vintage < 2021:
		// Decision 2/CMA.3, annex, para. 1(e): mitigation from 2021 (secondary, docs/sources.md).
		return a6err(ledger.KindInvalid, article6.CodeVintageBefore2021, "issue.vintage", "vintage %d is before 2021", iss.Vintage)
	case iss.Vintage < auth.VintageFrom || iss.Vintage > auth.VintageTo:
		return a6err(ledger.KindInvalid, article6.CodeScopeVintage, "issue.vintage", "vintage %d is outside %d-%d of %s", iss.Vintage, auth.VintageFrom, auth.VintageTo, auth.ID)
	case date < auth.From || date > auth.Until:
		return a6err(ledger.KindInvalid, article6.CodeScopeTimeframe, "authorisation", "%s is outside the timeframe %s to %s of %s", date, auth.From, auth.Until, auth.ID)
	case iss.Quantity > 0 && cur.Issued+iss.Quantity > auth.Quantity:
		return a6err(ledger.KindConflict, article6.CodeScopeQuantity, "issue.quantity", "issuing %d t would bring %s to %d t, above its %d t", iss.Quantity, auth.ID, cur.Issued+iss.Quantity, auth.Quantity)
	}
	frac := decimal.Zero
	if r.Investor != "" {
		if err := country("investor", r.Investor); err != nil {
			return err
		}
		if frac, err = decimal.NewFromString(r.InvestorFraction); err != nil {
			return invalid("investor_fraction", "investor_fraction %q is not a decimal fraction", r.InvestorFraction)
		}
	} else if r.InvestorFraction != "" || r.InvestorAccount != 0 {
		return invalid("investor", "an investor fraction or account needs the investor's Party")
	}
	ap := cfg.Approaches[auth.Approach]
	if err := checkDecision(ap, r); err != nil {
		return err
	}
	if iss.Quantity <= 0 {
		return n.issue(w, a, iss, res) // the issue's own quantity error
	}
	if omge, sop := article6.Deductions(ap, iss.Quantity); omge+sop > iss.Quantity {
		return a6err(ledger.KindInvalid, article6.CodeTooSmall, "issue.quantity", "%d t cannot carry the %d t OMGE and %d t share of proceeds %s requires", iss.Quantity, omge, sop, ap.ID)
	}
	sh, err := article6.Split(ap, iss.Quantity, frac)
	if err != nil {
		return invalid("investor_fraction", "%v", err)
	}
	var sopAcc, invAcc *ledger.Account
	if sh.ShareOfProceeds > 0 {
		if sopAcc, err = n.destination(a, "adaptation_account", r.AdaptationAccount); err != nil {
			return err
		}
	}
	if sh.Investor > 0 {
		if invAcc, err = n.destination(a, "investor_account", r.InvestorAccount); err != nil {
			return err
		}
	}
	if err := n.issue(w, a, iss, res); err != nil {
		return err
	}
	id, acc := res.ID, iss.AccountID
	res.Blocks, res.Quantity = nil, 0
	next := int64(1)
	place := func(q, account int64, st ledger.State) {
		if q > 0 {
			n.moveAll(w, res, []piece{{id, next, next + q - 1}}, account, st, 0)
			next += q
		}
	}
	place(sh.OMGE, acc, ledger.Cancelled)
	if sopAcc != nil {
		place(sh.ShareOfProceeds, sopAcc.ID, ledger.Held)
	}
	place(sh.Host, acc, ledger.Held)
	if invAcc != nil {
		place(sh.Investor, invAcc.ID, ledger.Held)
	}
	res.ID = id
	n.st.authOf.Set(id, auth.ID)
	cur.Issued += iss.Quantity
	def := auth.FirstTransferOIMP
	oimpAtIssue := (auth.Has(article6.PurposeOIMP) || auth.Has(article6.PurposeOther)) && (def == article6.FirstAtIssuance || def == article6.FirstAtAuthorisation)
	cur.Frozen = cur.Frozen || sh.OMGE > 0 || oimpAtIssue
	n.st.auths.Set(auth.ID, cur)
	n.st.rememberDecision(r)
	return nil
}

// rememberDecision records the decision an issuance's share was issued
// under, if it names one.
func (st *state) rememberDecision(r IssueAuthorised) {
	if r.Decision != "" {
		st.decisions.Set(r.Decision, r.Issue.Quantity)
	}
}

// issuePartnerShare issues this registry's share of a coordinated
// issuance under another Party's authorisation (PartnerShare): the
// approach must be one with coordinated issuance whose Parties include
// the host and this registry's Party, the project must be in the host,
// the decision named with its quantity and the share within it. The
// authorisation itself is the host registry's record, so its scope
// (activities, vintages, timeframe, quantity, acquiring Parties) and the
// shares' sum are the hub's checks. No deductions: the share goes whole
// to the account (approaches with a share of proceeds or OMGE take them
// in the host's registry, so a partner share under one is refused).
func (n *Node) issuePartnerShare(w *writeSet, a Actor, cfg article6.Config, r IssueAuthorised, res *Result) error {
	p := *r.Partner
	if err := country("partner.host", p.Host); err != nil {
		return err
	}
	ap, ok := cfg.Approaches[p.Approach]
	iss := r.Issue
	switch {
	case !ok:
		return a6err(ledger.KindInvalid, article6.CodeApproachUnknown, "partner.approach", "partner.approach %q is not a cooperative approach of the corridor", p.Approach)
	case !ap.CoordinatedIssuance:
		return a6err(ledger.KindInvalid, article6.CodeDecisionMismatch, "partner.approach", "%s has no coordinated issuance: only the host's registry issues under it", ap.ID)
	case p.Host == n.party():
		return invalid("partner", "the host's own registry issues under its authorisation without partner")
	case !ap.Participant(p.Host) || !ap.Participant(n.party()):
		return a6err(ledger.KindInvalid, article6.CodeScopeAcquirer, "partner.host", "%s's Parties are %v; a share of %s's issuance in registry %s needs both", ap.ID, ap.Parties, p.Host, n.code)
	case !ap.ShareOfProceeds.IsZero() || !ap.OMGE.IsZero():
		return a6err(ledger.KindInvalid, article6.CodeActionInvalid, "partner.approach", "%s takes deductions at issuance, in the host's registry; a partner share cannot carry them", ap.ID)
	case iss.HostCountry != p.Host:
		return a6err(ledger.KindInvalid, article6.CodeScopeActivity, "issue.host_country", "the project of a share under %s's authorisation is in %s, not %s", p.Host, p.Host, iss.HostCountry)
	case iss.Vintage < 2021:
		// Decision 2/CMA.3, annex, para. 1(e): mitigation from 2021 (secondary, docs/sources.md).
		return a6err(ledger.KindInvalid, article6.CodeVintageBefore2021, "issue.vintage", "vintage %d is before 2021", iss.Vintage)
	case r.Investor != "" || r.InvestorFraction != "" || r.InvestorAccount != 0 || r.AdaptationAccount != 0:
		return invalid("partner", "a partner share goes whole to issue.account_id: no investor or adaptation account")
	}
	if err := text("authorisation", r.Authorisation, 64, true); err != nil {
		return err
	}
	if err := checkDecision(ap, r); err != nil {
		return err
	}
	return n.issue(w, a, iss, res)
}

// IssuanceAction is the Article 6 action a journaled issue_authorised
// records, given its result: the whole issuance as one serial block, with
// the deductions it took.
func (n *Node) IssuanceAction(r IssueAuthorised, res Result) (article6.Action, error) {
	cfg, err := Article6Config()
	if err != nil {
		return article6.Action{}, err
	}
	return issuanceAction(cfg, n.code, r, res)
}

// IssuanceActionOf is IssuanceAction for a registry known by its code (the
// hub reads journals of registries it only knows by code).
func IssuanceActionOf(code string, r IssueAuthorised, res Result) (article6.Action, error) {
	cfg, err := Article6Config()
	if err != nil {
		return article6.Action{}, err
	}
	return issuanceAction(cfg, code, r, res)
}

func issuanceAction(cfg article6.Config, code string, r IssueAuthorised, res Result) (article6.Action, error) {
	a := article6.Action{Kind: article6.ActionIssue, Date: res.At.UTC().Format(time.DateOnly), Authorisation: r.Authorisation,
		Units:    ledger.Serial{Registry: code, UnitType: r.Issue.UnitType, Project: r.Issue.Project, Vintage: r.Issue.Vintage, Issuance: res.ID, Start: 1, End: r.Issue.Quantity},
		Investor: r.Investor, Decision: r.Decision, DecisionQuantity: r.DecisionQuantity}
	if r.Partner != nil && len(code) >= 2 {
		// A partner's share: issued straight into this registry's Party,
		// under the host's authorisation (the ledger's coordinated issuance),
		// which the ledger compares with the host and approach stated here.
		a.IssueTo = code[:2]
		a.StatedHost, a.StatedApproach = r.Partner.Host, r.Partner.Approach
	}
	if r.Investor != "" {
		f, err := decimal.NewFromString(r.InvestorFraction)
		if err != nil {
			return a, fmt.Errorf("registry: issuance %d: investor fraction: %w", res.ID, err)
		}
		a.InvestorFraction = f
	}
	// The deductions as the entry took them: the cancelled OMGE block and
	// the block moved to the adaptation account, in Split's order.
	var next int64 = 1
	for _, b := range res.Blocks {
		if b.Start != next {
			break
		}
		switch {
		case b.State == ledger.Cancelled && a.OMGE == 0 && a.ShareOfProceeds == 0:
			a.OMGE = b.Quantity
		case b.State == ledger.Held && a.ShareOfProceeds == 0 && b.AccountID == r.AdaptationAccount && r.AdaptationAccount != 0:
			a.ShareOfProceeds = b.Quantity
		default:
			return a, nil
		}
		next = b.End + 1
	}
	return a, nil
}

// freezeExported freezes the authorisations of the units an export
// completed here moved to registry to (the hub completed the escrow): a
// block of an issuance made here under an NDC authorisation leaving for
// another Party's registry is its first international transfer, its
// first transfer (2/CMA.3, annex, para. 2(a); cited, secondary:
// docs/sources.md) — the hub's ledger decides the same
// (article6.State, ActionTransfer: an NDC authorisation's units not yet
// first-transferred), and refuses an amendment afterwards. Units that
// were first-transferred before, left and came back only find it frozen
// already. A transfer to a registry of this Party is not international.
func (st *state) freezeExported(party, to string, issuances []int64) {
	if len(to) < 2 || to[:2] == party {
		return
	}
	for _, id := range issuances {
		aid, ok := st.authOf.Lookup(id)
		if !ok {
			continue
		}
		cur, ok := st.auths.Lookup(aid)
		if ok && !cur.Frozen && cur.Current.Has(article6.PurposeNDC) {
			cur.Frozen = true
			st.auths.Set(aid, cur)
		}
	}
}

// exportedIssuances are the issuances of a completion's blocks that left
// this registry.
func exportedIssuances(blocks []BlockView) []int64 {
	var out []int64
	for _, b := range blocks {
		if b.State == ledger.Exported {
			out = append(out, b.IssuanceID)
		}
	}
	return out
}

// loadArticle6 rebuilds the authorisations from the journal at start-up
// (they have no table of their own: the journal is their record), with
// the freezes the completed exports of their units made (freezeExported;
// the destination is read from the export's reserve entry, for those
// completions only that could freeze one).
func loadArticle6(ctx context.Context, db *store.DB, st *state, code string) error {
	party := code
	if len(code) >= 2 {
		party = code[:2]
	}
	kinds := article6Kinds
	// Completions matter only in a registry that issued under an
	// authorisation (most registries have many and none of these).
	if iss, err := db.Entries(ctx, store.EntryFilter{Kind: IssueAuthorised{}.Kind(), Limit: 1}); err != nil {
		return fmt.Errorf("registry: load: issue_authorised entries: %w", err)
	} else if len(iss) > 0 {
		kinds = append(slices.Clone(article6Kinds), Complete{}.Kind())
	}
	return replayKinds(ctx, db, kinds, func(e ledger.Entry, req Request, res Result) error {
		c, ok := req.(Complete)
		if !ok {
			return st.rememberArticle6(req, res, e.At)
		}
		ids := slices.DeleteFunc(exportedIssuances(res.Blocks), func(id int64) bool { _, ok := st.authOf.Lookup(id); return !ok })
		if len(ids) == 0 {
			return nil
		}
		r, ok, err := db.Entry(ctx, c.Pending)
		if err != nil || !ok || r.Kind != (Reserve{}).Kind() {
			return fmt.Errorf("registry: load: completion %d settles %d, not a reserve entry (%v)", e.Seq, c.Pending, err)
		}
		p, err := pendingFromEntry(r)
		if err != nil {
			return err
		}
		to, _, _ := strings.Cut(p.ToRemote, "/")
		st.freezeExported(party, to, ids)
		return nil
	})
}

// rememberArticle6 applies a committed Article 6 entry to st without
// checking it again (it was checked when it was decided).
func (st *state) rememberArticle6(req Request, res Result, at time.Time) error {
	cfg, err := Article6Config()
	if err != nil {
		return err
	}
	ev, _ := AuthEvent(req, at)
	switch r := req.(type) {
	case Authorise, AmendAuthorisation:
		a, err := article6.ValidateAuthorisation(cfg, ev)
		if err != nil {
			return err
		}
		cur, _ := st.auths.Lookup(a.ID)
		cur.Current = a
		st.auths.Set(a.ID, cur)
	case RevokeAuthorisation:
		cur, _ := st.auths.Lookup(r.ID)
		cur.Revoked = ev.Date
		st.auths.Set(r.ID, cur)
	case IssueAuthorised:
		st.rememberDecision(r)
		if r.Partner != nil {
			return nil // the authorisation is the host registry's
		}
		cur, _ := st.auths.Lookup(r.Authorisation)
		st.authOf.Set(res.ID, r.Authorisation)
		cur.Issued += r.Issue.Quantity
		ap := cfg.Approaches[cur.Current.Approach]
		omge, _ := article6.Deductions(ap, r.Issue.Quantity)
		def := cur.Current.FirstTransferOIMP
		oimp := cur.Current.Has(article6.PurposeOIMP) || cur.Current.Has(article6.PurposeOther)
		cur.Frozen = cur.Frozen || omge > 0 || oimp && (def == article6.FirstAtIssuance || def == article6.FirstAtAuthorisation)
		st.auths.Set(r.Authorisation, cur)
	}
	return nil
}

// AuthorisationView is a node's record of one authorisation.
type AuthorisationView struct {
	Authorisation article6.Authorisation `json:"authorisation"`
	Revoked       string                 `json:"revoked,omitempty"`
	Issued        int64                  `json:"issued"`
	Frozen        bool                   `json:"frozen"`
}

// Authorisations lists the authorisations recorded here, by id.
func (n *Node) Authorisations() []AuthorisationView {
	r := n.reader()
	var out []AuthorisationView
	for _, s := range r.st.auths.All() {
		out = append(out, AuthorisationView{Authorisation: s.Current, Revoked: s.Revoked, Issued: s.Issued, Frozen: s.Frozen})
	}
	return out
}

// CheckArticle6Claim checks the shape of a sender's Article 6 statement
// before anything is reserved: an authorisation id, a version from 1, a
// cooperative approach of the corridor (registry.Article6Config), and a
// first transferring Party that takes part in it (the ITMO identifier's
// parts, decision 6/CMA.4 [recall]; docs/article6.md). Whether the
// statement is true of the units is the hub's check
// (article6.Ledger.CheckStatement), which refuses the transfer with its
// code otherwise. Fields are named under prefix (e.g. "article6").
func CheckArticle6Claim(prefix string, c *Article6Claim) error {
	if c == nil {
		return nil
	}
	field := func(f string) string { return prefix + "." + f }
	bad := func(f, format string, args ...any) error {
		return ledger.Errorf(ledger.KindInvalid, ledger.CodeInvalid, 0, field(f), format, args...)
	}
	if strings.TrimSpace(c.Authorisation) == "" {
		return bad("authorisation", "%s must name the authorisation the units carry", field("authorisation"))
	}
	if err := CheckText(field("authorisation"), c.Authorisation, 64); err != nil {
		return err
	}
	if c.Version < 1 {
		return bad("version", "%s must be the authorisation's version, from 1, not %d", field("version"), c.Version)
	}
	cfg, err := Article6Config()
	if err != nil {
		return fmt.Errorf("registry: article 6 approaches: %w", err)
	}
	ap, ok := cfg.Approaches[c.Approach]
	if !ok {
		ids := make([]string, 0, len(cfg.Approaches))
		for id := range cfg.Approaches {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		if err := CheckText(field("approach"), c.Approach, 24); err != nil {
			return err
		}
		return a6err(ledger.KindInvalid, article6.CodeApproachUnknown, field("approach"), "%s %q is not a cooperative approach of the corridor (%s)", field("approach"), c.Approach, strings.Join(ids, ", "))
	}
	if !ap.Participant(c.Party) {
		if err := CheckText(field("party"), c.Party, 2); err != nil {
			return err
		}
		return bad("party", "%s must be the first transferring Party, one of %s's Parties %v, not %q", field("party"), c.Approach, ap.Parties, c.Party)
	}
	return nil
}

// checkImportITMO checks an import block's ITMO statement: identifiers
// that parse, of the block's origin registry, vintage and issuance, whose
// units are the block's first and last serial, with one prefix (approach,
// registry, Party) for both.
func checkImportITMO(field string, b ImportBlock) error {
	it := b.ITMO
	if it == nil {
		return nil
	}
	bad := func(format string, args ...any) error {
		return ledger.Errorf(ledger.KindInvalid, ledger.CodeInvalid, 0, field, format, args...)
	}
	if err := CheckText(field+".authorisation", it.Authorisation, 64); err != nil {
		return err
	}
	if it.Authorisation == "" || it.Version < 1 {
		return bad("%s names the authorisation and its version (from 1)", field)
	}
	first, err := article6.ParseITMOID(it.First)
	if err != nil {
		return bad("%s.first: %v", field, err)
	}
	last, err := article6.ParseITMOID(it.Last)
	if err != nil {
		return bad("%s.last: %v", field, err)
	}
	o := b.Origin
	switch {
	case first.Registry != o.Registry || first.Issuance != o.Issuance || first.Vintage != o.Vintage:
		return bad("%s: ITMO %s is not of issuance %s/%d, vintage %d", field, it.First, o.Registry, o.Issuance, o.Vintage)
	case first.Unit != b.Start || last.Unit != b.End:
		return bad("%s: ITMOs %s to %s are not units %d-%d", field, it.First, it.Last, b.Start, b.End)
	}
	last.Unit = first.Unit
	if last != first {
		return bad("%s: ITMOs %s and %s differ in more than the unit", field, it.First, it.Last)
	}
	return nil
}

// ITMORange is a part of a looked-up serial range that arrived here as
// ITMOs (an import the hub attached their identifiers to).
type ITMORange struct {
	Start         int64  `json:"start"`
	End           int64  `json:"end"`
	Authorisation string `json:"authorisation"`
	Version       int    `json:"version"`
	First         string `json:"first_itmo"`
	Last          string `json:"last_itmo"`
	// Transfer is the hub's transaction that brought them.
	Transfer string `json:"transfer"`
}

// itmosOf returns the parts of units lo-hi of origin issuance o that the
// import entry body brought as ITMOs, with their identifiers.
func itmosOf(body string, o Origin, lo, hi int64) []ITMORange {
	var e struct {
		Request Import `json:"request"`
	}
	if json.Unmarshal([]byte(body), &e) != nil {
		return nil
	}
	var out []ITMORange
	for _, b := range e.Request.Blocks {
		if b.ITMO == nil || b.Origin.Origin != o {
			continue
		}
		s, t := max(lo, b.Start), min(hi, b.End)
		if s > t {
			continue
		}
		first, err := article6.ParseITMOID(b.ITMO.First)
		if err != nil {
			continue
		}
		last := first
		first.Unit, last.Unit = s, t
		out = append(out, ITMORange{Start: s, End: t, Authorisation: b.ITMO.Authorisation, Version: b.ITMO.Version, First: first.String(), Last: last.String(), Transfer: e.Request.Transfer})
	}
	return out
}

// checkDecision checks the Joint Committee decision of an issuance: an
// approach with coordinated issuance (the JCM: "the Joint Committee
// decides the split of each issuance and each side issues its share in
// its own registry", Common Specifications of the JCM Registry, cited in
// docs/article6.md) needs the decision's id and quantity, and this share
// may not exceed the decision; any other approach names none. Whether the
// shares of every registry add up is the hub's check (article6-decision-*).
func checkDecision(ap article6.Approach, r IssueAuthorised) error {
	if err := CheckText("decision", r.Decision, 64); err != nil {
		return err
	}
	switch {
	case !ap.CoordinatedIssuance && (r.Decision != "" || r.DecisionQuantity != 0):
		return a6err(ledger.KindInvalid, article6.CodeDecisionMismatch, "decision", "%s has no coordinated issuance; an issuance under it names no decision", ap.ID)
	case !ap.CoordinatedIssuance:
		return nil
	case strings.TrimSpace(r.Decision) == "":
		return a6err(ledger.KindInvalid, article6.CodeDecisionMismatch, "decision", "%s issues under a Joint Committee decision: name it (decision) with its quantity (decision_quantity)", ap.ID)
	case r.DecisionQuantity < 1:
		return a6err(ledger.KindInvalid, article6.CodeDecisionMismatch, "decision_quantity", "decision_quantity must be the decision's whole quantity in t, from 1")
	case r.Issue.Quantity > r.DecisionQuantity:
		return a6err(ledger.KindInvalid, article6.CodeDecisionExceeded, "issue.quantity", "this share of %d t is above decision %s's %d t", r.Issue.Quantity, r.Decision, r.DecisionQuantity)
	}
	return nil
}
