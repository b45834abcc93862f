package api

import (
	"net/http/httptest"
	"testing"
)

// Art. 22(2) of Reg. (EU) 2023/956 as amended by Reg. (EU) 2025/2083: the
// declaration of a 2027 year carries the quarterly holding minimum.
func TestCBAMObligationsQuarterlyHolding(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(New().Handler())
	defer srv.Close()
	resp, out := postJSON(t, srv, "/api/v1/cbam/obligations", `{"lines": [
		{"origin": "CN", "cn": "72081000", "tonnes": "100", "year": 2027, "quarter": 1},
		{"origin": "CN", "cn": "72081000", "tonnes": "200", "year": 2027, "quarter": 3}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %v", resp.StatusCode, out)
	}
	q := out["declaration"].([]any)[0].(map[string]any)["quarterly_holding"].([]any)
	if len(q) != 4 {
		t.Fatalf("quarterly_holding %v", q)
	}
	// 2027 SEE 3.824271: Q1 100 t → 382.4271 → 192; Q3 +200 t → 1147.2813 → 574.
	if !dec(t, q[0].(map[string]any)["min_certificates"]).Equal(dec(t, "192")) ||
		!dec(t, q[2].(map[string]any)["min_certificates"]).Equal(dec(t, "574")) {
		t.Errorf("quarterly_holding %v", q)
	}
}
