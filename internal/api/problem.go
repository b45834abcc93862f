package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// maxBodyBytes bounds every request body; a larger body is rejected with 413.
const maxBodyBytes = 1 << 20

// Problem is an RFC 9457 problem document. Code is stable and machine-readable;
// Title and Detail are for people.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail,omitempty"`
	// Field names the request field at fault, when there is one.
	Field string `json:"field,omitempty"`
}

// writeProblem sends a problem+json response. It never includes internal error
// text for 5xx responses: that goes to the log only.
func writeProblem(w http.ResponseWriter, p Problem) {
	if p.Type == "" {
		p.Type = "https://corridor.invalid/problems/" + p.Code
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

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

// decodeJSON reads a JSON body into dst, strictly: size-limited, unknown fields
// rejected, exactly one value. On failure it has already written the problem
// response and returns false.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) bool {
	if err := DecodeStrict(http.MaxBytesReader(w, r.Body, maxBodyBytes), dst); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeProblem(w, Problem{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large",
				Detail: fmt.Sprintf("The request body exceeds %d bytes.", maxBodyBytes)})
			return false
		}
		var be *BodyError
		if errors.As(err, &be) && be.Field != "" {
			code := "malformed_json"
			if be.Field == "quantity" || strings.HasSuffix(be.Field, ".quantity") {
				code = "quantity_invalid" // UK ETS check 3008: quantity must be a positive integer
			}
			badRequest(w, code, be.Field, err.Error())
			return false
		}
		badRequest(w, "malformed_json", "", err.Error())
		return false
	}
	return true
}

// DecodeStrict decodes exactly one JSON value from r into dst, rejecting
// unknown fields and trailing data. Errors are phrased for API users.
func DecodeStrict(r io.Reader, dst any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return errors.New("the request body is empty; a JSON object is expected")
		case errors.As(err, &syn):
			return fmt.Errorf("the body is not valid JSON (at byte %d)", syn.Offset)
		case errors.As(err, &typ):
			return &BodyError{Field: typ.Field, Msg: fmt.Sprintf("field %q must be %s", typ.Field, jsonTypeName(typ.Type.String()))}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return fmt.Errorf("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
		default:
			return fmt.Errorf("the body could not be read as JSON: %v", err)
		}
	}
	if dec.More() {
		return errors.New("the body holds more than one JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("the body holds data after the JSON value")
	}
	return nil
}

// BodyError is a request-body error that names the field at fault.
type BodyError struct {
	Field string
	Msg   string
}

func (e *BodyError) Error() string { return e.Msg }

// jsonTypeName says in words what a Go type accepts in JSON.
func jsonTypeName(goType string) string {
	switch goType {
	case "int", "int64", "int32":
		return "an integer within range (no fraction, no quotes)"
	case "string", "ledger.AccountType", "ledger.AccountStatus", "ledger.Role":
		return "a string"
	case "bool":
		return "true or false"
	}
	if strings.HasPrefix(goType, "[]") {
		return "an array"
	}
	return "of JSON type " + goType
}
