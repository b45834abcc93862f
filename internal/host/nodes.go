package host

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
)

// OpenOptions says which registry nodes to open.
type OpenOptions struct {
	// Codes are the registries to open (created if missing); empty means
	// the demo corridor's.
	Codes []string
	// SeedDemo fills an empty demo registry with the demo data and writes
	// its tokens to DataDir/demo-tokens.json.
	SeedDemo bool
	// Now is the nodes' clock (nil: time.Now); tests fix it.
	Now func() time.Time
}

// Nodes are open registry nodes with their databases, linked by an
// embedded hub on its own database.
type Nodes struct {
	List []*registry.Node
	// Tokens are the demo tokens seeded by this open (none when nothing
	// was seeded).
	Tokens []demo.Token
	// Corridor is the embedded hub and the nodes' endpoints; its message
	// pump runs from Open until Close.
	Corridor *hub.Corridor
	// Link is the corridor as the API and web pages see it (Corridor).
	Link hub.Link

	dbs   []*store.DB
	hubDB *store.DB
	stop  context.CancelFunc
}

// Close stops the corridor's message pump and every node, then closes the
// databases.
func (ns *Nodes) Close() {
	if ns.stop != nil {
		ns.stop()
	}
	for _, n := range ns.List {
		n.Close()
	}
	for _, db := range ns.dbs {
		db.Close()
	}
	if ns.hubDB != nil {
		ns.hubDB.Close()
	}
}

// Open opens (creating and migrating as needed) the registry nodes of opt
// and, with SeedDemo, seeds the empty demo registries among them.
func Open(ctx context.Context, s Storage, opt OpenOptions) (*Nodes, error) {
	codes := opt.Codes
	if len(codes) == 0 {
		codes = demo.Codes()
	}
	for _, code := range codes {
		if err := checkCode(code); err != nil {
			return nil, err
		}
	}
	ns := &Nodes{}
	for _, code := range codes {
		db, err := store.Open(ctx, s.Store(code))
		if err != nil {
			ns.Close()
			return nil, fmt.Errorf("host: open registry %s: %w", code, err)
		}
		ns.dbs = append(ns.dbs, db)
		n, err := registry.Open(ctx, db, registry.Options{Code: code, Now: opt.Now})
		if err != nil {
			ns.Close()
			return nil, fmt.Errorf("host: open registry %s: %w", code, err)
		}
		ns.List = append(ns.List, n)
		spec, isDemo := demo.Spec(code)
		if opt.SeedDemo && isDemo && n.Totals().JournalSeq == 0 {
			slog.Info("seeding demo registry", "registry", spec.Code, "name", spec.Name)
			t, err := demo.Seed(ctx, n, spec)
			if err != nil {
				ns.Close()
				return nil, fmt.Errorf("host: %w", err)
			}
			ns.Tokens = append(ns.Tokens, t...)
		}
	}
	if len(ns.Tokens) > 0 {
		if err := writeTokens(s.DataDir, ns.Tokens); err != nil {
			ns.Close()
			return nil, err
		}
	}
	if err := ns.openCorridor(ctx, s, opt); err != nil {
		ns.Close()
		return nil, err
	}
	return ns, nil
}

// openCorridor opens the hub on its own database (replaying its events)
// with an endpoint per node, delivers what the reopened hub re-sends, and
// starts the message pump.
func (ns *Nodes) openCorridor(ctx context.Context, s Storage, opt OpenOptions) error {
	set, err := agreements.Default()
	if err != nil {
		return fmt.Errorf("host: corridor agreements: %w", err)
	}
	members := make([]hub.Member, len(ns.List))
	for i, n := range ns.List {
		org, err := hubOrg(ctx, ns.dbs[i], n)
		if err != nil {
			return err
		}
		members[i] = hub.Member{Node: n, HubOrg: org}
	}
	db, err := store.Open(ctx, s.HubStore())
	if err != nil {
		return fmt.Errorf("host: open the hub's database: %w", err)
	}
	ns.hubDB = db
	c, err := hub.Embedded(ctx, hub.EmbeddedConfig{HubDB: db, Members: members, Agreements: set, Now: opt.Now})
	if err != nil {
		return fmt.Errorf("host: open the corridor: %w", err)
	}
	if err := c.Run(ctx); err != nil {
		return fmt.Errorf("host: corridor: %w", err)
	}
	ns.Corridor, ns.Link = c, c
	pump, stop := context.WithCancel(context.WithoutCancel(ctx))
	ns.stop = stop
	c.Start(pump)
	return nil
}

// hubOrg finds the organisation acting for the hub in node n: the one
// the demo seed created under demo.HubOrgKey, or 0 when the node has none
// (it can then neither send abroad nor import).
func hubOrg(ctx context.Context, db *store.DB, n *registry.Node) (int64, error) {
	spec, ok := demo.Spec(n.Code())
	if !ok {
		return 0, nil
	}
	done, err := db.EntriesByKey(ctx, []string{demo.HubOrgKey(spec.Code)})
	if err != nil {
		return 0, fmt.Errorf("host: the hub's organisation in %s: %w", spec.Code, err)
	}
	if len(done) == 0 {
		return 0, nil
	}
	// The same key and request again is answered from the journal (the
	// first result): this creates nothing.
	res, err := n.Do(ctx, registry.Actor{Role: ledger.RoleAdmin}, demo.HubOrgKey(spec.Code), demo.HubOrgRequest(spec))
	if err != nil {
		return 0, fmt.Errorf("host: the hub's organisation in %s: %w", spec.Code, err)
	}
	return res.ID, nil
}

// TokensFile is where Open writes the demo tokens it seeds.
func (s Storage) TokensFile() string { return filepath.Join(s.DataDir, "demo-tokens.json") }

func writeTokens(dataDir string, tokens []demo.Token) error {
	path := Storage{DataDir: dataDir}.TokensFile()
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("host: write demo tokens: %w", err)
	}
	raw, err := json.MarshalIndent(map[string]any{"tokens": tokens}, "", "  ")
	if err != nil {
		return fmt.Errorf("host: write demo tokens: %w", err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return fmt.Errorf("host: write demo tokens: %w", err)
	}
	slog.Info("demo API tokens written (keep them private)", "file", path)
	return nil
}
