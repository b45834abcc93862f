package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRoleOptionsRefused: half-given TLS pairs, a client CA without a
// server certificate, a missing trust file or key and a malformed pin are
// refused as invalid input before anything listens.
func TestRoleOptionsRefused(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, o := range map[string]TLSOptions{
		"cert without key":       {Cert: junk},
		"client CA without cert": {ClientCA: junk},
	} {
		if _, err := o.ServerConfig(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := (TLSOptions{ClientCert: junk}).ClientConfig(); !errors.Is(err, ErrInvalid) {
		t.Errorf("client cert without key: %v", err)
	}
	if _, err := (TLSOptions{CA: junk}).ClientConfig(); !errors.Is(err, ErrInvalid) {
		t.Errorf("CA file without a certificate: %v", err)
	}
	if cfg, err := (TLSOptions{}).ServerConfig(); cfg != nil || err != nil {
		t.Errorf("no TLS flags: %v %v", cfg, err)
	}
	ctx := context.Background()
	if err := ServeHub(ctx, HubOptions{Addr: "127.0.0.1:0"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("hub without key and trust: %v", err)
	}
	if err := ServeNode(ctx, NodeOptions{Code: "TH", HubURL: "https://127.0.0.1:1", KeyFile: junk}); !errors.Is(err, ErrInvalid) {
		t.Errorf("node without pin: %v", err)
	}
	if err := ServeNode(ctx, NodeOptions{Code: "TH", HubURL: "https://127.0.0.1:1", HubPublicKey: "kid:@@@", KeyFile: junk}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "base64url") {
		t.Errorf("malformed pin: %v", err)
	}
	if err := ServeNode(ctx, NodeOptions{Code: "th"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("lower-case code: %v", err)
	}
}
