package client

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

var resultSeeds = []string{
	"{\n  \"seq\": 12,\n  \"kind\": \"transfer\",\n  \"at\": \"2026-12-01T20:45:13.123456789Z\",\n  \"quantity\": 1,\n  \"blocks\": [\n    {\n      \"serial\": \"BENCH-BU-1-2025-1-5-5\",\n      \"issuance_id\": 3,\n      \"start\": 5,\n      \"end\": 5,\n      \"quantity\": 1,\n      \"account_id\": 9,\n      \"state\": \"held\"\n    }\n  ]\n}\n",
	`{"seq":1,"kind":"transfer","at":"2026-01-02T03:04:05+08:00","blocks":[],"replayed":true,"token":"cft_x","id":7,"pending":-3}`,
	`{"seq":1,"SEQ":2}`,
	`{"seq":1,"seq":2}`,
	`{"seq":01}`,
	`{"seq":1.0}`,
	`{"seq":99999999999999999999}`,
	`{"kind":"a\u0041"}`,
	`{"kind":null}`,
	`{"at":"not a time"}`,
	`{"authority":{"role":"hub","organisation_id":4}}`,
	`{"expires_at":"2026-01-02T03:04:05Z"}`,
	`{"blocks":[{"serial":"s","serial":"t"}]}`,
	`{"blocks":[{"pending":5}],"x":1}`,
	`{} `,
	`{}x`,
	`[]`,
	`{"replayed":false}`,
}

// TestDecodeResult: the answers the server writes take the fast path and
// read as encoding/json reads them.
func TestDecodeResult(t *testing.T) {
	for _, in := range resultSeeds[:2] {
		var fast, slow registry.Result
		if !decodeResult([]byte(in), &fast) {
			t.Fatalf("%s: not decoded by hand", in)
		}
		if err := json.Unmarshal([]byte(in), &slow); err != nil || !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%s:\nfast %+v\njson %+v (%v)", in, fast, slow, err)
		}
	}
	want := registry.Result{Seq: 12, Kind: "transfer", At: time.Date(2026, 12, 1, 20, 45, 13, 123456789, time.UTC), Quantity: 1,
		Blocks: []registry.BlockView{{Serial: "BENCH-BU-1-2025-1-5-5", IssuanceID: 3, Start: 5, End: 5, Quantity: 1, AccountID: 9, State: ledger.Held}}}
	var got registry.Result
	if !decodeResult([]byte(resultSeeds[0]), &got) || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
}

// FuzzDecodeResultAgrees: whatever the hand decoder accepts, encoding/json
// accepts too and reads to the same Result.
func FuzzDecodeResultAgrees(f *testing.F) {
	for _, s := range resultSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var fast registry.Result
		if !decodeResult(in, &fast) {
			return
		}
		var slow registry.Result
		if err := json.Unmarshal(in, &slow); err != nil {
			t.Fatalf("%q: decoded by hand, refused by encoding/json: %v", in, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q:\nfast %+v\njson %+v", in, fast, slow)
		}
	})
}

// TestDecodeResultAllocations: reading a transfer's answer allocates only
// what the Result keeps (the blocks and each block's serial), not its
// member names, kinds, states or numbers: the decoder is on every write.
func TestDecodeResultAllocations(t *testing.T) {
	raw := []byte(resultSeeds[0])
	allocs := testing.AllocsPerRun(100, func() {
		var res registry.Result
		if !decodeResult(raw, &res) {
			t.Fatal("not decoded by hand")
		}
	})
	if allocs > 2 {
		t.Errorf("decoding a transfer's answer makes %.0f allocations, want at most 2 (blocks, serial)", allocs)
	}
}
