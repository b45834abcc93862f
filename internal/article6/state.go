package article6

import (
	"maps"
	"slices"
	"strconv"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/shopspring/decimal"
)

// Config is the data the accounting needs besides the facts: the
// cooperative approaches and each Party's Article 6 registry code.
type Config struct {
	Approaches Approaches
	Registries map[string]string // Party -> registry code
}

// Status of a block of units.
type Status string

// Block statuses.
const (
	StatusHeld      Status = "held"
	StatusUsed      Status = "used"
	StatusCancelled Status = "cancelled"
)

// ShareKind says which part of an issuance a block is.
type ShareKind string

// Parts of an issuance (see Shares).
const (
	ShareOMGE     ShareKind = "omge"
	ShareSOP      ShareKind = "share-of-proceeds"
	ShareHost     ShareKind = "host"
	ShareInvestor ShareKind = "investor"
)

// Block is a run of units of one issuance with identical Article 6 state.
type Block struct {
	Units         ledger.Serial
	Authorisation string
	Approach      string
	Host          string
	Holder        string // Party whose registry holds the units
	Status        Status
	Share         ShareKind
	Beneficiary   string // Party the investor's share belongs to
	// FirstTransfer is the sequence number of the first-transfer record, 0
	// while the units are not ITMOs yet.
	FirstTransfer int
	UsedFor       Purpose
	UsedBy        string
}

// Action is a proposed movement the hub checks and then records.
type Action struct {
	Kind          ActionKind
	Date          string
	Units         ledger.Serial // issue: the whole issuance, 1..N
	Authorisation string        // issue
	// Issue: the deductions the issuing node declares, and the sharing
	// agreement of a project abroad.
	OMGE             int64
	ShareOfProceeds  int64
	Investor         string
	InvestorFraction decimal.Decimal
	// Issue into a registry other than the host's (coordinated issuance):
	// the receiving Party, and the host Party and approach the partner
	// registry's share states (registry.PartnerShare); the ledger refuses
	// a statement that is not the authorisation's.
	IssueTo        string
	StatedHost     string `json:",omitempty"`
	StatedApproach string `json:",omitempty"`
	// Issue under a coordinated-issuance approach: the decision (a JCM
	// Joint Committee's) that fixes the quantity both registries issue
	// between them, each its share once.
	Decision         string
	DecisionQuantity int64
	// Transfer
	From, To string
	// Use
	Purpose     Purpose
	UsingParty  string
	UsingEntity string
	// FirstTransfer is the sender's statement that this transfer, use or
	// cancellation is the first transfer; the hub checks it against its
	// own record.
	FirstTransfer bool
}

// ActionKind is the kind of an Action.
type ActionKind string

// Action kinds.
const (
	ActionIssue    ActionKind = "issue"
	ActionTransfer ActionKind = "transfer"
	ActionUse      ActionKind = "use"
	ActionCancel   ActionKind = "cancel"
)

// RecordType is the kind of a record; aef.go maps it to the AEF action type
// and subtype of the nomenclature (action types per decision 2/CMA.3,
// annex, para. 20(a), as the AEF template's footnote to "Action type"
// says; cited, secondary: docs/sources.md).
type RecordType string

// Record types.
const (
	RecordFirstTransfer RecordType = "First transfer"
	RecordTransfer      RecordType = "Transfer"
	RecordUse           RecordType = "Use"
	RecordCancellation  RecordType = "Cancellation"
	RecordIssuance      RecordType = "Issuance"
)

// Record is one fact the accounting produced, one AEF action row.
type Record struct {
	Seq                    int
	Date                   string
	Type                   RecordType
	Subtype                string
	Units                  ledger.Serial
	Approach               string
	Authorisation          string
	FirstTransferringParty string
	TransferringParty      string
	AcquiringParty         string
	Purpose                Purpose
	UsingParty             string
	UsingEntity            string
	Holder                 string // Party holding the units after the record
	Status                 Status // status of the units after the record
	ITMO                   bool   // the units are ITMOs after the record
}

// Quantity is the number of tonnes the record concerns.
func (r Record) Quantity() int64 { return r.Units.Count() }

// Adjustment is one corresponding adjustment to a Party's emissions
// balance: +Quantity for the first transferring Party at first transfer,
// -Quantity for the using Party when it uses ITMOs towards its NDC
// (2/CMA.3, annex, para. 8(a)-(b), as quoted in docs/sources.md: ITMOs
// first transferred are added "for the calendar year in which the
// mitigation outcomes occurred", used ITMOs subtracted "for the calendar
// year in which the mitigation outcomes are used"; hence the vintage year
// and the year of use).
type Adjustment struct {
	Party    string
	Year     int
	Quantity int64 // signed
	Record   int   // sequence number of the record that caused it
	Units    ledger.Serial
}

type issKey struct {
	registry string
	issuance int64
}

// State is the ITMO state: every unit known to the Article 6 accounting,
// and the records and adjustments produced so far. Use Apply to change it.
type State struct {
	blocks           map[issKey][]Block
	issued           map[string]int64
	firstTransferred map[string]int64
	records          []Record
	adjustments      []Adjustment
	lastDate         string
	decisions        map[string]Decision
}

// Decision is one coordinated-issuance decision as the issuances under it
// state it: its quantity and what each registry issued.
type Decision struct {
	ID            string
	Authorisation string
	Quantity      int64
	Issued        map[string]int64 // registry code -> gross quantity issued
}

// Complete reports whether the registries' issuances add up to the
// decision.
func (d Decision) Complete() bool {
	var n int64
	for _, q := range d.Issued {
		n += q
	}
	return n == d.Quantity
}

// Decisions returns the coordinated-issuance decisions by id; an
// incomplete one is a share not issued yet.
func (st *State) Decisions() map[string]Decision {
	out := make(map[string]Decision, len(st.decisions))
	for id, d := range st.decisions {
		d.Issued = maps.Clone(d.Issued)
		out[id] = d
	}
	return out
}

// NewState returns an empty ITMO state.
func NewState() *State {
	return &State{blocks: map[issKey][]Block{}, issued: map[string]int64{}, firstTransferred: map[string]int64{}, decisions: map[string]Decision{}}
}

// Records returns a copy of the records in order.
func (st *State) Records() []Record { return slices.Clone(st.records) }

// Adjustments returns a copy of the corresponding adjustments in order.
func (st *State) Adjustments() []Adjustment { return slices.Clone(st.adjustments) }

// Blocks returns a copy of all blocks, ordered by registry, issuance, start.
func (st *State) Blocks() []Block {
	keys := make([]issKey, 0, len(st.blocks))
	for k := range st.blocks {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b issKey) int {
		if a.registry != b.registry {
			if a.registry < b.registry {
				return -1
			}
			return 1
		}
		return int(a.issuance - b.issuance)
	})
	var out []Block
	for _, k := range keys {
		out = append(out, st.blocks[k]...)
	}
	return out
}

// change is the outcome of planning an action; committing it cannot fail.
type change struct {
	key         issKey
	blocks      []Block
	records     []Record
	adjustments []Adjustment
	issued      int64
	ftAuth      string
	ft          int64
	date        string
	decision    *Decision
}

// Check runs the Article 6 checks of action a against the authorisation log
// and the ITMO state without changing either. It returns nil or an *Error
// with a stable code.
func Check(cfg Config, log *AuthLog, st *State, a Action) error {
	_, err := plan(cfg, log, st, a)
	return err
}

// Apply checks a and, if it passes, records it: blocks, records and
// corresponding adjustments. A refused action leaves st unchanged.
func (st *State) Apply(cfg Config, log *AuthLog, a Action) ([]Record, error) {
	c, err := plan(cfg, log, st, a)
	if err != nil {
		return nil, err
	}
	st.blocks[c.key] = c.blocks
	st.records = append(st.records, c.records...)
	st.adjustments = append(st.adjustments, c.adjustments...)
	if c.issued > 0 {
		st.issued[a.Authorisation] += c.issued
	}
	if c.ft > 0 {
		st.firstTransferred[c.ftAuth] += c.ft
	}
	st.lastDate = c.date
	if c.decision != nil {
		st.decisions[c.decision.ID] = *c.decision
	}
	return c.records, nil
}

func validUnits(s ledger.Serial) bool {
	return ledger.ValidCode(s.Registry) && ledger.ValidCode(s.UnitType) && ledger.ValidProject(s.Project) &&
		s.Vintage >= 1000 && s.Vintage <= 9999 && s.Issuance >= 1 && s.Start >= 1 && s.End >= s.Start && s.End <= ledger.MaxSerial
}

func plan(cfg Config, log *AuthLog, st *State, a Action) (*change, error) {
	if !validDate(a.Date) {
		return nil, refuse(CodeActionInvalid, "date", "date %q is not YYYY-MM-DD", a.Date)
	}
	if a.Date < st.lastDate {
		return nil, refuse(CodeDateOrder, "date", "action dated %s comes after one dated %s", a.Date, st.lastDate)
	}
	if !validUnits(a.Units) {
		return nil, refuse(CodeActionInvalid, "units", "units %s are not a valid serial block", a.Units)
	}
	// Decision 2/CMA.3, annex, para. 1(e): ITMOs are mitigation from 2021
	// onward (secondary, docs/sources.md).
	if a.Units.Vintage < 2021 {
		return nil, refuse(CodeVintageBefore2021, "units", "vintage %d is before 2021", a.Units.Vintage)
	}
	c := &change{key: issKey{a.Units.Registry, a.Units.Issuance}, date: a.Date}
	next := len(st.records) + 1
	add := func(r Record) int {
		r.Seq = next
		next++
		c.records = append(c.records, r)
		return r.Seq
	}
	if a.Kind == ActionIssue {
		return c, planIssue(cfg, log, st, a, c, add)
	}
	if a.Kind != ActionTransfer && a.Kind != ActionUse && a.Kind != ActionCancel {
		return nil, refuse(CodeActionInvalid, "kind", "unknown action kind %q", a.Kind)
	}
	blocks, lo, hi, err := take(st.blocks[c.key], a.Units)
	if err != nil {
		return nil, err
	}
	b := blocks[lo]
	for _, o := range blocks[lo+1 : hi] {
		o.Units = b.Units
		if o != b {
			return nil, refuse(CodeUnitsMixed, "units", "units %s are in different Article 6 states; act on each part separately", a.Units)
		}
	}
	if b.Status != StatusHeld {
		return nil, refuse(CodeUnitsNotHeld, "units", "units %s are %s", a.Units, b.Status)
	}
	auth, ok := log.Current(b.Authorisation)
	if !ok {
		return nil, refuse(CodeNoAuthorisation, "units", "units %s carry no known authorisation", a.Units)
	}
	ap := cfg.Approaches[auth.Approach]
	already := b.FirstTransfer != 0
	var wouldFirst bool
	var after Block = b
	rec := Record{Date: a.Date, Units: a.Units, Approach: auth.Approach, Authorisation: auth.ID, FirstTransferringParty: auth.Host}
	switch a.Kind {
	case ActionTransfer:
		if a.From != b.Holder {
			return nil, refuse(CodeUnitsNotHeld, "from", "units %s are held by %s, not %s", a.Units, b.Holder, a.From)
		}
		if a.To == a.From || !validParty(a.To) {
			return nil, refuse(CodeActionInvalid, "to", "an international transfer needs another Party, not %q", a.To)
		}
		if _, ok := cfg.Registries[a.To]; !ok {
			return nil, refuse(CodeActionInvalid, "to", "%s has no registry in the corridor", a.To)
		}
		if !already && (!ap.Participant(a.To) || len(auth.AcquiringParties) > 0 && !slices.Contains(auth.AcquiringParties, a.To)) {
			return nil, refuse(CodeScopeAcquirer, "to", "authorisation %s does not cover acquisition by %s", auth.ID, a.To)
		}
		// After the first transfer: no text read limits onward transfers
		// to the approach's Parties (docs/article6.md, "Onward
		// transfers"), but an authorisation that names the Parties
		// authorised to acquire its ITMOs (the AEF's "Authorized
		// Party(ies) ID") binds every later acquirer too; the first
		// transferring Party may always take its ITMOs back.
		if already && len(auth.AcquiringParties) > 0 && a.To != auth.Host && !slices.Contains(auth.AcquiringParties, a.To) {
			return nil, refuse(CodeScopeAcquirer, "to", "authorisation %s names %v as the Parties that may acquire its ITMOs, not %s", auth.ID, auth.AcquiringParties, a.To)
		}
		// NDC authorisations: the first international transfer is the
		// first transfer (2/CMA.3, annex, para. 2(a); cited, secondary:
		// docs/sources.md).
		wouldFirst = !already && auth.Has(PurposeNDC)
		rec.Type, rec.TransferringParty, rec.AcquiringParty = RecordTransfer, a.From, a.To
		after.Holder = a.To
	case ActionUse, ActionCancel:
		if a.Kind == ActionUse {
			if !validPurpose(a.Purpose) || !auth.Has(a.Purpose) {
				return nil, refuse(CodePurposeNotAuth, "purpose", "authorisation %s does not cover use for %q", auth.ID, a.Purpose)
			}
			if a.Purpose == PurposeNDC && a.UsingParty != b.Holder {
				return nil, refuse(CodeEntityNotEntitled, "using_party", "only %s, whose registry holds %s, can use them towards its NDC, not %q", b.Holder, a.Units, a.UsingParty)
			}
			if a.Purpose != PurposeNDC && a.UsingEntity == "" {
				return nil, refuse(CodeEntityNotEntitled, "using_entity", "use for %s needs the using entity", a.Purpose)
			}
			// An entity using on a Party's behalf (e.g. a Singapore taxable
			// facility surrendering ICCs) must be one the authorisation lists,
			// when it lists any.
			if a.UsingEntity != "" && len(auth.Entities) > 0 && !slices.ContainsFunc(auth.Entities, func(e Entity) bool { return e.ID == a.UsingEntity }) {
				return nil, refuse(CodeEntityNotEntitled, "using_entity", "entity %q is not authorised under %s", a.UsingEntity, auth.ID)
			}
			rec.Type, rec.Subtype, rec.Purpose, rec.UsingParty, rec.UsingEntity = RecordUse, string(a.Purpose), a.Purpose, a.UsingParty, a.UsingEntity
			after.Status, after.UsedFor, after.UsedBy = StatusUsed, a.Purpose, cmpOr(a.UsingEntity, a.UsingParty)
		} else {
			rec.Type, rec.Subtype = RecordCancellation, "Voluntary cancellation"
			after.Status = StatusCancelled
		}
		// OIMP and other purposes: the authorisation may define first
		// transfer as use or cancellation (2/CMA.3, annex, para. 2(b);
		// cited, secondary: docs/sources.md); use towards an NDC is never
		// that event.
		wouldFirst = !already && auth.hasOIMPDefinition() && auth.FirstTransferOIMP == FirstAtUseOrCancellation &&
			(a.Kind == ActionCancel || a.Purpose != PurposeNDC)
	}
	if !already && log.Revoked(auth.ID) != "" {
		return nil, refuse(CodeRevoked, "units", "authorisation %s was revoked on %s; units not first-transferred cannot act under it", auth.ID, log.Revoked(auth.ID))
	}
	if a.FirstTransfer && already {
		return nil, refuse(CodeDoubleFirst, "first_transfer", "units %s were first-transferred in record %d", a.Units, b.FirstTransfer)
	}
	if a.FirstTransfer != wouldFirst {
		return nil, refuse(CodeFirstMismatch, "first_transfer", "the sender says first transfer %v; under %s this action is %v", a.FirstTransfer, auth.ID, wouldFirst)
	}
	if wouldFirst && (a.Date < auth.From || a.Date > auth.Until) {
		return nil, refuse(CodeScopeTimeframe, "date", "%s is outside the timeframe %s to %s of %s", a.Date, auth.From, auth.Until, auth.ID)
	}
	rec.Holder, rec.Status = after.Holder, after.Status
	if wouldFirst {
		ft := rec
		ft.Type, ft.Subtype, ft.Purpose, ft.UsingParty, ft.UsingEntity = RecordFirstTransfer, "", "", "", ""
		if a.Kind != ActionTransfer {
			ft.Holder, ft.Status = b.Holder, StatusHeld
		}
		ft.ITMO = true
		seq := add(ft)
		after.FirstTransfer = seq
		c.adjustments = append(c.adjustments, Adjustment{Party: auth.Host, Year: a.Units.Vintage, Quantity: a.Units.Count(), Record: seq, Units: a.Units})
		c.ftAuth, c.ft = auth.ID, a.Units.Count()
		if a.Kind == ActionTransfer {
			// The first international transfer is itself the AEF row.
			after.Holder = a.To
		}
	}
	rec.ITMO = after.FirstTransfer != 0
	if !(wouldFirst && a.Kind == ActionTransfer) {
		seq := add(rec)
		if a.Kind == ActionUse && a.Purpose == PurposeNDC && rec.ITMO {
			c.adjustments = append(c.adjustments, Adjustment{Party: a.UsingParty, Year: year(a.Date), Quantity: -a.Units.Count(), Record: seq, Units: a.Units})
		}
	}
	for i := lo; i < hi; i++ {
		u := blocks[i].Units
		blocks[i] = after
		blocks[i].Units = u
	}
	c.blocks = merge(blocks)
	return c, nil
}

func planIssue(cfg Config, log *AuthLog, st *State, a Action, c *change, add func(Record) int) error {
	auth, ok := log.Current(a.Authorisation)
	if !ok {
		return refuse(CodeNoAuthorisation, "authorisation", "authorisation %q does not exist", a.Authorisation)
	}
	if d := log.Revoked(auth.ID); d != "" {
		return refuse(CodeRevoked, "authorisation", "authorisation %s was revoked on %s", auth.ID, d)
	}
	if a.StatedHost != "" && a.StatedHost != auth.Host || a.StatedApproach != "" && a.StatedApproach != auth.Approach {
		return refuse(CodeAuthMismatch, "partner", "the share states host %s under %s; authorisation %s is %s's under %s", a.StatedHost, a.StatedApproach, auth.ID, auth.Host, auth.Approach)
	}
	ap := cfg.Approaches[auth.Approach]
	holder := auth.Host
	if a.IssueTo != "" && a.IssueTo != auth.Host {
		if !ap.CoordinatedIssuance || !ap.Participant(a.IssueTo) {
			return refuse(CodeScopeAcquirer, "issue_to", "%s does not provide coordinated issuance to %s", ap.ID, a.IssueTo)
		}
		if len(auth.AcquiringParties) > 0 && !slices.Contains(auth.AcquiringParties, a.IssueTo) {
			return refuse(CodeScopeAcquirer, "issue_to", "authorisation %s names %v as the Parties that may acquire its ITMOs, not %s", auth.ID, auth.AcquiringParties, a.IssueTo)
		}
		holder = a.IssueTo
	}
	if a.Decision != "" || a.DecisionQuantity != 0 {
		d, err := planDecision(st, ap, auth, a)
		if err != nil {
			return err
		}
		c.decision = d
	}
	if reg, ok := cfg.Registries[holder]; !ok || reg != a.Units.Registry {
		return refuse(CodeActionInvalid, "units", "units must be issued in %s's registry %q, not %q", holder, cfg.Registries[holder], a.Units.Registry)
	}
	if a.Units.Vintage < auth.VintageFrom || a.Units.Vintage > auth.VintageTo {
		return refuse(CodeScopeVintage, "units", "vintage %d is outside %d-%d of %s", a.Units.Vintage, auth.VintageFrom, auth.VintageTo, auth.ID)
	}
	if !slices.Contains(auth.Activities, a.Units.Project) {
		return refuse(CodeScopeActivity, "units", "project %s is not an activity of %s", a.Units.Project, auth.ID)
	}
	if a.Date < auth.From || a.Date > auth.Until {
		return refuse(CodeScopeTimeframe, "date", "%s is outside the timeframe %s to %s of %s", a.Date, auth.From, auth.Until, auth.ID)
	}
	gross := a.Units.Count()
	if st.issued[auth.ID]+gross > auth.Quantity {
		return refuse(CodeScopeQuantity, "units", "issuing %d t would bring %s to %d t, above its %d t", gross, auth.ID, st.issued[auth.ID]+gross, auth.Quantity)
	}
	if a.Units.Start != 1 {
		return refuse(CodeActionInvalid, "units", "an issuance starts at unit 1")
	}
	if _, exists := st.blocks[c.key]; exists {
		return refuse(CodeUnitsExist, "units", "issuance %d of registry %s is already recorded", a.Units.Issuance, a.Units.Registry)
	}
	frac := a.InvestorFraction
	if a.Investor == "" {
		frac = decimal.Zero
	} else if !validParty(a.Investor) {
		return refuse(CodeActionInvalid, "investor", "investor %q is not a Party code", a.Investor)
	}
	if omge, sop := Deductions(ap, gross); omge+sop > gross {
		return refuse(CodeTooSmall, "units", "%d t cannot carry the %d t OMGE and %d t share of proceeds %s requires", gross, omge, sop, ap.ID)
	}
	sh, err := Split(ap, gross, frac)
	if err != nil {
		return refuse(CodeActionInvalid, "investor_fraction", "%v", err)
	}
	if a.OMGE < sh.OMGE || a.ShareOfProceeds < sh.ShareOfProceeds {
		return refuse(CodeMissingDeduction, "omge", "%s requires %d t OMGE and %d t share of proceeds from %d t; the issuance declares %d and %d", ap.ID, sh.OMGE, sh.ShareOfProceeds, gross, a.OMGE, a.ShareOfProceeds)
	}
	if a.OMGE > sh.OMGE || a.ShareOfProceeds > sh.ShareOfProceeds {
		return refuse(CodeExcessDeduction, "omge", "%s requires exactly %d t OMGE and %d t share of proceeds from %d t; the issuance declares %d and %d", ap.ID, sh.OMGE, sh.ShareOfProceeds, gross, a.OMGE, a.ShareOfProceeds)
	}
	base := Block{Authorisation: auth.ID, Approach: ap.ID, Host: auth.Host, Holder: holder, Status: StatusHeld}
	part := func(from, n int64, kind ShareKind) Block {
		b := base
		b.Units = a.Units
		b.Units.Start, b.Units.End = from, from+n-1
		b.Share = kind
		if kind == ShareInvestor {
			b.Beneficiary = a.Investor
		}
		return b
	}
	rec := func(t RecordType, sub string, b Block) Record {
		return Record{Date: a.Date, Type: t, Subtype: sub, Units: b.Units, Approach: ap.ID, Authorisation: auth.ID,
			FirstTransferringParty: auth.Host, Holder: b.Holder, Status: b.Status}
	}
	ca := func(seq int, u ledger.Serial) {
		c.adjustments = append(c.adjustments, Adjustment{Party: auth.Host, Year: u.Vintage, Quantity: u.Count(), Record: seq, Units: u})
		c.ft += u.Count()
	}
	c.ftAuth, c.issued = auth.ID, gross
	var blocks []Block
	next := int64(1)
	if sh.OMGE > 0 {
		// The OMGE cancellation delivers its mitigation only if no Party
		// counts it: the host adjusts for it like a first transfer and
		// nobody ever uses it (our reading, stated in docs/article6.md).
		b := part(next, sh.OMGE, ShareOMGE)
		ft := rec(RecordFirstTransfer, "", b)
		ft.ITMO = true
		seq := add(ft)
		ca(seq, b.Units)
		b.Status, b.FirstTransfer = StatusCancelled, seq
		r := rec(RecordCancellation, "Mandatory cancellation to deliver OMGE", b)
		r.ITMO = true
		add(r)
		blocks = append(blocks, b)
		next += sh.OMGE
	}
	netStart := next
	for _, p := range []struct {
		n    int64
		kind ShareKind
	}{{sh.ShareOfProceeds, ShareSOP}, {sh.Host, ShareHost}, {sh.Investor, ShareInvestor}} {
		if p.n > 0 {
			blocks = append(blocks, part(next, p.n, p.kind))
			next += p.n
		}
	}
	if next > netStart {
		net := a.Units
		net.Start = netStart
		iss := rec(RecordIssuance, "", Block{Units: net, Holder: holder, Status: StatusHeld})
		add(iss)
		// First transfer at issuance: OIMP authorisations that define it as
		// authorisation or issuance (2/CMA.3, annex, para. 2(b), cited;
		// units issued under an authorisation given earlier are first-
		// transferred when they come into being), and NDC units issued
		// straight into another Party's registry by coordinated issuance,
		// which is their first international transfer.
		oimpAtIssue := auth.hasOIMPDefinition() && (auth.FirstTransferOIMP == FirstAtIssuance || auth.FirstTransferOIMP == FirstAtAuthorisation)
		coordinated := holder != auth.Host && auth.Has(PurposeNDC)
		if oimpAtIssue || coordinated {
			ft := iss
			ft.Type, ft.ITMO = RecordFirstTransfer, true
			if coordinated {
				ft.TransferringParty, ft.AcquiringParty = auth.Host, holder
			}
			seq := add(ft)
			ca(seq, net)
			for i := range blocks {
				if blocks[i].Share != ShareOMGE {
					blocks[i].FirstTransfer = seq
				}
			}
		}
	}
	c.blocks = blocks
	return nil
}

// planDecision checks an issuance under a coordinated-issuance decision:
// one decision fixes the quantity and each registry issues its share
// once (the JCM: the Joint Committee decides, each side issues in its own
// registry [page Common Specifications of the JCM Registry]); the shares
// never exceed the decision, and every issuance states the same decision.
func planDecision(st *State, ap Approach, auth Authorisation, a Action) (*Decision, error) {
	if !ap.CoordinatedIssuance {
		return nil, refuse(CodeDecisionMismatch, "decision", "%s has no coordinated issuance; an issuance under it names no decision", ap.ID)
	}
	if a.Decision == "" || a.DecisionQuantity < 1 {
		return nil, refuse(CodeDecisionMismatch, "decision", "a coordinated issuance names its decision and the decision's quantity")
	}
	d, seen := st.decisions[a.Decision]
	if !seen {
		d = Decision{ID: a.Decision, Authorisation: auth.ID, Quantity: a.DecisionQuantity}
	}
	if d.Authorisation != auth.ID || d.Quantity != a.DecisionQuantity {
		return nil, refuse(CodeDecisionMismatch, "decision", "decision %s is %d t under %s, this issuance states %d t under %s", d.ID, d.Quantity, d.Authorisation, a.DecisionQuantity, auth.ID)
	}
	if _, twice := d.Issued[a.Units.Registry]; twice {
		return nil, refuse(CodeDecisionTwice, "decision", "registry %s already issued its share of decision %s", a.Units.Registry, d.ID)
	}
	var sum int64
	for _, q := range d.Issued {
		sum += q
	}
	if sum+a.Units.Count() > d.Quantity {
		return nil, refuse(CodeDecisionExceeded, "units", "issuing %d t would bring decision %s to %d t, above its %d t", a.Units.Count(), d.ID, sum+a.Units.Count(), d.Quantity)
	}
	d.Issued = maps.Clone(d.Issued)
	if d.Issued == nil {
		d.Issued = map[string]int64{}
	}
	d.Issued[a.Units.Registry] = a.Units.Count()
	return &d, nil
}

// take splits the blocks of one issuance so that s covers whole blocks
// lo..hi-1, without modifying the input.
func take(in []Block, s ledger.Serial) (out []Block, lo, hi int, err error) {
	if len(in) == 0 || in[len(in)-1].Units.End < s.End {
		return nil, 0, 0, refuse(CodeUnitsUnknown, "units", "units %s are not all known to the Article 6 accounting", s)
	}
	if in[0].Units.UnitType != s.UnitType || in[0].Units.Project != s.Project || in[0].Units.Vintage != s.Vintage {
		return nil, 0, 0, refuse(CodeUnitsUnknown, "units", "units %s do not match issuance %s", s, in[0].Units)
	}
	out = make([]Block, 0, len(in)+2)
	lo, hi = -1, -1
	for _, b := range in {
		if b.Units.End < s.Start || b.Units.Start > s.End {
			out = append(out, b)
			continue
		}
		if b.Units.Start < s.Start {
			left := b
			left.Units.End = s.Start - 1
			out = append(out, left)
			b.Units.Start = s.Start
		}
		var right *Block
		if b.Units.End > s.End {
			r := b
			r.Units.Start = s.End + 1
			right = &r
			b.Units.End = s.End
		}
		if lo < 0 {
			lo = len(out)
		}
		out = append(out, b)
		hi = len(out)
		if right != nil {
			out = append(out, *right)
		}
	}
	return out, lo, hi, nil
}

// merge joins adjacent blocks in identical states.
func merge(in []Block) []Block {
	out := in[:0:0]
	for _, b := range in {
		if n := len(out); n > 0 {
			p := out[n-1]
			pu := p.Units
			p.Units = b.Units
			if p == b && pu.End+1 == b.Units.Start {
				out[n-1].Units.End = b.Units.End
				continue
			}
		}
		out = append(out, b)
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func year(date string) int {
	y, _ := strconv.Atoi(date[:4])
	return y
}
