package web

import (
	"math"
	"strconv"
	"testing"

	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
)

// TestCorridorMapLayout: every registry of the agreements' list and the
// hub get a place inside the map, no two circles touch, the places keep
// the geography (China north of Singapore, Japan east of Thailand, the
// hub between China and Indonesia), and the flows a → b and b → a are
// two different arrows.
func TestCorridorMapLayout(t *testing.T) {
	set, err := agreements.Default()
	if err != nil {
		t.Fatal(err)
	}
	parts := []hub.Participant{{Code: hub.HubCode, Role: envelope.RoleHub}}
	for _, r := range set.Registries {
		parts = append(parts, hub.Participant{Code: r.Code, Role: envelope.RoleNode, Party: r.Party, Name: r.Name})
	}
	// A second registry of a party, placed only by its party, goes beside
	// the first without touching any.
	parts = append(parts, hub.Participant{Code: "THX", Role: envelope.RoleNode, Party: "TH"}, hub.Participant{Code: "CNX", Role: envelope.RoleNode, Party: "CN"})
	flows := []flowRow{{From: "CN", To: "TH", UnitType: "CCER", Volume: 300, Count: 1}, {From: "TH", To: "CN", UnitType: "CCER", Volume: 30, Count: 1},
		{From: "CN", To: "XX", UnitType: "CCER", Volume: 1, Count: 1}}
	m := layoutCorridor(parts, flows, nil)
	if len(m.Nodes) != len(parts) {
		t.Fatalf("%d nodes for %d participants", len(m.Nodes), len(parts))
	}
	at := map[string][2]float64{}
	for _, n := range m.Nodes {
		x, _ := strconv.ParseFloat(n.X, 64)
		y, _ := strconv.ParseFloat(n.Y, 64)
		if x < nodeRadius || y < nodeRadius || x > float64(m.Width-nodeRadius) || y > float64(m.Height-nodeRadius) {
			t.Errorf("%s at %v,%v is outside the %dx%d map", n.Code, x, y, m.Width, m.Height)
		}
		for code, p := range at {
			if d := math.Hypot(p[0]-x, p[1]-y); d < 2*nodeRadius+2 {
				t.Errorf("%s and %s are %.1f apart: their circles touch", n.Code, code, d)
			}
		}
		at[n.Code] = [2]float64{x, y}
	}
	if !(at["CN"][1] < at["SG"][1] && at["JP"][0] > at["TH"][0] && at["CN"][1] < at[hub.HubCode][1] && at[hub.HubCode][1] < at["ID"][1]) {
		t.Errorf("the layout lost the geography: %v", at)
	}
	if len(m.Spokes) != len(parts)-1 {
		t.Errorf("%d spokes, want one per registry (%d)", len(m.Spokes), len(parts)-1)
	}
	// The flow to a registry not on the map is left out, not drawn to 0,0.
	if len(m.Edges) != 2 || m.Edges[0].Path == m.Edges[1].Path || m.Edges[0].Width == m.Edges[1].Width {
		t.Errorf("edges %+v: want CN → TH and TH → CN apart, the larger wider", m.Edges)
	}
}
