package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/rulebook"
)

func runRulebook(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRulebookCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		return 1
	}
	return 0
}

func TestRulebookCLI(t *testing.T) {
	t.Setenv("CORRIDOR_FORMAT", "text")
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"summary", nil, 0, []string{"jurisdictions", "Subcommands"}},
		{"jurisdictions", []string{"jurisdictions"}, 0, []string{"CN", "Viet Nam", "Switzerland"}},
		{"instruments of Indonesia", []string{"instruments", "--jurisdiction", "ID"}, 0, []string{"SPE-GRK", "PTBAE-PU"}},
		{"schemes", []string{"schemes"}, 0, []string{"CN-ETS", "5% (confirmed)", "30% (unverified)", "none found"}},
		{"scheme rules", []string{"scheme", "sg-ct"}, 0, []string{"SG-CT.vintage", "S 661/2023", "GLOBAL.idx-stay-on-exchange"}},
		{"recognition matrix", []string{"recognition", "--sector", "cement"}, 0, []string{"none found", "conditions", "SPE-GRK – GS"}},
		{"recognition pair", []string{"recognition", "--sector", "power", "--a", "VCS", "--b", "GS"}, 0, []string{"not recognised (no agreement found)", "CDM-ACM0002"}},
		{"mrv", []string{"mrv", "--sector", "aluminium"}, 0, []string{"Not covered by the pilot", "GWP CF4 6630"}},
		{"eligible", []string{"eligibility", "--instrument", "CCER", "--host", "CN", "--vintage", "2024", "--registered", "2024-06-01", "--scheme", "CN-ETS", "--year", "2025", "--obligation", "12345"}, 0,
			[]string{"ELIGIBLE: CCER in CN-ETS, maximum 617 t", "617.25", "UNVERIFIED", "Art. 29"}},
		{"CCER registered before 14 Mar 2017", []string{"eligibility", "--instrument", "CCER", "--host", "CN", "--vintage", "2018", "--registered", "2017-01-05", "--scheme", "CN-ETS", "--year", "2025", "--obligation", "12345"}, exitRejected,
			[]string{"NOT ELIGIBLE", "CN-ETS.pre-2017-ccer", "Registered on 2017-01-05, before 2017-03-14"}},
		{"CCER without registration date", []string{"eligibility", "--instrument", "CCER", "--host", "CN", "--vintage", "2024", "--scheme", "CN-ETS", "--year", "2025", "--obligation", "12345"}, exitUsage, nil},
		{"Thai credit before the agreement is operational", []string{"eligibility", "--instrument", "VCU", "--host", "TH", "--vintage", "2023", "--authorised", "--ca", "--scheme", "SG-CT", "--year", "2026", "--date", "2026-03-01", "--obligation", "100000"}, exitRejected,
			[]string{"NOT ELIGIBLE", "operational only from 2026-03-31", "dates judged on 2026-03-01"}},
		{"scheme agreements", []string{"scheme", "SG-CT"}, 0, []string{"TH: signed 2025-08-19, operational from 2026-03-31 [confirmed]", "VN: signed 2025-09-16, operational: no date found [unverified]"}},
		{"not eligible", []string{"eligibility", "--instrument", "VCU", "--host", "TH", "--vintage", "2023", "--scheme", "SG-CT", "--year", "2026", "--obligation", "100000"}, exitRejected,
			[]string{"NOT ELIGIBLE", "SG-CT.authorised-ca"}},
		{"bad obligation", []string{"eligibility", "--instrument", "CCER", "--host", "CN", "--vintage", "2024", "--scheme", "CN-ETS", "--year", "2025", "--obligation", "-1"}, exitUsage, nil},
		{"unknown scheme", []string{"scheme", "EU-ETS"}, exitUsage, nil},
		{"bad sector", []string{"mrv", "--sector", "tourism"}, exitUsage, nil},
		{"bad format", []string{"jurisdictions", "--format", "xml"}, exitUsage, nil},
		{"bad jurisdiction flag", []string{"schemes", "--jurisdiction", "QQ"}, exitUsage, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runRulebook(t, tt.args...)
			if got := exitCode(err); got != tt.code {
				t.Fatalf("exit code %d, want %d (err %v)\n%s", got, tt.code, err, out)
			}
			for _, c := range tt.contains {
				if !strings.Contains(out, c) {
					t.Errorf("output lacks %q:\n%s", c, out)
				}
			}
		})
	}
}

func TestRulebookCLIJSON(t *testing.T) {
	out, err := runRulebook(t, "eligibility", "--format", "json", "--instrument", "JCM-CREDIT", "--host", "TH", "--vintage", "2025",
		"--scheme", "JP-GX-ETS", "--year", "2026", "--obligation", "200001", "--quantity", "50000")
	if err != nil {
		t.Fatal(err)
	}
	var d rulebook.Decision
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if !d.Allowed || d.MaxQuantity != 20000 || d.Granted != 20000 || d.Confirmed {
		t.Errorf("decision %+v", d)
	}
}

// TestRulebookEligibilityNamesFlags: errors and findings name the CLI's
// flags (--obligation, --date), not the API's fields (use.obligation_tonnes,
// use.date).
func TestRulebookEligibilityNamesFlags(t *testing.T) {
	_, err := runRulebook(t, "eligibility", "--instrument", "CCER", "--host", "CN", "--vintage", "2024", "--registered", "2024-06-01",
		"--scheme", "CN-ETS", "--year", "2025", "--obligation", "-40000")
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "--obligation: must be") || strings.Contains(err.Error(), "use.") {
		t.Errorf("bad obligation: %v", err)
	}
	out, err := runRulebook(t, "eligibility", "--instrument", "VCU", "--host", "TH", "--vintage", "2023", "--authorised", "--ca",
		"--scheme", "SG-CT", "--year", "2026", "--obligation", "100000")
	if err != nil && exitCode(err) != exitRejected {
		t.Fatal(err)
	}
	if !strings.Contains(out, "give --date for the day of surrender") || strings.Contains(out, "use.") {
		t.Errorf("findings name API fields:\n%s", out)
	}
}
