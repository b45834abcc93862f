package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// registryCommands are the CLI commands that drive a running server's
// registry API through the client package: everything an administrator, a
// holder or an auditor can do through the API, from the shell.
func registryCommands() []*cobra.Command {
	cmds := []*cobra.Command{
		newRegistriesCmd(), newIssuancesCmd(), newAccountsCmd(), newAccountCmd(), newOrgCmd(),
		newIssueCmd(), newTransferCmd(), newRetireCmd(), newCancelCmd(), newReserveCmd(),
		newSettleCmd(true), newSettleCmd(false),
		newSerialCmd(), newTransactionsCmd(), newRetirementsCmd(), newTokenCmd(), newTransfersCmd(),
		newReportEmissionsCmd(),
	}
	for _, c := range cmds {
		withUsageExit(c)
	}
	return cmds
}

// holdingsPage is the most blocks the holdings endpoint returns in one
// answer (its limit parameter's maximum, internal/api/registry.go).
const holdingsPage = 1000 // the API's largest page (limit 1 to 1000)

func newRegistriesCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "registries",
		Short: "List the corridor's registries, with the totals of those the server runs",
		Long:  "List the registries of the corridor (and its hub) and the registry nodes the server runs, with units issued and units by state for those (public). STATUS follows the API's served and serving fields: serving where this server answers for the registry's current state (its totals follow), served here where it runs it without totals (the embedded hub), served here, not serving where a node lost its serving lock, not served here for a participant that is stopped or run by another server." + exitCodesHelp,
		Example: `  corridor registries --server http://127.0.0.1:8080
  corridor registries --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			regs, err := f.client().Registries(cmd.Context())
			if err != nil {
				return f.apiError("registries", err)
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, map[string]any{"registries": regs})
			}
			t := newTable(out, "REGISTRY", "ROLE", "STATUS", "NAME", "ORGS", "ACCOUNTS", "ISSUANCES", "ISSUED", "HELD", "RESERVED", "RETIRED", "CANCELLED", "EXPORTED", "JOURNAL SEQ")
			for _, r := range regs {
				// A participant this server does not run is stopped or
				// run by another server: this server cannot tell which.
				// The words follow the API's served and serving fields:
				// "serving" only where the API says serving (totals follow).
				status := "not served here"
				switch {
				case r.Serving:
					status = "serving"
				case r.Served && r.NotServing != "":
					status = "served here, not serving"
				case r.Served:
					status = "served here"
				}
				if r.Totals == nil {
					t.row(r.Code, r.Role, status, r.Name, "-", "-", "-", "-", "-", "-", "-", "-", "-", "-")
					continue
				}
				t.row(r.Code, r.Role, status, r.Name, r.Organisations, r.Accounts, r.Issuances, r.Issued, r.ByState[ledger.Held], r.ByState[ledger.Reserved],
					r.ByState[ledger.Retired], r.ByState[ledger.Cancelled], r.ByState[ledger.Exported], r.JournalSeq)
			}
			return t.flush()
		},
	}
	f.add(cmd.Flags())
	return cmd
}

func newIssuancesCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "issuances",
		Short: "List a registry's issuances with their units by state",
		Long:  "List the issuances of --registry (public): project, vintage, quantity and where the units stand." + exitCodesHelp,
		Example: `  corridor issuances --registry TH
  corridor issuances --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := f.client().Issuances(cmd.Context(), f.registry)
			if err != nil {
				return f.apiError("issuances", err)
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, map[string]any{"issuances": list})
			}
			// QUANTITY is what is or was here; ORIGIN names another
			// registry's issuance with its quantity there.
			t := newTable(out, "ID", "SERIAL", "PROJECT NAME", "VINTAGE", "QUANTITY", "HELD", "RESERVED", "RETIRED", "CANCELLED", "EXPORTED", "ORIGIN")
			for _, x := range list {
				origin := "-"
				if x.Origin != nil {
					origin = fmt.Sprintf("%s (%d issued)", x.Origin.Registry, x.Quantity)
				}
				t.row(x.ID, x.Serial, x.ProjectName, x.Vintage, x.Here(), x.ByState[ledger.Held], x.ByState[ledger.Reserved],
					x.ByState[ledger.Retired], x.ByState[ledger.Cancelled], x.ByState[ledger.Exported], origin)
			}
			return t.flush()
		},
	}
	f.add(cmd.Flags())
	return cmd
}

func newAccountsCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "accounts",
		Short: "List the accounts the token may see, with balances",
		Long: `List accounts of --registry: all of them for an admin or auditor token, the
organisation's own for a holder token.` + exitCodesHelp,
		Example: `  corridor accounts --token $CORRIDOR_TOKEN
  CORRIDOR_REGISTRY=ID corridor accounts --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := f.client().Accounts(cmd.Context(), f.registry)
			if err != nil {
				return f.apiError("accounts", err)
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, map[string]any{"accounts": list})
			}
			t := newTable(out, "ID", "ORG", "ORGANISATION", "TYPE", "STATUS", "NAME", "BALANCES")
			for _, a := range list {
				t.row(a.ID, a.OrgID, a.Organisation, string(a.Type), string(a.Status), a.Name, balanceSummary(a.Balances))
			}
			return t.flush()
		},
	}
	f.add(cmd.Flags())
	return cmd
}

// balanceSummary is "250000 CCER held, 1000 CCER reserved".
func balanceSummary(bs []registry.Balance) string {
	parts := make([]string, len(bs))
	for i, b := range bs {
		parts[i] = fmt.Sprintf("%d %s %s", b.Quantity, b.UnitType, b.State)
	}
	return strings.Join(parts, ", ")
}

func newAccountCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "account",
		Short: "Show, open, suspend, reopen or close an account",
		Long:  "Work with one account of --registry: show it (any reader), open or change its status (admin)." + exitCodesHelp,
		Example: `  corridor account show 2
  corridor account open --org 4 --type holding --name "Trading account"
  corridor account suspend 5`,
	}
	f.add(cmd.PersistentFlags())
	cmd.AddCommand(newAccountShowCmd(&f), newAccountOpenCmd(&f))
	for _, s := range []struct {
		use    string
		status ledger.AccountStatus
		short  string
	}{
		{"suspend", ledger.Suspended, "Suspend an account: no units move in or out until it is reopened (admin)"},
		{"reopen", ledger.Open, "Reopen a suspended account (admin)"},
		{"close", ledger.Closed, "Close an account for good (admin)"},
	} {
		cmd.AddCommand(newAccountStatusCmd(&f, s.use, s.status, s.short))
	}
	return cmd
}

func newAccountShowCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "show ID",
		Short:   "Show an account: balances and the blocks it holds",
		Example: `  corridor account show 2 --registry CN --token $CORRIDOR_TOKEN`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(cmd, "account id", args[0])
			if err != nil {
				return err
			}
			c := f.client()
			acc, err := c.Account(cmd.Context(), f.registry, id)
			if err != nil {
				return f.apiError("account show", err)
			}
			blocks, err := c.HoldingsPage(cmd.Context(), f.registry, id, 0, holdingsPage)
			if err != nil {
				return f.apiError("account show", err)
			}
			if len(blocks) >= holdingsPage {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: only the first %d blocks are listed (corridor export --what holdings lists all); balances are complete\n", holdingsPage)
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, map[string]any{"account": acc, "holdings": blocks})
			}
			fmt.Fprintf(out, "Account %d %q in registry %s\n", acc.ID, acc.Name, f.registry)
			fmt.Fprintf(out, "  organisation  %s (org %d)\n  type          %s\n  status        %s\n  opened        %s\n",
				acc.Organisation, acc.OrgID, acc.Type, acc.Status, acc.CreatedAt.UTC().Format(time.RFC3339))
			// Units exported, retired or cancelled stay recorded against
			// the account that moved them, but they are not in it: an
			// exported unit is held in another registry now. They are
			// listed apart from the balance.
			var in, gone []registry.Balance
			for _, b := range acc.Balances {
				switch b.State {
				case ledger.Exported, ledger.Retired, ledger.Cancelled:
					gone = append(gone, b)
				default:
					in = append(in, b)
				}
			}
			fmt.Fprintln(out, "\nBalances")
			t := newTable(out, "UNIT TYPE", "STATE", "QUANTITY")
			for _, b := range in {
				t.row(b.UnitType, string(b.State), b.Quantity)
			}
			if err := t.flush(); err != nil {
				return err
			}
			if len(gone) > 0 {
				fmt.Fprintln(out, "\nUnits that left the account (recorded here, no longer in it; exported: now in another registry)")
				t := newTable(out, "UNIT TYPE", "STATE", "QUANTITY")
				for _, b := range gone {
					t.row(b.UnitType, string(b.State), b.Quantity)
				}
				if err := t.flush(); err != nil {
					return err
				}
			}
			if err := printCarbonTax(out, acc); err != nil {
				return err
			}
			fmt.Fprintf(out, "\nHoldings (%d blocks)\n", len(blocks))
			return printBlocks(out, blocks)
		},
	}
}

func newAccountOpenCmd(f *apiFlags) *cobra.Command {
	var req registry.OpenAccount
	var typ string
	cmd := &cobra.Command{
		Use:   "open",
		Short: "Open an account for an organisation (admin)",
		Long: `Open an account. Types: holding, retirement, cancellation, buffer, national_holding.
Prints the new account's id.`,
		Example: `  corridor account open --org 4 --type holding --name "Baowu trading account"`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := positiveIDs(cmd, "org"); err != nil {
				return err
			}
			req.Type = ledger.AccountType(typ)
			return submit(cmd, f, "account open", req, func(res registry.Result) string {
				return fmt.Sprintf("account %d opened (%s) for organisation %d", res.ID, req.Type, req.OrgID)
			})
		},
	}
	cmd.Flags().Int64Var(&req.OrgID, "org", 0, "organisation id (required)")
	cmd.Flags().StringVar(&typ, "type", string(ledger.Holding), "account type: holding, retirement, cancellation, buffer or national_holding")
	cmd.Flags().StringVar(&req.Name, "name", "", "account name (required)")
	required(cmd, "org", "name")
	f.addKey(cmd.Flags())
	return cmd
}

func newAccountStatusCmd(f *apiFlags, use string, status ledger.AccountStatus, short string) *cobra.Command {
	cmd := &cobra.Command{
		Use:     use + " ID",
		Short:   short,
		Example: fmt.Sprintf("  corridor account %s 5 --token $CORRIDOR_TOKEN", use),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(cmd, "account id", args[0])
			if err != nil {
				return err
			}
			return submit(cmd, f, "account "+use, registry.SetAccountStatus{AccountID: id, Status: status}, func(res registry.Result) string {
				return fmt.Sprintf("account %d is now %s", id, status)
			})
		},
	}
	f.addKey(cmd.Flags())
	return cmd
}

func compactJSON(raw []byte) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

func stateChange(from, to ledger.State) string {
	if from == "" || from == to {
		return string(to)
	}
	return string(from) + " → " + string(to)
}

// printBlocks prints serial blocks as a table.
func printBlocks(out interface{ Write([]byte) (int, error) }, blocks []registry.BlockView) error {
	t := newTable(out, "SERIAL", "QUANTITY", "STATE", "ACCOUNT", "PENDING")
	for _, b := range blocks {
		t.row(b.Serial, b.Quantity, string(b.State), optID(b.AccountID), optID(b.Pending))
	}
	return t.flush()
}

func newTransactionsCmd() *cobra.Command {
	var f apiFlags
	var after int64
	var kind string
	var limit int
	cmd := &cobra.Command{
		Use:   "transactions",
		Short: "List journal entries (admin or auditor)",
		Long: `List the registry's journal after sequence number --after, oldest first, optionally of
one kind (issue, transfer, retire, cancel, reserve, complete, void, open_account,
set_account_status, create_organisation, create_token). For everything, use
'corridor export --what transactions'.` + exitCodesHelp,
		Example: `  corridor transactions --after 40 --kind transfer --token $CORRIDOR_TOKEN
  corridor transactions --json --limit 1000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 1 || limit > 1000 {
				return usageError(cmd, "--limit must be from 1 to 1000")
			}
			list, err := f.client().Transactions(cmd.Context(), f.registry, after, kind, limit)
			if err != nil {
				return f.apiError("transactions", err)
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, map[string]any{"transactions": list})
			}
			t := newTable(out, "SEQ", "AT", "KIND", "ACTOR", "QUANTITY", "BLOCKS", "HASH")
			for _, x := range list {
				t.row(x.Seq, x.At.UTC().Format(time.RFC3339), x.Kind, x.Actor, optID(x.Result.Quantity), len(x.Result.Blocks), shortHash(x.Hash))
			}
			if err := t.flush(); err != nil {
				return err
			}
			if len(list) == limit {
				fmt.Fprintf(cmd.ErrOrStderr(), "more entries may follow: --after %d\n", list[len(list)-1].Seq)
			}
			return nil
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().Int64Var(&after, "after", 0, "list entries with a sequence number above this")
	cmd.Flags().StringVar(&kind, "kind", "", "only entries of this kind (e.g. transfer)")
	cmd.Flags().IntVar(&limit, "limit", 100, "most entries to list, 1 to 1000")
	return cmd
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

func newRetirementsCmd() *cobra.Command {
	var f apiFlags
	var after int64
	var limit int
	cmd := &cobra.Command{
		Use:   "retirements",
		Short: "List public retirement records",
		Long: `List retirements of --registry after sequence number --after (public, no token): who
the units were retired for, why, and which serial blocks.` + exitCodesHelp,
		Example: `  corridor retirements --registry TH
  corridor retirements --after 30 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 1 || limit > 1000 {
				return usageError(cmd, "--limit must be from 1 to 1000")
			}
			list, err := f.client().Retirements(cmd.Context(), f.registry, after, limit)
			if err != nil {
				return f.apiError("retirements", err)
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, map[string]any{"retirements": list})
			}
			t := newTable(out, "SEQ", "AT", "QUANTITY", "BENEFICIARY", "PURPOSE", "YEAR", "SERIALS")
			for _, r := range list {
				serials := make([]string, len(r.Blocks))
				for i, b := range r.Blocks {
					serials[i] = b.Serial
				}
				t.row(r.Seq, r.At.UTC().Format(time.RFC3339), r.Quantity, r.Beneficiary, r.Purpose, optID(r.ComplianceYear), strings.Join(serials, " "))
			}
			if err := t.flush(); err != nil {
				return err
			}
			if len(list) == limit {
				fmt.Fprintf(cmd.ErrOrStderr(), "more retirements may follow: --after %d\n", list[len(list)-1].Seq)
			}
			return nil
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().Int64Var(&after, "after", 0, "list retirements with a sequence number above this")
	cmd.Flags().IntVar(&limit, "limit", 100, "most retirements to list, 1 to 1000")
	return cmd
}

func newOrgCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "org",
		Short: "Create or list organisations",
		Long:  "Organisations own accounts. Creating one needs an admin token; listing, an admin or auditor token." + exitCodesHelp,
		Example: `  corridor org create --name "Baowu Steel Trading" --country CN
  corridor org list`,
	}
	f.add(cmd.PersistentFlags())
	var req registry.CreateOrganisation
	create := &cobra.Command{
		Use:     "create",
		Short:   "Register an organisation (admin)",
		Example: `  corridor org create --name "Baowu Steel Trading" --country CN`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return submit(cmd, &f, "org create", req, func(res registry.Result) string {
				return fmt.Sprintf("organisation %d created: %s (%s)", res.ID, req.Name, req.Country)
			})
		},
	}
	create.Flags().StringVar(&req.Name, "name", "", "organisation name (required)")
	create.Flags().StringVar(&req.Country, "country", "", "ISO 3166-1 alpha-2 country code (required)")
	required(create, "name", "country")
	f.addKey(create.Flags())
	list := &cobra.Command{
		Use:     "list",
		Short:   "List organisations (admin or auditor)",
		Example: `  corridor org list --json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var out struct {
				Organisations []ledger.Organisation `json:"organisations"`
			}
			_, err := f.client().Do(cmd.Context(), http.MethodGet, "/api/v1/registries/"+url.PathEscape(f.registry)+"/organisations", "", nil, &out)
			if err != nil {
				return f.apiError("org list", err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			t := newTable(cmd.OutOrStdout(), "ID", "NAME", "COUNTRY", "CREATED")
			for _, o := range out.Organisations {
				t.row(o.ID, o.Name, o.Country, o.CreatedAt.UTC().Format(time.RFC3339))
			}
			return t.flush()
		},
	}
	cmd.AddCommand(create, list)
	return cmd
}
