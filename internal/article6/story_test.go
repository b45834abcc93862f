package article6

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestStoryAdjustments(t *testing.T) {
	l := storyLedger(t)
	got := map[string]int64{}
	for _, a := range l.State().Adjustments() {
		got[fmt.Sprintf("%s/%d", a.Party, a.Year)] += a.Quantity
	}
	// Worked by hand from the comments in storyLedger.
	want := map[string]int64{
		"ID/2025": 200 + 5580,         // OMGE, investor share first-transferred to China
		"CN/2026": -(8000 - 4421 + 1), // China uses 3,580 t towards its NDC
		"TH/2025": 407 + 10_000,       // OMGE, first transfer to Singapore
		"SG/2026": -2000,              // ICC surrender
		"TH/2026": 20 + 100,           // CORSIA issuance OMGE, first transfer at use
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("adjustments\n got %v\nwant %v", got, want)
	}
}

func TestAEFGolden(t *testing.T) {
	l := storyLedger(t)
	for _, sub := range []Submission{
		{Party: "ID", Version: 1, Year: 2026, Date: "2027-04-10", NDCFirstYear: 2021, NDCLastYear: 2030},
		{Party: "CN", Version: 1, Year: 2026, Date: "2027-04-12", NDCFirstYear: 2021, NDCLastYear: 2030},
		{Party: "TH", Version: 1, Year: 2026, Date: "2027-04-14", NDCFirstYear: 2021, NDCLastYear: 2030},
		{Party: "SG", Version: 1, Year: 2026, Date: "2027-04-15", NDCFirstYear: 2021, NDCLastYear: 2030},
	} {
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
					if c == "" {
						t.Errorf("%s %s: column %s is empty", sub.Party, tab.Name, tab.Header[i])
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
		want := append([][]string{tab.Header}, tab.Rows...)
		if fmt.Sprintf("%q", rows) != fmt.Sprintf("%q", want) {
			t.Errorf("sheet %s\n got %q\nwant %q", tab.Name, rows, want)
		}
	}
}

func TestCADTrustComputed(t *testing.T) {
	l := storyLedger(t)
	count := func() map[string]int64 {
		m := map[string]int64{}
		for _, c := range l.CADTrust() {
			m[c.Units.Registry+" "+c.Declaration+"/"+c.Status] += c.Units.Count()
		}
		return m
	}
	got := count()
	// SRUK: 200 OMGE + 5,580 investor first-transferred, 4,220 not.
	// TGO issuance 7: 407 + 10,000 first-transferred of 20,301; issuance 8:
	// 20 + 100 of 1,000.
	want := map[string]int64{"SRUK Committed/Pending": 5780, "SRUK Committed/Not Started": 4220,
		"TGO Committed/Pending": 10_527, "TGO Committed/Not Started": 20_301 + 1000 - 10_527}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("before submission\n got %v\nwant %v", got, want)
	}
	if err := l.Submit(Submission{Party: "TH", Version: 1, Year: 2025, Date: "2026-04-15", NDCFirstYear: 2021, NDCLastYear: 2030}); err != nil {
		t.Fatal(err)
	}
	if err := l.Record(AuthEvent{Kind: EventRevoke, Date: "2026-12-01", ID: "ID-A6-2026-001", Reason: "project deregistered"}); err != nil {
		t.Fatal(err)
	}
	got = count()
	want = map[string]int64{"SRUK Committed/Pending": 5780, "SRUK Not Required/Not Started": 4220,
		"TGO Committed/Completed": 10_407, "TGO Committed/Pending": 120, "TGO Committed/Not Started": 20_301 + 1000 - 10_527}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after TH's 2025 AEF and ID's revocation\n got %v\nwant %v", got, want)
	}
}
