package article6

import (
	"slices"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

// Entity is a public or private entity a Party authorises to use ITMOs
// (AEF table 5, "Authorized entities").
type Entity struct {
	ID         string
	Name       string
	Country    string // ISO 3166-1 alpha-2 country of incorporation
	Conditions string
}

// Authorisation is one version of a host Party's authorisation of
// mitigation outcomes under a cooperative approach. Its content follows the
// columns of AEF table 2 "Authorizations" (decision 4/CMA.6, annex II, as
// transcribed; docs/sources.md). The elements an authorisation must contain
// are in the CMA.6 decision on 6.2 [unverified: only its SBSTA 60 draft of
// 6 Dec 2024 was read, whose para. 8 lists them and refers to 2/CMA.3,
// annex, para. 18].
type Authorisation struct {
	ID       string
	Version  int
	Date     string // date of this version, YYYY-MM-DD (set from the event)
	Host     string // the authorising, first transferring Party
	Approach string
	Purposes []Purpose
	Quantity int64 // gross tonnes that may be issued under it, deductions included
	// Timeframe: first transfers and issuances must fall on or between these dates.
	From, Until string
	// Vintages covered, inclusive.
	VintageFrom, VintageTo int
	Activities             []string // project identifiers (the PROJECT part of unit serials)
	AcquiringParties       []string // empty: any other participant of the approach
	Entities               []Entity // entities entitled to use for OIMP/OP; empty: unrestricted
	FirstTransferOIMP      FirstTransfer
	OIMPUse                string // the OIMP authorised, e.g. "CORSIA"
	Sector                 string
	ActivityType           string
	MitigationType         string // "emission reductions" or "removals"
	Terms                  string
}

// Has reports whether p is among the authorised purposes.
func (a Authorisation) Has(p Purpose) bool { return slices.Contains(a.Purposes, p) }

// hasOIMPDefinition reports whether the OIMP/OP first-transfer definition
// applies (the authorisation covers OIMP or other purposes).
func (a Authorisation) hasOIMPDefinition() bool { return a.Has(PurposeOIMP) || a.Has(PurposeOther) }

// EventKind is what an authorisation event does.
type EventKind string

// Authorisation events.
const (
	EventAuthorise EventKind = "authorise"
	EventAmend     EventKind = "amend"
	EventRevoke    EventKind = "revoke"
)

// AuthEvent is one entry of the append-only authorisation log.
type AuthEvent struct {
	Kind          EventKind
	Date          string
	Authorisation Authorisation // authorise and amend: the full new version
	ID            string        // revoke: the authorisation revoked
	Reason        string
}

type authEntry struct {
	versions  []Authorisation
	revokedOn string
	reason    string
}

// AuthLog is the append-only log of authorisation events; the current state
// of each authorisation is derived from it and never edited in place.
type AuthLog struct {
	events []AuthEvent
	byID   map[string]*authEntry
}

// Events returns a copy of the log.
func (l *AuthLog) Events() []AuthEvent { return slices.Clone(l.events) }

// Current returns the latest version of authorisation id.
func (l *AuthLog) Current(id string) (Authorisation, bool) {
	e, ok := l.byID[id]
	if !ok {
		return Authorisation{}, false
	}
	return e.versions[len(e.versions)-1], true
}

// Revoked returns the revocation date of id, or "" if it stands.
func (l *AuthLog) Revoked(id string) string {
	if e, ok := l.byID[id]; ok {
		return e.revokedOn
	}
	return ""
}

func (l *AuthLog) append(ev AuthEvent) {
	if l.byID == nil {
		l.byID = map[string]*authEntry{}
	}
	l.events = append(l.events, ev)
	switch ev.Kind {
	case EventAuthorise:
		l.byID[ev.Authorisation.ID] = &authEntry{versions: []Authorisation{ev.Authorisation}}
	case EventAmend:
		e := l.byID[ev.Authorisation.ID]
		e.versions = append(e.versions, ev.Authorisation)
	case EventRevoke:
		e := l.byID[ev.ID]
		e.revokedOn, e.reason = ev.Date, ev.Reason
	}
}

func validDate(d string) bool {
	t, err := time.Parse(time.DateOnly, d)
	return err == nil && t.Format(time.DateOnly) == d
}

// normalise validates an authorise/amend event's content and returns the
// version as it is stored (date from the event, OIMP definition defaulted
// from the approach).
func normalise(cfg Config, ev AuthEvent) (Authorisation, error) {
	a := ev.Authorisation
	a.Date = ev.Date
	if !ledger.ValidProject(a.ID) {
		return a, refuse(CodeAuthInvalid, "id", "authorisation id %q must be 1-64 letters, digits, '.', '_' or '-'", a.ID)
	}
	if !validParty(a.Host) {
		return a, refuse(CodeAuthInvalid, "host", "host %q is not an ISO 3166-1 alpha-2 code", a.Host)
	}
	ap, ok := cfg.Approaches[a.Approach]
	if !ok {
		return a, refuse(CodeApproachUnknown, "approach", "cooperative approach %q is not known", a.Approach)
	}
	if !ap.Participant(a.Host) {
		return a, refuse(CodeHostNotParticipant, "host", "%s does not participate in %s", a.Host, ap.ID)
	}
	if len(a.Purposes) == 0 {
		return a, refuse(CodeAuthInvalid, "purposes", "an authorisation needs at least one purpose")
	}
	for _, p := range a.Purposes {
		if !slices.Contains(ap.Purposes, p) {
			return a, refuse(CodeAuthInvalid, "purposes", "purpose %q is not a purpose of %s", p, ap.ID)
		}
	}
	if a.Quantity <= 0 || a.Quantity > ledger.MaxSerial {
		return a, refuse(CodeAuthInvalid, "quantity", "quantity must be between 1 and %d", ledger.MaxSerial)
	}
	if !validDate(a.From) || !validDate(a.Until) || a.Until < a.From {
		return a, refuse(CodeAuthInvalid, "timeframe", "timeframe %q to %q is not a pair of ordered dates", a.From, a.Until)
	}
	// Decision 2/CMA.3, annex, para. 1(e): mitigation from 2021 onward
	// (secondary, docs/sources.md: the fifth of the seven elements 1(a)-(g)
	// in the Japan MoE guide; 1(d) is use towards an NDC).
	if a.VintageFrom < 2021 {
		return a, refuse(CodeVintageBefore2021, "vintage_from", "vintage %d is before 2021", a.VintageFrom)
	}
	if a.VintageTo < a.VintageFrom || a.VintageTo > 9999 {
		return a, refuse(CodeAuthInvalid, "vintage_to", "vintages %d to %d are not ordered years", a.VintageFrom, a.VintageTo)
	}
	if len(a.Activities) == 0 {
		return a, refuse(CodeAuthInvalid, "activities", "an authorisation must name the activities it covers")
	}
	for _, act := range a.Activities {
		if !ledger.ValidProject(act) {
			return a, refuse(CodeAuthInvalid, "activities", "activity %q is not a project identifier", act)
		}
	}
	for _, p := range a.AcquiringParties {
		if p == a.Host || !ap.Participant(p) {
			return a, refuse(CodeAuthInvalid, "acquiring_parties", "%s is not another participant of %s", p, ap.ID)
		}
	}
	for _, e := range a.Entities {
		if e.ID == "" || e.Name == "" || !validParty(e.Country) {
			return a, refuse(CodeAuthInvalid, "entities", "an authorised entity needs an id, a name and a country code")
		}
	}
	if a.hasOIMPDefinition() {
		if a.FirstTransferOIMP == "" {
			a.FirstTransferOIMP = ap.FirstTransferOIMP
		}
		if !validOIMPDefinition(a.FirstTransferOIMP) {
			return a, refuse(CodeAuthInvalid, "first_transfer_oimp", "%q is not authorisation, issuance or use-or-cancellation", a.FirstTransferOIMP)
		}
	} else if a.FirstTransferOIMP != "" {
		return a, refuse(CodeAuthInvalid, "first_transfer_oimp", "a first-transfer definition for OIMP needs OIMP or other purposes")
	}
	return a, nil
}

// ValidateEvent decides whether ev may be appended to log given the ITMO
// state st. Changes are allowed only before the first transfer of any unit
// under the authorisation (CMA.6 decision on 6.2 [unverified: decision not
// read; 6/CMA.4 asked for work on "the scope of changes to authorization",
// per the CCXG slides in docs/sources.md]); a revocation is
// always allowed and affects only units not yet first-transferred.
func ValidateEvent(cfg Config, log *AuthLog, st *State, ev AuthEvent) (AuthEvent, error) {
	if !validDate(ev.Date) {
		return ev, refuse(CodeAuthInvalid, "date", "date %q is not YYYY-MM-DD", ev.Date)
	}
	// Events and actions share one timeline, so that a revocation or an
	// amendment cannot be slipped in before actions already recorded.
	if ev.Date < st.lastDate {
		return ev, refuse(CodeDateOrder, "date", "event dated %s comes after an action or event dated %s", ev.Date, st.lastDate)
	}
	switch ev.Kind {
	case EventAuthorise:
		a, err := normalise(cfg, ev)
		if err != nil {
			return ev, err
		}
		if _, ok := log.Current(a.ID); ok {
			return ev, refuse(CodeAuthExists, "id", "authorisation %s exists; amend it instead", a.ID)
		}
		if a.Version != 1 {
			return ev, refuse(CodeAuthVersion, "version", "a new authorisation starts at version 1, not %d", a.Version)
		}
		ev.Authorisation = a
	case EventAmend:
		a, err := normalise(cfg, ev)
		if err != nil {
			return ev, err
		}
		cur, ok := log.Current(a.ID)
		if !ok {
			return ev, refuse(CodeAuthUnknown, "id", "authorisation %s does not exist", a.ID)
		}
		if log.Revoked(a.ID) != "" {
			return ev, refuse(CodeRevoked, "id", "authorisation %s was revoked on %s", a.ID, log.Revoked(a.ID))
		}
		if a.Version != cur.Version+1 {
			return ev, refuse(CodeAuthVersion, "version", "the next version of %s is %d, not %d", a.ID, cur.Version+1, a.Version)
		}
		if a.Host != cur.Host || a.Approach != cur.Approach {
			return ev, refuse(CodeAuthInvalid, "host", "an amendment cannot change the host or the cooperative approach")
		}
		if st.firstTransferred[a.ID] > 0 {
			return ev, refuse(CodeAuthFrozen, "id", "units under %s have been first-transferred; it can no longer change", a.ID)
		}
		if a.Quantity < st.issued[a.ID] {
			return ev, refuse(CodeQuantityBelowUsed, "quantity", "%d t already issued under %s exceed the new quantity %d", st.issued[a.ID], a.ID, a.Quantity)
		}
		ev.Authorisation = a
	case EventRevoke:
		if _, ok := log.Current(ev.ID); !ok {
			return ev, refuse(CodeAuthUnknown, "id", "authorisation %s does not exist", ev.ID)
		}
		if log.Revoked(ev.ID) != "" {
			return ev, refuse(CodeRevoked, "id", "authorisation %s was already revoked on %s", ev.ID, log.Revoked(ev.ID))
		}
	default:
		return ev, refuse(CodeAuthInvalid, "kind", "unknown event kind %q", ev.Kind)
	}
	return ev, nil
}
