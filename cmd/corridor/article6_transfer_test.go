package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestCLITransferArticle6: `corridor transfer --article6-*` sends the
// sender's Article 6 statement through the real API. A true statement
// completes; a false one (another version)
// exits 3 with the hub's article6_authorisation_version (so the statement
// reached the hub); a statement
// without its parts, of the wrong shape, or on a local transfer exits 2
// and sends nothing. China's serial view of the import lists the ITMO
// identifiers.
func TestCLITransferArticle6(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		s := startCorridorCLI(t, tg, func(t *testing.T, cfg *hub.EmbeddedConfig) {
			aps, err := article6.DefaultApproaches()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Article6, err = hub.EmbeddedArticle6(ctx, cfg.HubDB, cfg.Members, aps); err != nil {
				t.Fatal(err)
			}
		})
		id := s.nodes["ID"]
		admin := registry.Actor{Role: ledger.RoleAdmin}
		do := func(key string, req registry.Request) registry.Result {
			res, err := id.Do(ctx, admin, key, req)
			if err != nil {
				t.Fatalf("ID %s: %v", req.Kind(), err)
			}
			return res
		}
		org := do("a6-org", registry.CreateOrganisation{Name: "Indonesia adaptation fund", Country: "ID"}).ID
		adapt := do("a6-adapt", registry.OpenAccount{OrgID: org, Type: ledger.Holding, Name: "Adaptation"}).ID
		do("a6-auth", registry.Authorise{Authorisation: registry.Authorisation{ID: "ID-A6-0001", Version: 1, Host: "ID", Approach: "CN-ID-PILOT", Purposes: []string{"NDC"},
			Quantity: 10_000, From: "2026-01-01", Until: "2030-12-31", VintageFrom: 2026, VintageTo: 2030, Activities: []string{"ID-SOLAR-01"}, AcquiringParties: []string{"CN"}}})
		iss := do("a6-issue", registry.IssueAuthorised{Issue: registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "ID-SOLAR-01", Methodology: "CCER-01-001-V01",
			HostCountry: "ID", Vintage: 2026, Quantity: 1000}, AccountID: s.accs["ID/holder"]}, Authorisation: "ID-A6-0001", AdaptationAccount: adapt}).ID
		base := []string{"transfer", "--registry", "ID", "--from", fmt.Sprint(s.accs["ID/holder"]), "--to-registry", "CN", "--to-account", fmt.Sprint(s.accs["CN/holder"]),
			"--quantity", "100", "--unit-type", "CCER", "--issuance", fmt.Sprint(iss), "--purpose", "ndc", "--token", s.tokens["ID/holder"]}
		statement := []string{"--article6-authorisation", "ID-A6-0001", "--article6-approach", "CN-ID-PILOT", "--article6-party", "ID", "--article6-first-transfer"}
		seq := id.Totals().JournalSeq
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"--article6-version", "2"}, "--article6-version needs --article6-authorisation"},
			{[]string{"--article6-authorisation", "ID-A6-0001"}, "needs --article6-approach and --article6-party"},
			{[]string{"--article6-authorisation", "ID-A6-0001", "--article6-approach", "XX", "--article6-party", "ID"}, `"XX" is not a cooperative approach`},
			{[]string{"--article6-authorisation", "ID-A6-0001", "--article6-approach", "CN-ID-PILOT", "--article6-party", "TH"}, "must be the first transferring Party"},
			{append(statement, "--article6-version", "0"), "from 1"},
		} {
			r := run(append(append([]string{}, base...), c.args...)...)
			if r.code() != exitUsage || r.err == nil || !strings.Contains(r.err.Error(), c.want) {
				t.Errorf("%v: exit %d %v, want 2 with %q", c.args, r.code(), r.err, c.want)
			}
		}
		r := run("transfer", "--registry", "ID", "--from", fmt.Sprint(s.accs["ID/holder"]), "--to", fmt.Sprint(s.accs["ID/holder"]+1), "--quantity", "1", "--unit-type", "CCER",
			"--article6-authorisation", "ID-A6-0001", "--token", s.tokens["ID/holder"])
		if r.code() != exitUsage || !strings.Contains(r.err.Error(), "transfer abroad") {
			t.Errorf("a statement on a local transfer: exit %d %v", r.code(), r.err)
		}
		if got := id.Totals().JournalSeq; got != seq {
			t.Fatalf("refused statements moved ID's journal from %d to %d", seq, got)
		}

		r = run(append(append(append([]string{}, base...), statement...), "--article6-version", "2", "--wait")...)
		if r.code() != exitRejected || !strings.Contains(r.err.Error(), string(article6.CodeAuthVersion)) {
			t.Fatalf("a false statement: exit %d %v\n%s", r.code(), r.err, r.stdout)
		}
		r = mustRun(t, append(append(append([]string{}, base...), statement...), "--wait")...)
		if !strings.Contains(r.stdout, "completed") {
			t.Fatalf("a true statement:\n%s", r.stdout)
		}
		// China's record of the import shows the ITMO identifiers.
		m := regexp.MustCompile(fmt.Sprintf(`ID-CCER-ID-SOLAR-01-2026-%d-(\d+)-(\d+)`, iss)).FindStringSubmatch(r.stdout)
		if m == nil {
			t.Fatalf("no serial printed:\n%s", r.stdout)
		}
		r = mustRun(t, "serial", m[0], "--registry", "CN")
		for _, want := range []string{"ITMOs (Article 6 identifiers", fmt.Sprintf("CN-ID-PILOT.ID.ID.2026.%d.%s", iss, m[1]), fmt.Sprintf("CN-ID-PILOT.ID.ID.2026.%d.%s", iss, m[2]), "ID-A6-0001 v1"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("serial --registry CN lacks %q:\n%s", want, r.stdout)
			}
		}
	})
}
