package api

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/registry"
)

// TestOpenAPIListsEveryRegistryRoute: the document has every read route and
// every transaction kind's write route, with the kind's body schema, a 415
// answer, and for every text field of the request the same maxLength as the
// registry enforces.
func TestOpenAPIListsEveryRegistryRoute(t *testing.T) {
	raw, err := MergeOpenAPI(openapiFragments)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	const p = "/api/v1/registries/{registry}"
	for _, rt := range New().registryReads() {
		if doc.Paths[p+rt.path]["get"] == nil {
			t.Errorf("OpenAPI lacks GET %s", p+rt.path)
		}
	}
	for i := range registry.Kinds {
		k := &registry.Kinds[i]
		schema := doc.Components.Schemas[k.Schema]
		if schema == nil {
			t.Errorf("kind %s: no schema %s", k.Name, k.Schema)
			continue
		}
		limits, err := registry.TextLimits(k.Type)
		if err != nil {
			t.Fatal(err)
		}
		for field, limit := range limits {
			if k.PathID != "" && field == k.PathID {
				continue
			}
			if got := maxLength(doc.Components.Schemas, schema, field); got != float64(limit) {
				t.Errorf("kind %s: %s.%s maxLength %v, registry allows %d", k.Name, k.Schema, field, got, limit)
			}
		}
		if k.Route == "" {
			continue
		}
		var op struct {
			RequestBody struct {
				Content map[string]struct {
					Schema struct {
						Ref string `json:"$ref"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
			Responses map[string]any `json:"responses"`
		}
		rawOp := doc.Paths[p+k.Route]["post"]
		if rawOp == nil {
			t.Errorf("kind %s: OpenAPI lacks POST %s", k.Name, p+k.Route)
			continue
		}
		_ = json.Unmarshal(rawOp, &op)
		if ref := op.RequestBody.Content["application/json"].Schema.Ref; ref != "#/components/schemas/"+k.Schema {
			t.Errorf("kind %s: POST %s body is %q, want schema %s", k.Name, k.Route, ref, k.Schema)
		}
		if op.Responses["415"] == nil || op.Responses["400"] == nil {
			t.Errorf("kind %s: POST %s documents no 400 or 415", k.Name, k.Route)
		}
	}
}

// maxLength follows a dotted path (a[] for the items of array a) through
// schema, resolving $refs.
func maxLength(schemas map[string]map[string]any, schema map[string]any, path string) any {
	for part := range strings.SplitSeq(path, ".") {
		schema = resolve(schemas, schema)
		props, _ := schema["properties"].(map[string]any)
		name, items := strings.CutSuffix(part, "[]")
		next, _ := props[name].(map[string]any)
		if items {
			next, _ = next["items"].(map[string]any)
		}
		if next == nil {
			return nil
		}
		schema = next
	}
	return resolve(schemas, schema)["maxLength"]
}

func resolve(schemas map[string]map[string]any, s map[string]any) map[string]any {
	if ref, ok := s["$ref"].(string); ok {
		return schemas[strings.TrimPrefix(ref, "#/components/schemas/")]
	}
	return s
}
