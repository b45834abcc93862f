package article6

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/xuri/excelize/v2"
)

// Table is one AEF table: a header row and data rows, all text.
type Table struct {
	Name   string     `json:"name"`
	Header []string   `json:"header"`
	Rows   [][]string `json:"rows"`
}

// AEF is a Party's agreed electronic format report for one year: five
// tables (decision 4/CMA.6, annex II [recall]). The columns follow the
// field lists of CAD Trust's AEF API (RPC API v2), which implements the
// CMA.6 template; we did not compare them with the official spreadsheet,
// so they are marked unverified in docs/article6.md. Holdings carry one
// extra leading column, Snapshot, because the template reports holdings at
// the start and at the end of the year.
type AEF struct {
	Party  string  `json:"party"`
	Year   int     `json:"year"`
	Tables []Table `json:"tables"`
}

// Column headers of the five tables.
var (
	headerSubmission     = []string{"Party", "Version", "ReportYear", "SubmissionDate", "ReviewStatus", "ResultCheck", "NdcFirstYear", "NdcLastYear", "ReferenceReviewReport"}
	headerAuthorizations = []string{"Id", "Date", "CooperativeApproachId", "AuthorizedPartyId", "Version", "Quantity", "Metric", "GwpValue", "ApplicableNonGhgMetric", "Sector", "ActivityType", "PurposesForAuthorization", "AuthorizedEntityId", "OimpAuthorizedParty", "AuthorizedTimeframe", "AuthorizationTerms", "AuthorizationDocumentation", "FirstTransferDefinitionOimp", "AdditionalInformation"}
	headerActions        = []string{"Date", "CooperativeApproachId", "AuthorizationId", "FirstTransferringPartyId", "PartyItmoRegistryId", "ItmoFirstId", "ItmoLastId", "UnitRegistryId", "UnitFirstId", "UnitLastId", "QuantityTCo2", "VintageYear", "TransferringPartyId", "AcquiringPartyId", "Type", "Subtype", "Metric", "GwpValue", "ApplicableNonGhgMetric", "QuantityNonGhg", "MitigationType", "PurposeOfUseOimp", "UsingParticipatingPartyId", "UsingAuthorizedEntityId", "ItmoUsedYear", "ConsistencyCheckResult", "AdditionalInformation"}
	headerHoldings       = []string{"Snapshot", "CooperativeApproachId", "AuthorizationId", "FirstTransferringPartyId", "PartyItmoRegistryId", "ItmoFirstId", "ItmoLastId", "UnitRegistryId", "UnitFirstId", "UnitLastId", "QuantityTCo2", "VintageYear", "Metric", "GwpValue", "ApplicableNonGhgMetric", "QuantityNonGhg", "MitigationType"}
	headerEntities       = []string{"AuthorizationDate", "Name", "Id", "CooperativeApproachId", "IncorporationCountry", "Conditions", "ChangeConditions", "AdditionalInformation"}
)

// Fixed cell texts. Metric and GWP: ITMOs here are in t CO2 eq with the
// 100-year GWPs of the IPCC AR5, as Parties report under decision 18/CMA.1,
// annex, para. 37 [recall]; a non-GHG metric never applies to corridor units.
const (
	na          = "not applicable"
	metric      = "t CO2 eq"
	gwp         = "AR5 GWP-100"
	carpPending = "pending (set by the Article 6 database)"
)

// BuildAEF assembles the AEF of sub.Party for sub.Year from the ledger.
func (l *Ledger) BuildAEF(sub Submission) (AEF, error) {
	p, y := sub.Party, sub.Year
	if !validParty(p) || y < 2021 {
		return AEF{}, refuse(CodeActionInvalid, "party", "AEF needs a Party code and a year from 2021, not %q %d", p, y)
	}
	reg := l.cfg.Registries[p]
	out := AEF{Party: p, Year: y}
	submitted := "not submitted"
	if validDate(sub.Date) {
		submitted = sub.Date
	}
	out.Tables = append(out.Tables, Table{Name: "Submission", Header: headerSubmission, Rows: [][]string{{
		p, strconv.Itoa(sub.Version), strconv.Itoa(y), submitted, "not yet reviewed", carpPending,
		strconv.Itoa(sub.NDCFirstYear), strconv.Itoa(sub.NDCLastYear), "none yet"}}})

	auths := Table{Name: "Authorizations", Header: headerAuthorizations}
	ents := Table{Name: "AuthorizedEntities", Header: headerEntities}
	for _, ev := range l.log.events {
		if year(ev.Date) != y {
			continue
		}
		a, info := ev.Authorisation, ""
		if ev.Kind == EventRevoke {
			a, _ = l.log.Current(ev.ID)
			info = fmt.Sprintf("revoked on %s: %s; units first-transferred before stay ITMOs", ev.Date, ev.Reason)
		}
		if a.Host != p {
			continue
		}
		acq := "any participant of " + a.Approach
		if len(a.AcquiringParties) > 0 {
			acq = strings.Join(a.AcquiringParties, ";")
		}
		entIDs := na
		if len(a.Entities) > 0 {
			ids := make([]string, len(a.Entities))
			for i, e := range a.Entities {
				ids[i] = e.ID
			}
			entIDs = strings.Join(ids, ";")
		}
		purposes := make([]string, len(a.Purposes))
		for i, pu := range a.Purposes {
			purposes[i] = string(pu)
		}
		oimp, ftd := na, na
		if a.hasOIMPDefinition() {
			oimp, ftd = cmpOr(a.OIMPUse, "not stated"), string(a.FirstTransferOIMP)
		}
		if info == "" {
			info = fmt.Sprintf("%s; activities %s; vintages %d-%d", ev.Kind, strings.Join(a.Activities, ";"), a.VintageFrom, a.VintageTo)
		}
		auths.Rows = append(auths.Rows, []string{a.ID, ev.Date, a.Approach, acq, strconv.Itoa(a.Version), strconv.FormatInt(a.Quantity, 10),
			metric, gwp, na, cmpOr(a.Sector, "not stated"), cmpOr(a.ActivityType, "not stated"), strings.Join(purposes, ";"), entIDs, oimp,
			a.From + "/" + a.Until, cmpOr(a.Terms, "none"), carpPending, ftd, info})
		if ev.Kind == EventRevoke {
			continue
		}
		for _, e := range a.Entities {
			change := "none"
			if a.Version > 1 {
				change = fmt.Sprintf("as of version %d", a.Version)
			}
			ents.Rows = append(ents.Rows, []string{ev.Date, e.Name, e.ID, a.Approach, e.Country, cmpOr(e.Conditions, "none"), change, "authorisation " + a.ID})
		}
	}
	out.Tables = append(out.Tables, auths)

	acts := Table{Name: "Actions", Header: headerActions}
	for _, r := range l.st.records {
		if !r.ITMO || year(r.Date) != y || !involves(r, p) {
			continue
		}
		a, _ := l.log.Current(r.Authorisation)
		first, last := ITMORange(r.Approach, r.FirstTransferringParty, r.Units)
		oimpUse, usedYear := na, na
		if r.Type == RecordUse {
			usedYear = strconv.Itoa(year(r.Date))
			if r.Purpose == PurposeOIMP {
				oimpUse = cmpOr(a.OIMPUse, "not stated")
			}
		}
		acts.Rows = append(acts.Rows, []string{r.Date, r.Approach, r.Authorisation, r.FirstTransferringParty, reg,
			first.String(), last.String(), r.Units.Registry, unitSerial(r.Units, r.Units.Start), unitSerial(r.Units, r.Units.End),
			strconv.FormatInt(r.Quantity(), 10), strconv.Itoa(r.Units.Vintage), cmpOr(r.TransferringParty, na), cmpOr(r.AcquiringParty, na),
			string(r.Type), cmpOr(r.Subtype, na), metric, gwp, na, na, cmpOr(a.MitigationType, "not stated"), oimpUse,
			cmpOr(r.UsingParty, na), cmpOr(r.UsingEntity, na), usedYear, carpPending, fmt.Sprintf("record %d; units %s", r.Seq, r.Units)})
	}
	out.Tables = append(out.Tables, acts)

	hold := Table{Name: "Holdings", Header: headerHoldings}
	for _, snap := range []struct{ label, before string }{
		{fmt.Sprintf("start %d-01-01", y), fmt.Sprintf("%d-01-01", y)},
		{fmt.Sprintf("end %d-12-31", y), fmt.Sprintf("%d-01-01", y+1)},
	} {
		for _, h := range l.holdings(p, snap.before) {
			a, _ := l.log.Current(h.Authorisation)
			first, last := ITMORange(h.Approach, h.FirstTransferringParty, h.Units)
			hold.Rows = append(hold.Rows, []string{snap.label, h.Approach, h.Authorisation, h.FirstTransferringParty, reg,
				first.String(), last.String(), h.Units.Registry, unitSerial(h.Units, h.Units.Start), unitSerial(h.Units, h.Units.End),
				strconv.FormatInt(h.Units.Count(), 10), strconv.Itoa(h.Units.Vintage), metric, gwp, na, na, cmpOr(a.MitigationType, "not stated")})
		}
	}
	out.Tables = append(out.Tables, hold, ents)
	return out, nil
}

// involves reports whether Party p reports record r: as first transferring
// Party of a first transfer, as transferring or acquiring Party, or as the
// Party in whose registry a use or cancellation is recorded.
func involves(r Record, p string) bool {
	switch r.Type {
	case RecordFirstTransfer:
		return r.FirstTransferringParty == p || r.AcquiringParty == p
	case RecordTransfer:
		return r.TransferringParty == p || r.AcquiringParty == p
	case RecordUse, RecordCancellation:
		return r.Holder == p || r.UsingParty == p
	}
	return false
}

// holdings replays the records dated before `before` and returns the ITMO
// blocks then held, not used or cancelled, in p's registry. Each returned
// record carries the block in Units.
func (l *Ledger) holdings(p, before string) []Record {
	type seg struct {
		start, end int64
		rec        int
	}
	segs := map[issKey][]seg{}
	var keys []issKey
	for i, r := range l.st.records {
		if r.Date >= before {
			break
		}
		k := issKey{r.Units.Registry, r.Units.Issuance}
		if _, ok := segs[k]; !ok {
			keys = append(keys, k)
		}
		var next []seg
		for _, s := range segs[k] {
			if s.end < r.Units.Start || s.start > r.Units.End {
				next = append(next, s)
				continue
			}
			if s.start < r.Units.Start {
				next = append(next, seg{s.start, r.Units.Start - 1, s.rec})
			}
			if s.end > r.Units.End {
				next = append(next, seg{r.Units.End + 1, s.end, s.rec})
			}
		}
		next = append(next, seg{r.Units.Start, r.Units.End, i})
		slices.SortFunc(next, func(a, b seg) int { return int(a.start - b.start) })
		segs[k] = next
	}
	var out []Record
	for _, k := range keys {
		for _, s := range segs[k] {
			r := l.st.records[s.rec]
			if !r.ITMO || r.Status != StatusHeld || r.Holder != p {
				continue
			}
			r.Units.Start, r.Units.End = s.start, s.end
			out = append(out, r)
		}
	}
	return out
}

// Table returns the table called name ("Submission", "Authorizations",
// "Actions", "Holdings", "AuthorizedEntities").
func (a AEF) Table(name string) (Table, bool) {
	for _, t := range a.Tables {
		if strings.EqualFold(t.Name, name) {
			return t, true
		}
	}
	return Table{}, false
}

// WriteCSV writes the table with its header row.
func (t Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Header); err != nil {
		return fmt.Errorf("article6: writing %s CSV: %w", t.Name, err)
	}
	if err := cw.WriteAll(t.Rows); err != nil {
		return fmt.Errorf("article6: writing %s CSV: %w", t.Name, err)
	}
	return nil
}

// WriteXLSX writes the five tables as the sheets of one workbook, every
// cell as text so that identifiers and quantities keep their exact form.
func (a AEF) WriteXLSX(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	for i, t := range a.Tables {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", t.Name); err != nil {
				return fmt.Errorf("article6: naming sheet %s: %w", t.Name, err)
			}
		} else if _, err := f.NewSheet(t.Name); err != nil {
			return fmt.Errorf("article6: adding sheet %s: %w", t.Name, err)
		}
		for r, row := range append([][]string{t.Header}, t.Rows...) {
			for c, v := range row {
				cell, err := excelize.CoordinatesToCellName(c+1, r+1)
				if err != nil {
					return fmt.Errorf("article6: sheet %s: %w", t.Name, err)
				}
				if err := f.SetCellStr(t.Name, cell, v); err != nil {
					return fmt.Errorf("article6: sheet %s cell %s: %w", t.Name, cell, err)
				}
			}
		}
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("article6: writing AEF workbook: %w", err)
	}
	return nil
}

// CADTrust is the pair of CAD Trust unit fields the accounting decides
// (values as in Chia-Network/cadt).
type CADTrust struct {
	Units       ledger.Serial
	Declaration string // Committed, Not Required, Unknown
	Status      string // Not Started, Pending, Completed
}

// CADTrust computes correspondingAdjustmentDeclaration and
// correspondingAdjustmentStatus for every block: an authorisation standing
// (or units already first-transferred) commits the host to a corresponding
// adjustment; a revoked authorisation no longer does for units not yet
// first-transferred. The adjustment is Pending from first transfer until the
// host's AEF for the vintage year is submitted, then Completed.
func (l *Ledger) CADTrust() []CADTrust {
	var out []CADTrust
	for _, b := range l.st.Blocks() {
		c := CADTrust{Units: b.Units, Declaration: "Committed", Status: "Not Started"}
		switch {
		case b.FirstTransfer != 0 && l.submitted(b.Host, b.Units.Vintage):
			c.Status = "Completed"
		case b.FirstTransfer != 0:
			c.Status = "Pending"
		case l.log.Revoked(b.Authorisation) != "":
			c.Declaration = "Not Required"
		}
		out = append(out, c)
	}
	return out
}
