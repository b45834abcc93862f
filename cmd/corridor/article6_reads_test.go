package main

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/article6report"
	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/host"
)

// TestArticle6ReadCommands: against a served demo, `corridor article6
// authorisations|itmos|balances` print the seeded project abroad as the
// approach's terms make it (JSON and table), and a bad flag exits 2 with
// nothing sent, an unreachable server 4.
func TestArticle6ReadCommands(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	ns, err := host.Open(ctx, host.Storage{DataDir: filepath.Join(t.TempDir(), "data")}, host.OpenOptions{SeedDemo: true, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	srv := httptest.NewServer(host.Handler(ns.List, ns.Link))
	defer srv.Close()
	t.Setenv("CORRIDOR_FORMAT", "")

	aps, err := article6.DefaultApproaches()
	if err != nil {
		t.Fatal(err)
	}
	p := demo.Abroad
	sh, err := article6.Split(aps[p.Authorisation.Approach], p.Issue.Quantity, decimal.RequireFromString(p.InvestorFraction))
	if err != nil {
		t.Fatal(err)
	}

	auths := decode[[]article6report.Authorisation](t, mustRun(t, "article6", "authorisations", "--server", srv.URL, "--party", p.Host, "--format", "json"))
	if len(auths) != 1 || auths[0].ID != p.Authorisation.ID || auths[0].Issued != p.Issue.Quantity || auths[0].FirstTransferred != sh.OMGE+sh.Investor {
		t.Errorf("authorisations %+v", auths)
	}
	if out := mustRun(t, "article6", "authorisations", "--server", srv.URL).stdout; !strings.Contains(out, p.Authorisation.ID) || !strings.Contains(out, demo.LAAuthorisation.ID) || !strings.Contains(out, "in force") {
		t.Errorf("authorisations table:\n%s", out)
	}

	itmos := decode[[]article6report.ITMO](t, mustRun(t, "article6", "itmos", "--server", srv.URL, "--party", p.To, "--format", "json"))
	var atCN int64
	for _, it := range itmos {
		if it.Holder == p.To {
			atCN += it.Quantity
		}
	}
	if atCN != sh.Investor {
		t.Errorf("ITMOs held by %s: %d, want the investor share %d: %+v", p.To, atCN, sh.Investor, itmos)
	}
	if out := mustRun(t, "article6", "itmos", "--server", srv.URL, "--party", p.To).stdout; !strings.Contains(out, p.Authorisation.Approach+"."+p.Host+"."+p.Host+".") {
		t.Errorf("itmos table lacks the ITMO ids:\n%s", out)
	}

	bals := decode[[]article6report.Balance](t, mustRun(t, "article6", "balances", "--server", srv.URL, "--party", p.To, "--format", "json"))
	var used int64
	if len(bals) == 1 {
		for _, r := range bals[0].Rows {
			if r.Year == clock.Year() {
				used = r.Used
			}
		}
	}
	if used != p.Use {
		t.Errorf("balances %+v: %s used %d in %d, want %d", bals, p.To, used, clock.Year(), p.Use)
	}
	if out := mustRun(t, "article6", "balances", "--server", srv.URL, "--party", p.To).stdout; !strings.Contains(out, strconv.FormatInt(-p.Use, 10)) {
		t.Errorf("balances table lacks the adjustment -%d:\n%s", p.Use, out)
	}

	// A lower-case code is the Party; a code of no cooperative approach is
	// refused by the server (400 party_unknown), so the command exits 2.
	if lower := decode[[]article6report.ITMO](t, mustRun(t, "article6", "itmos", "--server", srv.URL, "--party", strings.ToLower(p.To), "--format", "json")); len(lower) != len(itmos) {
		t.Errorf("--party %s: %d ITMOs, --party %s %d", strings.ToLower(p.To), len(lower), p.To, len(itmos))
	}
	for _, read := range []string{"authorisations", "itmos", "balances"} {
		for _, party := range []string{"XX", "zz", "FR"} {
			r := run("article6", read, "--server", srv.URL, "--party", party)
			if r.code() != exitUsage || r.err == nil || !strings.Contains(r.err.Error(), "party_unknown") || r.stdout != "" {
				t.Errorf("article6 %s --party %s: exit %d (%v) %q, want %d party_unknown", read, party, r.code(), r.err, r.stdout, exitUsage)
			}
		}
	}
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"article6", "itmos", "--server", srv.URL, "--party", "china"}, exitUsage},
		{[]string{"article6", "balances", "--server", srv.URL, "--ndc-period", "2030"}, exitUsage},
		{[]string{"article6", "balances", "--server", srv.URL, "--method", "guess"}, exitUsage},
		{[]string{"article6", "authorisations", "--server", "http://127.0.0.1:1"}, exitUnreachable},
	} {
		if r := run(c.args...); r.code() != c.code || r.err == nil {
			t.Errorf("corridor %s: exit %d (%v), want %d", strings.Join(c.args, " "), r.code(), r.err, c.code)
		}
	}
}
