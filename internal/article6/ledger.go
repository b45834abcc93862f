package article6

import "github.com/corridor-carbon/corridor/internal/ledger"

// Ledger bundles the configuration, the authorisation log and the ITMO state
// the hub keeps, and the AEF submissions it has recorded.
type Ledger struct {
	cfg         Config
	log         AuthLog
	st          *State
	submissions []Submission
}

// Submission is a Party's AEF submission for a year (AEF table 1).
type Submission struct {
	Party        string
	Version      int
	Year         int
	Date         string
	NDCFirstYear int
	NDCLastYear  int
}

// NewLedger returns an empty ledger over cfg.
func NewLedger(cfg Config) *Ledger { return &Ledger{cfg: cfg, st: NewState()} }

// Config returns the ledger's configuration.
func (l *Ledger) Config() Config { return l.cfg }

// Log returns the authorisation log (read it; change it through Record).
func (l *Ledger) Log() *AuthLog { return &l.log }

// State returns the ITMO state (read it; change it through Apply).
func (l *Ledger) State() *State { return l.st }

// Record validates an authorisation event and appends it to the log.
func (l *Ledger) Record(ev AuthEvent) error {
	ev, err := ValidateEvent(l.cfg, &l.log, l.st, ev)
	if err != nil {
		return err
	}
	l.log.append(ev)
	l.st.lastDate = max(l.st.lastDate, ev.Date)
	return nil
}

// Check runs the Article 6 checks on a without recording it.
func (l *Ledger) Check(a Action) error { return Check(l.cfg, &l.log, l.st, a) }

// Apply checks a and records it.
func (l *Ledger) Apply(a Action) ([]Record, error) { return l.st.Apply(l.cfg, &l.log, a) }

// Submit records an AEF submission; corresponding adjustments of that Party
// and year then count as completed for CAD Trust.
func (l *Ledger) Submit(s Submission) error {
	if !validParty(s.Party) || !validDate(s.Date) || s.Version < 1 || s.Year < 2021 || s.NDCLastYear < s.NDCFirstYear {
		return refuse(CodeActionInvalid, "submission", "submission %+v is incomplete", s)
	}
	if year(s.Date) <= s.Year {
		return refuse(CodeActionInvalid, "date", "the AEF for %d can be submitted only after the year ends", s.Year)
	}
	l.submissions = append(l.submissions, s)
	return nil
}

func (l *Ledger) submitted(party string, y int) bool {
	for _, s := range l.submissions {
		if s.Party == party && s.Year == y {
			return true
		}
	}
	return false
}

// ValidateAuthorisation checks an authorise or amend event's content on its
// own (not against the log): what a host registry can decide when its
// administrator records the event. It returns the version as it is stored.
func ValidateAuthorisation(cfg Config, ev AuthEvent) (Authorisation, error) {
	return normalise(cfg, ev)
}

// FirstTransferOf says whether the hub's record makes a the first transfer
// of its units. A proposal without the sender's Article 6 statement (an
// optional field of the protocol) has the hub state it for the sender from
// its own record, and Check then runs every other check on that statement.
func (l *Ledger) FirstTransferOf(a Action) bool {
	a.FirstTransfer = false
	return CodeOf(l.Check(a)) == CodeFirstMismatch
}

// CheckStatement compares a sender's statement about units s (the
// authorisation and version they carry, the ITMO identifiers of their
// first and last unit) with the record: CodeAuthMismatch for another
// authorisation, CodeAuthVersion for a version that is not the current
// one, CodeITMOMismatch for identifiers that are not the units' (decision
// 6/CMA.4: approach, originating registry, first transferring Party,
// vintage, unit [recall]). Units the accounting does not know are
// CodeNoAuthorisation.
func (l *Ledger) CheckStatement(s ledger.Serial, authorisation string, version int, firstITMO, lastITMO string) error {
	var carried string
	for _, b := range l.st.blocks[issKey{s.Registry, s.Issuance}] {
		if b.Units.Start <= s.Start && s.Start <= b.Units.End {
			carried = b.Authorisation
			break
		}
	}
	auth, ok := l.log.Current(carried)
	if carried == "" || !ok {
		return refuse(CodeNoAuthorisation, "article6.authorisation", "units %s carry no authorisation the hub knows; the sender states %s", s, authorisation)
	}
	if authorisation != auth.ID {
		return refuse(CodeAuthMismatch, "article6.authorisation", "units %s carry authorisation %s, not %s", s, auth.ID, authorisation)
	}
	if version != auth.Version {
		return refuse(CodeAuthVersion, "article6.version", "authorisation %s is at version %d, the sender states %d", auth.ID, auth.Version, version)
	}
	first, last := ITMORange(auth.Approach, auth.Host, s)
	for _, c := range []struct{ stated, want string }{{firstITMO, first.String()}, {lastITMO, last.String()}} {
		if _, err := ParseITMOID(c.stated); err != nil {
			return err
		}
		if c.stated != c.want {
			return refuse(CodeITMOMismatch, "article6.itmo", "units %s are ITMOs %s to %s, the sender states %s to %s", s, first, last, firstITMO, lastITMO)
		}
	}
	return nil
}

// Carried is the authorisation units s carry and whether they are
// first-transferred already; ok is false unless the record keeps s as
// (part of) one block.
func (l *Ledger) Carried(s ledger.Serial) (authorisation string, firstTransferred, ok bool) {
	for _, b := range l.st.blocks[issKey{s.Registry, s.Issuance}] {
		if b.Units.Start <= s.Start && s.End <= b.Units.End {
			return b.Authorisation, b.FirstTransfer != 0, true
		}
	}
	return "", false, false
}

// Known reports whether the accounting knows issuance of registry (it was
// issued under an authorisation).
func (st *State) Known(registry string, issuance int64) bool {
	_, ok := st.blocks[issKey{registry, issuance}]
	return ok
}

// Parts splits s along the blocks the accounting keeps for its issuance,
// so each part is in one Article 6 state (units first-transferred by
// different records, or not yet, are different blocks even when a
// registry holds them as one). It returns s alone when the accounting
// does not know all of it, so that Check names what is wrong.
func (st *State) Parts(s ledger.Serial) []ledger.Serial {
	var out []ledger.Serial
	var n int64
	for _, b := range st.blocks[issKey{s.Registry, s.Issuance}] {
		lo, hi := max(b.Units.Start, s.Start), min(b.Units.End, s.End)
		if lo > hi {
			continue
		}
		p := s
		p.Start, p.End = lo, hi
		out = append(out, p)
		n += p.Count()
	}
	if n != s.Count() {
		return []ledger.Serial{s}
	}
	return out
}

// UnitsStatement is what the record says of units moving between
// registries: the authorisation and version they carry, whether this
// move is their first transfer, and their ITMO identifiers.
type UnitsStatement struct {
	Authorisation string
	Version       int
	FirstTransfer bool
	First, Last   ITMOID
}

// StatementOf is the record's statement of transfer a's units, when they
// are ITMOs already or become ITMOs with a (its first transfer), and are
// one block of the record (one authorisation, one Article 6 state). ok is
// false otherwise: units the record does not know, units not (yet) ITMOs,
// or units spanning blocks, for which no single statement holds.
func (l *Ledger) StatementOf(a Action) (UnitsStatement, bool) {
	var found Block
	in := false
	for _, b := range l.st.blocks[issKey{a.Units.Registry, a.Units.Issuance}] {
		if b.Units.Start <= a.Units.Start && a.Units.End <= b.Units.End {
			found, in = b, true
			break
		}
	}
	if !in {
		return UnitsStatement{}, false
	}
	auth, ok := l.log.Current(found.Authorisation)
	if !ok {
		return UnitsStatement{}, false
	}
	first := found.FirstTransfer == 0 && l.FirstTransferOf(a)
	if found.FirstTransfer == 0 && !first {
		return UnitsStatement{}, false
	}
	f, last := ITMORange(auth.Approach, auth.Host, a.Units)
	return UnitsStatement{Authorisation: auth.ID, Version: auth.Version, FirstTransfer: first, First: f, Last: last}, true
}
