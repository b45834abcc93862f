package hub

import (
	"testing"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestTotalsCountUnitsSentOn: units of foreign origin that a registry
// receives and sends on count as exported in its totals and in its record
// of their issuance, so held + retired + exported is what came here; the
// serials that never arrived do not count.
func TestTotalsCountUnitsSentOn(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w := newWorld(t, tg)
		w.send(t, w.cn, w.th, 100, w.th.acc, "cn-th")
		w.run(t)
		w.send(t, w.th, w.cn, 5, w.cn.acc, "th-cn")
		w.run(t)
		w.conserved(t)
		tot := w.th.node.Totals()
		if tot.ByState[ledger.Exported] != 5 || tot.ByState[ledger.Held] != 95 || tot.Issued != 0 {
			t.Fatalf("TH totals after sending 5 of 100 on: %+v", tot)
		}
		iss := w.th.node.Issuances(registry.Operator)
		if len(iss) != 1 || iss[0].Origin == nil || iss[0].Here() != 100 || iss[0].ByState[ledger.Exported] != 5 || iss[0].ByState[ledger.Held] != 95 {
			t.Fatalf("TH's record of the CN issuance: %+v", iss)
		}
	})
}
