package web

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

func (s *Site) routesRegistry(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.handleHome)
	mux.HandleFunc("GET /registries/{registry}", s.handleRegistry)
	mux.HandleFunc("GET /registries/{registry}/accounts/{id}", s.handleAccount)
	mux.HandleFunc("GET /signin", s.handleSignInPage)
	mux.HandleFunc("POST /signin", s.handleSignIn)
	mux.HandleFunc("POST /signout", s.handleSignOut)
	mux.HandleFunc("GET /serials", s.handleSerials)
}

type homeData struct {
	Registries []homeRow
}

// homeRow is one registry of the home page: its totals while this server
// serves it, else (Totals nil) a catalogue key saying why there are none:
// a node that lost its serving lock may be behind its database, and a
// registry of the corridor not run here has no totals here.
type homeRow struct {
	Code       string
	Totals     *registry.Totals
	NotServing string
}

func (s *Site) handleHome(w http.ResponseWriter, r *http.Request) {
	var d homeData
	for _, c := range s.codes {
		row := homeRow{Code: c, NotServing: "home.not_serving"}
		if s.nodes[c].Serving() == nil {
			t := s.nodes[c].Totals()
			row.Totals, row.NotServing = &t, ""
		}
		d.Registries = append(d.Registries, row)
	}
	if s.link != nil {
		ctx, cancel := context.WithTimeout(r.Context(), linkTimeout)
		parts, err := s.link.Participants(ctx)
		cancel()
		if err != nil {
			slog.WarnContext(r.Context(), "web: home: corridor participants", "err", err)
		}
		for _, p := range parts {
			if p.Role == envelope.RoleNode && s.nodes[p.Code] == nil {
				d.Registries = append(d.Registries, homeRow{Code: p.Code, NotServing: "home.not_served"})
			}
		}
		slices.SortFunc(d.Registries, func(a, b homeRow) int { return strings.Compare(a.Code, b.Code) })
	}
	s.render(w, r, "home.html", d)
}

// signInForm is what the sign-in form needs: the registry the token is for
// and the page to go back to.
type signInForm struct {
	Registry, Next string
}

type registryData struct {
	Totals      registry.Totals
	Issuances   []registry.IssuanceView
	Retirements []registry.Retirement
	Accounts    []registry.AccountView
	Actor       *registry.Actor
	Error       string // a catalogue key
	SignIn      signInForm
	SignInError string // a catalogue key
	// Corridor is whether the server runs a corridor; Transfers the
	// latest cross-registry transfers from or to this registry.
	Corridor  bool
	Transfers []transferRow
	// TokensFile is the demo tokens file the sign-in hint names ("": none).
	TokensFile string
}

func (s *Site) nodeOr404(w http.ResponseWriter, r *http.Request) *registry.Node {
	code := strings.ToUpper(r.PathValue("registry")) // "th" is TH, as in the API
	n := s.nodes[code]
	if n == nil {
		s.renderError(w, r, http.StatusNotFound, "error.no_registry", code)
		return nil
	}
	// A node that lost its serving lock shows nothing from memory, as the
	// API does not (registry.Node.Serving says why).
	if err := n.Serving(); err != nil {
		s.renderError(w, r, http.StatusServiceUnavailable, "error.not_serving", n.Code())
		return nil
	}
	return n
}

// accountOf is the registry and the account id of the path; ok is false
// after answering (404, or 400 for an id that is not a number).
func (s *Site) accountOf(w http.ResponseWriter, r *http.Request) (n *registry.Node, id int64, ok bool) {
	if n = s.nodeOr404(w, r); n == nil {
		return nil, 0, false
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.account_id")
		return nil, 0, false
	}
	return n, id, true
}

// viewerOf is the registry viewer for a signed-in actor (nil: anonymous).
func viewerOf(a *registry.Actor) registry.Actor {
	if a == nil {
		return registry.Anonymous
	}
	return *a
}

// actor is who the request's session is signed in as on node n, if anyone.
func (s *Site) actor(r *http.Request, n *registry.Node) *registry.Actor {
	return s.currentSession(r).actor(n.Code())
}

func (s *Site) handleRegistry(w http.ResponseWriter, r *http.Request) {
	n := s.nodeOr404(w, r)
	if n == nil {
		return
	}
	d := registryData{Totals: n.Totals(), Actor: s.actor(r, n), TokensFile: s.tokensFile,
		SignIn: signInForm{Registry: n.Code(), Next: "/registries/" + n.Code()}}
	v := viewerOf(d.Actor)
	d.Issuances = n.Issuances(v)
	ret, err := n.Retirements(r.Context(), v, 0, 50)
	if err != nil {
		d.Error = "registry.retirements_unreadable"
	}
	d.Retirements = ret
	if d.Actor != nil {
		d.Accounts, _ = n.Accounts(v)
	}
	d.Corridor, d.Transfers = s.link != nil, s.registryTransfers(r, n.Code())
	s.render(w, r, "registry.html", d)
}

type accountData struct {
	Registry string
	Account  registry.AccountView
	Holdings []registry.BlockView
	Actor    *registry.Actor
	Denied   bool
	SignIn   signInForm
	// Send is the form for sending units abroad (nil: not offered).
	Send *sendForm
}

func (s *Site) handleAccount(w http.ResponseWriter, r *http.Request) {
	n, id, ok := s.accountOf(w, r)
	if !ok {
		return
	}
	d := accountData{Registry: n.Code(), Actor: s.actor(r, n), SignIn: signInForm{Registry: n.Code(), Next: r.URL.Path}}
	if d.Actor == nil {
		s.renderStatus(w, r, http.StatusUnauthorized, "account.html", d)
		return
	}
	v, err := n.Account(*d.Actor, id)
	if err != nil {
		d.Denied = true
		s.renderStatus(w, r, http.StatusNotFound, "account.html", d)
		return
	}
	d.Account = v
	d.Holdings, _ = n.Holdings(*d.Actor, id, 0, 200)
	d.Send = s.sendFormFor(r, n, *d.Actor, v)
	s.render(w, r, "account.html", d)
}

type signInData struct {
	Registries []string
	SignIn     signInForm
	Error      string // a catalogue key
	ErrorArgs  []any
}

func (s *Site) handleSignInPage(w http.ResponseWriter, r *http.Request) {
	d := signInData{Registries: s.codes, SignIn: signInForm{Registry: r.URL.Query().Get("registry"), Next: localPath(r.URL.Query().Get("next"))}}
	s.render(w, r, "signin.html", d)
}

// handleSignIn checks an API token against the registry it is for and, if
// valid, starts a new signed-in session (a new id, so a session id planted
// before sign-in is worthless after it). A failure says why.
func (s *Site) handleSignIn(w http.ResponseWriter, r *http.Request) {
	old := s.currentSession(r) // the CSRF check found it, unless it just expired
	if old == nil {
		old = &session{}
	}
	f := r.PostForm
	d := signInData{Registries: s.codes, SignIn: signInForm{Registry: f.Get("registry"), Next: localPath(f.Get("next"))}}
	fail := func(status int, key string, args ...any) {
		d.Error, d.ErrorArgs = key, args
		s.renderStatus(w, r, status, "signin.html", d)
	}
	token := strings.TrimSpace(f.Get("token"))
	n := s.nodes[d.SignIn.Registry]
	switch {
	case n == nil:
		fail(http.StatusBadRequest, "signin.error.registry")
		return
	case token == "":
		fail(http.StatusBadRequest, "signin.error.empty")
		return
	}
	a, valid, err := n.Authenticate(r.Context(), token)
	if err != nil {
		slog.ErrorContext(r.Context(), "web: sign-in", "registry", n.Code(), "err", err)
		fail(http.StatusServiceUnavailable, "signin.error.unavailable", n.Code())
		return
	}
	if !valid {
		for _, c := range s.codes {
			if c == n.Code() {
				continue
			}
			if _, elsewhere, err := s.nodes[c].Authenticate(r.Context(), token); err == nil && elsewhere {
				fail(http.StatusUnauthorized, "signin.error.other_registry", n.Code(), c)
				return
			}
		}
		fail(http.StatusUnauthorized, "signin.error.invalid", n.Code())
		return
	}
	actors := map[string]registry.Actor{}
	for code, act := range old.actors {
		actors[code] = act
	}
	actors[n.Code()] = a
	ns, err := s.sessions.create(r.Context(), actors)
	if err != nil {
		slog.ErrorContext(r.Context(), "web: sign-in", "registry", n.Code(), "err", err)
		fail(http.StatusServiceUnavailable, "signin.error.unavailable", n.Code())
		return
	}
	s.sessions.delete(r.Context(), old.id) // a new id: one planted before sign-in is worthless after it
	setSessionCookie(w, r, ns)
	http.Redirect(w, r, d.SignIn.Next, http.StatusSeeOther)
}

func (s *Site) handleSignOut(w http.ResponseWriter, r *http.Request) {
	if old := s.currentSession(r); old != nil {
		s.sessions.delete(r.Context(), old.id)
	}
	clearSessionCookie(w, r)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

type serialData struct {
	Query     string
	Error     string
	ErrorCode string
	Info      *registry.SerialInfo
	Public    bool
	// Blocks are the range's blocks in every registry of the server that
	// has a record of it (the origin's first; another registry's exported
	// blocks, serials not there, left out); History is one history across
	// them, in time order (registry.MergeHistory).
	Blocks  []serialBlock
	History []registry.HistoryItem
	// ITMOs are the parts of the range imported as ITMOs into a registry
	// of the server, with their Article 6 identifiers.
	ITMOs []serialITMO
}

// serialITMO is a part of the looked-up range that one registry imported
// as ITMOs.
type serialITMO struct {
	Registry string
	registry.ITMORange
}

// serialBlock is a block of the looked-up range in one registry.
type serialBlock struct {
	Registry string
	registry.BlockView
}

// lookupElsewhere adds to d, looked up in origin registry n, the range's
// blocks and events in every other registry of the server that has a
// record of it (an import), each read as the session's actor there.
func (s *Site) lookupElsewhere(r *http.Request, d *serialData, n *registry.Node) {
	infos := []registry.SerialInfo{*d.Info}
	for _, b := range d.Info.Blocks {
		d.Blocks = append(d.Blocks, serialBlock{n.Code(), b})
	}
	codes := slices.Sorted(maps.Keys(s.nodes))
	for _, code := range codes {
		o := s.nodes[code]
		if o == n {
			continue
		}
		info, err := o.Lookup(r.Context(), viewerOf(s.actor(r, o)), d.Query)
		if e, ok := ledger.AsError(err); ok && e.Kind == ledger.KindNotExist {
			continue // no record of the range there
		}
		if err != nil {
			slog.ErrorContext(r.Context(), "web: serial lookup", "registry", code, "err", err)
			continue
		}
		infos = append(infos, info)
		for _, b := range info.Blocks {
			d.Blocks = append(d.Blocks, serialBlock{code, b})
		}
		for _, it := range info.ITMOs {
			d.ITMOs = append(d.ITMOs, serialITMO{code, it})
		}
	}
	d.History = registry.MergeHistory(infos...)
}

// handleSerials shows the serial lookup page; with HX-Request it returns
// only the result fragment for htmx to swap in.
func (s *Site) handleSerials(w http.ResponseWriter, r *http.Request) {
	d := serialData{Query: strings.TrimSpace(r.URL.Query().Get("q")), Public: true}
	status := http.StatusOK
	if d.Query != "" {
		sr, err := ledger.ParseSerial(d.Query)
		var n *registry.Node
		if err == nil {
			n = s.nodes[sr.Registry]
			if n == nil {
				err = ledger.Errorf(ledger.KindNotExist, "registry_not_found", 0, "serial", "registry %s is not on this server", sr.Registry)
			}
		}
		if err == nil {
			a := s.actor(r, n)
			d.Public = a == nil || a.Role == ledger.RoleHolder
			var info registry.SerialInfo
			info, err = n.Lookup(r.Context(), viewerOf(a), d.Query)
			d.Info = &info
			if err == nil {
				s.lookupElsewhere(r, &d, n)
			}
		}
		if err != nil {
			d.Info = nil
			status = http.StatusInternalServerError
			if e, ok := ledger.AsError(err); ok {
				d.Error, d.ErrorCode = e.Detail, e.Code
				// A serial that does not parse is a bad query (400), not
				// a form refused (statusOf's 422); unknown is 404.
				status = statusOf(e)
				if e.Kind == ledger.KindInvalid {
					status = http.StatusBadRequest
				}
			} else {
				slog.ErrorContext(r.Context(), "web: serial lookup", "err", err)
				d.Error = siteCatalogue.localizer(siteCatalogue.pick(r)).T("serials.failed")
			}
		}
	}
	if r.Header.Get("HX-Request") == "true" {
		s.execute(w, r, status, "serials.html", "result", d)
		return
	}
	s.renderStatus(w, r, status, "serials.html", d)
}
