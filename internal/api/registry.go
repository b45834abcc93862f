package api

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// routesRegistry registers the registry node endpoints under
// /api/v1/registries/{registry}/. Reads pass the viewer (the token's actor,
// or registry.Anonymous) to the registry, which decides what it may see;
// writes are derived from registry.Kinds.
func (s *Server) routesRegistry(mux *http.ServeMux) {
	const p = "/api/v1/registries/{registry}"
	mux.HandleFunc("GET /api/v1/registries", s.handleRegistries)
	for _, rt := range s.registryReads() {
		mux.HandleFunc("GET "+p+rt.path, s.read(rt.h))
	}
	// Writes: one route per transaction kind that callers submit.
	for i := range registry.Kinds {
		if k := &registry.Kinds[i]; k.Route != "" {
			mux.HandleFunc("POST "+p+k.Route, s.write(k))
		}
	}
}

// readRoute is one read endpoint under /api/v1/registries/{registry}.
type readRoute struct {
	path string
	h    nodeHandler
}

// registryReads lists the registry's read endpoints (GET); the OpenAPI
// test checks the document has each one.
func (s *Server) registryReads() []readRoute {
	return []readRoute{
		{"", s.handleTotals},
		{"/issuances", s.handleIssuances},
		{"/issuances/{id}", s.handleIssuance},
		{"/retirements", s.handleRetirements},
		{"/serials/{serial}", s.handleSerial},
		{"/organisations", s.handleOrganisations},
		{"/accounts", s.handleAccounts},
		{"/accounts/{id}", s.handleAccount},
		{"/accounts/{id}/holdings", s.handleHoldings},
		{"/reservations", s.handleReservations},
		{"/transactions", s.handleTransactions},
		{"/head", s.handleHead},
		{"/key", s.handleKey},
		{"/snapshot", s.handleSnapshot},
		{"/freezes", s.handleFreezes},
	}
}

type ctxKey int

const (
	actorKey ctxKey = iota
	badTokenKey
)

type nodeHandler func(w http.ResponseWriter, r *http.Request, n *registry.Node)

// codeRegistryNotFound is the one code for "no such registry", whether a
// path, a query parameter or a body names it.
const codeRegistryNotFound = "registry_not_found"

// registryCode is a registry code as a client typed it, in the corridor's
// spelling: codes are upper case ("cn" is CN).
func registryCode(code string) string { return strings.ToUpper(code) }

// registryNotFound answers that no registry code exists where the request
// looked: status 404 for a path or query, 422 for a body field (as every
// other reference a body makes), where "on this server" or "in the
// corridor", then the sentence's end (after). One code, one sentence.
func registryNotFound(w http.ResponseWriter, status int, field, code, where, after string) {
	writeProblem(w, Problem{Status: status, Code: codeRegistryNotFound, Field: field,
		Detail: "No registry " + strconv.Quote(code) + " " + where + "; GET /api/v1/registries lists the registry codes." + after})
}

// node finds the registry named in the path (in any letter case). A code
// of the corridor that this server does not run says so.
func (s *Server) node(w http.ResponseWriter, r *http.Request) *registry.Node {
	code := registryCode(r.PathValue("registry"))
	r.SetPathValue("registry", code)
	n := s.nodes[code]
	if n != nil {
		return n
	}
	if s.link != nil {
		if known, err := s.corridorNode(r.Context(), code); err == nil && known {
			writeProblem(w, Problem{Status: http.StatusNotFound, Code: codeRegistryNotFound, Field: "registry",
				Detail: "Registry " + code + " is in the corridor but this server does not run it (serving false in GET /api/v1/registries)."})
			return nil
		}
	}
	registryNotFound(w, http.StatusNotFound, "registry", code, "on this server", "")
	return nil
}

// authenticate resolves the request's token: registry.Anonymous without
// one; an invalid token is answered 401 (ok false).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, n *registry.Node) (registry.Actor, bool) {
	tok, ok := bearer(r)
	if !ok {
		return registry.Anonymous, true
	}
	actor, found, err := n.Authenticate(r.Context(), tok)
	if err != nil {
		ledgerError(w, r, err, false) // an ended request is not an internal error
		return registry.Actor{}, false
	}
	if !found {
		w.Header().Set("WWW-Authenticate", `Bearer realm="corridor", error="invalid_token"`)
		writeProblem(w, Problem{Status: http.StatusUnauthorized, Code: "unauthenticated", Detail: "The API token is not valid for registry " + n.Code() + "."})
		return registry.Actor{}, false
	}
	return actor, true
}

// tokenHolder is authenticate for an endpoint that needs a token: an
// anonymous caller is answered 401.
func (s *Server) tokenHolder(w http.ResponseWriter, r *http.Request, n *registry.Node) (registry.Actor, bool) {
	actor, ok := s.authenticate(w, r, n)
	if !ok {
		return registry.Actor{}, false
	}
	if actor == registry.Anonymous {
		w.Header().Set("WWW-Authenticate", `Bearer realm="corridor"`)
		writeProblem(w, Problem{Status: http.StatusUnauthorized, Code: "unauthenticated", Detail: "This endpoint needs an API token: Authorization: Bearer <token>."})
		return registry.Actor{}, false
	}
	return actor, true
}

// read serves a read: the registry decides what the viewer sees. A token
// that is not valid here reads as anonymous (a CLI may hold another
// registry's token for public reads); a read that needs a valid one says so.
func (s *Server) read(h nodeHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := s.node(w, r)
		if n == nil {
			return
		}
		if err := n.Serving(); err != nil {
			ledgerError(w, r, err, false)
			return
		}
		actor := registry.Anonymous
		if tok, ok := bearer(r); ok {
			a, found, err := n.Authenticate(r.Context(), tok)
			if err != nil {
				ledgerError(w, r, err, false)
				return
			}
			if found {
				actor = a
			} else {
				r = r.WithContext(context.WithValue(r.Context(), badTokenKey, true))
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), actorKey, actor)), n)
	}
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	return strings.TrimSpace(tok), ok && strings.TrimSpace(tok) != ""
}

// viewer is the actor a read is made for (registry.Anonymous without a token).
func viewer(r *http.Request) registry.Actor {
	a, _ := r.Context().Value(actorKey).(registry.Actor)
	return a
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
	if e.Code == "unauthenticated" {
		if bad, _ := r.Context().Value(badTokenKey).(bool); bad {
			w.Header().Set("WWW-Authenticate", `Bearer realm="corridor", error="invalid_token"`)
			writeProblem(w, Problem{Status: http.StatusUnauthorized, Code: e.Code, Detail: "The API token is not valid for this registry."})
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="corridor"`)
		writeProblem(w, Problem{Status: http.StatusUnauthorized, Code: e.Code, Detail: "This needs an API token: Authorization: Bearer <token>."})
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

// write is the handler of the write endpoint of kind k: token, role (from
// the kinds table), Idempotency-Key, media type, strict body, path id.
func (s *Server) write(k *registry.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := s.node(w, r)
		if n == nil {
			return
		}
		actor, ok := s.tokenHolder(w, r, n)
		if !ok {
			return
		}
		if !k.MayCall(actor) {
			writeProblem(w, Problem{Status: http.StatusForbidden, Code: ledger.CodeForbidden, Detail: "Role " + string(actor.Role) + " may not submit " + k.Name + " transactions."})
			return
		}
		key := r.Header.Get("Idempotency-Key")
		if err := registry.CheckKey(key); err != nil {
			ledgerError(w, r, err, true)
			return
		}
		raw, ok := readBody(w, r, k.BodyOptional)
		if !ok {
			return
		}
		// The kind's own decoder (k.Decode) is strictjson.Decode into a
		// new k.Type; decodeBody also checks the required fields in the
		// same scan.
		dst := reflect.New(k.Type)
		if !decodeBody(w, r, raw, dst.Interface()) {
			return
		}
		req := dst.Elem().Interface().(registry.Request)
		if k.PathID != "" {
			id, ok := pathID(w, r, "id")
			if !ok {
				return
			}
			if k.ID(req) != 0 {
				badRequest(w, ledger.CodeInvalid, k.PathID, "The "+k.PathID+" is given by the path; leave it out of the body.")
				return
			}
			req = k.WithID(req, id)
		}
		res, err := n.Do(r.Context(), actor, key, req)
		if err != nil {
			ledgerError(w, r, err, true)
			return
		}
		status := http.StatusCreated
		if res.Replayed {
			w.Header().Set("Idempotent-Replayed", "true")
			status = http.StatusOK
		}
		writeResult(w, status, &res)
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

// maxPageLimit bounds every list's limit parameter (the OpenAPI document
// says the same: minimum 1, maximum 1000).
const maxPageLimit = 1000

// queryInt reads an optional integer query parameter from minV to maxV
// (guardQueries has already checked it against the OpenAPI document; this
// is the handler's own guard, in the same words).
func queryInt(w http.ResponseWriter, r *http.Request, name string, def, minV, maxV int64) (int64, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < minV || n > maxV {
		badRequest(w, codeInvalidQuery, name, "Query parameter "+name+" must be an integer from "+strconv.FormatInt(minV, 10)+" to "+strconv.FormatInt(maxV, 10)+
			" (default "+strconv.FormatInt(def, 10)+"), not "+strconv.Quote(v)+".")
		return 0, false
	}
	return n, true
}

// queryLimit reads a list's limit: 1 to maxPageLimit.
func queryLimit(w http.ResponseWriter, r *http.Request, def int64) (int64, bool) {
	return queryInt(w, r, "limit", def, 1, maxPageLimit)
}

func (s *Server) handleTotals(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	writeJSON(w, http.StatusOK, n.Totals())
}

func (s *Server) handleIssuances(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	writeJSON(w, http.StatusOK, map[string]any{"issuances": n.Issuances(viewer(r))})
}

func (s *Server) handleIssuance(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	writeByID(w, r, n.Issuance)
}

// writeByID answers with what read shows the caller of the path's {id}.
func writeByID[T any](w http.ResponseWriter, r *http.Request, read func(v registry.Actor, id int64) (T, error)) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	v, err := read(viewer(r), id)
	if err != nil {
		ledgerError(w, r, err, false)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// journalPage reads the page of a journal read: the entries after
// sequence number after (default 0), at most limit of them (1 to 1000,
// default 100).
func journalPage(w http.ResponseWriter, r *http.Request) (after int64, limit int, ok bool) {
	after, ok = queryInt(w, r, "after", 0, 0, 1<<62)
	if !ok {
		return 0, 0, false
	}
	l, ok := queryLimit(w, r, 100)
	return after, int(l), ok
}

func (s *Server) handleRetirements(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	after, limit, ok := journalPage(w, r)
	if !ok {
		return
	}
	out, err := n.Retirements(r.Context(), viewer(r), after, limit)
	if err != nil {
		ledgerError(w, r, err, false)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"retirements": out})
}

func (s *Server) handleSerial(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	info, err := n.Lookup(r.Context(), viewer(r), r.PathValue("serial"))
	if err != nil {
		ledgerError(w, r, err, false)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) handleOrganisations(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	writeList(w, r, "organisations", n.Organisations)
}

// writeList answers with what read shows the caller, as the one member
// name of a JSON object.
func writeList[T any](w http.ResponseWriter, r *http.Request, name string, read func(v registry.Actor) (T, error)) {
	out, err := read(viewer(r))
	if err != nil {
		ledgerError(w, r, err, false)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{name: out})
}

func (s *Server) handleAccounts(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	writeList(w, r, "accounts", n.Accounts)
}

func (s *Server) handleAccount(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	writeByID(w, r, n.Account)
}

func (s *Server) handleHoldings(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	offset, ok := queryInt(w, r, "offset", 0, 0, 1<<40)
	if !ok {
		return
	}
	limit, ok := queryLimit(w, r, maxPageLimit)
	if !ok {
		return
	}
	blocks, err := n.Holdings(viewer(r), id, int(offset), int(limit))
	if err != nil {
		ledgerError(w, r, err, false)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"account_id": id, "blocks": blocks})
}

func (s *Server) handleReservations(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	out, err := n.Escrows(viewer(r))
	if err != nil {
		ledgerError(w, r, err, false)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"reservations": out})
}

func (s *Server) handleTransactions(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	after, limit, ok := journalPage(w, r)
	if !ok {
		return
	}
	kind := r.URL.Query().Get("kind")
	if kind != "" && registry.KindOf(kind) == nil {
		badRequest(w, "invalid_query", "kind", "Unknown transaction kind "+strconv.Quote(kind)+".")
		return
	}
	out, err := n.Transactions(r.Context(), viewer(r), after, kind, limit)
	if err != nil {
		ledgerError(w, r, err, false)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"transactions": out})
}
