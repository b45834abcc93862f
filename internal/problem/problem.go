// Package problem writes RFC 9457 problem documents (application/problem+json),
// the error body of every HTTP surface here: the API and the hub protocol.
package problem

import (
	"encoding/json"
	"net/http"
)

// Problem is an RFC 9457 problem document. Code is stable and machine-readable;
// Title and Detail are for people.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail,omitempty"`
	// Field names the request field at fault, when there is one.
	Field string `json:"field,omitempty"`
}

// Write sends p with its status. An empty Type is derived from Code and an
// empty Title from the status.
func Write(w http.ResponseWriter, p Problem) {
	if p.Type == "" {
		p.Type = "https://corridor.invalid/problems/" + p.Code
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
