package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/corridor-carbon/corridor/internal/corridorjson"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/strictjson"
)

// The corridor routes: a holder sends units abroad through the hub
// (POST …/transfers/cross-border) and anyone follows the hub's record of a
// transfer (GET /api/v1/transfers…). The server reaches the corridor only
// through a hub.Link, so the same routes serve an embedded corridor and a
// networked node.

// WithLink gives the server the corridor it sends through and reads the
// hub's records from. Without one the corridor routes answer 404
// corridor_not_served. It returns s.
func (s *Server) WithLink(l hub.Link) *Server {
	// A nil *hub.Corridor in the interface is no corridor either.
	if v := reflect.ValueOf(l); l == nil || v.Kind() == reflect.Pointer && v.IsNil() {
		l = nil
	}
	s.link = l
	return s
}

// Corridor problem codes.
const (
	codeCorridorNotServed = "corridor_not_served"
	codeTransferNotFound  = "transfer_not_found"
	codeHubUnavailable    = "hub_unavailable"
	codeSameRegistry      = "same_registry"
	codeUnknownPurpose    = "purpose_unknown"
)

// DefaultPurpose is the purpose of a cross-border transfer that names none:
// voluntary use, which claims no Article 6 authorisation.
const DefaultPurpose = "voluntary"

// maxTransfersLimit is the most records GET /api/v1/transfers answers.
const maxTransfersLimit = 1000

// maxPurposeLength bounds a transfer's purpose code, in characters.
const maxPurposeLength = 32

func (s *Server) routesCorridor(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/registries/{registry}/transfers/cross-border", s.handleCrossBorder)
	mux.HandleFunc("GET /api/v1/transfers", s.handleTransfers)
	mux.HandleFunc("GET /api/v1/transfers/{id}", s.handleTransfer)
}

// The corridor routes' bodies (package corridorjson, which the client
// reads too).
type (
	CrossBorderRequest = corridorjson.CrossBorder
	SentView           = corridorjson.Sent
	BlockView          = corridorjson.Block
	StatusChangeView   = corridorjson.StatusChange
	TransferView       = corridorjson.Transfer
	RegistryEntry      = corridorjson.Registry
)

// servedEntry fills e for node n that this server runs: its totals while
// it serves, none once it lost its serving lock (they may be stale).
func servedEntry(e *RegistryEntry, n *registry.Node) {
	e.Served = true
	if err := n.Serving(); err != nil {
		e.NotServing = "this server's node lost its serving lock to another process, so its totals here may be stale and are not shown"
		return
	}
	t := n.Totals()
	e.Serving, e.Totals = true, &t
}

func transferPath(id string) string { return "/api/v1/transfers/" + url.PathEscape(id) }

func (s *Server) noCorridor(w http.ResponseWriter) bool {
	if s.link != nil {
		return false
	}
	writeProblem(w, Problem{Status: http.StatusNotFound, Code: codeCorridorNotServed,
		Detail: "This server is not part of a corridor: it has no hub link, so it can neither send units abroad nor show the hub's transfer records."})
	return true
}

func (s *Server) handleRegistries(w http.ResponseWriter, r *http.Request) {
	out := []RegistryEntry{}
	seen := map[string]bool{}
	if s.link != nil {
		ps, err := s.link.Participants(r.Context())
		if err != nil {
			hubProblem(w, r, err)
			return
		}
		for _, p := range ps {
			e := RegistryEntry{Code: p.Code, Name: p.Name, Party: p.Party, Role: string(p.Role)}
			switch n := s.nodes[p.Code]; {
			case n != nil && p.Role == envelope.RoleNode:
				servedEntry(&e, n)
			case p.Role == envelope.RoleNode:
				e.NotServing = "not run by this server: no totals here"
			}
			if p.Role == envelope.RoleHub {
				// The embedded hub runs in this process.
				_, e.Served = s.link.(*hub.Corridor)
			}
			seen[p.Code] = true
			out = append(out, e)
		}
	}
	for _, c := range s.codes {
		if seen[c] {
			continue
		}
		e := RegistryEntry{Code: c, Role: string(envelope.RoleNode)}
		servedEntry(&e, s.nodes[c])
		out = append(out, e)
	}
	writeJSON(w, http.StatusOK, map[string]any{"registries": out})
}

// handleCrossBorder sends units abroad: the same token, role,
// Idempotency-Key, media-type and strict-body rules as every write; the
// units are reserved in escrow with the hub as settlement authority and
// the proposal goes to the hub. 202: the transfer goes on at the hub.
func (s *Server) handleCrossBorder(w http.ResponseWriter, r *http.Request) {
	n := s.node(w, r)
	if n == nil || s.noCorridor(w) {
		return
	}
	actor, ok := s.tokenHolder(w, r, n)
	if !ok {
		return
	}
	// Sending abroad is a reservation: whoever may reserve (the holder of
	// the account, or the registry administrator) may send.
	if k := registry.KindOf((registry.Reserve{}).Kind()); !k.MayCall(actor) {
		writeProblem(w, Problem{Status: http.StatusForbidden, Code: ledger.CodeForbidden, Detail: "Role " + string(actor.Role) + " may not send units abroad."})
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if err := registry.CheckKey(key); err != nil {
		ledgerError(w, r, err, true)
		return
	}
	raw, ok := readBody(w, r, false)
	if !ok {
		return
	}
	var req CrossBorderRequest
	if err := strictjson.Decode(raw, &req); err != nil {
		bodyProblem(w, err)
		return
	}
	req.ToRegistry = registryCode(req.ToRegistry)
	if !requireFields(w, r, raw) {
		return
	}
	if req.Purpose == "" {
		req.Purpose = DefaultPurpose
	}
	if err := registry.CheckText("purpose", req.Purpose, maxPurposeLength); err != nil {
		ledgerError(w, r, err, true)
		return
	}
	// A purpose the protocol does not know must be refused before the
	// escrow is made, not by the hub after it (which voids it again).
	if codes := PurposeCodes(); len(codes) > 0 && !slices.Contains(codes, req.Purpose) {
		badRequest(w, codeUnknownPurpose, "purpose", "purpose "+strconv.Quote(req.Purpose)+" is not one of the corridor's purposes ("+strings.Join(codes, ", ")+"). Nothing was reserved.")
		return
	}
	switch {
	case req.FromAccount <= 0:
		badRequest(w, ledger.CodeInvalid, "from_account", "from_account must be the id of the sending account.")
		return
	case req.ToRegistry == "":
		badRequest(w, ledger.CodeInvalid, "to_registry", "to_registry must name the acquiring registry (GET /api/v1/registries lists the corridor).")
		return
	case req.ToAccount <= 0:
		badRequest(w, ledger.CodeInvalid, "to_account", "to_account must be the id of the acquiring account in "+req.ToRegistry+".")
		return
	case req.ToRegistry == n.Code():
		badRequest(w, codeSameRegistry, "to_registry", "The units are already in "+n.Code()+"; move them with POST /api/v1/registries/"+n.Code()+"/transfers.")
		return
	}
	if err := registry.CheckText("to_registry", req.ToRegistry, 12); err != nil {
		ledgerError(w, r, err, true)
		return
	}
	if err := registry.CheckArticle6Claim("article6", req.Article6); err != nil {
		ledgerError(w, r, err, true)
		return
	}
	// A made-up acquiring registry must never reserve units: it is checked
	// against the corridor's trust list before anything is written.
	known, err := s.corridorNode(r.Context(), req.ToRegistry)
	if err != nil {
		hubProblem(w, r, err)
		return
	}
	if !known {
		if req.ToRegistry == hub.HubCode {
			writeProblem(w, Problem{Status: http.StatusUnprocessableEntity, Code: codeRegistryNotFound, Field: "to_registry", Title: "Request rejected",
				Detail: "HUB is the corridor's hub (its transaction log), which holds no units: name a registry from GET /api/v1/registries. Nothing was reserved."})
			return
		}
		registryNotFound(w, http.StatusUnprocessableEntity, "to_registry", req.ToRegistry, "in the corridor", " Nothing was reserved.")
		return
	}
	sent, err := s.link.Send(r.Context(), n.Code(), hub.Send{Actor: actor, Key: key, From: req.FromAccount, ToRegistry: req.ToRegistry, ToAccount: req.ToAccount,
		Units:   registry.Units{Quantity: req.Quantity, UnitType: req.UnitType, IssuanceID: req.IssuanceID, Vintage: req.Vintage, Serials: req.Serials},
		Purpose: req.Purpose, ExpiresIn: req.ExpiresIn, Article6: req.Article6})
	if err != nil {
		sendProblem(w, r, bodyFields(err))
		return
	}
	loc := transferPath(sent.ID)
	w.Header().Set("Location", loc)
	writeJSON(w, http.StatusAccepted, SentView{ID: sent.ID, Status: int(sent.Status), StatusName: sent.Status.String(), Final: sent.Status.Final(),
		Quantity: sent.Quantity, Blocks: blockViews(sent.Blocks), EscrowExpiresAt: sent.EscrowExpiry, Location: loc})
}

// PurposeCodes are the purposes a transfer abroad may name: the purpose
// list of the corridor agreements' data (decision 2/CMA.3 uses and
// voluntary use), in their order. Nil if the embedded data does not load,
// which its own tests prevent; the hub then is the only check.
var PurposeCodes = sync.OnceValue(func() []string {
	set, err := agreements.Default()
	if err != nil {
		slog.Error("api: corridor purposes", "err", err)
		return nil
	}
	out := make([]string, 0, len(set.Purposes))
	for _, p := range set.Purposes {
		out = append(out, p.Code)
	}
	return out
})

// bodyFields rewrites a registry refusal of the reserve behind a send so
// that its field, and a field its detail names, are the request body's
// (flat) fields: the reserve's units.quantity is quantity, units.serials[2]
// is serials[2], and units (serials given with a quantity selection) is
// serials.
func bodyFields(err error) error {
	e, ok := ledger.AsError(err)
	if !ok {
		return err
	}
	c := *e
	if f, ok := strings.CutPrefix(c.Field, "units."); ok {
		c.Field = f
	} else if c.Field == "units" {
		c.Field = "serials"
	}
	c.Detail = unitsPath.ReplaceAllString(c.Detail, "$1")
	return &c
}

// unitsPath finds "units.<field>" in a detail sentence.
var unitsPath = regexp.MustCompile(`\bunits\.([a-z_]+)`)

// corridorNode reports whether code is a registry of the corridor.
func (s *Server) corridorNode(ctx context.Context, code string) (bool, error) {
	ps, err := s.link.Participants(ctx)
	if err != nil {
		return false, err
	}
	for _, p := range ps {
		if p.Code == code && p.Role == envelope.RoleNode {
			return true, nil
		}
	}
	return false, nil
}

// sendProblem maps a Send error: the registry's refusals as every write's,
// a sending registry outside the corridor as 404, anything else as the hub
// being unreachable (the reservation, if it was made, is reused by a retry
// with the same key, which re-sends the same proposal).
func sendProblem(w http.ResponseWriter, r *http.Request, err error) {
	if _, ok := ledger.AsError(err); ok || errors.Is(err, registry.ErrClosed) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		ledgerError(w, r, err, true)
		return
	}
	if errors.Is(err, hub.ErrUnknownRegistry) {
		writeProblem(w, Problem{Status: http.StatusNotFound, Code: "registry_not_in_corridor", Field: "registry",
			Detail: "Registry " + r.PathValue("registry") + " is served here but is not a member of the corridor."})
		return
	}
	hubProblem(w, r, err)
}

// hubProblem answers an error reaching the corridor: 503, retry. Only a
// write carries an Idempotency-Key, so only a write is told to reuse it.
func hubProblem(w http.ResponseWriter, r *http.Request, err error) {
	slog.WarnContext(r.Context(), "api: corridor", "method", r.Method, "path", r.URL.Path, "err", err)
	w.Header().Set("Retry-After", "1")
	detail := "The corridor's hub could not be reached; retry later."
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		detail = "The corridor's hub could not be reached. A send may be retried with the same Idempotency-Key: it reuses the reservation and re-sends the same proposal."
	}
	writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: codeHubUnavailable, Detail: detail})
}

func (s *Server) handleTransfer(w http.ResponseWriter, r *http.Request) {
	if s.noCorridor(w) {
		return
	}
	id := r.PathValue("id")
	if err := registry.CheckText("id", id, 100); err != nil || id == "" {
		badRequest(w, "invalid_id", "id", "The transfer id "+strconv.Quote(id)+" is not one (REGISTRY:SEQ, as POST …/transfers/cross-border answers).")
		return
	}
	t, err := s.link.Transfer(r.Context(), id)
	if errors.Is(err, hub.ErrNoTransfer) {
		writeProblem(w, Problem{Status: http.StatusNotFound, Code: codeTransferNotFound, Field: "id", Detail: "The hub has no transfer " + strconv.Quote(id) + "."})
		return
	}
	if err != nil {
		hubProblem(w, r, err)
		return
	}
	v := s.transferViewer(r)
	writeJSON(w, http.StatusOK, v.view(t))
}

func (s *Server) handleTransfers(w http.ResponseWriter, r *http.Request) {
	if s.noCorridor(w) {
		return
	}
	q := r.URL.Query()
	f := hub.TransferFilter{Registry: registryCode(q.Get("registry"))}
	if err := registry.CheckText("registry", f.Registry, 12); err != nil {
		badRequest(w, "invalid_query", "registry", "Query parameter registry must be a registry code.")
		return
	}
	if f.Registry != "" {
		// A typo must not read as "no transfers".
		known, err := s.corridorNode(r.Context(), f.Registry)
		if err != nil {
			hubProblem(w, r, err)
			return
		}
		if !known {
			registryNotFound(w, http.StatusNotFound, "registry", f.Registry, "in the corridor", "")
			return
		}
	}
	if a := q.Get("active"); a != "" {
		b, err := strconv.ParseBool(a)
		if err != nil {
			badRequest(w, "invalid_query", "active", "Query parameter active must be true or false.")
			return
		}
		f.Active = b
	}
	limit, ok := queryInt(w, r, "limit", 100, 1, maxTransfersLimit) // 0 would read as "none" here and as "no cap" to the hub
	if !ok {
		return
	}
	f.Limit = int(limit)
	ts, err := s.link.Transfers(r.Context(), f)
	if err != nil {
		hubProblem(w, r, err)
		return
	}
	v := s.transferViewer(r)
	out := make([]TransferView, 0, len(ts))
	for _, t := range ts {
		out = append(out, v.view(t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"transfers": out})
}

// transferViewer decides what a reader of the hub's records sees. The
// records are public (status, history, registries, quantity, serials), as
// the serials' history is public in each registry; the account numbers are
// shown only to a party to the transfer: a viewer whose token, in the
// sending or the acquiring registry (when this server runs it), may see
// that registry's account of the transfer (its holder), or is that
// registry's administrator or auditor. A party sees both numbers: both are
// on the transfer, as on a DES transaction record. A token that is valid
// in no registry here reads as anonymous, as on every read.
type transferViewer struct {
	s      *Server
	ctx    context.Context
	token  string
	actors map[string]*registry.Actor
}

func (s *Server) transferViewer(r *http.Request) *transferViewer {
	tok, _ := bearer(r)
	return &transferViewer{s: s, ctx: r.Context(), token: tok, actors: map[string]*registry.Actor{}}
}

// actor is who the token is in registry code (nil: not served here, or
// not valid there).
func (v *transferViewer) actor(code string) *registry.Actor {
	if v.token == "" {
		return nil
	}
	if a, done := v.actors[code]; done {
		return a
	}
	var out *registry.Actor
	if n := v.s.nodes[code]; n != nil {
		if a, found, err := n.Authenticate(v.ctx, v.token); err == nil && found {
			out = &a
		}
	}
	v.actors[code] = out
	return out
}

func (v *transferViewer) seesSide(code, account string) bool {
	a := v.actor(code)
	if a == nil {
		return false
	}
	if a.Role == ledger.RoleAdmin || a.Role == ledger.RoleAuditor {
		return true
	}
	id, err := strconv.ParseInt(account, 10, 64)
	if err != nil {
		return false
	}
	_, err = v.s.nodes[code].Account(*a, id)
	return err == nil
}

func (v *transferViewer) view(t hub.Transfer) TransferView {
	p := t.Proposal
	out := TransferView{ID: t.ID, Status: int(t.Status), StatusName: t.Status.String(), Final: t.Status.Final(),
		FromRegistry: p.FromRegistry, ToRegistry: p.ToRegistry, UnitType: p.UnitType, Purpose: p.Purpose, Quantity: p.Quantity,
		Blocks: blockViews(p.Blocks), EscrowExpiresAt: p.EscrowExpiry, StartedAt: t.Started(), UpdatedAt: t.Updated(), History: []StatusChangeView{}, SenderState: t.SenderState}
	if v.seesSide(p.FromRegistry, p.FromAccount) || v.seesSide(p.ToRegistry, p.ToAccount) {
		out.FromAccount, out.ToAccount = p.FromAccount, p.ToAccount
	}
	for _, c := range t.History {
		var fs []corridorjson.Finding
		for _, f := range c.Findings {
			fs = append(fs, corridorjson.Finding(f))
		}
		out.History = append(out.History, StatusChangeView{Status: int(c.Status), StatusName: c.Status.String(), At: c.At, Findings: fs})
	}
	return out
}

func blockViews(bs []protocol.Block) []BlockView {
	out := make([]BlockView, 0, len(bs))
	for _, b := range bs {
		id, _ := strconv.ParseInt(b.IssuanceID, 10, 64)
		s := ledger.Serial{Registry: b.OriginRegistry, UnitType: b.UnitType, Project: b.Project, Vintage: b.Vintage, Issuance: id, Start: b.Start, End: b.End}
		out = append(out, BlockView{Serial: s.String(), OriginRegistry: b.OriginRegistry, IssuanceID: id, UnitType: b.UnitType, Project: b.Project,
			Vintage: b.Vintage, Start: b.Start, End: b.End, Quantity: b.Quantity()})
	}
	return out
}
