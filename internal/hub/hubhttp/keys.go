package hubhttp

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/corridor-carbon/corridor/internal/hub/envelope"
)

// KeyID is the key's kid: its JWK thumbprint (RFC 7638, SHA-256,
// base64url), so a key file needs no name beside the key and two
// participants cannot pick the same kid for different keys.
func KeyID(pub ed25519.PublicKey) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("hubhttp: key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// EncodePublic is the public key as the trust list file and the
// --hub-public-key flag write it (base64url, no padding).
func EncodePublic(pub ed25519.PublicKey) string { return base64.RawURLEncoding.EncodeToString(pub) }

// DecodePublic reads a public key written by EncodePublic (padding and the
// standard alphabet are accepted too).
func DecodePublic(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		if raw, err := enc.DecodeString(s); err == nil {
			if len(raw) != ed25519.PublicKeySize {
				return nil, fmt.Errorf("hubhttp: public key is %d bytes, an ed25519 key is %d", len(raw), ed25519.PublicKeySize)
			}
			return ed25519.PublicKey(raw), nil
		}
	}
	return nil, errors.New("hubhttp: public key is not base64url")
}

// GenerateKeyFile writes a new ed25519 private key to path as PKCS#8 PEM,
// readable by its owner only, and refuses to overwrite an existing file.
func GenerateKeyFile(path string) (ed25519.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("hubhttp: generating key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("hubhttp: encoding key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("hubhttp: writing key: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return nil, fmt.Errorf("hubhttp: writing key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("hubhttp: writing key %s: %w", path, err)
	}
	return pub, nil
}

// LoadSigner reads a key file written by GenerateKeyFile as participant
// code's signer, its kid the key's thumbprint.
func LoadSigner(path, code string) (envelope.Signer, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return envelope.Signer{}, fmt.Errorf("hubhttp: reading key: %w", err)
	}
	b, _ := pem.Decode(raw)
	if b == nil || b.Type != "PRIVATE KEY" {
		return envelope.Signer{}, fmt.Errorf("hubhttp: key %s is not a PEM PRIVATE KEY", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return envelope.Signer{}, fmt.Errorf("hubhttp: key %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return envelope.Signer{}, fmt.Errorf("hubhttp: key %s is not an ed25519 key", path)
	}
	kid, err := KeyID(priv.Public().(ed25519.PublicKey))
	if err != nil {
		return envelope.Signer{}, err
	}
	return envelope.Signer{Code: code, KID: kid, Key: priv}, nil
}
