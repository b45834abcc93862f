package host

import (
	"context"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub/hubhttp"
)

// TestNodeHubMismatch: a node whose --hub-url has the wrong scheme for
// the hub, or whose hub serves a list the pin cannot verify, fails at
// once with the reason instead of waiting for the hub forever.
func TestNodeHubMismatch(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "th.key")
	pub, err := hubhttp.GenerateKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	pin := hubhttp.EncodePublic(pub)
	hubSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", hubhttp.ContentType)
		_, _ = w.Write([]byte("not.a.jws"))
	}))
	defer hubSrv.Close()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hubSrv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	plainSrv := httptest.NewServer(http.NotFoundHandler())
	defer plainSrv.Close()

	for name, tc := range map[string]struct {
		url  string
		want error
		text string
	}{
		"http:// to the HTTPS hub":   {"http://" + strings.TrimPrefix(hubSrv.URL, "https://"), hubhttp.ErrProtocolMismatch, "speaks HTTPS, not plain HTTP"},
		"https:// to a plain server": {"https://" + strings.TrimPrefix(plainSrv.URL, "http://"), hubhttp.ErrProtocolMismatch, "speaks plain HTTP, not HTTPS"},
		"a list the pin refuses":     {hubSrv.URL, hubhttp.ErrTrustRefused, "not a JWS"},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			start := time.Now()
			err := ServeNode(ctx, NodeOptions{Addr: "127.0.0.1:0", Code: "TH", Storage: Storage{DataDir: t.TempDir()}, HubURL: tc.url, HubPublicKey: pin, KeyFile: keyFile,
				TLS: TLSOptions{CA: ca}})
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) || ctx.Err() != nil {
				t.Fatalf("after %v: %v", time.Since(start), err)
			}
		})
	}
}
