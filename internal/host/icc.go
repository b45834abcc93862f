package host

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// runICC runs the demo's Singapore ICC flow (demo.ICC) when both Thailand's
// and Singapore's registries are demo-seeded nodes here: Thailand's
// authorisation and issuance, Singapore's record of the facility's taxable
// emissions, the transfer through the hub for purpose icc and the
// facility's surrender within the 5 % limit. Every step has a fixed key,
// so a start cut short resumes; a transfer the hub did not complete is
// logged and the surrender skipped: the demo never stops a start.
func (ns *Nodes) runICC(ctx context.Context, members []hub.Member, opt OpenOptions) error {
	seeded := func(code string) *registry.Node {
		for _, m := range members {
			if m.Node.Code() == code && m.HubOrg != 0 {
				return m.Node
			}
		}
		return nil
	}
	th, sg := seeded("TH"), seeded("SG")
	if th == nil || sg == nil {
		return nil
	}
	f := demo.ICC
	admin := registry.Actor{Role: ledger.RoleAdmin}
	do := func(n *registry.Node, a registry.Actor, name string, req registry.Request) (registry.Result, error) {
		res, err := n.Do(ctx, a, demo.Article6Key(n.Code(), name), req)
		if err != nil {
			return res, fmt.Errorf("host: demo ICC flow %s %s: %w", n.Code(), name, err)
		}
		return res, nil
	}
	org, err := do(th, admin, "icc-adaptation-org", registry.CreateOrganisation{Name: f.Adaptation, Country: "TH"})
	if err != nil {
		return err
	}
	adapt, err := do(th, admin, "icc-adaptation-account", registry.OpenAccount{OrgID: org.ID, Type: ledger.Holding, Name: f.Adaptation + " holding account"})
	if err != nil {
		return err
	}
	if _, err := do(th, admin, "icc-authorise", registry.Authorise{Authorisation: f.Authorisation}); err != nil {
		return err
	}
	iss, err := do(th, admin, "icc-issue", registry.IssueAuthorised{Issue: f.Issue, Authorisation: f.Authorisation.ID, AdaptationAccount: adapt.ID})
	if err != nil {
		return err
	}
	if _, err := do(sg, admin, "icc-emissions", registry.ReportEmissions{Account: f.Facility, Year: f.Year, Tonnes: f.TaxableEmissions}); err != nil {
		return err
	}
	dev, err := th.Account(registry.Operator, f.Issue.AccountID)
	if err != nil {
		return fmt.Errorf("host: demo ICC flow: %w", err)
	}
	id, err := ns.sendOnce(ctx, "TH", hub.Send{Actor: registry.Actor{OrgID: dev.OrgID, Role: ledger.RoleHolder}, Key: demo.ICCSendKey, From: dev.ID,
		ToRegistry: "SG", ToAccount: f.Facility, Units: registry.Units{Quantity: f.Send, UnitType: f.Issue.UnitType, IssuanceID: iss.ID}, Purpose: registry.PurposeICC}, opt)
	if err != nil || id == "" {
		return err
	}
	if t, err := ns.Corridor.Transfer(ctx, id); err != nil {
		return fmt.Errorf("host: demo ICC flow: %w", err)
	} else if t.Status != completedStatus {
		slog.Warn("demo ICC flow: the ICCs did not arrive in Singapore; the surrender is skipped", "transfer", id, "status", t.Status)
		return nil
	}
	fac, err := sg.Account(registry.Operator, f.Facility)
	if err != nil {
		return fmt.Errorf("host: demo ICC flow: %w", err)
	}
	_, err = sg.Do(ctx, registry.Actor{OrgID: fac.OrgID, Role: ledger.RoleHolder}, demo.ICCSurrenderKey, registry.Retire{From: f.Facility,
		Units: registry.Units{Quantity: f.Surrender, UnitType: f.Issue.UnitType}, Beneficiary: f.Beneficiary, Purpose: registry.PurposeICC, ComplianceYear: f.Year})
	if _, isLedger := ledger.AsError(err); isLedger {
		slog.Warn("demo ICC flow: surrender not recorded", "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("host: demo ICC flow: surrender: %w", err)
	}
	return nil
}
