package registry

import (
	"context"
	"encoding/json"
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
	Organisation string    `json:"organisation"`
	Balances     []Balance `json:"balances"`
}

// IssuanceView is an issuance with its units counted by state.
type IssuanceView struct {
	ledger.Issuance
	Serial  string                 `json:"serial"`
	ByState map[ledger.State]int64 `json:"by_state"`
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
	t := Totals{Registry: n.code, Organisations: len(n.st.orgs), Accounts: len(n.st.accounts), Issuances: len(n.st.issuances),
		ByState: map[ledger.State]int64{}, ByUnitType: map[string]int64{}, JournalSeq: n.st.head.Seq, JournalHash: n.st.head.Hash}
	for _, s := range ledger.States {
		t.ByState[s] = 0
	}
	for id, x := range n.st.issuances {
		t.Issued += x.Quantity
		t.ByUnitType[x.UnitType] += x.Quantity
		for s, i := range stateIndex {
			t.ByState[s] += n.st.byState[id][i]
		}
	}
	return t
}

// Organisations lists the organisations.
func (n *Node) Organisations() []ledger.Organisation {
	n = n.reader()
	out := make([]ledger.Organisation, 0, len(n.st.orgs))
	for _, o := range n.st.orgs {
		out = append(out, *o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Accounts lists accounts, all of them or one organisation's (orgID ≠ 0).
func (n *Node) Accounts(orgID int64) []AccountView {
	n = n.reader()
	out := []AccountView{}
	for _, a := range n.st.accounts {
		if orgID == 0 || a.OrgID == orgID {
			out = append(out, n.accountView(a))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Account returns one account with its balances. The cost is constant in
// the number of blocks: balances are kept as counters.
func (n *Node) Account(id int64) (AccountView, error) {
	n = n.reader()
	a := n.st.accounts[id]
	if a == nil {
		return AccountView{}, ledger.Errorf(ledger.KindNotExist, ledger.CodeAccountNotFound, 1002, "account_id", "account %d does not exist", id)
	}
	return n.accountView(a), nil
}

func (n *Node) accountView(a *ledger.Account) AccountView {
	v := AccountView{Account: *a, Balances: []Balance{}}
	if o := n.st.orgs[a.OrgID]; o != nil {
		v.Organisation = o.Name
	}
	for _, ut := range n.unitTypes() {
		for _, s := range ledger.States {
			if q := n.st.bal[balKey{a.ID, ut, s}]; q != 0 {
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
func (n *Node) Holdings(id int64, offset, limit int) ([]BlockView, error) {
	n = n.reader()
	if n.st.accounts[id] == nil {
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
	if h := n.st.held[id]; h != nil {
		h.Ascend(func(k holdKey) bool {
			b, _ := n.st.blocks[k.Issuance].Get(ledger.Block{Start: k.Start})
			more = add(b)
			return more
		})
	}
	var seqs []int64
	for seq, p := range n.st.pending {
		if p.From == id {
			seqs = append(seqs, seq)
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for _, seq := range seqs {
		for _, ref := range n.st.pending[seq].Blocks {
			if !more {
				return out, nil
			}
			b, _ := n.st.blocks[ref.Issuance].Get(ledger.Block{Start: ref.Start})
			more = add(b)
		}
	}
	return out, nil
}

// Issuances lists the issuances.
func (n *Node) Issuances() []IssuanceView {
	n = n.reader()
	out := make([]IssuanceView, 0, len(n.st.issuances))
	for _, x := range n.st.issuances {
		out = append(out, n.issuanceView(x))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Issuance returns one issuance.
func (n *Node) Issuance(id int64) (IssuanceView, error) {
	n = n.reader()
	x := n.st.issuances[id]
	if x == nil {
		return IssuanceView{}, ledger.Errorf(ledger.KindNotExist, ledger.CodeNotFound, 0, "issuance_id", "issuance %d does not exist", id)
	}
	return n.issuanceView(x), nil
}

func (n *Node) issuanceView(x *ledger.Issuance) IssuanceView {
	v := IssuanceView{Issuance: *x, ByState: map[ledger.State]int64{}}
	v.Serial = ledger.Serial{Registry: n.code, UnitType: x.UnitType, Project: x.Project, Vintage: x.Vintage, Issuance: x.ID, Start: 1, End: x.Quantity}.String()
	for s, i := range stateIndex {
		v.ByState[s] = n.st.byState[x.ID][i]
	}
	return v
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
}

// HistoryItem is one event in a serial's life.
type HistoryItem struct {
	Seq   int64     `json:"seq"`
	At    time.Time `json:"at"`
	Kind  string    `json:"kind"`
	Start int64     `json:"start"`
	End   int64     `json:"end"`
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

// Lookup finds a serial (block or single unit) and its history. With
// public set, account numbers and request details are left out.
func (n *Node) Lookup(ctx context.Context, text string, public bool) (SerialInfo, error) {
	s, err := ledger.ParseSerial(text)
	if err != nil {
		return SerialInfo{}, err
	}
	if s.Registry != n.code {
		return SerialInfo{}, ledger.Errorf(ledger.KindNotExist, ledger.CodeSerialInvalid, 0, "serial", "serial %s belongs to registry %s, not %s", text, s.Registry, n.code)
	}
	n = n.reader()
	x := n.st.issuances[s.Issuance]
	if x == nil || x.UnitType != s.UnitType || x.Project != s.Project || x.Vintage != s.Vintage || s.End > x.Quantity {
		return SerialInfo{}, ledger.Errorf(ledger.KindNotExist, ledger.CodeNotFound, 0, "serial", "serial %s names units that were never issued here", text)
	}
	info := SerialInfo{Serial: s.String(), Issuance: n.issuanceView(x), Blocks: []BlockView{}, History: []HistoryItem{}}
	if public {
		info.Issuance.AccountID = 0
	}
	n.st.blocks[s.Issuance].AscendGreaterOrEqual(ledger.Block{Start: n.blockStart(s.Issuance, s.Start)}, func(b ledger.Block) bool {
		if b.Start > s.End || len(info.Blocks) >= maxLookupBlocks {
			return false
		}
		v := n.view(b)
		if public {
			v.AccountID, v.Pending = 0, 0
		}
		info.Blocks = append(info.Blocks, v)
		return true
	})
	ms, es, err := n.db.RangeHistory(ctx, s.Issuance, s.Start, s.End, maxLookupHistory+1)
	if err != nil {
		return SerialInfo{}, err
	}
	if len(ms) > maxLookupHistory {
		ms, info.HistoryTruncated = ms[:maxLookupHistory], true
	}
	for i, m := range ms {
		h := HistoryItem{Seq: m.Seq, At: es[i].At, Kind: es[i].Kind, Start: m.Start, End: m.End,
			TouchedStart: max(m.Start, s.Start), TouchedEnd: min(m.End, s.End),
			FromAccount: m.FromAccount, ToAccount: m.ToAccount, FromState: m.FromState, ToState: m.ToState}
		if public {
			h.FromAccount, h.ToAccount = 0, 0
			if h.Kind == (Retire{}).Kind() {
				h.Details = retirementClaim(es[i].Body)
			}
		} else {
			h.Details = requestOf(es[i].Body)
		}
		info.History = append(info.History, h)
	}
	return info, nil
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

// Transactions lists journal entries after seq (of one kind if kind ≠ "").
func (n *Node) Transactions(ctx context.Context, after int64, kind string, limit int) ([]Transaction, error) {
	if limit <= 0 {
		return []Transaction{}, nil // the store reads no limit as "all"
	}
	es, err := n.db.Entries(ctx, store.EntryFilter{AfterSeq: after, Kind: kind, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]Transaction, 0, len(es))
	for _, e := range es {
		var b entryBody
		if err := json.Unmarshal([]byte(e.Body), &b); err != nil {
			return nil, err
		}
		out = append(out, Transaction{Seq: e.Seq, At: e.At, Kind: e.Kind, Actor: e.Actor, Request: b.Request, Result: b.Result, Hash: e.Hash})
	}
	return out, nil
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

// Retirements lists retirements after seq, without account numbers.
func (n *Node) Retirements(ctx context.Context, after int64, limit int) ([]Retirement, error) {
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
		for i := range r.Blocks {
			r.Blocks[i].AccountID = 0
		}
		out = append(out, r)
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
