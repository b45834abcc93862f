package registry

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

// TestIssuanceFactsStandInTheEmbeddingObject: Issue and OriginIssuance
// embed IssuanceFacts, and neither the wire form, nor the text limits, nor
// the field a refusal names shows the embedded struct.
func TestIssuanceFactsStandInTheEmbeddingObject(t *testing.T) {
	facts := IssuanceFacts{Standard: "CCER", UnitType: "CCER", Project: "P-1", ProjectName: "Name", Methodology: "M",
		HostCountry: "CN", Vintage: 2024, Quantity: 10}
	for _, c := range []struct {
		v    any
		want string
	}{
		{Issue{IssuanceFacts: facts, AccountID: 3},
			`{"standard":"CCER","unit_type":"CCER","project":"P-1","project_name":"Name","methodology":"M","host_country":"CN","vintage":2024,"quantity":10,"account_id":3}`},
		{OriginIssuance{Origin: Origin{Registry: "CN", Issuance: 7}, IssuanceFacts: facts},
			`{"registry":"CN","issuance_id":7,"standard":"CCER","unit_type":"CCER","project":"P-1","project_name":"Name","methodology":"M","host_country":"CN","vintage":2024,"quantity":10}`},
	} {
		got, err := json.Marshal(c.v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("%T encodes as\n%s, want\n%s", c.v, got, c.want)
		}
	}

	limits, err := TextLimits(reflect.TypeFor[IssueAuthorised]())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"issue.standard", "issue.unit_type", "issue.project", "issue.project_name", "issue.methodology", "issue.host_country"} {
		if limits[f] == 0 {
			t.Errorf("TextLimits(IssueAuthorised) has no %s: %v", f, slices.Sorted(maps.Keys(limits)))
		}
	}

	long := Issue{IssuanceFacts: facts, AccountID: 3}
	long.ProjectName = strings.Repeat("x", 201)
	var le *ledger.Error
	if err := CheckRequestText(IssueAuthorised{Issue: long}); !errors.As(err, &le) || le.Field != "issue.project_name" {
		t.Errorf("a 201-character project name: %v, want a refusal naming issue.project_name", err)
	}
}
