package main

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// article6Flags are `corridor transfer`'s flags for the sender's Article 6
// statement of a transfer abroad (the article6 object of the cross-border
// request; the hub checks it against its Article 6 ledger).
type article6Flags struct {
	authorisation, approach, party string
	version                        int
	firstTransfer                  bool
}

func (a *article6Flags) add(fs *pflag.FlagSet) {
	fs.StringVar(&a.authorisation, "article6-authorisation", "", "Article 6 statement, abroad only: the authorisation the units carry (with --article6-approach and --article6-party)")
	fs.IntVar(&a.version, "article6-version", 1, "the authorisation's version the units carry (with --article6-authorisation)")
	fs.StringVar(&a.approach, "article6-approach", "", "the cooperative approach of the authorisation, e.g. CN-ID-PILOT (with --article6-authorisation)")
	fs.StringVar(&a.party, "article6-party", "", "the units' first transferring Party, e.g. ID (with --article6-authorisation)")
	fs.BoolVar(&a.firstTransfer, "article6-first-transfer", false, "declare this transfer the units' first transfer (with --article6-authorisation)")
}

// claim is the statement the flags make (nil without them), or a usage
// error: a statement needs a transfer abroad and all its parts, and is
// checked as the server checks it (registry.CheckArticle6Claim) before
// anything is sent.
func (a *article6Flags) claim(cmd *cobra.Command, abroad bool) (*registry.Article6Claim, error) {
	fs := cmd.Flags()
	var given []string
	for _, name := range []string{"article6-authorisation", "article6-version", "article6-approach", "article6-party", "article6-first-transfer"} {
		if fs.Changed(name) {
			given = append(given, "--"+name)
		}
	}
	switch {
	case len(given) == 0:
		return nil, nil
	case !abroad:
		return nil, usageError(cmd, "%s states Article 6 facts of a transfer abroad (--to-registry)", given[0])
	case !fs.Changed("article6-authorisation"):
		return nil, usageError(cmd, "%s needs --article6-authorisation, the authorisation the units carry", given[0])
	case a.approach == "" || a.party == "":
		return nil, usageError(cmd, "--article6-authorisation needs --article6-approach and --article6-party (the first transferring Party)")
	}
	c := &registry.Article6Claim{Authorisation: a.authorisation, Version: a.version, Approach: a.approach, Party: a.party, FirstTransfer: a.firstTransfer}
	if err := registry.CheckArticle6Claim("article6", c); err != nil {
		if e, ok := ledger.AsError(err); ok {
			return nil, usageError(cmd, "%s", e.Detail)
		}
		return nil, err
	}
	return c, nil
}
