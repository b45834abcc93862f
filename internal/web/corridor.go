package web

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/ledger"
)

// The corridor pages: the registries linked through the hub drawn as a
// network, the flows between them, the transfers in flight, the hub's
// reconciliation with each node, one page per transfer, and the account
// page's form for sending units abroad. Everything is read through
// hub.Link, which answers from memory.

// WithLink makes the site show the corridor l (nil: this server runs no
// corridor, and the corridor pages say so). It returns s.
func (s *Site) WithLink(l hub.Link) *Site {
	// A nil *Corridor in the interface would pass a nil check and then
	// fail on the first read: it is no corridor.
	if c, ok := l.(*hub.Corridor); ok && c == nil {
		l = nil
	}
	s.link = l
	return s
}

// Reconciliation is the latest reconciliation of one registry node with
// the hub, as the corridor page shows it.
type Reconciliation struct {
	Registry string
	At       time.Time
	// Snapshot is the node's journal sequence the totals were compared at.
	Snapshot int64
	// Findings are the differences found, each with a stable code (none:
	// the node and the hub agree).
	Findings []protocol.Finding
	// Frozen is how many units the differences froze until an
	// administrator records a correcting transaction.
	Frozen int64
}

// Reconciler gives the latest reconciliation result per registry node
// (the hub's reconciliation runs elsewhere; the page only reads it).
type Reconciler interface {
	Reconciliations(ctx context.Context) ([]Reconciliation, error)
}

// WithReconciler makes the corridor page show r's results. Without one
// every node shows as not reconciled yet. It returns s.
func (s *Site) WithReconciler(r Reconciler) *Site {
	s.recon = r
	return s
}

func (s *Site) routesCorridor(mux *http.ServeMux) {
	mux.HandleFunc("GET /corridor", s.handleCorridor)
	mux.HandleFunc("GET /corridor/transfers/{id}", s.handleCorridorTransfer)
	mux.HandleFunc("GET /corridor/article6", s.handleArticle6) // article6.go
	mux.HandleFunc("GET /corridor/article6/aef", s.handleArticle6AEF)
	mux.HandleFunc("POST /registries/{registry}/accounts/{id}/send", s.handleSend)
}

// linkTimeout bounds a read of the corridor: Link reads answer from
// memory, so a slow one is a fault to show, not to wait for.
const linkTimeout = 5 * time.Second

// transferRow is one transfer in a list.
type transferRow struct {
	ID                 string
	From, To           string
	UnitType           string
	Quantity           int64
	Status             protocol.Status
	StatusNum          int
	Updated            time.Time
	FromLocal, ToLocal bool
}

func (s *Site) rowOf(t hub.Transfer) transferRow {
	p := t.Proposal
	return transferRow{ID: t.ID, From: p.FromRegistry, To: p.ToRegistry, UnitType: p.UnitType, Quantity: p.Quantity,
		Status: t.Status, StatusNum: int(t.Status), Updated: t.Updated(),
		FromLocal: s.nodes[p.FromRegistry] != nil, ToLocal: s.nodes[p.ToRegistry] != nil}
}

// flowRow is the completed volume of one unit type from one registry to
// another.
type flowRow struct {
	From, To, UnitType string
	Volume             int64
	Count              int
}

// reconRow is one node's line in the reconciliation section.
type reconRow struct {
	Registry string
	Name     string
	Result   *Reconciliation
}

type corridorPage struct {
	// Enabled: this server has a corridor.
	Enabled bool
	// Error is a catalogue key when the corridor could not be read.
	Error        string
	Map          corridorMap
	Participants []hub.Participant
	Flows        []flowRow
	InFlight     []transferRow
	Recent       []transferRow
	Completed    int
	Volume       int64
	// Serving counts the corridor's registries this server runs (a
	// stopped one is in Recon, not here).
	Serving int
	Recon   []reconRow
	// ReconWired: a reconciler is attached (results may still be missing).
	ReconWired bool
	ReconError bool
}

// recentTransfers is how many transfers the corridor page lists.
const recentTransfers = 20

func (s *Site) handleCorridor(w http.ResponseWriter, r *http.Request) {
	d := corridorPage{Enabled: s.link != nil}
	if s.link == nil {
		s.render(w, r, "corridor.html", d)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), linkTimeout)
	defer cancel()
	parts, err := s.link.Participants(ctx)
	var all []hub.Transfer
	if err == nil {
		all, err = s.link.Transfers(ctx, hub.TransferFilter{})
	}
	if err != nil {
		slog.ErrorContext(r.Context(), "web: corridor", "err", err)
		d.Error = "corridor.unreadable"
		s.renderStatus(w, r, http.StatusServiceUnavailable, "corridor.html", d)
		return
	}
	d.Participants = parts
	flows := map[[3]string]*flowRow{}
	for _, t := range all {
		p := t.Proposal
		if t.Status == protocol.StatusCompleted {
			k := [3]string{p.FromRegistry, p.ToRegistry, p.UnitType}
			f := flows[k]
			if f == nil {
				f = &flowRow{From: k[0], To: k[1], UnitType: k[2]}
				flows[k] = f
			}
			f.Volume += p.Quantity
			f.Count++
			d.Completed++
			d.Volume += p.Quantity
		}
		if !t.Status.Final() {
			d.InFlight = append(d.InFlight, s.rowOf(t))
		}
		if len(d.Recent) < recentTransfers {
			d.Recent = append(d.Recent, s.rowOf(t))
		}
	}
	for _, f := range flows {
		d.Flows = append(d.Flows, *f)
	}
	slices.SortFunc(d.Flows, func(a, b flowRow) int {
		if a.Volume != b.Volume {
			return cmp.Compare(b.Volume, a.Volume)
		}
		return strings.Compare(a.From+" "+a.To+" "+a.UnitType, b.From+" "+b.To+" "+b.UnitType)
	})
	d.Map = layoutCorridor(parts, d.Flows, d.InFlight)

	byCode := map[string]*Reconciliation{}
	if s.recon != nil {
		d.ReconWired = true
		res, err := s.recon.Reconciliations(ctx)
		if err != nil {
			slog.ErrorContext(r.Context(), "web: corridor reconciliations", "err", err)
			d.ReconError = true
		}
		for i := range res {
			byCode[res[i].Registry] = &res[i]
		}
	}
	for _, p := range parts {
		if p.Role != envelope.RoleNode {
			continue
		}
		d.Recon = append(d.Recon, reconRow{Registry: p.Code, Name: p.Name, Result: byCode[p.Code]})
		if s.nodes[p.Code] != nil {
			d.Serving++
		}
	}
	s.render(w, r, "corridor.html", d)
}

func participantNames(parts []hub.Participant) map[string]string {
	names := map[string]string{}
	for _, p := range parts {
		names[p.Code] = p.Name
	}
	return names
}

// sideView is one side of a transfer: its registry and, when the viewer
// may see it, its account.
type sideView struct {
	Registry, Name string
	// Local: the registry is served here (its page links).
	Local bool
	// Account is the account number, "" when hidden from this viewer.
	Account string
}

type blockRow struct {
	Serial   string
	Quantity int64
	// Local: the origin registry is served here, so the serial page can
	// look it up.
	Local bool
}

type historyRow struct {
	Status    protocol.Status
	StatusNum int
	At        time.Time
	Findings  []protocol.Finding
}

type transferPage struct {
	ID           string
	Status       protocol.Status
	StatusNum    int
	Final        bool
	From, To     sideView
	Quantity     int64
	UnitType     string
	Purpose      string
	Blocks       []blockRow
	History      []historyRow
	EscrowExpiry time.Time
	// Awaiting: the sending registry has the units in escrow for this
	// transfer but the hub has not recorded its proposal yet.
	Awaiting bool
}

func (s *Site) handleCorridorTransfer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if s.link == nil {
		s.renderError(w, r, http.StatusNotFound, "error.no_corridor")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), linkTimeout)
	defer cancel()
	t, err := s.link.Transfer(ctx, id)
	if errors.Is(err, hub.ErrNoTransfer) {
		if d, ok := s.awaitingHub(r, id); ok {
			s.render(w, r, "corridor_transfer.html", d)
			return
		}
		s.renderError(w, r, http.StatusNotFound, "error.no_transfer", id)
		return
	}
	if err != nil {
		slog.ErrorContext(r.Context(), "web: corridor transfer", "id", id, "err", err)
		s.renderError(w, r, http.StatusServiceUnavailable, "error.corridor_unavailable")
		return
	}
	var names map[string]string
	if parts, err := s.link.Participants(ctx); err == nil {
		names = participantNames(parts)
	}
	p := t.Proposal
	d := transferPage{ID: t.ID, Status: t.Status, StatusNum: int(t.Status), Final: t.Status.Final(),
		From: s.side(r, p.FromRegistry, p.FromAccount, names), To: s.side(r, p.ToRegistry, p.ToAccount, names),
		Quantity: p.Quantity, UnitType: p.UnitType, Purpose: p.Purpose, EscrowExpiry: p.EscrowExpiry}
	for _, b := range p.Blocks {
		d.Blocks = append(d.Blocks, s.blockRowOf(b))
	}
	for _, c := range t.History {
		d.History = append(d.History, historyRow{Status: c.Status, StatusNum: int(c.Status), At: c.At, Findings: c.Findings})
	}
	s.render(w, r, "corridor_transfer.html", d)
}

func (s *Site) blockRowOf(b protocol.Block) blockRow {
	iss, _ := strconv.ParseInt(b.IssuanceID, 10, 64)
	sr := ledger.Serial{Registry: b.OriginRegistry, UnitType: b.UnitType, Project: b.Project, Vintage: b.Vintage, Issuance: iss, Start: b.Start, End: b.End}
	return blockRow{Serial: sr.String(), Quantity: b.Quantity(), Local: s.nodes[b.OriginRegistry] != nil}
}

// side shows registry code's side of a transfer. The account number is
// shown only to a viewer signed in to that registry who may read the
// account there (its holder, an administrator or an auditor), as the
// registry's own pages show it; anyone else sees the registry alone.
func (s *Site) side(r *http.Request, code, account string, names map[string]string) sideView {
	v := sideView{Registry: code, Name: names[code]}
	n := s.nodes[code]
	if n == nil {
		return v
	}
	v.Local = true
	a := s.actor(r, n)
	id, err := strconv.ParseInt(account, 10, 64)
	if a == nil || err != nil {
		return v
	}
	if _, err := n.Account(*a, id); err == nil {
		v.Account = account
	}
	return v
}

// awaitingHub answers for a transfer the hub has no record of yet but
// whose sending registry, served here, holds the units in escrow for it
// (the proposal is on its way): only to a viewer of that registry who
// may see the escrow. The id is the DES's: the sending registry's code
// and the escrow's journal sequence.
func (s *Site) awaitingHub(r *http.Request, id string) (transferPage, bool) {
	code, seqText, ok := strings.Cut(id, ":")
	n := s.nodes[code]
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if !ok || n == nil || err != nil {
		return transferPage{}, false
	}
	a := s.actor(r, n)
	if a == nil {
		return transferPage{}, false
	}
	es, err := n.Escrows(*a)
	if err != nil {
		return transferPage{}, false
	}
	for _, e := range es {
		if e.Pending != seq || e.ToRemote == "" {
			continue
		}
		to, _, _ := strings.Cut(e.ToRemote, "/")
		d := transferPage{ID: id, Awaiting: true, Status: protocol.StatusProposed, StatusNum: int(protocol.StatusProposed),
			From:     s.side(r, code, strconv.FormatInt(e.From, 10), nil),
			To:       sideView{Registry: to, Local: s.nodes[to] != nil},
			Quantity: e.Quantity, EscrowExpiry: e.ExpiresAt}
		for _, b := range e.Blocks {
			d.Blocks = append(d.Blocks, blockRow{Serial: b.Serial, Quantity: b.Quantity, Local: true})
			if sr, err := ledger.ParseSerial(b.Serial); err == nil {
				d.UnitType = sr.UnitType
				d.Blocks[len(d.Blocks)-1].Local = s.nodes[sr.Registry] != nil
			}
		}
		return d, true
	}
	return transferPage{}, false
}

// registryTransfers lists the latest transfers from or to registry code,
// for its registry page (nil without a corridor).
func (s *Site) registryTransfers(r *http.Request, code string) []transferRow {
	if s.link == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), linkTimeout)
	defer cancel()
	ts, err := s.link.Transfers(ctx, hub.TransferFilter{Registry: code, Limit: recentTransfers})
	if err != nil {
		slog.ErrorContext(r.Context(), "web: registry transfers", "registry", code, "err", err)
		return nil
	}
	rows := make([]transferRow, 0, len(ts))
	for _, t := range ts {
		rows = append(rows, s.rowOf(t))
	}
	return rows
}
