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
	// HubOrg is the organisation acting for the hub in the node.
	HubOrg int64
	// HubCode is the hub's code in the trust list (its issuer).
	HubCode   string
	Signer    envelope.Signer
	Transport Transport
	// Trust is the trust list in force (refreshed from the hub).
	Trust   func() envelope.TrustList
	Origins Origins
	Now     func() time.Time
	// MaxSkew is the clock skew allowed on incoming messages (5 min when 0).
	MaxSkew time.Duration
	Log     *slog.Logger
	// Suspense, RetryMin, RetryMax: as Endpoint's (zero: none, defaults).
	Suspense           int64
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
	if cfg.MaxSkew == 0 {
		cfg.MaxSkew = 5 * time.Minute
	}
	e := &Endpoint{Code: cfg.Code, Node: cfg.Node, HubOrg: cfg.HubOrg, HubCode: cfg.HubCode, Signer: cfg.Signer, Transport: cfg.Transport,
		Origins: cfg.Origins, Now: cfg.Now, Log: cfg.Log, Suspense: cfg.Suspense, RetryMin: cfg.RetryMin, RetryMax: cfg.RetryMax}
	e.init(cfg.Trust, cfg.MaxSkew)
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
