package host

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/article6report"
	"github.com/corridor-carbon/corridor/internal/demo"
)

// checkDemoArticle6 reads the seeded demo's Article 6 state through the
// served HTTP API and checks it against what the cooperative approach's
// terms make of the demo's issuance: the project abroad's OMGE and
// investor share first-transferred by Indonesia (its adjustment, vintage
// year), China's NDC use (its adjustment, year of use), Lao PDR's
// authorisation with nothing first-transferred while its transfer waits,
// and no ITMO from the voluntary CCER pilots.
func checkDemoArticle6(t *testing.T, ns *Nodes, useYear int) {
	t.Helper()
	srv := httptest.NewServer(Handler(ns.List, ns.Link))
	defer srv.Close()
	get := func(path string, into any) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		if s, ok := into.(*string); ok {
			*s = string(body)
			return
		}
		if err := json.Unmarshal(body, into); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	aps, err := article6.DefaultApproaches()
	if err != nil {
		t.Fatal(err)
	}
	p := demo.Abroad
	sh, err := article6.Split(aps[p.Authorisation.Approach], p.Issue.Quantity, decimal.RequireFromString(p.InvestorFraction))
	if err != nil {
		t.Fatal(err)
	}
	firstTransferred := sh.OMGE + sh.Investor

	var auths struct {
		Authorisations []article6report.Authorisation
	}
	get("/api/v1/article6/authorisations", &auths)
	byID := map[string]article6report.Authorisation{}
	for _, a := range auths.Authorisations {
		byID[a.ID] = a
	}
	id, la := byID[p.Authorisation.ID], byID[demo.LAAuthorisation.ID]
	// The third is Thailand's, for Singapore's ICCs (checkDemoICC).
	if len(byID) != 3 || id.Status != article6report.StatusInForce || id.Version != 1 || id.Issued != p.Issue.Quantity || id.FirstTransferred != firstTransferred {
		t.Errorf("authorisations %+v; want %s issued %d, %d first-transferred", auths.Authorisations, p.Authorisation.ID, p.Issue.Quantity, firstTransferred)
	}
	// Lao PDR's share of the JCM decision waits in its registry (the
	// in-flight transfer); Japan's share, issued in Japan's registry, is
	// first-transferred at issuance.
	if la.Host != "LA" || la.Issued != demo.LAIssue.Quantity+demo.JPShare.Quantity || la.FirstTransferred != demo.JPShare.Quantity {
		t.Errorf("LA authorisation %+v: want %d issued (LA and JP shares), only Japan's %d first-transferred while the transfer waits", la, demo.LAIssue.Quantity+demo.JPShare.Quantity, demo.JPShare.Quantity)
	}

	var itmos struct{ ITMOs []article6report.ITMO }
	get("/api/v1/article6/itmos", &itmos)
	var ftQ, usedQ, atCN int64
	for _, it := range itmos.ITMOs {
		if it.Host != p.Host && it.Host != "LA" && it.Host != "TH" {
			t.Errorf("ITMO block of %s: only authorised issuances are ITMOs, not the voluntary pilots' CCERs: %+v", it.Host, it)
		}
		if it.Host == "TH" {
			iccITMOs(t, it)
			continue
		}
		if it.Host == "LA" {
			if it.Holder == "JP" && (!it.FirstTransferred || it.Quantity != demo.JPShare.Quantity) {
				t.Errorf("Japan's share of the JCM decision: %+v; want %d t first-transferred", it, demo.JPShare.Quantity)
			}
			continue
		}
		if it.FirstTransferred {
			ftQ += it.Quantity
			if !strings.HasPrefix(it.First, p.Authorisation.Approach+"."+p.Host+"."+p.Host+"."+strconv.Itoa(p.Issue.Vintage)+".") {
				t.Errorf("ITMO id %s does not name approach, registry, first transferring Party and vintage", it.First)
			}
		}
		if it.Holder == p.To && it.Share == string(article6.ShareInvestor) {
			atCN += it.Quantity
			if it.Status == string(article6.StatusUsed) {
				usedQ += it.Quantity
			}
		}
	}
	if ftQ != firstTransferred || atCN != sh.Investor || usedQ != p.Use {
		t.Errorf("ITMOs: %d first-transferred (want %d), %d at %s (want %d), %d used (want %d)", ftQ, firstTransferred, atCN, p.To, sh.Investor, usedQ, p.Use)
	}

	var adj struct{ Adjustments []article6report.Adjustment }
	get("/api/v1/article6/adjustments", &adj)
	sum := map[string]int64{}
	for _, a := range adj.Adjustments {
		sum[a.Party+"/"+strconv.Itoa(a.Year)] += a.Quantity
	}
	hostKey, useKey := p.Host+"/"+strconv.Itoa(p.Issue.Vintage), p.To+"/"+strconv.Itoa(useYear)
	laKey := "LA/" + strconv.Itoa(demo.JPShare.Vintage)
	// The ICC flow: Thailand's OMGE and the ICCs it sent, Singapore's use.
	f := demo.ICC
	omge, _ := article6.Deductions(aps[f.Authorisation.Approach], f.Issue.Quantity)
	thKey, sgKey := "TH/"+strconv.Itoa(f.Issue.Vintage), "SG/"+strconv.Itoa(f.Year)
	if len(sum) != 5 || sum[hostKey] != firstTransferred || sum[useKey] != -p.Use || sum[laKey] != demo.JPShare.Quantity ||
		sum[thKey] != omge+f.Send || sum[sgKey] != -f.Surrender {
		t.Errorf("adjustments %v; want %s %d, %s %d, %s %d (Japan's JCM share), %s %d and %s %d (the ICC flow)", sum, hostKey, firstTransferred, useKey, -p.Use, laKey, demo.JPShare.Quantity,
			thKey, omge+f.Send, sgKey, -f.Surrender)
	}

	var bal struct{ Balances []article6report.Balance }
	get("/api/v1/article6/balances?party="+p.To, &bal)
	if len(bal.Balances) != 1 {
		t.Fatalf("balances %+v", bal)
	}
	for _, r := range bal.Balances[0].Rows {
		want := int64(0)
		if r.Year == useYear {
			want = p.Use
		}
		if r.Used != want || !r.Adjustment.Equal(decimal.NewFromInt(-want)) {
			t.Errorf("%s balance %d: used %d, adjustment %s; want %d", p.To, r.Year, r.Used, r.Adjustment, want)
		}
	}

	// The host's AEF Actions add up to its adjustment.
	var text string
	get("/api/v1/article6/aef?party="+p.Host+"&year="+strconv.Itoa(p.Issue.Vintage)+"&table=actions&format=csv", &text)
	rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("AEF actions: %v %q", err, text)
	}
	col := func(name string) int {
		for i, h := range rows[0] {
			if h == name {
				return i
			}
		}
		t.Fatalf("AEF actions lack column %s: %v", name, rows[0])
		return 0
	}
	typ, qty := col(article6.ColActionType), col(article6.ColQuantity)
	var aefFT int64
	for _, r := range rows[1:] {
		if r[typ] == article6.TypeFirstTransfer {
			n, _ := strconv.ParseInt(r[qty], 10, 64)
			aefFT += n
		}
	}
	if aefFT != firstTransferred {
		t.Errorf("AEF %s first transfers add up to %d, want %d", p.Host, aefFT, firstTransferred)
	}
}

// iccITMOs checks an ITMO block of the demo's ICC flow: the ICCs in
// Singapore are used towards its NDC by the facility.
func iccITMOs(t *testing.T, it article6report.ITMO) {
	t.Helper()
	if it.Authorisation != demo.ICC.Authorisation.ID {
		t.Errorf("ITMO block of TH outside the ICC flow: %+v", it)
	}
	if it.Holder == "SG" && (it.Status != string(article6.StatusUsed) || it.UsedFor != string(article6.PurposeNDC) || it.UsedBy != demo.ICC.Beneficiary || !it.FirstTransferred) {
		t.Errorf("the ICCs in Singapore: %+v; want first-transferred, used for NDC by %s", it, demo.ICC.Beneficiary)
	}
}
