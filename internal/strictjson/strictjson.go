// Package strictjson decodes request bodies strictly: exactly one JSON
// value, field names matched exactly, no object key given twice at any
// depth (ignoring case), and only valid text in strings.
// encoding/json keeps the last of two equal keys, so
// {"from_account":2,…,"from_account":4} would silently act on account 4.
package strictjson

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// Error codes, stable for API users.
const (
	CodeMalformed    = "malformed_json"
	CodeDuplicateKey = "duplicate_key"
	CodeUnknownField = "unknown_field"
	// CodeType: a value of the wrong JSON type for its field (a string
	// where an integer goes, a fraction for an integer, an object where a
	// string goes…). The message says the type expected.
	CodeType = "type_invalid"
	// CodeDecimal: a decimal field whose value is not a decimal number.
	CodeDecimal   = "decimal_invalid"
	CodeNotObject = "body_not_object"
	CodeText      = "text_invalid"
)

// Error is a decoding error that names the field at fault when it can.
type Error struct {
	Code  string
	Field string // dotted path such as units.serials[0]; "" for the whole body
	Msg   string
}

func (e *Error) Error() string { return e.Msg }

// Decode decodes data, which must hold exactly one JSON value, into dst.
// When dst points to a struct the value must be an object. Every object key
// must be exactly (case-sensitively) a field name of the Go type it fills:
// encoding/json matches names case-insensitively, so "TO_ACCOUNT" would
// otherwise fill to_account. Strings must be valid UTF-8 without escaped
// lone surrogates, which encoding/json would silently turn into U+FFFD.
func Decode(data []byte, dst any) error {
	_, err := decode(data, dst, nil)
	return err
}

func decode(data []byte, dst any, req *Required) (met bool, err error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return false, &Error{Code: CodeMalformed, Msg: "the request body is empty; a JSON object is expected"}
	}
	ok, met := fastScan(data, reflect.TypeOf(dst), req)
	if !ok {
		if err := walkCheck(data, reflect.TypeOf(dst)); err != nil {
			return false, err
		}
	}
	return met, decodeValue(data, dst)
}

// decodeValue decodes data, which the scan or the walker has checked,
// into dst.
func decodeValue(data []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		// The fast scan checks keys and text, not value types: a value the
		// decoder refuses is named by the walker, which checks each one.
		if werr := walkCheck(data, reflect.TypeOf(dst)); werr != nil {
			return werr
		}
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return &Error{Code: CodeMalformed, Msg: fmt.Sprintf("the body is not valid JSON (at byte %d)", syn.Offset)}
		case errors.As(err, &typ):
			return &Error{Code: CodeType, Field: typ.Field, Msg: fmt.Sprintf("field %q must be %s", typ.Field, typeName(typ.Type.String()))}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.TrimPrefix(err.Error(), "json: unknown field ")
			return &Error{Code: CodeUnknownField, Field: strings.Trim(name, `"`), Msg: "unknown field " + name}
		default:
			return &Error{Code: CodeMalformed, Msg: fmt.Sprintf("the body could not be read as JSON: %v", err)}
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &Error{Code: CodeMalformed, Msg: "the body holds data after the JSON value"}
	}
	return nil
}

// maxDepth bounds how deeply objects and arrays may nest in a body.
const maxDepth = 64

// CheckKeys walks data token by token and reports the first object key that
// appears twice in one object (at any depth, keys compared under Unicode
// case folding), a string that is not valid UTF-8 or holds an escaped lone
// surrogate, or a syntax error. It does not decode values and knows no
// field names.
func CheckKeys(data []byte) error { return check(data, nil) }

func check(data []byte, t reflect.Type) error {
	if fastOK(data, t) {
		return nil
	}
	return walkCheck(data, t)
}

// walkCheck is check without the fast scan: it finds and names the error.
func walkCheck(data []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	w := walker{dec: dec, data: data}
	t = deref(t)
	if t != nil && t.Kind() == reflect.Struct && !opaque(t) {
		if tok, err := dec.Token(); err == nil && tok != json.Delim('{') {
			return &Error{Code: CodeNotObject, Msg: "the body must be a JSON object ({…}), not " + describe(tok)}
		}
		dec = json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		w.dec = dec
	}
	return w.walk("", 0, t)
}

// walker reads tokens and checks each one's raw bytes, which it finds
// between the decoder's offsets before and after the token.
type walker struct {
	dec  *json.Decoder
	data []byte
	prev int64
}

func (w *walker) token(path string) (json.Token, error) {
	tok, err := w.dec.Token()
	if err != nil {
		return nil, syntaxError(err)
	}
	end := w.dec.InputOffset()
	raw := w.data[w.prev:end]
	w.prev = end
	if _, isString := tok.(string); isString {
		if !utf8.Valid(raw) {
			return nil, &Error{Code: CodeText, Field: path, Msg: fmt.Sprintf("field %q is not valid UTF-8 text", path)}
		}
		if loneSurrogate(raw) {
			return nil, &Error{Code: CodeText, Field: path, Msg: fmt.Sprintf("field %q holds an escaped lone surrogate (\\uD800–\\uDFFF without its pair), which is not text", path)}
		}
	}
	return tok, nil
}

// walk checks one value; t is the Go type it will fill, or nil when that
// type does not constrain field names (interfaces, raw messages, types that
// decode themselves).
func (w *walker) walk(path string, depth int, t reflect.Type) error {
	if depth > maxDepth {
		return &Error{Code: CodeMalformed, Field: path, Msg: fmt.Sprintf("the body nests objects and arrays more than %d deep", maxDepth)}
	}
	t = deref(t)
	var self reflect.Type // a type that decodes itself: its value is tried whole
	if t != nil && opaque(t) {
		self, t = t, nil
	}
	start := w.prev
	tok, err := w.token(path)
	if err != nil {
		return err
	}
	if t != nil {
		if err := fits(path, t, tok); err != nil {
			return err
		}
	}
	if err := w.children(path, depth, t, tok); err != nil {
		return err
	}
	if self != nil && tok != nil {
		// The decoder would fail on this value without naming it (a
		// decimal's own error text names neither the field nor the
		// index); trying it here names both.
		raw := bytes.TrimLeft(w.data[start:w.prev], " \t\r\n:,")
		if err := json.Unmarshal(raw, reflect.New(self).Interface()); err != nil {
			return selfError(path, self, tok)
		}
	}
	return nil
}

// children walks the members of an object or the elements of an array
// that tok opened; for any other token it does nothing.
func (w *walker) children(path string, depth int, t reflect.Type, tok json.Token) error {
	switch tok {
	case json.Delim('{'):
		var fields map[string]reflect.Type
		var elem reflect.Type
		isMap := false
		if t != nil {
			switch t.Kind() {
			case reflect.Struct:
				fields = fieldsOf(t)
			case reflect.Map:
				isMap, elem = true, t.Elem()
			}
		}
		seen := map[string]string{}
		for w.dec.More() {
			kt, err := w.token(path)
			if err != nil {
				return err
			}
			key, _ := kt.(string) // the decoder yields only strings as keys
			p := key
			if path != "" {
				p = path + "." + key
			}
			// Map keys are data and stay case-sensitive; field names fold,
			// because encoding/json would fill one field from both keys.
			fk := key
			if !isMap {
				fk = fold(key)
			}
			if first, dup := seen[fk]; dup {
				if first == key {
					return &Error{Code: CodeDuplicateKey, Field: p, Msg: fmt.Sprintf("field %q is given more than once", p)}
				}
				return &Error{Code: CodeDuplicateKey, Field: p, Msg: fmt.Sprintf("field %q is given twice: as %q and as %q (names are compared ignoring case)", p, first, key)}
			}
			seen[fk] = key
			vt := elem
			if fields != nil {
				ft, ok := fields[key]
				if !ok {
					return &Error{Code: CodeUnknownField, Field: p, Msg: fmt.Sprintf("unknown field %q (field names are case-sensitive)", p)}
				}
				vt = ft
			}
			if err := w.walk(p, depth+1, vt); err != nil {
				return err
			}
		}
		if _, err := w.token(path); err != nil { // the closing '}'
			return err
		}
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; w.dec.More(); i++ {
			if err := w.walk(path+"["+strconv.Itoa(i)+"]", depth+1, elem); err != nil {
				return err
			}
		}
		if _, err := w.token(path); err != nil { // the closing ']'
			return err
		}
	}
	return nil
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// opaque reports whether t decodes itself, so its field names are not ours
// to check.
func opaque(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Implements(unmarshalerType) || p.Implements(unmarshalerType) ||
		t.Implements(textUnmarshalerType) || p.Implements(textUnmarshalerType)
}

// fieldsOf lists the JSON names of a struct's fields as encoding/json
// derives them (tag name, else the Go name; "-" omitted; embedded structs
// without a tag name promote their fields) with the type each fills.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	addFields(m, t, 0)
	return m
}

func addFields(m map[string]reflect.Type, t reflect.Type, depth int) {
	if depth > 8 {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			if ft := deref(f.Type); ft.Kind() == reflect.Struct {
				addFields(m, ft, depth+1)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, taken := m[name]; !taken || depth == 0 {
			m[name] = f.Type
		}
	}
}

// fold maps s to a canonical form under Unicode simple case folding: each
// rune becomes the smallest rune of its folding orbit.
func fold(s string) string {
	var b strings.Builder
	for _, r := range s {
		low := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			low = min(low, f)
		}
		b.WriteRune(low)
	}
	return b.String()
}

// loneSurrogate reports whether raw JSON text holds a \u escape of a UTF-16
// surrogate that is not half of a high-low pair.
func loneSurrogate(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' || i+1 >= len(raw) {
			continue
		}
		if raw[i+1] != 'u' {
			i++ // skip the escaped character, which may be a backslash
			continue
		}
		r, ok := hex4(raw, i+2)
		if !ok {
			return false // a syntax error the decoder reports
		}
		i += 5
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		case r >= 0xD800 && r <= 0xDBFF:
			if i+2 >= len(raw) || raw[i+1] != '\\' || raw[i+2] != 'u' {
				return true
			}
			lo, ok := hex4(raw, i+3)
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return true
			}
			i += 6
		}
	}
	return false
}

func hex4(raw []byte, at int) (rune, bool) {
	if at+4 > len(raw) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(raw[at:at+4]), 16, 32)
	return rune(v), err == nil
}

func describe(tok json.Token) string {
	switch v := tok.(type) {
	case nil:
		return "null"
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
}

// describeValue is describe with the value itself for short scalars, so a
// message can say what was sent.
func describeValue(tok json.Token) string {
	switch v := tok.(type) {
	case string:
		if utf8.RuneCountInString(v) <= 40 {
			return "the string " + strconv.Quote(v)
		}
	case json.Number:
		if len(v) <= 40 {
			return "the number " + string(v)
		}
	case bool:
		return strconv.FormatBool(v)
	}
	return describe(tok)
}

// fits reports a value whose JSON type cannot fill Go type t (which does
// not decode itself), naming the field and the type expected. null fits
// anything: encoding/json leaves the field as it was.
func fits(path string, t reflect.Type, tok json.Token) error {
	if tok == nil {
		return nil
	}
	ok := true
	switch t.Kind() {
	case reflect.String:
		_, ok = tok.(string)
	case reflect.Bool:
		_, ok = tok.(bool)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, isNum := tok.(json.Number)
		if ok = isNum; ok {
			_, err := strconv.ParseInt(string(n), 10, t.Bits())
			ok = err == nil
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, isNum := tok.(json.Number)
		if ok = isNum; ok {
			_, err := strconv.ParseUint(string(n), 10, t.Bits())
			ok = err == nil
		}
	case reflect.Float32, reflect.Float64:
		_, ok = tok.(json.Number)
	case reflect.Struct, reflect.Map:
		ok = tok == json.Delim('{')
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			_, ok = tok.(string) // base64 text
		} else {
			ok = tok == json.Delim('[')
		}
	case reflect.Array:
		ok = tok == json.Delim('[')
	}
	if ok {
		return nil
	}
	if n, isNum := tok.(json.Number); isNum && isDigits(string(n)) && t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64 {
		// An integer, but too large for the field.
		return &Error{Code: CodeType, Field: path, Msg: fmt.Sprintf("field %q must be an integer of at most %s, not %s", path, maxOf(t), describeValue(tok))}
	}
	return &Error{Code: CodeType, Field: path, Msg: fmt.Sprintf("field %q must be %s, not %s", path, expects(t), describeValue(tok))}
}

func isDigits(s string) bool {
	s = strings.TrimPrefix(s, "-")
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// maxOf is the largest value of an integer type, in digits.
func maxOf(t reflect.Type) string {
	if k := t.Kind(); k >= reflect.Uint && k <= reflect.Uint64 {
		return strconv.FormatUint(^uint64(0)>>(64-t.Bits()), 10)
	}
	return strconv.FormatInt(int64(^uint64(0)>>(65-t.Bits())), 10)
}

// expects says in words which JSON value fills a Go type.
func expects(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer (digits only: no fraction, no exponent, no quotes)"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Struct, reflect.Map:
		return "an object ({…})"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "an array ([…])"
	case reflect.Array:
		return "an array ([…])"
	}
	return "of JSON type " + t.String()
}

var (
	decimalType = reflect.TypeFor[decimal.Decimal]()
	timeType    = reflect.TypeFor[time.Time]()
)

// selfError is the error of a value that a type decoding itself refused.
func selfError(path string, t reflect.Type, tok json.Token) error {
	switch t {
	case decimalType:
		code := CodeDecimal // a string or number that is no decimal
		if _, isString := tok.(string); !isString {
			if _, isNumber := tok.(json.Number); !isNumber {
				code = CodeType
			}
		}
		return &Error{Code: code, Field: path, Msg: fmt.Sprintf("field %q must be a decimal number such as \"12.5\" (a string of digits with an optional sign and fraction, or a JSON number), not %s", path, describeValue(tok))}
	case timeType:
		return &Error{Code: CodeType, Field: path, Msg: fmt.Sprintf("field %q must be a date-time string (RFC 3339, such as \"2026-03-31T00:00:00Z\"), not %s", path, describeValue(tok))}
	}
	return &Error{Code: CodeType, Field: path, Msg: fmt.Sprintf("field %q does not accept %s", path, describeValue(tok))}
}

func syntaxError(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return &Error{Code: CodeMalformed, Msg: fmt.Sprintf("the body is not valid JSON (at byte %d)", syn.Offset)}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &Error{Code: CodeMalformed, Msg: "the body ends before its JSON value does"}
	}
	return &Error{Code: CodeMalformed, Msg: fmt.Sprintf("the body is not valid JSON: %v", err)}
}

// typeName says in words what a Go type accepts in JSON.
func typeName(goType string) string {
	switch goType {
	case "int", "int64", "int32":
		return "an integer within range (no fraction, no quotes)"
	case "bool":
		return "true or false"
	case "time.Time":
		return "a date-time string (RFC 3339)"
	}
	if strings.HasPrefix(goType, "[]") {
		return "an array"
	}
	if !strings.Contains(goType, "struct") && (goType == "string" || strings.Contains(goType, ".")) {
		return "a string"
	}
	return "of JSON type " + goType
}
