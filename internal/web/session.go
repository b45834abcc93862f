package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
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
	// maxSessions bounds memory against a client that never keeps cookies;
	// past it the session closest to expiry is dropped.
	maxSessions = 20000
)

// session is one browser's state on this server.
type session struct {
	id      string
	csrf    string
	expires time.Time
	// actors maps a registry code to the actor its token stood for.
	actors map[string]registry.Actor
}

// sessions is the server-side session store. It lives in memory: a restart
// signs everyone out, which costs a sign-in and keeps no secret on disk.
type sessions struct {
	mu  sync.Mutex
	m   map[string]*session
	now func() time.Time
}

func newSessions() *sessions {
	return &sessions{m: map[string]*session{}, now: time.Now}
}

// randomID returns 32 random bytes, URL-safe base64 (256 bits: not guessable).
func randomID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// get returns the live session with id, or nil.
func (ss *sessions) get(id string) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[id]
	if s == nil {
		return nil
	}
	if !ss.now().Before(s.expires) {
		delete(ss.m, id)
		return nil
	}
	return s
}

// create stores a new session with actors (nil for an anonymous one).
func (ss *sessions) create(actors map[string]registry.Actor) *session {
	ttl := anonymousTTL
	if len(actors) > 0 {
		ttl = signedInTTL
	}
	s := &session{id: randomID(), csrf: randomID(), expires: ss.now().Add(ttl), actors: actors}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.m) >= maxSessions {
		ss.evict()
	}
	ss.m[s.id] = s
	return s
}

// evict drops expired sessions, or if none, the one that expires first.
func (ss *sessions) evict() {
	now := ss.now()
	var first *session
	for id, s := range ss.m {
		if !now.Before(s.expires) {
			delete(ss.m, id)
			continue
		}
		if first == nil || s.expires.Before(first.expires) {
			first = s
		}
	}
	if len(ss.m) >= maxSessions && first != nil {
		delete(ss.m, first.id)
	}
}

func (ss *sessions) delete(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, id)
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
	return s.sessions.get(c.Value)
}

// ensureSession returns the request's session, creating an anonymous one
// (and its cookie) when there is none, so every form can carry a CSRF token.
// It must run before the response's status is written.
func (s *Site) ensureSession(w http.ResponseWriter, r *http.Request) *session {
	if ss := s.currentSession(r); ss != nil {
		return ss
	}
	ss := s.sessions.create(nil)
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
