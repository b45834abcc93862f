package protocol

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub/envelope"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func key(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte(name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// samples has one filled value per table row; TestSamplesCoverTable
// keeps it complete.
var samples = map[string]any{
	"proposal": Proposal{FromRegistry: "CN", FromAccount: "CN-100-1", ToRegistry: "TH", ToAccount: "TH-100-3", UnitType: "CCER", Purpose: "voluntary", Quantity: 500,
		Blocks:   []Block{{OriginRegistry: "CN", IssuanceID: "CN-ISS-1", UnitType: "CCER", Project: "CCER-DEMO-0001", Vintage: 2024, Start: 1001, End: 1500}},
		EscrowID: "CN-ESC-7", EscrowExpiry: t0.Add(24 * time.Hour)},
	"check_result":   CheckResult{Status: StatusCheckedDiscrepancy, Findings: []Finding{{Code: "no_agreement", Detail: "no agreement lets units move from CN to VN"}}},
	"acceptance":     Acceptance{ToAccount: "TH-100-3"},
	"rejection":      Rejection{Findings: []Finding{{Code: "account_closed", Detail: "acquiring account TH-100-3 is closed"}}},
	"completion":     Completion{Blocks: []Block{{OriginRegistry: "CN", IssuanceID: "CN-ISS-1", UnitType: "CCER", Project: "CCER-DEMO-0001", Vintage: 2024, Start: 1001, End: 1500}}},
	"termination":    Termination{EscrowID: "CN-ESC-7"},
	"cancellation":   Cancellation{Reason: "no answer from the acquiring registry within 24h"},
	"notice":         Notice{Status: StatusCompleted, Blocks: []Block{{OriginRegistry: "CN", IssuanceID: "CN-ISS-1", UnitType: "CCER", Project: "CCER-DEMO-0001", Vintage: 2024, Start: 1001, End: 1500}}},
	"status_request": StatusRequest{},
	"status_report":  StatusReport{Status: StatusAccepted},
	"import_ack":     ImportAck{ToAccount: "7"},
	"head_seen":      HeadSeen{Reconciliation: "REC-3", Head: Head{Registry: "CN", Seq: 42, Hash: "9f2c", At: t0, KID: "cn-key-1", Signature: "c2ln"}},
	"head_kept":      HeadKept{Reconciliation: "REC-3", Seq: 42},
	"freeze": Freeze{Reconciliation: "REC-3", Code: "reconcile_missing", Reason: "hub reconciliation REC-3 found the registry's blocks differ from the hub's records",
		Blocks: []FreezeRange{{OriginRegistry: "CN", IssuanceID: "1", Start: 101, End: 110}}},
}

func TestSamplesCoverTable(t *testing.T) {
	for _, s := range Types {
		v, ok := samples[s.Type]
		if !ok || reflect.TypeOf(v) != s.Payload {
			t.Errorf("no sample of %s", s.Type)
		}
	}
	if len(samples) != len(Types) {
		t.Errorf("%d samples for %d types", len(samples), len(Types))
	}
}

// TestWireGolden pins the JSON of every payload: a diff here is a
// protocol change and needs a new Version, not just -update.
func TestWireGolden(t *testing.T) {
	var buf bytes.Buffer
	for _, s := range Types {
		raw, err := json.MarshalIndent(samples[s.Type], "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		buf.WriteString("# " + s.Type + "\n")
		buf.Write(raw)
		buf.WriteString("\n")
	}
	path := filepath.Join("testdata", "wire_v1.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("wire format of version %d changed; diff %s against the output:\n%s", Version, path, buf.Bytes())
	}
}

func trust() envelope.TrustList {
	k := func(kid string) envelope.Key {
		return envelope.Key{KID: kid, Public: key(kid).Public().(ed25519.PublicKey), From: t0.Add(-time.Hour), Until: t0.Add(time.Hour)}
	}
	return envelope.TrustList{Version: 1, IssuedAt: t0, Issuer: "HUB", Entries: []envelope.Entry{
		{Code: "HUB", Role: envelope.RoleHub, Endpoint: "https://hub.example/", Keys: []envelope.Key{k("hub-1")}},
		{Code: "CN", Role: envelope.RoleNode, Party: "CN", Endpoint: "https://cn.example/", Keys: []envelope.Key{k("cn-1")}},
	}}
}

func TestSealOpen(t *testing.T) {
	list := trust()
	verifier := func(self string) (envelope.Verifier, *envelope.MemoryInbox) {
		inbox := envelope.NewMemoryInbox()
		return envelope.Verifier{Trust: func() envelope.TrustList { return list }, Self: self, Now: func() time.Time { return t0 },
			MaxSkew: time.Minute, Versions: []int{Version}, Replay: inbox, Sequence: inbox}, inbox
	}
	v, inbox := verifier("HUB")
	atCN, inboxCN := verifier("CN")
	cn := envelope.Signer{Code: "CN", KID: "cn-1", Key: key("cn-1")}
	hub := envelope.Signer{Code: "HUB", KID: "hub-1", Key: key("hub-1")}
	seq, hubSeq := uint64(0), uint64(0)
	for i, s := range Types {
		// Hub-only types go from the hub to CN, the others from CN to the hub.
		signer, to, recv, box, n := cn, "HUB", v, inbox, &seq
		if !slices.Contains(s.Senders, RoleTransferring) && !slices.Contains(s.Senders, RoleAcquiring) {
			signer, to, recv, box, n = hub, "CN", atCN, inboxCN, &hubSeq
		}
		h := envelope.Header{ID: signer.Code + ":1:" + s.Type, From: signer.Code, To: to, SentAt: t0, TransactionID: "CN-1"}
		if s.Sequenced {
			*n++
			h.Sequence = *n
		}
		c, err := Seal(signer, h, samples[s.Type])
		if err != nil {
			t.Fatalf("%s: %v", s.Type, err)
		}
		m, payload, d, err := Open(context.Background(), recv, c)
		if err != nil || d != envelope.Act {
			t.Fatalf("%d %s: %v %v", i, s.Type, d, err)
		}
		if m.Type != s.Type || !reflect.DeepEqual(payload, samples[s.Type]) {
			t.Fatalf("%s: got %s %#v", s.Type, m.Type, payload)
		}
		box.Record(m)
	}
	if _, err := Seal(cn, envelope.Header{ID: "x", From: "CN", To: "HUB", SentAt: t0, TransactionID: "CN-1"}, Proposal{}); err == nil {
		t.Fatal("sealed a sequenced type without sequence")
	}
	if _, err := Seal(cn, envelope.Header{ID: "x", From: "CN", To: "HUB", SentAt: t0, Sequence: 3}, StatusRequest{}); err == nil {
		t.Fatal("sealed an unsequenced type with a sequence")
	}
	// A validly signed message whose body is not its type, and one whose
	// type is unknown, are refused with their codes.
	for _, tc := range []struct {
		typ, body string
		want      envelope.Code
	}{
		{"acceptance", `{"to_account":7}`, envelope.CodeMalformed},
		{"acceptance", `{"surprise":true}`, envelope.CodeMalformed},
		{"gossip", `{}`, CodeUnknownType},
		{"check_result", `{"status":2}`, CodeWrongSender},
		{"notice", `{"status":4}`, CodeWrongSender},
	} {
		seq++
		c, err := cn.Seal(envelope.Header{ID: "CN:bad:" + tc.body, From: "CN", To: "HUB", Version: Version, SentAt: t0, TransactionID: "CN-1", Type: tc.typ, Sequence: seq}, json.RawMessage(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := Open(context.Background(), v, c); envelope.RefusalCode(err) != tc.want {
			t.Fatalf("%s %s: %v, want %s", tc.typ, tc.body, err, tc.want)
		}
		seq--
	}
}

// TestArticle6StatementOptional: the Article 6 statement is an optional
// field of version 1. A v1 proposal without it decodes to no statement
// and encodes back to the same bytes (so the golden file above is
// unchanged); one with it round-trips, and two decodings of the same
// blocks compare equal (the hub matches a completion's blocks to the
// proposal's with ==).
func TestArticle6StatementOptional(t *testing.T) {
	old, err := json.Marshal(samples["proposal"])
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(old, []byte("article6")) {
		t.Fatalf("a block without a statement carries the field: %s", old)
	}
	v, err := Decode("proposal", old)
	if err != nil {
		t.Fatal(err)
	}
	if p := v.(Proposal); p.Blocks[0].Article6.Stated() {
		t.Fatalf("a v1 block decodes with a statement: %+v", p.Blocks[0].Article6)
	}
	p := samples["proposal"].(Proposal)
	p.Blocks = slices.Clone(p.Blocks)
	p.Blocks[0].Article6 = Article6Units{Authorisation: "CN-A6-1", Version: 2, FirstTransfer: true,
		FirstITMO: "CN-TH-PILOT.CN.CN.2024.1.1001", LastITMO: "CN-TH-PILOT.CN.CN.2024.1.1500", Purposes: "NDC,OIMP"}
	body, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Decode("proposal", body)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Decode("proposal", body)
	if !reflect.DeepEqual(a, p) || !slices.Equal(a.(Proposal).Blocks, b.(Proposal).Blocks) {
		t.Fatalf("round trip\n got %+v\nwant %+v", a, p)
	}
}
