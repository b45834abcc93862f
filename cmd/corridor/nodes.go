package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
)

// storeConfig says where registry code's database lives: a SQLite file under
// dataDir, or a schema of its own in the PostgreSQL database at dbURL.
func storeConfig(dataDir, dbURL, code string) store.Config {
	if dbURL != "" {
		return store.Config{URL: dbURL, Schema: "registry_" + strings.ToLower(code)}
	}
	return store.Config{Path: filepath.Join(dataDir, "registries", code+".db")}
}

// nodeSet says which registry nodes a server runs.
type nodeSet struct {
	dataDir, dbURL string
	// codes are the registries to open; empty means the demo corridor's.
	codes []string
	// seedDemo fills an empty demo registry with the demo data.
	seedDemo bool
}

// openNodes opens the demo corridor's registry nodes, seeding empty ones.
// The returned function closes them.
func openNodes(ctx context.Context, dataDir, dbURL string) ([]*registry.Node, func(), error) {
	return nodeSet{dataDir: dataDir, dbURL: dbURL, seedDemo: true}.open(ctx)
}

func (ns nodeSet) open(ctx context.Context) ([]*registry.Node, func(), error) {
	dataDir, dbURL := ns.dataDir, ns.dbURL
	codes := ns.codes
	if len(codes) == 0 {
		codes = demoCodes()
	}
	var nodes []*registry.Node
	var dbs []*store.DB
	closeAll := func() {
		for _, n := range nodes {
			n.Close()
		}
		for _, db := range dbs {
			db.Close()
		}
	}
	var tokens []demo.Token
	for _, code := range codes {
		if !ledger.ValidCode(code) {
			closeAll()
			return nil, nil, fmt.Errorf("registry code %q must be 2-12 upper-case letters or digits", code)
		}
		db, err := store.Open(ctx, storeConfig(dataDir, dbURL, code))
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		dbs = append(dbs, db)
		n, err := registry.Open(ctx, db, registry.Options{Code: code})
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		nodes = append(nodes, n)
		spec, isDemo := demoSpec(code)
		if ns.seedDemo && isDemo && n.Totals().JournalSeq == 0 {
			slog.Info("seeding demo registry", "registry", spec.Code, "name", spec.Name)
			t, err := demo.Seed(ctx, n, spec)
			if err != nil {
				closeAll()
				return nil, nil, err
			}
			tokens = append(tokens, t...)
		}
	}
	if len(tokens) > 0 {
		path := filepath.Join(dataDir, "demo-tokens.json")
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("write demo tokens: %w", err)
		}
		raw, _ := json.MarshalIndent(map[string]any{"tokens": tokens}, "", "  ")
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("write demo tokens: %w", err)
		}
		slog.Info("demo API tokens written (keep them private)", "file", path)
	}
	return nodes, closeAll, nil
}

// demoCodes lists the demo corridor's registry codes.
func demoCodes() []string {
	codes := make([]string, len(demo.Registries))
	for i, r := range demo.Registries {
		codes[i] = r.Code
	}
	return codes
}

func demoSpec(code string) (demo.Registry, bool) {
	for _, r := range demo.Registries {
		if r.Code == code {
			return r, true
		}
	}
	return demo.Registry{}, false
}
