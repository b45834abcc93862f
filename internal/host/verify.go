package host

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/corridor-carbon/corridor/internal/ledger"

	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
)

// Verified is one registry's verify report.
type Verified struct {
	Code   string
	Report registry.Report
}

// Verify re-checks the registries the storage holds (only code's when code
// is set) and never writes: each database is opened read-only, and a
// registry that is not there is an error (wrapping ErrNoRegistry), never
// created. heads, kept from the node (corridor head), are checked against
// code's journal (CheckHeads) and reported first.
func Verify(ctx context.Context, s Storage, code string, heads ...ledger.HeadRef) ([]Verified, error) {
	var codes []string
	if code != "" {
		if err := checkCode(code); err != nil {
			return nil, err
		}
		if err := knownRegistry(ctx, s, code); err != nil {
			return nil, err
		}
		codes = []string{code}
	} else {
		var err error
		if codes, err = s.Discover(ctx); err != nil {
			return nil, err
		}
		if len(codes) == 0 {
			return nil, fmt.Errorf("host: verify: %w in %s", ErrNoRegistry, s.Where())
		}
	}
	var out []Verified
	for _, c := range codes {
		rep, err := verifyOne(ctx, s, c, heads)
		if err != nil {
			return out, err
		}
		out = append(out, Verified{Code: c, Report: rep})
	}
	return out, nil
}

// knownRegistry refuses a code the storage holds no registry of, naming
// those it holds: a mistyped --registry is a usage error (ErrInvalid).
func knownRegistry(ctx context.Context, s Storage, code string) error {
	have, err := s.Discover(ctx)
	if err != nil {
		return err
	}
	if slices.Contains(have, code) {
		return nil
	}
	holds := "no registry"
	if len(have) > 0 {
		holds = strings.Join(have, ", ")
	}
	return fmt.Errorf("host: verify: %w %s in %s (it holds %s): %w", ErrNoRegistry, code, s.Where(), holds, ErrInvalid)
}

func verifyOne(ctx context.Context, s Storage, code string, heads []ledger.HeadRef) (registry.Report, error) {
	db, err := store.OpenReadOnly(ctx, s.Store(code))
	if errors.Is(err, store.ErrNotFound) {
		return registry.Report{}, fmt.Errorf("host: verify: %w %s in %s (%v)", ErrNoRegistry, code, s.Where(), err)
	}
	if err != nil {
		return registry.Report{}, fmt.Errorf("host: verify %s: %w", code, err)
	}
	defer db.Close()
	switch got, err := db.Meta(ctx, "registry_code"); {
	case err != nil:
		return registry.Report{}, fmt.Errorf("host: verify %s: %w", code, err)
	case got == "":
		return registry.Report{}, fmt.Errorf("host: verify: %w %s in %s (its database has tables but no registry code: no node was ever opened on it)", ErrNoRegistry, code, s.Where())
	}
	rep, err := registry.Verify(ctx, db)
	if err != nil {
		return rep, fmt.Errorf("host: verify %s: %w", code, err)
	}
	kept, err := registry.CheckHeads(ctx, db, heads)
	if err != nil {
		return rep, fmt.Errorf("host: verify %s: %w", code, err)
	}
	rep.Violations = append(kept, rep.Violations...)
	return rep, nil
}

// hubDatabase is where the embedded hub of this storage keeps its own
// database: DataDir/hub.db, or the schema corridor_hub (the convention of
// the corridor's serve).
func hubDatabase(s Storage) store.Config {
	if s.DatabaseURL != "" {
		return store.Config{URL: s.DatabaseURL, Schema: "corridor_hub"}
	}
	return store.Config{Path: filepath.Join(s.DataDir, "hub.db")}
}

// CorridorReport is the result of verify --corridor.
type CorridorReport struct {
	// Nodes is every registry's own verify report.
	Nodes []Verified
	// Hub reports whether a hub database was found and its records checked;
	// HubDatabases names each one (the embedded corridor's hub.db or schema
	// corridor_hub, a hub process's network-hub.db or schema network_hub).
	Hub          bool
	HubDatabases []string `json:",omitempty"`
	// Violations are the corridor-wide violations: conservation across the
	// registries (hub.CheckCorridor), then the hub's records against the
	// nodes (prefixed "hub:").
	Violations []string
}

// OK reports whether every node and the corridor are consistent.
func (r CorridorReport) OK() bool {
	for _, v := range r.Nodes {
		if !v.Report.OK() {
			return false
		}
	}
	return len(r.Violations) == 0
}

// VerifyCorridor verifies every registry of the storage (as Verify), then
// corridor-wide conservation across all of them and, where the storage has
// a hub database, the hub's copy of where blocks are against each node's
// blocks and the heads the hub recorded against each node's journal. It
// never writes: every database is opened read-only.
func VerifyCorridor(ctx context.Context, s Storage) (CorridorReport, error) {
	var rep CorridorReport
	nodes, err := Verify(ctx, s, "")
	if err != nil {
		return rep, err
	}
	rep.Nodes = nodes
	views := make([]*registry.Node, 0, len(nodes))
	dbs := map[string]*store.DB{}
	defer func() {
		for _, db := range dbs {
			db.Close()
		}
	}()
	for _, v := range nodes {
		db, err := store.OpenReadOnly(ctx, s.Store(v.Code))
		if err != nil {
			return rep, fmt.Errorf("host: verify --corridor %s: %w", v.Code, err)
		}
		dbs[v.Code] = db
		n, err := registry.LoadView(ctx, db)
		if err != nil {
			return rep, fmt.Errorf("host: verify --corridor %s: %w", v.Code, err)
		}
		views = append(views, n)
	}
	rep.Violations = append(rep.Violations, hub.CheckCorridor(views...)...)

	// The embedded corridor's hub and a networked hub process (serve
	// --role hub) keep apart databases; each one the storage holds is
	// checked, its violations prefixed with its name.
	for _, hc := range []struct {
		label string
		cfg   store.Config
	}{{"hub", hubDatabase(s)}, {"network hub", s.NetworkHubStore()}} {
		found, err := checkHub(ctx, s, hc.label, hc.cfg, views, dbs, &rep)
		if err != nil {
			return rep, err
		}
		if found {
			rep.Hub = true
			rep.HubDatabases = append(rep.HubDatabases, hubName(hc.cfg))
		}
	}
	return rep, nil
}

// hubName names a hub database as the operator knows it: its schema or
// its file.
func hubName(c store.Config) string {
	if c.Schema != "" {
		return "schema " + c.Schema
	}
	return filepath.Base(c.Path)
}

// checkHub checks the hub records of database cfg, if the storage holds
// it, against the nodes: the hub's copy of where blocks are against each
// node's blocks, and the heads it recorded against each node's journal.
func checkHub(ctx context.Context, s Storage, label string, cfg store.Config, views []*registry.Node, dbs map[string]*store.DB, rep *CorridorReport) (bool, error) {
	hdb, err := store.OpenReadOnly(ctx, cfg)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("host: verify --corridor: the %s's database: %w", label, err)
	}
	defer hdb.Close()
	h, err := hub.LoadRecords(ctx, hdb, nil)
	if err != nil {
		return false, fmt.Errorf("host: verify --corridor: %s: %w", label, err)
	}
	known := map[string]bool{}
	for _, n := range views {
		known[n.Code()] = true
		snap, err := n.Snapshot(registry.Operator)
		if err != nil {
			return false, err
		}
		_, fs := h.CheckSnapshot(snap, 0)
		for _, f := range fs {
			rep.Violations = append(rep.Violations, fmt.Sprintf("%s: %s: %s: %s", label, n.Code(), f.Code, f.Detail))
		}
	}
	for _, p := range h.Placements() {
		if !known[p.Registry] {
			rep.Violations = append(rep.Violations, fmt.Sprintf("%s: the hub places %s/%d %d-%d in %s, which is not a registry of %s", label, p.Origin.Registry, p.Origin.Issuance, p.Start, p.End, p.Registry, s.Where()))
		}
	}
	heads, err := hub.RecordedHeads(ctx, hdb)
	if err != nil {
		return false, fmt.Errorf("host: verify --corridor: %s: %w", label, err)
	}
	codes := make([]string, 0, len(heads))
	for c := range heads {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		db := dbs[c]
		if db == nil {
			continue
		}
		hd := heads[c]
		bad, err := registry.CheckHeads(ctx, db, []ledger.HeadRef{{Seq: hd.Seq, Hash: hd.Hash}})
		if err != nil {
			return false, fmt.Errorf("host: verify --corridor %s: %w", c, err)
		}
		for _, b := range bad {
			rep.Violations = append(rep.Violations, fmt.Sprintf("%s: %s: the head the hub recorded: %s", label, c, b))
		}
	}
	return true, nil
}

// Reconcile runs the hub's reconciliation with every registry of the
// storage, on demand (corridor hub reconcile), with the server stopped: it
// opens each node (taking its serving lock) and the hub's records, records
// the results in the hub's database and freezes the blocks of each
// discrepancy at its node. The organisation acting for the hub in a node is
// the one its hub entries (imports, escrow settlements) name.
func Reconcile(ctx context.Context, s Storage, opt hub.ReconcileOptions) ([]hub.Reconciliation, error) {
	codes, err := s.Discover(ctx)
	if err != nil {
		return nil, err
	}
	if len(codes) == 0 {
		return nil, fmt.Errorf("host: reconcile: %w in %s", ErrNoRegistry, s.Where())
	}
	probe, err := store.OpenReadOnly(ctx, hubDatabase(s))
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("host: reconcile: no hub database in %s (serve the corridor first)", s.Where())
	}
	if err != nil {
		return nil, fmt.Errorf("host: reconcile: the hub's database: %w", err)
	}
	probe.Close()
	hdb, err := store.Open(ctx, hubDatabase(s))
	if err != nil {
		return nil, fmt.Errorf("host: reconcile: the hub's database: %w", err)
	}
	defer hdb.Close()
	var views []hub.NodeView
	for _, code := range codes {
		db, err := store.Open(ctx, s.Store(code))
		if err != nil {
			return nil, fmt.Errorf("host: reconcile %s: %w", code, err)
		}
		defer db.Close()
		n, err := registry.Open(ctx, db, registry.Options{Code: code})
		if err != nil {
			return nil, fmt.Errorf("host: reconcile %s: %w", code, err)
		}
		defer n.Close()
		org, err := hubOrgOf(ctx, db)
		if err != nil {
			return nil, fmt.Errorf("host: reconcile %s: %w", code, err)
		}
		views = append(views, hub.LocalNode{Node: n, HubOrg: org})
	}
	h, err := hub.LoadRecords(ctx, hdb, nil)
	if err != nil {
		return nil, fmt.Errorf("host: reconcile: %w", err)
	}
	return h.Reconcile(ctx, views, opt)
}

// hubOrgOf finds the organisation acting for the hub in a node: the one
// named by its latest import or hub-settled escrow entry (0 when the hub
// never acted there; a freeze is then refused and reported).
func hubOrgOf(ctx context.Context, db *store.DB) (int64, error) {
	for _, kind := range []string{"import", "complete", "void", "freeze"} {
		es, err := db.Entries(ctx, store.EntryFilter{Kind: kind})
		if err != nil {
			return 0, err
		}
		for _, e := range slices.Backward(es) {
			if id, ok := strings.CutPrefix(e.Actor, string(registry.RoleHub)+"@org:"); ok {
				if org, err := strconv.ParseInt(id, 10, 64); err == nil {
					return org, nil
				}
			}
		}
	}
	return 0, nil
}
