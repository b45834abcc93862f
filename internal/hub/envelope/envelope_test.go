package envelope

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// keyFor derives a test key from a name, so tests need no randomness.
func keyFor(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte(name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func pub(name string) ed25519.PublicKey { return keyFor(name).Public().(ed25519.PublicKey) }

func testTrust() TrustList {
	year := Key{From: t0.Add(-24 * time.Hour), Until: t0.Add(365 * 24 * time.Hour)}
	k := func(kid string) Key { c := year; c.KID = kid; c.Public = pub(kid); return c }
	return TrustList{
		Version: 1, IssuedAt: t0.Add(-time.Hour), Issuer: "HUB",
		Entries: []Entry{
			{Code: "HUB", Role: RoleHub, Endpoint: "https://hub.example/hub", Keys: []Key{k("hub-1")}},
			{Code: "CN", Role: RoleNode, Party: "CN", Endpoint: "https://cn.example/", Keys: []Key{k("cn-1")}},
			{Code: "TH", Role: RoleNode, Party: "TH", Endpoint: "https://th.example/", Keys: []Key{k("th-1")}},
		},
	}
}

func signer(code, kid string) Signer { return Signer{Code: code, KID: kid, Key: keyFor(kid)} }

func hdr() Header {
	return Header{ID: "CN:7:0", From: "CN", To: "HUB", Version: 1, SentAt: t0, TransactionID: "CN-7", Type: "proposal", Sequence: 1}
}

func seal(t *testing.T, s Signer, h Header, body string) string {
	t.Helper()
	c, err := s.Seal(h, json.RawMessage(body))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func verifier(list TrustList, inbox *MemoryInbox, now time.Time) Verifier {
	return Verifier{
		Trust: func() TrustList { return list }, Self: "HUB",
		Now: func() time.Time { return now }, MaxSkew: 5 * time.Minute,
		Versions: []int{1}, Replay: inbox, Sequence: inbox,
		Unsequenced: func(t string) bool { return t == "status_request" },
	}
}

func TestOpenAccepts(t *testing.T) {
	inbox := NewMemoryInbox()
	v := verifier(testTrust(), inbox, t0)
	m, d, err := v.Open(context.Background(), seal(t, signer("CN", "cn-1"), hdr(), `{"quantity":10}`))
	if err != nil || d != Act {
		t.Fatalf("Open = %v, %v; want act", d, err)
	}
	if string(m.Body) != `{"quantity":10}` || m.ID != "CN:7:0" || m.Hash != ContentHash(m.Header, m.Body) {
		t.Fatalf("message = %+v", m)
	}
}

// TestRefusals makes each refusal code happen once, each from a message
// that differs from an accepted one in the one respect named.
func TestRefusals(t *testing.T) {
	cn := signer("CN", "cn-1")
	stranger := Signer{Code: "CN", KID: "cn-1", Key: keyFor("not-cn")}
	tests := []struct {
		name  string
		prep  func(*MemoryInbox, *TrustList)
		msg   func(t *testing.T) string
		want  Code
		wantD Disposition
	}{
		{name: "garbage", msg: func(*testing.T) string { return "not.a.jws" }, want: CodeMalformed},
		{name: "no kid", msg: func(t *testing.T) string { return seal(t, Signer{Code: "CN", Key: keyFor("cn-1")}, hdr(), `{}`) }, want: CodeMalformed},
		{name: "unknown kid", msg: func(t *testing.T) string { return seal(t, signer("CN", "cn-9"), hdr(), `{}`) }, want: CodeForged},
		{name: "bad signature", msg: func(t *testing.T) string { return seal(t, stranger, hdr(), `{}`) }, want: CodeForged},
		{name: "tampered payload", msg: func(t *testing.T) string {
			c := seal(t, cn, hdr(), `{}`)
			other := seal(t, cn, func() Header { h := hdr(); h.To = "TH"; return h }(), `{}`)
			p := strings.Split(c, ".")
			q := strings.Split(other, ".")
			return p[0] + "." + q[1] + "." + p[2]
		}, want: CodeForged},
		{name: "kid of another node", msg: func(t *testing.T) string {
			h := hdr()
			h.From = "TH"
			return seal(t, Signer{Code: "TH", KID: "cn-1", Key: keyFor("cn-1")}, h, `{}`)
		}, want: CodeForged},
		{name: "key expired at sent_at", prep: func(_ *MemoryInbox, l *TrustList) {
			l.Entries[1].Keys[0].Until = t0.Add(-time.Minute)
		}, msg: func(t *testing.T) string { return seal(t, cn, hdr(), `{}`) }, want: CodeForged},
		{name: "key not yet valid", prep: func(_ *MemoryInbox, l *TrustList) {
			l.Entries[1].Keys[0].From = t0.Add(time.Minute)
		}, msg: func(t *testing.T) string { return seal(t, cn, hdr(), `{}`) }, want: CodeForged},
		{name: "version 2", msg: func(t *testing.T) string { h := hdr(); h.Version = 2; return seal(t, cn, h, `{}`) }, want: CodeUnsupportedVersion},
		{name: "for TH", msg: func(t *testing.T) string { h := hdr(); h.To = "TH"; return seal(t, cn, h, `{}`) }, want: CodeMisaddressed},
		{name: "same id other content", prep: func(b *MemoryInbox, _ *TrustList) {
			b.Record(Message{Header: hdr(), Hash: ContentHash(hdr(), []byte(`{"quantity":1}`))})
		}, msg: func(t *testing.T) string { return seal(t, cn, hdr(), `{"quantity":2}`) }, want: CodeReplayConflict},
		{name: "duplicate re-sealed later", prep: func(b *MemoryInbox, _ *TrustList) {
			b.Record(Message{Header: hdr(), Hash: ContentHash(hdr(), []byte(`{"quantity":1}`))})
		}, msg: func(t *testing.T) string {
			h := hdr()
			h.SentAt = t0.Add(2 * time.Minute)
			return seal(t, cn, h, `{"quantity":1}`)
		}, wantD: Duplicate},
		{name: "stale", msg: func(t *testing.T) string {
			h := hdr()
			h.SentAt = t0.Add(-6 * time.Minute)
			return seal(t, cn, h, `{}`)
		}, want: CodeStale},
		{name: "future", msg: func(t *testing.T) string { h := hdr(); h.SentAt = t0.Add(6 * time.Minute); return seal(t, cn, h, `{}`) }, want: CodeFuture},
		{name: "gap", msg: func(t *testing.T) string { h := hdr(); h.Sequence = 2; return seal(t, cn, h, `{}`) }, want: CodeOutOfSequence},
		{name: "behind", prep: func(b *MemoryInbox, _ *TrustList) {
			h := hdr()
			h.ID, h.Sequence = "CN:8:0", 2
			b.Record(Message{Header: h})
		}, msg: func(t *testing.T) string { h := hdr(); h.ID = "CN:9:0"; h.Sequence = 2; return seal(t, cn, h, `{}`) }, want: CodeOutOfSequence},
		{name: "sequence zero on a sequenced type", msg: func(t *testing.T) string { h := hdr(); h.Sequence = 0; return seal(t, cn, h, `{}`) }, want: CodeOutOfSequence},
		{name: "sequence on an unsequenced type", msg: func(t *testing.T) string {
			h := hdr()
			h.Type = "status_request"
			return seal(t, cn, h, `{}`)
		}, want: CodeOutOfSequence},
		{name: "no transaction id", msg: func(t *testing.T) string { h := hdr(); h.TransactionID = ""; return seal(t, cn, h, `{}`) }, want: CodeMalformed},
		{name: "finished transaction", prep: func(b *MemoryInbox, _ *TrustList) { b.Finish("CN-7") },
			msg: func(t *testing.T) string { h := hdr(); h.Sequence = 9; return seal(t, cn, h, `{}`) }, wantD: Finished},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inbox := NewMemoryInbox()
			list := testTrust()
			if tc.prep != nil {
				tc.prep(inbox, &list)
			}
			_, d, err := verifier(list, inbox, t0).Open(context.Background(), tc.msg(t))
			if got := RefusalCode(err); got != tc.want {
				t.Fatalf("refusal = %q (%v), want %q", got, err, tc.want)
			}
			if tc.want == "" && d != tc.wantD {
				t.Fatalf("disposition = %v, want %v", d, tc.wantD)
			}
		})
	}
}

// TestSequenceInOrder: the same messages refused out of order are taken
// once re-delivered in order, as an outbox relaying in journal order does.
func TestSequenceInOrder(t *testing.T) {
	inbox := NewMemoryInbox()
	v := verifier(testTrust(), inbox, t0)
	cn := signer("CN", "cn-1")
	msgs := make([]string, 3)
	for i := range msgs {
		h := hdr()
		h.ID = "CN:" + string(rune('a'+i))
		h.Sequence = uint64(i + 1)
		msgs[i] = seal(t, cn, h, `{}`)
	}
	if _, _, err := v.Open(context.Background(), msgs[1]); RefusalCode(err) != CodeOutOfSequence {
		t.Fatalf("second before first: %v", err)
	}
	for i, c := range msgs {
		m, d, err := v.Open(context.Background(), c)
		if err != nil || d != Act {
			t.Fatalf("message %d: %v %v", i, d, err)
		}
		inbox.Record(m)
	}
	if _, d, err := v.Open(context.Background(), msgs[0]); err != nil || d != Duplicate {
		t.Fatalf("re-delivery of the first: %v %v", d, err)
	}
}

// TestKeyRotation: two keys of one node overlap; messages signed by
// either verify during the overlap, only the new one after the old key's
// end, only the old one before the new key's start.
func TestKeyRotation(t *testing.T) {
	list := testTrust()
	old := &list.Entries[1].Keys[0]
	old.From, old.Until = t0.Add(-48*time.Hour), t0.Add(time.Hour)
	list.Entries[1].Keys = append(list.Entries[1].Keys, Key{KID: "cn-2", Public: pub("cn-2"), From: t0.Add(-time.Hour), Until: t0.Add(48 * time.Hour)})
	if err := list.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at     time.Time
		kid    string
		forged bool
	}{
		{t0.Add(-2 * time.Hour), "cn-1", false},
		{t0.Add(-2 * time.Hour), "cn-2", true},
		{t0, "cn-1", false},
		{t0, "cn-2", false},
		{t0.Add(2 * time.Hour), "cn-1", true},
		{t0.Add(2 * time.Hour), "cn-2", false},
	} {
		h := hdr()
		h.SentAt = tc.at
		_, _, err := verifier(list, NewMemoryInbox(), tc.at).Open(context.Background(), seal(t, signer("CN", tc.kid), h, `{}`))
		if got := RefusalCode(err) == CodeForged; got != tc.forged {
			t.Errorf("%s at %s: err %v, want forged=%v", tc.kid, tc.at.Format(time.Kitchen), err, tc.forged)
		}
	}
}

func TestTrustListRoundTrip(t *testing.T) {
	hub := signer("HUB", "hub-1")
	anchors := []Key{testTrust().Entries[0].Keys[0]}
	compact, err := SignTrustList(testTrust(), hub)
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenTrustList(compact, anchors, 0)
	if err != nil || got.Version != 1 || len(got.Entries) != 3 {
		t.Fatalf("OpenTrustList = %+v, %v", got, err)
	}
	if _, err := OpenTrustList(compact, anchors, 1); err == nil {
		t.Fatal("accepted a list not newer than the one held")
	}
	if _, err := OpenTrustList(compact, []Key{testTrust().Entries[1].Keys[0]}, 0); err == nil {
		t.Fatal("accepted a list signed by a kid that is not an anchor")
	}
	expired := anchors[0]
	expired.Until = testTrust().IssuedAt
	if _, err := OpenTrustList(compact, []Key{expired}, 0); err == nil {
		t.Fatal("accepted a list issued after its signing key expired")
	}
	forged := Signer{Code: "HUB", KID: "hub-1", Key: keyFor("mallory")}
	bad, err := SignTrustList(testTrust(), forged)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenTrustList(bad, anchors, 0); err == nil {
		t.Fatal("accepted a list with a bad signature")
	}
}

func TestTrustListValidate(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(*TrustList)
	}{
		{"version 0", func(l *TrustList) { l.Version = 0 }},
		{"duplicate code", func(l *TrustList) { l.Entries[2].Code = "CN" }},
		{"duplicate kid", func(l *TrustList) { l.Entries[2].Keys[0].KID = "cn-1" }},
		{"party not ISO", func(l *TrustList) { l.Entries[1].Party = "China" }},
		{"lower-case code", func(l *TrustList) { l.Entries[1].Code = "cn" }},
		{"relative endpoint", func(l *TrustList) { l.Entries[1].Endpoint = "/cn" }},
		{"no keys", func(l *TrustList) { l.Entries[1].Keys = nil }},
		{"empty validity", func(l *TrustList) { l.Entries[1].Keys[0].Until = l.Entries[1].Keys[0].From }},
		{"short key", func(l *TrustList) { l.Entries[1].Keys[0].Public = l.Entries[1].Keys[0].Public[:8] }},
		{"two hubs", func(l *TrustList) { l.Entries[2].Role = RoleHub }},
		{"hub not issuer", func(l *TrustList) { l.Issuer = "CN" }},
		{"unknown role", func(l *TrustList) { l.Entries[2].Role = "bank" }},
	}
	if err := testTrust().Validate(); err != nil {
		t.Fatalf("valid list refused: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := testTrust()
			tc.break_(&l)
			if err := l.Validate(); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// FuzzOpen: no input makes the parser or verifier panic, and whatever is
// accepted really was signed by a trusted key for this receiver.
func FuzzOpen(f *testing.F) {
	cn := Signer{Code: "CN", KID: "cn-1", Key: keyFor("cn-1")}
	good, err := cn.Seal(hdr(), json.RawMessage(`{"quantity":10}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("")
	f.Add("a.b.c")
	f.Add(good[:len(good)-3])
	f.Add(strings.Replace(good, ".", "..", 1))
	list := testTrust()
	f.Fuzz(func(t *testing.T, in string) {
		m, d, err := verifier(list, NewMemoryInbox(), t0).Open(context.Background(), in)
		if err != nil {
			if RefusalCode(err) == "" {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if d != Act || m.To != "HUB" || m.From != "CN" {
			t.Fatalf("accepted %+v as %v", m.Header, d)
		}
	})
}

// FuzzOpenTrustList: no input makes the trust-list reader panic, and an
// accepted list is valid and signed by the anchor.
func FuzzOpenTrustList(f *testing.F) {
	good, err := SignTrustList(testTrust(), signer("HUB", "hub-1"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("")
	f.Add(good[:len(good)/2])
	anchors := []Key{testTrust().Entries[0].Keys[0]}
	f.Fuzz(func(t *testing.T, in string) {
		l, err := OpenTrustList(in, anchors, 0)
		if err != nil {
			return
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("accepted an invalid list: %v", err)
		}
	})
}

// TestTrustUpdate: the hub rotates its own key through a list signed by
// the old one, a rolled-back or unanchored list is refused, and a node
// key dropped from the list stops verifying.
func TestTrustUpdate(t *testing.T) {
	v1 := testTrust()
	trust, err := NewTrust(v1)
	if err != nil {
		t.Fatal(err)
	}
	v2 := testTrust()
	v2.Version, v2.IssuedAt = 2, t0
	hub2 := Key{KID: "hub-2", Public: pub("hub-2"), From: t0.Add(-time.Hour), Until: t0.Add(365 * 24 * time.Hour)}
	v2.Entries[0].Keys = append(v2.Entries[0].Keys, hub2)
	v2.Entries[1].Keys = []Key{{KID: "cn-2", Public: pub("cn-2"), From: t0.Add(-time.Hour), Until: t0.Add(24 * time.Hour)}}
	v3 := v2
	v3.Version = 3
	v3.Entries = slices.Clone(v2.Entries)
	v3.Entries[0].Keys = []Key{hub2}

	signed := func(l TrustList, s Signer) string {
		c, err := SignTrustList(l, s)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if err := trust.Update(signed(v3, signer("HUB", "hub-2"))); err == nil {
		t.Fatal("accepted a list signed by a key the held list does not name")
	}
	old := signed(v1, signer("HUB", "hub-1"))
	if err := trust.Update(signed(v2, signer("HUB", "hub-1"))); err != nil {
		t.Fatal(err)
	}
	if err := trust.Update(old); err == nil {
		t.Fatal("accepted a rollback to version 1")
	}
	if err := trust.Update(signed(v3, signer("HUB", "hub-2"))); err != nil {
		t.Fatalf("rotated hub key refused: %v", err)
	}
	if got := trust.Current().Version; got != 3 {
		t.Fatalf("version %d", got)
	}
	v := verifier(v1, NewMemoryInbox(), t0)
	v.Trust = trust.Current
	if _, _, err := v.Open(context.Background(), seal(t, signer("CN", "cn-1"), hdr(), `{}`)); RefusalCode(err) != CodeForged {
		t.Fatalf("revoked cn-1 still verifies: %v", err)
	}
	if _, _, err := v.Open(context.Background(), seal(t, signer("CN", "cn-2"), hdr(), `{}`)); err != nil {
		t.Fatalf("new cn-2: %v", err)
	}
}

// BenchmarkSealOpen measures one message signed and verified, the
// per-hop cost the hub pays on every protocol message.
func BenchmarkSealOpen(b *testing.B) {
	cn := signer("CN", "cn-1")
	v := verifier(testTrust(), NewMemoryInbox(), t0)
	body := json.RawMessage(`{"from_registry":"CN","to_registry":"TH","quantity":500,"blocks":[{"origin_registry":"CN","start":1001,"end":1500}]}`)
	h := hdr()
	for i := 0; b.Loop(); i++ {
		h.ID = "CN:" + string(rune('a'+i%26))
		c, err := cn.Seal(h, body)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := v.Open(context.Background(), c); err != nil {
			b.Fatal(err)
		}
	}
}
