package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/corridor-carbon/corridor/internal/registry"
)

// sessionCookie carries only a random session id; the actor a token stands
// for is kept on the server, so the token itself never sits in the browser.
const sessionCookie = "corridor_session"

// Session lifetimes: a signed-in session ends after signedInTTL whatever is
// done with it (an administrator's forgotten browser stops acting for them
// by the next working day); an anonymous one, which only carries the CSRF
// token of the sign-in and language forms, after anonymousTTL.
const (
	signedInTTL  = 8 * time.Hour
	anonymousTTL = 2 * time.Hour
)

// session is one browser's state on this server.
type session struct {
	id      string
	csrf    string
	expires time.Time
	// actors maps a registry code to the actor its token stood for.
	actors map[string]registry.Actor
}

// sessions is the server-side session store. A sign-in is stored in the
// database of the registry it signs in to (registry.Node.StartSession),
// under the hash of the session id, so a restart signs nobody out and a
// copy of a database signs nobody in. An anonymous session is not stored:
// it is only its id, and its CSRF token is derived from the id, so
// visitors without a sign-in cost no rows.
type sessions struct {
	nodes map[string]*registry.Node
	now   func() time.Time
}

func newSessions(nodes map[string]*registry.Node) *sessions {
	return &sessions{nodes: nodes, now: time.Now}
}

// randomID returns 32 random bytes, URL-safe base64 (256 bits: not guessable).
func randomID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// wellFormed reports whether id could have come from randomID.
func wellFormed(id string) bool {
	b, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil && len(b) == 32
}

// idHash is what a registry stores for session id: its SHA-256, hex.
func idHash(id string) string {
	h := sha256.Sum256([]byte("corridor session id\x00" + id))
	return hex.EncodeToString(h[:])
}

// csrfFor is session id's CSRF token. It is derived from the id, which
// never leaves the HttpOnly cookie, under another label than idHash: a
// page that shows the token gives away neither the id nor its stored hash.
func csrfFor(id string) string {
	h := sha256.Sum256([]byte("corridor csrf\x00" + id))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// get returns the session with id, signed in wherever a registry holds a
// live sign-in for it, or nil for an id randomID could not have made.
func (ss *sessions) get(ctx context.Context, id string) *session {
	if !wellFormed(id) {
		return nil
	}
	s := &session{id: id, csrf: csrfFor(id), actors: map[string]registry.Actor{}}
	h, now := idHash(id), ss.now()
	for code, n := range ss.nodes {
		a, exp, found, err := n.Session(ctx, h, now)
		if err != nil {
			slog.WarnContext(ctx, "web: read session; not signed in there for this request", "registry", code, "err", err)
			continue
		}
		if found {
			s.actors[code] = a
			if s.expires.IsZero() || exp.Before(s.expires) {
				s.expires = exp
			}
		}
	}
	if len(s.actors) == 0 {
		s.expires = now.Add(anonymousTTL)
	}
	return s
}

// create starts a new session signed in as actors (none: anonymous),
// storing each sign-in in its registry's database. If one cannot be
// stored, those already stored are removed and the error returned.
func (ss *sessions) create(ctx context.Context, actors map[string]registry.Actor) (*session, error) {
	id, now := randomID(), ss.now()
	s := &session{id: id, csrf: csrfFor(id), expires: now.Add(anonymousTTL), actors: actors}
	if len(actors) == 0 {
		return s, nil
	}
	s.expires = now.Add(signedInTTL)
	h := idHash(id)
	for code, a := range actors {
		n := ss.nodes[code]
		if n == nil {
			continue
		}
		if err := n.StartSession(ctx, h, a, now, s.expires); err != nil {
			ss.delete(ctx, id)
			return nil, fmt.Errorf("web: store the sign-in on registry %s: %w", code, err)
		}
	}
	return s, nil
}

// SessionSweepEvery is how often a serving dashboard deletes expired
// sessions from its registries (our choice, not a regulatory figure).
const SessionSweepEvery = 10 * time.Minute

// SweepSessions deletes the expired sessions of every registry now and
// then every interval until ctx ends; a sign-in sweeps its own registry
// too, but one nobody signs in to would keep its expired rows forever.
func (s *Site) SweepSessions(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.sessions.sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweep deletes every registry's sessions expired by now.
func (ss *sessions) sweep(ctx context.Context) {
	now := ss.now()
	for code, n := range ss.nodes {
		swept, err := n.SweepSessions(ctx, now)
		switch {
		case err != nil && ctx.Err() == nil:
			slog.WarnContext(ctx, "web: sweep expired sessions", "registry", code, "err", err)
		case swept > 0:
			slog.InfoContext(ctx, "web: swept expired sessions", "registry", code, "sessions", swept)
		}
	}
}

// delete signs session id out of every registry.
func (ss *sessions) delete(ctx context.Context, id string) {
	if !wellFormed(id) {
		return
	}
	h := idHash(id)
	for code, n := range ss.nodes {
		if err := n.EndSession(ctx, h); err != nil {
			slog.ErrorContext(ctx, "web: delete session", "registry", code, "err", err)
		}
	}
}

// actor returns the session's actor on registry code, if signed in there.
func (s *session) actor(code string) *registry.Actor {
	if s == nil {
		return nil
	}
	ss, ok := s.actors[code]
	if !ok {
		return nil
	}
	return &ss
}

// validCSRF compares a submitted token with the session's in constant time.
func (s *session) validCSRF(token string) bool {
	return s != nil && token != "" && subtle.ConstantTimeCompare([]byte(s.csrf), []byte(token)) == 1
}

// secure reports whether the request came over TLS, directly or through a
// proxy that says so; the session cookie is then marked Secure.
func secure(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

func setSessionCookie(w http.ResponseWriter, r *http.Request, s *session) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.id, Path: "/", Expires: s.expires,
		HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteLaxMode})
}

func clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteLaxMode})
}

// currentSession returns the request's live session, or nil.
func (s *Site) currentSession(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	return s.sessions.get(r.Context(), c.Value)
}

// ensureSession returns the request's session, creating an anonymous one
// (and its cookie) when there is none, so every form can carry a CSRF token.
// It must run before the response's status is written.
func (s *Site) ensureSession(w http.ResponseWriter, r *http.Request) *session {
	if ss := s.currentSession(r); ss != nil {
		return ss
	}
	ss, _ := s.sessions.create(r.Context(), nil) // an anonymous session stores nothing, so cannot fail
	setSessionCookie(w, r, ss)
	return ss
}

// checkCSRF guards every POST of the dashboard (Handler calls it before
// any route that is not GET or HEAD): the form must carry the session's
// CSRF token. A cross-site form cannot read it, so it cannot
// forge it. It answers 403 itself and returns false when the check fails.
func (s *Site) checkCSRF(w http.ResponseWriter, r *http.Request) (*session, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.form_unreadable")
		return nil, false
	}
	ss := s.currentSession(r)
	if !ss.validCSRF(r.PostForm.Get("csrf")) {
		s.renderError(w, r, http.StatusForbidden, "error.csrf")
		return nil, false
	}
	return ss, true
}
