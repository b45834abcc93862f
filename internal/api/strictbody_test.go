package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestWriteBodyStrict: a write body is a JSON object whose keys are exactly
// the field names (encoding/json alone would let "TO_ACCOUNT" fill
// to_account) and whose strings are valid text (encoding/json alone would
// store U+FFFD for invalid UTF-8 or a lone surrogate). Every refusal leaves
// the journal as it was.
func TestWriteBodyStrict(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w := newWorld(t, tg)
		tr := "/api/v1/registries/CN/transfers"
		ret := "/api/v1/registries/CN/retirements"
		units := `"units":{"quantity":1,"unit_type":"CCER"}`
		transfer := fmt.Sprintf(`{"from_account":%d,"to_account":%d,%s`, w.account, w.otherAc, units)
		retire := fmt.Sprintf(`{"from_account":%d,%s,"purpose":"voluntary"`, w.account, units)
		before := w.node.Totals()
		for _, tt := range []struct {
			name, path, body string
			code, field      string
		}{
			{"key repeated in upper case", tr, transfer + `,"TO_ACCOUNT":4}`, "duplicate_key", "TO_ACCOUNT"},
			{"key repeated in mixed case", ret, retire + `,"beneficiary":"Me Co","BENEFICIARY":"Other Co"}`, "duplicate_key", "BENEFICIARY"},
			{"key only in other case", tr, fmt.Sprintf(`{"from_account":%d,"To_Account":%d,%s}`, w.account, w.otherAc, units), "unknown_field", "To_Account"},
			{"nested key in other case", tr, fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"Quantity":1,"unit_type":"CCER"}}`, w.account, w.otherAc), "unknown_field", "units.Quantity"},
			{"invalid UTF-8", ret, retire + ",\"beneficiary\":\"a\xffb\"}", "text_invalid", "beneficiary"},
			{"escaped lone surrogate", ret, retire + `,"beneficiary":"a\ud800b"}`, "text_invalid", "beneficiary"},
			{"escaped lone low surrogate", ret, retire + `,"beneficiary":"\udc00 Co"}`, "text_invalid", "beneficiary"},
			{"null body", tr, `null`, "body_not_object", ""},
			{"array body", tr, `[]`, "body_not_object", ""},
			{"string body", tr, `"transfer"`, "body_not_object", ""},
			{"null body where a body is optional", "/api/v1/registries/CN/reservations/1/complete", `null`, "body_not_object", ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				token := w.tokens["holder"]
				if strings.HasSuffix(tt.path, "/complete") {
					token = w.tokens["admin"] // a settler may call it
				}
				st, body, _ := w.raw(t, "POST", tt.path, token, "strict-"+tt.name, tt.body)
				if st != 400 || body["code"] != tt.code || body["field"] != nilIfEmpty(tt.field) || body["detail"] == "" {
					t.Fatalf("status %d body %v; want 400 code %s field %q", st, body, tt.code, tt.field)
				}
			})
		}
		if after := w.node.Totals(); after.JournalSeq != before.JournalSeq || after.JournalHash != before.JournalHash {
			t.Fatalf("a refused body changed the ledger: seq %d -> %d", before.JournalSeq, after.JournalSeq)
		}
		// The exact names and a surrogate pair still go through.
		if st, body, _ := w.raw(t, "POST", ret, w.tokens["holder"], "strict-ok", retire+`,"beneficiary":"Me Co \ud83c\udf33"}`); st != 201 {
			t.Fatalf("exact body: %d %v", st, body)
		}
	})
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
