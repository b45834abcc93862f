// Package envelope signs and verifies the hub protocol's messages: the
// hub's signed trust list of node keys and the JWS EdDSA envelope every
// message travels in, with the refusal codes of the acknowledgement.
package envelope

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Role is what a trust-list entry is in the corridor.
type Role string

const (
	RoleHub  Role = "hub"
	RoleNode Role = "node"
)

// Key is one public signing key of a node or the hub. A key signs only
// messages sent inside [From, Until); two keys of one entry may overlap so
// a node can rotate without a gap.
type Key struct {
	KID    string            `json:"kid"`
	Public ed25519.PublicKey `json:"public"`
	From   time.Time         `json:"from"`
	Until  time.Time         `json:"until"`
}

// ValidAt reports whether the key may sign at t.
func (k Key) ValidAt(t time.Time) bool {
	return !t.Before(k.From) && t.Before(k.Until)
}

// Entry is one participant of the corridor: a registry node or the hub.
type Entry struct {
	// Code is the registry code messages use as sender and receiver ("CN", "TH", "HUB").
	Code string `json:"code"`
	Role Role   `json:"role"`
	// Party is the ISO 3166-1 alpha-2 code of the Party running the registry
	// (empty for the hub, which belongs to no single Party).
	Party    string `json:"party,omitempty"`
	Endpoint string `json:"endpoint"`
	Keys     []Key  `json:"keys"`
}

// TrustList is the hub's published list of participants and keys. It is
// versioned so a node never goes back to an older list (a rolled-back list
// could re-admit a revoked key).
type TrustList struct {
	Version  uint64    `json:"version"`
	IssuedAt time.Time `json:"issued_at"`
	Issuer   string    `json:"issuer"`
	Entries  []Entry   `json:"entries"`
}

var (
	codePattern  = regexp.MustCompile(`^[A-Z][A-Z0-9-]{1,15}$`)
	partyPattern = regexp.MustCompile(`^[A-Z]{2}$`)
)

// Validate checks the list's own consistency: unique codes and kids, ISO
// Party codes for nodes, absolute http(s) endpoints, non-empty key
// validity, exactly one hub and it is the issuer.
func (l TrustList) Validate() error {
	if l.Version == 0 {
		return errors.New("envelope: trust list: version must be at least 1")
	}
	if l.IssuedAt.IsZero() {
		return errors.New("envelope: trust list: issued_at missing")
	}
	codes := map[string]bool{}
	kids := map[string]string{}
	hubs := 0
	for i, e := range l.Entries {
		if !codePattern.MatchString(e.Code) {
			return fmt.Errorf("envelope: trust list entry %d: code %q is not an upper-case registry code", i, e.Code)
		}
		if codes[e.Code] {
			return fmt.Errorf("envelope: trust list: duplicate entry %q", e.Code)
		}
		codes[e.Code] = true
		switch e.Role {
		case RoleHub:
			hubs++
			if e.Code != l.Issuer {
				return fmt.Errorf("envelope: trust list: hub entry %q is not the issuer %q", e.Code, l.Issuer)
			}
		case RoleNode:
			if !partyPattern.MatchString(e.Party) {
				return fmt.Errorf("envelope: trust list entry %q: party %q is not an ISO 3166-1 alpha-2 code", e.Code, e.Party)
			}
		default:
			return fmt.Errorf("envelope: trust list entry %q: unknown role %q", e.Code, e.Role)
		}
		u, err := url.Parse(e.Endpoint)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("envelope: trust list entry %q: endpoint %q is not an absolute http(s) URL", e.Code, e.Endpoint)
		}
		if len(e.Keys) == 0 {
			return fmt.Errorf("envelope: trust list entry %q: no keys", e.Code)
		}
		for _, k := range e.Keys {
			if k.KID == "" {
				return fmt.Errorf("envelope: trust list entry %q: key without kid", e.Code)
			}
			if owner, dup := kids[k.KID]; dup {
				return fmt.Errorf("envelope: trust list: kid %q used by %q and %q", k.KID, owner, e.Code)
			}
			kids[k.KID] = e.Code
			if len(k.Public) != ed25519.PublicKeySize {
				return fmt.Errorf("envelope: trust list entry %q: key %q is not an ed25519 public key", e.Code, k.KID)
			}
			if !k.From.Before(k.Until) {
				return fmt.Errorf("envelope: trust list entry %q: key %q has empty validity", e.Code, k.KID)
			}
		}
	}
	if hubs != 1 {
		return fmt.Errorf("envelope: trust list: %d hub entries, want exactly 1", hubs)
	}
	return nil
}

// Entry returns the participant with the given code.
func (l TrustList) Entry(code string) (Entry, bool) {
	i := slices.IndexFunc(l.Entries, func(e Entry) bool { return e.Code == code })
	if i < 0 {
		return Entry{}, false
	}
	return l.Entries[i], true
}

// KeyByID returns the key with kid and the code of its owner.
func (l TrustList) KeyByID(kid string) (Key, string, bool) {
	for _, e := range l.Entries {
		for _, k := range e.Keys {
			if k.KID == kid {
				return k, e.Code, true
			}
		}
	}
	return Key{}, "", false
}

// SignTrustList publishes the list as JWS compact signed by the hub's key.
func SignTrustList(l TrustList, hub Signer) (string, error) {
	if err := l.Validate(); err != nil {
		return "", err
	}
	if hub.Code != l.Issuer {
		return "", fmt.Errorf("envelope: signing trust list: signer %q is not the issuer %q", hub.Code, l.Issuer)
	}
	body, err := json.Marshal(l)
	if err != nil {
		return "", fmt.Errorf("envelope: encoding trust list: %w", err)
	}
	return hub.sign(body)
}

// OpenTrustList verifies a published list against the hub keys the reader
// already trusts (pinned at bootstrap, or taken from the previous list) and
// refuses a list older than or equal to minVersion once one is held.
func OpenTrustList(compact string, anchors []Key, minVersion uint64) (TrustList, error) {
	jws, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return TrustList{}, fmt.Errorf("envelope: parsing trust list: %w", err)
	}
	kid := jws.Signatures[0].Protected.KeyID
	i := slices.IndexFunc(anchors, func(k Key) bool { return k.KID == kid })
	if i < 0 {
		return TrustList{}, fmt.Errorf("envelope: trust list signed by unknown kid %q", kid)
	}
	body, err := jws.Verify(anchors[i].Public)
	if err != nil {
		return TrustList{}, fmt.Errorf("envelope: trust list signature: %w", err)
	}
	var l TrustList
	if err := json.Unmarshal(body, &l); err != nil {
		return TrustList{}, fmt.Errorf("envelope: decoding trust list: %w", err)
	}
	if !anchors[i].ValidAt(l.IssuedAt) {
		return TrustList{}, fmt.Errorf("envelope: trust list issued at %s outside the validity of kid %q", l.IssuedAt.Format(time.RFC3339), kid)
	}
	if err := l.Validate(); err != nil {
		return TrustList{}, err
	}
	if l.Version <= minVersion && minVersion > 0 {
		return TrustList{}, fmt.Errorf("envelope: trust list version %d is not newer than %d", l.Version, minVersion)
	}
	return l, nil
}

// Trust holds the trust list in force at one participant. It starts from
// a list obtained out of band (bootstrap) and accepts only newer lists
// signed by a hub key of the list it holds, so the hub rotates its own key
// by publishing the new one in a list signed by the old.
type Trust struct {
	mu   sync.RWMutex
	list TrustList
}

// NewTrust starts from a validated bootstrap list.
func NewTrust(bootstrap TrustList) (*Trust, error) {
	if err := bootstrap.Validate(); err != nil {
		return nil, err
	}
	return &Trust{list: bootstrap}, nil
}

// Current is the list in force; pass it as Verifier.Trust.
func (t *Trust) Current() TrustList {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.list
}

// Update installs a published list if it is newer and signed by a key of
// the current list's hub entry.
func (t *Trust) Update(compact string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	hub, ok := t.list.Entry(t.list.Issuer)
	if !ok {
		return fmt.Errorf("envelope: trust list version %d has no hub entry", t.list.Version)
	}
	next, err := OpenTrustList(compact, hub.Keys, t.list.Version)
	if err != nil {
		return err
	}
	t.list = next
	return nil
}
