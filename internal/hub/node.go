package hub

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// Constructors for a hub and a registry endpoint that run as separate
// processes of a networked corridor (corridor serve --role hub|node),
// where the trust list comes from the hub over the network instead of
// being generated in process as Embedded does.

// EndpointConfig wires one registry node's side of the protocol.
type EndpointConfig struct {
	// Code is the registry's code in the trust list.
	Code string
	Node *registry.Node
	// HubOrg is the organisation that acts for the hub in this registry
	// (the escrows' settlement authority).
	HubOrg int64
	// HubCode is the hub's code in the trust list (its issuer).
	HubCode   string
	Signer    envelope.Signer
	Transport Transport
	// Trust is the trust list in force (in a networked corridor,
	// refreshed from the hub).
	Trust func() envelope.TrustList
	// Origins describes origin issuances (their public issuance record)
	// for imports.
	Origins Origins
	// Suspense is the account that takes an import whose acquiring account
	// can no longer receive it (closed or suspended between 8 and 4): the
	// units left the sender at 4, so refusing the import would leave them
	// in no registry. An open holding or national holding account the
	// registry administrator designates; the units wait there for the
	// administrator. 0: none, the import is retried and logged.
	Suspense int64
	Now      func() time.Time
	// MaxSkew is the clock skew allowed on incoming messages (5 min when 0).
	MaxSkew time.Duration
	Log     *slog.Logger
	// RetryMin and RetryMax bound the re-send backoff (defaults
	// DefaultRetryMin, DefaultRetryMax).
	RetryMin, RetryMax time.Duration
}

// NewEndpoint returns a registry endpoint ready to Receive and Propose.
func NewEndpoint(cfg EndpointConfig) (*Endpoint, error) {
	if cfg.Node == nil || cfg.Transport == nil || cfg.Trust == nil || cfg.Origins == nil {
		return nil, fmt.Errorf("hub: endpoint %s: node, transport, trust and origins are required", cfg.Code)
	}
	if cfg.Code != cfg.Node.Code() {
		return nil, fmt.Errorf("hub: endpoint %s: the node is registry %s", cfg.Code, cfg.Node.Code())
	}
	if cfg.Signer.Code != cfg.Code {
		return nil, fmt.Errorf("hub: endpoint %s: the signer is %q", cfg.Code, cfg.Signer.Code)
	}
	e := &Endpoint{EndpointConfig: cfg}
	e.init()
	return e, nil
}

// ParticipantsOf lists a trust list's entries as participants, named from
// the agreements' registry list where it has them: the hub first, then the
// nodes by code (as (*Corridor).Participants answers).
func ParticipantsOf(list envelope.TrustList, set agreements.Set) []Participant {
	names := map[string]string{list.Issuer: "Corridor hub (transaction log)"}
	for _, r := range set.Registries {
		names[r.Code] = r.Name
	}
	out := make([]Participant, 0, len(list.Entries))
	for _, e := range list.Entries {
		out = append(out, Participant{Code: e.Code, Role: e.Role, Party: e.Party, Name: names[e.Code], Endpoint: e.Endpoint})
	}
	slices.SortFunc(out, func(a, b Participant) int {
		if (a.Role == envelope.RoleHub) != (b.Role == envelope.RoleHub) {
			if a.Role == envelope.RoleHub {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Code, b.Code)
	})
	return out
}
