package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// sendForm is the account page's form for sending units abroad: shown to
// the account's holder when the server runs a corridor.
type sendForm struct {
	// Key is the form's idempotency key: posting it twice sends once.
	Key        string
	Registries []hub.Participant
	UnitTypes  []string
	Purposes   []agreements.Purpose
	// Values and Error are a refused submission's fields and reason.
	Values url.Values
	Error  *opError
}

// V returns a refused submission's value of field, so the form keeps
// what was typed.
func (f *sendForm) V(field string) string { return f.Values.Get(field) }

// purposes are the purposes the agreements name, for the form's select
// (the hub checks the purpose against the agreement in force).
var purposes = sync.OnceValue(func() []agreements.Purpose {
	set, err := agreements.Default()
	if err != nil {
		slog.Error("web: agreements", "err", err)
		return nil
	}
	return set.Purposes
})

// sendFormFor is the send form for holder a on account v of n, or nil
// when the form does not apply (no corridor, not a holder).
func (s *Site) sendFormFor(r *http.Request, n *registry.Node, a registry.Actor, v registry.AccountView) *sendForm {
	if s.link == nil || a.Role != ledger.RoleHolder {
		return nil
	}
	// Voluntary use needs no Article 6 authorisation: the default.
	f := &sendForm{Key: randomID(), Purposes: purposes(), Values: url.Values{"purpose": {"voluntary"}}}
	ctx, cancel := context.WithTimeout(r.Context(), linkTimeout)
	defer cancel()
	parts, err := s.link.Participants(ctx)
	if err != nil {
		slog.ErrorContext(r.Context(), "web: corridor participants", "err", err)
	}
	for _, p := range parts {
		if p.Role == envelope.RoleNode && p.Code != n.Code() {
			f.Registries = append(f.Registries, p)
		}
	}
	for _, b := range v.Balances {
		if b.State == ledger.Held && !slices.Contains(f.UnitTypes, b.UnitType) {
			f.UnitTypes = append(f.UnitTypes, b.UnitType)
		}
	}
	return f
}

// handleSend sends units of the account abroad through the corridor: the
// units go into escrow at this registry with the hub as settlement
// authority and the proposal to the hub. On success it redirects (303) to
// the transfer's page; on refusal it shows the account page again with
// the reason beside the form.
func (s *Site) handleSend(w http.ResponseWriter, r *http.Request) {
	n, id, ok := s.accountOf(w, r)
	if !ok {
		return
	}
	a := s.requireRole(w, r, n, ledger.RoleHolder)
	if a == nil {
		return
	}
	if s.link == nil {
		s.renderError(w, r, http.StatusNotFound, "error.no_corridor")
		return
	}
	acct, err := n.Account(*a, id)
	if err != nil {
		d := accountData{Registry: n.Code(), Actor: a, Denied: true}
		s.renderStatus(w, r, http.StatusNotFound, "account.html", d)
		return
	}
	refuse := func(status int, e *opError) {
		d := accountData{Registry: n.Code(), Actor: a, Account: acct}
		d.Holdings, _ = n.Holdings(*a, id, 0, 200)
		d.Send = s.sendFormFor(r, n, *a, acct)
		d.Send.Values, d.Send.Error = r.PostForm, e
		s.renderStatus(w, r, status, "account.html", d)
	}
	key := r.PostForm.Get("idempotency_key")
	if key == "" || len(key) > 100 {
		refuse(http.StatusBadRequest, &opError{Field: "idempotency_key", Key: "form.error.key"})
		return
	}
	f := formReader{v: r.PostForm, bad: &formError{}}
	send := hub.Send{Actor: *a, Key: webKeyPrefix + "send:" + key, From: id, ToRegistry: f.str("to_registry"), ToAccount: f.int("to_account"),
		Units: registry.Units{Quantity: f.int("quantity"), UnitType: f.str("unit_type")}, Purpose: f.str("purpose")}
	if f.bad.Field != "" {
		refuse(http.StatusBadRequest, &opError{Field: f.bad.Field, Key: f.bad.Key})
		return
	}
	if !s.acquirerKnown(r, n.Code(), send.ToRegistry) {
		refuse(http.StatusBadRequest, &opError{Field: "to_registry", Key: "form.error.to_registry"})
		return
	}
	// As for the operations forms, the send is decided even if the browser
	// goes away; this bounds the wait for the registry's writer.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
	defer cancel()
	sent, err := s.link.Send(ctx, n.Code(), send)
	if err != nil {
		if e, ok := ledger.AsError(err); ok {
			refuse(statusOf(e), &opError{Code: e.Code, Field: e.Field, Detail: e.Detail, Check: e.Check})
			return
		}
		if errors.Is(err, hub.ErrUnknownRegistry) {
			refuse(http.StatusBadRequest, &opError{Key: "form.error.not_in_corridor"})
			return
		}
		slog.ErrorContext(r.Context(), "web: send abroad", "registry", n.Code(), "err", err)
		status := http.StatusInternalServerError
		if errors.Is(err, registry.ErrClosed) || errors.Is(err, context.DeadlineExceeded) {
			status = http.StatusServiceUnavailable
		}
		refuse(status, &opError{Key: "form.error.unavailable"})
		return
	}
	http.Redirect(w, r, "/corridor/transfers/"+url.PathEscape(sent.ID), http.StatusSeeOther)
}

// acquirerKnown reports whether to is another registry of the corridor's
// trust list than from. The hub checks it too (acquiring_registry_unknown),
// but only after the units went into escrow; the form refuses earlier.
func (s *Site) acquirerKnown(r *http.Request, from, to string) bool {
	ctx, cancel := context.WithTimeout(r.Context(), linkTimeout)
	defer cancel()
	parts, err := s.link.Participants(ctx)
	if err != nil {
		return true // the hub's check decides
	}
	return to != from && slices.ContainsFunc(parts, func(p hub.Participant) bool { return p.Role == envelope.RoleNode && p.Code == to })
}
