package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// newHeadCmd prints a registry's signed journal head, for an operator (or
// the hub) to keep and later hand to 'corridor verify --head'.
func newHeadCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "head",
		Short: "Print a registry's journal head, signed by the node, to keep",
		Long: `Head asks a running server for a registry's journal head (sequence number and hash
of the last entry) signed with the node's Ed25519 key, checks the signature against
the node's published key, and prints it. The node records every head it hands out,
so 'corridor verify' reports a journal later cut below it; keep the printed head
outside the node's database too, because someone who can cut the journal can also
delete those records: 'corridor verify --registry CODE --head SEQ:HASH' then fails
(exit 3) if the journal does not reach it. --json prints the signed head with its
signature (see GET /api/v1/registries/{code}/head in the OpenAPI document).` + exitCodesHelp,
		Example: `  corridor head --registry CN
  corridor head --registry CN --json > cn-head.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c := f.client()
			h, err := c.Head(cmd.Context(), f.registry)
			if err != nil {
				return f.apiError("head", err)
			}
			k, err := c.NodeKey(cmd.Context(), f.registry)
			if err != nil {
				return f.apiError("head", err)
			}
			pub, err := k.Ed25519()
			if err == nil {
				err = h.Verify(pub)
			}
			if err != nil {
				return &exitError{code: exitRejected, err: fmt.Errorf("head: the server's head does not verify with its key: %w", err)}
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, h)
			}
			fmt.Fprintf(out, "registry  %s\nhead      %d:%s\nat        %s\nkid       %s\nsignature %s\n\nTo check the journal still reaches it: corridor verify --registry %s --head %d:%s\n",
				h.Registry, h.Seq, h.Hash, h.At.Format(time.RFC3339Nano), h.KID, h.Signature, h.Registry, h.Seq, h.Hash)
			return nil
		},
	}
	f.add(cmd.Flags())
	return withUsageExit(cmd)
}
