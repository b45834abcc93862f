package article6

import (
	"fmt"
	"testing"
)

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
