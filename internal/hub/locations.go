package hub

import (
	"sort"
)

// Location is one serial range of an origin issuance in the hub's copy of
// block locations, and the registry that copy places it in.
type Location struct {
	OriginRegistry string `json:"origin_registry"`
	IssuanceID     string `json:"issuance_id"`
	Start          int64  `json:"start"`
	End            int64  `json:"end"`
	// Registry is where the hub's copy places the range.
	Registry string `json:"registry"`
}

// Locations returns the hub's copy of block locations for every serial
// that a completed transfer ever moved: each such range with the registry
// the completed transfers, applied in completion order, leave it in
// (possibly its origin again, after a return). Serials no completed
// transfer touched are not listed: the hub's copy places them at their
// origin registry. Ranges are sorted by origin registry, issuance id and
// start, disjoint, and adjacent ranges in one registry are merged. The
// answer is the hub's view only (in-flight transfers have not moved
// anything); reconciliation compares it with the nodes' journals.
func (h *Hub) Locations() []Location {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.locations()
}

func (h *Hub) locations() []Location {
	type part struct {
		start, end int64
		registry   string
	}
	parts := map[originKey][]part{}
	for _, t := range h.completed() {
		for _, b := range t.Proposal.Blocks {
			k := originKey{b.OriginRegistry, b.IssuanceID}
			var next []part
			for _, s := range parts[k] {
				if b.End < s.start || b.Start > s.end {
					next = append(next, s)
					continue
				}
				if s.start < b.Start {
					next = append(next, part{s.start, b.Start - 1, s.registry})
				}
				if s.end > b.End {
					next = append(next, part{b.End + 1, s.end, s.registry})
				}
			}
			next = append(next, part{b.Start, b.End, t.Proposal.ToRegistry})
			parts[k] = next
		}
	}
	var out []Location
	for k, ps := range parts {
		sort.Slice(ps, func(i, j int) bool { return ps[i].start < ps[j].start })
		for _, p := range ps {
			if n := len(out); n > 0 {
				l := &out[n-1]
				if l.OriginRegistry == k.registry && l.IssuanceID == k.issuance && l.Registry == p.registry && l.End+1 == p.start {
					l.End = p.end
					continue
				}
			}
			out = append(out, Location{OriginRegistry: k.registry, IssuanceID: k.issuance, Start: p.start, End: p.end, Registry: p.registry})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.OriginRegistry != b.OriginRegistry {
			return a.OriginRegistry < b.OriginRegistry
		}
		if a.IssuanceID != b.IssuanceID {
			return a.IssuanceID < b.IssuanceID
		}
		return a.Start < b.Start
	})
	return out
}
