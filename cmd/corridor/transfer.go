package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/client"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// exitNotFinal: `transfer --wait` gave up waiting (--wait-timeout) while the
// hub's record was not final yet; the transfer goes on and may still
// complete or be voided. It extends the exit codes of main.go.
const exitNotFinal = 5

// transferExitHelp documents the exit codes of `corridor transfer`.
const transferExitHelp = `

Exit codes: 0 ok (with --wait: the transfer completed), 1 internal error, 2 usage
error (nothing sent), 3 the server rejected the request, or with --wait the
transfer ended without completing (rejected, terminated or cancelled: its
findings are printed), 4 the server cannot be reached, 5 --wait-timeout passed
before the transfer was final (it goes on: follow it with 'corridor transfers
show ID').
Environment: CORRIDOR_SERVER, CORRIDOR_TOKEN, CORRIDOR_REGISTRY, CORRIDOR_WAIT_TIMEOUT.`

// maxTransfersLimit is the most records 'transfers list' asks for: the
// API's bound (GET /api/v1/transfers?limit=1..1000).
const maxTransfersLimit = 1000

// DES statuses the CLI names in its messages (internal/hub/protocol).
const statusCompleted = 4

func newTransferCmd() *cobra.Command {
	var f apiFlags
	var u unitFlags
	var req registry.Transfer
	var x client.CrossBorder
	var wait bool
	var waitTimeout time.Duration
	var expiresIn time.Duration
	var a6 article6Flags
	cmd := &cobra.Command{
		Use:   "transfer",
		Short: "Transfer units to another account of the registry, or abroad to another registry of the corridor",
		Long: `Move units from --from to --to: a quantity of one unit type (the last block is split)
or explicit serial blocks. The token's organisation must own --from (or be the
registry's administrator).

With --to-registry the units go abroad, to account --to-account of another registry of
the corridor: they are reserved in escrow with the hub as settlement authority and the
hub checks the transfer against the corridor's agreements (unit type, the pair of
registries, --purpose) and relays it to the acquiring registry. The command prints the
transaction id, its status (DES number: 1 proposed, 2 checked, 8 accepted, 4 completed;
3, 6, 5 and 7 end it without the units moving) and the serial ranges reserved; the
units keep their serials in the acquiring registry. With --wait it follows the hub's
record until the transfer is final and, when this server runs the acquiring registry,
until the units are recorded there. The --article6-* flags add the sender's Article 6
statement for authorised units (authorisation, version, approach, first transferring
Party, first transfer or not), which the hub checks against its Article 6 ledger.` + transferExitHelp,
		Example: `  corridor transfer --from 2 --to 4 --quantity 1000 --unit-type CCER
  corridor transfer --from 2 --to 4 --serial CN-CCER-CCER-DEMO-0001-2024-1-1-500
  corridor transfer --registry CN --from 2 --to-registry TH --to-account 3 --quantity 500 --unit-type CCER --wait
  corridor transfer --registry CN --from 2 --to-registry ID --to-account 2 --quantity 100 --unit-type CCER --purpose voluntary --idempotency-key pilot-17
  corridor transfer --registry ID --from 5 --to-registry CN --to-account 3 --quantity 100 --unit-type CCER --purpose ndc \
    --article6-authorisation ID-A6-0001 --article6-approach CN-ID-PILOT --article6-party ID --article6-first-transfer --wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := positiveIDs(cmd, "from", "to", "to-account"); err != nil {
				return err
			}
			abroad := x.ToRegistry != ""
			local := cmd.Flags().Changed("to")
			switch {
			case abroad && local:
				return usageError(cmd, "give either --to (an account of this registry) or --to-registry with --to-account, not both")
			case !abroad && !local:
				return usageError(cmd, "say where the units go: --to ACCOUNT, or --to-registry R --to-account ACCOUNT")
			case abroad && !cmd.Flags().Changed("to-account"):
				return usageError(cmd, "--to-registry needs --to-account, the account in %s", x.ToRegistry)
			case !abroad && cmd.Flags().Changed("to-account"):
				return usageError(cmd, "--to-account names an account of --to-registry; within the registry use --to")
			case !abroad && (wait || cmd.Flags().Changed("purpose") || cmd.Flags().Changed("expires-in") || cmd.Flags().Changed("wait-timeout")):
				return usageError(cmd, "--purpose, --expires-in, --wait and --wait-timeout are for a transfer abroad (--to-registry)")
			case abroad && strings.EqualFold(x.ToRegistry, f.registry):
				return usageError(cmd, "--to-registry %s is the sending registry; within it use --to", x.ToRegistry)
			case local && req.From == req.To:
				return usageError(cmd, "--from and --to are the same account (%d)", req.From)
			case waitTimeout <= 0:
				return usageError(cmd, "--wait-timeout must be positive, not %s", waitTimeout)
			case expiresIn < 0 || expiresIn%time.Second != 0:
				return usageError(cmd, "--expires-in must be whole seconds, not %s", expiresIn)
			case abroad && x.Purpose != "" && !slices.Contains(api.PurposeCodes(), x.Purpose):
				// Refused here, before anything is reserved (the server
				// refuses it too, 400 purpose_unknown).
				return usageError(cmd, "--purpose %q is not one of the corridor's purposes: %s", x.Purpose, strings.Join(api.PurposeCodes(), ", "))
			}
			claim, err := a6.claim(cmd, abroad)
			if err != nil {
				return err
			}
			units, err := u.units(cmd)
			if err != nil {
				return err
			}
			if !abroad {
				req.Units = units
				return submit(cmd, &f, "transfer", req, func(res registry.Result) string {
					return movedSentence(fmt.Sprintf("transferred from account %d to account %d:", req.From, req.To), res)
				})
			}
			x.FromAccount = req.From
			x.Quantity, x.UnitType, x.IssuanceID, x.Vintage, x.Serials = units.Quantity, units.UnitType, units.IssuanceID, units.Vintage, units.Serials
			x.ExpiresIn = int64(expiresIn / time.Second)
			x.Article6 = claim
			return sendAbroad(cmd, &f, x, wait, waitTimeout)
		},
	}
	f.add(cmd.Flags())
	f.addKey(cmd.Flags())
	u.add(cmd.Flags())
	fs := cmd.Flags()
	fs.Int64Var(&req.From, "from", 0, "transferring account (required)")
	fs.Int64Var(&req.To, "to", 0, "acquiring account of this registry")
	fs.StringVar(&x.ToRegistry, "to-registry", "", "acquiring registry of the corridor, for a transfer abroad ('corridor registries' lists them)")
	fs.Int64Var(&x.ToAccount, "to-account", 0, "acquiring account's id in --to-registry")
	fs.StringVar(&x.Purpose, "purpose", "", "purpose code of the corridor agreement: "+strings.Join(api.PurposeCodes(), ", ")+" (default "+api.DefaultPurpose+")")
	fs.DurationVar(&expiresIn, "expires-in", 0, "lifetime of the escrow abroad (default: the registry's, 24h); it voids itself if the transfer has not completed")
	fs.BoolVar(&wait, "wait", false, "follow the transfer abroad until it is final; exit 0 only if it completed")
	fs.DurationVar(&waitTimeout, "wait-timeout", envDuration("CORRIDOR_WAIT_TIMEOUT", 2*time.Minute), "how long --wait waits for a final status (env CORRIDOR_WAIT_TIMEOUT)")
	a6.add(fs)
	required(cmd, "from")
	return cmd
}

// count is n with the English noun for it: 1 unit, 0 units, 2 units.
func count[N int | int64](n N, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// envDuration is the duration in environment variable name, or def when
// unset or not a duration.
func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(envDefault(name, "")); err == nil {
		return d
	}
	return def
}

// sendAbroad sends the cross-border transfer and prints its answer, then
// with wait follows the hub's record until it is final.
func sendAbroad(cmd *cobra.Command, f *apiFlags, x client.CrossBorder, wait bool, timeout time.Duration) error {
	key := f.idempotencyKey(cmd)
	c := f.client()
	sent, err := c.SendAbroad(cmd.Context(), f.registry, key, x)
	if err != nil {
		return f.apiError("transfer", err)
	}
	out := cmd.OutOrStdout()
	if !wait {
		if f.json {
			return printJSON(out, sent)
		}
		fmt.Fprintf(out, "transfer %s from %s account %d to %s account %d: status %d (%s); %s in %s reserved in escrow until %s\n",
			sent.ID, f.registry, x.FromAccount, x.ToRegistry, x.ToAccount, sent.Status, sent.StatusName, count(sent.Quantity, "unit", "units"), count(len(sent.Blocks), "block", "blocks"), sent.EscrowExpiresAt.UTC().Format(time.RFC3339))
		if err := printCorridorBlocks(out, sent.Blocks); err != nil {
			return err
		}
		fmt.Fprintf(out, "follow it with: corridor transfers show %s\n", sent.ID)
		return nil
	}
	if !f.json {
		fmt.Fprintf(out, "transfer %s from %s account %d to %s account %d: status %d (%s), %s; waiting up to %s for the outcome\n",
			sent.ID, f.registry, x.FromAccount, x.ToRegistry, x.ToAccount, sent.Status, sent.StatusName, count(sent.Quantity, "unit", "units"), timeout)
	}
	deadline := time.Now().Add(timeout)
	tr, err := awaitFinal(cmd.Context(), c, sent.ID, timeout)
	if err == nil && tr.Status == statusCompleted {
		// 4 is the sender's completion at the hub; the hub then forwards it
		// and the acquirer creates the blocks. Where this server runs the
		// acquirer, wait for them too, so that what --wait reports done
		// can be looked up there at once.
		if err = awaitArrival(cmd.Context(), c, tr, time.Until(deadline)); errors.Is(err, errNotFinal) {
			return &exitError{code: exitNotFinal, err: fmt.Errorf("transfer: %s completed at the hub, but %s has not recorded the units yet after %s (check with 'corridor serial %s --registry %s')",
				tr.ID, tr.ToRegistry, timeout, tr.Blocks[0].Serial, tr.ToRegistry)}
		}
	}
	if err != nil {
		if errors.Is(err, errNotFinal) {
			last := fmt.Sprintf("status %d (%s)", sent.Status, sent.StatusName)
			if tr.ID != "" {
				last = fmt.Sprintf("status %d (%s)", tr.Status, tr.StatusName)
			}
			return &exitError{code: exitNotFinal, err: fmt.Errorf("transfer: %s is still at %s after %s; it goes on (follow it with 'corridor transfers show %s')", sent.ID, last, timeout, sent.ID)}
		}
		return f.apiError("transfer "+sent.ID, err)
	}
	if f.json {
		if err := printJSON(out, tr); err != nil {
			return err
		}
	} else if err := printTransfer(out, tr); err != nil {
		return err
	}
	if tr.Status != statusCompleted {
		return &exitError{code: exitRejected, err: fmt.Errorf("transfer: %s ended %s (%d) without the units moving%s", tr.ID, tr.StatusName, tr.Status, reasons(tr))}
	}
	return nil
}

var errNotFinal = errors.New("transfer not final")

// awaitFinal polls the hub's record of id until it is final, with a
// growing interval (50 ms to 1 s). A record the hub does not have yet
// (its proposal still on the way) and an unreachable server are retried
// until timeout; any other refusal ends the wait. It returns the last
// record seen with errNotFinal at the timeout.
func awaitFinal(ctx context.Context, c *client.Client, id string, timeout time.Duration) (client.Transfer, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last client.Transfer
	interval := 50 * time.Millisecond
	for {
		tr, err := c.Transfer(ctx, id)
		var p *client.Problem
		switch {
		case err == nil:
			last = tr
			if tr.Final {
				return tr, nil
			}
		case errors.As(err, &p) && p.Code != "transfer_not_found" && p.Status < 500:
			return last, err
		}
		select {
		case <-ctx.Done():
			if parent := context.Cause(ctx); !errors.Is(parent, context.DeadlineExceeded) {
				return last, parent
			}
			return last, errNotFinal
		case <-time.After(interval):
		}
		interval = min(2*interval, time.Second)
	}
}

// awaitArrival polls the acquiring registry until it holds every block of
// tr (no part of them still outside it). A server that does not run the
// acquiring registry cannot tell: it returns at once.
func awaitArrival(ctx context.Context, c *client.Client, tr client.Transfer, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, max(timeout, 0))
	defer cancel()
	interval := 50 * time.Millisecond
	for {
		arrived := true
		for _, b := range tr.Blocks {
			info, err := c.Serial(ctx, tr.ToRegistry, b.Serial)
			var p *client.Problem
			if errors.As(err, &p) && p.Code == "registry_not_found" {
				return nil
			}
			if err != nil || !allPresent(info) {
				arrived = false
				break
			}
		}
		if arrived {
			return nil
		}
		select {
		case <-ctx.Done():
			if parent := context.Cause(ctx); !errors.Is(parent, context.DeadlineExceeded) {
				return parent
			}
			return errNotFinal
		case <-time.After(interval):
		}
		interval = min(2*interval, time.Second)
	}
}

// allPresent reports whether the looked-up range is in the registry (no
// block of it marked exported, as the parts of a foreign issuance that are
// elsewhere are).
func allPresent(info registry.SerialInfo) bool {
	if len(info.Blocks) == 0 {
		return false
	}
	for _, b := range info.Blocks {
		if b.State == ledger.Exported {
			return false
		}
	}
	return true
}

// reasons lists the findings of a transfer's history, for its error.
func reasons(tr client.Transfer) string {
	var parts []string
	for _, h := range tr.History {
		for _, fd := range h.Findings {
			parts = append(parts, fmt.Sprintf("%s at %d (%s): %s", fd.Code, h.Status, h.StatusName, fd.Detail))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, "; ")
}

func printCorridorBlocks(out io.Writer, bs []client.Block) error {
	t := newTable(out, "SERIAL", "QUANTITY", "ORIGIN", "PROJECT", "VINTAGE")
	for _, b := range bs {
		t.row(b.Serial, b.Quantity, b.OriginRegistry, b.Project, b.Vintage)
	}
	return t.flush()
}

// printTransfer prints the hub's record: a summary, the status history
// and the serial ranges.
// senderStates say what each client.Transfer SenderState means.
var senderStates = map[string]string{
	"reserved_not_sent":     "reserved, not yet sent to the hub",
	"sent_not_acknowledged": "reserved and sent, not yet acknowledged by the hub",
	"acknowledged":          "sent; the hub's last answer is the status above",
	"settled_not_reported":  "escrow settled here, the hub not yet told",
}

func printTransfer(out io.Writer, tr client.Transfer) error {
	acc := func(a string) string {
		if a == "" {
			return "(account not shown)"
		}
		return "account " + a
	}
	fmt.Fprintf(out, "Transfer %s: status %d (%s)%s\n  from     %s %s\n  to       %s %s\n  units    %d %s, purpose %s\n",
		tr.ID, tr.Status, tr.StatusName, map[bool]string{true: ", final", false: ", in progress"}[tr.Final],
		tr.FromRegistry, acc(tr.FromAccount), tr.ToRegistry, acc(tr.ToAccount), tr.Quantity, tr.UnitType, tr.Purpose)
	if tr.SenderState != "" {
		fmt.Fprintf(out, "  at %s   %s (the hub's record is not available: this is %s's own)\n", tr.FromRegistry, senderStates[tr.SenderState], tr.FromRegistry)
	}
	if !tr.EscrowExpiresAt.IsZero() && !tr.Final { // a final transfer's escrow is settled
		fmt.Fprintf(out, "  escrow   expires %s\n", tr.EscrowExpiresAt.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(out, "\nHistory (%s)\n", count(len(tr.History), "status change", "status changes"))
	t := newTable(out, "STATUS", "NAME", "AT", "FINDINGS")
	for _, h := range tr.History {
		var fs []string
		for _, fd := range h.Findings {
			fs = append(fs, fd.Code+": "+fd.Detail)
		}
		t.row(h.Status, h.StatusName, h.At.UTC().Format(time.RFC3339Nano), strings.Join(fs, "; "))
	}
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nSerial ranges (%s)\n", count(len(tr.Blocks), "range", "ranges"))
	return printCorridorBlocks(out, tr.Blocks)
}

// addConn registers only the connection flags (--server, --token), for
// commands that are not about one registry.
func (f *apiFlags) addConn(fs *pflag.FlagSet) {
	fs.StringVar(&f.server, "server", envDefault("CORRIDOR_SERVER", "http://127.0.0.1:8080"), "base URL of the Corridor server (env CORRIDOR_SERVER)")
	fs.StringVar(&f.token, "token", "", "API token (env CORRIDOR_TOKEN): a party's token shows the transfers' account numbers")
	f.tokenFlag = fs.Lookup("token")
	f.addTLS(fs)
}

// jsonFlags are the machine-output flags of a command group: --json, as
// on every registry command, and --format table|json, its older spelling
// (hidden; CORRIDOR_FORMAT sets it).
type jsonFlags struct {
	json   *bool
	format string
}

func (j *jsonFlags) add(fs *pflag.FlagSet, dst *bool) {
	j.json = dst
	fs.BoolVar(dst, "json", false, "print the API's JSON instead of readable text")
	fs.StringVar(&j.format, "format", envDefault("CORRIDOR_FORMAT", ""), "output: table or json (env CORRIDOR_FORMAT); the same as --json")
	_ = fs.MarkHidden("format")
}

// resolve checks --format and folds it into --json.
func (j *jsonFlags) resolve(cmd *cobra.Command) error {
	switch j.format {
	case "", "table":
	case "json":
		*j.json = true
	default:
		return usageError(cmd, "--format must be table or json, not %q (or use --json)", j.format)
	}
	return nil
}

// newTransfersCmd is `corridor transfers show|list`: the hub's records of
// cross-registry transfers.
func newTransfersCmd() *cobra.Command {
	var f apiFlags
	var out jsonFlags
	cmd := &cobra.Command{
		Use:   "transfers",
		Short: "Show the hub's records of transfers abroad (status history, serial ranges)",
		Long: `Read the corridor hub's records of cross-registry transfers through the server's API.
The records are public; the account numbers are shown only with a token of a party
(the sending or acquiring account's holder, or either registry's administrator or
auditor).` + exitCodesHelp,
		Example: `  corridor transfers show CN:57
  corridor transfers show CN:57 --json
  corridor transfers list --registry TH --active`,
	}
	f.addConn(cmd.PersistentFlags())
	out.add(cmd.PersistentFlags(), &f.json)

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one transfer: its status, DES status history with findings, and serial ranges",
		Example: `  corridor transfers show CN:57
  corridor transfers show CN:57 --json --token $CORRIDOR_TOKEN`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.resolve(cmd); err != nil {
				return err
			}
			if args[0] == "" || strings.ContainsAny(args[0], "/?#") {
				return usageError(cmd, "%q is not a transfer id (REGISTRY:SEQ, as 'corridor transfer' prints it)", args[0])
			}
			tr, err := f.client().Transfer(cmd.Context(), args[0])
			if err != nil {
				return f.apiError("transfers show", err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), tr)
			}
			return printTransfer(cmd.OutOrStdout(), tr)
		},
	}
	var q client.TransferQuery
	list := &cobra.Command{
		Use:   "list",
		Short: "List transfers abroad, newest first",
		Example: `  corridor transfers list
  corridor transfers list --registry TH --active --limit 20`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.resolve(cmd); err != nil {
				return err
			}
			if q.Limit < 1 || q.Limit > maxTransfersLimit {
				return usageError(cmd, "--limit must be from 1 to %d, not %d", maxTransfersLimit, q.Limit)
			}
			ts, err := f.client().Transfers(cmd.Context(), q)
			if err != nil {
				return f.apiError("transfers list", err)
			}
			w := cmd.OutOrStdout()
			if f.json {
				return printJSON(w, map[string]any{"transfers": ts})
			}
			t := newTable(w, "ID", "STATUS", "NAME", "FROM", "TO", "QUANTITY", "UNIT TYPE", "PURPOSE", "STARTED", "UPDATED")
			for _, tr := range ts {
				t.row(tr.ID, tr.Status, tr.StatusName, side(tr.FromRegistry, tr.FromAccount), side(tr.ToRegistry, tr.ToAccount), tr.Quantity, tr.UnitType, tr.Purpose,
					tr.StartedAt.UTC().Format(time.RFC3339), tr.UpdatedAt.UTC().Format(time.RFC3339))
			}
			return t.flush()
		},
	}
	list.Flags().StringVar(&q.Registry, "registry", "", "only transfers from or to this registry")
	list.Flags().BoolVar(&q.Active, "active", false, "only transfers that are not final")
	list.Flags().IntVar(&q.Limit, "limit", 100, fmt.Sprintf("at most this many (1 to %d, as the API's limit)", maxTransfersLimit))
	cmd.AddCommand(show, list)
	return cmd
}

func side(reg, acc string) string {
	if acc == "" {
		return reg
	}
	return reg + "/" + acc
}
