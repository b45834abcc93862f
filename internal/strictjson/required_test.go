package strictjson

import (
	"testing"
)

// TestDecodeRequired: the scan sees a required member missing, null, or
// an empty array where one item is wanted, at any depth, through arrays
// and a schema that refers to itself; a body the scan leaves to the
// walker (an escaped key) is never said to meet the requirement.
func TestDecodeRequired(t *testing.T) {
	units := &Required{AnyOf: [][]string{{"quantity"}, {"serials"}}, NonEmpty: []string{"serials"}}
	transfer := &Required{Names: []string{"from_account", "to_account", "units"}, Members: map[string]*Required{"units": units}}
	tree := &Required{Names: []string{"name"}}
	tree.Members = map[string]*Required{"kids": {Items: tree}}
	type node struct {
		Name string `json:"name"`
		Kids []any  `json:"kids"`
	}
	for _, tt := range []struct {
		name, in string
		req      *Required
		met      bool
	}{
		{"all there", `{"from_account":1,"to_account":2,"units":{"quantity":1}}`, transfer, true},
		{"serials instead", `{"from_account":1,"to_account":2,"units":{"serials":["a"]}}`, transfer, true},
		{"top missing", `{"from_account":1,"units":{"quantity":1}}`, transfer, false},
		{"top null", `{"from_account":1,"to_account":null,"units":{"quantity":1}}`, transfer, false},
		{"nested anyOf unmet", `{"from_account":1,"to_account":2,"units":{}}`, transfer, false},
		{"empty array wanted non-empty", `{"from_account":1,"to_account":2,"units":{"serials":[ ]}}`, transfer, false},
		{"nested null", `{"from_account":1,"to_account":2,"units":{"quantity":null}}`, transfer, false},
		{"escaped key", `{"from_\u0061ccount":1,"to_account":2,"units":{"quantity":1}}`, transfer, false},
		{"nil requires nothing", `{}`, nil, true},
		{"tree", `{"name":"a","kids":[{"name":"b","kids":[{"name":"c"}]}]}`, tree, true},
		{"tree deep miss", `{"name":"a","kids":[{"name":"b","kids":[{"kids":[]}]}]}`, tree, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var v any
			met, err := DecodeRequired([]byte(tt.in), &v, tt.req)
			if err != nil || met != tt.met {
				t.Fatalf("met %v, err %v; want met %v", met, err, tt.met)
			}
		})
	}
	// A strict error comes first, whatever is missing.
	var v body
	if _, err := DecodeRequired([]byte(`{"from_account":1,"from_account":2}`), &v, transfer); err == nil {
		t.Fatal("duplicate key accepted")
	}
	var n node
	if met, err := DecodeRequired([]byte(`{"name":"a","kids":[{"name":"b"}]}`), &n, tree); err != nil || !met || n.Name != "a" {
		t.Fatalf("typed tree: %v %v %+v", met, err, n)
	}
}
