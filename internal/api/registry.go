package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// routesRegistry registers the registry node endpoints under
// /api/v1/registries/{registry}/.
func (s *Server) routesRegistry(mux *http.ServeMux) {
	const p = "/api/v1/registries/{registry}"
	mux.HandleFunc("GET /api/v1/registries", s.handleRegistries)
	// Public explorer: no token needed, no private account data.
	mux.HandleFunc("GET "+p, s.public(s.handleTotals))
	mux.HandleFunc("GET "+p+"/issuances", s.public(s.handleIssuances))
	mux.HandleFunc("GET "+p+"/issuances/{id}", s.public(s.handleIssuance))
	mux.HandleFunc("GET "+p+"/retirements", s.public(s.handleRetirements))
	mux.HandleFunc("GET "+p+"/serials/{serial}", s.public(s.handleSerial))
	// Private reads.
	mux.HandleFunc("GET "+p+"/organisations", s.authed(readAll, s.handleOrganisations))
	mux.HandleFunc("GET "+p+"/accounts", s.authed(readOwn, s.handleAccounts))
	mux.HandleFunc("GET "+p+"/accounts/{id}", s.authed(readOwn, s.handleAccount))
	mux.HandleFunc("GET "+p+"/accounts/{id}/holdings", s.authed(readOwn, s.handleHoldings))
	mux.HandleFunc("GET "+p+"/transactions", s.authed(readAll, s.handleTransactions))
	// Writes: each needs an Idempotency-Key header.
	mux.HandleFunc("POST "+p+"/organisations", s.authed(admin, write[registry.CreateOrganisation](s)))
	mux.HandleFunc("POST "+p+"/accounts", s.authed(admin, write[registry.OpenAccount](s)))
	mux.HandleFunc("POST "+p+"/accounts/{id}/status", s.authed(admin, s.handleAccountStatus))
	mux.HandleFunc("POST "+p+"/issuances", s.authed(admin, write[registry.Issue](s)))
	mux.HandleFunc("POST "+p+"/transfers", s.authed(mover, write[registry.Transfer](s)))
	mux.HandleFunc("POST "+p+"/retirements", s.authed(mover, write[registry.Retire](s)))
	mux.HandleFunc("POST "+p+"/cancellations", s.authed(mover, write[registry.Cancel](s)))
	mux.HandleFunc("POST "+p+"/reservations", s.authed(mover, write[registry.Reserve](s)))
	mux.HandleFunc("POST "+p+"/reservations/{id}/complete", s.authed(admin, s.handleSettle(true)))
	mux.HandleFunc("POST "+p+"/reservations/{id}/void", s.authed(mover, s.handleSettle(false)))
	mux.HandleFunc("POST "+p+"/tokens", s.authed(admin, write[registry.CreateToken](s)))
}

// Role sets for endpoints. The registry itself also checks that a holder
// acts only on its own organisation's accounts.
var (
	admin   = []ledger.Role{ledger.RoleAdmin}
	mover   = []ledger.Role{ledger.RoleAdmin, ledger.RoleHolder}
	readAll = []ledger.Role{ledger.RoleAdmin, ledger.RoleAuditor}
	readOwn = []ledger.Role{ledger.RoleAdmin, ledger.RoleAuditor, ledger.RoleHolder}
)

type ctxKey int

const actorKey ctxKey = 0

type nodeHandler func(w http.ResponseWriter, r *http.Request, n *registry.Node)

// node finds the registry named in the path.
func (s *Server) node(w http.ResponseWriter, r *http.Request) *registry.Node {
	code := r.PathValue("registry")
	n := s.nodes[code]
	if n == nil {
		writeProblem(w, Problem{Status: http.StatusNotFound, Code: "registry_not_found", Field: "registry",
			Detail: "No registry " + strconv.Quote(code) + " on this server; GET /api/v1/registries lists them."})
	}
	return n
}

func (s *Server) public(h nodeHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if n := s.node(w, r); n != nil {
			// A valid token is optional here; with one, readers get full detail.
			if tok, ok := bearer(r); ok {
				if actor, found, err := n.Authenticate(r.Context(), tok); err == nil && found {
					r = r.WithContext(context.WithValue(r.Context(), actorKey, actor))
				}
			}
			h(w, r, n)
		}
	}
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	return strings.TrimSpace(tok), ok && strings.TrimSpace(tok) != ""
}

// authed requires a token of one of the roles.
func (s *Server) authed(roles []ledger.Role, h nodeHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := s.node(w, r)
		if n == nil {
			return
		}
		tok, ok := bearer(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="corridor"`)
			writeProblem(w, Problem{Status: http.StatusUnauthorized, Code: "unauthenticated", Detail: "This endpoint needs an API token: Authorization: Bearer <token>."})
			return
		}
		actor, found, err := n.Authenticate(r.Context(), tok)
		if err != nil {
			ledgerError(w, r, err, false) // an ended request is not an internal error
			return
		}
		if !found {
			w.Header().Set("WWW-Authenticate", `Bearer realm="corridor", error="invalid_token"`)
			writeProblem(w, Problem{Status: http.StatusUnauthorized, Code: "unauthenticated", Detail: "The API token is not valid for registry " + n.Code() + "."})
			return
		}
		allowed := false
		for _, role := range roles {
			allowed = allowed || actor.Role == role
		}
		if !allowed {
			writeProblem(w, Problem{Status: http.StatusForbidden, Code: ledger.CodeForbidden, Detail: "Role " + string(actor.Role) + " may not use this endpoint."})
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), actorKey, actor)), n)
	}
}

func actorOf(r *http.Request) (registry.Actor, bool) {
	a, ok := r.Context().Value(actorKey).(registry.Actor)
	return a, ok
}

// ledgerError maps a registry error onto a problem response. write says
// whether the request was a write, where a missing referenced thing is a
// 422 (the request names it) rather than a 404 (the URL names it).
func ledgerError(w http.ResponseWriter, r *http.Request, err error, write bool) {
	e, ok := ledger.AsError(err)
	if !ok {
		switch {
		case errors.Is(err, registry.ErrClosed):
			w.Header().Set("Retry-After", "1")
			writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: "unavailable", Detail: "The registry is shutting down; retry with the same Idempotency-Key."})
			return
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			// The request ended (the client went away, or its deadline
			// passed) before the writer took the transaction: nothing was
			// decided. The registry is not shutting down.
			w.Header().Set("Retry-After", "1")
			writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: "request_ended", Detail: "The request ended before the registry took the transaction; nothing was committed. Retry with the same Idempotency-Key."})
			return
		}
		internalError(w, r, err)
		return
	}
	status := http.StatusBadRequest
	switch e.Kind {
	case ledger.KindNotExist:
		status = http.StatusNotFound
		if write {
			status = http.StatusUnprocessableEntity
		}
	case ledger.KindPermission:
		status = http.StatusForbidden
	case ledger.KindConflict, ledger.KindExist:
		status = http.StatusConflict
	case ledger.KindTransient:
		status = http.StatusServiceUnavailable
		// unavailable and outcome_unknown: retry, with the same key.
		w.Header().Set("Retry-After", "1")
	}
	title := "Request rejected"
	if e.Check != 0 {
		title = "Rejected by registry check " + strconv.Itoa(e.Check)
	}
	writeProblem(w, Problem{Status: status, Code: e.Code, Title: title, Detail: e.Detail, Field: e.Field})
}

// write is the handler of a write endpoint whose body is a T.
func write[T registry.Request](s *Server) nodeHandler {
	return func(w http.ResponseWriter, r *http.Request, n *registry.Node) {
		var req T
		if !decodeJSON(w, r, &req) {
			return
		}
		s.submit(w, r, n, req)
	}
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request, n *registry.Node, req registry.Request) {
	actor, _ := actorOf(r)
	res, err := n.Do(r.Context(), actor, r.Header.Get("Idempotency-Key"), req)
	if err != nil {
		ledgerError(w, r, err, true)
		return
	}
	status := http.StatusCreated
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
		status = http.StatusOK
	}
	writeJSON(w, status, res)
}

func (s *Server) handleAccountStatus(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	var body struct {
		Status ledger.AccountStatus `json:"status"`
	}
	if !decodeJSON(w, r, &body) {
		return
	}
	s.submit(w, r, n, registry.SetAccountStatus{AccountID: id, Status: body.Status})
}

func (s *Server) handleSettle(complete bool) nodeHandler {
	return func(w http.ResponseWriter, r *http.Request, n *registry.Node) {
		id, ok := pathID(w, r, "id")
		if !ok {
			return
		}
		var body struct {
			Reason string `json:"reason,omitempty"`
		}
		if r.ContentLength != 0 && !decodeJSON(w, r, &body) {
			return
		}
		if complete {
			s.submit(w, r, n, registry.Complete{Pending: id})
		} else {
			s.submit(w, r, n, registry.Void{Pending: id, Reason: body.Reason})
		}
	}
}

func pathID(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		badRequest(w, "invalid_id", name, "The path segment "+strconv.Quote(r.PathValue(name))+" must be a positive integer id.")
		return 0, false
	}
	return id, true
}

// queryInt reads an optional non-negative integer query parameter.
func queryInt(w http.ResponseWriter, r *http.Request, name string, def, maxV int64) (int64, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > maxV {
		badRequest(w, "invalid_query", name, "Query parameter "+name+" must be an integer from 0 to "+strconv.FormatInt(maxV, 10)+".")
		return 0, false
	}
	return n, true
}

func (s *Server) handleRegistries(w http.ResponseWriter, r *http.Request) {
	out := make([]registry.Totals, 0, len(s.codes))
	for _, c := range s.codes {
		out = append(out, s.nodes[c].Totals())
	}
	writeJSON(w, http.StatusOK, map[string]any{"registries": out})
}

func (s *Server) handleTotals(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	writeJSON(w, http.StatusOK, n.Totals())
}

// publicView reports whether a public endpoint must leave account numbers
// out: for anonymous callers and holders (who may see only their own).
func publicView(r *http.Request) bool {
	actor, ok := actorOf(r)
	return !ok || actor.Role == ledger.RoleHolder
}

func (s *Server) handleIssuances(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	out := n.Issuances()
	if publicView(r) {
		for i := range out {
			out[i].AccountID = 0
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"issuances": out})
}

func (s *Server) handleIssuance(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	v, err := n.Issuance(id)
	if err != nil {
		ledgerError(w, r, err, false)
		return
	}
	if publicView(r) {
		v.AccountID = 0
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleRetirements(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	after, ok := queryInt(w, r, "after", 0, 1<<62)
	if !ok {
		return
	}
	limit, ok := queryInt(w, r, "limit", 100, 1000)
	if !ok {
		return
	}
	out, err := n.Retirements(r.Context(), after, int(limit))
	if err != nil {
		internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"retirements": out})
}

func (s *Server) handleSerial(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	info, err := n.Lookup(r.Context(), r.PathValue("serial"), publicView(r))
	if err != nil {
		ledgerError(w, r, err, false)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) handleOrganisations(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	writeJSON(w, http.StatusOK, map[string]any{"organisations": n.Organisations()})
}

func (s *Server) handleAccounts(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	actor, _ := actorOf(r)
	var org int64
	if actor.Role == ledger.RoleHolder {
		org = actor.OrgID
	}
	writeJSON(w, http.StatusOK, map[string]any{"accounts": n.Accounts(org)})
}

// ownAccount loads the account in the path, hiding other organisations'
// accounts from holders (as not found, so ids cannot be probed).
func ownAccount(w http.ResponseWriter, r *http.Request, n *registry.Node) (registry.AccountView, bool) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return registry.AccountView{}, false
	}
	v, err := n.Account(id)
	actor, _ := actorOf(r)
	if err == nil && actor.Role == ledger.RoleHolder && v.OrgID != actor.OrgID {
		err = ledger.Errorf(ledger.KindNotExist, ledger.CodeAccountNotFound, 1002, "id", "account %d does not exist", id)
	}
	if err != nil {
		ledgerError(w, r, err, false)
		return v, false
	}
	return v, true
}

func (s *Server) handleAccount(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	if v, ok := ownAccount(w, r, n); ok {
		writeJSON(w, http.StatusOK, v)
	}
}

func (s *Server) handleHoldings(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	v, ok := ownAccount(w, r, n)
	if !ok {
		return
	}
	offset, ok := queryInt(w, r, "offset", 0, 1<<40)
	if !ok {
		return
	}
	limit, ok := queryInt(w, r, "limit", 1000, 10000)
	if !ok {
		return
	}
	blocks, err := n.Holdings(v.ID, int(offset), int(limit))
	if err != nil {
		ledgerError(w, r, err, false)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"account_id": v.ID, "blocks": blocks})
}

func (s *Server) handleTransactions(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	after, ok := queryInt(w, r, "after", 0, 1<<62)
	if !ok {
		return
	}
	limit, ok := queryInt(w, r, "limit", 100, 1000)
	if !ok {
		return
	}
	kind := r.URL.Query().Get("kind")
	if kind != "" {
		if _, err := registry.DecodeRequest(kind, []byte("{}")); err != nil {
			badRequest(w, "invalid_query", "kind", "Unknown transaction kind "+strconv.Quote(kind)+".")
			return
		}
	}
	out, err := n.Transactions(r.Context(), after, kind, int(limit))
	if err != nil {
		internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"transactions": out})
}
