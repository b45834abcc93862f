package main

import (
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/host"
)

func newServeCmd() *cobra.Command {
	var sf storageFlags
	var addr, codes string
	var seed bool
	var reconcileEvery time.Duration
	var gogc int
	var rf roleFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a Corridor node: API, web dashboard and demo data",
		Long: `Run a Corridor server: one registry node per code in --registries (each on its own
SQLite file under --data-dir/registries, or its own schema registry_<code> in the
PostgreSQL database of --database-url), linked by an embedded hub on its own database
(--data-dir/hub.db, or schema corridor_hub) through the signed hub protocol; the JSON
API under /api/v1, the web dashboard at /, /healthz and /metrics.

The default is the demo corridor: China's CCER registry (CN) and national ETS registry
(CNETS), Indonesia (ID), Thailand (TH), Viet Nam (VN), Malaysia (MY), Singapore (SG),
Cambodia (KH) and Japan (JP). On first start its registries are seeded with demo data,
their API tokens written to --data-dir/demo-tokens.json, and the mission's voluntary
pilots run through the hub (CN to ID, MY and TH, completed); one JCM transfer from Lao
PDR (LA) to Japan stays in flight, because the LA node is stopped in the demo (add LA to
--registries and it completes). Restarts reopen everything and seed nothing again.
--seed-demo=false leaves new registries empty (create the first admin token with
'corridor bootstrap').

Environment: CORRIDOR_ADDR, CORRIDOR_DATA_DIR, CORRIDOR_DATABASE_URL, CORRIDOR_REGISTRIES,
CORRIDOR_RECONCILE_EVERY, GOGC (the collector target, unless --gogc is given).`,
		Example: `  corridor serve
  corridor serve --addr 0.0.0.0:8080 --database-url postgres://corridor@db/corridor --seed-demo=false`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			gc, err := gogcFlag(cmd, gogc)
			if err != nil {
				return err
			}
			setGOGC(gc)
			if done, err := rf.serve(cmd, sf.Storage, addr); done {
				return err
			}
			// Bound first: a busy port or a malformed address fails before
			// any registry is created or seeded.
			ln, err := host.Listen(addr)
			if err != nil {
				return hostError(err)
			}
			defer ln.Close()
			nodes, err := host.Open(cmd.Context(), sf.Storage, host.OpenOptions{Codes: splitCodes(codes), SeedDemo: seed, ReconcileEvery: reconcileEvery})
			if err != nil {
				return hostError(err)
			}
			defer nodes.Close()
			tokens := ""
			if nodes.Demo {
				tokens = demoTokensFile(sf.Storage)
			}
			return host.Serve(cmd.Context(), ln, nodes, tokens)
		},
	}
	sf.add(cmd.Flags())
	cmd.Flags().StringVar(&addr, "addr", envDefault("CORRIDOR_ADDR", "127.0.0.1:8080"), "listen address (env CORRIDOR_ADDR)")
	cmd.Flags().StringVar(&codes, "registries", envDefault("CORRIDOR_REGISTRIES", strings.Join(demo.Codes(), ",")), "comma-separated registry codes to run (env CORRIDOR_REGISTRIES)")
	cmd.Flags().DurationVar(&reconcileEvery, "reconcile-every", envDuration("CORRIDOR_RECONCILE_EVERY", 10*time.Minute), "reconcile the hub (embedded, or --role hub: every node of its trust list) with every node at start and then at this interval; 0 turns it off (our default, not a regulatory figure) (env CORRIDOR_RECONCILE_EVERY)")
	addGOGCFlag(cmd.Flags(), &gogc, "of the server")
	cmd.Flags().BoolVar(&seed, "seed-demo", true, "seed empty demo registries with demo data and run the demo pilots")
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

// demoTokensFile is the storage's demo tokens file when it exists (a
// seeded demo, this start or an earlier one), for the dashboard's sign-in
// hint; "" when there is none.
func demoTokensFile(s host.Storage) string {
	path := s.TokensFile()
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	return path
}
