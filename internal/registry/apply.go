package registry

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

func invalid(field, format string, args ...any) error {
	return ledger.Errorf(ledger.KindInvalid, ledger.CodeInvalid, 0, field, format, args...)
}

func forbidden(format string, args ...any) error {
	return ledger.Errorf(ledger.KindPermission, ledger.CodeForbidden, 0, "", format, args...)
}

// apply validates c against the state and, if it passes, applies it to
// memory and appends its journal entry to w. Validation comes first and
// mutation cannot fail, so a rejected call leaves the state untouched.
func (n *Node) apply(w *writeSet, c *call) (Result, error) {
	var res Result
	var err error
	e := ledger.Entry{Seq: n.st.head.Seq + 1, At: n.now().UTC(), Kind: c.req.Kind(), Actor: c.actor.String(), IdemKey: c.key, RequestHash: c.hash}
	res.Seq, res.Kind, res.At = e.Seq, e.Kind, e.At
	k := KindFor(c.req)
	switch {
	case k == nil:
		err = invalid("", "unknown transaction kind %T", c.req)
	case !k.MayCall(c.actor):
		err = forbidden("role %q may not submit a %s transaction", c.actor.Role, k.Name)
	default:
		err = k.apply(n, w, c.actor, c.req, &res)
	}
	if err != nil {
		return Result{}, err
	}
	if err := n.checkTouched(w, e.Seq); err != nil {
		return Result{}, err
	}
	// The token text goes to the caller once, never into the journal.
	token := res.Token
	res.Token = ""
	e.Body = encodeBody(c.req, res)
	e.PrevHash = n.st.head.Hash
	if e.PrevHash == "" {
		e.PrevHash = ledger.GenesisHash
	}
	e.Hash = EntryHash(e)
	n.st.head = e
	w.batch.Entries = append(w.batch.Entries, e)
	res.Token = token
	return res, nil
}

// encodeBody is json.Marshal(entryBody{Request: json.Marshal(req), Result:
// res}) byte for byte (TestEncodeBody), without encoding the request twice:
// Marshal re-reads a RawMessage field to compact and HTML-escape it, which
// Marshal's own output already is.
func encodeBody(req Request, res Result) string {
	reqJSON, err := json.Marshal(req)
	if err != nil {
		reqJSON = []byte("null") // a nil RawMessage
	}
	resJSON, _ := json.Marshal(res)
	b := make([]byte, 0, len(`{"request":,"result":}`)+len(reqJSON)+len(resJSON))
	b = append(b, `{"request":`...)
	b = append(b, reqJSON...)
	b = append(b, `,"result":`...)
	b = append(b, resJSON...)
	b = append(b, '}')
	return string(b)
}

// checkTouched asserts the invariants on every block this entry moved.
func (n *Node) checkTouched(w *writeSet, seq int64) error {
	byIss := map[int64][]int64{}
	for i := len(w.batch.Movements) - 1; i >= 0 && w.batch.Movements[i].Seq == seq; i-- {
		m := w.batch.Movements[i]
		byIss[m.Issuance] = append(byIss[m.Issuance], m.Start)
	}
	for iss, starts := range byIss {
		if err := n.st.checkIssuance(iss, starts); err != nil {
			return err
		}
	}
	return nil
}

func text(field, v string, maxLen int, required bool) error {
	if required && strings.TrimSpace(v) == "" {
		return invalid(field, "%s is required", field)
	}
	// NUL is refused with invalid UTF-8: no store driver keeps either (store.ErrInvalidText).
	if utf8.RuneCountInString(v) > maxLen || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
		return invalid(field, "%s must be valid UTF-8 of at most %d characters, without NUL", field, maxLen)
	}
	return nil
}

func country(field, v string) error {
	if len(v) != 2 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' || v[1] > 'Z' {
		return invalid(field, "%s must be an ISO 3166-1 alpha-2 code such as CN, ID or TH", field)
	}
	return nil
}

func (n *Node) createOrganisation(w *writeSet, a Actor, r CreateOrganisation, res *Result) error {
	if err := text("name", r.Name, 200, true); err != nil {
		return err
	}
	if err := country("country", r.Country); err != nil {
		return err
	}
	o := ledger.Organisation{ID: n.st.nextID.org + 1, Name: r.Name, Country: r.Country, CreatedAt: res.At}
	n.st.addOrg(o)
	w.batch.Orgs = append(w.batch.Orgs, o)
	res.ID = o.ID
	return nil
}

func (n *Node) openAccount(w *writeSet, a Actor, r OpenAccount, res *Result) error {
	if n.st.orgs.Get(r.OrgID) == nil {
		return ledger.Errorf(ledger.KindNotExist, ledger.CodeNotFound, 0, "organisation_id", "organisation %d does not exist", r.OrgID)
	}
	if _, err := ledger.ParseAccountType(string(r.Type)); err != nil {
		return err
	}
	if err := text("name", r.Name, 200, true); err != nil {
		return err
	}
	acc := ledger.Account{ID: n.st.nextID.account + 1, OrgID: r.OrgID, Type: r.Type, Status: ledger.Open, Name: r.Name, CreatedAt: res.At}
	n.st.addAccount(acc)
	w.batch.Accounts = append(w.batch.Accounts, acc)
	res.ID = acc.ID
	return nil
}

func (n *Node) setAccountStatus(w *writeSet, a Actor, r SetAccountStatus, res *Result) error {
	acc := n.st.accounts.Get(r.AccountID)
	if acc == nil {
		return ledger.Errorf(ledger.KindNotExist, ledger.CodeAccountNotFound, 1002, "account_id", "account %d does not exist", r.AccountID)
	}
	if _, err := ledger.ParseAccountStatus(string(r.Status)); err != nil {
		return err
	}
	if acc.Status == ledger.Closed {
		return ledger.Errorf(ledger.KindConflict, ledger.CodeAccountNotOpen, 1004, "account_id", "account %d is closed; a closed account cannot be reopened", acc.ID)
	}
	if r.Status == ledger.Closed && n.accountHolds(acc.ID) {
		return ledger.Errorf(ledger.KindConflict, "account_not_empty", 0, "account_id", "account %d still holds or reserves units; transfer them before closing it", acc.ID)
	}
	// A new value: acc may be shared with the committed state.
	cp := *acc
	cp.Status = r.Status
	n.st.addAccount(cp)
	w.putAccount(cp)
	res.ID = acc.ID
	return nil
}

func (n *Node) accountHolds(id int64) bool {
	for k, v := range n.st.bal.From(balKey{Account: id}) {
		if k.Account != id {
			break
		}
		if (k.State == ledger.Held || k.State == ledger.Reserved) && v > 0 {
			return true
		}
	}
	return false
}

// receivable reports whether units may be issued or transferred into acc.
func receivable(acc *ledger.Account) bool {
	switch acc.Type {
	case ledger.Holding, ledger.NationalHolding, ledger.Buffer:
		return true
	}
	return false
}

func (n *Node) issue(w *writeSet, a Actor, r Issue, res *Result) error {
	switch {
	case !ledger.ValidCode(r.UnitType):
		return invalid("unit_type", "unit type %q must be 2-12 upper-case letters or digits (e.g. CCER, SPEGRK, TVER)", r.UnitType)
	case !ledger.ValidProject(r.Project):
		return invalid("project", "project %q must be 1-64 letters, digits, '.', '_' or single '-'", r.Project)
	case r.Vintage < 1990 || r.Vintage > 2100:
		return invalid("vintage", "vintage %d must be a year between 1990 and 2100", r.Vintage)
	case r.Quantity <= 0 || r.Quantity > ledger.MaxSerial:
		return ledger.Errorf(ledger.KindInvalid, ledger.CodeQuantityInvalid, 3008, "quantity", "quantity must be a positive integer of at most %d, not %d", ledger.MaxSerial, r.Quantity)
	case n.st.issued > math.MaxInt64-r.Quantity:
		// Balances and totals add issuances up; keep every sum in int64.
		return ledger.Errorf(ledger.KindInvalid, ledger.CodeQuantityInvalid, 3011, "quantity", "issuing %d would take the units issued in this registry above %d", r.Quantity, int64(math.MaxInt64))
	}
	for _, f := range []struct{ name, v string }{{"standard", r.Standard}, {"project_name", r.ProjectName}, {"methodology", r.Methodology}} {
		if err := text(f.name, f.v, 200, f.name == "standard"); err != nil {
			return err
		}
	}
	if err := country("host_country", r.HostCountry); err != nil {
		return err
	}
	acc, err := n.account("account_id", r.AccountID, ledger.CodeAcquiringNotFound, 2002)
	if err != nil {
		return err
	}
	if !receivable(acc) {
		return ledger.Errorf(ledger.KindInvalid, ledger.CodeAccountType, 0, "account_id", "units cannot be issued into a %s account", acc.Type)
	}
	x := ledger.Issuance{ID: n.st.nextID.issuance + 1, Standard: r.Standard, UnitType: r.UnitType, Project: r.Project, ProjectName: r.ProjectName,
		Methodology: r.Methodology, HostCountry: r.HostCountry, Vintage: r.Vintage, Quantity: r.Quantity, AccountID: acc.ID, Seq: res.Seq, CreatedAt: res.At}
	n.st.addIssuance(x)
	w.batch.Issuances = append(w.batch.Issuances, x)
	b := ledger.Block{Issuance: x.ID, Start: 1, End: x.Quantity, Account: acc.ID, State: ledger.Held}
	n.st.putBlock(b)
	w.dirty[blockRef{b.Issuance, b.Start}] = struct{}{}
	w.batch.Movements = append(w.batch.Movements, ledger.Movement{Seq: res.Seq, Issuance: x.ID, Start: 1, End: x.Quantity, ToAccount: acc.ID, FromState: "issued", ToState: ledger.Held})
	res.ID, res.Quantity = x.ID, x.Quantity
	res.Blocks = []BlockView{n.view(b)}
	return nil
}

// account returns an open account or the error with the given code.
func (n *Node) account(field string, id int64, missingCode string, check int) (*ledger.Account, error) {
	acc := n.st.accounts.Get(id)
	if acc == nil {
		return nil, ledger.Errorf(ledger.KindNotExist, missingCode, check, field, "account %d does not exist", id)
	}
	if acc.Status != ledger.Open {
		return nil, ledger.Errorf(ledger.KindConflict, ledger.CodeAccountNotOpen, 1004, field, "account %d is %s", id, acc.Status)
	}
	return acc, nil
}

// source returns the sending account after checking the actor may use it.
func (n *Node) source(a Actor, id int64) (*ledger.Account, error) {
	if a.Role != ledger.RoleAdmin && a.Role != ledger.RoleHolder {
		return nil, forbidden("role %q may not move units", a.Role)
	}
	// Permission before existence: a holder naming another organisation's
	// account gets the answer for an account that does not exist; the
	// administrator, who sees every account, is told it is not its own.
	acc := n.st.accounts.Get(id)
	if acc == nil || a.Role != ledger.RoleAdmin && acc.OrgID != a.OrgID {
		return nil, ledger.Errorf(ledger.KindNotExist, ledger.CodeAccountNotFound, 1002, "from_account", "account %d does not exist among your organisation's accounts", id)
	}
	if acc.OrgID != a.OrgID {
		return nil, forbidden("account %d does not belong to your organisation", id)
	}
	return n.account("from_account", id, ledger.CodeAccountNotFound, 1002)
}

// destination returns the account units may go to. A holder naming another
// organisation's account that does not exist, is not open or cannot receive
// units gets one answer for all three, so it cannot learn which accounts
// exist; the registry administrator gets the precise one.
func (n *Node) destination(a Actor, field string, id int64) (*ledger.Account, error) {
	acc := n.st.accounts.Get(id)
	if a.Role != ledger.RoleAdmin && (acc == nil || acc.OrgID != a.OrgID) {
		if acc == nil || acc.Status != ledger.Open || !receivable(acc) {
			return nil, ledger.Errorf(ledger.KindNotExist, ledger.CodeAcquiringNotFound, 2002, field, "account %d does not exist or cannot receive units", id)
		}
		return acc, nil
	}
	acc, err := n.account(field, id, ledger.CodeAcquiringNotFound, 2002)
	if err != nil {
		return nil, err
	}
	if !receivable(acc) {
		return nil, ledger.Errorf(ledger.KindInvalid, ledger.CodeAccountType, 0, field, "units cannot be transferred into a %s account; retire or cancel them instead", acc.Type)
	}
	return acc, nil
}

// piece is a serial range inside one block, chosen for a move.
type piece struct {
	Issuance, Start, End int64
}

// selectUnits picks the serial ranges a transaction moves out of account
// from, checking every registry rule of docs/sources.md that applies; it changes
// nothing.
func (n *Node) selectUnits(from int64, u Units) ([]piece, error) {
	if len(u.Serials) > 0 {
		if u.Quantity != 0 || u.IssuanceID != 0 || u.Vintage != 0 {
			return nil, invalid("units", "give either serials or a quantity selection, not both")
		}
		return n.selectSerials(from, u)
	}
	if u.Quantity <= 0 || u.Quantity > ledger.MaxSerial {
		return nil, ledger.Errorf(ledger.KindInvalid, ledger.CodeQuantityInvalid, 3008, "units.quantity", "quantity must be a positive integer of at most %d, not %d", ledger.MaxSerial, u.Quantity)
	}
	if u.UnitType == "" {
		return nil, ledger.Errorf(ledger.KindInvalid, ledger.CodeMixedUnitTypes, 3009, "units.unit_type", "a quantity selection needs one unit type (units.unit_type), so that a transaction never mixes unit types")
	}
	if !ledger.ValidCode(u.UnitType) {
		// The code defects' known-type check answers too: a lower-case
		// "ccer" is no unit type this registry knows (codes are exact).
		hint := ""
		if up := strings.ToUpper(u.UnitType); ledger.ValidCode(up) {
			hint = fmt.Sprintf("; did you mean %q?", up)
		}
		return nil, ledger.Errorf(ledger.KindInvalid, "unit_type_unknown", 0, "units.unit_type",
			"unit type %q is not a unit-type code (2-12 upper-case letters or digits, e.g. CCER)%s", u.UnitType, hint)
	}
	var out []piece
	need := u.Quantity
	if h := n.st.held.Get(from); h != nil {
		h.Ascend(func(k holdKey) bool {
			iss := n.st.issuances.Get(k.Issuance)
			if iss.UnitType != u.UnitType || (u.IssuanceID != 0 && iss.ID != u.IssuanceID) || (u.Vintage != 0 && iss.Vintage != u.Vintage) {
				return true
			}
			b, _ := n.st.blocks.Get(k.Issuance).Get(ledger.Block{Start: k.Start})
			// Frozen serials (freeze.go) are passed over, not refused.
			for _, r := range n.unfrozen(b.Issuance, b.Start, b.End) {
				take := min(need, r[1]-r[0]+1)
				out = append(out, piece{b.Issuance, r[0], r[0] + take - 1})
				need -= take
				if need == 0 {
					break
				}
			}
			return need > 0
		})
	}
	if need > 0 {
		if err := n.checkUnitTypeKnown(u.UnitType); err != nil {
			return nil, err // checked on refusal only: the hot path is unchanged
		}
		return nil, ledger.Errorf(ledger.KindConflict, ledger.CodeInsufficientUnits, 3005, "units.quantity",
			"account %d holds %d %s units matching the selection; %d requested", from, u.Quantity-need, u.UnitType, u.Quantity)
	}
	return out, nil
}

func (n *Node) selectSerials(from int64, u Units) ([]piece, error) {
	if len(u.Serials) > 1000 {
		return nil, invalid("units.serials", "at most 1000 serial ranges per transaction")
	}
	var ranges []piece
	unitType := ""
	for i, text := range u.Serials {
		field := fmt.Sprintf("units.serials[%d]", i)
		s, err := ledger.ParseSerial(text)
		if err != nil {
			e, _ := ledger.AsError(err)
			e.Field = field
			return nil, e
		}
		s = n.localSerial(s)
		if s.Registry != n.code {
			return nil, ledger.Errorf(ledger.KindInvalid, ledger.CodeSerialInvalid, 0, field, "serial %s belongs to registry %s, not %s", text, s.Registry, n.code)
		}
		iss := n.st.issuances.Get(s.Issuance)
		if iss == nil || iss.UnitType != s.UnitType || iss.Project != s.Project || iss.Vintage != s.Vintage || s.End > iss.Quantity {
			return nil, ledger.Errorf(ledger.KindNotExist, ledger.CodeSerialInvalid, 0, field, "serial %s names units that were never issued here", text)
		}
		if unitType != "" && unitType != s.UnitType {
			return nil, ledger.Errorf(ledger.KindInvalid, ledger.CodeMixedUnitTypes, 3009, field, "one transaction may move one unit type; %s and %s given", unitType, s.UnitType)
		}
		unitType = s.UnitType
		ranges = append(ranges, piece{s.Issuance, s.Start, s.End})
	}
	sort.Slice(ranges, func(i, j int) bool {
		if ranges[i].Issuance != ranges[j].Issuance {
			return ranges[i].Issuance < ranges[j].Issuance
		}
		return ranges[i].Start < ranges[j].Start
	})
	var out []piece
	for i, r := range ranges {
		if i > 0 && ranges[i-1].Issuance == r.Issuance && ranges[i-1].End >= r.Start {
			return nil, invalid("units.serials", "serial ranges overlap")
		}
		// Walk the blocks covering [r.Start, r.End]; each must be held by from.
		var bad error
		n.st.blocks.Get(r.Issuance).AscendGreaterOrEqual(ledger.Block{Start: n.blockStart(r.Issuance, r.Start)}, func(b ledger.Block) bool {
			if b.Start > r.End {
				return false
			}
			switch {
			case b.State == ledger.Exported:
				// Exported means "not in this registry" (they may come back
				// by import), not retired or cancelled.
				bad = ledger.Errorf(ledger.KindConflict, ledger.CodeRangeNotHeld, 10005, "units.serials", "units %d-%d of issuance %d are not in this registry (exported)", max(b.Start, r.Start), min(b.End, r.End), r.Issuance)
			case b.State.Final():
				bad = ledger.Errorf(ledger.KindConflict, ledger.CodeUnitsNotActive, 0, "units.serials", "units %d-%d of issuance %d are %s and can never move again", max(b.Start, r.Start), min(b.End, r.End), r.Issuance, b.State)
			case b.Account != from || b.State != ledger.Held:
				bad = ledger.Errorf(ledger.KindConflict, ledger.CodeRangeNotHeld, 10005, "units.serials", "account %d does not hold units %d-%d of issuance %d", from, max(b.Start, r.Start), min(b.End, r.End), r.Issuance)
			}
			if bad != nil {
				return false
			}
			out = append(out, piece{r.Issuance, max(b.Start, r.Start), min(b.End, r.End)})
			return true
		})
		if bad != nil {
			return nil, bad
		}
	}
	if err := n.checkFrozen("units.serials", out); err != nil {
		return nil, err
	}
	return out, nil
}

// blockStart is the start of the block containing serial s.
func (n *Node) blockStart(iss, s int64) int64 {
	b, _ := n.st.block(iss, s)
	return b.Start
}

// move puts the units of p into account/state, splitting the block that
// holds them: cost is constant in the block's size.
func (n *Node) move(w *writeSet, seq int64, p piece, account int64, to ledger.State, pending int64) ledger.Block {
	b, _ := n.st.block(p.Issuance, p.Start)
	from := b
	if p.Start > b.Start {
		lo, hi := b.SplitAt(p.Start)
		n.st.putBlock(lo)
		w.dirty[blockRef{lo.Issuance, lo.Start}] = struct{}{}
		b = hi
	}
	if p.End < b.End {
		lo, hi := b.SplitAt(p.End + 1)
		n.st.putBlock(hi)
		w.dirty[blockRef{hi.Issuance, hi.Start}] = struct{}{}
		b = lo
	}
	b.Account, b.State, b.Pending = account, to, pending
	moved := b
	w.batch.Movements = append(w.batch.Movements, ledger.Movement{Seq: seq, Issuance: b.Issuance, Start: b.Start, End: b.End,
		FromAccount: from.Account, ToAccount: account, FromState: from.State, ToState: to})
	// Merge with neighbours in the same place, so that blocks do not
	// fragment without bound as units move back and forth. Reserved blocks
	// stay apart: their pending transaction names them by start.
	if pending == 0 {
		if prev, ok := n.st.block(b.Issuance, b.Start-1); ok && b.Start > 1 && mergeable(prev, b) {
			n.st.deleteBlock(b)
			w.dirty[blockRef{b.Issuance, b.Start}] = struct{}{}
			prev.End = b.End
			b = prev
		}
		tree := n.st.blocks.Get(b.Issuance)
		if next, ok := tree.Get(ledger.Block{Start: b.End + 1}); ok && mergeable(b, next) {
			n.st.deleteBlock(next)
			w.dirty[blockRef{next.Issuance, next.Start}] = struct{}{}
			b.End = next.End
		}
	}
	n.st.putBlock(b)
	w.dirty[blockRef{b.Issuance, b.Start}] = struct{}{}
	return moved
}

// mergeable reports whether two adjacent blocks can become one.
func mergeable(a, b ledger.Block) bool {
	return a.Account == b.Account && a.State == b.State && a.Pending == 0 && b.Pending == 0
}

func (n *Node) moveAll(w *writeSet, res *Result, ps []piece, account int64, to ledger.State, pending int64) {
	for _, p := range ps {
		b := n.move(w, res.Seq, p, account, to, pending)
		res.Blocks = append(res.Blocks, n.view(b))
		res.Quantity += b.Count()
	}
}

func (n *Node) transfer(w *writeSet, a Actor, r Transfer, res *Result) error {
	from, err := n.source(a, r.From)
	if err != nil {
		return err
	}
	if r.From == r.To {
		return ledger.Errorf(ledger.KindInvalid, ledger.CodeSameAccount, 2508, "to_account", "the transferring and acquiring accounts are the same (%d)", r.To)
	}
	to, err := n.destination(a, "to_account", r.To)
	if err != nil {
		return err
	}
	ps, err := n.selectUnits(from.ID, r.Units)
	if err != nil {
		return err
	}
	n.moveAll(w, res, ps, to.ID, ledger.Held, 0)
	return nil
}

func (n *Node) retire(w *writeSet, a Actor, r Retire, res *Result) error {
	from, err := n.source(a, r.From)
	if err != nil {
		return err
	}
	if err := text("beneficiary", r.Beneficiary, 200, true); err != nil {
		return err
	}
	if err := text("purpose", r.Purpose, 200, true); err != nil {
		return err
	}
	if err := text("reason", r.Reason, 1000, false); err != nil {
		return err
	}
	if r.ComplianceYear != 0 && (r.ComplianceYear < 1990 || r.ComplianceYear > 2100) {
		return invalid("compliance_year", "compliance_year %d must be a year between 1990 and 2100", r.ComplianceYear)
	}
	ps, err := n.selectUnits(from.ID, r.Units)
	if err != nil {
		return err
	}
	if isICC(r.Purpose) {
		q, err := n.checkICC(from, r, ps)
		if err != nil {
			return err
		}
		k := iccKey{from.ID, r.ComplianceYear}
		n.st.iccUsed.Set(k, n.st.iccUsed.Get(k)+q)
	}
	n.moveAll(w, res, ps, from.ID, ledger.Retired, 0)
	return nil
}

func (n *Node) cancel(w *writeSet, a Actor, r Cancel, res *Result) error {
	from, err := n.source(a, r.From)
	if err != nil {
		return err
	}
	if err := text("reason", r.Reason, 1000, false); err != nil {
		return err
	}
	ps, err := n.selectUnits(from.ID, r.Units)
	if err != nil {
		return err
	}
	n.moveAll(w, res, ps, from.ID, ledger.Cancelled, 0)
	return nil
}

func (n *Node) createToken(w *writeSet, a Actor, r CreateToken, res *Result) error {
	if n.st.orgs.Get(r.OrgID) == nil {
		return ledger.Errorf(ledger.KindNotExist, ledger.CodeNotFound, 0, "organisation_id", "organisation %d does not exist", r.OrgID)
	}
	// A hub or venue token acts for its organisation as the settlement
	// authority of the escrows that name it (Authority.permits), and for
	// nothing else: the kinds table lets those roles only complete and void.
	switch r.Role {
	case ledger.RoleAdmin, ledger.RoleHolder, ledger.RoleAuditor, RoleHub, RoleVenue:
	default:
		return invalid("role", "role %q is not one of admin, holder, auditor, hub, venue", r.Role)
	}
	if err := text("name", r.Name, 200, true); err != nil {
		return err
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return fmt.Errorf("registry: token randomness: %w", err)
	}
	token := "cor_" + hex.EncodeToString(raw)
	w.batch.Tokens = append(w.batch.Tokens, ledger.Token{Hash: TokenHash(token), OrgID: r.OrgID, Role: r.Role, Name: r.Name, CreatedAt: res.At})
	res.Token = token
	return nil
}

// TokenHash is how API tokens are stored: SHA-256 of the token text. Tokens
// carry 192 random bits, so a fast hash is enough (no password stretching).
func TokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

func (n *Node) view(b ledger.Block) BlockView {
	s := n.serialOf(n.st.issuances.Get(b.Issuance), b.Start, b.End)
	return BlockView{Serial: s.String(), IssuanceID: b.Issuance, Start: b.Start, End: b.End, Quantity: b.Count(), AccountID: b.Account, State: b.State, Pending: b.Pending}
}
