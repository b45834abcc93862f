package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/api"
)

// TestOpenAPIWriteRoutesDocument400And415: every write route of the
// document says what a malformed body (400) and a body that is not JSON
// (415) answer, and every such route without a path parameter (the
// calculators, which take no token) answers a text/plain body 415
// unsupported_media_type, as the document says (the MRV route answered 415
// undocumented; CBAM, linkage and the rulebook took any content type).
func TestOpenAPIWriteRoutesDocument400And415(t *testing.T) {
	srv := httptest.NewServer(api.New().Handler())
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]any `json:"responses"`
		} `json:"paths"`
	}
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	writes := 0
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if method != "post" && method != "put" && method != "patch" && method != "delete" {
				continue
			}
			writes++
			for _, code := range []string{"400", "415"} {
				if op.Responses[code] == nil {
					t.Errorf("%s %s documents no %s", strings.ToUpper(method), path, code)
				}
			}
			if strings.Contains(path, "{") {
				continue
			}
			req, _ := http.NewRequest(strings.ToUpper(method), srv.URL+path, strings.NewReader(`{}`))
			req.Header.Set("Content-Type", "text/plain")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var p map[string]any
			_ = json.NewDecoder(res.Body).Decode(&p)
			res.Body.Close()
			if res.StatusCode != http.StatusUnsupportedMediaType || p["code"] != "unsupported_media_type" {
				t.Errorf("%s %s with text/plain: %d %v, want 415 unsupported_media_type", strings.ToUpper(method), path, res.StatusCode, p["code"])
			}
		}
	}
	if writes < 20 {
		t.Fatalf("only %d write routes in the document", writes)
	}
}
