package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestAccountCarbonTax: a Singapore facility's account page shows its ICC
// position once taxable emissions are recorded (taxable emissions, the
// 5 % limit rounded down, surrendered, headroom); an account without them
// shows no such table.
func TestAccountCarbonTax(t *testing.T) {
	d := newDemoSite(t, 7, func(t testing.TB) storetest.Target { return storetest.SQLite(t) })
	sg := d.nodes["SG"]
	if sg == nil {
		t.Fatal("the first seven demo registries do not include SG")
	}
	v := d.visitor(t)
	if p := v.signIn("SG", d.tokens["SG"][ledger.RoleAdmin].Token); p.status != http.StatusSeeOther {
		t.Fatalf("sign in: %d", p.status)
	}
	if p := v.get("/registries/SG/accounts/2"); p.status != 200 || strings.Contains(p.body, `id="carbon-tax"`) {
		t.Fatalf("before any emissions: %d, carbon-tax table shown", p.status)
	}
	if _, err := sg.Do(context.Background(), registry.Actor{Role: ledger.RoleAdmin}, "em", registry.ReportEmissions{Account: 2, Year: 2026, Tonnes: 50019}); err != nil {
		t.Fatal(err)
	}
	p := v.get("/registries/SG/accounts/2")
	i := strings.Index(p.body, `id="carbon-tax"`)
	if p.status != 200 || i < 0 {
		t.Fatalf("after the emissions: %d, no carbon-tax table", p.status)
	}
	row := p.body[i:]
	row = row[strings.Index(row, "<tbody>"):strings.Index(row, "</tbody>")]
	// Year, taxable emissions, limit, surrendered, headroom, in that order.
	for _, want := range []string{`<td>2026</td><td class="num">50,019</td><td class="num">2,500</td><td class="num">0</td><td class="num">2,500</td>`} {
		if !strings.Contains(row, want) {
			t.Errorf("the carbon-tax row lacks %q: %s", want, row)
		}
	}
}
