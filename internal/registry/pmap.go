package registry

import (
	"cmp"
	"iter"

	"github.com/google/btree"
)

// pmap is a map whose clone costs O(1): it is a google/btree B-tree of
// key-value pairs, and btree's Clone shares every node until one side
// writes it (copy-on-write), so a clone's writes cost O(log n) each and
// the state it was cloned from never changes. The writer clones the
// committed state for every batch; with plain maps that copy grew with
// the registry (every account, balance and escrow on every batch).
//
// A pmap is used like a map value: its methods share the tree. Values are
// copied in and out; a value that is a pointer must not be changed in
// place once the pmap has been cloned (state's own* sets track which
// pointers a state may change).
type pmap[K, V any] struct {
	t *btree.BTreeG[kv[K, V]]
}

type kv[K, V any] struct {
	k K
	v V
}

// pmapDegree is the B-tree degree: nodes of up to 63 pairs, so a lookup in
// 100,000 keys reads 3 or 4 nodes and a write copies as many.
const pmapDegree = 8

func newPmap[K cmp.Ordered, V any]() pmap[K, V] {
	return newPmapFunc[K, V](cmp.Less[K])
}

func newPmapFunc[K, V any](less func(a, b K) bool) pmap[K, V] {
	return pmap[K, V]{btree.NewG(pmapDegree, func(a, b kv[K, V]) bool { return less(a.k, b.k) })}
}

// Get returns k's value, or the zero value when k is absent.
func (m pmap[K, V]) Get(k K) V {
	p, _ := m.t.Get(kv[K, V]{k: k})
	return p.v
}

// Lookup returns k's value and whether k is present.
func (m pmap[K, V]) Lookup(k K) (V, bool) {
	p, ok := m.t.Get(kv[K, V]{k: k})
	return p.v, ok
}

func (m pmap[K, V]) Set(k K, v V) { m.t.ReplaceOrInsert(kv[K, V]{k, v}) }

func (m pmap[K, V]) Delete(k K) { m.t.Delete(kv[K, V]{k: k}) }

func (m pmap[K, V]) Len() int { return m.t.Len() }

// All yields every pair in key order.
func (m pmap[K, V]) All() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		m.t.Ascend(func(p kv[K, V]) bool { return yield(p.k, p.v) })
	}
}

// From yields the pairs whose key is k or after it, in key order.
func (m pmap[K, V]) From(k K) iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		m.t.AscendGreaterOrEqual(kv[K, V]{k: k}, func(p kv[K, V]) bool { return yield(p.k, p.v) })
	}
}

// clone returns a copy in O(1); both may then change independently.
func (m pmap[K, V]) clone() pmap[K, V] { return pmap[K, V]{m.t.Clone()} }

// Map returns a plain map of the pairs (for verify's comparisons).
func pmapToMap[K comparable, V any](m pmap[K, V]) map[K]V {
	out := make(map[K]V, m.Len())
	for k, v := range m.All() {
		out[k] = v
	}
	return out
}
