package host

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
)

// TestAPINotFound: an unknown path under /api/ is answered 404 with a
// problem+json body and a stable code, not the mux's plain text.
func TestAPINotFound(t *testing.T) {
	nodes, err := Open(context.Background(), Storage{DataDir: filepath.Join(t.TempDir(), "data")}, OpenOptions{Codes: []string{"VN"}})
	if err != nil {
		t.Fatal(err)
	}
	defer nodes.Close()
	srv := httptest.NewServer(Handler(nodes.List, nodes.Link))
	defer srv.Close()
	for _, path := range []string{"/api/nope", "/api/v1/nope", "/api/v2/registries", "/api"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			Status int    `json:"status"`
			Code   string `json:"code"`
			Detail string `json:"detail"`
		}
		err = json.NewDecoder(res.Body).Decode(&p)
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound || res.Header.Get("Content-Type") != "application/problem+json" || err != nil || p.Code != "not_found" || p.Detail == "" {
			t.Errorf("GET %s: %d %q %+v %v", path, res.StatusCode, res.Header.Get("Content-Type"), p, err)
		}
	}
}
