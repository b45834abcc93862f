package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
)

func newVerifyCmd() *cobra.Command {
	var dataDir, dbURL, only string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Re-check every registry database: partition, conservation, journal hash chain, replay",
		Long: `Verify re-checks each registry node's database, with the server stopped or running:
the blocks of every issuance partition [1, issued] with no gap or overlap; units in
every state sum to the quantity issued; the journal's SHA-256 hash chain is intact;
replaying every journal request reproduces each entry and the blocks exactly; no
retired, cancelled or exported unit ever moved.

Exit code 0: consistent. Exit code 3: a violation (the first is named). Exit code 1: it
could not run.

Environment: CORRIDOR_DATA_DIR, CORRIDOR_DATABASE_URL.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return verify(cmd.Context(), cmd, dataDir, dbURL, only, asJSON)
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", envDefault("CORRIDOR_DATA_DIR", "./corridor-data"), "data directory of the SQLite registries (env CORRIDOR_DATA_DIR)")
	cmd.Flags().StringVar(&dbURL, "database-url", envDefault("CORRIDOR_DATABASE_URL", ""), "PostgreSQL URL; empty checks SQLite under --data-dir (env CORRIDOR_DATABASE_URL)")
	cmd.Flags().StringVar(&only, "registry", "", "check only this registry code (default: every registry found)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the reports as JSON")
	return cmd
}

// registryCodes lists the registries to verify: the SQLite files under
// dataDir, or the demo corridor's codes on PostgreSQL.
func registryCodes(dataDir, dbURL, only string) ([]string, error) {
	if only != "" {
		return []string{only}, nil
	}
	if dbURL != "" {
		return demoCodes(), nil
	}
	files, err := filepath.Glob(filepath.Join(dataDir, "registries", "*.db"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("verify: no registry databases under %s", filepath.Join(dataDir, "registries"))
	}
	var codes []string
	for _, f := range files {
		codes = append(codes, strings.TrimSuffix(filepath.Base(f), ".db"))
	}
	return codes, nil
}

func verify(ctx context.Context, cmd *cobra.Command, dataDir, dbURL, only string, asJSON bool) error {
	codes, err := registryCodes(dataDir, dbURL, only)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	var firstBad string
	reports := map[string]registry.Report{}
	for _, code := range codes {
		cfg := storeConfig(dataDir, dbURL, code)
		if cfg.Path != "" {
			if _, err := os.Stat(cfg.Path); err != nil {
				return fmt.Errorf("verify: registry %s: %w", code, err)
			}
		}
		db, err := store.Open(ctx, cfg)
		if err != nil {
			return fmt.Errorf("verify: registry %s: %w", code, err)
		}
		rep, err := registry.Verify(ctx, db)
		db.Close()
		if err != nil {
			return fmt.Errorf("verify: registry %s: %w", code, err)
		}
		reports[code] = rep
		if !asJSON {
			status := "ok"
			if !rep.OK() {
				status = "VIOLATION: " + rep.Violations[0]
			}
			fmt.Fprintf(out, "%-4s %d journal entries, %d issuances, %d units in %d blocks: %s\n", code, rep.Entries, rep.Issuances, rep.Units, rep.Blocks, status)
		}
		if !rep.OK() && firstBad == "" {
			firstBad = code + ": " + rep.Violations[0]
		}
	}
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		_ = enc.Encode(reports)
	}
	if firstBad != "" {
		return &exitError{code: 3, err: fmt.Errorf("verify: ledger inconsistent: %s", firstBad)}
	}
	return nil
}
