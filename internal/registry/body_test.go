package registry

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

// TestEncodeBody: the journal body written without the second encoding
// pass is json.Marshal's, byte for byte (journal hashes cover it).
func TestEncodeBody(t *testing.T) {
	at := time.Date(2026, 12, 1, 8, 0, 0, 123456789, time.UTC)
	reqs := []Request{
		Transfer{From: 3, To: 4, Units: Units{Quantity: 7, UnitType: "CCER"}},
		CreateOrganisation{Name: `<b>"Tom" & Jerry</b> 中文 \ ` + "\u2028", Country: "SG"},
		Issue{IssuanceFacts: IssuanceFacts{Standard: "VCS", UnitType: "VCU", Project: "P-1", ProjectName: "<script>", Methodology: "AMS&", HostCountry: "ID", Vintage: 2025, Quantity: 10}, AccountID: 2},
		OpenAccount{OrgID: 1, Type: ledger.Holding, Name: ""},
	}
	results := []Result{
		{Seq: 1, Kind: "transfer", At: at},
		{Seq: 2, Kind: "issue", At: at, ID: 9, Quantity: 10, Blocks: []BlockView{{}}, Pending: 3, ExpiresAt: at.Add(time.Hour)},
	}
	for _, req := range reqs {
		for _, res := range results {
			reqJSON, err := json.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(entryBody{Request: reqJSON, Result: res})
			if err != nil {
				t.Fatal(err)
			}
			if got := encodeBody(req, res); got != string(want) {
				t.Errorf("encodeBody(%T) =\n%s\nwant\n%s", req, got, want)
			}
		}
	}
}
