package mrv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"
)

// ParseInstallation reads an installation's monitoring data from JSON or
// YAML (the same field names in both). Unknown fields are rejected and a
// wrong value names its field ("streams[1].ef"), like Compute's errors.
// YAML numbers keep their written digits: they are handed to the decimal
// parser as text, never through float64.
func ParseInstallation(raw []byte) (Installation, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return Installation{}, errors.New("mrv: the input is empty; an installation object is expected")
	}
	js := trimmed
	if trimmed[0] != '{' {
		var doc yaml.Node
		if err := yaml.Unmarshal(trimmed, &doc); err != nil {
			return Installation{}, fmt.Errorf("mrv: not valid JSON or YAML: %w", err)
		}
		var b bytes.Buffer
		if err := yamlToJSON(&b, &doc, ""); err != nil {
			return Installation{}, err
		}
		js = b.Bytes()
	}
	var inst Installation
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&inst); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return Installation{}, fmt.Errorf("mrv: not valid JSON (at byte %d)", syn.Offset)
		case errors.As(err, &typ):
			return Installation{}, &FieldError{Field: typ.Field, Err: fmt.Errorf("wrong type (%s given)", typ.Value)}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return Installation{}, &FieldError{Field: name, Err: errors.New("unknown field")}
		case strings.Contains(err.Error(), "decimal"):
			if field := badDecimalField(js); field != "" {
				return Installation{}, &FieldError{Field: field, Err: errors.New("must be a decimal number")}
			}
			return Installation{}, fmt.Errorf("mrv: a number could not be read as a decimal: %w", err)
		}
		return Installation{}, fmt.Errorf("mrv: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Installation{}, errors.New("mrv: data after the installation object")
	}
	return inst, nil
}

// yamlToJSON writes a YAML node as JSON. Numbers are written with the
// digits of the source; other scalars become JSON strings or literals.
func yamlToJSON(b *bytes.Buffer, n *yaml.Node, path string) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return errors.New("mrv: the YAML document is empty")
		}
		return yamlToJSON(b, n.Content[0], path)
	case yaml.AliasNode:
		return yamlToJSON(b, n.Alias, path)
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			key := n.Content[i].Value
			k, _ := json.Marshal(key)
			b.Write(k)
			b.WriteByte(':')
			if err := yamlToJSON(b, n.Content[i+1], join(path, key)); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := yamlToJSON(b, c, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int", "!!float":
			if !json.Valid([]byte(n.Value)) {
				return &FieldError{Field: path, Err: fmt.Errorf("number %q is not a plain decimal", n.Value)}
			}
			b.WriteString(n.Value)
		case "!!bool":
			v := "false"
			if strings.EqualFold(n.Value, "true") {
				v = "true"
			}
			b.WriteString(v)
		case "!!null":
			b.WriteString("null")
		default:
			s, _ := json.Marshal(n.Value)
			b.Write(s)
		}
	default:
		return &FieldError{Field: path, Err: errors.New("unsupported YAML node")}
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// badDecimalField finds the first value that a decimal field cannot take
// (the decimal decoder's error does not say which field it was), as a
// path like "streams[1].ef".
func badDecimalField(js []byte) string {
	var v any
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return ""
	}
	return findBadDecimal(v, reflect.TypeOf(Installation{}), "")
}

var decimalType = reflect.TypeOf(decimal.Decimal{})

func findBadDecimal(v any, t reflect.Type, path string) string {
	switch t.Kind() {
	case reflect.Slice:
		arr, _ := v.([]any)
		for i, e := range arr {
			if f := findBadDecimal(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); f != "" {
				return f
			}
		}
	case reflect.Struct:
		if t == decimalType {
			switch x := v.(type) {
			case json.Number:
				return ""
			case string:
				if _, err := decimal.NewFromString(x); err == nil {
					return ""
				}
			}
			return path
		}
		obj, _ := v.(map[string]any)
		for i := 0; i < t.NumField(); i++ {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if e, ok := obj[name]; ok && name != "" {
				if f := findBadDecimal(e, t.Field(i).Type, join(path, name)); f != "" {
					return f
				}
			}
		}
	}
	return ""
}
