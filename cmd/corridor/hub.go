package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/host"
	"github.com/corridor-carbon/corridor/internal/hub"
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
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Reconcile the hub's records with every registry node now; freeze the blocks of each discrepancy",
		Long: `Reconcile compares, for every registry of the storage (the SQLite files under
--data-dir/registries with the hub's --data-dir/hub.db, or the schemas of
--database-url with corridor_hub), the hub's copy of where each block of an origin
issuance is with the node's blocks at one snapshot (its journal head, signed with the
node's key, checked and recorded by the hub): totals per origin issuance and state,
then the serial blocks. Serials of transfers in flight (not final, or completed less
than --grace ago) are left out. Each discrepancy is a finding with a stable code:

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
(POST /api/v1/registries/{registry}/freezes/{id}/unfreeze). With --dry-run the
findings are recorded but nothing is frozen.

Run it with the server stopped (it opens every node); a running corridor reconciles
on its own schedule.

It prints per node: the snapshot head, the totals compared, the findings.
Exit code 0: clean. Exit code 3: findings. Exit code 1: it could not run. Exit code 2:
a flag is wrong.

Environment: CORRIDOR_DATA_DIR, CORRIDOR_DATABASE_URL.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opt := hub.ReconcileOptions{Grace: grace, NoFreeze: dryRun}
			if grace == 0 {
				opt.Grace = -1
			}
			rs, err := host.Reconcile(cmd.Context(), sf.Storage, opt)
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
				for _, r := range rs {
					status := "clean"
					if !r.Clean() {
						status = fmt.Sprintf("%d findings", len(r.Findings))
					}
					fmt.Fprintf(out, "%-5s %s head %d:%.12s (snapshot at entry %d): %s\n", r.Registry, r.ID, r.Head.Seq, r.Head.Hash, r.SnapshotSeq, status)
					for _, t := range r.Totals {
						fmt.Fprintf(out, "      %s/%d: node %d, hub %d", t.Origin.Registry, t.Origin.Issuance, t.Node, t.Hub)
						if t.InFlight > 0 {
							fmt.Fprintf(out, " (%d in flight)", t.InFlight)
						}
						fmt.Fprintln(out)
					}
					for _, f := range r.Findings {
						frozen := ""
						if f.Freeze != 0 {
							frozen = fmt.Sprintf(" [frozen by entry %d]", f.Freeze)
						}
						fmt.Fprintf(out, "      %s: %s%s\n", f.Code, f.Detail, frozen)
					}
				}
			}
			if findings > 0 {
				return &exitError{code: exitRejected, err: fmt.Errorf("hub reconcile: %d findings", findings)}
			}
			return nil
		},
	}
	sf.add(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the reconciliations as JSON")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "record the findings but freeze nothing")
	cmd.Flags().DurationVar(&grace, "grace", 0, "leave out transfers completed less than this long ago (default: none, the server is stopped)")
	return withUsageExit(cmd)
}
