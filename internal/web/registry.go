package web

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// tokenCookie holds the API token a user signed in with, per browser.
const tokenCookie = "corridor_token"

func (s *Site) routesRegistry(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.handleHome)
	mux.HandleFunc("GET /registries/{registry}", s.handleRegistry)
	mux.HandleFunc("GET /registries/{registry}/accounts/{id}", s.handleAccount)
	mux.HandleFunc("POST /signin", s.handleSignIn)
	mux.HandleFunc("POST /signout", s.handleSignOut)
	mux.HandleFunc("GET /serials", s.handleSerials)
}

type homeData struct {
	Registries []registry.Totals
}

func (s *Site) handleHome(w http.ResponseWriter, r *http.Request) {
	var d homeData
	for _, c := range s.codes {
		d.Registries = append(d.Registries, s.nodes[c].Totals())
	}
	s.render(w, r, "home.html", d)
}

type registryData struct {
	Totals      registry.Totals
	Name        string
	Issuances   []registry.IssuanceView
	Retirements []registry.Retirement
	Accounts    []registry.AccountView
	Actor       *registry.Actor
	Error       string
}

func (s *Site) nodeOr404(w http.ResponseWriter, r *http.Request) *registry.Node {
	n := s.nodes[r.PathValue("registry")]
	if n == nil {
		http.Error(w, "No such registry on this server.", http.StatusNotFound)
	}
	return n
}

// actor resolves the signed-in token for node n, if any.
func actor(ctx context.Context, r *http.Request, n *registry.Node) *registry.Actor {
	c, err := r.Cookie(tokenCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	a, ok, err := n.Authenticate(ctx, c.Value)
	if err != nil || !ok {
		return nil
	}
	return &a
}

func (s *Site) handleRegistry(w http.ResponseWriter, r *http.Request) {
	n := s.nodeOr404(w, r)
	if n == nil {
		return
	}
	d := registryData{Totals: n.Totals(), Issuances: n.Issuances(), Actor: actor(r.Context(), r, n)}
	ret, err := n.Retirements(r.Context(), 0, 50)
	if err != nil {
		d.Error = "Retirements could not be read."
	}
	d.Retirements = ret
	if d.Actor != nil {
		var org int64
		if d.Actor.Role == ledger.RoleHolder {
			org = d.Actor.OrgID
		}
		d.Accounts = n.Accounts(org)
	}
	s.render(w, r, "registry.html", d)
}

type accountData struct {
	Registry string
	Account  registry.AccountView
	Holdings []registry.BlockView
	Actor    *registry.Actor
	Denied   bool
}

func (s *Site) handleAccount(w http.ResponseWriter, r *http.Request) {
	n := s.nodeOr404(w, r)
	if n == nil {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.Error(w, "The account id must be a number.", http.StatusBadRequest)
		return
	}
	d := accountData{Registry: n.Code(), Actor: actor(r.Context(), r, n)}
	if d.Actor == nil {
		w.WriteHeader(http.StatusUnauthorized)
		s.render(w, r, "account.html", d)
		return
	}
	v, err := n.Account(id)
	if err != nil || (d.Actor.Role == ledger.RoleHolder && v.OrgID != d.Actor.OrgID) {
		d.Denied = true
		w.WriteHeader(http.StatusNotFound)
		s.render(w, r, "account.html", d)
		return
	}
	d.Account = v
	d.Holdings, _ = n.Holdings(id, 0, 200)
	s.render(w, r, "account.html", d)
}

func (s *Site) handleSignIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "The form could not be read.", http.StatusBadRequest)
		return
	}
	next := r.PostForm.Get("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		next = "/"
	}
	http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: strings.TrimSpace(r.PostForm.Get("token")), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Expires: time.Now().Add(12 * time.Hour)})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Site) handleSignOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: "", Path: "/", MaxAge: -1})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

type serialData struct {
	Query  string
	Error  string
	Info   *registry.SerialInfo
	Public bool
}

// handleSerials shows the serial lookup page; with HX-Request it returns
// only the result fragment for htmx to swap in.
func (s *Site) handleSerials(w http.ResponseWriter, r *http.Request) {
	d := serialData{Query: strings.TrimSpace(r.URL.Query().Get("q")), Public: true}
	if d.Query != "" {
		sr, err := ledger.ParseSerial(d.Query)
		var n *registry.Node
		if err == nil {
			n = s.nodes[sr.Registry]
			if n == nil {
				err = ledger.Errorf(ledger.KindNotExist, ledger.CodeSerialInvalid, 0, "serial", "registry %s is not on this server", sr.Registry)
			}
		}
		if err == nil {
			a := actor(r.Context(), r, n)
			d.Public = a == nil || a.Role == ledger.RoleHolder
			var info registry.SerialInfo
			info, err = n.Lookup(r.Context(), d.Query, d.Public)
			d.Info = &info
		}
		if err != nil {
			d.Info = nil
			if e, ok := ledger.AsError(err); ok {
				d.Error = e.Detail
			} else {
				d.Error = "The lookup failed; the error has been logged."
			}
		}
	}
	if r.Header.Get("HX-Request") == "true" {
		s.renderFragment(w, r, "serials.html", "result", d)
		return
	}
	s.render(w, r, "serials.html", d)
}

// renderFragment executes one named template of a page, without the layout.
func (s *Site) renderFragment(w http.ResponseWriter, r *http.Request, page, name string, data any) {
	t, err := s.template(page)
	if err == nil {
		var buf bytes.Buffer
		if err = t.ExecuteTemplate(&buf, name, data); err == nil {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = buf.WriteTo(w)
			return
		}
	}
	http.Error(w, "The fragment could not be rendered.", http.StatusInternalServerError)
}
