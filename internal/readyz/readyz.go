// Package readyz writes the answer of a /readyz endpoint, the same for
// the registry nodes (api) and the hub (hubhttp).
package readyz

import (
	"encoding/json"
	"net/http"
)

// Write answers a readiness check with body as JSON: 200 when ready, else
// 503 with Retry-After so a load balancer asks again shortly. The answer
// is never cached: it is true only when it is made.
func Write(w http.ResponseWriter, ready bool, body any) {
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
