package web

import (
	"fmt"
	"math"
	"sort"

	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
)

// The corridor drawn as a network in inline SVG, laid out on the server:
// each registry at roughly its administrator's seat on an equirectangular
// projection of East and South-East Asia, the hub in the South China Sea
// between them, a spoke from each registry to the hub (every message goes
// through it), and one arrow per pair of registries with completed
// transfers, its width growing with the volume moved.

// lonLat places the corridor's registries (longitude, latitude in degrees,
// rounded; the capital or registry seat, nudged where two would overlap).
var lonLat = map[string][2]float64{
	hub.HubCode: {113, 12},
	"CN":        {116.4, 39.9}, // Beijing
	"CN-ETS":    {114.3, 30.6}, // Wuhan (the national ETS registry)
	"CNETS":     {114.3, 30.6}, // the same, as the demo's node code
	"JP":        {139.7, 35.7},
	"VN":        {105.8, 21.0},
	"LA":        {102.6, 18.0},
	"MM":        {96.1, 19.7},
	"TH":        {100.5, 13.75},
	"KH":        {104.9, 11.55},
	"PH":        {121.0, 14.6},
	"MY":        {100.6, 4.8},
	"SG":        {103.8, 1.35},
	"ID":        {106.8, -6.2},
	"PG":        {145.5, -7.5},
}

const (
	mapWidth   = 660
	mapHeight  = 640
	nodeRadius = 14
	hubRadius  = 18
)

// project maps a longitude and latitude to the map's coordinates.
func project(ll [2]float64) (float64, float64) {
	return 20 + (ll[0]-92)*11, 20 + (44-ll[1])*11
}

// mapNode is one participant on the map.
type mapNode struct {
	Code, Name string
	Hub        bool
	X, Y, R    string
	// LabelX, LabelY place the code beside the circle.
	LabelX, LabelY string
	x, y           float64
}

// mapEdge is the completed flow from one registry to another.
type mapEdge struct {
	From, To string
	Volume   int64
	Count    int
	Path     string
	Width    string
	// InFlight: an arrow for transfers not yet final (no completed volume).
	InFlight bool
}

type corridorMap struct {
	Width, Height int
	Nodes         []mapNode
	Spokes        []mapEdge
	Edges         []mapEdge
	InFlight      []mapEdge
}

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }

// layoutCorridor places the participants and draws the flows. A registry
// not in lonLat goes to a row along the bottom of the map.
func layoutCorridor(parts []hub.Participant, flows []flowRow, inFlight []transferRow) corridorMap {
	m := corridorMap{Width: mapWidth, Height: mapHeight}
	pos := map[string]int{}
	spare := 0
	for _, p := range parts {
		n := mapNode{Code: p.Code, Name: p.Name, Hub: p.Role == envelope.RoleHub}
		ll, ok := lonLat[p.Code]
		if !ok {
			ll, ok = lonLat[p.Party] // another registry of a placed party
		}
		if ok {
			x, y := project(ll)
			n.x, n.y = free(m.Nodes, x, y)
		} else {
			n.x, n.y = float64(mapWidth-30-spare*40), float64(mapHeight-24)
			spare++
		}
		r := float64(nodeRadius)
		if n.Hub {
			r = hubRadius
		}
		n.X, n.Y, n.R, n.LabelX, n.LabelY = f1(n.x), f1(n.y), f1(r), f1(n.x+r+3), f1(n.y+4)
		pos[p.Code] = len(m.Nodes)
		m.Nodes = append(m.Nodes, n)
	}
	hubAt, hasHub := pos[hub.HubCode]
	for _, n := range m.Nodes {
		if n.Hub || !hasHub {
			continue
		}
		h := m.Nodes[hubAt]
		m.Spokes = append(m.Spokes, mapEdge{From: n.Code, To: h.Code, Path: line(n.x, n.y, h.x, h.y)})
	}
	// One arrow per ordered pair, the unit types added up.
	type pair struct{ from, to string }
	vol := map[pair]*mapEdge{}
	var order []pair
	for _, f := range flows {
		k := pair{f.From, f.To}
		if vol[k] == nil {
			vol[k] = &mapEdge{From: f.From, To: f.To}
			order = append(order, k)
		}
		vol[k].Volume += f.Volume
		vol[k].Count += f.Count
	}
	var most int64 = 1
	for _, e := range vol {
		most = max(most, e.Volume)
	}
	sort.Slice(order, func(i, j int) bool {
		return order[i].from+" "+order[i].to < order[j].from+" "+order[j].to
	})
	for _, k := range order {
		a, okA := pos[k.from]
		b, okB := pos[k.to]
		if !okA || !okB {
			continue
		}
		e := vol[k]
		e.Path = arc(m.Nodes[a], m.Nodes[b])
		e.Width = f1(1.5 + 8*float64(e.Volume)/float64(most))
		m.Edges = append(m.Edges, *e)
	}
	seen := map[pair]bool{}
	for _, t := range inFlight {
		k := pair{t.From, t.To}
		a, okA := pos[k.from]
		b, okB := pos[k.to]
		if seen[k] || !okA || !okB {
			continue
		}
		seen[k] = true
		m.InFlight = append(m.InFlight, mapEdge{From: k.from, To: k.to, Path: arc(m.Nodes[a], m.Nodes[b]), InFlight: true, Width: "1.5"})
	}
	return m
}

// free returns the point nearest (x, y), on rings of growing radius, where
// a circle touches none of those placed.
func free(placed []mapNode, x, y float64) (float64, float64) {
	open := func(x, y float64) bool {
		if x < nodeRadius+4 || y < nodeRadius+4 || x > mapWidth-nodeRadius-4 || y > mapHeight-nodeRadius-4 {
			return false
		}
		for _, n := range placed {
			if math.Hypot(n.x-x, n.y-y) < 2*nodeRadius+6 {
				return false
			}
		}
		return true
	}
	if open(x, y) {
		return x, y
	}
	for ring := 1; ring <= 8; ring++ {
		r := float64(ring) * (2*nodeRadius + 6)
		for k := range 12 {
			a := math.Pi/4 + float64(k)*math.Pi/6 // south-east first: labels sit east
			if cx, cy := x+r*math.Cos(a), y+r*math.Sin(a); open(cx, cy) {
				return cx, cy
			}
		}
	}
	return x, y
}

func line(x1, y1, x2, y2 float64) string {
	return "M" + f1(x1) + "," + f1(y1) + " L" + f1(x2) + "," + f1(y2)
}

// arc is a curve from a to b, bowed to the right of its direction so the
// flows a→b and b→a are two arrows side by side, trimmed to the circles.
func arc(a, b mapNode) string {
	dx, dy := b.x-a.x, b.y-a.y
	d := math.Hypot(dx, dy)
	if d < 1 {
		return ""
	}
	ux, uy := dx/d, dy/d
	bow := math.Min(40, d/5)
	cx, cy := (a.x+b.x)/2-uy*bow, (a.y+b.y)/2+ux*bow
	trim := float64(nodeRadius + 2)
	// Trim along the directions to the control point, where the curve
	// leaves and enters the circles.
	sx, sy := toward(a.x, a.y, cx, cy, trim)
	ex, ey := toward(b.x, b.y, cx, cy, trim+3)
	return "M" + f1(sx) + "," + f1(sy) + " Q" + f1(cx) + "," + f1(cy) + " " + f1(ex) + "," + f1(ey)
}

func toward(x, y, tx, ty, by float64) (float64, float64) {
	dx, dy := tx-x, ty-y
	d := math.Hypot(dx, dy)
	if d < 1 {
		return x, y
	}
	return x + dx/d*by, y + dy/d*by
}
