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

// Nodes are open registry nodes with their databases.
type Nodes struct {
	List []*registry.Node
	// Tokens are the demo tokens seeded by this open (none when nothing
	// was seeded).
	Tokens []demo.Token
	dbs    []*store.DB
}

// Close stops every node, then closes the databases.
func (ns *Nodes) Close() {
	for _, n := range ns.List {
		n.Close()
	}
	for _, db := range ns.dbs {
		db.Close()
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
	return ns, nil
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
