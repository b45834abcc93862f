package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shopspring/decimal"
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
		{"key in other case", `{"from_account":2,"to_account":3,"TO_ACCOUNT":4}`, CodeDuplicateKey, "TO_ACCOUNT"},
		{"only key in other case", `{"From_Account":2}`, CodeUnknownField, "From_Account"},
		{"nested key in other case", `{"units":{"Quantity":1}}`, CodeUnknownField, "units.Quantity"},
		{"folded duplicate under any", `{"any":{"k":1,"K":2}}`, CodeDuplicateKey, "any.K"},
		{"kelvin sign folds to k", `{"any":{"k":1,"\u212a":2}}`, CodeDuplicateKey, "any.\u212a"},
		{"invalid UTF-8 value", "{\"units\":{\"serials\":[\"a\xffb\"]}}", CodeText, "units.serials[0]"},
		{"invalid UTF-8 key", "{\"any\":{\"a\xff\":1}}", CodeText, "any"},
		{"lone high surrogate", `{"any":"a\ud800b"}`, CodeText, "any"},
		{"lone low surrogate", `{"any":"\udc00"}`, CodeText, "any"},
		{"high surrogate at end", `{"any":"\ud800"}`, CodeText, "any"},
		{"two high surrogates", `{"any":"\ud800\ud800"}`, CodeText, "any"},
		{"surrogate pair", `{"any":"\ud83d\ude00"}`, "", ""},
		{"escaped backslash then u", `{"any":"\\ud800"}`, "", ""},
		{"null body", `null`, CodeNotObject, ""},
		{"array body", `[]`, CodeNotObject, ""},
		{"string body", `"x"`, CodeNotObject, ""},
		{"number body", ` 5 `, CodeNotObject, ""},
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
		if err != nil && (!errors.As(err, &e) || e.Code != CodeDuplicateKey && e.Code != CodeText) {
			t.Fatalf("valid JSON %q reported as %v", in, err)
		}
		if err == nil && !utf8.ValidString(in) {
			t.Fatalf("%q is not UTF-8 but passed", in)
		}
		if !utf8.ValidString(in) || strings.Contains(strings.ToLower(in), `\ud`) {
			return // text checks decide; the key oracle below needs clean text
		}
		if err != nil && e.Code == CodeText {
			t.Fatalf("%q: clean text reported as %v", in, err)
		}
		if hasDup := foldedDuplicate(json.RawMessage(in)); hasDup != (err != nil) {
			t.Fatalf("%q: duplicate %v, CheckKeys said %v", in, hasDup, err)
		}
		if countKeys(json.RawMessage(in)) != countMapKeys(v) && err == nil {
			t.Fatalf("%q: decoding loses a key, CheckKeys passed it", in)
		}
	})
}

// FuzzDecode: whatever Decode accepts into a struct is an object whose keys
// are all exactly field names, so encoding/json's case-insensitive matching
// never chose a field; and it never panics.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"from_account":2,"TO_ACCOUNT":4}`, `{"units":{"QUANTITY":1}}`, `null`, `[]`, `{"any":{"a":1,"A":2}}`, `{"units":{"serials":["a\ud800"]}}`} {
		f.Add(s)
	}
	top := map[string]bool{"from_account": true, "to_account": true, "units": true, "any": true}
	units := map[string]bool{"quantity": true, "serials": true}
	f.Fuzz(func(t *testing.T, in string) {
		var b body
		if Decode([]byte(in), &b) != nil {
			return
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(in), &m); err != nil || m == nil {
			t.Fatalf("%q accepted but is not an object: %v", in, err)
		}
		for k, v := range m {
			if !top[k] {
				t.Fatalf("%q accepted with key %q", in, k)
			}
			var u map[string]json.RawMessage
			if k == "units" && json.Unmarshal(v, &u) == nil {
				for k := range u {
					if !units[k] {
						t.Fatalf("%q accepted with units key %q", in, k)
					}
				}
			}
		}
	})
}

// foldedDuplicate reports whether some object holds two keys that
// strings.EqualFold calls equal, compared pair by pair.
func foldedDuplicate(raw json.RawMessage) bool {
	var arr []json.RawMessage
	if json.Unmarshal(raw, &arr) == nil {
		for _, x := range arr {
			if foldedDuplicate(x) {
				return true
			}
		}
		return false
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	_, _ = dec.Token()
	var keys []string
	for dec.More() {
		kt, _ := dec.Token()
		k, _ := kt.(string)
		for _, o := range keys {
			if strings.EqualFold(o, k) {
				return true
			}
		}
		keys = append(keys, k)
		var val json.RawMessage
		_ = dec.Decode(&val)
		if foldedDuplicate(val) {
			return true
		}
	}
	return false
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

// fastSeeds are bodies the fast scan and the walker must agree on; the
// valid ones must take the fast path.
var fastSeeds = []string{
	`{"from_account":2,"to_account":3,"units":{"quantity":1}}`,
	`{"from_account":2,"to_account":3,"units":{"quantity":1,"serials":["CN-1-5","a\"b\\c\/\n\u00e9"]}}`,
	`{"any":{"k":1,"K":2}}`, `{"any":{"k":1,"\u212a":2}}`, `{"any":{"a":1,"b":[1,-2.5e+3,true,false,null,{}]}}`,
	`{"from_account":1,"from_\u0061ccount":2}`, `{"From_Account":2}`, `{"units":{"Quantity":1}}`,
	`{"from_account":2,"to_account":3,"from_account":4}`, `{"units":{"quantity":1,"serials":[],"quantity":2}}`,
	"{\"units\":{\"serials\":[\"a\xffb\"]}}", "{\"any\":{\"a\xff\":1}}", "{\"any\":\"\xed\xa0\x80\"}",
	`{"any":"a\ud800b"}`, `{"any":"\udc00"}`, `{"any":"\ud800"}`, `{"any":"\ud83d\ude00"}`, `{"any":"\\ud800"}`,
	`null`, `[]`, `"x"`, ` 5 `, `5x`, `truex`, `"s"x`, `{} {}`, `{}x`, `[1,]`, `{"a":1,}`, `{,}`, `[01]`, `-`, `1.`, `1e`, `-0.5E-7`,
	"{\"any\":\"tab\there\"}", `{"any":` + deep(70) + `}`, `{"any":` + deep(60) + `}`, `{"from_account" 1}`, `{"from_account":`,
	`{"m":{"a":1,"a":2}}`, `{"m":{"a":1,"A":2}}`, `{"m":{"\u00e9":1,"é":2}}`, `{"r":{"x":1}}`, `{"r":5}`, `{"t":"2026-01-01T00:00:00Z"}`,
}

type fastBody struct {
	body
	M map[string]int  `json:"m"`
	R json.RawMessage `json:"r"`
	T string          `json:"t"`
}

// TestFastAgreesWithWalker: a body the fast scan passes is one the walker
// passes, and the ordinary valid bodies do take the fast path.
func TestFastAgreesWithWalker(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[*body](), reflect.TypeFor[*fastBody](), nil} {
		for _, in := range fastSeeds {
			fast, slow := fastOK([]byte(in), typ), walkCheck([]byte(in), typ)
			if fast && slow != nil {
				t.Errorf("type %v, body %q: the fast scan passed what the walker refuses: %v", typ, in, slow)
			}
		}
	}
	for _, in := range []string{fastSeeds[0], fastSeeds[1], `{"any":{"a":1,"b":[1,-2.5e+3,true,false,null,{}]}}`, `{"m":{"a":1,"A":2},"r":{"x":1}}`} {
		if !fastOK([]byte(in), reflect.TypeFor[*fastBody]()) {
			t.Errorf("body %q: valid, but the fast scan sent it to the walker", in)
		}
	}
}

func FuzzFastAgreesWithWalker(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, typ := range []reflect.Type{reflect.TypeFor[*fastBody](), nil} {
			if fastOK(in, typ) {
				if err := walkCheck(in, typ); err != nil && !decoderRefusesToo(in, typ, err) {
					t.Fatalf("type %v, body %q: the fast scan passed what the walker refuses: %v", typ, in, err)
				}
			}
		}
	})
}

// decoderRefusesToo: the fast scan checks keys and text, not value types;
// a value of the wrong type it passes must still be refused by Decode,
// with the walker's own error.
func decoderRefusesToo(in []byte, typ reflect.Type, walkErr error) bool {
	var e *Error
	if typ == nil || !errors.As(walkErr, &e) || e.Code != CodeType && e.Code != CodeDecimal {
		return false
	}
	err := Decode(in, reflect.New(typ.Elem()).Interface())
	return err != nil && err.Error() == walkErr.Error()
}

// BenchmarkDecodeTransfer decodes a transfer body as the API does.
//
//	go test -run XXX -bench BenchmarkDecodeTransfer ./internal/strictjson/
func BenchmarkDecodeTransfer(b *testing.B) {
	in := []byte(`{"from_account":2,"to_account":3,"units":{"quantity":1,"unit_type":"BU"}}`)
	type units struct {
		Quantity int64  `json:"quantity"`
		UnitType string `json:"unit_type"`
	}
	type transfer struct {
		From  int64 `json:"from_account"`
		To    int64 `json:"to_account"`
		Units units `json:"units"`
	}
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			var v transfer
			if err := Decode(in, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("walker", func(b *testing.B) {
		for b.Loop() {
			if err := walkCheck(in, reflect.TypeFor[*transfer]()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

type line struct {
	Tonnes decimal.Decimal `json:"tonnes"`
	Year   int             `json:"year"`
	Name   string          `json:"name"`
}

type typed struct {
	Lines    []line `json:"lines"`
	Scenario *struct {
		Name string `json:"name"`
	} `json:"scenario"`
	Flag bool `json:"flag"`
}

// TestDecodeNamesTypeAndField: a value of the wrong type is type_invalid
// (a decimal that does not parse decimal_invalid) naming the field down to
// the list index, with a message that names the JSON type expected and
// never the decoder's own text.
func TestDecodeNamesTypeAndField(t *testing.T) {
	for _, tt := range []struct {
		name, in, code, field, msg string
	}{
		{"decimal text", `{"lines":[{"tonnes":"1"},{"tonnes":"abc"}]}`, CodeDecimal, "lines[1].tonnes", `must be a decimal number`},
		{"decimal as bool", `{"lines":[{"tonnes":true}]}`, CodeType, "lines[0].tonnes", `must be a decimal number such as "12.5" (a string of digits with an optional sign and fraction, or a JSON number), not true`},
		{"string for integer", `{"lines":[{"year":"2026"}]}`, CodeType, "lines[0].year", `must be an integer`},
		{"fraction for integer", `{"lines":[{"year":2026.5}]}`, CodeType, "lines[0].year", `not the number 2026.5`},
		{"integer overflow", `{"lines":[{"year":99999999999999999999}]}`, CodeType, "lines[0].year", `must be an integer of at most 9223372036854775807, not the number 99999999999999999999`},
		{"number for string", `{"lines":[{"name":5}]}`, CodeType, "lines[0].name", `must be a string, not the number 5`},
		{"string for object", `{"scenario":"bogus"}`, CodeType, "scenario", `must be an object ({…}), not the string "bogus"`},
		{"object for array", `{"lines":{}}`, CodeType, "lines", `must be an array ([…]), not an object`},
		{"string for bool", `{"flag":"yes"}`, CodeType, "flag", `must be true or false`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var v typed
			err := Decode([]byte(tt.in), &v)
			var e *Error
			if !errors.As(err, &e) || e.Code != tt.code || e.Field != tt.field || !strings.Contains(e.Msg, tt.msg) {
				t.Fatalf("got %#v, want %s at %s saying %q", err, tt.code, tt.field, tt.msg)
			}
			if strings.Contains(e.Msg, "can't convert") || strings.Contains(e.Msg, "json:") {
				t.Errorf("message leaks decoder text: %s", e.Msg)
			}
		})
	}
	var v typed
	if err := Decode([]byte(`{"lines":[{"tonnes":"12.5","year":2026,"name":"x"},{"tonnes":3,"year":null}],"scenario":null,"flag":false}`), &v); err != nil {
		t.Fatalf("valid body refused: %v", err)
	}
	if !v.Lines[0].Tonnes.Equal(decimal.RequireFromString("12.5")) || !v.Lines[1].Tonnes.Equal(decimal.NewFromInt(3)) || v.Lines[0].Year != 2026 {
		t.Fatalf("decoded %+v", v)
	}
}

// FuzzDecodeTyped: the type checks never panic, every refusal is an *Error
// with a code, and what Decode accepts encoding/json decodes too (the
// checks only refuse; they never let through what the decoder would fail).
func FuzzDecodeTyped(f *testing.F) {
	for _, s := range []string{`{"lines":[{"tonnes":"1.5","year":2026,"name":"x"}]}`, `{"lines":[{"tonnes":"abc"}]}`, `{"scenario":"x"}`,
		`{"lines":[{"year":1e3}]}`, `{"flag":true,"scenario":{"name":"n"}}`, `{"lines":[{"year":-99999999999999999999}]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var v typed
		err := Decode([]byte(in), &v)
		if err == nil {
			var w typed
			if err := json.Unmarshal([]byte(in), &w); err != nil {
				t.Fatalf("%q accepted, but encoding/json fails: %v", in, err)
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) || e.Code == "" || e.Msg == "" {
			t.Fatalf("%q: refusal %#v is not a coded *Error", in, err)
		}
	})
}
