package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/corridor-carbon/corridor/internal/registry"
)

// Every write answers a registry.Result, so its encoding is on the path
// of every transfer. writeResult writes the same bytes as writeJSON
// (encoding/json, two-space indent, a final newline) by appending into a
// pooled buffer, without reflection (TestResultEncodingMatchesJSON).

var (
	jsonContentType = []string{"application/json"}
	noSniff         = []string{"nosniff"}
)

var resultBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// writeResult sends a write's result with the given status.
func writeResult(w http.ResponseWriter, status int, res *registry.Result) {
	bp := resultBufs.Get().(*[]byte)
	b, ok := appendResult((*bp)[:0], res)
	if !ok {
		resultBufs.Put(bp)
		writeJSON(w, status, res)
		return
	}
	// The header names are canonical and the values shared (nothing
	// writes into a header's value slice: Set replaces it, Add appends to
	// a copy), so no per-answer slices are made.
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["X-Content-Type-Options"] = noSniff
	w.WriteHeader(status)
	_, _ = w.Write(b)
	if cap(b) <= 64<<10 {
		*bp = b
		resultBufs.Put(bp)
	}
}

// appendResult appends res as encoding/json's indented encoding of it; ok
// is false for a value it leaves to encoding/json (a time it cannot write
// as RFC 3339).
func appendResult(b []byte, res *registry.Result) (_ []byte, ok bool) {
	b = append(b, "{\n  \"seq\": "...)
	b = strconv.AppendInt(b, res.Seq, 10)
	b = append(b, ",\n  \"kind\": "...)
	b = appendString(b, res.Kind)
	b = append(b, ",\n  \"at\": "...)
	if b, ok = appendTime(b, res.At); !ok {
		return b, false
	}
	b = appendIntMember(b, "id", res.ID)
	b = appendIntMember(b, "quantity", res.Quantity)
	if len(res.Blocks) > 0 {
		b = append(b, ",\n  \"blocks\": ["...)
		for i := range res.Blocks {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendBlock(b, &res.Blocks[i])
		}
		b = append(b, "\n  ]"...)
	}
	b = appendIntMember(b, "pending", res.Pending)
	if !res.ExpiresAt.IsZero() {
		b = append(b, ",\n  \"expires_at\": "...)
		if b, ok = appendTime(b, res.ExpiresAt); !ok {
			return b, false
		}
	}
	if a := res.Authority; a != nil {
		b = append(b, ",\n  \"authority\": {\n    \"role\": "...)
		b = appendString(b, string(a.Role))
		if a.OrgID != 0 {
			b = append(b, ",\n    \"organisation_id\": "...)
			b = strconv.AppendInt(b, a.OrgID, 10)
		}
		b = append(b, "\n  }"...)
	}
	if res.Token != "" {
		b = append(b, ",\n  \"token\": "...)
		b = appendString(b, res.Token)
	}
	if res.Replayed {
		b = append(b, ",\n  \"replayed\": true"...)
	}
	return append(b, "\n}\n"...), true
}

// appendIntMember appends an omitempty integer member of the result.
func appendIntMember(b []byte, name string, v int64) []byte {
	if v == 0 {
		return b
	}
	b = append(b, ",\n  \""...)
	b = append(b, name...)
	b = append(b, "\": "...)
	return strconv.AppendInt(b, v, 10)
}

func appendBlock(b []byte, v *registry.BlockView) []byte {
	b = append(b, "\n    {\n      \"serial\": "...)
	b = appendString(b, v.Serial)
	b = append(b, ",\n      \"issuance_id\": "...)
	b = strconv.AppendInt(b, v.IssuanceID, 10)
	b = append(b, ",\n      \"start\": "...)
	b = strconv.AppendInt(b, v.Start, 10)
	b = append(b, ",\n      \"end\": "...)
	b = strconv.AppendInt(b, v.End, 10)
	b = append(b, ",\n      \"quantity\": "...)
	b = strconv.AppendInt(b, v.Quantity, 10)
	b = append(b, ",\n      \"account_id\": "...)
	b = strconv.AppendInt(b, v.AccountID, 10)
	b = append(b, ",\n      \"state\": "...)
	b = appendString(b, string(v.State))
	if v.Pending != 0 {
		b = append(b, ",\n      \"pending\": "...)
		b = strconv.AppendInt(b, v.Pending, 10)
	}
	return append(b, "\n    }"...)
}

// appendTime appends t as time.Time's MarshalJSON does; ok is false where
// that fails (a year outside 0 to 9999).
func appendTime(b []byte, t time.Time) ([]byte, bool) {
	if y := t.Year(); y < 0 || y > 9999 {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}

// appendString appends s as a JSON string the way encoding/json does. Text
// of printable ASCII without quotes, backslashes or HTML's <, > and & (our
// kinds, serials, states and tokens) is copied; anything else goes to
// encoding/json, which escapes it.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
