package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/host"
)

func newServeCmd() *cobra.Command {
	var sf storageFlags
	var addr, codes string
	var seed bool
	var rf roleFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a Corridor node: API, web dashboard and demo data",
		Long: `Run a Corridor server: one registry node per code in --registries (each on its own
SQLite file under --data-dir/registries, or its own schema registry_<code> in the
PostgreSQL database of --database-url), the JSON API under /api/v1, the web dashboard
at /, /healthz and /metrics. On first start the demo registries (CN, ID, TH) are
seeded with demo data and their API tokens written to --data-dir/demo-tokens.json;
--seed-demo=false leaves them empty (create the first admin token with
'corridor bootstrap').

Environment: CORRIDOR_ADDR, CORRIDOR_DATA_DIR, CORRIDOR_DATABASE_URL, CORRIDOR_REGISTRIES.`,
		Example: `  corridor serve
  corridor serve --addr 0.0.0.0:8080 --database-url postgres://corridor@db/corridor --seed-demo=false`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if done, err := rf.serve(cmd, sf.Storage, addr); done {
				return err
			}
			nodes, err := host.Open(cmd.Context(), sf.Storage, host.OpenOptions{Codes: splitCodes(codes), SeedDemo: seed})
			if err != nil {
				return hostError(err)
			}
			defer nodes.Close()
			return host.Serve(cmd.Context(), addr, nodes.List, nodes.Link)
		},
	}
	sf.add(cmd.Flags())
	cmd.Flags().StringVar(&addr, "addr", envDefault("CORRIDOR_ADDR", "127.0.0.1:8080"), "listen address (env CORRIDOR_ADDR)")
	cmd.Flags().StringVar(&codes, "registries", envDefault("CORRIDOR_REGISTRIES", "CN,ID,TH"), "comma-separated registry codes to run (env CORRIDOR_REGISTRIES)")
	cmd.Flags().BoolVar(&seed, "seed-demo", true, "seed empty demo registries (CN, ID, TH) with demo data")
	rf.add(cmd)
	return withUsageExit(cmd)
}

func splitCodes(s string) []string {
	var out []string
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}
