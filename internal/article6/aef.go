package article6

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/language"
)

// Table is one AEF table: a header row and data rows, all text.
type Table struct {
	Name   string     `json:"name"`
	Header []string   `json:"header"`
	Rows   [][]string `json:"rows"`
}

// AEF is a Party's agreed electronic format report for one year: the five
// tables of the updated AEF (decision 4/CMA.6, annex II, as transcribed in
// docs/sources.md "AEF template and common nomenclatures"; the decision
// text itself was not read). Column labels, their order and the cell codes
// follow that transcription of the UNFCCC file AEF_CMA6_second_iteration.csv
// and of the "List of common nomenclatures under Article 6, paragraph 2"
// of 17 February 2026 (status: secondary, unverified against the UNFCCC
// originals). Where Corridor cannot yet fill a cell in the official form it
// says so in docs/article6.md ("AEF: where we differ from the template").
type AEF struct {
	Party  string  `json:"party"`
	Year   int     `json:"year"`
	Tables []Table `json:"tables"`
}

// Column labels used by readers of the tables; the full lists are below.
const (
	ColActionType             = "Action type"
	ColActionSubtype          = "Action subtype"
	ColFirstTransferringParty = "First transferring participating Party ID"
	ColTransferringParty      = "Transferring participating Party ID"
	ColAcquiringParty         = "Acquiring participating Party ID"
	ColQuantity               = "Quantity (t CO2 eq)"
	ColUsingParty             = "Using/cancelling participating Party ID"
	ColUsingEntity            = "Using/cancelling authorized entity ID"
	ColYearUsedForNDC         = "Calendar year for which the ITMOs are used towards the Party's NDC"
	ColFirstID                = "First ID"
	ColLastID                 = "Last ID"
)

// Column headers of the five tables, in the template's order. Table 1 has
// 9 columns, table 2 19, table 3 27, table 4 16 and table 5 8.
var (
	headerSubmission = []string{"Party", "Version", "Reported year", "Date of submission",
		"Review status of the initial report", "Result of the consistency check of this AEF submission",
		"First year of the NDC implementation period", "Last year of the NDC implementation period",
		"Reference to the Article 6 technical expert review report of the initial report"}
	headerAuthorizations = []string{"Authorization ID", "Date of authorization", "Cooperative approach ID",
		"Version of the authorization", "Authorized quantity", "Metric", "Applicable GWP value(s)",
		"Applicable non-GHG metric", "Sector(s)", "Activity type(s)", "Purposes for authorization",
		"Authorized Party(ies) ID", "Authorized entity(ies) ID", "OIMP authorized by the Party",
		"Authorized timeframe", "Authorization terms and conditions", "Authorization documentation",
		"First transfer definition for OIMP", "Additional explanatory information"}
	headerActions = []string{"Action date", ColActionType, ColActionSubtype, "Cooperative approach ID",
		"Authorization ID", ColFirstTransferringParty, "Party ITMO registry ID", ColFirstID, ColLastID,
		"Underlying unit registry ID", "First unit ID", "Last unit ID", "Metric", "Applicable GWP value(s)",
		"Applicable non-GHG metric", ColQuantity, "Quantity (in non-GHG metric)", "Mitigation type", "Vintage",
		ColTransferringParty, ColAcquiringParty,
		"Purpose for which the ITMO has been used towards or cancelled for OIMP", ColUsingParty, ColUsingEntity,
		ColYearUsedForNDC, "Result of the consistency checks", "Additional explanatory information"}
	headerHoldings = []string{"Cooperative approach ID", "Authorization ID", ColFirstTransferringParty,
		"Party ITMO registry ID", ColFirstID, ColLastID, "Underlying unit registry ID", "First unit ID",
		"Last unit ID", "Metric", "Applicable GWP value(s)", "Applicable non-GHG metric", ColQuantity,
		"Quantity (in non-GHG metric)", "Mitigation type", "Vintage"}
	headerEntities = []string{"Date of the authorization", "Name", "Country of incorporation",
		"Identification number", "Cooperative approach ID", "Conditions", "Change and revocation conditions",
		"Additional explanatory information"}
)

// carpColumns are the columns the centralized accounting and reporting
// platform fills (template footnotes: review status, consistency checks,
// review report, authorization documentation). A Party leaves them empty.
var carpColumns = map[string]bool{
	"Review status of the initial report":                                             true,
	"Result of the consistency check of this AEF submission":                          true,
	"Reference to the Article 6 technical expert review report of the initial report": true,
	"Authorization documentation":                                                     true,
	"Result of the consistency checks":                                                true,
}

// CARPColumn reports whether the platform, not the Party, fills column
// header; such cells are empty in a Party's AEF.
func CARPColumn(header string) bool { return carpColumns[header] }

// Action types (nomenclature table 25(b)) and subtypes (table 26(b)) that
// Corridor's records produce.
const (
	TypeFirstTransfer         = "First transfer"
	TypeTransfer              = "Transfer"
	TypeAcquisition           = "Acquisition"
	TypeUse                   = "Use"
	TypeCancellation          = "Cancellation"
	TypeVoluntaryCancellation = "Voluntary Cancellation"

	SubtypeToAnotherParty = "First transfer to another Party"
	SubtypeAuthorization  = "Authorization"
	SubtypeIssuance       = "Issuance"
	SubtypeUseOrCancel    = "Use or cancellation"
	SubtypeOMGE           = "Mandatory cancellation to deliver OMGE"
	SubtypeOther          = "Other cancellations"
)

// Fixed cell texts. "NA" is the template's "Not applicable (NA)". Metric:
// corridor ITMOs are in a GHG metric (t CO2 eq), so the non-GHG columns are
// NA. GWP: the 100-year GWPs of the IPCC AR5, which Parties use under
// decision 18/CMA.1, annex, para. 37 [unverified: paragraph not read].
const (
	na     = "NA"
	metric = "GHG"
	gwp    = "AR5 GWP-100"
)

// PartyCode is the AEF form of a Party: ISO 3166-1 alpha-3 ("THA"), or the
// reserved code EUE for the European Union (nomenclature, per the
// transcription in docs/sources.md). Corridor keys Parties by alpha-2; ok is
// false for a code that names no country.
func PartyCode(alpha2 string) (code string, ok bool) {
	if alpha2 == "EU" {
		return "EUE", true
	}
	r, err := language.ParseRegion(alpha2)
	if err != nil || !r.IsCountry() || len(alpha2) != 2 {
		return alpha2, false
	}
	return r.ISO3(), true
}

func partyCode(alpha2 string) string {
	c, _ := PartyCode(alpha2)
	return c
}

func partyOrNA(alpha2 string) string {
	if alpha2 == "" {
		return na
	}
	return partyCode(alpha2)
}

// underlyingRegistries maps the unit types Corridor's registries issue as
// the registry of an underlying cooperative approach to that registry's
// value in the nomenclature's table 31(b) (VCS, GS, CAR, ACR, ART, GCC,
// Cercarbono, Isometric, ISFL, FCPF, T-VER, JCM; per the transcription in
// docs/sources.md): JCM credits are issued in the JCM registries and T-VER
// units in TGO's T-VER registry, so their serials are that registry's unit
// numbers. Other units (CCERs, SRN-PPI units, ...) have no underlying
// registry in the list and the template's footnote asks for "NA".
var underlyingRegistries = map[string]string{"JCM": "JCM", "TVER": "T-VER", "PTVER": "T-VER"}

// underlying is the AEF "Underlying unit registry ID", "First unit ID" and
// "Last unit ID" of block s.
func underlying(s ledger.Serial) (reg, first, last string) {
	reg, ok := underlyingRegistries[s.UnitType]
	if !ok {
		return na, na, na
	}
	return reg, strconv.FormatInt(s.Start, 10), strconv.FormatInt(s.End, 10)
}

// RegistryID is the AEF "Party ITMO registry ID" of Party p's registry:
// the alpha-3 Party code and a two-digit number (nomenclature table 28, per
// the transcription). Each corridor Party has one registry, numbered 01 by
// us until the platform assigns numbers [assumption].
func RegistryID(p string) string { return partyCode(p) + "01" }

// aefDate turns YYYY-MM-DD into the template's dd/mm/yyyy.
func aefDate(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	return t.Format("02/01/2006")
}

// purposesLabel maps authorised purposes to the nomenclature's values
// (table 16(b): NDC, OIMP, IMP, OP, NDC and OIMP, NDC and IMP, NDC and OP).
// OIMP covers IMP and OP (template footnote to "OIMP authorized by the
// Party"), so OIMP together with OP is reported as OIMP.
func purposesLabel(ps []Purpose) string {
	ndc, oimp, op := slices.Contains(ps, PurposeNDC), slices.Contains(ps, PurposeOIMP), slices.Contains(ps, PurposeOther)
	var rest string
	switch {
	case oimp:
		rest = "OIMP"
	case op:
		rest = "OP"
	}
	switch {
	case ndc && rest != "":
		return "NDC and " + rest
	case ndc:
		return "NDC"
	case rest != "":
		return rest
	}
	return na
}

// firstTransferLabel is the nomenclature value (table 22(b), spelt as
// there) of an OIMP first-transfer definition.
func firstTransferLabel(f FirstTransfer) string {
	switch f {
	case FirstAtAuthorisation:
		return "Authorisation"
	case FirstAtIssuance:
		return "Issuance"
	case FirstAtUseOrCancellation:
		return "Use or Cancellation"
	}
	return na
}

func joinCodes(ps []string) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = partyCode(p)
	}
	return strings.Join(out, "; ")
}

// BuildAEF assembles the AEF of sub.Party for sub.Year from the ledger.
func (l *Ledger) BuildAEF(sub Submission) (AEF, error) {
	p, y := sub.Party, sub.Year
	if _, ok := PartyCode(p); !validParty(p) || !ok || y < 2021 {
		return AEF{}, refuse(CodeActionInvalid, "party", "AEF needs a Party's ISO 3166-1 alpha-2 code and a year from 2021, not %q %d", p, y)
	}
	reg := l.cfg.Registries[p]
	out := AEF{Party: p, Year: y}
	submitted := na
	if validDate(sub.Date) {
		submitted = aefDate(sub.Date)
	}
	out.Tables = append(out.Tables, Table{Name: "Submission", Header: headerSubmission, Rows: [][]string{{
		partyCode(p), fmt.Sprintf("%d.0", sub.Version), strconv.Itoa(y), submitted, "", "",
		strconv.Itoa(sub.NDCFirstYear), strconv.Itoa(sub.NDCLastYear), ""}}})

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
		// Unrestricted authorisations still only reach the other
		// participants of the approach (the Article 6 checks refuse others).
		acq := a.AcquiringParties
		if len(acq) == 0 {
			for _, q := range l.cfg.Approaches[a.Approach].Parties {
				if q != a.Host {
					acq = append(acq, q)
				}
			}
		}
		entIDs := na
		if len(a.Entities) > 0 {
			ids := make([]string, len(a.Entities))
			for i, e := range a.Entities {
				ids[i] = e.ID
			}
			entIDs = strings.Join(ids, "; ")
		}
		oimp, ftd := na, na
		if a.hasOIMPDefinition() {
			oimp, ftd = cmpOr(a.OIMPUse, "not stated"), firstTransferLabel(a.FirstTransferOIMP)
		}
		if info == "" {
			info = fmt.Sprintf("%s; activities %s; vintages %d-%d; timeframe %s to %s", ev.Kind, strings.Join(a.Activities, ";"), a.VintageFrom, a.VintageTo, a.From, a.Until)
		}
		auths.Rows = append(auths.Rows, []string{a.ID, aefDate(ev.Date), a.Approach, strconv.Itoa(a.Version), strconv.FormatInt(a.Quantity, 10),
			metric, gwp, na, cmpOr(a.Sector, "not stated"), cmpOr(a.ActivityType, "not stated"), purposesLabel(a.Purposes), cmpOr(joinCodes(acq), na), entIDs, oimp,
			fmt.Sprintf("%d - %d", year(a.From), year(a.Until)), cmpOr(a.Terms, na), "", ftd, info})
		if ev.Kind == EventRevoke {
			continue
		}
		for _, e := range a.Entities {
			change := "changes only before first transfer; revocation stops units not yet first-transferred"
			if a.Version > 1 {
				change = fmt.Sprintf("as of version %d; %s", a.Version, change)
			}
			ents.Rows = append(ents.Rows, []string{aefDate(ev.Date), e.Name, partyCode(e.Country), e.ID, a.Approach, cmpOr(e.Conditions, na), change, "authorisation " + a.ID})
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
		typ, subtype := l.actionType(r, a, p)
		// The template reports the transferring Party on an acquisition
		// and the acquiring Party on a (first) transfer, "otherwise NA"
		// (footnotes, per docs/sources.md); the explanatory text names both.
		transferring, acquiring, moved := na, na, ""
		if r.AcquiringParty != "" {
			moved = fmt.Sprintf("; from %s to %s", partyCode(cmpOr(r.TransferringParty, r.FirstTransferringParty)), partyCode(r.AcquiringParty))
		}
		switch typ {
		case TypeAcquisition:
			transferring = partyCode(cmpOr(r.TransferringParty, r.FirstTransferringParty))
		case TypeFirstTransfer, TypeTransfer:
			acquiring = partyOrNA(r.AcquiringParty)
		}
		oimpUse, using, entity, usedYear := na, na, na, na
		switch {
		case r.Type == RecordUse && r.Purpose == PurposeNDC:
			// An entity using on its Party's behalf (a Singapore facility's
			// ICC surrender) is named; a Party's own use has none.
			using, entity, usedYear = partyOrNA(r.UsingParty), cmpOr(r.UsingEntity, na), strconv.Itoa(year(r.Date))
		case r.Type == RecordUse:
			oimpUse, using, entity = string(r.Purpose)+": "+cmpOr(a.OIMPUse, "not stated"), partyOrNA(r.UsingParty), cmpOr(r.UsingEntity, na)
		case r.Type == RecordCancellation:
			using = partyOrNA(r.Holder)
		}
		ureg, ufirst, ulast := underlying(r.Units)
		acts.Rows = append(acts.Rows, []string{aefDate(r.Date), typ, subtype, r.Approach, r.Authorisation, partyCode(r.FirstTransferringParty), RegistryID(p),
			first.String(), last.String(), ureg, ufirst, ulast, metric, gwp, na, strconv.FormatInt(r.Quantity(), 10), na,
			cmpOr(a.MitigationType, "not stated"), strconv.Itoa(r.Units.Vintage), transferring, acquiring, oimpUse, using, entity, usedYear, "",
			fmt.Sprintf("record %d; units %s; registry %s%s", r.Seq, r.Units, reg, moved)})
	}
	out.Tables = append(out.Tables, acts)

	// Holdings are the ITMOs held in the Party's registry on 31 December
	// (start-of-year holdings are the previous year's table).
	hold := Table{Name: "Holdings", Header: headerHoldings}
	for _, h := range l.holdings(p, fmt.Sprintf("%d-01-01", y+1)) {
		a, _ := l.log.Current(h.Authorisation)
		first, last := ITMORange(h.Approach, h.FirstTransferringParty, h.Units)
		ureg, ufirst, ulast := underlying(h.Units)
		hold.Rows = append(hold.Rows, []string{h.Approach, h.Authorisation, partyCode(h.FirstTransferringParty), RegistryID(p),
			first.String(), last.String(), ureg, ufirst, ulast, metric, gwp, na, strconv.FormatInt(h.Units.Count(), 10), na,
			cmpOr(a.MitigationType, "not stated"), strconv.Itoa(h.Units.Vintage)})
	}
	out.Tables = append(out.Tables, hold, ents)
	return out, nil
}

// actionType is the template's action type and subtype of record r in
// Party p's AEF. The transferring side reports a transfer and the acquiring
// side an acquisition; a use for other purposes (OP) is reported as a
// cancellation, because the template has ITMOs "cancelled for OP"; the
// subtype of a first transfer says which event the authorisation made the
// first transfer (2/CMA.3, annex, para. 2, per the template footnote to
// "First transfer definition for OIMP").
func (l *Ledger) actionType(r Record, a Authorisation, p string) (typ, subtype string) {
	switch r.Type {
	case RecordFirstTransfer:
		if r.AcquiringParty == p && r.FirstTransferringParty != p {
			return TypeAcquisition, na
		}
		switch {
		case r.AcquiringParty != "":
			return TypeFirstTransfer, SubtypeToAnotherParty
		case l.omge(r.Units):
			return TypeFirstTransfer, SubtypeOMGE
		case a.FirstTransferOIMP == FirstAtAuthorisation:
			return TypeFirstTransfer, SubtypeAuthorization
		case a.FirstTransferOIMP == FirstAtIssuance:
			return TypeFirstTransfer, SubtypeIssuance
		case a.FirstTransferOIMP == FirstAtUseOrCancellation:
			return TypeFirstTransfer, SubtypeUseOrCancel
		}
		return TypeFirstTransfer, na
	case RecordTransfer:
		if r.AcquiringParty == p {
			return TypeAcquisition, na
		}
		return TypeTransfer, na
	case RecordUse:
		if r.Purpose == PurposeOther {
			return TypeCancellation, SubtypeOther
		}
		return TypeUse, na
	case RecordCancellation:
		if r.Subtype == SubtypeOMGE {
			return TypeCancellation, SubtypeOMGE
		}
		return TypeVoluntaryCancellation, SubtypeOther
	}
	return string(r.Type), cmpOr(r.Subtype, na)
}

// omge reports whether units s lie in an issuance's OMGE share.
func (l *Ledger) omge(s ledger.Serial) bool {
	for _, b := range l.st.blocks[issKey{s.Registry, s.Issuance}] {
		if b.Units.Start <= s.Start && s.End <= b.Units.End {
			return b.Share == ShareOMGE
		}
	}
	return false
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
