package article6

import (
	_ "embed"
	"fmt"
	"slices"

	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"
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
	Status              string // in-force or proposal
	Sources             []Source
}

// Participant reports whether party takes part in the approach.
func (a Approach) Participant(party string) bool { return slices.Contains(a.Parties, party) }

// Proposal reports whether the approach is only proposed, not agreed.
func (a Approach) Proposal() bool { return a.Status == "proposal" }

// Approaches indexes cooperative approaches by id.
type Approaches map[string]Approach

type approachRow struct {
	ID                  string        `yaml:"id"`
	Name                string        `yaml:"name"`
	Parties             []string      `yaml:"parties"`
	Purposes            []Purpose     `yaml:"purposes"`
	ShareOfProceeds     string        `yaml:"share_of_proceeds"`
	OMGE                string        `yaml:"omge"`
	Rounding            Rounding      `yaml:"rounding"`
	FirstTransferOIMP   FirstTransfer `yaml:"first_transfer_oimp"`
	CoordinatedIssuance bool          `yaml:"coordinated_issuance"`
	Status              string        `yaml:"status"`
	Sources             []Source      `yaml:"sources"`
}

//go:embed data/approaches.yaml
var approachesYAML []byte

// DefaultApproaches returns the embedded cooperative approaches.
func DefaultApproaches() (Approaches, error) { return ParseApproaches(approachesYAML) }

// ParseApproaches reads and validates an approaches file (the embedded one,
// or a replacement the user supplies).
func ParseApproaches(data []byte) (Approaches, error) {
	var f struct {
		Version    string        `yaml:"version"`
		Approaches []approachRow `yaml:"approaches"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("article6: reading approaches: %w", err)
	}
	out := make(Approaches, len(f.Approaches))
	for i, r := range f.Approaches {
		at := func(field string) string { return fmt.Sprintf("approaches[%d].%s", i, field) }
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
		sop, err := parseShare(r.ShareOfProceeds)
		if err != nil {
			return nil, fmt.Errorf("article6: %s: %w", at("share_of_proceeds"), err)
		}
		omge, err := parseShare(r.OMGE)
		if err != nil {
			return nil, fmt.Errorf("article6: %s: %w", at("omge"), err)
		}
		if sop.Add(omge).GreaterThan(decimal.NewFromInt(1)) {
			return nil, fmt.Errorf("article6: %s: share of proceeds and OMGE exceed the whole issuance", at("omge"))
		}
		if r.Rounding != RoundUp && r.Rounding != RoundDown {
			return nil, fmt.Errorf("article6: %s: rounding must be up or down", at("rounding"))
		}
		if !validOIMPDefinition(r.FirstTransferOIMP) {
			return nil, fmt.Errorf("article6: %s: %q is not an OIMP first-transfer definition", at("first_transfer_oimp"), r.FirstTransferOIMP)
		}
		if r.Status != "in-force" && r.Status != "proposal" {
			return nil, fmt.Errorf("article6: %s: status must be in-force or proposal", at("status"))
		}
		if len(r.Sources) == 0 {
			return nil, fmt.Errorf("article6: %s: every approach needs a source", at("sources"))
		}
		for j, s := range r.Sources {
			if s.Status != "cited" && s.Status != "unverified" && s.Status != "assumption" || s.Text == "" {
				return nil, fmt.Errorf("article6: %s[%d]: a source needs text and status cited, unverified or assumption", at("sources"), j)
			}
		}
		out[r.ID] = Approach{ID: r.ID, Name: r.Name, Parties: r.Parties, Purposes: r.Purposes,
			ShareOfProceeds: sop, OMGE: omge, Rounding: r.Rounding, FirstTransferOIMP: r.FirstTransferOIMP,
			CoordinatedIssuance: r.CoordinatedIssuance, Status: r.Status, Sources: r.Sources}
	}
	return out, nil
}

func parseShare(s string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("%q is not a decimal fraction", s)
	}
	if d.IsNegative() || d.GreaterThan(decimal.NewFromInt(1)) {
		return decimal.Decimal{}, fmt.Errorf("%s is not a fraction between 0 and 1", s)
	}
	return d, nil
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
