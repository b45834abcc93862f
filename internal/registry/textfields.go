package registry

import (
	"reflect"
	"strconv"
	"sync"
)

// textField is a struct field walkText looks at: a string or []string
// (checked against limit) or a struct or pointer (walked into). Fields of
// other kinds hold no text walkText checks, so they are left out.
type textField struct {
	index int
	name  string // JSON name
	limit int    // the `limit` tag; 0 when absent
	kind  reflect.Kind
}

var textFieldCache sync.Map // reflect.Type -> []textField

// textFieldsOf lists t's fields walkText visits, in field order, derived
// once per type: every call's request is walked before it is queued, and
// reading tags by reflection on every call cost as much as the rest of
// the walk.
func textFieldsOf(t reflect.Type) []textField {
	if fs, ok := textFieldCache.Load(t); ok {
		return fs.([]textField)
	}
	var fs []textField
	for i, name := range jsonFields(t, "") {
		f := t.Field(i)
		k := f.Type.Kind()
		switch {
		case k == reflect.String, k == reflect.Slice && f.Type.Elem().Kind() == reflect.String, k == reflect.Struct, k == reflect.Pointer:
		default:
			continue
		}
		limit, _ := strconv.Atoi(f.Tag.Get("limit"))
		fs = append(fs, textField{index: i, name: name, limit: limit, kind: k})
	}
	textFieldCache.Store(t, fs)
	return fs
}
