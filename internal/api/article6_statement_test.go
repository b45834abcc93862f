package api_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/client"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// withArticle6 gives the embedded corridor the hub's Article 6 ledger, fed
// from every member's journal.
func withArticle6(t *testing.T, cfg *hub.EmbeddedConfig) {
	t.Helper()
	aps, err := article6.DefaultApproaches()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Article6, err = hub.EmbeddedArticle6(context.Background(), cfg.HubDB, cfg.Members, aps)
	if err != nil {
		t.Fatal(err)
	}
}

// authoriseIDSolar has Indonesia's administrator authorise a solar
// project for China's NDC (CN-ID-PILOT) and issue 1,000 t of it into the
// ID holder's account; it returns the issuance id.
func authoriseIDSolar(t *testing.T, cw *corridorWorld) int64 {
	t.Helper()
	ctx := context.Background()
	adminActor := registry.Actor{Role: ledger.RoleAdmin}
	id := cw.nodes["ID"]
	do := func(key string, req registry.Request) registry.Result {
		res, err := id.Do(ctx, adminActor, key, req)
		if err != nil {
			t.Fatalf("ID %s: %v", req.Kind(), err)
		}
		return res
	}
	org := do("a6-org", registry.CreateOrganisation{Name: "Indonesia adaptation fund", Country: "ID"}).ID
	adapt := do("a6-adapt", registry.OpenAccount{OrgID: org, Type: ledger.Holding, Name: "Adaptation"}).ID
	do("a6-auth", registry.Authorise{Authorisation: registry.Authorisation{ID: "ID-A6-0001", Version: 1, Host: "ID", Approach: "CN-ID-PILOT", Purposes: []string{"NDC"},
		Quantity: 10_000, From: "2026-01-01", Until: "2030-12-31", VintageFrom: 2026, VintageTo: 2030, Activities: []string{"ID-SOLAR-01"}, AcquiringParties: []string{"CN"},
		Sector: "Energy", ActivityType: "Solar photovoltaic power", MitigationType: "emission reductions"}})
	res := do("a6-issue", registry.IssueAuthorised{Issue: registry.Issue{IssuanceFacts: registry.IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "ID-SOLAR-01", Methodology: "CCER-01-001-V01",
		HostCountry: "ID", Vintage: 2026, Quantity: 1000}, AccountID: cw.accs["ID/holder"]}, Authorisation: "ID-A6-0001", AdaptationAccount: adapt})
	return res.ID
}

// TestCrossBorderArticle6Statement: the body of POST
// …/transfers/cross-border carries the sender's Article 6 statement. A
// statement of the wrong shape is refused with 400 before anything is
// reserved, naming its field; a true one reaches the hub in the proposal's
// blocks (with the ITMO identifiers derived from it) and the transfer
// completes; a false one (another version) is refused by the hub with
// article6_authorisation_version and the escrow is voided.
func TestCrossBorderArticle6Statement(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		cw := newCorridorWorld(t, tg, withArticle6)
		iss := authoriseIDSolar(t, cw)
		const path = "/api/v1/registries/ID/transfers/cross-border"
		tok := cw.tokens["ID/holder"]
		body := func(statement string) string {
			return fmt.Sprintf(`{"from_account":%d,"to_registry":"CN","to_account":%d,"quantity":100,"unit_type":"CCER","issuance_id":%d,"purpose":"ndc","article6":%s}`,
				cw.accs["ID/holder"], cw.accs["CN/holder"], iss, statement)
		}
		seq := cw.nodes["ID"].Totals().JournalSeq
		for i, c := range []struct {
			name, statement string
			status          int
			code, field     string
		}{
			{"no authorisation", `{"version":1,"approach":"CN-ID-PILOT","party":"ID"}`, 400, "field_missing", "article6.authorisation"},
			{"version 0", `{"authorisation":"ID-A6-0001","version":0,"approach":"CN-ID-PILOT","party":"ID"}`, 400, ledger.CodeInvalid, "article6.version"},
			{"unknown approach", `{"authorisation":"ID-A6-0001","version":1,"approach":"XX-ID","party":"ID"}`, 400, string(article6.CodeApproachUnknown), "article6.approach"},
			{"party outside the approach", `{"authorisation":"ID-A6-0001","version":1,"approach":"CN-ID-PILOT","party":"TH"}`, 400, ledger.CodeInvalid, "article6.party"},
			{"party in lower case", `{"authorisation":"ID-A6-0001","version":1,"approach":"CN-ID-PILOT","party":"id"}`, 400, ledger.CodeInvalid, "article6.party"},
			{"control character", `{"authorisation":"ID-A6\u00010001","version":1,"approach":"CN-ID-PILOT","party":"ID"}`, 400, "text_invalid", "article6.authorisation"},
			{"unknown field", `{"authorisation":"ID-A6-0001","version":1,"approach":"CN-ID-PILOT","party":"ID","itmo":"x"}`, 400, "unknown_field", "article6.itmo"},
			{"not an object", `"ID-A6-0001"`, 400, "", ""},
		} {
			st, m, _ := cw.raw(t, "POST", path, tok, fmt.Sprintf("bad-%d", i), body(c.statement))
			if st != c.status || c.code != "" && m["code"] != c.code || c.field != "" && m["field"] != c.field {
				t.Errorf("%s: %d %v, want %d %s [%s]", c.name, st, m, c.status, c.code, c.field)
			}
		}
		if got := cw.nodes["ID"].Totals().JournalSeq; got != seq {
			t.Fatalf("refused statements moved ID's journal from %d to %d", seq, got)
		}

		send := func(key, statement string) client.Transfer {
			t.Helper()
			st, m, _ := cw.raw(t, "POST", path, tok, key, body(statement))
			if st != 202 {
				t.Fatalf("%s: %d %v", key, st, m)
			}
			cw.deliver(t)
			tr, err := client.New(cw.srv.URL, tok).Transfer(ctx, m["id"].(string))
			if err != nil {
				t.Fatal(err)
			}
			return tr
		}
		// Another version than the units carry: the hub refuses (3 → 5).
		tr := send("false", `{"authorisation":"ID-A6-0001","version":2,"approach":"CN-ID-PILOT","party":"ID","first_transfer":true}`)
		var codes []string
		for _, h := range tr.History {
			for _, f := range h.Findings {
				codes = append(codes, f.Code)
			}
		}
		if !slices.Equal(statusesOf(tr), []int{1, 3, 5}) || !slices.Contains(codes, string(article6.CodeAuthVersion)) {
			t.Fatalf("a false statement: statuses %v, findings %v", statusesOf(tr), codes)
		}
		// The true statement: completed, and the hub's record carries it.
		tr = send("true", `{"authorisation":"ID-A6-0001","version":1,"approach":"CN-ID-PILOT","party":"ID","first_transfer":true}`)
		if !slices.Equal(statusesOf(tr), []int{1, 2, 8, 4}) {
			t.Fatalf("a true statement: statuses %v, %+v", statusesOf(tr), tr.History)
		}
		rec, err := cw.c.Transfer(ctx, tr.ID)
		if err != nil {
			t.Fatal(err)
		}
		b := rec.Proposal.Blocks[0]
		if want := fmt.Sprintf("CN-ID-PILOT.ID.ID.2026.%d.%d", iss, b.Start); b.Article6.Authorisation != "ID-A6-0001" || b.Article6.Version != 1 || !b.Article6.FirstTransfer || b.Article6.FirstITMO != want {
			t.Fatalf("the hub's block carries %+v, want first ITMO %s", b.Article6, want)
		}
		// The import keeps the ITMO identifiers: China's serial view shows
		// them, for the stated send and for one without a statement (the
		// hub attaches its record's), each over the serials it brought.
		st, m, _ := cw.raw(t, "POST", path, tok, "unstated", fmt.Sprintf(`{"from_account":%d,"to_registry":"CN","to_account":%d,"quantity":50,"unit_type":"CCER","issuance_id":%d,"purpose":"ndc"}`,
			cw.accs["ID/holder"], cw.accs["CN/holder"], iss))
		if st != 202 {
			t.Fatalf("unstated: %d %v", st, m)
		}
		cw.deliver(t)
		unstated := m["blocks"].([]any)[0].(map[string]any)
		u0, u1 := int64(unstated["start"].(float64)), int64(unstated["end"].(float64))
		anon := client.New(cw.srv.URL, "")
		for _, c := range []struct {
			name       string
			start, end int64
			transfer   string
		}{{"stated", b.Start, b.End, tr.ID}, {"unstated", u0, u1, m["id"].(string)}} {
			serial := fmt.Sprintf("ID-CCER-ID-SOLAR-01-2026-%d-%d-%d", iss, c.start, c.end)
			info, err := anon.Serial(ctx, "CN", serial)
			if err != nil {
				t.Fatal(err)
			}
			want := registry.ITMORange{Start: c.start, End: c.end, Authorisation: "ID-A6-0001", Version: 1, Transfer: c.transfer,
				First: fmt.Sprintf("CN-ID-PILOT.ID.ID.2026.%d.%d", iss, c.start), Last: fmt.Sprintf("CN-ID-PILOT.ID.ID.2026.%d.%d", iss, c.end)}
			if len(info.ITMOs) != 1 || info.ITMOs[0] != want {
				t.Errorf("%s: CN's serial view of %s shows ITMOs %+v, want %+v", c.name, serial, info.ITMOs, want)
			}
		}
	})
}
