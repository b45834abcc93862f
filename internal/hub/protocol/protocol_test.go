package protocol

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

var allStatuses = []Status{StatusNone, StatusProposed, StatusChecked, StatusCheckedDiscrepancy,
	StatusCompleted, StatusTerminated, StatusRejected, StatusCancelled, StatusAccepted}

var allRoles = []Role{RoleHub, RoleTransferring, RoleAcquiring}

// TestStatusNumbers pins the DES numbers: they are on the wire.
func TestStatusNumbers(t *testing.T) {
	want := map[Status]int{StatusProposed: 1, StatusChecked: 2, StatusCheckedDiscrepancy: 3, StatusCompleted: 4,
		StatusTerminated: 5, StatusRejected: 6, StatusCancelled: 7, StatusAccepted: 8}
	for s, n := range want {
		if int(s) != n {
			t.Errorf("%s = %d, want %d", s, int(s), n)
		}
	}
	for _, s := range allStatuses {
		if s.Final() != (s == 4 || s == 5 || s == 7) {
			t.Errorf("%s final = %v", s, s.Final())
		}
	}
}

// TestTable: every type is unique, its payload round-trips through
// Decode, every status is reachable from none, and from every non-final
// status some final status is reachable (no transfer can get stuck).
func TestTable(t *testing.T) {
	seenType := map[string]bool{}
	seenPayload := map[reflect.Type]bool{}
	for _, s := range Types {
		if seenType[s.Type] || seenPayload[s.Payload] {
			t.Fatalf("duplicate row %q", s.Type)
		}
		seenType[s.Type], seenPayload[s.Payload] = true, true
		if len(s.Senders) == 0 {
			t.Errorf("%s: no sender", s.Type)
		}
		zero := reflect.New(s.Payload).Elem().Interface()
		name, err := TypeOf(zero)
		if err != nil || name != s.Type {
			t.Errorf("TypeOf(%T) = %q, %v", zero, name, err)
		}
		raw, _ := json.Marshal(zero)
		back, err := Decode(s.Type, raw)
		if err != nil || !reflect.DeepEqual(back, zero) {
			t.Errorf("%s: Decode(%s) = %#v, %v", s.Type, raw, back, err)
		}
		if !s.Sequenced != Unsequenced(s.Type) {
			t.Errorf("%s: Unsequenced disagrees with the table", s.Type)
		}
	}
	for _, s := range allStatuses[1:] {
		if !reachable(StatusNone, s) {
			t.Errorf("%s unreachable", s)
		}
	}
	for _, s := range allStatuses {
		if s.Final() {
			continue
		}
		if !slices.ContainsFunc([]Status{StatusCompleted, StatusTerminated, StatusCancelled}, func(f Status) bool { return reachable(s, f) }) {
			t.Errorf("no final status reachable from %s", s)
		}
	}
}

func TestTransitionRefusals(t *testing.T) {
	tests := []struct {
		cur  Status
		typ  string
		role Role
		to   Status
		want error
	}{
		{StatusNone, "proposal", RoleTransferring, StatusProposed, nil},
		{StatusNone, "gossip", RoleHub, StatusProposed, ErrUnknownType},
		{StatusNone, "proposal", RoleAcquiring, StatusProposed, ErrWrongSender},
		{StatusProposed, "check_result", RoleTransferring, StatusChecked, ErrWrongSender},
		{StatusChecked, "acceptance", RoleTransferring, StatusAccepted, ErrWrongSender},
		{StatusCompleted, "cancellation", RoleHub, StatusCancelled, ErrFinal},
		{StatusProposed, "acceptance", RoleAcquiring, StatusAccepted, ErrNotApplicable},
		{StatusProposed, "check_result", RoleHub, StatusAccepted, ErrNotApplicable},
		{StatusAccepted, "cancellation", RoleHub, StatusCancelled, ErrNotApplicable},
		{StatusChecked, "completion", RoleTransferring, StatusCompleted, ErrNotApplicable},
		{StatusAccepted, "completion", RoleTransferring, StatusCompleted, nil},
		{StatusRejected, "termination", RoleTransferring, StatusTerminated, nil},
	}
	for _, tc := range tests {
		got, err := Transition(tc.cur, tc.typ, tc.role, tc.to)
		if !errors.Is(err, tc.want) && !(err == nil && tc.want == nil) {
			t.Errorf("Transition(%s, %s, %s, %s) = %s, %v; want %v", tc.cur, tc.typ, tc.role, tc.to, got, err, tc.want)
		}
		if err != nil && got != tc.cur {
			t.Errorf("refused transition moved %s to %s", tc.cur, got)
		}
	}
}

// required lists, independently of the table, the steps the DES requires
// before each status: reaching the key means every listed status came
// before it, in this order. Terminated needs one of its predecessors.
var required = map[Status][]Status{
	StatusProposed:           {},
	StatusChecked:            {StatusProposed},
	StatusCheckedDiscrepancy: {StatusProposed},
	StatusAccepted:           {StatusProposed, StatusChecked},
	StatusRejected:           {StatusProposed, StatusChecked},
	StatusCompleted:          {StatusProposed, StatusChecked, StatusAccepted},
	StatusCancelled:          {StatusProposed},
}

func isSubsequence(sub, of []Status) bool {
	i := 0
	for _, s := range of {
		if i < len(sub) && s == sub[i] {
			i++
		}
	}
	return i == len(sub)
}

// TestTransitionProperty: whatever messages arrive, in whatever order,
// the hub's record never leaves a final status, never skips a required
// step, and every step it takes is one status forward.
func TestTransitionProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cur := StatusNone
		path := []Status{cur}
		n := rapid.IntRange(0, 60).Draw(t, "n")
		for range n {
			typ, role, to := drawMessage(t)
			next, err := Transition(cur, typ, role, to)
			if err != nil {
				if next != cur {
					t.Fatalf("refused message moved %s to %s", cur, next)
				}
				continue
			}
			if cur.Final() {
				t.Fatalf("%s left final status %s for %s", typ, cur, next)
			}
			if next == cur {
				t.Fatalf("%s looped at %s", typ, cur)
			}
			path = append(path, next)
			cur = next
		}
		for i, s := range path[1:] {
			before := path[:i+1]
			if s == StatusTerminated {
				// The sender terminates after a discrepancy or rejection,
				// or when its escrow expired: at any open status but never
				// after the transfer completed (4 is final).
				if !slices.Contains(before, StatusProposed) || slices.Contains(before, StatusCompleted) {
					t.Fatalf("terminated without a proposal or after completion: %v", path)
				}
				continue
			}
			if !isSubsequence(required[s], before) {
				t.Fatalf("%s reached without %v: %v", s, required[s], path)
			}
		}
	})
}

// TestFollowProperty: a registry's view driven by arbitrary notices only
// moves forward along the hub's graph and never leaves a final status.
func TestFollowProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		view := StatusNone
		for range rapid.IntRange(0, 20).Draw(t, "n") {
			ann := rapid.SampledFrom(allStatuses).Draw(t, "announced")
			next, err := Follow(view, ann)
			if err != nil {
				if next != view {
					t.Fatalf("refused notice moved %s to %s", view, next)
				}
				continue
			}
			if next != view && (view.Final() || !reachable(view, next)) {
				t.Fatalf("view moved %s → %s", view, next)
			}
			view = next
		}
	})
}

// drawMessage draws a message that is mostly well formed for its type
// (a sender and a target status the table allows), so that sequences
// reach deep statuses, and sometimes arbitrary.
func drawMessage(t *rapid.T) (string, Role, Status) {
	typ := rapid.SampledFrom(append(typeNames(), "bogus")).Draw(t, "type")
	s, ok := Lookup(typ)
	if !ok || rapid.IntRange(0, 4).Draw(t, "noise") == 0 {
		return typ, rapid.SampledFrom(allRoles).Draw(t, "role"), rapid.SampledFrom(allStatuses).Draw(t, "to")
	}
	to := rapid.SampledFrom(allStatuses).Draw(t, "to")
	if len(s.To) > 0 {
		to = rapid.SampledFrom(s.To).Draw(t, "to")
	}
	return typ, rapid.SampledFrom(s.Senders).Draw(t, "role"), to
}

func typeNames() []string {
	var out []string
	for _, s := range Types {
		out = append(out, s.Type)
	}
	return out
}

// FuzzDecode: no body makes Decode panic; what decodes re-encodes to JSON
// that decodes to the same value.
func FuzzDecode(f *testing.F) {
	f.Add("proposal", []byte(`{"from_registry":"CN","quantity":5,"blocks":[{"start":1,"end":5}]}`))
	f.Add("notice", []byte(`{"status":4,"blocks":[]}`))
	f.Add("check_result", []byte(`{"status":3,"findings":[{"code":"x"}]}`))
	f.Add("rejection", []byte(`{"findings":null,"extra":1}`))
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		v, err := Decode(typ, body)
		if err != nil {
			return
		}
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(typ, raw)
		if err != nil {
			t.Fatalf("re-decode of %s: %v", raw, err)
		}
		raw2, _ := json.Marshal(back)
		if string(raw) != string(raw2) {
			t.Fatalf("round trip %s != %s", raw, raw2)
		}
	})
}
