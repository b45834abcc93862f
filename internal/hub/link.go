package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub/envelope"
)

// Link is what a registry node's API, CLI and web pages need of the
// corridor: send units abroad and read the hub's transfer records. The
// embedded corridor (*Corridor) implements it in process; a node of a
// networked corridor implements it with its endpoint and the hub's HTTP
// API. Reads answer from memory and never wait on a database.
type Link interface {
	// Send reserves the units at registry code in escrow (the hub its
	// settlement authority) and proposes the transfer to the hub.
	Send(ctx context.Context, code string, s Send) (Sent, error)
	// Transfer is the hub's record of one transfer (ErrNoTransfer if the
	// hub has none).
	Transfer(ctx context.Context, id string) (Transfer, error)
	// Transfers lists the hub's records matching f, newest first.
	Transfers(ctx context.Context, f TransferFilter) ([]Transfer, error)
	// Participants lists the corridor's registries and hub (the trust
	// list), with their names.
	Participants(ctx context.Context) ([]Participant, error)
}

// ErrNoTransfer: the hub has no record of that transfer.
var ErrNoTransfer = errors.New("hub: no such transfer")

// ErrUnknownRegistry: the corridor has no registry with that code.
var ErrUnknownRegistry = errors.New("hub: no such registry in the corridor")

// TransferFilter selects transfer records.
type TransferFilter struct {
	// Registry keeps transfers from or to this registry ("" for all).
	Registry string
	// Active keeps only transfers that are not final.
	Active bool
	// Limit caps the answer (0: no cap).
	Limit int
}

// Participant is one entry of the corridor's trust list.
type Participant struct {
	Code     string        `json:"code"`
	Role     envelope.Role `json:"role"`
	Party    string        `json:"party,omitempty"`
	Name     string        `json:"name,omitempty"`
	Endpoint string        `json:"endpoint,omitempty"`
}

// Started is when the transfer was proposed (its first status change).
func (t Transfer) Started() time.Time {
	if len(t.History) == 0 {
		return time.Time{}
	}
	return t.History[0].At
}

// Updated is when the transfer last changed status.
func (t Transfer) Updated() time.Time {
	if len(t.History) == 0 {
		return time.Time{}
	}
	return t.History[len(t.History)-1].At
}

// Involves reports whether registry code is the transfer's sender or
// acquirer.
func (t Transfer) Involves(code string) bool {
	return t.Proposal.FromRegistry == code || t.Proposal.ToRegistry == code
}

// Select applies f to records, newest first (by start, then id).
func (f TransferFilter) Select(ts []Transfer) []Transfer {
	var out []Transfer
	for _, t := range ts {
		if f.Registry != "" && !t.Involves(f.Registry) {
			continue
		}
		if f.Active && t.Status.Final() {
			continue
		}
		out = append(out, t)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Started(), out[j].Started()
		if !a.Equal(b) {
			return a.After(b)
		}
		return out[i].ID > out[j].ID
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out
}

// Send implements Link.
func (c *Corridor) Send(ctx context.Context, code string, s Send) (Sent, error) {
	e := c.Endpoints[code]
	if e == nil {
		return Sent{}, fmt.Errorf("%w: %q", ErrUnknownRegistry, code)
	}
	return e.Propose(ctx, s)
}

// Transfer implements Link.
func (c *Corridor) Transfer(_ context.Context, id string) (Transfer, error) {
	t, ok := c.Hub.Transfer(id)
	if !ok {
		return Transfer{}, fmt.Errorf("%w: %q", ErrNoTransfer, id)
	}
	return t, nil
}

// Transfers implements Link.
func (c *Corridor) Transfers(_ context.Context, f TransferFilter) ([]Transfer, error) {
	return f.Select(c.Hub.Transfers()), nil
}

// Participants implements Link: the trust list's entries, named from the
// agreements' registry list where it has them.
func (c *Corridor) Participants(context.Context) ([]Participant, error) {
	names := map[string]string{HubCode: "Corridor hub (transaction log)"}
	for _, r := range c.cfg.Agreements.Registries {
		names[r.Code] = r.Name
	}
	var out []Participant
	for _, e := range c.Trust.Entries {
		out = append(out, Participant{Code: e.Code, Role: e.Role, Party: e.Party, Name: names[e.Code], Endpoint: e.Endpoint})
	}
	slices.SortFunc(out, func(a, b Participant) int {
		if a.Role != b.Role {
			if a.Role == envelope.RoleHub {
				return -1
			}
			if b.Role == envelope.RoleHub {
				return 1
			}
		}
		if a.Code < b.Code {
			return -1
		}
		if a.Code > b.Code {
			return 1
		}
		return 0
	})
	return out, nil
}

var _ Link = (*Corridor)(nil)

// Start delivers the corridor's messages and drives its timers in the
// background until ctx ends: the embedded serve's message pump (every
// 20 ms) and clock (every second: re-sends with backoff, the hub's
// answer timeout, the relays reading their journals). It returns at once.
func (c *Corridor) Start(ctx context.Context) {
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var last time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if now := time.Now(); now.Sub(last) >= time.Second {
				last = now
				if err := c.Tick(ctx); err != nil && ctx.Err() == nil {
					c.log().Warn("hub: corridor timers", "err", err)
				}
			}
			if _, err := c.Transport.Run(ctx, 10000); err != nil && !errors.Is(err, ErrBusy) && ctx.Err() == nil {
				c.log().Warn("hub: delivering messages", "err", err)
			}
		}
	}()
}

func (c *Corridor) log() *slog.Logger { return slog.Default() }
