package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/ledger"
)

type ledgerReports struct{ l *article6.Ledger }

func (r ledgerReports) AEF(_ context.Context, s article6.Submission) (article6.AEF, error) {
	return r.l.BuildAEF(s)
}

// TestAEFRead: GET /api/v1/article6/aef serves a Party's AEF from the
// ledger as JSON (five tables), one table as CSV, and the workbook; a bad
// year is the ledger's own code, a bad format 400, and a server without a
// ledger 503.
func TestAEFRead(t *testing.T) {
	aps, err := article6.DefaultApproaches()
	if err != nil {
		t.Fatal(err)
	}
	l := article6.NewLedger(article6.Config{Approaches: aps, Registries: map[string]string{"TH": "TH", "SG": "SG"}})
	if err := l.Record(article6.AuthEvent{Kind: article6.EventAuthorise, Date: "2026-04-01", Authorisation: article6.Authorisation{ID: "TH-SG-0001", Version: 1, Host: "TH",
		Approach: "SG-TH-IA", Purposes: []article6.Purpose{article6.PurposeNDC}, Quantity: 5000, From: "2026-01-01", Until: "2030-12-31", VintageFrom: 2026, VintageTo: 2030,
		Activities: []string{"TH-EBUS-01"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Apply(article6.Action{Kind: article6.ActionIssue, Date: "2026-04-02", Authorisation: "TH-SG-0001", OMGE: 20, ShareOfProceeds: 50,
		Units: ledger.Serial{Registry: "TH", UnitType: "PTVER", Project: "TH-EBUS-01", Vintage: 2026, Issuance: 1, Start: 1, End: 1000}}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New().WithArticle6(ledgerReports{l}).Handler())
	defer srv.Close()
	get := func(query string) (int, string, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + "/api/v1/article6/aef?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	st, ct, body := get("party=TH&year=2026")
	var aef article6.AEF
	if st != 200 || !strings.HasPrefix(ct, "application/json") || json.Unmarshal([]byte(body), &aef) != nil || len(aef.Tables) != 5 || aef.Party != "TH" {
		t.Fatalf("json: %d %s %.200s", st, ct, body)
	}
	st, ct, body = get("party=TH&year=2026&table=actions&format=csv")
	lines := strings.Split(strings.TrimSpace(body), "\n")
	// The OMGE cancellation: its first transfer and the cancellation.
	if st != 200 || !strings.HasPrefix(ct, "text/csv") || len(lines) != 3 || !strings.HasPrefix(lines[1], "02/04/2026,First transfer,Mandatory cancellation to deliver OMGE,SG-TH-IA,TH-SG-0001,THA,") || !strings.Contains(lines[1], ",20,NA,") {
		t.Fatalf("csv: %d %s\n%s", st, ct, body)
	}
	if st, _, body = get("party=TH&year=2026&format=xlsx"); st != 200 || !strings.HasPrefix(body, "PK") {
		t.Fatalf("xlsx: %d", st)
	}
	// One set of snake_case codes across the Article 6 reads, each naming
	// the parameter at fault.
	for _, c := range []struct{ query, code, field string }{
		{"party=TH&year=2019", "year_invalid", "year"},
		{"party=ID&year=2020", "year_invalid", "year"},
		{"party=TH&year=x", "year_invalid", "year"},
		{"party=TH", "missing_parameter", "year"},
		{"year=2026", "missing_parameter", "party"},
		{"party=zz&year=2026", "party_unknown", "party"},
		{"party=XX&year=2026", "party_unknown", "party"},
		{"party=FR&year=2026", "party_unknown", "party"},
		{"party=THA&year=2026", "party_invalid", "party"},
		{"party=TH&year=2026&format=pdf", "format_invalid", "format"},
		{"party=TH&year=2026&format=csv", "missing_parameter", "table"},
		{"party=TH&year=2026&table=x", "table_invalid", "table"},
		{"party=TH&year=2026&version=0", "version_invalid", "version"},
		{"party=TH&year=2026&submitted=April", "submitted_invalid", "submitted"},
		{"party=TH&year=2026&ndc_first_year=2030&ndc_last_year=2025", "year_invalid", "ndc_last_year"},
		{"party=TH&year=2026&host=TH", "unknown_parameter", "host"},
		{"party=TH&year=2026&year=2027", "duplicate_parameter", "year"},
	} {
		st, _, body := get(c.query)
		var m map[string]any
		_ = json.Unmarshal([]byte(body), &m)
		if st != 400 || m["code"] != c.code || m["field"] != c.field {
			t.Errorf("%s: %d %s, want 400 %s field %s", c.query, st, body, c.code, c.field)
		}
	}
	// A lower-case Party code is that Party.
	var th article6.AEF
	if st, _, body := get("party=th&year=2026"); st != 200 || json.Unmarshal([]byte(body), &th) != nil || th.Party != "TH" {
		t.Errorf("party=th: %d %.200s", st, body)
	}
	bare := httptest.NewServer(api.New().Handler())
	defer bare.Close()
	resp, err := http.Get(bare.URL + "/api/v1/article6/aef?party=TH&year=2026")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("without a ledger: %d, want 503", resp.StatusCode)
	}
}

func (r ledgerReports) Ledger(_ context.Context, fn func(*article6.Ledger) error) error {
	return fn(r.l)
}

// TestArticle6ReadsRefuse: the Article 6 reads take only their own query
// parameters, once each, and answer a wrong one with 400 and its code
// naming the field; a server without a ledger answers 503.
func TestArticle6ReadsRefuse(t *testing.T) {
	aps, err := article6.DefaultApproaches()
	if err != nil {
		t.Fatal(err)
	}
	l := article6.NewLedger(article6.Config{Approaches: aps, Registries: map[string]string{"TH": "TH"}})
	if err := l.Record(article6.AuthEvent{Kind: article6.EventAuthorise, Date: "2026-04-01", Authorisation: article6.Authorisation{ID: "TH-SG-0001", Version: 1, Host: "TH",
		Approach: "SG-TH-IA", Purposes: []article6.Purpose{article6.PurposeNDC}, Quantity: 5000, From: "2026-01-01", Until: "2030-12-31", VintageFrom: 2026, VintageTo: 2030,
		Activities: []string{"TH-EBUS-01"}}}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New().WithArticle6(ledgerReports{l}).Handler())
	defer srv.Close()
	bare := httptest.NewServer(api.New().Handler())
	defer bare.Close()
	for _, c := range []struct {
		base, path  string
		status      int
		code, field string
	}{
		{srv.URL, "/api/v1/article6/authorisations?party=TH", 200, "", ""},
		{srv.URL, "/api/v1/article6/authorisations?party=th", 200, "", ""},
		{srv.URL, "/api/v1/article6/authorisations?party=T", 400, "party_invalid", "party"},
		{srv.URL, "/api/v1/article6/itmos?party=zz", 400, "party_unknown", "party"},
		{srv.URL, "/api/v1/article6/balances?party=XX", 400, "party_unknown", "party"},
		{srv.URL, "/api/v1/article6/adjustments?party=FR", 400, "party_unknown", "party"},
		{srv.URL, "/api/v1/article6/authorisations?party=XX", 400, "party_unknown", "party"},
		{srv.URL, "/api/v1/article6/authorisations?host=TH", 400, "unknown_parameter", "host"},
		{srv.URL, "/api/v1/article6/itmos?party=TH&party=SG", 400, "duplicate_parameter", "party"},
		{srv.URL, "/api/v1/article6/adjustments?year=2026", 400, "unknown_parameter", "year"},
		{srv.URL, "/api/v1/article6/balances?method=guess", 400, "method_invalid", "method"},
		{srv.URL, "/api/v1/article6/balances?first_year=2020", 400, "year_invalid", "first_year"},
		{srv.URL, "/api/v1/article6/balances?first_year=2030&last_year=2025", 400, "year_invalid", "last_year"},
		{srv.URL, "/api/v1/article6/balances?method=single-year-averaging&target_year=2031", 400, "year_invalid", "target_year"},
		{srv.URL, "/api/v1/article6/balances?method=single-year-averaging&as_of=2020", 400, "year_invalid", "as_of"},
		{srv.URL, "/api/v1/article6/balances?method=single-year-averaging&first_year=2025&as_of=2024", 400, "year_invalid", "as_of"},
		{bare.URL, "/api/v1/article6/itmos", 503, "article6_unavailable", ""},
	} {
		resp, err := http.Get(c.base + c.path)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		if resp.StatusCode != c.status || c.code != "" && (m["code"] != c.code || c.field != "" && m["field"] != c.field) {
			t.Errorf("%s: %d %v; want %d %s %s", c.path, resp.StatusCode, m, c.status, c.code, c.field)
		}
		if c.status == 200 {
			as, _ := m["authorisations"].([]any)
			if len(as) != 1 || as[0].(map[string]any)["status"] != "in force" {
				t.Errorf("%s: %v", c.path, m)
			}
		}
	}
}

// TestA6BalancesAveraging: GET /api/v1/article6/balances with
// single-year-averaging divides the cumulative amount by the years of the
// period elapsed as of as_of (decision 2/CMA.3, annex, para. 7(a)(ii)):
// Thailand's 20 t OMGE first transfer for 2026 over 2021-2026 is
// 20 / 6 = 3.333 t in the NDC year 2030, and 20 / 10 = 2 t once the
// period has ended.
func TestA6BalancesAveraging(t *testing.T) {
	aps, err := article6.DefaultApproaches()
	if err != nil {
		t.Fatal(err)
	}
	l := article6.NewLedger(article6.Config{Approaches: aps, Registries: map[string]string{"TH": "TH"}})
	if err := l.Record(article6.AuthEvent{Kind: article6.EventAuthorise, Date: "2026-04-01", Authorisation: article6.Authorisation{ID: "TH-SG-0001", Version: 1, Host: "TH",
		Approach: "SG-TH-IA", Purposes: []article6.Purpose{article6.PurposeNDC}, Quantity: 5000, From: "2026-01-01", Until: "2030-12-31", VintageFrom: 2026, VintageTo: 2030,
		Activities: []string{"TH-EBUS-01"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Apply(article6.Action{Kind: article6.ActionIssue, Date: "2026-04-02", Authorisation: "TH-SG-0001", OMGE: 20, ShareOfProceeds: 50,
		Units: ledger.Serial{Registry: "TH", UnitType: "PTVER", Project: "TH-EBUS-01", Vintage: 2026, Issuance: 1, Start: 1, End: 1000}}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New().WithArticle6(ledgerReports{l}).Handler())
	defer srv.Close()
	for _, c := range []struct {
		asOf      string
		wantAsOf  float64
		want2030  string
		want2026r string
	}{
		{"2026", 2026, "3.333", "0"},
		{"2030", 2030, "2", "0"},
		{"2035", 2030, "2", "0"},
	} {
		resp, err := http.Get(srv.URL + "/api/v1/article6/balances?party=TH&method=single-year-averaging&first_year=2021&last_year=2030&as_of=" + c.asOf)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Balances []struct {
				AsOf float64 `json:"as_of"`
				Rows []struct {
					Year       int    `json:"year"`
					Adjustment string `json:"adjustment"`
				} `json:"rows"`
			} `json:"balances"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || len(out.Balances) != 1 {
			t.Fatalf("as_of %s: %d %v %+v", c.asOf, resp.StatusCode, err, out)
		}
		b := out.Balances[0]
		got := map[int]string{}
		for _, r := range b.Rows {
			got[r.Year] = r.Adjustment
		}
		if b.AsOf != c.wantAsOf || got[2030] != c.want2030 || got[2026] != c.want2026r {
			t.Errorf("as_of %s: as_of %v, 2030 %s, 2026 %s; want %v %s %s", c.asOf, b.AsOf, got[2030], got[2026], c.wantAsOf, c.want2030, c.want2026r)
		}
	}
}

// TestNetworkedHubArticle6: a networked hub's Article 6 routes answer 503
// article6_unavailable with a sentence saying why, not empty tables.
func TestNetworkedHubArticle6(t *testing.T) {
	srv := httptest.NewServer(api.NetworkedHubArticle6())
	defer srv.Close()
	for _, p := range []string{"/api/v1/article6/aef?party=TH&year=2026", "/api/v1/article6/itmos"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		if d, _ := m["detail"].(string); resp.StatusCode != 503 || m["code"] != "article6_unavailable" || !strings.Contains(d, "networked hub") || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %v", p, resp.StatusCode, m)
		}
	}
}
