package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/host"
	"github.com/corridor-carbon/corridor/internal/registry"
)

func newVerifyCmd() *cobra.Command {
	var sf storageFlags
	var only string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Re-check every registry database: partition, conservation, journal hash chain, replay",
		Long: `Verify re-checks each registry node's database, with the server stopped or running:
the blocks of every issuance partition [1, issued] with no gap or overlap; units in
every state sum to the quantity issued; the journal's SHA-256 hash chain is intact;
replaying every journal request reproduces each entry and the blocks exactly; no
retired, cancelled or exported unit ever moved.

It checks the registries the database holds (the SQLite files under
--data-dir/registries, or the registry_<code> schemas of --database-url), or only
--registry. It never writes: databases are opened read-only, nothing is created or
migrated.

Exit code 0: consistent. Exit code 3: a violation (the first is named). Exit code 1: it
could not run (no registry found, database unreachable). Exit code 2: a flag is wrong.

Environment: CORRIDOR_DATA_DIR, CORRIDOR_DATABASE_URL.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := host.Verify(cmd.Context(), sf.Storage, only)
			if err != nil {
				return hostError(err)
			}
			out := cmd.OutOrStdout()
			var firstBad string
			reports := map[string]registry.Report{}
			for _, v := range res {
				rep := v.Report
				reports[v.Code] = rep
				if !rep.OK() && firstBad == "" {
					firstBad = v.Code + ": " + rep.Violations[0]
				}
				if asJSON {
					continue
				}
				status := "ok"
				if !rep.OK() {
					status = "VIOLATION: " + rep.Violations[0]
				}
				fmt.Fprintf(out, "%-4s %d journal entries, %d issuances, %d units in %d blocks: %s\n", v.Code, rep.Entries, rep.Issuances, rep.Units, rep.Blocks, status)
			}
			if asJSON {
				if err := printJSON(out, reports); err != nil {
					return err
				}
			}
			if firstBad != "" {
				return &exitError{code: exitRejected, err: fmt.Errorf("verify: ledger inconsistent: %s", firstBad)}
			}
			return nil
		},
	}
	sf.add(cmd.Flags())
	cmd.Flags().StringVar(&only, "registry", "", "check only this registry code (default: every registry found)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the reports as JSON")
	return withUsageExit(cmd)
}
