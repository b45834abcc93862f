package strictjson

import (
	"bytes"
	"reflect"
	"sync"
	"unicode/utf8"
)

// The walker (check) reads a body through json.Decoder.Token, which costs
// more than decoding it: a map per object, a token per value, strings
// copied. Almost every body is fine, so check first scans the bytes once
// in a single pass (fastOK) that only answers "certainly fine" or "not
// sure"; on "not sure" the walker runs and names the error. fastOK may
// refuse a body the walker accepts (a key with an escape, a key outside
// ASCII under an untyped object), never the other way round
// (FuzzFastAgreesWithWalker).

// shape is what the walker knows about the Go type a JSON value fills:
// nil when the type does not constrain it (interfaces, types that decode
// themselves, scalars).
type shape struct {
	kind   reflect.Kind // Struct, Map or Slice (arrays too)
	fields map[string]field
	elem   reflect.Type // the element type of a map or slice
}

// field is one JSON name of a struct with the type it fills and its
// folding class: names that fold to the same form share a class, and the
// walker refuses two of them in one object.
type field struct {
	t     reflect.Type
	class int
}

var shapes sync.Map // reflect.Type -> *shape (nil pointer for no constraint)

func shapeOf(t reflect.Type) *shape {
	t = deref(t)
	if t == nil {
		return nil
	}
	if s, ok := shapes.Load(t); ok {
		return s.(*shape)
	}
	var s *shape
	if !opaque(t) {
		switch t.Kind() {
		case reflect.Struct:
			s = &shape{kind: reflect.Struct, fields: map[string]field{}}
			classes := map[string]int{}
			for name, ft := range fieldsOf(t) {
				fk := fold(name)
				c, ok := classes[fk]
				if !ok {
					c = len(classes)
					classes[fk] = c
				}
				s.fields[name] = field{t: ft, class: c}
			}
		case reflect.Map:
			s = &shape{kind: reflect.Map, elem: t.Elem()}
		case reflect.Slice, reflect.Array:
			s = &shape{kind: reflect.Slice, elem: t.Elem()}
		}
	}
	shapes.Store(t, s)
	return s
}

// fastOK reports whether data's first JSON value certainly passes the
// walker for type t.
func fastOK(data []byte, t reflect.Type) bool {
	ok, _ := fastScan(data, t, nil)
	return ok
}

// fastScan is fastOK that also checks, when ok, whether the value holds
// what req requires (met).
func fastScan(data []byte, t reflect.Type, req *Required) (ok, met bool) {
	f := scanner{data: data}
	f.space()
	top := shapeOf(t)
	if top != nil && top.kind == reflect.Struct && (f.i >= len(data) || data[f.i] != '{') {
		return false, false // the walker says which kind of value it is
	}
	if !f.value(top, 0, req) {
		return false, false
	}
	return true, !f.unmet
}

type scanner struct {
	data []byte
	i    int
	// unmet: an object lacks a member its Required names.
	unmet bool
}

func (f *scanner) space() {
	for f.i < len(f.data) {
		switch f.data[f.i] {
		case ' ', '\t', '\n', '\r':
			f.i++
		default:
			return
		}
	}
}

// value scans one value that fills a type of shape s, at nesting depth
// depth (the walker's depth), which must hold what req requires.
func (f *scanner) value(s *shape, depth int, req *Required) bool {
	if depth > maxDepth {
		return false
	}
	f.space()
	if f.i >= len(f.data) {
		return false
	}
	switch c := f.data[f.i]; {
	case c == '{':
		return f.object(s, depth, req)
	case c == '[':
		var elem *shape
		if s != nil && s.kind == reflect.Slice {
			elem = shapeOf(s.elem)
		}
		var items *Required
		if req != nil {
			items = req.Items
		}
		f.i++
		f.space()
		if f.i < len(f.data) && f.data[f.i] == ']' {
			f.i++
			return true
		}
		for {
			if !f.value(elem, depth+1, items) {
				return false
			}
			if closed, ok := f.after(']'); closed || !ok {
				return ok
			}
		}
	case c == '"':
		_, _, ok := f.str()
		return ok
	case c == '-' || c >= '0' && c <= '9':
		return f.number()
	case c == 't':
		return f.literal("true")
	case c == 'f':
		return f.literal("false")
	case c == 'n':
		return f.literal("null")
	}
	return false
}

// object scans an object whose keys the walker checks against s: exact
// field names (folding classes unique) for a struct, exact and unique
// keys for a map, keys unique under case folding otherwise.
func (f *scanner) object(s *shape, depth int, req *Required) bool {
	f.i++ // '{'
	var seenClasses uint64
	var seen [][]byte // keys so far, for maps and untyped objects
	var have uint64   // req's members present and not absent
	if req != nil {
		req.compile()
	}
	end := func() bool { // after the closing '}'
		if req != nil && !req.met(have) {
			f.unmet = true
		}
		return true
	}
	f.space()
	if f.i < len(f.data) && f.data[f.i] == '}' {
		f.i++
		return end()
	}
	for {
		f.space()
		if f.i >= len(f.data) || f.data[f.i] != '"' {
			return false
		}
		key, escaped, ok := f.str()
		if !ok || escaped {
			return false // an escaped key is compared decoded: the walker does it
		}
		var child *shape
		switch {
		case s != nil && s.kind == reflect.Struct:
			fl, known := s.fields[string(key)]
			if !known || fl.class >= 64 || seenClasses&(1<<fl.class) != 0 {
				return false
			}
			seenClasses |= 1 << fl.class
			child = shapeOf(fl.t)
		case s != nil && s.kind == reflect.Map:
			for _, k := range seen {
				if bytes.Equal(k, key) {
					return false
				}
			}
			seen = append(seen, key)
			child = shapeOf(s.elem)
		default:
			// ASCII keys fold as ASCII letters do (every other rune of
			// their folding orbit is above ASCII); others the walker folds.
			for _, b := range key {
				if b >= utf8.RuneSelf {
					return false
				}
			}
			for _, k := range seen {
				if bytes.EqualFold(k, key) {
					return false
				}
			}
			seen = append(seen, key)
		}
		f.space()
		if f.i >= len(f.data) || f.data[f.i] != ':' {
			return false
		}
		f.i++
		var member *Required
		bit, counted := -1, false
		if req != nil {
			member = req.Members[string(key)]
			bit, counted = req.index[string(key)]
		}
		f.space()
		start := f.i
		if !f.value(child, depth+1, member) {
			return false
		}
		if counted && bit < 64 && !f.absent(start, req.nonEmpty&(1<<bit) != 0) {
			have |= 1 << bit
		}
		if closed, ok := f.after('}'); closed || !ok {
			return ok && end()
		}
	}
}

// absent reports whether the value just scanned from start counts as
// missing: null, or an empty array where one item is wanted (nonEmpty).
func (f *scanner) absent(start int, nonEmpty bool) bool {
	switch f.data[start] {
	case 'n':
		return true
	case '[':
		if !nonEmpty {
			return false
		}
		g := scanner{data: f.data, i: start + 1}
		g.space()
		return g.data[g.i] == ']'
	}
	return false
}

// after scans what follows an element or member of a container that
// close ends: a comma (another comes) or close (the container ends, and
// closed is true). Anything else, or the end of the data, is not ok.
func (f *scanner) after(close byte) (closed, ok bool) {
	f.space()
	if f.i >= len(f.data) {
		return false, false
	}
	switch f.data[f.i] {
	case ',':
		f.i++
		return false, true
	case close:
		f.i++
		return true, true
	}
	return false, false
}

// str scans a string at f.i (its opening quote) and returns its raw
// content, whether it holds an escape, and whether it is a valid string
// the walker accepts: valid UTF-8, no control characters, known escapes,
// \u escapes of surrogates only in high-low pairs.
func (f *scanner) str() (raw []byte, escaped, ok bool) {
	f.i++
	start := f.i
	for f.i < len(f.data) {
		c := f.data[f.i]
		switch {
		case c == '"':
			raw = f.data[start:f.i]
			f.i++
			return raw, escaped, true
		case c < 0x20:
			return nil, false, false
		case c == '\\':
			escaped = true
			if f.i+1 >= len(f.data) {
				return nil, false, false
			}
			switch f.data[f.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				f.i += 2
			case 'u':
				r, ok := f.hex(f.i + 2)
				if !ok {
					return nil, false, false
				}
				f.i += 6
				switch {
				case r >= 0xDC00 && r <= 0xDFFF:
					return nil, false, false
				case r >= 0xD800 && r <= 0xDBFF:
					if f.i+1 >= len(f.data) || f.data[f.i] != '\\' || f.data[f.i+1] != 'u' {
						return nil, false, false
					}
					lo, ok := f.hex(f.i + 2)
					if !ok || lo < 0xDC00 || lo > 0xDFFF {
						return nil, false, false
					}
					f.i += 6
				}
			default:
				return nil, false, false
			}
		case c < utf8.RuneSelf:
			f.i++
		default:
			r, size := utf8.DecodeRune(f.data[f.i:])
			if r == utf8.RuneError && size <= 1 {
				return nil, false, false
			}
			f.i += size
		}
	}
	return nil, false, false
}

func (f *scanner) hex(at int) (rune, bool) {
	if at+4 > len(f.data) {
		return 0, false
	}
	var r rune
	for _, c := range f.data[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number scans a number as RFC 8259 section 6 spells it.
func (f *scanner) number() bool {
	d := f.data
	if f.i < len(d) && d[f.i] == '-' {
		f.i++
	}
	switch {
	case f.i < len(d) && d[f.i] == '0':
		f.i++
	case f.i < len(d) && d[f.i] >= '1' && d[f.i] <= '9':
		f.digits()
	default:
		return false
	}
	if f.i < len(d) && d[f.i] == '.' {
		f.i++
		if !f.digits() {
			return false
		}
	}
	if f.i < len(d) && (d[f.i] == 'e' || d[f.i] == 'E') {
		f.i++
		if f.i < len(d) && (d[f.i] == '+' || d[f.i] == '-') {
			f.i++
		}
		if !f.digits() {
			return false
		}
	}
	return true
}

// digits scans one or more digits.
func (f *scanner) digits() bool {
	start := f.i
	for f.i < len(f.data) && f.data[f.i] >= '0' && f.data[f.i] <= '9' {
		f.i++
	}
	return f.i > start
}

func (f *scanner) literal(word string) bool {
	if !bytes.HasPrefix(f.data[f.i:], []byte(word)) {
		return false
	}
	f.i += len(word)
	return true
}
