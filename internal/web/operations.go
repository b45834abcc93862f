package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// The operations pages: signed-in forms for a registry administrator, a
// journal browser and an escrows page for auditors. Every form posts through
// registry.Node.Do, the same write path as the API, with the session's actor
// and an idempotency key made when the form was rendered: submitting a form
// twice applies it once.
func (s *Site) routesOperations(mux *http.ServeMux) {
	mux.HandleFunc("GET /registries/{registry}/operations", s.handleOperations)
	mux.HandleFunc("POST /registries/{registry}/operations/{op}", s.handleOperation)
	mux.HandleFunc("GET /registries/{registry}/journal", s.handleJournal)
	mux.HandleFunc("GET /registries/{registry}/escrows", s.handleEscrows)
}

// operations maps each form to the request it builds from its fields.
var operations = map[string]func(f formReader) registry.Request{
	"open-account": func(f formReader) registry.Request {
		return registry.OpenAccount{OrgID: f.int("organisation_id"), Type: ledger.AccountType(f.str("type")), Name: f.str("name")}
	},
	"account-status": func(f formReader) registry.Request {
		return registry.SetAccountStatus{AccountID: f.int("account_id"), Status: ledger.AccountStatus(f.str("status"))}
	},
	"issue": func(f formReader) registry.Request {
		return registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: f.str("standard"), UnitType: f.str("unit_type"), Project: f.str("project"), ProjectName: f.str("project_name"),
			Methodology: f.str("methodology"), HostCountry: f.str("host_country"), Vintage: int(f.int("vintage")), Quantity: f.int("quantity")}, AccountID: f.int("account_id")}
	},
	"transfer-quantity": func(f formReader) registry.Request {
		return registry.Transfer{From: f.int("from_account"), To: f.int("to_account"), Units: registry.Units{Quantity: f.int("quantity"), UnitType: f.str("unit_type")}}
	},
	"transfer-serials": func(f formReader) registry.Request {
		return registry.Transfer{From: f.int("from_account"), To: f.int("to_account"), Units: registry.Units{Serials: f.lines("serials")}}
	},
	"retire": func(f formReader) registry.Request {
		return registry.Retire{From: f.int("from_account"), Units: f.units(), Beneficiary: f.str("beneficiary"), Purpose: f.str("purpose"),
			ComplianceYear: int(f.optInt("compliance_year")), Reason: f.str("reason")}
	},
	"cancel": func(f formReader) registry.Request {
		return registry.Cancel{From: f.int("from_account"), Units: f.units(), Reason: f.str("reason")}
	},
	"reserve": func(f formReader) registry.Request {
		return registry.Reserve{From: f.int("from_account"), ToAccount: f.int("to_account"), Units: registry.Units{Quantity: f.int("quantity"), UnitType: f.str("unit_type")},
			ExpiresIn: f.optInt("expires_in_hours") * 3600}
	},
	"settle": func(f formReader) registry.Request {
		switch f.str("action") {
		case "complete":
			return registry.Complete{Pending: f.int("pending")}
		case "void":
			return registry.Void{Pending: f.int("pending"), Reason: f.str("reason")}
		}
		f.fail("action", "form.error.action")
		return nil
	},
}

// formReader reads typed fields of a posted form, remembering the first
// field that could not be read, so a form is refused before any write.
type formReader struct {
	v   url.Values
	bad *formError
}

// formError is a field the page could not read, with a catalogue key.
type formError struct{ Field, Key string }

func (f formReader) fail(field, key string) {
	if f.bad.Field == "" {
		*f.bad = formError{Field: field, Key: key}
	}
}

func (f formReader) str(name string) string { return strings.TrimSpace(f.v.Get(name)) }

func (f formReader) int(name string) int64 {
	v, err := strconv.ParseInt(f.str(name), 10, 64)
	if err != nil {
		f.fail(name, "form.error.number")
	}
	return v
}

func (f formReader) optInt(name string) int64 {
	if f.str(name) == "" {
		return 0
	}
	return f.int(name)
}

// lines splits a text area into its non-empty lines (one serial a line).
func (f formReader) lines(name string) []string {
	var out []string
	for _, l := range strings.Split(f.v.Get(name), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		f.fail(name, "form.error.serials")
	}
	return out
}

// units reads a selection by serials when any are given, else by quantity.
func (f formReader) units() registry.Units {
	if strings.TrimSpace(f.v.Get("serials")) != "" {
		return registry.Units{Serials: f.lines("serials")}
	}
	return registry.Units{Quantity: f.int("quantity"), UnitType: f.str("unit_type")}
}

// opsData is the operations page.
type opsData struct {
	Registry      string
	Actor         *registry.Actor
	Organisations []ledger.Organisation
	Accounts      []registry.AccountView
	UnitTypes     []string
	Escrows       []registry.EscrowView
	// Keys holds one fresh idempotency key per form.
	Keys map[string]string
	// Failed is the form whose submission was refused, with its values
	// and the reason.
	Failed string
	Values url.Values
	Error  *opError
	// Done is the transaction a form just committed; Replayed says the
	// form had been submitted before and was not applied again.
	Done     *registry.Transaction
	Replayed bool
}

// opError is why a form was refused: a rule of the registry (Detail is the
// registry's sentence, Code its stable code) or a field the page could not
// read (Key is a catalogue key).
type opError struct {
	Code, Field, Detail, Key string
	Check                    int
}

// V returns a refused form's value, so the page shows what was typed.
func (d opsData) V(op, field string) string {
	if d.Failed != op {
		return ""
	}
	return d.Values.Get(field)
}

// Err returns the error of form op, if it was the one refused.
func (d opsData) Err(op string) *opError {
	if d.Failed != op {
		return nil
	}
	return d.Error
}

// requireRole answers the request itself unless the session is signed in
// to n in one of roles: the sign-in page (401) when not signed in there, a
// 403 page when signed in with another role.
func (s *Site) requireRole(w http.ResponseWriter, r *http.Request, n *registry.Node, roles ...ledger.Role) *registry.Actor {
	a := s.actor(r, n)
	if a == nil {
		// After signing in, a GET comes back to its page; a refused post
		// (its session ended) to the registry's page, as a form cannot be
		// fetched again.
		next := "/registries/" + n.Code()
		if r.Method == http.MethodGet {
			next = r.URL.RequestURI()
		}
		s.renderStatus(w, r, http.StatusUnauthorized, "signin.html",
			signInData{Registries: s.codes, SignIn: signInForm{Registry: n.Code(), Next: next}, Error: "signin.needed", ErrorArgs: []any{n.Code()}})
		return nil
	}
	for _, role := range roles {
		if a.Role == role {
			return a
		}
	}
	s.renderError(w, r, http.StatusForbidden, "error.role", n.Code())
	return nil
}

func (s *Site) opsPage(r *http.Request, n *registry.Node, a *registry.Actor) opsData {
	d := opsData{Registry: n.Code(), Actor: a, Keys: map[string]string{}}
	// a is an administrator: these reads are never refused.
	d.Organisations, _ = n.Organisations(*a)
	d.Accounts, _ = n.Accounts(*a)
	d.Escrows, _ = n.Escrows(*a) // a is an administrator: never refused
	seen := map[string]bool{}
	for _, x := range n.Issuances(*a) {
		if !seen[x.UnitType] {
			seen[x.UnitType] = true
			d.UnitTypes = append(d.UnitTypes, x.UnitType)
		}
	}
	for op := range operations {
		d.Keys[op] = randomID()
	}
	return d
}

// adminNode is the registry of the path and its signed-in administrator;
// nil when either is missing, after answering (404, or sign-in/forbidden).
func (s *Site) adminNode(w http.ResponseWriter, r *http.Request) (*registry.Node, *registry.Actor) {
	return s.nodeAs(w, r, ledger.RoleAdmin)
}

// nodeAs is the registry of the path and its signed-in actor in one of
// roles; nil when either is missing, after answering as adminNode does.
func (s *Site) nodeAs(w http.ResponseWriter, r *http.Request, roles ...ledger.Role) (*registry.Node, *registry.Actor) {
	n := s.nodeOr404(w, r)
	if n == nil {
		return nil, nil
	}
	return n, s.requireRole(w, r, n, roles...)
}

func (s *Site) handleOperations(w http.ResponseWriter, r *http.Request) {
	n, a := s.adminNode(w, r)
	if a == nil {
		return
	}
	d := s.opsPage(r, n, a)
	if seq, err := strconv.ParseInt(r.URL.Query().Get("done"), 10, 64); err == nil && seq > 0 {
		if txs, err := n.Journal(r.Context(), *a, registry.JournalFilter{After: seq - 1, Limit: 1}); err == nil && len(txs) == 1 && txs[0].Seq == seq {
			d.Done = &txs[0]
		}
		d.Replayed = r.URL.Query().Get("replayed") == "1"
	}
	s.render(w, r, "operations.html", d)
}

// webKeyPrefix keeps the dashboard's idempotency keys apart from API
// clients' keys, which share one namespace per node.
const webKeyPrefix = "web:"

// handleOperation applies one form. On success it redirects (303) to the
// operations page showing the committed transaction, so reloading the page
// does not post again; on refusal it shows the page again with the reason
// beside the form and the values typed.
func (s *Site) handleOperation(w http.ResponseWriter, r *http.Request) {
	n, a := s.adminNode(w, r)
	if a == nil {
		return
	}
	op := r.PathValue("op")
	build, ok := operations[op]
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	key := r.PostForm.Get("idempotency_key")
	refuse := func(status int, e *opError) {
		d := s.opsPage(r, n, a)
		d.Failed, d.Values, d.Error = op, r.PostForm, e
		s.renderStatus(w, r, status, "operations.html", d)
	}
	if key == "" || len(key) > 100 {
		refuse(http.StatusBadRequest, &opError{Field: "idempotency_key", Key: "form.error.key"})
		return
	}
	bad := &formError{}
	req := build(formReader{v: r.PostForm, bad: bad})
	if bad.Field != "" {
		refuse(http.StatusBadRequest, &opError{Field: bad.Field, Key: bad.Key})
		return
	}
	// The write must be decided even if the browser goes away: Do waits
	// for the outcome once the call is queued, and this bounds the queueing.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
	defer cancel()
	res, err := n.Do(ctx, *a, webKeyPrefix+key, req)
	if err != nil {
		e, ok := ledger.AsError(err)
		if !ok {
			slog.ErrorContext(r.Context(), "web: operation", "registry", n.Code(), "op", op, "err", err)
			status := http.StatusInternalServerError
			if errors.Is(err, registry.ErrClosed) || errors.Is(err, context.DeadlineExceeded) {
				status = http.StatusServiceUnavailable
			}
			refuse(status, &opError{Key: "form.error.unavailable"})
			return
		}
		refuse(statusOf(e), &opError{Code: e.Code, Field: e.Field, Detail: e.Detail, Check: e.Check})
		return
	}
	target := "/registries/" + n.Code() + "/operations?done=" + strconv.FormatInt(res.Seq, 10)
	if res.Replayed {
		target += "&replayed=1"
	}
	http.Redirect(w, r, target+"#result", http.StatusSeeOther)
}

// statusOf maps a ledger error kind to the status of the refused page.
func statusOf(e *ledger.Error) int {
	switch e.Kind {
	case ledger.KindInvalid:
		return http.StatusUnprocessableEntity
	case ledger.KindNotExist:
		return http.StatusNotFound
	case ledger.KindPermission:
		return http.StatusForbidden
	case ledger.KindConflict, ledger.KindExist:
		return http.StatusConflict
	case ledger.KindTransient:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// journalPageSize is how many entries one journal page lists.
var journalPageSize = 50

type journalData struct {
	Registry string
	Filter   url.Values
	Kinds    []string
	Entries  []registry.Transaction
	// Next is the address of the following page ("" on the last page).
	Next  string
	Error string // a catalogue key
	Field string
	// Args are the error message's arguments (Field when nil).
	Args []any
}

// journalParams are the journal page's query parameters.
var journalParams = []string{"kind", "account", "from", "to", "after"}

// journalKinds are the transaction kinds the filter offers: the registry's
// table of kinds, so a new kind is offered (and checked to be catalogued).
var journalKinds = func() []string {
	var out []string
	for _, k := range registry.Kinds {
		out = append(out, k.Name)
	}
	return out
}()

// handleJournal lists journal entries for an administrator or auditor,
// filtered by account, kind and UTC date, 50 a page, each with its hash.
func (s *Site) handleJournal(w http.ResponseWriter, r *http.Request) {
	n, a := s.nodeAs(w, r, ledger.RoleAdmin, ledger.RoleAuditor)
	if a == nil {
		return
	}
	q := r.URL.Query()
	d := journalData{Registry: n.Code(), Filter: q, Kinds: journalKinds}
	for name := range q {
		if !slices.Contains(journalParams, name) {
			// An unknown filter (?type=) would list every entry as if it
			// had matched.
			d.Error, d.Field = "journal.error.unknown", name
			d.Args = []any{name, strings.Join(journalKinds, ", ")}
			s.renderStatus(w, r, http.StatusBadRequest, "journal.html", d)
			return
		}
	}
	f := registry.JournalFilter{Limit: journalPageSize + 1, Kind: q.Get("kind")}
	var err error
	parse := func(name string, fn func(string) error) {
		if v := strings.TrimSpace(q.Get(name)); v != "" && err == nil {
			if err = fn(v); err != nil {
				d.Field = name
			}
		}
	}
	parse("after", func(v string) (e error) { f.After, e = strconv.ParseInt(v, 10, 64); return })
	parse("account", func(v string) (e error) { f.Account, e = strconv.ParseInt(v, 10, 64); return })
	parse("from", func(v string) (e error) { f.Since, e = time.Parse(time.DateOnly, v); return })
	parse("to", func(v string) (e error) { f.Until, e = time.Parse(time.DateOnly, v); return })
	if f.Kind != "" && err == nil {
		if _, err = registry.DecodeRequest(f.Kind, []byte("{}")); err != nil {
			d.Error, d.Field = "journal.error.kind", "kind"
			d.Args = []any{f.Kind, strings.Join(journalKinds, ", ")}
			s.renderStatus(w, r, http.StatusBadRequest, "journal.html", d)
			return
		}
	}
	if err != nil {
		d.Error = "journal.error.filter"
		s.renderStatus(w, r, http.StatusBadRequest, "journal.html", d)
		return
	}
	txs, err := n.Journal(r.Context(), *a, f)
	if err != nil {
		slog.ErrorContext(r.Context(), "web: journal", "registry", n.Code(), "err", err)
		d.Error = "journal.error.read"
		s.renderStatus(w, r, http.StatusInternalServerError, "journal.html", d)
		return
	}
	if len(txs) > journalPageSize {
		txs = txs[:journalPageSize]
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("after", strconv.FormatInt(txs[len(txs)-1].Seq, 10))
		d.Next = "/registries/" + n.Code() + "/journal?" + next.Encode()
	}
	d.Entries = txs
	s.render(w, r, "journal.html", d)
}

type escrowsData struct {
	Registry string
	Actor    *registry.Actor
	Escrows  []escrowRow
	// More counts the escrows past maxEscrowRows, not listed.
	More int
	// Key is a fresh idempotency key per escrow's settle form.
	Keys map[int64]string
}

// maxEscrowRows bounds the escrows one page lists (oldest first): each row
// reads its reservation's journal entry.
const maxEscrowRows = 200

// escrowRow is a pending reservation with the time it was made; Soon
// marks one that expires within expiringSoon (or is past its expiry and
// waits for the node to void it).
type escrowRow struct {
	registry.EscrowView
	At   time.Time
	Soon bool
	// Settles says the viewer acts for the escrow's authority; only then
	// does the row offer Complete and Void (the registry would refuse
	// anyone else).
	Settles bool
}

// expiringSoon is how close to its expiry an escrow is flagged on the page.
const expiringSoon = time.Hour

// handleEscrows lists the pending reservations; an administrator settles
// them from here through the operations' settle form.
func (s *Site) handleEscrows(w http.ResponseWriter, r *http.Request) {
	n, a := s.nodeAs(w, r, ledger.RoleAdmin, ledger.RoleAuditor)
	if a == nil {
		return
	}
	escrows, err := n.Escrows(*a)
	if err != nil {
		s.renderError(w, r, http.StatusForbidden, "error.role", n.Code())
		return
	}
	d := escrowsData{Registry: n.Code(), Actor: a, Keys: map[int64]string{}}
	if len(escrows) > maxEscrowRows {
		escrows, d.More = escrows[:maxEscrowRows], len(escrows)-maxEscrowRows
	}
	for _, e := range escrows {
		row := escrowRow{EscrowView: e, Soon: !e.ExpiresAt.IsZero() && time.Until(e.ExpiresAt) < expiringSoon, Settles: e.Authority.Permits(*a)}
		// The reservation's own journal entry says when it was made.
		if txs, err := n.Journal(r.Context(), *a, registry.JournalFilter{After: e.Pending - 1, Limit: 1}); err == nil && len(txs) == 1 {
			row.At = txs[0].At
		}
		d.Escrows = append(d.Escrows, row)
		d.Keys[e.Pending] = randomID()
	}
	s.render(w, r, "escrows.html", d)
}
