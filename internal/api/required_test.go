package api

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/strictjson"
)

// writePatterns lists the mux pattern of every operation whose JSON body
// has a schema.
func writePatterns(t testing.TB) []string {
	doc, err := apiDoc()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for path, item := range obj(doc["paths"]) {
		for method, op := range obj(item) {
			if obj(obj(obj(obj(op)["requestBody"])["content"])["application/json"])["schema"] != nil {
				out = append(out, strings.ToUpper(method)+" "+path)
			}
		}
	}
	sort.Strings(out)
	if len(out) < 10 {
		t.Fatalf("only %d operations with a body schema: %v", len(out), out)
	}
	return out
}

// slowMissing is the second decode that requireFields makes.
func slowMissing(pattern string, raw []byte) string {
	op := operation(pattern)
	schema := obj(obj(obj(obj(op["requestBody"])["content"])["application/json"])["schema"])
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return "?"
	}
	field, _ := missing(schema, v, "")
	return field
}

var requiredSeeds = []string{
	`{"from_account":2,"to_account":4,"units":{"quantity":5,"unit_type":"CCER"}}`,
	`{"from_account":2,"to_account":4,"units":{"serials":["CN-CCER-X-2024-1-1-5"]}}`,
	`{"from_account":2,"to_account":4,"units":{"serials":[]}}`,
	`{"from_account":2,"to_account":null,"units":{"quantity":5}}`,
	`{"to_account":4,"units":{"quantity":5}}`,
	`{"from_account":2,"to_account":4}`,
	`{"from_account":2,"to_account":4,"units":{}}`,
	`{"from_account":2,"units":{"quantity":1,"unit_type":"CCER"},"beneficiary":"b","purpose":"p"}`,
	`{"lines":[{"origin":"CN","cn":"72081000","tonnes":"1","year":2026},{"origin":"CN","cn":"72081000","year":2026}]}`,
	`{"lines":[]}`,
	`{"unit":{"instrument":"CCER"},"use":{"scheme":"x"}}`,
	`{"unit":{"instrument":"CCER"}}`,
	`{}`,
	`{"a":null}`,
	`[]`,
}

// TestRequiredScanAgreesWithMissing: on every operation with a body
// schema, the scan's requirement (requiredOf) passes exactly the bodies in
// which missing finds nothing missing.
func TestRequiredScanAgreesWithMissing(t *testing.T) {
	for _, p := range writePatterns(t) {
		for _, in := range requiredSeeds {
			var v any
			met, err := strictjson.DecodeRequired([]byte(in), &v, requiredOf(p))
			if err != nil {
				t.Fatalf("%s %s: %v", p, in, err)
			}
			if slow := slowMissing(p, []byte(in)); met != (slow == "") {
				t.Errorf("%s %s: the scan says met=%v, missing says %q", p, in, met, slow)
			}
		}
	}
	// The transfer route takes the one-scan path on an ordinary body.
	met, err := strictjson.DecodeRequired([]byte(requiredSeeds[0]), new(any), requiredOf("POST /api/v1/registries/{registry}/transfers"))
	if err != nil || !met {
		t.Fatalf("transfer body: met %v, %v", met, err)
	}
}

// FuzzRequiredScan: a body the scan passes as having every required field
// is one in which missing finds none missing (the scan must never let a
// missing field through; it may send a body to missing for naming).
func FuzzRequiredScan(f *testing.F) {
	for i, s := range requiredSeeds {
		f.Add(uint8(i), []byte(s))
	}
	patterns := writePatterns(f)
	f.Fuzz(func(t *testing.T, route uint8, in []byte) {
		p := patterns[int(route)%len(patterns)]
		var v any
		met, err := strictjson.DecodeRequired(in, &v, requiredOf(p))
		if err != nil || !met {
			return
		}
		if slow := slowMissing(p, in); slow != "" {
			t.Fatalf("%s %q: the scan passed it, but %q is missing", p, in, slow)
		}
	})
}
