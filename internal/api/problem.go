package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/corridor-carbon/corridor/internal/problem"
	"github.com/corridor-carbon/corridor/internal/strictjson"
)

// maxBodyBytes bounds every request body; a larger body is rejected with 413.
const maxBodyBytes = 1 << 20

// Problem is an RFC 9457 problem document (see package problem).
type Problem = problem.Problem

// writeProblem sends a problem+json response. It never includes internal error
// text for 5xx responses: that goes to the log only.
func writeProblem(w http.ResponseWriter, p Problem) { problem.Write(w, p) }

// badRequest is the common 400 with a field name.
func badRequest(w http.ResponseWriter, code, field, detail string) {
	writeProblem(w, Problem{Status: http.StatusBadRequest, Code: code, Title: "Invalid request", Field: field, Detail: detail})
}

// internalError logs err and sends a 500 without its text.
func internalError(w http.ResponseWriter, r *http.Request, err error) {
	slog.ErrorContext(r.Context(), "api: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	writeProblem(w, Problem{Status: http.StatusInternalServerError, Code: "internal", Detail: "The server could not complete the request; it has been logged."})
}

// writeJSON sends v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// decodeJSON reads a write's JSON body into dst as every write does:
// Content-Type application/json (415 otherwise), size-limited, exactly one
// value, no unknown fields and no duplicate keys (strictjson), and every
// field the route's OpenAPI schema requires (field_missing). On failure it
// has already written the problem response and returns false.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) bool {
	raw, ok := readBody(w, r, false) // 413, or 415 for a body not sent as JSON
	if !ok {
		return false
	}
	return decodeBody(w, r, raw, dst)
}

func tooLarge(w http.ResponseWriter, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeProblem(w, Problem{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large",
			Detail: fmt.Sprintf("The request body exceeds %d bytes.", maxBodyBytes)})
		return
	}
	badRequest(w, "malformed_json", "", "The request body could not be read.")
}

// readBody reads a write's body. It must be application/json (415
// otherwise) unless it is empty and the endpoint's body is optional, which
// reads as {}.
func readBody(w http.ResponseWriter, r *http.Request, optional bool) ([]byte, bool) {
	raw, err := readAll(w, r)
	if err != nil {
		tooLarge(w, err)
		return nil, false
	}
	if len(raw) == 0 && optional {
		return []byte("{}"), true
	}
	// The header as clients send it needs no parsing (ParseMediaType
	// makes a map of parameters each time).
	if ct := r.Header.Get("Content-Type"); ct != "application/json" && !isJSONMediaType(ct) {
		writeProblem(w, Problem{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Field: "Content-Type",
			Detail: "A write's body must be JSON sent with Content-Type: application/json."})
		return nil, false
	}
	return raw, true
}

func isJSONMediaType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// readAll reads a body of at most maxBodyBytes, into a buffer of its
// Content-Length when the client sent one.
func readAll(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if n := r.ContentLength; n > 0 && n <= maxBodyBytes {
		buf := make([]byte, n)
		if _, err := io.ReadFull(body, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	return io.ReadAll(body)
}

// bodyProblem answers a strictjson error with a 400 naming the field.
func bodyProblem(w http.ResponseWriter, err error) {
	var e *strictjson.Error
	if !errors.As(err, &e) {
		badRequest(w, "malformed_json", "", err.Error())
		return
	}
	code := "malformed_json"
	switch e.Code {
	case strictjson.CodeDuplicateKey, strictjson.CodeUnknownField, strictjson.CodeNotObject, strictjson.CodeText,
		strictjson.CodeType, strictjson.CodeDecimal:
		// A value of the wrong JSON type is type_invalid on every field,
		// quantity too; quantity_invalid is for a whole number out of
		// range (UK ETS check 3008).
		code = e.Code
	}
	badRequest(w, code, e.Field, capitalise(e.Msg)+sentenceEnd(e.Msg))
}

// sentenceEnd is the full stop a message lacks.
func sentenceEnd(msg string) string {
	if strings.HasSuffix(msg, ".") {
		return ""
	}
	return "."
}

// unmatched answers a request no route takes (it is the mux's catch-all
// pattern): 405 with Allow when the path has routes for other methods, else
// 404; problem+json either way.
func unmatched(mux *http.ServeMux, catchAll string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		// ServeMux serves HEAD wherever it serves GET.
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			if m == r.Method {
				continue
			}
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "" && pattern != catchAll {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeProblem(w, Problem{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
				Detail: fmt.Sprintf("%s %s is not served; this path takes %s.", r.Method, r.URL.Path, strings.Join(allow, ", "))})
			return
		}
		writeProblem(w, Problem{Status: http.StatusNotFound, Code: "not_found", Detail: fmt.Sprintf("No API route matches %s %s.", r.Method, r.URL.Path)})
	}
}
