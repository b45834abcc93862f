package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/corridor-carbon/corridor/internal/strictjson"
)

// The OpenAPI document is the one place that says which fields a body
// requires and which query parameters a read takes; the checks here read
// it, so the document and the server cannot disagree.

// Codes of the checks here, stable for API users. A missing query
// parameter keeps its older code missing_parameter (the handlers say which
// one a read needs).
const (
	codeFieldMissing       = "field_missing"
	codeUnknownParameter   = "unknown_parameter"
	codeDuplicateParameter = "duplicate_parameter"
	codeInvalidQuery       = "invalid_query" // a declared parameter's value, checked by its handler
)

// apiDoc is the merged OpenAPI document, parsed once (it is embedded, so
// it is the same for every Server).
var apiDoc = sync.OnceValues(func() (map[string]any, error) {
	raw, err := MergeOpenAPI(openapiFragments)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("api: parse merged openapi: %w", err)
	}
	return doc, nil
})

// operation is the OpenAPI operation of a mux pattern such as
// "GET /api/v1/registries/{registry}/issuances"; nil when the document has
// none.
func operation(pattern string) map[string]any {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		return nil
	}
	doc, err := apiDoc()
	if err != nil {
		return nil
	}
	item := obj(obj(doc["paths"])[path])
	return obj(item[strings.ToLower(method)])
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

// resolve follows a local $ref (#/components/schemas/Name).
func resolveRef(schema map[string]any) map[string]any {
	for range 8 {
		ref, _ := schema["$ref"].(string)
		name, ok := strings.CutPrefix(ref, "#/components/schemas/")
		if !ok {
			return schema
		}
		doc, err := apiDoc()
		if err != nil {
			return schema
		}
		schema = obj(obj(obj(doc["components"])["schemas"])[name])
	}
	return schema
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// requireFields answers 400 field_missing when the body of a write lacks a
// field its OpenAPI schema requires (null counts as missing, and so does
// an empty array where the schema wants at least one item). raw has
// already decoded strictly. It returns false when it has answered.
func requireFields(w http.ResponseWriter, r *http.Request, raw []byte) bool {
	op := operation(r.Pattern)
	schema := obj(obj(obj(obj(op["requestBody"])["content"])["application/json"])["schema"])
	if schema == nil {
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return true // strictjson has accepted it; nothing more to say here
	}
	if field, detail := missing(schema, v, ""); field != "" {
		badRequest(w, codeFieldMissing, field, detail)
		return false
	}
	return true
}

// decodeBody decodes a write's body strictly into dst (strictjson) and
// checks the fields the route's OpenAPI schema requires in the same scan;
// only a body that may lack one is decoded a second time, by
// requireFields, to name it. It returns false when it has answered.
func decodeBody(w http.ResponseWriter, r *http.Request, raw []byte, dst any) bool {
	met, err := strictjson.DecodeRequired(raw, dst, requiredOf(r.Pattern))
	if err != nil {
		bodyProblem(w, err)
		return false
	}
	return met || requireFields(w, r, raw)
}

// requirements caches requiredOf per mux pattern.
var requirements sync.Map // pattern -> *strictjson.Required

// requiredOf is what the request body of the operation at pattern
// requires, as missing reads it from the OpenAPI schema; nil when the
// operation has no JSON body schema.
func requiredOf(pattern string) *strictjson.Required {
	if q, ok := requirements.Load(pattern); ok {
		return q.(*strictjson.Required)
	}
	op := operation(pattern)
	schema := obj(obj(obj(obj(op["requestBody"])["content"])["application/json"])["schema"])
	var q *strictjson.Required
	if schema != nil {
		q = (&requiredCompiler{byRef: map[string]*strictjson.Required{}}).compile(schema)
	}
	requirements.Store(pattern, q)
	return q
}

// requiredCompiler turns a schema into a strictjson.Required the way
// missing reads it: required, anyOf, minItems of required members, then
// the properties and items below. A $ref compiles once, so a schema that
// refers to itself makes a cycle, not an endless recursion.
type requiredCompiler struct {
	byRef map[string]*strictjson.Required
}

func (c *requiredCompiler) compile(schema map[string]any) *strictjson.Required {
	if ref, _ := schema["$ref"].(string); ref != "" {
		if q, ok := c.byRef[ref]; ok {
			return q
		}
		q := &strictjson.Required{}
		c.byRef[ref] = q
		c.fill(q, resolveRef(schema))
		return q
	}
	q := &strictjson.Required{}
	if !c.fill(q, schema) {
		return nil
	}
	return q
}

// fill sets q from schema; it reports whether q requires anything.
func (c *requiredCompiler) fill(q *strictjson.Required, schema map[string]any) bool {
	props := obj(schema["properties"])
	q.Names = strs(schema["required"])
	names := slices.Clone(q.Names)
	if alts, ok := schema["anyOf"].([]any); ok && len(alts) > 0 {
		for _, a := range alts {
			set := strs(obj(a)["required"])
			q.AnyOf = append(q.AnyOf, set)
			names = append(names, set...)
		}
	}
	for _, name := range names {
		if n, _ := resolveRef(obj(props[name]))["minItems"].(float64); n >= 1 && !slices.Contains(q.NonEmpty, name) {
			q.NonEmpty = append(q.NonEmpty, name)
		}
	}
	for name, ps := range props {
		if m := c.compile(obj(ps)); m != nil {
			if q.Members == nil {
				q.Members = map[string]*strictjson.Required{}
			}
			q.Members[name] = m
		}
	}
	if items := obj(schema["items"]); items != nil {
		q.Items = c.compile(items)
	}
	return len(q.Names) > 0 || len(q.AnyOf) > 0 || q.Members != nil || q.Items != nil
}

// missing returns the first field that v lacks under schema, depth first
// in the schema's order, and a sentence saying what to give.
func missing(schema map[string]any, v any, path string) (field, detail string) {
	schema = resolveRef(schema)
	join := func(name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	switch v := v.(type) {
	case map[string]any:
		props := obj(schema["properties"])
		for _, name := range strs(schema["required"]) {
			if absent(v, name, obj(props[name])) {
				return join(name), fmt.Sprintf("Field %s is required%s.", join(name), typeHint(obj(props[name])))
			}
		}
		if alts, ok := schema["anyOf"].([]any); ok && len(alts) > 0 {
			var options []string
			met := false
			for _, a := range alts {
				req := strs(obj(a)["required"])
				all := true
				for _, name := range req {
					all = all && !absent(v, name, obj(props[name]))
				}
				met = met || all
				options = append(options, strings.Join(prefixed(req, join("")), " with "))
			}
			if !met {
				first := strs(obj(alts[0])["required"])
				return join(first[0]), fmt.Sprintf("Give %s (at least one).", strings.Join(options, " or "))
			}
		}
		names := make([]string, 0, len(v))
		for name := range v {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if ps := obj(props[name]); ps != nil {
				if f, d := missing(ps, v[name], join(name)); f != "" {
					return f, d
				}
			}
		}
	case []any:
		items := obj(schema["items"])
		if items == nil {
			return "", ""
		}
		for i, x := range v {
			if f, d := missing(items, x, path+"["+strconv.Itoa(i)+"]"); f != "" {
				return f, d
			}
		}
	}
	return "", ""
}

func prefixed(names []string, prefix string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return out
}

// absent: the member is not there, is null, or is an empty array where at
// least one item is wanted.
func absent(v map[string]any, name string, schema map[string]any) bool {
	x, ok := v[name]
	if !ok || x == nil {
		return true
	}
	if l, isList := x.([]any); isList && len(l) == 0 {
		if n, _ := resolveRef(schema)["minItems"].(float64); n >= 1 {
			return true
		}
	}
	return false
}

// typeHint names the JSON type a required field takes, from its schema.
func typeHint(schema map[string]any) string {
	schema = resolveRef(schema)
	switch t, _ := schema["type"].(string); t {
	case "integer":
		return " (an integer)"
	case "string":
		if strings.Contains(fmt.Sprint(schema["pattern"]), "[0-9]") {
			return " (a decimal number as a string)"
		}
		return " (a string)"
	case "boolean":
		return " (true or false)"
	case "array":
		return " (an array)"
	case "object":
		return " (an object)"
	}
	if schema["properties"] != nil {
		return " (an object)"
	}
	return ""
}

// queryNames lists the query parameters an operation declares.
func queryNames(op map[string]any) []string {
	params, _ := op["parameters"].([]any)
	var out []string
	for _, p := range params {
		if pm := obj(p); pm["in"] == "query" {
			name, _ := pm["name"].(string)
			out = append(out, name)
		}
	}
	return out
}

// guardQueries checks the query of every GET that a documented route
// takes before the route's handler runs: a parameter the route does not
// declare is 400 unknown_parameter, one given twice duplicate_parameter.
// A declared parameter's value is its handler's to check (invalid_query
// and the codes of the Article 6 reads), so each says what it takes.
func guardQueries(mux *http.ServeMux, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.RawQuery != "" {
			_, pattern := mux.Handler(r)
			if op := operation(strings.Replace(pattern, "HEAD ", "GET ", 1)); op != nil {
				if !checkQuery(w, r, op) {
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

func checkQuery(w http.ResponseWriter, r *http.Request, op map[string]any) bool {
	names := queryNames(op)
	q := r.URL.Query()
	given := make([]string, 0, len(q))
	for name := range q {
		given = append(given, name)
	}
	sort.Strings(given)
	for _, name := range given {
		if !slices.Contains(names, name) {
			takes := "takes no query parameters"
			if len(names) > 0 {
				takes = "takes only " + strings.Join(names, ", ")
			}
			badRequest(w, codeUnknownParameter, name, "Query parameter "+strconv.Quote(name)+" is unknown: this route "+takes+".")
			return false
		}
		if len(q[name]) > 1 {
			badRequest(w, codeDuplicateParameter, name, "Query parameter "+name+" is given more than once.")
			return false
		}
	}
	return true
}
