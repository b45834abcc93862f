package hubhttp

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"gopkg.in/yaml.v3"

	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
)

// TrustFile is the trust list as the hub's administrator writes it (YAML,
// or JSON, which the YAML parser reads too). The hub adds issued_at and
// signs it; a change takes effect when version is raised (nodes never go
// back to a list whose version is not newer than the one they hold).
type TrustFile struct {
	Version uint64      `yaml:"version" json:"version"`
	Issuer  string      `yaml:"issuer,omitempty" json:"issuer,omitempty"`
	Entries []FileEntry `yaml:"entries" json:"entries"`
}

// FileEntry is one participant in the trust file.
type FileEntry struct {
	Code     string    `yaml:"code" json:"code"`
	Role     string    `yaml:"role" json:"role"`
	Party    string    `yaml:"party,omitempty" json:"party,omitempty"`
	Endpoint string    `yaml:"endpoint" json:"endpoint"`
	Keys     []FileKey `yaml:"keys" json:"keys"`
}

// FileKey is one public key: base64url as `corridor keygen` prints it,
// validity as RFC 3339 times. kid may be left out; it is the key's
// thumbprint, and any other kid is refused (the signer's kid is always the
// thumbprint, so another would never verify).
type FileKey struct {
	KID    string `yaml:"kid,omitempty" json:"kid,omitempty"`
	Public string `yaml:"public" json:"public"`
	From   string `yaml:"from" json:"from"`
	Until  string `yaml:"until" json:"until"`
}

// ParseTrustFile reads a trust file as the list it describes, issued at
// issuedAt, and validates it.
func ParseTrustFile(raw []byte, issuedAt time.Time) (envelope.TrustList, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var f TrustFile
	if err := dec.Decode(&f); err != nil {
		return envelope.TrustList{}, fmt.Errorf("hubhttp: trust file: %w", err)
	}
	l := envelope.TrustList{Version: f.Version, IssuedAt: issuedAt.UTC().Truncate(time.Second), Issuer: f.Issuer}
	for _, e := range f.Entries {
		en := envelope.Entry{Code: e.Code, Role: envelope.Role(e.Role), Party: e.Party, Endpoint: e.Endpoint}
		if en.Role == envelope.RoleHub && l.Issuer == "" {
			l.Issuer = e.Code
		}
		for i, k := range e.Keys {
			pub, err := DecodePublic(k.Public)
			if err != nil {
				return envelope.TrustList{}, fmt.Errorf("hubhttp: trust file entry %s key %d: %w", e.Code, i+1, err)
			}
			kid, err := KeyID(pub)
			if err != nil {
				return envelope.TrustList{}, err
			}
			if k.KID != "" && k.KID != kid {
				return envelope.TrustList{}, fmt.Errorf("hubhttp: trust file entry %s key %d: kid %q is not the key's thumbprint %q", e.Code, i+1, k.KID, kid)
			}
			from, err := time.Parse(time.RFC3339, k.From)
			if err != nil {
				return envelope.TrustList{}, fmt.Errorf("hubhttp: trust file entry %s key %d: from: %w", e.Code, i+1, err)
			}
			until, err := time.Parse(time.RFC3339, k.Until)
			if err != nil {
				return envelope.TrustList{}, fmt.Errorf("hubhttp: trust file entry %s key %d: until: %w", e.Code, i+1, err)
			}
			en.Keys = append(en.Keys, envelope.Key{KID: kid, Public: pub, From: from, Until: until})
		}
		l.Entries = append(l.Entries, en)
	}
	if err := l.Validate(); err != nil {
		return envelope.TrustList{}, fmt.Errorf("hubhttp: trust file: %w", err)
	}
	return l, nil
}

// Publisher is the hub's side of the trust list: it loads the
// administrator's file, signs it and serves it at GET /hub/v1/trust,
// picking up an edited file whose version was raised.
type Publisher struct {
	path   string
	signer envelope.Signer
	now    func() time.Time
	log    *slog.Logger

	mu      sync.RWMutex
	list    envelope.TrustList
	signed  string
	modTime time.Time
	size    int64
}

// NewPublisher loads and signs the trust file at path with the hub's key,
// which must be one of the file's hub entry's keys valid now.
func NewPublisher(path string, signer envelope.Signer, now func() time.Time, log *slog.Logger) (*Publisher, error) {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	p := &Publisher{path: path, signer: signer, now: now, log: log}
	if err := p.load(true); err != nil {
		return nil, err
	}
	return p, nil
}

// Current is the list in force at the hub.
func (p *Publisher) Current() envelope.TrustList {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.list
}

// Signed is the current list as the hub serves it (JWS compact).
func (p *Publisher) Signed() string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.signed
}

// Reload re-reads the file if it changed; a list whose version is not
// higher than the one in force is refused unless its entries are the
// same (the file was only touched).
func (p *Publisher) Reload() error { return p.load(false) }

func (p *Publisher) load(first bool) error {
	fi, err := os.Stat(p.path)
	if err != nil {
		return fmt.Errorf("hubhttp: trust file: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !first && fi.ModTime().Equal(p.modTime) && fi.Size() == p.size {
		return nil
	}
	raw, err := os.ReadFile(p.path)
	if err != nil {
		return fmt.Errorf("hubhttp: trust file: %w", err)
	}
	l, err := ParseTrustFile(raw, p.now())
	if err != nil {
		return err
	}
	if l.Issuer != p.signer.Code {
		return fmt.Errorf("hubhttp: trust file: the hub entry is %q but this hub is %q", l.Issuer, p.signer.Code)
	}
	h, _ := l.Entry(l.Issuer)
	if !hasValidKey(h, p.signer.KID, p.now()) {
		return fmt.Errorf("hubhttp: trust file: the hub key %s (from --hub-key) is not among the hub entry's keys valid now", p.signer.KID)
	}
	if !first {
		if l.Version <= p.list.Version {
			old, _ := json.Marshal(p.list.Entries)
			next, _ := json.Marshal(l.Entries)
			p.modTime, p.size = fi.ModTime(), fi.Size()
			if bytes.Equal(old, next) {
				return nil
			}
			return fmt.Errorf("hubhttp: trust file changed but its version %d is not above %d: raise it to publish the change", l.Version, p.list.Version)
		}
	}
	signed, err := envelope.SignTrustList(l, p.signer)
	if err != nil {
		return err
	}
	p.list, p.signed, p.modTime, p.size = l, signed, fi.ModTime(), fi.Size()
	if !first {
		p.log.Info("hubhttp: trust list version published", "version", l.Version)
	}
	return nil
}

func hasValidKey(e envelope.Entry, kid string, at time.Time) bool {
	for _, k := range e.Keys {
		if k.KID == kid && k.ValidAt(at) {
			return true
		}
	}
	return false
}

// Handler serves GET /hub/v1/trust.
func (p *Publisher) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := p.Reload(); err != nil {
			p.log.Error("hubhttp: trust file not reloaded; serving the list in force", "err", err)
		}
		w.Header().Set("Content-Type", ContentType)
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = io.WriteString(w, p.Signed())
	})
}

// Pin is the hub key a node trusts out of band (--hub-public-key): the
// first trust list must be signed by it; later lists by a hub key of the
// list held, so the hub can rotate its key.
type Pin struct {
	// KID is empty when the pin names only the key.
	KID    string
	Public []byte
}

// ParsePin reads "KID:PUBLIC" or "PUBLIC" (base64url, as keygen prints).
func ParsePin(s string) (Pin, error) {
	kid, key, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		key, kid = kid, ""
	}
	pub, err := DecodePublic(key)
	if err != nil {
		return Pin{}, fmt.Errorf("hubhttp: --hub-public-key: %w", err)
	}
	return Pin{KID: kid, Public: pub}, nil
}

// Source is a node's trust list: fetched from the hub, verified against
// the pin, then refreshed.
type Source struct {
	// URL is the hub's GET /hub/v1/trust.
	URL    string
	Client *Client
	Pin    Pin
	Log    *slog.Logger
	// OnInstall, if set, is called (under the source's lock) with each
	// list the source installs, signed as the hub served it, so that the
	// node can keep the last one for a restart while the hub is down.
	OnInstall func(compact string)

	mu    sync.Mutex
	trust *envelope.Trust
}

// ErrTrustRefused: the hub's first trust list does not verify against the
// pin; fetching it again will not change that.
var ErrTrustRefused = errors.New("hubhttp: the hub's trust list is refused")

// ErrPinMismatch: the hub's trust list is signed by another key than the
// pinned one (it is ErrTrustRefused too).
var ErrPinMismatch = errors.New("the hub's signature does not match the pinned key")

// pinMismatch says which key the pin names and which one the hub used,
// by fingerprint (the RFC 7638 thumbprint keygen prints as kid).
func (s *Source) pinMismatch(signedBy string) error {
	fp, err := KeyID(s.Pin.Public)
	if err != nil {
		fp = "unknown"
	}
	detail := fmt.Sprintf("fingerprint %s", fp)
	if s.Pin.KID != "" && s.Pin.KID != fp {
		detail += fmt.Sprintf(", pinned as kid %s", s.Pin.KID)
	}
	if signedBy != "" {
		detail += fmt.Sprintf("; the hub signed with kid %s", signedBy)
	}
	return refusedError{fmt.Errorf("hubhttp: trust list from %s: %w (%s): check --hub-public-key against the pin 'corridor keygen' printed for the hub's key", s.URL, ErrPinMismatch, detail)}
}

// refusedError is a first trust list refused for good: ErrTrustRefused,
// with its own message.
type refusedError struct{ err error }

func (e refusedError) Error() string        { return e.err.Error() }
func (e refusedError) Unwrap() error        { return e.err }
func (e refusedError) Is(target error) bool { return target == ErrTrustRefused }

// ErrNoTrust: no trust list has been fetched yet.
var ErrNoTrust = errors.New("hubhttp: no trust list yet")

// Current is the list in force (empty before the first fetch).
func (s *Source) Current() envelope.TrustList {
	s.mu.Lock()
	t := s.trust
	s.mu.Unlock()
	if t == nil {
		return envelope.TrustList{}
	}
	return t.Current()
}

// Fetch gets the hub's list and installs it if it is newer: the first
// one verified against the pin, later ones against the held list's hub
// keys. The same version again is not an error.
func (s *Source) Fetch(ctx context.Context) error {
	compact, err := s.get(ctx)
	if err != nil {
		return err
	}
	return s.Install(compact)
}

// Install takes a signed list as Fetch takes the hub's answer: a list
// saved by an earlier run (OnInstall) is verified against the pin again.
func (s *Source) Install(compact string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.trust == nil {
		jws, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{jose.EdDSA})
		if err != nil || len(jws.Signatures) != 1 {
			return refusedError{fmt.Errorf("hubhttp: trust list from %s is not a JWS signed once with EdDSA", s.URL)}
		}
		kid := jws.Signatures[0].Protected.KeyID
		// The pin is checked here, before the list's own checks, so that a
		// wrong pin is said as such and not as go-jose's error.
		if s.Pin.KID != "" && kid != s.Pin.KID {
			return s.pinMismatch(kid)
		}
		if _, err := jws.Verify(ed25519.PublicKey(s.Pin.Public)); err != nil {
			return s.pinMismatch(kid)
		}
		anchor := envelope.Key{KID: kid, Public: s.Pin.Public, From: time.Unix(0, 0), Until: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}
		l, err := envelope.OpenTrustList(compact, []envelope.Key{anchor}, 0)
		if err != nil {
			return refusedError{fmt.Errorf("hubhttp: trust list from %s (signed by the pinned key): %w", s.URL, err)}
		}
		t, err := envelope.NewTrust(l)
		if err != nil {
			return err
		}
		s.trust = t
		if s.OnInstall != nil {
			s.OnInstall(compact)
		}
		return nil
	}
	held := s.trust.Current()
	h, _ := held.Entry(held.Issuer)
	l, err := envelope.OpenTrustList(compact, h.Keys, 0)
	if err != nil {
		return fmt.Errorf("hubhttp: trust list from %s: %w", s.URL, err)
	}
	switch {
	case l.Version == held.Version:
		return nil
	case l.Version < held.Version:
		return fmt.Errorf("hubhttp: the hub serves trust list version %d, older than the %d held: refused", l.Version, held.Version)
	}
	if err := s.trust.Update(compact); err != nil {
		return err
	}
	if s.OnInstall != nil {
		s.OnInstall(compact)
	}
	if s.Log != nil {
		s.Log.Info("hubhttp: trust list updated", "version", l.Version)
	}
	return nil
}

func (s *Source) get(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	if err != nil {
		return "", fmt.Errorf("hubhttp: trust list request: %w", err)
	}
	req.Header.Set("Accept", ContentType)
	resp, err := s.Client.HTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("hubhttp: fetching the trust list: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", answerError(s.URL, resp)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxEnvelopeBytes))
	if err != nil {
		return "", fmt.Errorf("hubhttp: reading the trust list: %w", err)
	}
	return strings.TrimSpace(string(raw)), nil
}

// Run refreshes the list every interval until ctx ends, logging failures
// (the list in force stays in force).
func (s *Source) Run(ctx context.Context, every time.Duration) {
	hub.Every(ctx, every, s.Fetch, func(err error) {
		if s.Log != nil {
			s.Log.Warn("hubhttp: refreshing the trust list", "err", err)
		}
	})
}
