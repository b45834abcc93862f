package ledger

import "fmt"

// State is where a unit stands. Every unit of an issuance is in exactly one
// state at every commit; conservation is Σ over states = issued.
type State string

const (
	Held      State = "held"      // in an account, free to move
	Reserved  State = "reserved"  // locked for a pending two-phase transaction
	Retired   State = "retired"   // used for an offsetting claim or compliance; final
	Cancelled State = "cancelled" // removed without a claim; final
	Exported  State = "exported"  // moved to another registry; final here
)

// States lists every state, in reporting order.
var States = []State{Held, Reserved, Retired, Cancelled, Exported}

// Final reports whether units in s can never move again.
func (s State) Final() bool { return s == Retired || s == Cancelled || s == Exported }

// AccountType is what an account is for.
type AccountType string

const (
	Holding         AccountType = "holding"
	Retirement      AccountType = "retirement"
	Cancellation    AccountType = "cancellation"
	Buffer          AccountType = "buffer"
	NationalHolding AccountType = "national_holding"
)

// ParseAccountType validates t.
func ParseAccountType(t string) (AccountType, error) {
	switch a := AccountType(t); a {
	case Holding, Retirement, Cancellation, Buffer, NationalHolding:
		return a, nil
	}
	return "", Errorf(KindInvalid, CodeInvalid, 0, "type", "account type %q is not one of holding, retirement, cancellation, buffer, national_holding", t)
}

// AccountStatus is the life-cycle status of an account.
type AccountStatus string

const (
	Open      AccountStatus = "open"
	Suspended AccountStatus = "suspended"
	Closed    AccountStatus = "closed"
)

// ParseAccountStatus validates s.
func ParseAccountStatus(s string) (AccountStatus, error) {
	switch a := AccountStatus(s); a {
	case Open, Suspended, Closed:
		return a, nil
	}
	return "", Errorf(KindInvalid, CodeInvalid, 0, "status", "account status %q is not one of open, suspended, closed", s)
}

// Block is a run of serials [Start, End] of one issuance in one place.
type Block struct {
	Issuance int64
	Start    int64
	End      int64
	Account  int64
	State    State
	// Pending is the id of the two-phase transaction that reserved the block.
	Pending int64
}

// Count is the number of units in b.
func (b Block) Count() int64 { return b.End - b.Start + 1 }

// SplitAt cuts b before serial s (Start < s <= End): the first part keeps
// [Start, s-1], the second gets [s, End]. The cost is constant whatever the
// block's size.
func (b Block) SplitAt(s int64) (Block, Block) {
	if s <= b.Start || s > b.End {
		panic(fmt.Sprintf("ledger: split of [%d,%d] at %d", b.Start, b.End, s))
	}
	lo, hi := b, b
	lo.End = s - 1
	hi.Start = s
	return lo, hi
}

// CheckedAdd returns a+b, or false when the sum leaves [0, MaxSerial].
func CheckedAdd(a, b int64) (int64, bool) {
	s := a + b
	if a < 0 || b < 0 || s > MaxSerial || s < a {
		return 0, false
	}
	return s, true
}
