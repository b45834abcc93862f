package crashtest

import (
	"fmt"
	"slices"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

// place is where units are in the model: an account, a state and, for
// reserved units, the reservation.
type place struct {
	account int64
	state   ledger.State
	pending int64
}

// span is a serial range of one issuance.
type span struct{ iss, start, end int64 }

func (s span) String() string { return fmt.Sprintf("issuance %d [%d, %d]", s.iss, s.start, s.end) }

// units is one registry's units by place, each place's spans sorted and
// merged. It starts from the blocks read once after the seed and then
// changes only by the test's own bookkeeping.
type units map[place][]span

func (u units) clone() units {
	out := make(units, len(u))
	for p, ss := range u {
		out[p] = slices.Clone(ss)
	}
	return out
}

// add puts s at p.
func (u units) add(p place, s span) {
	ss := append(u[p], s)
	slices.SortFunc(ss, func(a, b span) int {
		if a.iss != b.iss {
			return int(a.iss - b.iss)
		}
		return int(a.start - b.start)
	})
	merged := ss[:0]
	for _, x := range ss {
		if n := len(merged); n > 0 && merged[n-1].iss == x.iss && merged[n-1].end+1 == x.start {
			merged[n-1].end = x.end
			continue
		}
		merged = append(merged, x)
	}
	u[p] = merged
}

// remove takes s away from p; it fails, changing nothing, when p does not
// hold every unit of s.
func (u units) remove(p place, s span) error {
	ss := u[p]
	for i, x := range ss {
		if x.iss != s.iss || s.start < x.start || s.end > x.end {
			continue
		}
		var repl []span
		if x.start < s.start {
			repl = append(repl, span{x.iss, x.start, s.start - 1})
		}
		if s.end < x.end {
			repl = append(repl, span{x.iss, s.end + 1, x.end})
		}
		u[p] = slices.Concat(ss[:i:i], repl, ss[i+1:])
		if len(u[p]) == 0 {
			delete(u, p)
		}
		return nil
	}
	return fmt.Errorf("%s is not all at account %d (%s, pending %d)", s, p.account, p.state, p.pending)
}

// move takes s from one place to another, or fails changing nothing.
func (u units) move(from, to place, s span) error {
	if err := u.remove(from, s); err != nil {
		return err
	}
	u.add(to, s)
	return nil
}

// quantity is the number of units at places matching keep.
func (u units) quantity(keep func(place) bool) int64 {
	var q int64
	for p, ss := range u {
		if !keep(p) {
			continue
		}
		for _, s := range ss {
			q += s.end - s.start + 1
		}
	}
	return q
}

// equal reports whether two models hold the same units in the same places.
func (u units) equal(v units) bool {
	if len(u) != len(v) {
		return false
	}
	for p, ss := range u {
		if !slices.Equal(ss, v[p]) {
			return false
		}
	}
	return true
}
