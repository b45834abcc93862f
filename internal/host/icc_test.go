package host

import (
	"slices"
	"testing"

	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// checkDemoICC checks the demo's Singapore ICC flow: one completed
// Thailand → Singapore transfer for purpose icc of demo.ICC.Send t, and
// the facility's position for the year: its taxable emissions, the 5 %
// limit, the ICCs surrendered and the headroom left.
func checkDemoICC(t *testing.T, nodes map[string]*registry.Node, ts []hub.Transfer) {
	t.Helper()
	f := demo.ICC
	i := slices.IndexFunc(ts, func(x hub.Transfer) bool { return x.Proposal.FromRegistry == "TH" && x.Proposal.ToRegistry == "SG" })
	if i < 0 || ts[i].Status != protocol.StatusCompleted || ts[i].Proposal.Purpose != registry.PurposeICC || ts[i].Proposal.Quantity != f.Send {
		t.Fatalf("no completed ICC transfer TH → SG of %d t: %+v", f.Send, ts)
	}
	v, err := nodes["SG"].Account(registry.Operator, f.Facility)
	if err != nil {
		t.Fatal(err)
	}
	limit := registry.ICCLimit(f.TaxableEmissions)
	want := []registry.CarbonTaxYear{{Year: f.Year, TaxableEmissions: f.TaxableEmissions, ICCLimit: limit, ICCSurrendered: f.Surrender, ICCHeadroom: limit - f.Surrender}}
	if !slices.Equal(v.CarbonTax, want) || limit != 6000 {
		t.Fatalf("the facility's position %+v, want %+v (limit 6,000)", v.CarbonTax, want)
	}
}
