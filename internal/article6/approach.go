package article6

import (
	"fmt"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/corridor-carbon/corridor/internal/hub/agreements"
)

// Purpose is what an authorisation allows ITMOs to be used for: towards an
// NDC, or for other international mitigation purposes (decision 2/CMA.3,
// annex, para. 1(d) and (f); cited, secondary: 6/CMA.4's mandate as quoted
// in docs/sources.md "Article 6 texts", CCXG slides).
type Purpose string

// Purposes of authorisation.
const (
	PurposeNDC   Purpose = "NDC"  // use towards a nationally determined contribution
	PurposeOIMP  Purpose = "OIMP" // other international mitigation purposes, e.g. CORSIA
	PurposeOther Purpose = "OP"   // other purposes determined by the first transferring Party
)

func validPurpose(p Purpose) bool {
	return p == PurposeNDC || p == PurposeOIMP || p == PurposeOther
}

// FirstTransfer is the event that counts as first transfer. For NDC use it is
// the first international transfer; for OIMP the authorising Party states
// authorisation, issuance or use/cancellation (2/CMA.3, annex, para. 2(a)
// and (b); cited, secondary: Japan MoE Article 6 Rule Guide Book, citing
// FCCC/PA/CMA/2021/L.18, para. 2(a)-(b); docs/sources.md).
type FirstTransfer string

// First-transfer definitions.
const (
	FirstInternationalTransfer FirstTransfer = "first-international-transfer"
	FirstAtAuthorisation       FirstTransfer = "authorisation"
	FirstAtIssuance            FirstTransfer = "issuance"
	FirstAtUseOrCancellation   FirstTransfer = "use-or-cancellation"
)

func validOIMPDefinition(f FirstTransfer) bool {
	return f == FirstAtAuthorisation || f == FirstAtIssuance || f == FirstAtUseOrCancellation
}

// Rounding turns a fractional deduction into whole tonnes.
type Rounding string

// Rounding rules.
const (
	RoundUp   Rounding = "up"
	RoundDown Rounding = "down"
)

// Source is one reference behind an approach, with its verification status:
// "cited", "unverified" or "assumption".
type Source struct {
	Status string `yaml:"status"`
	Text   string `yaml:"text"`
	URL    string `yaml:"url"`
}

// Approach is a cooperative approach between Parties (Article 6.2).
type Approach struct {
	ID                  string
	Name                string
	Parties             []string
	Purposes            []Purpose
	ShareOfProceeds     decimal.Decimal
	OMGE                decimal.Decimal
	Rounding            Rounding
	FirstTransferOIMP   FirstTransfer
	CoordinatedIssuance bool
	// Status: in-force, signed (not operational yet) or proposal.
	Status  string
	Sources []Source
	// Agreement is the corridor agreement whose terms the approach is.
	Agreement string
}

// Participant reports whether party takes part in the approach.
func (a Approach) Participant(party string) bool { return slices.Contains(a.Parties, party) }

// Proposal reports whether the approach is only proposed, not agreed.
func (a Approach) Proposal() bool { return a.Status == "proposal" }

// Approaches indexes cooperative approaches by id.
type Approaches map[string]Approach

// DefaultApproaches returns the approaches of the embedded corridor
// agreements (internal/hub/agreements/data/agreements.yaml).
func DefaultApproaches() (Approaches, error) {
	set, err := agreements.Default()
	if err != nil {
		return nil, fmt.Errorf("article6: %w", err)
	}
	return ApproachesFrom(set)
}

// ApproachesFrom reads the cooperative approaches from a revision of the
// corridor agreements: every agreement with Article 6 terms is exactly
// one approach, with the agreement's Parties. The agreements are the one
// source because the hub administrator edits them as revisions; the
// approaches then follow every edit instead of drifting from a second
// file (as the former approaches.yaml did from the pilots' terms).
func ApproachesFrom(set agreements.Set) (Approaches, error) {
	hundred := decimal.NewFromInt(100)
	var list []Approach
	for _, a := range set.Agreements {
		if !a.Article6() {
			continue
		}
		t := a.Terms
		ap := Approach{ID: t.Approach, Name: a.Title, Parties: slices.Clone(a.Parties),
			ShareOfProceeds: t.SOP().Div(hundred), OMGE: t.OMGE().Div(hundred), Rounding: Rounding(t.Rounding),
			FirstTransferOIMP: FirstTransfer(t.FirstTransfer), CoordinatedIssuance: t.CoordinatedIssuance, Agreement: a.ID}
		for _, p := range t.Purposes {
			ap.Purposes = append(ap.Purposes, Purpose(p))
		}
		switch a.Status {
		case agreements.StatusProposal:
			ap.Status = "proposal"
		case agreements.StatusSigned:
			ap.Status = "signed"
		default:
			ap.Status = "in-force"
		}
		for _, s := range t.Sources {
			ap.Sources = append(ap.Sources, Source{Status: s.Status, Text: s.Text, URL: s.URL})
		}
		list = append(list, ap)
	}
	return NewApproaches(list)
}

// NewApproaches validates approaches and indexes them by id.
func NewApproaches(list []Approach) (Approaches, error) {
	out := make(Approaches, len(list))
	for i, r := range list {
		at := func(field string) string { return fmt.Sprintf("approaches[%d] (%s).%s", i, r.ID, field) }
		if !validApproachID(r.ID) {
			return nil, fmt.Errorf("article6: %s: %q is not an approach id (2-24 upper-case letters, digits or '-')", at("id"), r.ID)
		}
		if _, dup := out[r.ID]; dup {
			return nil, fmt.Errorf("article6: %s: duplicate approach %s", at("id"), r.ID)
		}
		if len(r.Parties) < 2 {
			return nil, fmt.Errorf("article6: %s: an approach needs at least two Parties", at("parties"))
		}
		for _, p := range r.Parties {
			if !validParty(p) {
				return nil, fmt.Errorf("article6: %s: %q is not an ISO 3166-1 alpha-2 code", at("parties"), p)
			}
		}
		if len(r.Purposes) == 0 {
			return nil, fmt.Errorf("article6: %s: no purposes", at("purposes"))
		}
		for _, p := range r.Purposes {
			if !validPurpose(p) {
				return nil, fmt.Errorf("article6: %s: unknown purpose %q", at("purposes"), p)
			}
		}
		for _, d := range []decimal.Decimal{r.ShareOfProceeds, r.OMGE} {
			if d.IsNegative() || d.GreaterThan(decimal.NewFromInt(1)) {
				return nil, fmt.Errorf("article6: %s: %s is not a fraction between 0 and 1", at("share_of_proceeds"), d)
			}
		}
		if r.ShareOfProceeds.Add(r.OMGE).GreaterThan(decimal.NewFromInt(1)) {
			return nil, fmt.Errorf("article6: %s: share of proceeds and OMGE exceed the whole issuance", at("omge"))
		}
		if r.Rounding != RoundUp && r.Rounding != RoundDown {
			return nil, fmt.Errorf("article6: %s: rounding must be up or down", at("rounding"))
		}
		if !validOIMPDefinition(r.FirstTransferOIMP) {
			return nil, fmt.Errorf("article6: %s: %q is not an OIMP first-transfer definition", at("first_transfer_oimp"), r.FirstTransferOIMP)
		}
		if r.Status != "in-force" && r.Status != "signed" && r.Status != "proposal" {
			return nil, fmt.Errorf("article6: %s: status must be in-force, signed or proposal", at("status"))
		}
		if len(r.Sources) == 0 {
			return nil, fmt.Errorf("article6: %s: every approach needs a source", at("sources"))
		}
		for j, s := range r.Sources {
			if s.Status != "cited" && s.Status != "unverified" && s.Status != "assumption" || s.Text == "" {
				return nil, fmt.Errorf("article6: %s[%d]: a source needs text and status cited, unverified or assumption", at("sources"), j)
			}
		}
		r.Parties, r.Purposes, r.Sources = slices.Clone(r.Parties), slices.Clone(r.Purposes), slices.Clone(r.Sources)
		out[r.ID] = r
	}
	return out, nil
}

// validParty reports whether p is an ISO 3166-1 alpha-2 code (upper case).
func validParty(p string) bool {
	return len(p) == 2 && p[0] >= 'A' && p[0] <= 'Z' && p[1] >= 'A' && p[1] <= 'Z'
}

// validApproachID: CARP assigns cooperative-approach identifiers; their
// format is not published as far as we found, so ours are 2-24 upper-case
// letters, digits or '-', which keeps them free of the '.' the ITMO
// identifier uses as its separator.
func validApproachID(id string) bool {
	if len(id) < 2 || len(id) > 24 || id[0] == '-' || id[len(id)-1] == '-' {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
