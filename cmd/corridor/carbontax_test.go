package main

import (
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/registry"
)

// TestCLICarbonTax: the administrator records a Singapore facility's
// taxable emissions (report-emissions), account show prints the ICC
// position, a second record of the year is refused by the server (exit
// 3), and what is checkable locally exits 2 without calling: an ICC
// surrender without --compliance-year, tonnes that are not positive.
// (The surrender itself needs ITMOs brought by the hub:
// TestSingaporeICCSurrender in internal/api.)
func TestCLICarbonTax(t *testing.T) {
	s := startCLIServer(t)
	admin, holder := s.tokens["SG/admin"], s.tokens["SG/holder/2"]
	if admin == "" || holder == "" {
		t.Fatalf("no SG tokens: %v", s.tokens)
	}
	r := mustRun(t, "report-emissions", "--registry", "SG", "--account", "2", "--year", "2026", "--tonnes", "50019", "--token", admin)
	if !strings.Contains(r.stdout, "account 2's taxable emissions for 2026 recorded: 50019 t (ICC limit 2500 t)") {
		t.Errorf("report-emissions:\n%s", r.stdout)
	}
	r = mustRun(t, "account", "show", "2", "--registry", "SG", "--token", holder)
	if !strings.Contains(r.stdout, "Singapore carbon tax: ICCs") || !strings.Contains(r.stdout, "2026  50019") {
		t.Errorf("account show:\n%s", r.stdout)
	}
	if r := run("report-emissions", "--registry", "SG", "--account", "2", "--year", "2026", "--tonnes", "1", "--token", admin); r.code() != exitRejected ||
		!strings.Contains(r.err.Error(), registry.CodeEmissionsAlreadyReport) {
		t.Errorf("the year again: exit %d %v", r.code(), r.err)
	}
	for _, args := range [][]string{
		{"retire", "--registry", "SG", "--from", "2", "--quantity", "1", "--unit-type", "PTVER", "--beneficiary", "x", "--purpose", "icc", "--token", holder},
		{"report-emissions", "--registry", "SG", "--account", "2", "--year", "2027", "--tonnes", "0", "--token", admin},
	} {
		if r := run(args...); r.code() != exitUsage {
			t.Errorf("%v: exit %d (%v), want %d", args, r.code(), r.err, exitUsage)
		}
	}
}
