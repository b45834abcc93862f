package registry

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

// TestKindsComplete: every kind in the table has its request type, decoder,
// apply function, roles and schema; a routed kind has a path id where its
// route has {id}; names, routes and types are unique; the decoder is strict
// and round-trips the request, and every string field has a text limit.
func TestKindsComplete(t *testing.T) {
	names, routes, types := map[string]bool{}, map[string]bool{}, map[reflect.Type]bool{}
	for i := range Kinds {
		k := &Kinds[i]
		t.Run(k.Name, func(t *testing.T) {
			switch {
			case k.Name == "" || k.Type == nil || k.decode == nil || k.apply == nil:
				t.Fatal("kind lacks name, type, decoder or apply function")
			case len(k.Roles) == 0:
				t.Fatal("kind names no role that may submit it")
			case k.Schema == "":
				t.Fatal("kind has no OpenAPI schema")
			case names[k.Name] || types[k.Type] || k.Route != "" && routes[k.Route]:
				t.Fatal("kind name, type or route listed twice")
			}
			names[k.Name], types[k.Type], routes[k.Route] = true, true, k.Route != ""
			if KindOf(k.Name) != k {
				t.Fatal("KindOf does not find the kind")
			}
			hasID := strings.Contains(k.Route, "{id}")
			if hasID != (k.PathID != "") || hasID != (k.id != nil) {
				t.Fatalf("route %q, path id %q and id accessor disagree", k.Route, k.PathID)
			}
			zero := reflect.New(k.Type).Elem().Interface().(Request)
			if KindFor(zero) != k || zero.Kind() != k.Name {
				t.Fatal("KindFor does not map the request type back to its kind")
			}
			if k.Route == "" && !slices.Equal(k.Roles, systemOnly) && !slices.Equal(k.Roles, hubOnly) {
				t.Fatal("a kind without a route must be one only the node or the hub submits")
			}
			if _, err := TextLimits(k.Type); err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(zero)
			back, err := k.Decode(raw)
			if err != nil || !reflect.DeepEqual(back, zero) {
				t.Fatalf("decode of its own encoding: %v %#v", err, back)
			}
			if _, err := k.Decode([]byte(`{"no_such_field":1}`)); err == nil {
				t.Fatal("decoder accepts unknown fields")
			}
			if hasID {
				r := k.WithID(zero, 42)
				if k.ID(r) != 42 || k.Path(r) != strings.Replace(k.Route, "{id}", "42", 1) {
					t.Fatalf("path id: %d %s", k.ID(r), k.Path(r))
				}
				body, _ := k.Body(r)
				if strings.Contains(string(body), `"`+k.PathID+`"`) {
					t.Fatalf("body %s repeats the path id", body)
				}
			}
		})
	}
	// apply has no switch of its own: a request type outside the table is refused.
	if KindFor(struct{ Request }{Transfer{}}) != nil {
		t.Fatal("KindFor accepted a type that is not in the table")
	}
	if _, err := DecodeRequest("no_such_kind", []byte(`{}`)); err == nil {
		t.Fatal("DecodeRequest accepted an unknown kind")
	}
}

// TestRequestText: every string field of every request is checked before
// the call is queued (valid UTF-8, no control characters, bounded), with the
// field named; the key too.
func TestRequestText(t *testing.T) {
	long := strings.Repeat("é", 201)
	for _, tt := range []struct {
		name  string
		key   string
		req   Request
		field string
	}{
		{"NUL in a name", "k", CreateOrganisation{Name: "Bad\x00Org", Country: "CN"}, "name"},
		{"invalid UTF-8 in a name", "k", OpenAccount{OrgID: 1, Type: ledger.Holding, Name: "A\xffB"}, "name"},
		{"C1 control in a reason", "k", Void{Pending: 1, Reason: "x\u0085y"}, "reason"},
		{"newline in a beneficiary", "k", Retire{From: 1, Beneficiary: "a\nb", Purpose: "p"}, "beneficiary"},
		{"too long", "k", Retire{From: 1, Beneficiary: long, Purpose: "p"}, "beneficiary"},
		{"nested unit type", "k", Transfer{From: 1, To: 2, Units: Units{Quantity: 1, UnitType: "CC\x00"}}, "units.unit_type"},
		{"a serial", "k", Transfer{From: 1, To: 2, Units: Units{Serials: []string{"ok", "b\x7fad"}}}, "units.serials[1]"},
		{"authority role", "k", Reserve{From: 1, Authority: &Authority{Role: "hub\x00"}}, "authority.role"},
		{"0xFF in the key", "key\xff", Transfer{}, "Idempotency-Key"},
		{"control in the key", "key\x01", Transfer{}, "Idempotency-Key"},
		{"reserved key prefix", "system:expire:1", Transfer{}, "Idempotency-Key"},
		{"key too long", strings.Repeat("k", MaxKeyLength+1), Transfer{}, "Idempotency-Key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := checkCall(Actor{Role: ledger.RoleAdmin}, tt.key, tt.req)
			e, ok := ledger.AsError(err)
			if !ok || e.Kind != ledger.KindInvalid || e.Field != tt.field {
				t.Fatalf("got %v (field %q), want an invalid-input error naming %s", err, e.Field, tt.field)
			}
		})
	}
	ok := []Request{
		CreateOrganisation{Name: "上海钢铁 Shanghai Steel — ภาษาไทย", Country: "CN"},
		Retire{From: 1, Beneficiary: strings.Repeat("é", 200), Purpose: "p"},
		Expire{Pending: 1, AsOf: time.Now()},
	}
	for _, r := range ok {
		if err := checkCall(Actor{Role: ledger.RoleAdmin}, "k-1", r); err != nil {
			t.Errorf("%T refused: %v", r, err)
		}
	}
}
