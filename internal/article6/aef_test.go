package article6

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func storySubmissions() []Submission {
	return []Submission{
		{Party: "ID", Version: 1, Year: 2026, Date: "2027-04-10", NDCFirstYear: 2021, NDCLastYear: 2030},
		{Party: "CN", Version: 1, Year: 2026, Date: "2027-04-12", NDCFirstYear: 2021, NDCLastYear: 2030},
		{Party: "TH", Version: 1, Year: 2026, Date: "2027-04-14", NDCFirstYear: 2021, NDCLastYear: 2030},
		{Party: "SG", Version: 1, Year: 2026, Date: "2027-04-15", NDCFirstYear: 2021, NDCLastYear: 2030},
	}
}

// TestAEFGolden: the story's AEF tables equal the golden CSVs; every cell
// is filled except those the platform fills. Run with -update to rewrite.
func TestAEFGolden(t *testing.T) {
	l := storyLedger(t)
	for _, sub := range storySubmissions() {
		aef, err := l.BuildAEF(sub)
		if err != nil {
			t.Fatal(err)
		}
		for _, tab := range aef.Tables {
			var buf bytes.Buffer
			if err := tab.WriteCSV(&buf); err != nil {
				t.Fatal(err)
			}
			for _, row := range tab.Rows {
				if len(row) != len(tab.Header) {
					t.Fatalf("%s %s: row has %d cells, header %d", sub.Party, tab.Name, len(row), len(tab.Header))
				}
				for i, c := range row {
					if (c == "") != CARPColumn(tab.Header[i]) {
						t.Errorf("%s %s: column %q holds %q", sub.Party, tab.Name, tab.Header[i], c)
					}
				}
			}
			path := filepath.Join("testdata", fmt.Sprintf("aef-%s-%d-%s.csv", sub.Party, sub.Year, tab.Name))
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s differs from the golden file:\n%s", path, buf.String())
			}
		}
	}
}

// The template's columns as transcribed from AEF_CMA6_second_iteration.csv
// (docs/sources.md), written out again here so that a change to the
// headers in aef.go has to be made twice.
var templateColumns = map[string]string{
	"Submission":         "Party|Version|Reported year|Date of submission|Review status of the initial report|Result of the consistency check of this AEF submission|First year of the NDC implementation period|Last year of the NDC implementation period|Reference to the Article 6 technical expert review report of the initial report",
	"Authorizations":     "Authorization ID|Date of authorization|Cooperative approach ID|Version of the authorization|Authorized quantity|Metric|Applicable GWP value(s)|Applicable non-GHG metric|Sector(s)|Activity type(s)|Purposes for authorization|Authorized Party(ies) ID|Authorized entity(ies) ID|OIMP authorized by the Party|Authorized timeframe|Authorization terms and conditions|Authorization documentation|First transfer definition for OIMP|Additional explanatory information",
	"Actions":            "Action date|Action type|Action subtype|Cooperative approach ID|Authorization ID|First transferring participating Party ID|Party ITMO registry ID|First ID|Last ID|Underlying unit registry ID|First unit ID|Last unit ID|Metric|Applicable GWP value(s)|Applicable non-GHG metric|Quantity (t CO2 eq)|Quantity (in non-GHG metric)|Mitigation type|Vintage|Transferring participating Party ID|Acquiring participating Party ID|Purpose for which the ITMO has been used towards or cancelled for OIMP|Using/cancelling participating Party ID|Using/cancelling authorized entity ID|Calendar year for which the ITMOs are used towards the Party's NDC|Result of the consistency checks|Additional explanatory information",
	"Holdings":           "Cooperative approach ID|Authorization ID|First transferring participating Party ID|Party ITMO registry ID|First ID|Last ID|Underlying unit registry ID|First unit ID|Last unit ID|Metric|Applicable GWP value(s)|Applicable non-GHG metric|Quantity (t CO2 eq)|Quantity (in non-GHG metric)|Mitigation type|Vintage",
	"AuthorizedEntities": "Date of the authorization|Name|Country of incorporation|Identification number|Cooperative approach ID|Conditions|Change and revocation conditions|Additional explanatory information",
}

// Controlled values of the nomenclature (tables 25(b), 26(b), 16(b),
// 22(b)) as transcribed; a cell outside them would be refused by the
// platform.
var (
	actionTypes    = []string{"Authorization", "First transfer", "Transfer", "Acquisition", "Use", "Cancellation", "Voluntary Cancellation"}
	actionSubtypes = []string{"First transfer to another Party", "Authorization", "Issuance", "Use or cancellation", "Mandatory cancellation to deliver OMGE", "Voluntary cancellation to deliver OMGE", "Other cancellations", "Not yet defined", "NA"}
	purposeValues  = []string{"NDC", "OIMP", "IMP", "OP", "NDC and OIMP", "NDC and IMP", "NDC and OP"}
	ftdValues      = []string{"Authorisation", "Issuance", "Use or Cancellation", "NA"}
)

// TestAEFFollowsTemplate checks the tables against the template and its
// footnotes: column lists, Party codes in alpha-3, registry ids, dd/mm/yyyy
// dates, controlled values, and which columns apply to which action type.
func TestAEFFollowsTemplate(t *testing.T) {
	l := storyLedger(t)
	party := regexp.MustCompile(`^[A-Z]{3}$`)
	parties := regexp.MustCompile(`^[A-Z]{3}(; [A-Z]{3})*$`)
	registry := regexp.MustCompile(`^[A-Z]{3}[0-9]{2}$`)
	date := regexp.MustCompile(`^[0-3][0-9]/[01][0-9]/20[0-9]{2}$`)
	seen := map[string]bool{}
	for _, sub := range storySubmissions() {
		aef, err := l.BuildAEF(sub)
		if err != nil {
			t.Fatal(err)
		}
		if len(aef.Tables) != 5 {
			t.Fatalf("%d tables", len(aef.Tables))
		}
		for _, tab := range aef.Tables {
			if got := strings.Join(tab.Header, "|"); got != templateColumns[tab.Name] {
				t.Fatalf("%s columns\n got %s\nwant %s", tab.Name, got, templateColumns[tab.Name])
			}
			for _, row := range tab.Rows {
				cell := func(name string) string { return row[slices.Index(tab.Header, name)] }
				check := func(name string, ok bool) {
					if !ok {
						t.Errorf("%s %s: %q = %q in %q", sub.Party, tab.Name, name, cell(name), row)
					}
				}
				for i, h := range tab.Header {
					v := row[i]
					switch {
					case strings.HasSuffix(h, "Party ID") || h == "Party" || h == "Country of incorporation":
						check(h, party.MatchString(v) || v == na)
					case h == "Authorized Party(ies) ID":
						check(h, parties.MatchString(v))
					case h == "Party ITMO registry ID":
						check(h, registry.MatchString(v))
					case strings.HasPrefix(h, "Date") || h == "Action date":
						check(h, date.MatchString(v))
					case h == "Metric":
						check(h, v == "GHG")
					case h == ColFirstID || h == ColLastID:
						_, err := ParseITMOID(v)
						check(h, err == nil)
					}
				}
				switch tab.Name {
				case "Submission":
					check("Party", cell("Party") == partyCode(sub.Party))
				case "Authorizations":
					check("Purposes for authorization", slices.Contains(purposeValues, cell("Purposes for authorization")))
					check("First transfer definition for OIMP", slices.Contains(ftdValues, cell("First transfer definition for OIMP")))
					check("Authorized timeframe", regexp.MustCompile(`^\d{4} - \d{4}$`).MatchString(cell("Authorized timeframe")))
				case "Actions":
					typ := cell(ColActionType)
					seen[typ+"/"+cell(ColActionSubtype)] = true
					check(ColActionType, slices.Contains(actionTypes, typ))
					check(ColActionSubtype, slices.Contains(actionSubtypes, cell(ColActionSubtype)))
					// Transferring Party only for an acquisition; acquiring
					// Party only for a (first) transfer to another Party.
					check(ColTransferringParty, (cell(ColTransferringParty) != na) == (typ == TypeAcquisition))
					check(ColAcquiringParty, cell(ColAcquiringParty) == na || typ == TypeFirstTransfer || typ == TypeTransfer)
					check(ColAcquiringParty, (cell(ColAcquiringParty) != na) == (typ == TypeTransfer || cell(ColActionSubtype) == SubtypeToAnotherParty))
					// The year of use only for use towards the NDC, by the
					// reporting Party.
					if cell(ColYearUsedForNDC) != na {
						check(ColYearUsedForNDC, typ == TypeUse && cell(ColUsingParty) == partyCode(sub.Party))
					}
					check(ColUsingParty, cell(ColUsingParty) == na || typ == TypeUse || typ == TypeCancellation || typ == TypeVoluntaryCancellation)
				}
			}
		}
	}
	// The story produces each of these at least once.
	for _, k := range []string{"First transfer/First transfer to another Party", "First transfer/Mandatory cancellation to deliver OMGE",
		"First transfer/Use or cancellation", "Acquisition/NA", "Use/NA", "Cancellation/Mandatory cancellation to deliver OMGE"} {
		if !seen[k] {
			t.Errorf("no action %s in the story's AEFs; seen %v", k, seen)
		}
	}
}

func TestPartyCode(t *testing.T) {
	for in, want := range map[string]string{"TH": "THA", "ID": "IDN", "CN": "CHN", "SG": "SGP", "MY": "MYS", "JP": "JPN", "CH": "CHE", "VN": "VNM", "EU": "EUE"} {
		if got, ok := PartyCode(in); got != want || !ok {
			t.Errorf("PartyCode(%s) = %s %v, want %s", in, got, ok, want)
		}
	}
	for _, bad := range []string{"XX", "ZZ", "THA", ""} {
		if _, ok := PartyCode(bad); ok {
			t.Errorf("PartyCode(%q) accepted", bad)
		}
	}
	l := storyLedger(t)
	if _, err := l.BuildAEF(Submission{Party: "XX", Version: 1, Year: 2026}); CodeOf(err) != CodeActionInvalid {
		t.Fatalf("AEF for XX: %v", err)
	}
}

// TestAEFXLSXEqualsCSV: the workbook holds the same cells as the CSV tables
// (excelize drops trailing empty cells when reading, so rows are padded).
func TestAEFXLSXEqualsCSV(t *testing.T) {
	l := storyLedger(t)
	aef, err := l.BuildAEF(Submission{Party: "TH", Version: 1, Year: 2026, Date: "2027-04-14", NDCFirstYear: 2021, NDCLastYear: 2030})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := aef.WriteXLSX(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := len(f.GetSheetList()); got != 5 {
		t.Fatalf("%d sheets, want 5", got)
	}
	for _, tab := range aef.Tables {
		rows, err := f.GetRows(tab.Name)
		if err != nil {
			t.Fatal(err)
		}
		for i := range rows {
			for len(rows[i]) < len(tab.Header) {
				rows[i] = append(rows[i], "")
			}
		}
		want := append([][]string{tab.Header}, tab.Rows...)
		if fmt.Sprintf("%q", rows) != fmt.Sprintf("%q", want) {
			t.Errorf("sheet %s\n got %q\nwant %q", tab.Name, rows, want)
		}
	}
}
