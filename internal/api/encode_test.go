package api

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// jsonResult is what writeJSON writes for res.
func jsonResult(t testing.TB, res *registry.Result) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var resultTexts = []string{"", "transfer", "CN-CCER-X-2024-1-1-5", "held", "a\"b", `back\slash`, "<html>&", "tab\there", "\x00\x1f\x7f", "é中文", "\u2028\u2029", "bad \xff utf8", "cft_0123456789abcdef"}

func randomResult(r *rand.Rand) registry.Result {
	text := func() string { return resultTexts[r.IntN(len(resultTexts))] }
	num := func() int64 {
		switch r.IntN(4) {
		case 0:
			return 0
		case 1:
			return -r.Int64()
		}
		return r.Int64N(1 << 40)
	}
	when := func() time.Time {
		switch r.IntN(4) {
		case 0:
			return time.Time{}
		case 1:
			return time.Unix(r.Int64N(4e9), 0).UTC()
		case 2:
			return time.Unix(r.Int64N(4e9), r.Int64N(1e9)).In(time.FixedZone("X", 8*3600+1800))
		}
		return time.Unix(r.Int64N(4e9), r.Int64N(1e9)).UTC()
	}
	res := registry.Result{Seq: num(), Kind: text(), At: when(), ID: num(), Quantity: num(), Pending: num(), ExpiresAt: when(), Token: text(), Replayed: r.IntN(2) == 0}
	switch r.IntN(3) {
	case 0:
		res.Blocks = []registry.BlockView{}
	case 1:
		for range r.IntN(4) + 1 {
			res.Blocks = append(res.Blocks, registry.BlockView{Serial: text(), IssuanceID: num(), Start: num(), End: num(), Quantity: num(), AccountID: num(), State: ledger.State(text()), Pending: num()})
		}
	}
	if r.IntN(2) == 0 {
		res.Authority = &registry.Authority{Role: registry.AuthorityRole(text()), OrgID: num()}
	}
	return res
}

// TestResultEncodingMatchesJSON: the hand-written encoding of a write's
// result is byte for byte encoding/json's, on every member present or
// absent, strings that need escaping, times in other zones and with
// nanoseconds; a time encoding/json cannot write falls back to it.
func TestResultEncodingMatchesJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for i := range 20000 {
		res := randomResult(r)
		got, ok := appendResult(nil, &res)
		if !ok {
			t.Fatalf("%d: %+v refused", i, res)
		}
		if want := jsonResult(t, &res); !bytes.Equal(got, want) {
			t.Fatalf("%d: %+v\ngot  %s\nwant %s", i, res, got, want)
		}
	}
	far := registry.Result{Seq: 1, Kind: "transfer", At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, ok := appendResult(nil, &far); ok {
		t.Fatal("year 10000 encoded by hand; encoding/json refuses it")
	}
	rec := httptest.NewRecorder()
	res := registry.Result{Seq: 3, Kind: "transfer", At: time.Unix(1e9, 5).UTC(), Blocks: []registry.BlockView{{Serial: "S", Quantity: 1, State: ledger.Held}}}
	writeResult(rec, 201, &res)
	if rec.Code != 201 || rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("X-Content-Type-Options") != "nosniff" || !bytes.Equal(rec.Body.Bytes(), jsonResult(t, &res)) {
		t.Fatalf("writeResult: %d %v %s", rec.Code, rec.Header(), rec.Body.Bytes())
	}
}

// BenchmarkResultEncoding compares encoding/json with appendResult on a
// transfer's result.
func BenchmarkResultEncoding(b *testing.B) {
	res := registry.Result{Seq: 123456, Kind: "transfer", At: time.Now().UTC(),
		Blocks: []registry.BlockView{{Serial: "BENCH-BU-BENCH3-2025-1-123456-123456", IssuanceID: 3, Start: 123456, End: 123456, Quantity: 1, AccountID: 9, State: ledger.Held}}}
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			writeJSON(httptest.NewRecorder(), 201, &res)
		}
	})
	b.Run("append", func(b *testing.B) {
		for b.Loop() {
			writeResult(httptest.NewRecorder(), 201, &res)
		}
	})
}
