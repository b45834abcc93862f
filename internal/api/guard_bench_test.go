package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/registry"
)

// BenchmarkTransferBodyChecks measures what a transfer's body costs before
// the registry sees it: the strict decode, and the required-field check
// read from the OpenAPI document, and both in the one scan the write
// handler makes (decodeBody; run with -bench TransferBodyChecks).
func BenchmarkTransferBodyChecks(b *testing.B) {
	raw := []byte(`{"from_account":2,"to_account":4,"units":{"quantity":5,"unit_type":"CCER"}}`)
	k := registry.KindOf("transfer")
	r := httptest.NewRequest("POST", "/api/v1/registries/CN/transfers", strings.NewReader(string(raw)))
	r.Pattern = "POST /api/v1/registries/{registry}/transfers"
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := k.Decode(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one-scan", func(b *testing.B) {
		w := httptest.NewRecorder()
		for b.Loop() {
			var v registry.Transfer
			if !decodeBody(w, r, raw, &v) {
				b.Fatal(w.Body.String())
			}
		}
	})
	b.Run("required", func(b *testing.B) {
		w := httptest.NewRecorder()
		for b.Loop() {
			if !requireFields(w, r, raw) {
				b.Fatal(w.Body.String())
			}
		}
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	})
}
