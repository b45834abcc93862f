package ledger

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func testKey(t testing.TB, b byte) ed25519.PrivateKey {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = b
	return ed25519.NewKeyFromSeed(seed)
}

// TestHeadVerifyRefusesForgeries changes one thing at a time in a signed
// head, or checks it with another key, and expects Verify to refuse it.
func TestHeadVerifyRefusesForgeries(t *testing.T) {
	priv, other := testKey(t, 1), testKey(t, 2)
	pub := priv.Public().(ed25519.PublicKey)
	good := SignedHead{Registry: "CN", Seq: 42, Hash: strings.Repeat("0a", 32), At: time.Date(2026, 12, 1, 9, 30, 0, 123456789, time.UTC)}.Sign(priv)
	if err := good.Verify(pub); err != nil {
		t.Fatalf("genuine head refused: %v", err)
	}
	tests := []struct {
		name   string
		change func(h *SignedHead)
		key    ed25519.PublicKey
	}{
		{"seq raised", func(h *SignedHead) { h.Seq++ }, pub},
		{"seq lowered", func(h *SignedHead) { h.Seq-- }, pub},
		{"hash changed", func(h *SignedHead) { h.Hash = strings.Repeat("0b", 32) }, pub},
		{"time changed", func(h *SignedHead) { h.At = h.At.Add(time.Nanosecond) }, pub},
		{"registry changed", func(h *SignedHead) { h.Registry = "TH" }, pub},
		{"signature flipped", func(h *SignedHead) {
			b := []byte(h.Signature)
			b[3] ^= 1
			h.Signature = string(b)
		}, pub},
		{"signature empty", func(h *SignedHead) { h.Signature = "" }, pub},
		{"signature not base64url", func(h *SignedHead) { h.Signature = "!!" + h.Signature[2:] }, pub},
		{"signed by another key, kid kept", func(h *SignedHead) { kid := h.KID; *h = h.Sign(other); h.KID = kid }, pub},
		{"signed by another key", func(h *SignedHead) { *h = h.Sign(other) }, pub},
		{"kid of another key", func(h *SignedHead) { h.KID = KeyID(other.Public().(ed25519.PublicKey)) }, pub},
		{"line break in a field", func(h *SignedHead) { h.Registry = "CN\n" }, pub},
		{"checked with another key", func(h *SignedHead) {}, other.Public().(ed25519.PublicKey)},
		{"short key", func(h *SignedHead) {}, pub[:31]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := good
			tt.change(&h)
			if err := h.Verify(tt.key); !errors.Is(err, ErrHeadSignature) {
				t.Fatalf("Verify = %v, want ErrHeadSignature", err)
			}
		})
	}
}

// TestHeadSigningBytes pins the canonical byte string: a change to it
// breaks every head already kept, so it must be deliberate.
func TestHeadSigningBytes(t *testing.T) {
	h := SignedHead{Registry: "CN", Seq: 7, Hash: "ab", At: time.Date(2026, 12, 1, 9, 30, 0, 5, time.FixedZone("CST", 8*3600)), KID: "ed25519:00"}
	want := "corridor-head-v1\nCN\n7\nab\n2026-12-01T01:30:00.000000005Z\ned25519:00\n"
	if got := string(h.SigningBytes()); got != want {
		t.Fatalf("SigningBytes = %q, want %q", got, want)
	}
}

// TestHeadSignProperty: any head signed verifies with its key, and with
// no other key.
func TestHeadSignProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		priv := testKey(t, rapid.ByteRange(0, 127).Draw(rt, "key"))
		other := testKey(t, rapid.ByteRange(128, 255).Draw(rt, "other"))
		h := SignedHead{
			Registry: rapid.StringMatching(`[A-Z]{2,12}`).Draw(rt, "registry"),
			Seq:      rapid.Int64Min(0).Draw(rt, "seq"),
			Hash:     rapid.StringMatching(`[0-9a-f]{64}`).Draw(rt, "hash"),
			At:       time.Unix(0, rapid.Int64().Draw(rt, "at")).UTC(),
		}.Sign(priv)
		if err := h.Verify(priv.Public().(ed25519.PublicKey)); err != nil {
			rt.Fatalf("genuine head refused: %v", err)
		}
		if err := h.Verify(other.Public().(ed25519.PublicKey)); !errors.Is(err, ErrHeadSignature) {
			rt.Fatalf("another key accepted: %v", err)
		}
	})
}

func TestParseHeadRef(t *testing.T) {
	hash := strings.Repeat("Ab", 32)
	tests := []struct {
		in   string
		want HeadRef
		ok   bool
	}{
		{"12:" + hash, HeadRef{12, strings.ToLower(hash)}, true},
		{" 1:" + hash + " ", HeadRef{1, strings.ToLower(hash)}, true},
		{"0:" + hash, HeadRef{}, false},
		{"-1:" + hash, HeadRef{}, false},
		{"x:" + hash, HeadRef{}, false},
		{"12", HeadRef{}, false},
		{"12:abc", HeadRef{}, false},
		{"12:" + hash + "00", HeadRef{}, false},
		{"12:" + strings.Repeat("zz", 32), HeadRef{}, false},
	}
	for _, tt := range tests {
		got, err := ParseHeadRef(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseHeadRef(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func FuzzParseHeadRef(f *testing.F) {
	f.Add("12:" + strings.Repeat("ab", 32))
	f.Add("1:")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseHeadRef(s)
		if err != nil {
			return
		}
		if again, err := ParseHeadRef(r.String()); err != nil || again != r {
			t.Fatalf("%q parsed to %v, which re-parses to %v, %v", s, r, again, err)
		}
	})
}
