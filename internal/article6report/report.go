// Package article6report builds the read views of the hub's Article 6
// ledger that the API, the web pages and the CLI show: authorisations with
// their versions, ITMO blocks with their identifiers, corresponding
// adjustments and each Party's emissions balance per year.
package article6report

import (
	"fmt"
	"slices"
	"sort"

	"github.com/shopspring/decimal"

	"github.com/corridor-carbon/corridor/internal/article6"
)

// Authorisation is one authorisation as it stands, with its versions.
type Authorisation struct {
	ID               string    `json:"id"`
	Host             string    `json:"host"`
	Approach         string    `json:"approach"`
	Version          int       `json:"version"`
	Status           string    `json:"status"` // "in force" or "revoked"
	RevokedOn        string    `json:"revoked_on,omitempty"`
	Purposes         []string  `json:"purposes"`
	Quantity         int64     `json:"quantity"`
	From             string    `json:"from"`
	Until            string    `json:"until"`
	VintageFrom      int       `json:"vintage_from"`
	VintageTo        int       `json:"vintage_to"`
	Activities       []string  `json:"activities"`
	AcquiringParties []string  `json:"acquiring_parties,omitempty"`
	Versions         []Version `json:"versions"`
	// Issued is the gross quantity issued under it, FirstTransferred the
	// tonnes first-transferred (ITMOs).
	Issued           int64 `json:"issued"`
	FirstTransferred int64 `json:"first_transferred"`
}

// Version is one event of an authorisation's log.
type Version struct {
	Version int    `json:"version"`
	Kind    string `json:"kind"` // authorise, amend, revoke
	Date    string `json:"date"`
	Reason  string `json:"reason,omitempty"`
}

// Status values of an authorisation.
const (
	StatusInForce = "in force"
	StatusRevoked = "revoked"
)

// Authorisations lists the ledger's authorisations, by host then id; a
// non-empty party keeps the host's only.
func Authorisations(l *article6.Ledger, party string) []Authorisation {
	byID := map[string]*Authorisation{}
	var order []string
	for _, ev := range l.Log().Events() {
		id := ev.Authorisation.ID
		if ev.Kind == article6.EventRevoke {
			id = ev.ID
		}
		a, ok := byID[id]
		if !ok {
			a = &Authorisation{ID: id}
			byID[id] = a
			order = append(order, id)
		}
		v := Version{Version: ev.Authorisation.Version, Kind: string(ev.Kind), Date: ev.Date, Reason: ev.Reason}
		if ev.Kind == article6.EventRevoke {
			v.Version = a.Version
		}
		a.Versions = append(a.Versions, v)
		if ev.Kind != article6.EventRevoke {
			a.Version = ev.Authorisation.Version
		}
	}
	st := l.State()
	var out []Authorisation
	for _, id := range order {
		a := byID[id]
		cur, ok := l.Log().Current(id)
		if !ok || party != "" && cur.Host != party {
			continue
		}
		a.Host, a.Approach, a.Quantity = cur.Host, cur.Approach, cur.Quantity
		a.From, a.Until, a.VintageFrom, a.VintageTo = cur.From, cur.Until, cur.VintageFrom, cur.VintageTo
		a.Activities, a.AcquiringParties = slices.Clone(cur.Activities), slices.Clone(cur.AcquiringParties)
		for _, p := range cur.Purposes {
			a.Purposes = append(a.Purposes, string(p))
		}
		a.Status = StatusInForce
		if on := l.Log().Revoked(id); on != "" {
			a.Status, a.RevokedOn = StatusRevoked, on
		}
		for _, b := range st.Blocks() {
			if b.Authorisation != id {
				continue
			}
			a.Issued += b.Units.Count()
			if b.FirstTransfer > 0 {
				a.FirstTransferred += b.Units.Count()
			}
		}
		out = append(out, *a)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out
}

// ITMO is one block of units issued under an authorisation, as the ledger
// places it now. First and Last are its ITMO identifiers once it is
// first-transferred (empty before: a unit gets its identifier at first
// transfer).
type ITMO struct {
	First                  string `json:"first_itmo,omitempty"`
	Last                   string `json:"last_itmo,omitempty"`
	Serial                 string `json:"serial"`
	Quantity               int64  `json:"quantity"`
	Vintage                int    `json:"vintage"`
	Approach               string `json:"approach"`
	Authorisation          string `json:"authorisation"`
	Host                   string `json:"host"`
	Share                  string `json:"share"` // omge, share-of-proceeds, host, investor
	Holder                 string `json:"holder"`
	Status                 string `json:"status"` // held, used, cancelled
	FirstTransferred       bool   `json:"first_transferred"`
	FirstTransferDate      string `json:"first_transfer_date,omitempty"`
	FirstTransferType      string `json:"first_transfer_type,omitempty"`
	FirstTransferSubtype   string `json:"first_transfer_subtype,omitempty"`
	FirstTransferringParty string `json:"first_transferring_party,omitempty"`
	UsedFor                string `json:"used_for,omitempty"`
	UsedBy                 string `json:"used_by,omitempty"`
}

// ITMOs lists the blocks the ledger knows, in serial order; a non-empty
// party keeps those it hosts or holds.
func ITMOs(l *article6.Ledger, party string) []ITMO {
	recs := map[int]article6.Record{}
	for _, r := range l.State().Records() {
		recs[r.Seq] = r
	}
	var out []ITMO
	for _, b := range l.State().Blocks() {
		if party != "" && b.Host != party && b.Holder != party {
			continue
		}
		it := ITMO{Serial: b.Units.String(), Quantity: b.Units.Count(), Vintage: b.Units.Vintage, Approach: b.Approach, Authorisation: b.Authorisation,
			Host: b.Host, Share: string(b.Share), Holder: b.Holder, Status: string(b.Status), UsedFor: string(b.UsedFor), UsedBy: b.UsedBy}
		if r, ok := recs[b.FirstTransfer]; ok && b.FirstTransfer > 0 {
			first, last := article6.ITMORange(b.Approach, r.FirstTransferringParty, b.Units)
			it.First, it.Last = first.String(), last.String()
			it.FirstTransferred, it.FirstTransferDate, it.FirstTransferringParty = true, r.Date, r.FirstTransferringParty
			it.FirstTransferType, it.FirstTransferSubtype = string(r.Type), r.Subtype
		}
		out = append(out, it)
	}
	return out
}

// Adjustment is one corresponding adjustment with what caused it.
type Adjustment struct {
	Party    string `json:"party"`
	Year     int    `json:"year"`
	Quantity int64  `json:"quantity"` // signed: + first transfer, − use
	Cause    string `json:"cause"`    // the record's AEF action type
	Date     string `json:"date"`
	Serial   string `json:"serial"`
	First    string `json:"first_itmo"`
	Last     string `json:"last_itmo"`
}

// Adjustments lists the corresponding adjustments in order; a non-empty
// party keeps its own.
func Adjustments(l *article6.Ledger, party string) []Adjustment {
	recs := map[int]article6.Record{}
	for _, r := range l.State().Records() {
		recs[r.Seq] = r
	}
	var out []Adjustment
	for _, a := range l.State().Adjustments() {
		if party != "" && a.Party != party {
			continue
		}
		r := recs[a.Record]
		first, last := article6.ITMORange(r.Approach, r.FirstTransferringParty, a.Units)
		out = append(out, Adjustment{Party: a.Party, Year: a.Year, Quantity: a.Quantity, Cause: string(r.Type), Date: r.Date, Serial: a.Units.String(), First: first.String(), Last: last.String()})
	}
	return out
}

// Balance is a Party's emissions balance over its NDC period under a
// method. The ledger knows the adjustments, not the Party's reported
// emissions, so Emissions is zero and Balance is the adjustment alone
// until an inventory is given.
type Balance struct {
	Party  string `json:"party"`
	Method string `json:"method"`
	// AsOf is the last elapsed year an averaged balance counts (single-
	// year averaging only: article6.BalanceParams.AsOf).
	AsOf int          `json:"as_of,omitempty"`
	Rows []BalanceRow `json:"rows"`
}

// BalanceRow is one year (Year 0: a budget's period total).
type BalanceRow struct {
	Year             int             `json:"year"`
	FirstTransferred int64           `json:"first_transferred"`
	Used             int64           `json:"used"`
	Adjustment       decimal.Decimal `json:"adjustment"`
}

// BalanceParams choose the Parties, the period and the method.
type BalanceParams struct {
	Parties    []string // empty: every Party with an adjustment
	Method     article6.Method
	FirstYear  int
	LastYear   int
	TargetYear int
	// AsOf is the last elapsed year for single-year averaging (0: the
	// period has ended).
	AsOf int
}

// Balances computes each Party's balance with article6.Balance.
func Balances(l *article6.Ledger, p BalanceParams) ([]Balance, error) {
	adj := l.State().Adjustments()
	parties := p.Parties
	if len(parties) == 0 {
		for _, a := range adj {
			if !slices.Contains(parties, a.Party) {
				parties = append(parties, a.Party)
			}
		}
		slices.Sort(parties)
	}
	var out []Balance
	for _, party := range parties {
		rows, err := article6.Balance(article6.BalanceParams{Party: party, Method: p.Method, FirstYear: p.FirstYear, LastYear: p.LastYear, TargetYear: p.TargetYear, AsOf: p.AsOf, Adjustments: adj})
		if err != nil {
			return nil, fmt.Errorf("article6report: %w", err)
		}
		b := Balance{Party: party, Method: string(p.Method)}
		if p.Method == article6.SingleYearAveraging {
			b.AsOf = min(p.LastYear, p.AsOf)
			if p.AsOf == 0 {
				b.AsOf = p.LastYear
			}
		}
		for _, r := range rows {
			b.Rows = append(b.Rows, BalanceRow{Year: r.Year, FirstTransferred: r.FirstTransferred, Used: r.Used, Adjustment: r.Adjustment})
		}
		out = append(out, b)
	}
	return out, nil
}
