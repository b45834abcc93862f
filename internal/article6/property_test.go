package article6

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

// TestPropertyFirstTransferOnce: over random authorisations, issuances,
// transfers, uses, cancellations, amendments and revocations, each ITMO is
// first-transferred at most once, each first transfer has exactly one
// corresponding adjustment (and every adjustment has its record), a refused
// action changes nothing, units are conserved per issuance, and the sum of
// adjustments per Party equals what that Party's AEF tables report.
func TestPropertyFirstTransferOnce(t *testing.T) {
	seen := map[string]int{}
	defer func() {
		t.Logf("outcomes over all runs: %v", seen)
		// The generator must reach the interesting paths, or the property
		// proves nothing.
		for _, k := range []string{"ok " + string(RecordFirstTransfer), "ok " + string(RecordUse), "ok " + string(RecordTransfer),
			"ok " + string(RecordCancellation), string(CodeDoubleFirst), string(CodeRevoked), string(CodeMissingDeduction), string(CodeFirstMismatch)} {
			if seen[k] == 0 {
				t.Errorf("no run reached %q: %v", k, seen)
			}
		}
	}()
	rapid.Check(t, func(t *rapid.T) {
		l := NewLedger(testConfig(t))
		templates := []func() Authorisation{thICCAuth, thCORSIAAuth, thJCMAuth, idSolarAuth,
			func() Authorisation {
				a := thCORSIAAuth()
				a.ID, a.FirstTransferOIMP, a.Activities = "TH-A6-OIMP-ISS", FirstAtIssuance, []string{"TH-TVER-EBUS-3"}
				return a
			}}
		date := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		day := func() string { return date.Format(time.DateOnly) }
		var auths []Authorisation
		for i, f := range templates {
			if rapid.Bool().Draw(t, "use-template-"+strconv.Itoa(i)) || i == 0 {
				a := f()
				a.Quantity = rapid.Int64Range(100, 3000).Draw(t, "quantity")
				if err := l.Record(AuthEvent{Kind: EventAuthorise, Date: day(), Authorisation: a}); err != nil {
					t.Fatal(err)
				}
				auths = append(auths, a)
			}
		}
		gross := map[issKey]int64{}
		nextIss := int64(1)
		parties := []string{"TH", "SG", "JP", "CN", "ID"}
		steps := rapid.IntRange(1, 40).Draw(t, "steps")
		for s := 0; s < steps; s++ {
			date = date.AddDate(0, 0, rapid.IntRange(0, 30).Draw(t, "days"))
			blocks := l.State().Blocks()
			var a Action
			switch op := rapid.IntRange(0, 6).Draw(t, "op"); {
			case op == 0 || len(blocks) == 0:
				au := auths[rapid.IntRange(0, len(auths)-1).Draw(t, "auth")]
				n := rapid.Int64Range(1, 400).Draw(t, "n")
				reg := l.Config().Registries[au.Host]
				a = Action{Kind: ActionIssue, Date: day(), Authorisation: au.ID,
					Units: ledger.Serial{Registry: reg, UnitType: "UNIT", Project: au.Activities[0], Vintage: rapid.IntRange(2024, 2027).Draw(t, "vintage"), Issuance: nextIss, Start: 1, End: n}}
				if au.Approach == "JP-TH-JCM" && rapid.Bool().Draw(t, "coordinated") {
					a.IssueTo, a.Units.Registry = "JP", l.Config().Registries["JP"]
				}
				if au.Host == "ID" {
					a.Investor, a.InvestorFraction = "CN", decimal.NewFromInt(rapid.Int64Range(0, 10).Draw(t, "tenths")).Div(decimal.NewFromInt(10))
				}
				// Split fails only for issuances too small for the
				// deductions; the hub must then refuse the issuance.
				if sh, err := Split(l.Config().Approaches[au.Approach], n, a.InvestorFraction); err == nil {
					a.OMGE, a.ShareOfProceeds = sh.OMGE, sh.ShareOfProceeds
				}
				if rapid.IntRange(0, 9).Draw(t, "wrong-deduction") == 0 {
					a.OMGE--
				}
			case op == 5:
				au := auths[rapid.IntRange(0, len(auths)-1).Draw(t, "revoke")]
				_ = l.Record(AuthEvent{Kind: EventRevoke, Date: day(), ID: au.ID, Reason: "property test"})
				continue
			case op == 6:
				au := auths[rapid.IntRange(0, len(auths)-1).Draw(t, "amend")]
				cur, _ := l.Log().Current(au.ID)
				cur.Version++
				cur.Quantity += rapid.Int64Range(-200, 200).Draw(t, "delta")
				_ = l.Record(AuthEvent{Kind: EventAmend, Date: day(), Authorisation: cur})
				continue
			default:
				b := blocks[rapid.IntRange(0, len(blocks)-1).Draw(t, "block")]
				u := b.Units
				u.Start = rapid.Int64Range(b.Units.Start, b.Units.End).Draw(t, "start")
				u.End = rapid.Int64Range(u.Start, b.Units.End).Draw(t, "end")
				a = Action{Date: day(), Units: u}
				switch op {
				case 1, 2:
					a.Kind, a.From, a.To = ActionTransfer, b.Holder, rapid.SampledFrom(parties).Draw(t, "to")
				case 3:
					a.Kind, a.Purpose = ActionUse, rapid.SampledFrom([]Purpose{PurposeNDC, PurposeOIMP}).Draw(t, "purpose")
					if a.Purpose == PurposeNDC {
						a.UsingParty = b.Holder
					} else {
						a.UsingEntity = "ICAO-AO-XYZ"
					}
				case 4:
					a.Kind = ActionCancel
				}
				// The sender states whether this is a first transfer; try
				// the hub's answer half of the time, a guess otherwise.
				a.FirstTransfer = rapid.Bool().Draw(t, "claim")
				if rapid.Bool().Draw(t, "ask") && CodeOf(l.Check(a)) == CodeFirstMismatch {
					a.FirstTransfer = !a.FirstTransfer
				}
			}
			before := fmt.Sprint(l.State().Blocks(), len(l.State().Records()), len(l.State().Adjustments()))
			recs, err := l.Apply(a)
			for _, r := range recs {
				seen["ok "+string(r.Type)]++
			}
			if err != nil {
				seen[string(CodeOf(err))]++
				if CodeOf(err) == "" {
					t.Fatalf("unclassified error: %v", err)
				}
				if after := fmt.Sprint(l.State().Blocks(), len(l.State().Records()), len(l.State().Adjustments())); after != before {
					t.Fatalf("refused action %+v changed the state", a)
				}
				continue
			}
			if a.Kind == ActionIssue {
				gross[issKey{a.Units.Registry, a.Units.Issuance}] = a.Units.End
				nextIss++
			}
			checkInvariants(t, l, gross)
		}
	})
}

func checkInvariants(t *rapid.T, l *Ledger, gross map[issKey]int64) {
	st := l.State()
	// Conservation: the blocks of each issuance partition [1, gross].
	sum := map[issKey]int64{}
	for _, b := range st.Blocks() {
		sum[issKey{b.Units.Registry, b.Units.Issuance}] += b.Units.Count()
	}
	for k, g := range gross {
		if sum[k] != g {
			t.Fatalf("issuance %v: blocks hold %d of %d units", k, sum[k], g)
		}
	}
	// At most one first transfer per unit.
	ft := map[issKey][][2]int64{}
	bySeq := map[int]Record{}
	for _, r := range st.Records() {
		bySeq[r.Seq] = r
		if r.Type == RecordFirstTransfer {
			k := issKey{r.Units.Registry, r.Units.Issuance}
			ft[k] = append(ft[k], [2]int64{r.Units.Start, r.Units.End})
		}
	}
	for k, rs := range ft {
		slices.SortFunc(rs, func(a, b [2]int64) int { return int(a[0] - b[0]) })
		for i := 1; i < len(rs); i++ {
			if rs[i][0] <= rs[i-1][1] {
				t.Fatalf("issuance %v: units %v and %v first-transferred twice", k, rs[i-1], rs[i])
			}
		}
	}
	// Exactly one adjustment per first transfer, one per NDC use of ITMOs.
	adjFor := map[int]int{}
	for _, a := range st.Adjustments() {
		r, ok := bySeq[a.Record]
		if !ok {
			t.Fatalf("adjustment %+v has no record", a)
		}
		adjFor[a.Record]++
		switch {
		case a.Quantity > 0 && (r.Type != RecordFirstTransfer || a.Party != r.FirstTransferringParty || a.Quantity != r.Quantity()):
			t.Fatalf("positive adjustment %+v does not match its record %+v", a, r)
		case a.Quantity < 0 && (r.Type != RecordUse || r.Purpose != PurposeNDC || a.Party != r.UsingParty || -a.Quantity != r.Quantity()):
			t.Fatalf("negative adjustment %+v does not match its record %+v", a, r)
		}
	}
	for _, r := range st.Records() {
		want := 0
		if r.Type == RecordFirstTransfer || r.Type == RecordUse && r.Purpose == PurposeNDC && r.ITMO {
			want = 1
		}
		if adjFor[r.Seq] != want {
			t.Fatalf("record %+v has %d adjustments, want %d", r, adjFor[r.Seq], want)
		}
	}
	// The AEF reports the same adjustments.
	total := map[string]int64{}
	for _, a := range st.Adjustments() {
		total[a.Party] += a.Quantity
	}
	for _, p := range []string{"TH", "SG", "JP", "CN", "ID"} {
		var reported int64
		for y := 2026; y <= 2029; y++ {
			aef, err := l.BuildAEF(Submission{Party: p, Version: 1, Year: y, NDCFirstYear: 2021, NDCLastYear: 2030})
			if err != nil {
				t.Fatal(err)
			}
			acts, _ := aef.Table("Actions")
			col := func(row []string, name string) string { return row[slices.Index(acts.Header, name)] }
			for _, row := range acts.Rows {
				q, _ := strconv.ParseInt(col(row, ColQuantity), 10, 64)
				switch {
				case col(row, ColActionType) == TypeFirstTransfer && col(row, ColFirstTransferringParty) == partyCode(p):
					reported += q
				case col(row, ColActionType) == TypeUse && col(row, ColYearUsedForNDC) != na && col(row, ColUsingParty) == partyCode(p):
					reported -= q
				}
			}
		}
		if reported != total[p] {
			t.Fatalf("%s: adjustments sum to %d, its AEF reports %d", p, total[p], reported)
		}
	}
}
