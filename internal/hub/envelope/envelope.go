package envelope

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Header identifies a message. It is inside the signed payload, so every
// field is covered by the sender's signature.
type Header struct {
	// ID is unique per sender; with the journal as outbox it is derived
	// from the source entry ("CN:1042:0"), so a re-read yields the same id.
	ID      string    `json:"id"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	Version int       `json:"version"`
	SentAt  time.Time `json:"sent_at"`
	// TransactionID names the cross-registry transaction (registry code +
	// sequence, unique in the corridor as the DES transaction identifier).
	TransactionID string `json:"transaction_id,omitempty"`
	Type          string `json:"type"`
	// Sequence numbers the messages one sender sends to one receiver about
	// one transaction 1, 2, 3…; 0 only for types that are not sequenced
	// (status polls).
	Sequence uint64 `json:"sequence"`
}

// Message is a verified message: its header, the exact body bytes and the
// content hash the receiver's inbox stores next to (From, ID).
type Message struct {
	Header
	Body json.RawMessage
	Hash Hash
}

// Hash is the SHA-256 content hash of a message.
type Hash [sha256.Size]byte

type payload struct {
	Header Header          `json:"header"`
	Body   json.RawMessage `json:"body"`
}

// ContentHash is what makes two deliveries "the same message". It covers
// the body bytes and every header field except sent_at: a sender that
// re-seals an unacknowledged message after a backoff gives it a new
// sent_at (or the receiver refuses it as stale), and that re-delivery
// must still be recognised as a duplicate, not a conflict.
func ContentHash(h Header, body []byte) Hash {
	d := sha256.New()
	for _, s := range []string{h.ID, h.From, h.To, h.TransactionID, h.Type} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		d.Write(n[:])
		d.Write([]byte(s))
	}
	var n [16]byte
	binary.BigEndian.PutUint64(n[:8], uint64(h.Version))
	binary.BigEndian.PutUint64(n[8:], h.Sequence)
	d.Write(n[:])
	d.Write(body)
	var out Hash
	d.Sum(out[:0])
	return out
}

// Signer seals messages with one of a participant's keys.
type Signer struct {
	Code string
	KID  string
	Key  ed25519.PrivateKey
}

func (s Signer) sign(body []byte) (string, error) {
	opts := (&jose.SignerOptions{}).WithHeader(jose.HeaderKey("kid"), s.KID)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: s.Key}, opts)
	if err != nil {
		return "", fmt.Errorf("envelope: signer %q: %w", s.KID, err)
	}
	jws, err := signer.Sign(body)
	if err != nil {
		return "", fmt.Errorf("envelope: signing with %q: %w", s.KID, err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("envelope: serialising: %w", err)
	}
	return out, nil
}

// Seal signs header and body (already-encoded JSON) as JWS compact. The
// signature is over the exact payload bytes, so no JSON canonicalisation
// is needed on either side.
func (s Signer) Seal(h Header, body json.RawMessage) (string, error) {
	if h.From != s.Code {
		return "", fmt.Errorf("envelope: sealing: header from %q but signer is %q", h.From, s.Code)
	}
	if len(body) == 0 {
		body = json.RawMessage("{}")
	}
	if !json.Valid(body) {
		return "", errors.New("envelope: sealing: body is not valid JSON")
	}
	raw, err := json.Marshal(payload{Header: h, Body: body})
	if err != nil {
		return "", fmt.Errorf("envelope: encoding payload: %w", err)
	}
	return s.sign(raw)
}

// parse splits a compact JWS into its kid and unverified payload. It is
// the parser the fuzz test targets: it must never panic on any input.
func parse(compact string) (*jose.JSONWebSignature, string, error) {
	jws, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return nil, "", err
	}
	if len(jws.Signatures) != 1 {
		return nil, "", errors.New("not exactly one signature")
	}
	kid := jws.Signatures[0].Protected.KeyID
	if kid == "" {
		return nil, "", errors.New("no kid in the protected header")
	}
	return jws, kid, nil
}

func decodePayload(raw []byte) (Header, json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var p payload
	if err := dec.Decode(&p); err != nil {
		return Header{}, nil, err
	}
	if dec.More() {
		return Header{}, nil, errors.New("trailing data after payload")
	}
	if p.Header.ID == "" || p.Header.From == "" || p.Header.To == "" || p.Header.Type == "" || p.Header.SentAt.IsZero() {
		return Header{}, nil, errors.New("header lacks id, from, to, type or sent_at")
	}
	if len(p.Body) == 0 {
		return Header{}, nil, errors.New("no body")
	}
	return p.Header, p.Body, nil
}

// GenerateSigner makes a fresh key for a participant. rand is
// crypto/rand.Reader in production; tests pass a seeded reader.
func GenerateSigner(code, kid string, rand io.Reader) (Signer, ed25519.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return Signer{}, nil, fmt.Errorf("envelope: generating key %q: %w", kid, err)
	}
	return Signer{Code: code, KID: kid, Key: priv}, pub, nil
}
