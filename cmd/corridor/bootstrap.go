package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/host"
)

func newBootstrapCmd() *cobra.Command {
	var sf storageFlags
	var p host.BootstrapParams
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Create a registry's administrator organisation, national holding account and first admin token",
		Long: `Bootstrap works on the database directly, with the registry's server stopped (one
database has one serving process; bootstrap refuses while a server holds it): it
creates the registry node if it does not exist, registers the administrator's
organisation with a national holding account, and prints a new admin API token.
Every other organisation, account and token is then created through the API.

It is safe to rerun after a failure: each step's idempotency key is derived from
--registry, --org-name and --country, so a rerun finishes the steps left undone
instead of creating a second organisation. The token is printed once; a rerun
after it was made says so (--new-token issues another).

Exit codes: 0 done, 1 it could not run, 2 a flag is wrong, 3 refused (the registry
was already set up otherwise, or the registry rejected a value).

Environment: CORRIDOR_DATA_DIR, CORRIDOR_DATABASE_URL.`,
		Example: `  corridor bootstrap --registry VN --org-name "Viet Nam registry administrator" --country VN
  corridor serve --registries CN,ID,TH,VN`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := host.Bootstrap(cmd.Context(), sf.Storage, p)
			if err != nil {
				return hostError(err)
			}
			if res.Resumed {
				fmt.Fprintf(cmd.ErrOrStderr(), "registry %s: resumed an earlier bootstrap with the same inputs\n", p.Code)
			}
			// The token stays the last line: scripts take it from there.
			fmt.Fprintf(cmd.OutOrStdout(), "registry %s: organisation %d (%s), national holding account %d, admin token:\n%s\n", p.Code, res.OrgID, p.OrgName, res.AccountID, res.Token)
			return nil
		},
	}
	sf.add(cmd.Flags())
	cmd.Flags().StringVar(&p.Code, "registry", "", "registry code, 2-12 upper-case letters or digits (required)")
	cmd.Flags().StringVar(&p.OrgName, "org-name", "", "name of the registry administrator's organisation (required)")
	cmd.Flags().StringVar(&p.Country, "country", "", "ISO 3166-1 alpha-2 country of the administrator (required)")
	cmd.Flags().BoolVar(&p.NewToken, "new-token", false, "issue another admin token for an administrator bootstrapped before")
	required(cmd, "registry", "org-name", "country")
	return withUsageExit(cmd)
}
