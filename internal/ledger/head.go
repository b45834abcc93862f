package ledger

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignedHead is a registry node's statement "my journal reached entry Seq,
// whose hash is Hash", signed with the node's ed25519 key. Whoever keeps
// it (an operator, the hub) can later prove that a journal cut short below
// Seq, or rewritten at Seq, is not the one the node published. It needs
// only the node's public key to check, so the hub imports this type.
type SignedHead struct {
	Registry string    `json:"registry"`
	Seq      int64     `json:"seq"`
	Hash     string    `json:"hash"`
	At       time.Time `json:"at"`
	// KID names the key that signed (see KeyID).
	KID string `json:"kid"`
	// Signature is the ed25519 signature of SigningBytes, base64url
	// without padding (as in JWS, RFC 7515 §2).
	Signature string `json:"signature"`
}

// headDomain separates head signatures from anything else the same key
// might sign (the hub protocol's envelopes): no envelope starts with it.
const headDomain = "corridor-head-v1"

// SigningBytes is the canonical byte string the signature covers: the
// lines
//
//	corridor-head-v1
//	<registry>
//	<seq, decimal>
//	<hash, lower-case hex>
//	<at, RFC 3339 in UTC with nanoseconds, as time.RFC3339Nano writes it>
//	<kid>
//
// each ended by one line feed (0x0A). No field may contain a line feed,
// so the encoding is unambiguous.
func (h SignedHead) SigningBytes() []byte {
	var b strings.Builder
	for _, f := range []string{headDomain, h.Registry, strconv.FormatInt(h.Seq, 10), h.Hash, h.At.UTC().Format(time.RFC3339Nano), h.KID} {
		b.WriteString(f)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// Sign fills KID and Signature with priv's.
func (h SignedHead) Sign(priv ed25519.PrivateKey) SignedHead {
	h.KID = KeyID(priv.Public().(ed25519.PublicKey))
	h.Signature = base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, h.SigningBytes()))
	return h
}

// ErrHeadSignature means a head does not verify with the key given.
var ErrHeadSignature = errors.New("ledger: head signature does not verify")

// Verify checks that pub signed h: the kid must be pub's and the signature
// must cover every field.
func (h SignedHead) Verify(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: the public key has %d bytes, not %d", ErrHeadSignature, len(pub), ed25519.PublicKeySize)
	}
	if err := h.checkFields(); err != nil {
		return fmt.Errorf("%w: %v", ErrHeadSignature, err)
	}
	if want := KeyID(pub); h.KID != want {
		return fmt.Errorf("%w: signed by kid %q, the key given is %q", ErrHeadSignature, h.KID, want)
	}
	sig, err := base64.RawURLEncoding.DecodeString(h.Signature)
	if err != nil || !ed25519.Verify(pub, h.SigningBytes(), sig) {
		return fmt.Errorf("%w: registry %s head %d:%s (kid %s)", ErrHeadSignature, h.Registry, h.Seq, h.Hash, h.KID)
	}
	return nil
}

// checkFields refuses heads whose fields could make SigningBytes ambiguous.
func (h SignedHead) checkFields() error {
	for _, f := range []string{h.Registry, h.Hash, h.KID} {
		if strings.ContainsAny(f, "\n\r") {
			return errors.New("a field contains a line break")
		}
	}
	if h.Seq < 0 {
		return fmt.Errorf("seq %d is negative", h.Seq)
	}
	return nil
}

// KeyID names an ed25519 public key: "ed25519:" and the first 16 bytes of
// the SHA-256 of the key, in hex. It is derived, so a kid cannot be
// claimed for another key.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "ed25519:" + hex.EncodeToString(sum[:16])
}

// HeadRef is a journal position an operator or the hub kept: entry Seq has
// hash Hash.
type HeadRef struct {
	Seq  int64
	Hash string
}

func (r HeadRef) String() string { return strconv.FormatInt(r.Seq, 10) + ":" + r.Hash }

// ParseHeadRef parses "SEQ:HASH" (seq ≥ 1, hash 64 hex digits, as the
// journal writes SHA-256).
func ParseHeadRef(s string) (HeadRef, error) {
	seqText, hash, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return HeadRef{}, fmt.Errorf("head %q: want SEQ:HASH", s)
	}
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if err != nil || seq < 1 {
		return HeadRef{}, fmt.Errorf("head %q: SEQ must be a journal sequence number ≥ 1", s)
	}
	hash = strings.ToLower(hash)
	if b, err := hex.DecodeString(hash); err != nil || len(b) != sha256.Size {
		return HeadRef{}, fmt.Errorf("head %q: HASH must be 64 hexadecimal digits (a SHA-256)", s)
	}
	return HeadRef{Seq: seq, Hash: hash}, nil
}
