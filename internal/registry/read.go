package registry

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"sort"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
)

// Balance is a quantity of one unit type in one state.
type Balance struct {
	UnitType string       `json:"unit_type"`
	State    ledger.State `json:"state"`
	Quantity int64        `json:"quantity"`
}

// AccountView is an account with its balances.
type AccountView struct {
	ledger.Account
	Organisation string `json:"organisation"`
	// OrganisationCountry is the owner's country, which a holder, who may
	// not list organisations, needs for its exports.
	OrganisationCountry string    `json:"organisation_country,omitempty"`
	Balances            []Balance `json:"balances"`
	// CarbonTax is a Singapore taxable facility's ICC position per
	// emissions year with taxable emissions recorded (icc.go); absent
	// otherwise.
	CarbonTax []CarbonTaxYear `json:"carbon_tax,omitempty"`
}

// IssuanceView is an issuance with its units counted by state.
type IssuanceView struct {
	ledger.Issuance
	Serial  string                 `json:"serial"`
	ByState map[ledger.State]int64 `json:"by_state"`
	// Origin is set on the local record of another registry's issuance
	// (units imported here keep their origin serials). For such a record
	// NotHere counts the serials that are not in this registry (in state
	// exported here: never arrived, or moved on), and ByState counts only
	// the units here, as the registry's totals do. Its created_at is when
	// the first import recorded it here, not when the origin issued it
	// (the origin's own lookup has that).
	Origin  *Origin `json:"origin,omitempty"`
	NotHere int64   `json:"not_here,omitempty"`
}

// Here is the quantity of the issuance that is or was in this registry:
// all of it for a local issuance; for another registry's issuance the
// serials that came here (Quantity is then the origin's quantity).
func (v IssuanceView) Here() int64 {
	if v.Origin == nil {
		return v.Quantity
	}
	// NotHere counts the serials sent on too; they came here.
	return v.Quantity - v.NotHere + v.ByState[ledger.Exported]
}

// Totals are the registry's headline numbers.
type Totals struct {
	Registry      string                 `json:"registry"`
	Organisations int                    `json:"organisations"`
	Accounts      int                    `json:"accounts"`
	Issuances     int                    `json:"issuances"`
	Issued        int64                  `json:"issued"`
	ByState       map[ledger.State]int64 `json:"by_state"`
	ByUnitType    map[string]int64       `json:"issued_by_unit_type"`
	JournalSeq    int64                  `json:"journal_seq"`
	JournalHash   string                 `json:"journal_hash"`
}

// Totals returns the registry's totals as of the last commit.
func (n *Node) Totals() Totals {
	n = n.reader()
	t := Totals{Registry: n.code, Organisations: n.st.orgs.Len(), Accounts: n.st.accounts.Len(), Issuances: n.st.issuances.Len(),
		ByState: map[ledger.State]int64{}, ByUnitType: map[string]int64{}, JournalSeq: n.st.head.Seq, JournalHash: n.st.head.Hash}
	for _, s := range ledger.States {
		t.ByState[s] = 0
	}
	for id, x := range n.st.issuances.All() {
		if n.origin(id).Registry != n.code {
			// A foreign issuance's record (crossborder.go) was not issued
			// here; only the units that came here count, those sent on
			// included (exported from an account of this registry).
			for s, i := range stateIndex {
				if s != ledger.Exported {
					t.ByState[s] += n.st.byState.Get(id)[i]
				}
			}
			t.ByState[ledger.Exported] += n.sentOn(id)
			continue
		}
		t.Issued += x.Quantity
		t.ByUnitType[x.UnitType] += x.Quantity
		for s, i := range stateIndex {
			t.ByState[s] += n.st.byState.Get(id)[i]
		}
	}
	return t
}

// Visibility, decided here once for the API and the web: anonymous callers
// and holders see no account numbers but their own (holders); holders see
// only their own organisation's accounts; administrators and auditors see
// everything. A viewer is the Actor reading; Anonymous reads without a token.

// Anonymous is the viewer of a read made without a token.
var Anonymous = Actor{}

// Operator is a viewer that sees everything, for the process's own reads
// (benchmarks, tools, tests): it reads as an auditor.
var Operator = Actor{Role: ledger.RoleAuditor}

// seesAll reports whether v may see every account and journal entry.
func (n *Node) seesAll(v Actor) bool {
	return v.Role == ledger.RoleAdmin || v.Role == ledger.RoleAuditor
}

// seesAccount reports whether v may see account id's number and contents.
func (n *Node) seesAccount(v Actor, id int64) bool {
	if n.seesAll(v) {
		return true
	}
	a := n.st.accounts.Get(id)
	return a != nil && v.Role == ledger.RoleHolder && a.OrgID == v.OrgID
}

// viewFor is b as v may see it: without its account and reservation
// unless v may see the account.
func (n *Node) viewFor(v Actor, b ledger.Block) BlockView {
	bv := n.view(b)
	if !n.seesAccount(v, b.Account) {
		bv.AccountID, bv.Pending = 0, 0
	}
	return bv
}

// needToken is the error of a read that anonymous callers may not make.
func needToken() error {
	return ledger.Errorf(ledger.KindPermission, "unauthenticated", 0, "", "this read needs an API token")
}

// notPermitted is the error of a read the viewer's role may not make.
func notPermitted(v Actor) error {
	if v.Role == "" {
		return needToken()
	}
	return forbidden("role %q may not read this", v.Role)
}

// Organisations lists the organisations (administrators and auditors).
func (n *Node) Organisations(v Actor) ([]ledger.Organisation, error) {
	if !n.seesAll(v) {
		return nil, notPermitted(v)
	}
	n = n.reader()
	out := make([]ledger.Organisation, 0, n.st.orgs.Len())
	for _, o := range n.st.orgs.All() {
		out = append(out, *o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Accounts lists the accounts v may see: all of them for administrators
// and auditors, its organisation's for a holder.
func (n *Node) Accounts(v Actor) ([]AccountView, error) {
	if !n.seesAll(v) && v.Role != ledger.RoleHolder {
		return nil, notPermitted(v)
	}
	n = n.reader()
	out := []AccountView{}
	for _, a := range n.st.accounts.All() {
		if n.seesAccount(v, a.ID) {
			out = append(out, n.accountView(a))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Account returns one account with its balances. The cost is constant in
// the number of blocks: balances are kept as counters. An account v may
// not see is reported as not existing, so ids cannot be probed.
func (n *Node) Account(v Actor, id int64) (AccountView, error) {
	if !n.seesAll(v) && v.Role != ledger.RoleHolder {
		return AccountView{}, notPermitted(v)
	}
	n = n.reader()
	a := n.st.accounts.Get(id)
	if a == nil || !n.seesAccount(v, id) {
		return AccountView{}, ledger.Errorf(ledger.KindNotExist, ledger.CodeAccountNotFound, 1002, "account_id", "account %d does not exist", id)
	}
	return n.accountView(a), nil
}

func (n *Node) accountView(a *ledger.Account) AccountView {
	v := AccountView{Account: *a, Balances: []Balance{}, CarbonTax: n.st.carbonTax(a.ID)}
	if o := n.st.orgs.Get(a.OrgID); o != nil {
		v.Organisation, v.OrganisationCountry = o.Name, o.Country
	}
	for _, ut := range n.unitTypes() {
		for _, s := range ledger.States {
			if q := n.st.bal.Get(balKey{a.ID, ut, s}); q != 0 {
				v.Balances = append(v.Balances, Balance{UnitType: ut, State: s, Quantity: q})
			}
		}
	}
	return v
}

// unitTypes lists the unit types issued here, sorted.
func (n *Node) unitTypes() []string { return n.st.unitTypes }

// Holdings lists an account's held blocks (oldest vintage, issuance and
// serial first) then its reserved blocks (by reservation), skipping the
// first offset and returning at most limit. The order is stable while the
// account does not change, so offset pages through it.
func (n *Node) Holdings(v Actor, id int64, offset, limit int) ([]BlockView, error) {
	if !n.seesAll(v) && v.Role != ledger.RoleHolder {
		return nil, notPermitted(v)
	}
	n = n.reader()
	if n.st.accounts.Get(id) == nil || !n.seesAccount(v, id) {
		return nil, ledger.Errorf(ledger.KindNotExist, ledger.CodeAccountNotFound, 1002, "account_id", "account %d does not exist", id)
	}
	out := []BlockView{}
	if limit <= 0 {
		return out, nil
	}
	skip := offset
	add := func(b ledger.Block) bool {
		if skip > 0 {
			skip--
			return true
		}
		out = append(out, n.view(b))
		return len(out) < limit
	}
	more := true
	if h := n.st.held.Get(id); h != nil {
		h.Ascend(func(k holdKey) bool {
			b, _ := n.st.blocks.Get(k.Issuance).Get(ledger.Block{Start: k.Start})
			more = add(b)
			return more
		})
	}
	var seqs []int64
	for seq, p := range n.st.pending.All() {
		if p.From == id {
			seqs = append(seqs, seq)
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for _, seq := range seqs {
		for _, ref := range n.st.pending.Get(seq).Blocks {
			if !more {
				return out, nil
			}
			b, _ := n.st.blocks.Get(ref.Issuance).Get(ledger.Block{Start: ref.Start})
			more = add(b)
		}
	}
	return out, nil
}

// Issuances lists the issuances (public; the issuing account only for a
// viewer who may see it).
func (n *Node) Issuances(v Actor) []IssuanceView {
	n = n.reader()
	out := make([]IssuanceView, 0, n.st.issuances.Len())
	for _, x := range n.st.issuances.All() {
		out = append(out, n.issuanceViewFor(v, x))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Issuance returns one issuance (public, as Issuances).
func (n *Node) Issuance(v Actor, id int64) (IssuanceView, error) {
	n = n.reader()
	x := n.st.issuances.Get(id)
	if x == nil {
		return IssuanceView{}, ledger.Errorf(ledger.KindNotExist, ledger.CodeNotFound, 0, "issuance_id", "issuance %d does not exist", id)
	}
	return n.issuanceViewFor(v, x), nil
}

func (n *Node) issuanceViewFor(v Actor, x *ledger.Issuance) IssuanceView {
	iv := n.issuanceView(x)
	if !n.seesAccount(v, x.AccountID) {
		iv.AccountID = 0
	}
	return iv
}

func (n *Node) issuanceView(x *ledger.Issuance) IssuanceView {
	v := IssuanceView{Issuance: *x, ByState: map[ledger.State]int64{}}
	v.Serial = n.serialOf(x, 1, x.Quantity).String()
	for s, i := range stateIndex {
		v.ByState[s] = n.st.byState.Get(x.ID)[i]
	}
	if o := n.origin(x.ID); o.Registry != n.code {
		v.Origin = &o
		sent := n.sentOn(x.ID)
		v.NotHere, v.ByState[ledger.Exported] = v.ByState[ledger.Exported], sent
	}
	return v
}

// sentOn counts the serials of foreign issuance id that came here and left
// again: exported from an account of this registry. Serials that never
// arrived are exported in the corridor account (importUnits).
func (n *Node) sentOn(id int64) int64 {
	var q int64
	n.st.blocks.Get(id).Ascend(func(b ledger.Block) bool {
		if b.State == ledger.Exported && b.Account != n.st.origins.corridor {
			q += b.Count()
		}
		return true
	})
	return q
}

// SerialInfo is what a serial lookup returns: the issuance, the blocks that
// currently hold the range, and every event that touched any serial of it.
type SerialInfo struct {
	Serial   string       `json:"serial"`
	Issuance IssuanceView `json:"issuance"`
	Blocks   []BlockView  `json:"blocks"`
	// History lists the movements that touched the range, oldest first;
	// HistoryTruncated says it stopped at maxLookupHistory.
	History          []HistoryItem `json:"history"`
	HistoryTruncated bool          `json:"history_truncated,omitempty"`
	// ITMOs are the parts of the range that arrived here as ITMOs, with
	// their Article 6 identifiers (from the imports that brought them).
	ITMOs []ITMORange `json:"itmos,omitempty"`
	// Frozen are the active freezes meeting the range: a frozen block
	// keeps its state (held, reserved) but cannot move until an
	// administrator unfreezes it.
	Frozen []SerialFreeze `json:"frozen,omitempty"`
}

// SerialFreeze is an active freeze of part of a looked-up range.
type SerialFreeze struct {
	// Freeze is the freeze's journal sequence number: the id the freezes
	// list, the reconciliation's finding and POST …/freezes/{id}/unfreeze
	// use.
	Freeze int64 `json:"freeze"`
	// Start..End is the frozen part of the range.
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	// Code and Reconciliation are the finding's code and the hub's id of
	// the reconciliation that found it.
	Code           string `json:"code"`
	Reconciliation string `json:"reconciliation,omitempty"`
}

// HistoryItem is one event in a serial's life.
type HistoryItem struct {
	// Registry is the registry whose journal has the event (Seq is in it).
	Registry string    `json:"registry"`
	Seq      int64     `json:"seq"`
	At       time.Time `json:"at"`
	Kind     string    `json:"kind"`
	Start    int64     `json:"start"`
	End      int64     `json:"end"`
	// TouchedStart..TouchedEnd is the part of the looked-up range this
	// movement touched (Start..End may reach beyond it).
	TouchedStart int64           `json:"touched_start"`
	TouchedEnd   int64           `json:"touched_end"`
	FromAccount  int64           `json:"from_account,omitempty"`
	ToAccount    int64           `json:"to_account,omitempty"`
	FromState    ledger.State    `json:"from_state"`
	ToState      ledger.State    `json:"to_state"`
	Details      json.RawMessage `json:"details,omitempty"`
}

// maxLookupBlocks and maxLookupHistory bound what a lookup lists.
const (
	maxLookupBlocks  = 100
	maxLookupHistory = 1000
)

// Lookup finds a serial (block or single unit) and its history (public).
// Account numbers appear only where v may see the account; request
// details only for administrators and auditors (others see a retirement's
// public claim).
func (n *Node) Lookup(ctx context.Context, v Actor, text string) (SerialInfo, error) {
	s, err := ledger.ParseSerial(text)
	if err != nil {
		return SerialInfo{}, err
	}
	n = n.reader()
	asked := s
	if s = n.localSerial(s); s.Registry != n.code {
		return SerialInfo{}, ledger.Errorf(ledger.KindNotExist, ledger.CodeSerialInvalid, 0, "serial", "serial %s belongs to registry %s, not %s", text, s.Registry, n.code)
	}
	x := n.st.issuances.Get(s.Issuance)
	if x == nil || x.UnitType != s.UnitType || x.Project != s.Project || x.Vintage != s.Vintage || s.End > x.Quantity {
		return SerialInfo{}, ledger.Errorf(ledger.KindNotExist, ledger.CodeNotFound, 0, "serial", "serial %s names units that were never issued here", text)
	}
	info := SerialInfo{Serial: asked.String(), Issuance: n.issuanceViewFor(v, x), Blocks: []BlockView{}, History: []HistoryItem{}}
	foreign := info.Issuance.Origin != nil
	n.st.blocks.Get(s.Issuance).AscendGreaterOrEqual(ledger.Block{Start: n.blockStart(s.Issuance, s.Start)}, func(b ledger.Block) bool {
		if b.Start > s.End || len(info.Blocks) >= maxLookupBlocks {
			return false
		}
		if foreign && b.State == ledger.Exported {
			// Not in this registry: its origin registry (or wherever it
			// went) holds it; "blocks now here" lists only what is here.
			return true
		}
		info.Blocks = append(info.Blocks, n.viewFor(v, b))
		return true
	})
	if n.st.frozen != nil {
		for _, r := range n.st.frozen.byOrigin[n.origin(s.Issuance)] {
			if r.start <= s.End && s.Start <= r.end {
				f := n.st.frozen.active[r.seq]
				info.Frozen = append(info.Frozen, SerialFreeze{Freeze: r.seq, Start: max(r.start, s.Start), End: min(r.end, s.End), Code: f.Code, Reconciliation: f.Reconciliation})
			}
		}
		slices.SortFunc(info.Frozen, func(a, b SerialFreeze) int {
			return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.Freeze, b.Freeze))
		})
	}
	ms, es, err := n.db.RangeHistory(ctx, s.Issuance, s.Start, s.End, maxLookupHistory+1)
	if err != nil {
		return SerialInfo{}, err
	}
	if len(ms) > maxLookupHistory {
		ms, info.HistoryTruncated = ms[:maxLookupHistory], true
	}
	for i, m := range ms {
		h := HistoryItem{Registry: n.code, Seq: m.Seq, At: es[i].At, Kind: es[i].Kind, Start: m.Start, End: m.End,
			TouchedStart: max(m.Start, s.Start), TouchedEnd: min(m.End, s.End),
			FromAccount: m.FromAccount, ToAccount: m.ToAccount, FromState: m.FromState, ToState: m.ToState}
		switch {
		case n.seesAll(v):
			h.Details = requestOf(es[i].Body)
		case h.Kind == (Retire{}).Kind():
			h.Details = retirementClaim(es[i].Body)
		}
		if !n.seesAccount(v, h.FromAccount) {
			h.FromAccount = 0
		}
		if !n.seesAccount(v, h.ToAccount) {
			h.ToAccount = 0
		}
		if foreign && h.Kind == (Import{}).Kind() {
			info.ITMOs = append(info.ITMOs, itmosOf(es[i].Body, Origin{Registry: info.Issuance.Origin.Registry, Issuance: info.Issuance.Origin.Issuance}, h.TouchedStart, h.TouchedEnd)...)
		}
		info.History = append(info.History, h)
	}
	return info, nil
}

// MergeHistory is one history of a serial range from its lookups in the
// registries that touched it (each SerialInfo from Lookup in one of
// them): every event, naming its registry, in time order. Events at the
// same instant keep the order of infos (give the origin first: its export
// precedes the import) and, within one registry, their journal order.
func MergeHistory(infos ...SerialInfo) []HistoryItem {
	var out []HistoryItem
	for _, in := range infos {
		out = append(out, in.History...)
	}
	slices.SortStableFunc(out, func(a, b HistoryItem) int { return a.At.Compare(b.At) })
	return out
}

func requestOf(body string) json.RawMessage {
	var b entryBody
	if json.Unmarshal([]byte(body), &b) != nil {
		return nil
	}
	return b.Request
}

// retirementClaim is the public part of a retirement: who it was for and why.
func retirementClaim(body string) json.RawMessage {
	var b struct {
		Request Retire `json:"request"`
	}
	if json.Unmarshal([]byte(body), &b) != nil {
		return nil
	}
	out, _ := json.Marshal(map[string]any{"beneficiary": b.Request.Beneficiary, "purpose": b.Request.Purpose, "compliance_year": b.Request.ComplianceYear, "reason": b.Request.Reason})
	return out
}

// Transaction is a journal entry as the API shows it.
type Transaction struct {
	Seq     int64           `json:"seq"`
	At      time.Time       `json:"at"`
	Kind    string          `json:"kind"`
	Actor   string          `json:"actor"`
	Request json.RawMessage `json:"request"`
	Result  Result          `json:"result"`
	Hash    string          `json:"hash"`
}

// Transactions lists journal entries after seq (of one kind if kind ≠ "");
// administrators and auditors only.
func (n *Node) Transactions(ctx context.Context, v Actor, after int64, kind string, limit int) ([]Transaction, error) {
	if !n.seesAll(v) {
		return nil, notPermitted(v)
	}
	if kind != "" && KindOf(kind) == nil {
		return nil, invalid("kind", "unknown transaction kind %q", kind)
	}
	if limit <= 0 {
		return []Transaction{}, nil // the store reads no limit as "all"
	}
	return n.transactions(ctx, store.EntryFilter{AfterSeq: after, Kind: kind, Limit: limit})
}

// Retirement is a public retirement record.
type Retirement struct {
	Seq            int64       `json:"seq"`
	At             time.Time   `json:"at"`
	Quantity       int64       `json:"quantity"`
	Beneficiary    string      `json:"beneficiary"`
	Purpose        string      `json:"purpose"`
	ComplianceYear int         `json:"compliance_year,omitempty"`
	Reason         string      `json:"reason,omitempty"`
	Blocks         []BlockView `json:"blocks"`
}

// Retirements lists retirements after seq (public; account numbers only
// where v may see the account).
func (n *Node) Retirements(ctx context.Context, v Actor, after int64, limit int) ([]Retirement, error) {
	if limit <= 0 {
		return []Retirement{}, nil // the store reads no limit as "all"
	}
	es, err := n.db.Entries(ctx, store.EntryFilter{AfterSeq: after, Kind: (Retire{}).Kind(), Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]Retirement, 0, len(es))
	for _, e := range es {
		var b struct {
			Request Retire `json:"request"`
			Result  Result `json:"result"`
		}
		if err := json.Unmarshal([]byte(e.Body), &b); err != nil {
			return nil, err
		}
		r := Retirement{Seq: e.Seq, At: e.At, Quantity: b.Result.Quantity, Beneficiary: b.Request.Beneficiary, Purpose: b.Request.Purpose,
			ComplianceYear: b.Request.ComplianceYear, Reason: b.Request.Reason, Blocks: b.Result.Blocks}
		out = append(out, r)
	}
	n = n.reader()
	for _, r := range out {
		for i := range r.Blocks {
			if !n.seesAccount(v, r.Blocks[i].AccountID) {
				r.Blocks[i].AccountID = 0
			}
		}
	}
	return out, nil
}

// Authenticate resolves an API token. Valid tokens are remembered (tokens
// are never revoked, so a remembered one stays valid); unknown ones are
// looked up every time, since another process may have just created them.
func (n *Node) Authenticate(ctx context.Context, token string) (Actor, bool, error) {
	hash := TokenHash(token)
	if a, ok := n.tokens.Load(hash); ok {
		return a.(Actor), true, nil
	}
	t, ok, err := n.db.Token(ctx, hash)
	if err != nil || !ok {
		return Actor{}, false, err
	}
	a := Actor{OrgID: t.OrgID, Role: t.Role}
	n.tokens.Store(hash, a)
	return a, true, nil
}

// Queued is the number of transactions waiting for the writer.
func (n *Node) Queued() int { return len(n.reqs) }
