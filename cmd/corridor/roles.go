package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/host"
	"github.com/corridor-carbon/corridor/internal/hub/hubhttp"
)

// roleFlags are serve's flags for the networked corridor: --role hub or
// node, their keys and hub, and TLS both ways.
type roleFlags struct {
	role       string
	hubKey     string
	trust      string
	agreements string
	registry   string
	hubURL     string
	hubPub     string
	nodeKey    string
	retryMax   time.Duration
	adminToken string
	grace      time.Duration
	tls        host.TLSOptions
}

const rolesHelp = `
Roles. --role embedded (the default) runs the all-in-one demo above. A production
corridor runs each participant as its own process on its own database, over HTTPS:

  corridor serve --role hub --hub-key hub.key --trust trust.yaml [--agreements FILE]
      the hub (transaction log): its state in SQLite --data-dir/network-hub.db or
      schema network_hub of --database-url (apart from the embedded demo's hub; one
      hub process per database: a second one is refused); serves the signed trust
      list at /hub/v1/trust, takes messages at /hub/v1/messages, answers
      /hub/v1/transfers[/{id}], /hub/v1/participants, /hub/v1/reconciliations,
      /healthz and /readyz. It reconciles with every
      node of the trust list at start and every --reconcile-every (0: never),
      reading each node's snapshot with a request signed by the hub's key (no node
      token needed); with --hub-admin-token (better: env CORRIDOR_HUB_ADMIN_TOKEN)
      'corridor hub reconcile --hub-url' asks it to reconcile now.
  corridor serve --role node --registry TH --hub-url https://hub.example:8443
      --hub-public-key KID:PUBLIC --node-key th.key
      one registry node (SQLite --data-dir/registries/TH.db or schema registry_th):
      its API and web as above plus /hub/v1/messages and /hub/v1/origins/{id}.

Keys come from 'corridor keygen'; the trust file and the set-up are described in
docs/hub.md. TLS: --tls-cert/--tls-key serve HTTPS, --tls-client-ca requires client
certificates signed by that CA; outgoing calls verify servers against --tls-ca
(system roots when empty) and present --tls-client-cert/--tls-client-key (the hub
needs these when the nodes require client certificates).

Environment: CORRIDOR_ROLE, CORRIDOR_HUB_KEY, CORRIDOR_TRUST, CORRIDOR_AGREEMENTS,
CORRIDOR_REGISTRY, CORRIDOR_HUB_URL, CORRIDOR_HUB_PUBLIC_KEY, CORRIDOR_NODE_KEY, CORRIDOR_RETRY_MAX,
CORRIDOR_HUB_ADMIN_TOKEN, CORRIDOR_RECONCILE_GRACE, CORRIDOR_RECONCILE_EVERY,
CORRIDOR_TLS_CERT, CORRIDOR_TLS_KEY, CORRIDOR_TLS_CLIENT_CA, CORRIDOR_TLS_CA,
CORRIDOR_TLS_CLIENT_CERT, CORRIDOR_TLS_CLIENT_KEY.`

func (f *roleFlags) add(cmd *cobra.Command) {
	cmd.Long += "\n" + rolesHelp
	fs := cmd.Flags()
	fs.StringVar(&f.role, "role", envDefault("CORRIDOR_ROLE", "embedded"), "embedded (all-in-one demo), hub or node (env CORRIDOR_ROLE)")
	fs.StringVar(&f.hubKey, "hub-key", envDefault("CORRIDOR_HUB_KEY", ""), "hub: the hub's ed25519 key file from 'corridor keygen' (env CORRIDOR_HUB_KEY)")
	fs.StringVar(&f.trust, "trust", envDefault("CORRIDOR_TRUST", ""), "hub: the trust list file, YAML or JSON (env CORRIDOR_TRUST)")
	fs.StringVar(&f.agreements, "agreements", envDefault("CORRIDOR_AGREEMENTS", ""), "hub: corridor agreements file replacing the built-in set (env CORRIDOR_AGREEMENTS)")
	fs.StringVar(&f.registry, "registry", envDefault("CORRIDOR_REGISTRY", ""), "node: the registry code this node runs (env CORRIDOR_REGISTRY)")
	fs.StringVar(&f.hubURL, "hub-url", envDefault("CORRIDOR_HUB_URL", ""), "node: the hub's base URL, https://… (env CORRIDOR_HUB_URL)")
	fs.StringVar(&f.hubPub, "hub-public-key", envDefault("CORRIDOR_HUB_PUBLIC_KEY", ""), "node: the hub's pinned public key, KID:PUBLIC as keygen prints it (env CORRIDOR_HUB_PUBLIC_KEY)")
	fs.StringVar(&f.nodeKey, "node-key", envDefault("CORRIDOR_NODE_KEY", ""), "node: this node's ed25519 key file from 'corridor keygen' (env CORRIDOR_NODE_KEY)")
	fs.DurationVar(&f.retryMax, "retry-max", envDuration("CORRIDOR_RETRY_MAX", 0), "hub, node: cap of the protocol's re-send backoff (0: the default, 5m) (env CORRIDOR_RETRY_MAX)")
	fs.StringVar(&f.adminToken, "hub-admin-token", "", "hub: the administrator's token for POST /hub/v1/reconcile ('corridor hub reconcile --hub-url'); empty: off. Prefer the env, a flag shows in the process list (env CORRIDOR_HUB_ADMIN_TOKEN)")
	fs.DurationVar(&f.grace, "reconcile-grace", envDuration("CORRIDOR_RECONCILE_GRACE", 0), "hub: leave out of a reconciliation the serials of transfers completed less than this long ago (0: the default, 2m) (env CORRIDOR_RECONCILE_GRACE)")
	fs.StringVar(&f.tls.Cert, "tls-cert", envDefault("CORRIDOR_TLS_CERT", ""), "serve HTTPS with this PEM certificate (chain) (env CORRIDOR_TLS_CERT)")
	fs.StringVar(&f.tls.Key, "tls-key", envDefault("CORRIDOR_TLS_KEY", ""), "the PEM private key of --tls-cert (env CORRIDOR_TLS_KEY)")
	fs.StringVar(&f.tls.ClientCA, "tls-client-ca", envDefault("CORRIDOR_TLS_CLIENT_CA", ""), "require client certificates signed by this PEM CA (env CORRIDOR_TLS_CLIENT_CA)")
	fs.StringVar(&f.tls.CA, "tls-ca", envDefault("CORRIDOR_TLS_CA", ""), "outgoing calls: verify servers against this PEM CA instead of the system roots (env CORRIDOR_TLS_CA)")
	fs.StringVar(&f.tls.ClientCert, "tls-client-cert", envDefault("CORRIDOR_TLS_CLIENT_CERT", ""), "outgoing calls: present this PEM client certificate (env CORRIDOR_TLS_CLIENT_CERT)")
	fs.StringVar(&f.tls.ClientKey, "tls-client-key", envDefault("CORRIDOR_TLS_CLIENT_KEY", ""), "the PEM private key of --tls-client-cert (env CORRIDOR_TLS_CLIENT_KEY)")
}

// serve runs the hub or node role; done is false for the embedded role,
// which serve's own body runs.
func (f *roleFlags) serve(cmd *cobra.Command, s host.Storage, addr string) (done bool, err error) {
	switch f.role {
	case "", "embedded":
		return false, nil
	case "hub":
		every, _ := cmd.Flags().GetDuration("reconcile-every")
		if !cmd.Flags().Changed("hub-admin-token") {
			// Read here, not as the flag's default: --help never shows it.
			f.adminToken = envDefault("CORRIDOR_HUB_ADMIN_TOKEN", "")
		}
		err = host.ServeHub(cmd.Context(), host.HubOptions{Addr: addr, Storage: s, KeyFile: f.hubKey, TrustFile: f.trust, AgreementsFile: f.agreements, TLS: f.tls, RetryMax: f.retryMax,
			ReconcileEvery: every, ReconcileGrace: f.grace, AdminToken: f.adminToken})
	case "node":
		err = host.ServeNode(cmd.Context(), host.NodeOptions{Addr: addr, Code: f.registry, Storage: s, HubURL: f.hubURL, HubPublicKey: f.hubPub, KeyFile: f.nodeKey, TLS: f.tls, RetryMax: f.retryMax})
	default:
		return true, usageError(cmd, "--role %q: want embedded, hub or node", f.role)
	}
	if err != nil {
		return true, hostError(err)
	}
	return true, nil
}

func newKeygenCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Write a new ed25519 signing key for the hub or a node and print its public key",
		Long: `Keygen writes a new ed25519 private key to --out (PKCS#8 PEM, mode 0600; an existing
file is never overwritten) and prints what the hub's trust list needs: the key's kid
(its RFC 7638 thumbprint) and public key (base64url), and the pin a node passes as
--hub-public-key when this is the hub's key. See docs/hub.md for the set-up.`,
		Example: `  corridor keygen --out hub.key
  corridor keygen --out th.key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			pub, err := hubhttp.GenerateKeyFile(out)
			if err != nil {
				return err
			}
			kid, err := hubhttp.KeyID(pub)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "kid: %s\npublic: %s\npin: %s:%s\n", kid, hubhttp.EncodePublic(pub), kid, hubhttp.EncodePublic(pub))
			fmt.Fprintf(cmd.ErrOrStderr(), "private key written to %s (keep it private)\n", out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write the private key to (required)")
	required(cmd, "out")
	return withUsageExit(cmd)
}
