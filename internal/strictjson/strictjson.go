// Package strictjson decodes request bodies strictly: exactly one JSON
// value, no unknown fields, and no object key given twice at any depth.
// encoding/json keeps the last of two equal keys, so
// {"from_account":2,…,"from_account":4} would silently act on account 4.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Error codes, stable for API users.
const (
	CodeMalformed    = "malformed_json"
	CodeDuplicateKey = "duplicate_key"
	CodeUnknownField = "unknown_field"
	CodeType         = "wrong_type"
)

// Error is a decoding error that names the field at fault when it can.
type Error struct {
	Code  string
	Field string // dotted path such as units.serials[0]; "" for the whole body
	Msg   string
}

func (e *Error) Error() string { return e.Msg }

// Decode decodes data, which must hold exactly one JSON value, into dst.
func Decode(data []byte, dst any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return &Error{Code: CodeMalformed, Msg: "the request body is empty; a JSON object is expected"}
	}
	if err := CheckKeys(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
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
// appears twice in one object (at any depth), or a syntax error. It does not
// decode values.
func CheckKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return walk(dec, "", 0)
}

func walk(dec *json.Decoder, path string, depth int) error {
	if depth > maxDepth {
		return &Error{Code: CodeMalformed, Field: path, Msg: fmt.Sprintf("the body nests objects and arrays more than %d deep", maxDepth)}
	}
	tok, err := dec.Token()
	if err != nil {
		return syntaxError(err)
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]struct{}{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return syntaxError(err)
			}
			key, _ := kt.(string) // the decoder yields only strings as keys
			p := key
			if path != "" {
				p = path + "." + key
			}
			if _, dup := seen[key]; dup {
				return &Error{Code: CodeDuplicateKey, Field: p, Msg: fmt.Sprintf("field %q is given more than once", p)}
			}
			seen[key] = struct{}{}
			if err := walk(dec, p, depth+1); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // the closing '}'
			return syntaxError(err)
		}
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if err := walk(dec, path+"["+strconv.Itoa(i)+"]", depth+1); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // the closing ']'
			return syntaxError(err)
		}
	}
	return nil
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
