package hubhttp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestProtocolMismatch: an http:// URL to an HTTPS server and an https://
// URL to a plain HTTP server are ErrProtocolMismatch, for the trust list
// fetch and for a message, saying which protocol the server speaks; an
// ordinary 400 from a plain server stays a status error.
func TestProtocolMismatch(t *testing.T) {
	ctx := context.Background()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusBadRequest) })
	tlsSrv := httptest.NewTLSServer(h)
	defer tlsSrv.Close()
	plain := httptest.NewServer(h)
	defer plain.Close()
	c := NewClient(nil, 5*time.Second)

	asHTTP := "http://" + strings.TrimPrefix(tlsSrv.URL, "https://")
	src := &Source{URL: asHTTP + "/" + PathTrust, Client: c}
	err := src.Fetch(ctx)
	var pm *ProtocolMismatchError
	if !errors.As(err, &pm) || !errors.Is(err, ErrProtocolMismatch) || !pm.ServerTLS || !strings.Contains(err.Error(), "speaks HTTPS, not plain HTTP: use https://") {
		t.Fatalf("http:// to an HTTPS server: %v", err)
	}
	if err := c.Post(ctx, asHTTP+"/"+PathMessages, "x.y.z"); !errors.Is(err, ErrProtocolMismatch) {
		t.Fatalf("posting over http:// to an HTTPS server: %v", err)
	}

	asHTTPS := "https://" + strings.TrimPrefix(plain.URL, "http://")
	err = (&Source{URL: asHTTPS + "/" + PathTrust, Client: c}).Fetch(ctx)
	if !errors.As(err, &pm) || pm.ServerTLS || !strings.Contains(err.Error(), "speaks plain HTTP, not HTTPS") {
		t.Fatalf("https:// to a plain HTTP server: %v", err)
	}

	err = (&Source{URL: plain.URL + "/" + PathTrust, Client: c}).Fetch(ctx)
	var se *StatusError
	if errors.Is(err, ErrProtocolMismatch) || !errors.As(err, &se) || se.Status != http.StatusBadRequest || !strings.Contains(se.Body, "no") {
		t.Fatalf("a plain 400: %v", err)
	}
}
