package web

import "github.com/corridor-carbon/corridor/internal/registry"

// allAccounts lists every account of n, as the process itself sees them.
func allAccounts(n *registry.Node) []registry.AccountView {
	accs, _ := n.Accounts(registry.Operator)
	return accs
}
