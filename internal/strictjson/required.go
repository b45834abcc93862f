package strictjson

import "sync"

// Required is what a body must hold beyond what its Go type says:
// encoding/json cannot tell a member that is missing from one that holds
// its zero value, so an API states the members it requires (its OpenAPI
// schema's required, anyOf and minItems) and DecodeRequired checks them in
// the same scan as the keys and text. A member that is null counts as
// missing, and so does an empty array among NonEmpty. The graph may be
// cyclic (a schema that refers to itself); the scan follows the body.
type Required struct {
	// Names are the members an object must hold.
	Names []string
	// AnyOf: when not empty, an object must hold every member of at least
	// one of these sets.
	AnyOf [][]string
	// NonEmpty are members that, when they are arrays, must hold at least
	// one item.
	NonEmpty []string
	// Members is what the value of a member requires, and Items what each
	// item of an array requires; nil requires nothing.
	Members map[string]*Required
	Items   *Required

	once     sync.Once
	index    map[string]int // member name -> bit, for Names, AnyOf and NonEmpty
	need     uint64         // bits of Names
	alts     []uint64       // bits of each AnyOf set
	nonEmpty uint64
	tooMany  bool // more than 64 names: the scan cannot answer
}

func (q *Required) compile() {
	q.once.Do(func() {
		q.index = map[string]int{}
		bit := func(name string) uint64 {
			i, ok := q.index[name]
			if !ok {
				i = len(q.index)
				q.index[name] = i
			}
			if i >= 64 {
				q.tooMany = true
				return 0
			}
			return 1 << i
		}
		for _, n := range q.Names {
			q.need |= bit(n)
		}
		for _, set := range q.AnyOf {
			var m uint64
			for _, n := range set {
				m |= bit(n)
			}
			q.alts = append(q.alts, m)
		}
		for _, n := range q.NonEmpty {
			q.nonEmpty |= bit(n)
		}
	})
}

// met reports whether an object whose members in q.index are have (the
// bits of those present and not absent) meets q.
func (q *Required) met(have uint64) bool {
	if q.tooMany || have&q.need != q.need {
		return false
	}
	if len(q.alts) == 0 {
		return true
	}
	for _, m := range q.alts {
		if have&m == m {
			return true
		}
	}
	return false
}

// DecodeRequired is Decode, and checks in the same scan that data holds
// what req requires (nil requires nothing). met is true when the scan saw
// every required member; false when one may be missing, or when the body
// is one the scan leaves to the slower checks (an escaped key, for one):
// the caller then names the missing member its own way. A body Decode
// refuses is refused with Decode's error, before anything is said about
// missing members.
func DecodeRequired(data []byte, dst any, req *Required) (met bool, err error) {
	return decode(data, dst, req)
}
