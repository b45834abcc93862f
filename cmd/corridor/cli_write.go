package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// submit sends one ledger transaction with an idempotency key and prints
// its result: describe's sentence and the blocks it moved, or the JSON.
func submit(cmd *cobra.Command, f *apiFlags, what string, req registry.Request, describe func(registry.Result) string) error {
	key := f.idempotencyKey(cmd)
	res, err := f.client().Submit(cmd.Context(), f.registry, key, req)
	if err != nil {
		return f.apiError(what, err)
	}
	out := cmd.OutOrStdout()
	if f.json {
		return printJSON(out, res)
	}
	if res.Replayed {
		fmt.Fprintf(out, "replayed: registry %s already committed this request as journal entry %d; nothing was applied again\n", f.registry, res.Seq)
	}
	fmt.Fprintf(out, "registry %s, journal entry %d: %s\n", f.registry, res.Seq, describe(res))
	if len(res.Blocks) > 0 {
		return printBlocks(out, res.Blocks)
	}
	return nil
}

// unitFlags select the units a transfer, retirement, cancellation or
// reservation moves.
type unitFlags struct {
	quantity int64
	unitType string
	vintage  int
	issuance int64
	serials  []string
}

func (u *unitFlags) add(fs *pflag.FlagSet) {
	fs.Int64Var(&u.quantity, "quantity", 0, "number of units (with --unit-type); oldest vintage, issuance and serial first")
	fs.StringVar(&u.unitType, "unit-type", "", "unit type of a --quantity selection (e.g. CCER, SPEGRK, TVER)")
	fs.IntVar(&u.vintage, "vintage", 0, "only units of this vintage (with --quantity)")
	fs.Int64Var(&u.issuance, "issuance", 0, "only units of this issuance id (with --quantity)")
	fs.StringSliceVar(&u.serials, "serial", nil, "serial block to move instead of a quantity (repeat the flag or separate with commas)")
}

// units checks that exactly one selection is given; the server checks the
// rest (balances, serial ranges, unit types).
func (u *unitFlags) units(cmd *cobra.Command) (registry.Units, error) {
	qty := cmd.Flags().Changed("quantity")
	switch {
	case qty && len(u.serials) > 0:
		return registry.Units{}, usageError(cmd, "give either --quantity or --serial, not both")
	case !qty && len(u.serials) == 0:
		return registry.Units{}, usageError(cmd, "say which units: --quantity N --unit-type T, or --serial SERIAL")
	case qty && u.unitType == "":
		return registry.Units{}, usageError(cmd, "--quantity needs --unit-type, so that one transaction never mixes unit types")
	case !qty && (u.unitType != "" || u.vintage != 0 || u.issuance != 0):
		return registry.Units{}, usageError(cmd, "--unit-type, --vintage and --issuance filter a --quantity selection; a --serial names its units itself")
	case cmd.Flags().Changed("vintage") && u.vintage <= 0:
		return registry.Units{}, usageError(cmd, "--vintage must be a year, not %d", u.vintage)
	case qty && (u.quantity <= 0 || u.quantity > ledger.MaxSerial):
		return registry.Units{}, usageError(cmd, "--quantity must be a positive whole number of units of at most %d, not %d", ledger.MaxSerial, u.quantity)
	}
	// What can be checked here is checked before anything is sent.
	if err := positiveIDs(cmd, "issuance"); err != nil {
		return registry.Units{}, err
	}
	for _, text := range u.serials {
		if _, err := ledger.ParseSerial(text); err != nil {
			return registry.Units{}, usageError(cmd, "--serial %q is not a serial block (REGISTRY-UNITTYPE-PROJECT-VINTAGE-ISSUANCE-START-END): %v", text, err)
		}
	}
	return registry.Units{Quantity: u.quantity, UnitType: u.unitType, Vintage: u.vintage, IssuanceID: u.issuance, Serials: u.serials}, nil
}

// positiveIDs refuses an id flag given as zero or negative: ids start at 1,
// so the server could only refuse the request (and an unreachable one
// would make a typo look like an outage, exit 4).
func positiveIDs(cmd *cobra.Command, names ...string) error {
	for _, name := range names {
		fl := cmd.Flags().Lookup(name)
		if fl == nil || !fl.Changed {
			continue
		}
		if id, err := strconv.ParseInt(fl.Value.String(), 10, 64); err != nil || id <= 0 {
			return usageError(cmd, "--%s must be a positive id, not %s", name, fl.Value.String())
		}
	}
	return nil
}

func movedSentence(verb string, res registry.Result) string {
	return fmt.Sprintf("%s %s in %s", verb, count(res.Quantity, "unit", "units"), count(len(res.Blocks), "block", "blocks"))
}

func newIssueCmd() *cobra.Command {
	var f apiFlags
	var req registry.Issue
	cmd := &cobra.Command{
		Use:   "issue",
		Short: "Issue units of a project and vintage into an account (admin)",
		Long: `Issue --quantity units (one unit = one tonne CO2e) of a project's vintage into an account.
The issuance gets serials 1..quantity; the serial block printed names it.` + exitCodesHelp,
		Example: `  corridor issue --standard CCER --unit-type CCER --project CCER-14-2024-001 \
    --project-name "Offshore wind, Fujian" --methodology CCER-01-001-V01 \
    --host-country CN --vintage 2024 --quantity 50000 --account 2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := positiveIDs(cmd, "account"); err != nil {
				return err
			}
			if req.Quantity <= 0 || req.Quantity > ledger.MaxSerial {
				return usageError(cmd, "--quantity must be a positive whole number of units of at most %d, not %d", ledger.MaxSerial, req.Quantity)
			}
			if err := registry.CheckIssuanceFacts(req, time.Now()); err != nil {
				if e, ok := ledger.AsError(err); ok {
					return usageError(cmd, "--%s: %s (%s)", strings.ReplaceAll(e.Field, "_", "-"), e.Detail, e.Code)
				}
				return err
			}
			return submit(cmd, &f, "issue", req, func(res registry.Result) string {
				return fmt.Sprintf("issued %d %s units as issuance %d into account %d", res.Quantity, req.UnitType, res.ID, req.AccountID)
			})
		},
	}
	f.add(cmd.Flags())
	f.addKey(cmd.Flags())
	fs := cmd.Flags()
	fs.StringVar(&req.Standard, "standard", "", "standard or programme (e.g. CCER, T-VER, SRN-PPI) (required)")
	fs.StringVar(&req.UnitType, "unit-type", "", "unit type code, 2-12 upper-case letters or digits (required)")
	fs.StringVar(&req.Project, "project", "", "project identifier used in serials (required)")
	fs.StringVar(&req.ProjectName, "project-name", "", "project name")
	fs.StringVar(&req.Methodology, "methodology", "", "methodology identifier")
	fs.StringVar(&req.HostCountry, "host-country", "", "ISO 3166-1 alpha-2 host country (required)")
	fs.IntVar(&req.Vintage, "vintage", 0, "vintage year (required)")
	fs.Int64Var(&req.Quantity, "quantity", 0, "units to issue (required)")
	fs.Int64Var(&req.AccountID, "account", 0, "account that receives the units (required)")
	required(cmd, "standard", "unit-type", "project", "host-country", "vintage", "quantity", "account")
	return cmd
}

// submitFrom is the RunE of a command that takes units out of --from for
// good (retire, cancel): it checks the account id and the units named,
// puts the units in *units (a field of *req), and submits *req as what.
func submitFrom[R registry.Request](f *apiFlags, u *unitFlags, what string, req *R, units *registry.Units, describe func(registry.Result) string) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		if err := positiveIDs(cmd, "from"); err != nil {
			return err
		}
		picked, err := u.units(cmd)
		if err != nil {
			return err
		}
		*units = picked
		return submit(cmd, f, what, *req, describe)
	}
}

func newRetireCmd() *cobra.Command {
	var f apiFlags
	var u unitFlags
	var req registry.Retire
	cmd := &cobra.Command{
		Use:   "retire",
		Short: "Retire units for a claim (they never move again)",
		Long: `Retire units from --from on behalf of --beneficiary for --purpose (for example a
compliance obligation with --compliance-year, or a voluntary claim). The record is public.
--purpose icc surrenders ICCs under Singapore's carbon tax for --compliance-year, within 5 % of
the facility's taxable emissions for that year ('corridor report-emissions').` + exitCodesHelp,
		Example: `  corridor retire --from 4 --quantity 500 --unit-type CCER --beneficiary "Baowu Steel" \
    --purpose "China ETS compliance offset" --compliance-year 2025
  corridor retire --registry SG --from 3 --quantity 1000 --unit-type TVER --beneficiary "Jurong refinery" \
    --purpose icc --compliance-year 2026`,
		Args: cobra.NoArgs,
	}
	run := submitFrom(&f, &u, "retire", &req, &req.Units, func(res registry.Result) string {
		return movedSentence(fmt.Sprintf("retired from account %d for %s:", req.From, req.Beneficiary), res)
	})
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if strings.EqualFold(strings.TrimSpace(req.Purpose), registry.PurposeICC) && req.ComplianceYear == 0 {
			return usageError(cmd, "--purpose icc (a Singapore carbon-tax surrender) needs --compliance-year: the emissions year the ICCs pay tax for")
		}
		return run(cmd, args)
	}
	f.add(cmd.Flags())
	f.addKey(cmd.Flags())
	u.add(cmd.Flags())
	cmd.Flags().Int64Var(&req.From, "from", 0, "account the units are retired from (required)")
	cmd.Flags().StringVar(&req.Beneficiary, "beneficiary", "", "on whose behalf the units are retired (required)")
	cmd.Flags().StringVar(&req.Purpose, "purpose", "", "what the retirement is for (required)")
	cmd.Flags().IntVar(&req.ComplianceYear, "compliance-year", 0, "compliance year the retirement counts for")
	cmd.Flags().StringVar(&req.Reason, "reason", "", "free-text note")
	required(cmd, "from", "beneficiary", "purpose")
	return cmd
}

func newCancelCmd() *cobra.Command {
	var f apiFlags
	var u unitFlags
	var req registry.Cancel
	cmd := &cobra.Command{
		Use:   "cancel",
		Short: "Cancel units without a claim (they never move again)",
		Long:  `Cancel units from --from: they leave circulation without anyone claiming them.` + exitCodesHelp,
		Example: `  corridor cancel --from 2 --quantity 100 --unit-type CCER --reason "voluntary cancellation"
  corridor cancel --from 2 --serial CN-CCER-CCER-DEMO-0001-2024-1-1-100`,
		Args: cobra.NoArgs,
		RunE: submitFrom(&f, &u, "cancel", &req, &req.Units, func(res registry.Result) string {
			return movedSentence(fmt.Sprintf("cancelled from account %d:", req.From), res)
		}),
	}
	f.add(cmd.Flags())
	f.addKey(cmd.Flags())
	u.add(cmd.Flags())
	cmd.Flags().Int64Var(&req.From, "from", 0, "account the units are cancelled from (required)")
	cmd.Flags().StringVar(&req.Reason, "reason", "", "free-text note")
	required(cmd, "from")
	return cmd
}

func newReserveCmd() *cobra.Command {
	var f apiFlags
	var u unitFlags
	var req registry.Reserve
	var authority string
	var authorityOrg int64
	var expiresIn time.Duration
	cmd := &cobra.Command{
		Use:   "reserve",
		Short: "Put units in escrow for a two-phase transfer (its authority completes or voids it)",
		Long: `Put units of --from in escrow for a two-phase transfer: to an account of this registry (--to)
or out of it (--to-registry and --to-account-ref, only with --authority hub: units leave for
another registry only through the hub; send them with 'corridor transfer --to-registry').
The escrow names its settlement authority (--authority): the registry administrator (default,
a local two-phase transfer), the hub (a cross-registry transfer) or a trading venue (delivery
versus payment), the last two with --authority-org. Only the authority settles it with 'corridor complete ID' or 'corridor void ID';
the owner cannot void it. After --expires-in (default 24h, from 1m to 720h) the registry voids
it itself.` + exitCodesHelp,
		Example: `  corridor reserve --from 4 --to 3 --quantity 250 --unit-type CCER
  corridor reserve --from 4 --to 3 --quantity 250 --unit-type CCER --authority venue --authority-org 9 --expires-in 2h
  corridor reserve --from 4 --to-registry TH --to-account-ref TH-4 --quantity 250 --unit-type CCER --authority hub --authority-org 7`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := positiveIDs(cmd, "from", "to"); err != nil {
				return err
			}
			local := cmd.Flags().Changed("to")
			remote := req.ToRegistry != "" || req.ToAccountRef != ""
			switch {
			case local && remote:
				return usageError(cmd, "give either --to or --to-registry with --to-account-ref, not both")
			case !local && !remote:
				return usageError(cmd, "say where the units go: --to ACCOUNT, or --to-registry R --to-account-ref X")
			case remote && (req.ToRegistry == "" || req.ToAccountRef == ""):
				return usageError(cmd, "--to-registry and --to-account-ref go together")
			case local && req.From == req.ToAccount:
				return usageError(cmd, "--from and --to are the same account (%d)", req.From)
			}
			au := registry.Authority{Role: registry.AuthorityRole(authority), OrgID: authorityOrg}
			switch au.Role {
			case registry.AuthorityRegistry:
				if authorityOrg != 0 {
					return usageError(cmd, "--authority-org names a hub or venue; the registry authority is the registry administrator")
				}
			case registry.AuthorityHub, registry.AuthorityVenue:
				if authorityOrg <= 0 {
					return usageError(cmd, "--authority %s needs --authority-org, the %s's organisation id in this registry", au.Role, au.Role)
				}
			default:
				return usageError(cmd, "--authority must be registry, hub or venue, not %q", authority)
			}
			req.Authority = &au
			if expiresIn%time.Second != 0 || expiresIn < registry.MinEscrowSeconds*time.Second || expiresIn > registry.MaxEscrowSeconds*time.Second {
				return usageError(cmd, "--expires-in must be whole seconds from %s to %s, not %s",
					time.Duration(registry.MinEscrowSeconds)*time.Second, time.Duration(registry.MaxEscrowSeconds)*time.Second, expiresIn)
			}
			req.ExpiresIn = int64(expiresIn / time.Second)
			units, err := u.units(cmd)
			if err != nil {
				return err
			}
			req.Units = units
			return submit(cmd, &f, "reserve", req, func(res registry.Result) string {
				to := fmt.Sprintf("account %d", req.ToAccount)
				if remote {
					to = fmt.Sprintf("%s account %s", req.ToRegistry, req.ToAccountRef)
				}
				return movedSentence(fmt.Sprintf("escrow %d for %s, settled by %s, expires %s (settle with 'corridor complete %d' or 'corridor void %d'):",
					res.Pending, to, au, res.ExpiresAt.UTC().Format(time.RFC3339), res.Pending, res.Pending), res)
			})
		},
	}
	f.add(cmd.Flags())
	f.addKey(cmd.Flags())
	u.add(cmd.Flags())
	cmd.Flags().Int64Var(&req.From, "from", 0, "account the units are reserved in (required)")
	cmd.Flags().Int64Var(&req.ToAccount, "to", 0, "target account of this registry")
	cmd.Flags().StringVar(&req.ToRegistry, "to-registry", "", "target registry code, for a transfer out of this registry")
	cmd.Flags().StringVar(&req.ToAccountRef, "to-account-ref", "", "target account's reference in --to-registry")
	cmd.Flags().StringVar(&authority, "authority", string(registry.AuthorityRegistry), "who settles the escrow: registry, hub or venue")
	cmd.Flags().Int64Var(&authorityOrg, "authority-org", 0, "organisation id of the hub or venue (with --authority hub|venue)")
	cmd.Flags().DurationVar(&expiresIn, "expires-in", registry.DefaultEscrowSeconds*time.Second, "how long the escrow lasts before the registry voids it")
	required(cmd, "from")
	return cmd
}

// newSettleCmd is `corridor complete` (complete is true) or `corridor void`.
func newSettleCmd(complete bool) *cobra.Command {
	var f apiFlags
	var reason string
	cmd := &cobra.Command{
		Use:     "complete PENDING",
		Short:   "Complete an escrow: the units reach their target (its settlement authority)",
		Long:    `Settle escrow PENDING: the reserved units go to the target account, or are marked exported when they left the registry. Only the escrow's authority may (an admin token for the registry authority).` + exitCodesHelp,
		Example: `  corridor complete 57 --token $CORRIDOR_TOKEN`,
		Args:    cobra.ExactArgs(1),
	}
	if !complete {
		cmd.Use = "void PENDING"
		cmd.Short = "Void an escrow: the units return to the sending account (its settlement authority)"
		cmd.Long = `Cancel escrow PENDING: the reserved units return to the account they were reserved in. Only the escrow's authority may; the owner cannot.` + exitCodesHelp
		cmd.Example = `  corridor void 57 --reason "buyer withdrew"`
		cmd.Flags().StringVar(&reason, "reason", "", "why the reservation is voided")
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		id, err := parseID(cmd, "pending transaction id", args[0])
		if err != nil {
			return err
		}
		if complete {
			return submit(cmd, &f, "complete", registry.Complete{Pending: id}, func(res registry.Result) string {
				return movedSentence(fmt.Sprintf("pending transaction %d completed:", id), res)
			})
		}
		return submit(cmd, &f, "void", registry.Void{Pending: id, Reason: reason}, func(res registry.Result) string {
			return movedSentence(fmt.Sprintf("pending transaction %d voided, returned", id), res)
		})
	}
	f.add(cmd.Flags())
	f.addKey(cmd.Flags())
	return cmd
}

func newTokenCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:     "token",
		Short:   "Create API tokens (admin)",
		Long:    "Manage API tokens of --registry through the API; needs an admin token." + exitCodesHelp,
		Example: `  corridor token create --org 4 --role holder --name "Baowu trading desk"`,
	}
	f.add(cmd.PersistentFlags())
	var req registry.CreateToken
	var role string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API token for an organisation (admin)",
		Long: `Create an API token with role admin, holder (moves its organisation's units) or
auditor (reads everything). The token is printed once, alone on the last line of
stdout; the registry keeps only its hash. A replay of the same --idempotency-key
cannot show it again.`,
		Example: `  corridor token create --org 4 --role holder --name "Baowu trading desk"
  export CORRIDOR_TOKEN=$(corridor token create --org 1 --role auditor --name audit 2>/dev/null | tail -1)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := positiveIDs(cmd, "org"); err != nil {
				return err
			}
			req.Role = ledger.Role(role)
			switch req.Role {
			case ledger.RoleAdmin, ledger.RoleHolder, ledger.RoleAuditor:
			default:
				return usageError(cmd, "--role must be admin, holder or auditor, not %q", role)
			}
			return submit(cmd, &f, "token create", req, func(res registry.Result) string {
				if res.Token == "" {
					return fmt.Sprintf("token %q for organisation %d was created earlier; its text is shown only once", req.Name, req.OrgID)
				}
				return fmt.Sprintf("%s token %q created for organisation %d; keep it secret, it is shown only this once:\n%s", req.Role, req.Name, req.OrgID, res.Token)
			})
		},
	}
	create.Flags().Int64Var(&req.OrgID, "org", 0, "organisation the token acts for (required)")
	create.Flags().StringVar(&role, "role", "", "admin, holder or auditor (required)")
	create.Flags().StringVar(&req.Name, "name", "", "a name to recognise the token by (required)")
	required(create, "org", "role", "name")
	f.addKey(create.Flags())
	cmd.AddCommand(create)
	return cmd
}
