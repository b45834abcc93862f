package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
)

func newBootstrapCmd() *cobra.Command {
	var dataDir, dbURL, code, orgName, country string
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Create a registry's administrator organisation, national holding account and first admin token",
		Long: `Bootstrap works on the database directly (the server may be stopped or running): it
creates the registry node if it does not exist, registers the administrator's
organisation with a national holding account, and prints a new admin API token.
Every other organisation, account and token is then created through the API.

Environment: CORRIDOR_DATA_DIR, CORRIDOR_DATABASE_URL.`,
		Example: `  corridor bootstrap --registry VN --org-name "Viet Nam registry administrator" --country VN
  corridor serve --registries CN,ID,TH,VN`,
		RunE: func(cmd *cobra.Command, args []string) error {
			tok, org, err := bootstrap(cmd.Context(), storeConfig(dataDir, dbURL, code), code, orgName, country)
			if err != nil {
				return &exitError{code: 3, err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "registry %s: organisation %d (%s), admin token:\n%s\n", code, org, orgName, tok)
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", envDefault("CORRIDOR_DATA_DIR", "./corridor-data"), "data directory of the SQLite registries (env CORRIDOR_DATA_DIR)")
	cmd.Flags().StringVar(&dbURL, "database-url", envDefault("CORRIDOR_DATABASE_URL", ""), "PostgreSQL URL; empty uses SQLite under --data-dir (env CORRIDOR_DATABASE_URL)")
	cmd.Flags().StringVar(&code, "registry", "", "registry code, 2-12 upper-case letters or digits (required)")
	cmd.Flags().StringVar(&orgName, "org-name", "", "name of the registry administrator's organisation (required)")
	cmd.Flags().StringVar(&country, "country", "", "ISO 3166-1 alpha-2 country of the administrator (required)")
	for _, f := range []string{"registry", "org-name", "country"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}

// bootstrap creates the administrator and returns a new admin token.
func bootstrap(ctx context.Context, cfg store.Config, code, orgName, country string) (string, int64, error) {
	if !ledger.ValidCode(code) {
		return "", 0, fmt.Errorf("bootstrap: registry code %q must be 2-12 upper-case letters or digits", code)
	}
	db, err := store.Open(ctx, cfg)
	if err != nil {
		return "", 0, err
	}
	defer db.Close()
	n, err := registry.Open(ctx, db, registry.Options{Code: code})
	if err != nil {
		return "", 0, err
	}
	defer n.Close()
	raw := make([]byte, 8)
	_, _ = rand.Read(raw)
	key := "bootstrap-" + hex.EncodeToString(raw)
	sys := registry.Actor{Role: ledger.RoleAdmin}
	org, err := n.Do(ctx, sys, key+"-org", registry.CreateOrganisation{Name: orgName, Country: country})
	if err != nil {
		return "", 0, fmt.Errorf("bootstrap: %w", err)
	}
	if _, err := n.Do(ctx, sys, key+"-acct", registry.OpenAccount{OrgID: org.ID, Type: ledger.NationalHolding, Name: "National holding account"}); err != nil {
		return "", 0, fmt.Errorf("bootstrap: %w", err)
	}
	tok, err := n.Do(ctx, sys, key+"-token", registry.CreateToken{OrgID: org.ID, Role: ledger.RoleAdmin, Name: "bootstrap admin"})
	if err != nil {
		return "", 0, fmt.Errorf("bootstrap: %w", err)
	}
	return tok.Token, org.ID, nil
}
