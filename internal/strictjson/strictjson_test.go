package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

type inner struct {
	Quantity int64    `json:"quantity"`
	Serials  []string `json:"serials"`
}

type body struct {
	From  int64 `json:"from_account"`
	To    int64 `json:"to_account"`
	Units inner `json:"units"`
	Any   any   `json:"any"`
}

func TestDecode(t *testing.T) {
	for _, tt := range []struct {
		name, in    string
		code, field string
	}{
		{"ok", `{"from_account":2,"to_account":3,"units":{"quantity":1}}`, "", ""},
		{"duplicate top", `{"from_account":2,"to_account":3,"from_account":4}`, CodeDuplicateKey, "from_account"},
		{"duplicate nested", `{"units":{"quantity":1,"serials":[],"quantity":2}}`, CodeDuplicateKey, "units.quantity"},
		{"duplicate in array", `{"any":[1,{"a":1,"b":{"c":1,"c":2}}]}`, CodeDuplicateKey, "any[1].b.c"},
		{"same key in two objects", `{"any":[{"a":1},{"a":2}],"units":{"quantity":1}}`, "", ""},
		{"escaped duplicate", `{"from_account":1,"from_\u0061ccount":2}`, CodeDuplicateKey, "from_account"},
		{"unknown field", `{"fee":1}`, CodeUnknownField, "fee"},
		{"wrong type", `{"units":{"quantity":"5"}}`, CodeType, "units.quantity"},
		{"empty", ``, CodeMalformed, ""},
		{"truncated", `{"from_account":`, CodeMalformed, ""},
		{"bad syntax", `{"from_account" 1}`, CodeMalformed, ""},
		{"trailing", `{} {}`, CodeMalformed, ""},
		{"too deep", `{"any":` + deep(100) + `}`, CodeMalformed, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b body
			err := Decode([]byte(tt.in), &b)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != tt.code || (tt.field != "" && e.Field != tt.field) {
				t.Fatalf("got %#v, want code %s field %s", err, tt.code, tt.field)
			}
		})
	}
}

func deep(n int) string {
	s := ""
	for range n {
		s += "["
	}
	for range n {
		s += "]"
	}
	return s
}

// FuzzCheckKeys: CheckKeys never panics; on input encoding/json accepts as
// one value it reports a duplicate key exactly when decoding into maps loses
// a key (counted independently, value by value), and no other error.
func FuzzCheckKeys(f *testing.F) {
	for _, s := range []string{`{"a":1,"a":2}`, `{"a":{"b":[1,{"c":1}]}}`, `[{"a":1},{"a":1}]`, `{"a\u0000":1}`, `"x"`, `{"a":1,"b":{"a":2}}`, `{"\u0061":1,"a":2}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		err := CheckKeys([]byte(in))
		var v any
		if json.Unmarshal([]byte(in), &v) != nil || !depthOK(v, 0) {
			return // not one valid value, or nested too deep: it must only not panic
		}
		var e *Error
		if err != nil && (!errors.As(err, &e) || e.Code != CodeDuplicateKey) {
			t.Fatalf("valid JSON %q reported as %v", in, err)
		}
		if hasDup := countKeys(json.RawMessage(in)) != countMapKeys(v); hasDup != (err != nil) {
			t.Fatalf("%q: duplicate %v, CheckKeys said %v", in, hasDup, err)
		}
	})
}

// countKeys counts object keys as written, duplicates included: each
// object is read key by key with its value decoded as raw JSON.
func countKeys(raw json.RawMessage) int {
	var arr []json.RawMessage
	if json.Unmarshal(raw, &arr) == nil {
		n := 0
		for _, x := range arr {
			n += countKeys(x)
		}
		return n
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return 0
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	_, _ = dec.Token()
	n := 0
	for dec.More() {
		_, _ = dec.Token()
		var val json.RawMessage
		_ = dec.Decode(&val)
		n += 1 + countKeys(val)
	}
	return n
}

func countMapKeys(v any) int {
	n := 0
	switch x := v.(type) {
	case map[string]any:
		for _, y := range x {
			n += 1 + countMapKeys(y)
		}
	case []any:
		for _, y := range x {
			n += countMapKeys(y)
		}
	}
	return n
}

func depthOK(v any, d int) bool {
	if d > maxDepth {
		return false
	}
	switch x := v.(type) {
	case map[string]any:
		for _, y := range x {
			if !depthOK(y, d+1) {
				return false
			}
		}
	case []any:
		for _, y := range x {
			if !depthOK(y, d+1) {
				return false
			}
		}
	}
	return true
}
