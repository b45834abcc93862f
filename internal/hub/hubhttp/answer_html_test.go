package hubhttp

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestAnswerErrorHidesWebPages: an error answer that is a web page (a
// proxy's, or a server that is not the hub) is named as such, not quoted;
// a short plain-text answer is still quoted.
func TestAnswerErrorHidesWebPages(t *testing.T) {
	for _, tc := range []struct {
		ct, body, want, not string
	}{
		{"text/html; charset=utf-8", "<!DOCTYPE html><html><body>Page not found</body></html>", "a web page", "<html"},
		{"", "<html><body>Bad gateway</body></html>", "a web page", "<html"},
		{"text/plain", "upstream timed out", "upstream timed out", "web page"},
	} {
		resp := &http.Response{StatusCode: http.StatusBadGateway, Header: http.Header{"Content-Type": {tc.ct}}, Body: io.NopCloser(strings.NewReader(tc.body))}
		msg := answerError("http://hub.example/hub/v1/trust", resp).Error()
		if !strings.Contains(msg, tc.want) || strings.Contains(msg, tc.not) {
			t.Errorf("%q %q: %s", tc.ct, tc.body, msg)
		}
	}
}
