package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/host"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/hubhttp"
	"github.com/corridor-carbon/corridor/internal/ledger"
)

func newHubCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hub",
		Short: "The corridor hub's operations (reconcile)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newHubReconcileCmd())
	return cmd
}

func newHubReconcileCmd() *cobra.Command {
	var sf storageFlags
	var asJSON, dryRun bool
	var grace time.Duration
	var hubURL, token string
	var tlsOpt host.TLSOptions
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Reconcile the hub's records with every registry node now; freeze the blocks of each discrepancy",
		Long: `Reconcile compares the hub's copy of where each block of an origin issuance is with
each node's blocks at one snapshot (its journal head, signed with the node's key,
checked and recorded by the hub): totals per origin issuance and state, then the
serial blocks. Serials of transfers in flight (not final, or completed less than the
grace before) are left out. Each discrepancy is a finding with a stable code:

  reconcile_missing         the hub places serials at the node that it does not have
  reconcile_unexpected      the node has serials the hub places elsewhere
  reconcile_head_regressed  the node's head is below the one the hub recorded last
  reconcile_head_invalid    the head does not verify with the node's published key
  reconcile_key_changed     the node signs with another key than before
  reconcile_unreachable     the node could not be read
  reconcile_freeze_failed   the node refused the freeze

The findings are recorded in the hub's database, and the serials of each block
finding are frozen at the node (transaction kind freeze) unless already frozen: they
cannot be transferred, retired, cancelled, reserved or exported until the registry
administrator records the correcting transaction and unfreezes them
(POST /api/v1/registries/{registry}/freezes/{id}/unfreeze). Each node then keeps the
head the hub recorded (head_seen), which its verify checks the journal against.

Two ways to run it:

  --hub-url https://hub.example:8443 (a running 'serve --role hub')
      asks that hub to reconcile now (POST /hub/v1/reconcile with the hub
      administrator's token, --token or env CORRIDOR_HUB_ADMIN_TOKEN, the one the hub
      was started with as --hub-admin-token). The hub reads each node of its trust list
      with requests signed by its key, freezes by protocol message and re-sends
      head_seen until each node answers. --grace, --dry-run and the storage flags do
      not apply: the hub uses its own settings.
  without --hub-url, on the stopped embedded corridor's storage (the SQLite files
      under --data-dir/registries with --data-dir/hub.db, or the schemas of
      --database-url with corridor_hub): it opens every node (taking its serving
      lock), freezes directly and records the head at each node. A running embedded
      corridor reconciles on its own schedule (serve --reconcile-every).

It prints per node a line with the reconciliation id, the snapshot head and the
result, then one line per origin issuance with labelled columns:
  registry   the node reconciled
  origin     the origin issuance (origin registry/issuance id)
  state      the node's units of that issuance by state (held, reserved, retired…)
  node, hub  the total compared, out of the serials not in flight: of another
             registry's issuance the units present at the node, of the node's own
             issuance the units it exported; node as the node reports it, hub as
             the hub's records place them ("compared" says which)
  in-flight  the units left out as in flight
then the findings.
Exit code 0: clean. Exit code 3: findings, or the hub refused the token. Exit code 4:
the hub is not reachable or unavailable (retry later). Exit code 1: it could not run.
Exit code 2: a flag is wrong.

Environment: CORRIDOR_DATA_DIR, CORRIDOR_DATABASE_URL, CORRIDOR_HUB_URL,
CORRIDOR_HUB_ADMIN_TOKEN, CORRIDOR_TLS_CA, CORRIDOR_TLS_CLIENT_CERT, CORRIDOR_TLS_CLIENT_KEY.`,
		Example: `  corridor hub reconcile --data-dir ./data
  CORRIDOR_HUB_ADMIN_TOKEN=… corridor hub reconcile --hub-url https://hub.example:8443 --tls-ca ca.pem \
      --tls-client-cert admin.pem --tls-client-key admin-key.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var rs []hub.Reconciliation
			var err error
			if !cmd.Flags().Changed("token") {
				// Read here, not as the flag's default: --help never shows it.
				token = envDefault("CORRIDOR_HUB_ADMIN_TOKEN", "")
			}
			if hubURL != "" {
				if token == "" {
					return usageError(cmd, "--hub-url needs the hub administrator's token (--token or env CORRIDOR_HUB_ADMIN_TOKEN)")
				}
				if rs, err = host.ReconcileRemote(cmd.Context(), hubURL, token, tlsOpt); errors.Is(err, hubhttp.ErrNoHubAPI) {
					return &exitError{code: exitRejected, err: fmt.Errorf("hub reconcile: no hub API at %s (is it a 'serve --role hub'? an embedded 'serve' reconciles on its own schedule, --reconcile-every)", hubURL)}
				} else if err != nil {
					return remoteReconcileError(hubURL, err)
				}
			} else {
				opt := hub.ReconcileOptions{Grace: grace, NoFreeze: dryRun}
				if grace == 0 {
					opt.Grace = -1
				}
				rs, err = host.Reconcile(cmd.Context(), sf.Storage, opt)
			}
			if err != nil {
				return hostError(err)
			}
			out := cmd.OutOrStdout()
			findings := 0
			for _, r := range rs {
				findings += len(r.Findings)
			}
			if asJSON {
				if err := printJSON(out, rs); err != nil {
					return err
				}
			} else {
				printReconciliations(out, rs)
			}
			if findings > 0 {
				return &exitError{code: exitRejected, err: fmt.Errorf("hub reconcile: %d findings", findings)}
			}
			return nil
		},
	}
	sf.add(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the reconciliations as JSON")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "offline: record the findings but freeze nothing")
	cmd.Flags().DurationVar(&grace, "grace", 0, "offline: leave out transfers completed less than this long ago (default: none, the server is stopped)")
	cmd.Flags().StringVar(&hubURL, "hub-url", envDefault("CORRIDOR_HUB_URL", ""), "ask this running hub (serve --role hub) to reconcile now (env CORRIDOR_HUB_URL)")
	cmd.Flags().StringVar(&token, "token", "", "with --hub-url: the hub administrator's token; prefer the env (env CORRIDOR_HUB_ADMIN_TOKEN)")
	cmd.Flags().StringVar(&tlsOpt.CA, "tls-ca", envDefault("CORRIDOR_TLS_CA", ""), "with --hub-url: verify the hub against this PEM CA instead of the system roots (env CORRIDOR_TLS_CA)")
	cmd.Flags().StringVar(&tlsOpt.ClientCert, "tls-client-cert", envDefault("CORRIDOR_TLS_CLIENT_CERT", ""), "with --hub-url: present this PEM client certificate (a hub started with --tls-client-ca requires one) (env CORRIDOR_TLS_CLIENT_CERT)")
	cmd.Flags().StringVar(&tlsOpt.ClientKey, "tls-client-key", envDefault("CORRIDOR_TLS_CLIENT_KEY", ""), "the PEM private key of --tls-client-cert (env CORRIDOR_TLS_CLIENT_KEY)")
	return withUsageExit(cmd)
}

// printReconciliations prints each reconciliation: a line per node, a
// labelled line per origin issuance, the findings.
func printReconciliations(w io.Writer, rs []hub.Reconciliation) {
	for _, r := range rs {
		status := "clean"
		if !r.Clean() {
			status = fmt.Sprintf("%d findings", len(r.Findings))
		}
		fmt.Fprintf(w, "%-5s %s head %d:%.12s (snapshot at entry %d): %s\n", r.Registry, r.ID, r.Head.Seq, r.Head.Hash, r.SnapshotSeq, status)
		for _, t := range r.Totals {
			compared := "present at " + r.Registry
			if t.Origin.Registry == r.Registry {
				compared = "exported by " + r.Registry
			}
			fmt.Fprintf(w, "      registry %s  origin %s/%d  state %s  node %d  hub %d  in-flight %d  (compared: units %s)\n",
				r.Registry, t.Origin.Registry, t.Origin.Issuance, states(t.ByState), t.Node, t.Hub, t.InFlight, compared)
		}
		for _, f := range r.Findings {
			frozen := ""
			if f.Freeze != 0 {
				// The freeze's id at the node, as its freezes list, 'corridor
				// serial' and POST …/freezes/{id}/unfreeze name it.
				frozen = fmt.Sprintf(" [frozen at %s by freeze %d]", r.Registry, f.Freeze)
			}
			fmt.Fprintf(w, "      %s: %s%s\n", f.Code, f.Detail, frozen)
		}
	}
}

// states formats units by state, "held=100,retired=5" ("-" when none).
func states(m map[ledger.State]int64) string {
	keys := make([]string, 0, len(m))
	for s := range m {
		keys = append(keys, string(s))
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[ledger.State(k)]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}

// remoteReconcileError maps the hub's answer to POST /hub/v1/reconcile to
// the exit codes every command uses (problemExit): a token the hub refused
// (401) is 3, a hub that is unavailable (503) or not reachable is 4.
func remoteReconcileError(hubURL string, err error) error {
	var pe *hubhttp.ProblemError
	var se *hubhttp.StatusError
	var ue *url.Error
	switch {
	case errors.As(err, &pe) && pe.Status == http.StatusUnauthorized:
		return &exitError{code: exitRejected, err: fmt.Errorf("hub reconcile: the hub refused the token (HTTP 401 %s): give the token the hub was started with (--hub-admin-token)", pe.Code)}
	case errors.As(err, &pe) && pe.Status == http.StatusServiceUnavailable:
		return &exitError{code: problemExit(pe.Status), err: fmt.Errorf("hub reconcile: the hub is unavailable now, retry later (HTTP 503 %s): %s", pe.Code, pe.Detail)}
	case errors.As(err, &pe):
		return &exitError{code: problemExit(pe.Status), err: fmt.Errorf("hub reconcile: rejected by the hub (HTTP %d %s): %s", pe.Status, pe.Code, pe.Detail)}
	case errors.As(err, &se):
		return &exitError{code: problemExit(se.Status), err: fmt.Errorf("hub reconcile: %w", err)}
	case errors.As(err, &ue) && !errors.Is(err, context.Canceled):
		return &exitError{code: exitUnreachable, err: fmt.Errorf("hub reconcile: cannot reach the hub at %s: %w", hubURL, ue.Err)}
	}
	return hostError(err)
}
