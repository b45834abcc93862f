package main

import (
	"fmt"
	"strings"

	"github.com/corridor-carbon/corridor/internal/ledger"

	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/host"
	"github.com/corridor-carbon/corridor/internal/registry"
)

func newVerifyCmd() *cobra.Command {
	var sf storageFlags
	var only string
	var asJSON bool
	var headFlags []string
	var corridor bool
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
--registry. With --head SEQ:HASH (a head kept from 'corridor head'; repeatable, needs
--registry) it also fails when the journal does not reach that entry or has another
hash there; without it, it checks the heads the node recorded as published.

With --corridor it verifies every registry and then the corridor: for every origin
issuance, the serials its origin shows exported are in exactly one other registry
(held, reserved, retired or cancelled there) and no registry has serials its origin
did not export; where the storage has a hub's database (the embedded corridor's
--data-dir/hub.db or schema corridor_hub, a 'serve --role hub' process's
--data-dir/network-hub.db or schema network_hub; each one found), the hub's copy of where each block is must match every node's blocks
(leaving out transfers completed in the last two minutes, whose import may be under
way), and every node's journal must reach the head the hub last recorded from it.
Each violation is printed. It never writes: databases are opened read-only, nothing is created or
migrated.

Exit code 0: consistent. Exit code 3: a violation (the first is named). Exit code 1: it
could not run (no registry found, database unreachable). Exit code 2: a flag is wrong
(also a --registry the storage does not hold; the message names those it holds).

Environment: CORRIDOR_DATA_DIR, CORRIDOR_DATABASE_URL.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if corridor {
				if only != "" || len(headFlags) > 0 {
					return usageError(cmd, "--corridor checks every registry: give no --registry or --head")
				}
				return verifyCorridor(cmd, sf.Storage, asJSON)
			}
			heads, err := parseHeads(cmd, only, headFlags)
			if err != nil {
				return err
			}
			res, err := host.Verify(cmd.Context(), sf.Storage, only, heads...)
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
				fmt.Fprintf(out, "%-5s %s: %s\n", v.Code, reportLine(rep), status)
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
	cmd.Flags().BoolVar(&corridor, "corridor", false, "also check the corridor: conservation across every registry and the hub's records against the nodes")
	cmd.Flags().StringArrayVar(&headFlags, "head", nil, "fail unless the journal reaches this kept head, SEQ:HASH (from 'corridor head'; repeatable; needs --registry)")
	return withUsageExit(cmd)
}

// parseHeads parses the --head flags; a head belongs to one registry, so
// they need --registry.
func parseHeads(cmd *cobra.Command, only string, flags []string) ([]ledger.HeadRef, error) {
	if len(flags) > 0 && only == "" {
		return nil, usageError(cmd, "--head needs --registry: a head belongs to one registry")
	}
	var out []ledger.HeadRef
	for _, f := range flags {
		r, err := ledger.ParseHeadRef(f)
		if err != nil {
			return nil, usageError(cmd, "--head: %v", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// verifyCorridor runs verify --corridor and prints every violation.
func verifyCorridor(cmd *cobra.Command, s host.Storage, asJSON bool) error {
	rep, err := host.VerifyCorridor(cmd.Context(), s)
	if err != nil {
		return hostError(err)
	}
	out := cmd.OutOrStdout()
	if asJSON {
		if err := printJSON(out, rep); err != nil {
			return err
		}
	} else {
		for _, v := range rep.Nodes {
			r := v.Report
			status := "ok"
			if !r.OK() {
				status = "VIOLATION"
			}
			fmt.Fprintf(out, "%-5s %s: %s\n", v.Code, reportLine(r), status)
			for _, x := range r.Violations {
				fmt.Fprintf(out, "      %s\n", x)
			}
		}
		hubNote := "no hub database"
		if rep.Hub {
			hubNote = "the hub's records checked (" + strings.Join(rep.HubDatabases, ", ") + ")"
		}
		status := "ok"
		if len(rep.Violations) > 0 {
			status = count(len(rep.Violations), "violation", "violations")
		}
		fmt.Fprintf(out, "corridor: %s, %s: %s\n", count(len(rep.Nodes), "registry", "registries"), hubNote, status)
		for _, x := range rep.Violations {
			fmt.Fprintf(out, "      %s\n", x)
		}
	}
	if !rep.OK() {
		n := len(rep.Violations)
		for _, v := range rep.Nodes {
			n += len(v.Report.Violations)
		}
		return &exitError{code: exitRejected, err: fmt.Errorf("verify --corridor: %s", count(n, "violation", "violations"))}
	}
	return nil
}

// reportLine sums up one registry's check: what its journal and blocks
// hold, the units it issued apart from the units in it now (a record of a
// foreign issuance spans the origin's whole quantity, most of it
// elsewhere, so the records' quantities add up to neither).
func reportLine(r registry.Report) string {
	iss := count(r.Issuances, "issuance", "issuances")
	if r.ForeignIssuances > 0 {
		iss += fmt.Sprintf(" (%d recorded from another registry)", r.ForeignIssuances)
	}
	return fmt.Sprintf("%s, %s, %s issued here, %s in this registry in %s",
		count(r.Entries, "journal entry", "journal entries"), iss, count(r.UnitsIssued, "unit", "units"), count(r.UnitsHere, "unit", "units"), count(r.Blocks, "block", "blocks"))
}
