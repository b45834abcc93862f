package readyz

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWrite(t *testing.T) {
	for _, c := range []struct {
		ready      bool
		status     int
		retryAfter string
	}{{true, http.StatusOK, ""}, {false, http.StatusServiceUnavailable, "1"}} {
		rec := httptest.NewRecorder()
		Write(rec, c.ready, map[string]bool{"ready": c.ready})
		h := rec.Header()
		if rec.Code != c.status || h.Get("Retry-After") != c.retryAfter || h.Get("Content-Type") != "application/json" || h.Get("Cache-Control") != "no-store" {
			t.Errorf("ready %v: status %d, headers %v", c.ready, rec.Code, h)
		}
		if want := `{"ready":` + map[bool]string{true: "true", false: "false"}[c.ready] + "}\n"; rec.Body.String() != want {
			t.Errorf("ready %v: body %q, want %q", c.ready, rec.Body.String(), want)
		}
	}
}
