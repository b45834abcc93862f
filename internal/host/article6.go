package host

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// The embedded corridor keeps the hub's Article 6 ledger (hub.Article6),
// so every proposal is checked with it and the API and the pages report
// from it. Units issued without an authorisation are not ITMOs: the hub
// passes them without Article 6 accounting unless the proposal's purpose
// needs authorised units (ndc, oimp, icc), so the voluntary CCER pilots
// complete as before.

// corridorAgreements is the embedded hub's agreement set: the embedded
// revision, with purpose ndc added to the China–Indonesia pilot (a new
// revision, as the hub administrator would make it), because the demo's
// project abroad moves the investor's share to China for its NDC, which
// the voluntary pilot as published does not cover.
func corridorAgreements() (agreements.Set, error) {
	set, err := agreements.Default()
	if err != nil {
		return set, fmt.Errorf("host: corridor agreements: %w", err)
	}
	i := slices.IndexFunc(set.Agreements, func(a agreements.Agreement) bool { return a.ID == abroadAgreement })
	if i < 0 {
		return set, fmt.Errorf("host: corridor agreements: no agreement %s for the demo's project abroad", abroadAgreement)
	}
	a := set.Agreements[i]
	if slices.Contains(a.Purposes, "ndc") {
		return set, nil
	}
	a.Purposes = append(slices.Clone(a.Purposes), "ndc")
	next, err := set.Apply(agreements.Edit{Op: agreements.OpReplace, Agreement: a, AsOf: set.AsOf.Time})
	if err != nil {
		return set, fmt.Errorf("host: corridor agreements: %w", err)
	}
	return next, nil
}

// abroadAgreement is the corridor agreement the project abroad's
// investor share moves under.
const abroadAgreement = "pilot-cn-id"

// openArticle6 opens the hub's Article 6 ledger for the corridor's
// members on the hub's database, with the embedded cooperative approaches.
func (ns *Nodes) openArticle6(ctx context.Context, members []hub.Member) (*hub.Article6, error) {
	aps, err := article6.DefaultApproaches()
	if err != nil {
		return nil, fmt.Errorf("host: article 6 approaches: %w", err)
	}
	a6, err := hub.EmbeddedArticle6(ctx, ns.hubDB, members, aps)
	if err != nil {
		return nil, fmt.Errorf("host: article 6 ledger: %w", err)
	}
	return a6, nil
}

// abroadSeed is what the host registry's Article 6 seed made for the
// project abroad: the investor's organisation and account, and its share.
type abroadSeed struct {
	investorOrg, investorAcc int64
	share                    int64
}

// seedArticle6 records the demo's Article 6 facts in its host registries
// before any transfer runs (the hub checks a proposal against the
// authorisations recorded until then): Lao PDR's JCM authorisation and the
// issuance under it that the in-flight transfer moves, and Indonesia's
// authorisation and issuance of the project abroad. Each call has a fixed
// key, so a start cut short resumes (a done step answers its first
// result). A registry that is not a demo-seeded node here is skipped.
func (ns *Nodes) seedArticle6(ctx context.Context, members []hub.Member) (*abroadSeed, error) {
	node := func(code string) *registry.Node {
		for _, m := range members {
			if m.Node.Code() == code && m.HubOrg != 0 {
				return m.Node
			}
		}
		return nil
	}
	sys := registry.Actor{Role: ledger.RoleAdmin}
	do := func(n *registry.Node, name string, req registry.Request) (registry.Result, error) {
		res, err := n.Do(ctx, sys, demo.Article6Key(n.Code(), name), req)
		if err != nil {
			return res, fmt.Errorf("host: demo article 6 seed %s %s: %w", n.Code(), name, err)
		}
		return res, nil
	}
	if la := node(demo.InFlight.From); la != nil {
		if _, err := do(la, "authorise", registry.Authorise{Authorisation: demo.LAAuthorisation}); err != nil {
			return nil, err
		}
		if _, err := do(la, "issue", registry.IssueAuthorised{Issue: demo.LAIssue, Authorisation: demo.LAAuthorisation.ID, Decision: demo.LADecision, DecisionQuantity: demo.LADecisionQuantity}); err != nil {
			return nil, err
		}
		// Japan's share of the same Joint Committee decision, in Japan's
		// registry under Lao PDR's authorisation.
		if jp := node(demo.InFlight.To); jp != nil {
			p := demo.JPPartner
			if _, err := do(jp, "issue-partner-share", registry.IssueAuthorised{Issue: demo.JPShare, Authorisation: demo.LAAuthorisation.ID,
				Decision: demo.LADecision, DecisionQuantity: demo.LADecisionQuantity, Partner: &p}); err != nil {
				return nil, err
			}
		}
	}
	p := demo.Abroad
	host := node(p.Host)
	if host == nil || node(p.To) == nil {
		return nil, nil
	}
	holder := func(name, org string) (orgID, acc int64, err error) {
		o, err := do(host, name+"-org", registry.CreateOrganisation{Name: org, Country: p.Host})
		if err != nil {
			return 0, 0, err
		}
		a, err := do(host, name+"-account", registry.OpenAccount{OrgID: o.ID, Type: ledger.Holding, Name: org + " holding account"})
		return o.ID, a.ID, err
	}
	_, dev, err := holder("developer", p.Developer)
	if err != nil {
		return nil, err
	}
	_, adapt, err := holder("adaptation", p.Adaptation)
	if err != nil {
		return nil, err
	}
	invOrg, inv, err := holder("investor", p.InvestorOrg)
	if err != nil {
		return nil, err
	}
	if _, err := do(host, "authorise", registry.Authorise{Authorisation: p.Authorisation}); err != nil {
		return nil, err
	}
	is := p.Issue
	is.AccountID = dev
	res, err := do(host, "issue", registry.IssueAuthorised{Issue: is, Authorisation: p.Authorisation.ID, AdaptationAccount: adapt,
		Investor: p.Investor, InvestorFraction: p.InvestorFraction, InvestorAccount: inv})
	if err != nil {
		return nil, err
	}
	out := &abroadSeed{investorOrg: invOrg, investorAcc: inv}
	for _, b := range res.Blocks {
		if b.AccountID == inv {
			out.share += b.End - b.Start + 1
		}
	}
	return out, nil
}

// runAbroad sends the project abroad's investor share to the investor
// Party's registry through the hub (under its fixed key, like a pilot) and
// retires the demo's part of it there toward that Party's NDC. A transfer
// the hub did not complete is logged and the use skipped: the demo never
// stops a start.
func (ns *Nodes) runAbroad(ctx context.Context, seed *abroadSeed, opt OpenOptions) error {
	if seed == nil || seed.share == 0 {
		return nil
	}
	p := demo.Abroad
	id, err := ns.sendOnce(ctx, p.Host, hub.Send{Actor: registry.Actor{OrgID: seed.investorOrg, Role: ledger.RoleHolder}, Key: demo.AbroadSendKey,
		From: seed.investorAcc, ToRegistry: p.To, ToAccount: nationalAccount, Units: registry.Units{Quantity: seed.share, UnitType: p.Issue.UnitType}, Purpose: "ndc"}, opt)
	if err != nil || id == "" {
		return err
	}
	t, err := ns.Corridor.Transfer(ctx, id)
	if err != nil {
		return fmt.Errorf("host: demo project abroad: %w", err)
	}
	if t.Status != completedStatus {
		slog.Warn("demo project abroad: the investor's share did not arrive; its NDC use is skipped", "transfer", id, "status", t.Status)
		return nil
	}
	to := ns.node(p.To)
	if to == nil {
		return nil
	}
	// The national holding account belongs to the administrator's
	// organisation (the seed's first).
	_, err = to.Do(ctx, registry.Actor{OrgID: 1, Role: ledger.RoleAdmin}, demo.AbroadUseKey, registry.Retire{From: nationalAccount,
		Units: registry.Units{Quantity: p.Use, UnitType: p.Issue.UnitType}, Beneficiary: "People's Republic of China, NDC (demo)", Purpose: "ndc", ComplianceYear: p.Issue.Vintage})
	if _, isLedger := ledger.AsError(err); isLedger {
		slog.Warn("demo project abroad: NDC use not recorded", "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("host: demo project abroad: NDC use: %w", err)
	}
	return nil
}

const completedStatus = protocol.StatusCompleted

// nationalAccount is the national holding account every demo registry's
// seed opens first, for its administrator.
const nationalAccount = 1

func (ns *Nodes) node(code string) *registry.Node {
	for _, n := range ns.all {
		if n.Code() == code {
			return n
		}
	}
	return nil
}
