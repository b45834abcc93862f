package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/hub"
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
	// ReconcileEvery, when positive, reconciles the hub with every node
	// once the corridor is up and then at this interval.
	ReconcileEvery time.Duration

	// afterPilot, in tests, runs after a demo pilot's escrow and proposal
	// and before its delivery, and may fail it, to stand for a crash.
	afterPilot func(key string) error
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
	// Demo: a registry of List holds the demo's seeded data (seeded now
	// or by an earlier start), so the pages show the demo's notes.
	Demo bool

	// all is List then the stopped demo nodes (not served), in the order
	// of dbs.
	all     []*registry.Node
	stopped []*registry.Node
	dbs     []*store.DB
	hubDB   *store.DB
	stop    context.CancelFunc
}

// Close stops the corridor's message pump and every node, then closes the
// databases.
func (ns *Nodes) Close() {
	if ns.stop != nil {
		ns.stop()
	}
	for _, n := range ns.all {
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
// and, with SeedDemo, seeds the empty demo registries among them; then it
// links them through the embedded hub (Nodes.Corridor) and, with SeedDemo,
// runs the demo's pilot transfers that have not run yet.
func Open(ctx context.Context, s Storage, opt OpenOptions) (*Nodes, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	codes := opt.Codes
	if len(codes) == 0 {
		codes = demo.Codes()
	}
	for _, code := range codes {
		if err := checkCode(code); err != nil {
			return nil, err
		}
		if _, isDemo := demo.Spec(code); opt.SeedDemo && !isDemo {
			// A typo would otherwise create and serve an empty registry
			// beside the demo's.
			return nil, fmt.Errorf("host: registry %s is not one of the demo's (%s); run a registry of your own with --seed-demo=false after 'corridor bootstrap': %w",
				code, strings.Join(demoCodes(), ", "), ErrInvalid)
		}
	}
	ns := &Nodes{}
	var seeded []demo.Token
	for _, code := range codes {
		n, t, err := ns.open(ctx, s, code, opt)
		if err != nil {
			ns.Close()
			return nil, err
		}
		ns.List = append(ns.List, n)
		seeded = append(seeded, t...)
		if !ns.Demo {
			if ns.Demo, err = demoSeeded(ctx, ns.dbs[len(ns.dbs)-1], code); err != nil {
				ns.Close()
				return nil, err
			}
		}
	}
	// The demo's stopped registries are in the corridor (the trust list)
	// whenever their database exists or the demo is being seeded, so the
	// hub can address the transfers waiting on them; they are not served.
	stopped, err := ns.stoppedCodes(ctx, s, codes, opt)
	if err != nil {
		ns.Close()
		return nil, err
	}
	for _, code := range stopped {
		// Seeded now though not served: its tokens go in the file with
		// the others, for the day it is run (--registries …,LA).
		n, t, err := ns.open(ctx, s, code, opt)
		if err != nil {
			ns.Close()
			return nil, err
		}
		ns.stopped = append(ns.stopped, n)
		seeded = append(seeded, t...)
	}
	ns.Tokens = seeded
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

// open opens registry code's node and, with SeedDemo, seeds it if it is an
// empty demo registry.
func (ns *Nodes) open(ctx context.Context, s Storage, code string, opt OpenOptions) (*registry.Node, []demo.Token, error) {
	db, err := store.Open(ctx, s.Store(code))
	if err != nil {
		return nil, nil, fmt.Errorf("host: open registry %s: %w", code, err)
	}
	n, err := registry.Open(ctx, db, registry.Options{Code: code, Now: opt.Now})
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("host: open registry %s: %w", code, err)
	}
	ns.dbs = append(ns.dbs, db)
	ns.all = append(ns.all, n)
	spec, isDemo := demo.Spec(code)
	if !opt.SeedDemo || !isDemo {
		return n, nil, nil
	}
	if n.Totals().JournalSeq != 0 {
		// Resume a demo seed a crash cut short (its first step is there,
		// its last is not); leave any other registry alone.
		done, err := db.EntriesByKey(ctx, []string{demo.SeedKey(code, 1), demo.HubOrgKey(code)})
		if err != nil {
			return nil, nil, fmt.Errorf("host: open registry %s: %w", code, err)
		}
		if _, started := done[demo.SeedKey(code, 1)]; !started || len(done) == 2 {
			return n, nil, nil
		}
		slog.Info("resuming the demo seed", "registry", spec.Code)
	} else {
		slog.Info("seeding demo registry", "registry", spec.Code, "name", spec.Name)
	}
	t, err := demo.Seed(ctx, n, spec)
	if err != nil {
		return nil, nil, fmt.Errorf("host: %w", err)
	}
	return n, t, nil
}

// demoSeeded reports whether registry code's database holds the demo's
// seed (its first step's key is in the journal).
func demoSeeded(ctx context.Context, db *store.DB, code string) (bool, error) {
	if _, isDemo := demo.Spec(code); !isDemo {
		return false, nil
	}
	done, err := db.EntriesByKey(ctx, []string{demo.SeedKey(code, 1)})
	if err != nil {
		return false, fmt.Errorf("host: open registry %s: %w", code, err)
	}
	return len(done) > 0, nil
}

// stoppedCodes are the demo's stopped registries to open beside codes:
// those not among codes whose database exists, and, when seeding the
// demo, all of them.
func (ns *Nodes) stoppedCodes(ctx context.Context, s Storage, codes []string, opt OpenOptions) ([]string, error) {
	var have []string
	if !opt.SeedDemo {
		var err error
		if have, err = s.Discover(ctx); err != nil {
			return nil, err
		}
	}
	var out []string
	for _, spec := range demo.Stopped {
		if slices.Contains(codes, spec.Code) {
			continue
		}
		if opt.SeedDemo || slices.Contains(have, spec.Code) {
			out = append(out, spec.Code)
		}
	}
	return out, nil
}

// openCorridor opens the hub on its own database (replaying its events)
// with an endpoint per node, delivers what the reopened hub re-sends, runs
// the demo pilots not yet run (with SeedDemo), and starts the message pump.
func (ns *Nodes) openCorridor(ctx context.Context, s Storage, opt OpenOptions) error {
	set, err := corridorAgreements()
	if err != nil {
		return err
	}
	members := make([]hub.Member, len(ns.all))
	for i, n := range ns.all {
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
	a6, err := ns.openArticle6(ctx, members)
	if err != nil {
		return err
	}
	c, err := hub.Embedded(ctx, hub.EmbeddedConfig{HubDB: db, Members: members, Agreements: set, Now: opt.Now, Article6: a6})
	if err != nil {
		return fmt.Errorf("host: open the corridor: %w", err)
	}
	// A stopped node's messages wait in its mailbox: the hub's record of
	// a transfer waiting on it stays where it is.
	for _, n := range ns.stopped {
		c.Transport.Attach(n.Code(), &mailbox{})
	}
	if err := c.Run(ctx); err != nil {
		return fmt.Errorf("host: corridor: %w", err)
	}
	ns.Corridor, ns.Link = c, c
	if opt.SeedDemo {
		abroad, err := ns.seedArticle6(ctx, members)
		if err != nil {
			return err
		}
		if err := ns.runPilots(ctx, members, opt); err != nil {
			return err
		}
		if err := ns.runAbroad(ctx, abroad, opt); err != nil {
			return err
		}
		if err := ns.runICC(ctx, members, opt); err != nil {
			return err
		}
	}
	pump, stop := context.WithCancel(context.WithoutCancel(ctx))
	ns.stop = stop
	c.Start(pump)
	if every := opt.ReconcileEvery; every > 0 {
		go func() {
			if _, err := c.Reconcile(pump, hub.ReconcileOptions{}); err != nil && pump.Err() == nil {
				slog.Warn("host: first reconciliation", "err", err)
			}
		}()
		c.StartReconciler(pump, every)
	}
	return nil
}

// mailbox receives a stopped node's messages and keeps the latest, as a
// network would hold them for a node that is down.
type mailbox struct {
	mu   sync.Mutex
	msgs []string
}

func (m *mailbox) Receive(_ context.Context, compact string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	// Bounded: the hub re-sends; only the latest few matter.
	if len(m.msgs) >= 64 {
		m.msgs = m.msgs[1:]
	}
	m.msgs = append(m.msgs, compact)
	return nil
}

// runPilots sends the demo's pilot transfers and its in-flight one that
// the hub has no record of yet, each under its fixed key, and delivers
// their messages. A pilot whose escrow is already in its sender's journal
// is sent again only if the hub lacks it (a crash between the two), which
// replays the escrow and re-proposes the same transfer. A pilot whose
// registries are not demo-seeded nodes of this corridor is skipped, and one
// the sender refuses (its units moved on) is logged and skipped: the demo
// never stops a start.
func (ns *Nodes) runPilots(ctx context.Context, members []hub.Member, opt OpenOptions) error {
	byCode := map[string]int{}
	for i, m := range members {
		byCode[m.Node.Code()] = i
	}
	for _, p := range append(slices.Clone(demo.Pilots), demo.InFlight) {
		from, okFrom := byCode[p.From]
		to, okTo := byCode[p.To]
		if !okFrom || !okTo || members[from].HubOrg == 0 || members[to].HubOrg == 0 {
			continue
		}
		id, err := ns.sendOnce(ctx, p.From, hub.Send{Actor: demo.HolderActor(p.FromHolder), Key: p.Key, From: demo.HolderAccount(p.FromHolder),
			ToRegistry: p.To, ToAccount: demo.HolderAccount(p.ToHolder), Units: registry.Units{Quantity: p.Quantity, UnitType: p.UnitType, Vintage: p.Vintage}, Purpose: p.Purpose, ExpiresIn: p.ExpiresIn}, opt)
		if err != nil {
			return err
		}
		if id == "" {
			continue
		}
		t, err := ns.Corridor.Transfer(ctx, id)
		if err != nil {
			return fmt.Errorf("host: demo pilot %s: %w", p.Key, err)
		}
		slog.Info("demo pilot transfer", "id", t.ID, "from", p.From, "to", p.To, "quantity", p.Quantity, "unit_type", p.UnitType, "status", t.Status)
	}
	return nil
}

// sendOnce sends a demo transfer from registry from under its fixed key
// and delivers its messages, unless the hub already has it: a transfer
// whose escrow is in the sender's journal is sent again only if the hub
// lacks it (a crash between the two), which replays the escrow and
// re-proposes the same transfer. It returns the transfer's id, or "" when
// the sender refused it (its units moved on), which is logged: the demo
// never stops a start.
func (ns *Nodes) sendOnce(ctx context.Context, from string, send hub.Send, opt OpenOptions) (string, error) {
	i := slices.IndexFunc(ns.all, func(n *registry.Node) bool { return n.Code() == from })
	if i < 0 {
		return "", fmt.Errorf("host: demo transfer %s: no registry %s", send.Key, from)
	}
	done, err := ns.dbs[i].EntriesByKey(ctx, []string{send.Key})
	if err != nil {
		return "", fmt.Errorf("host: demo transfer %s: %w", send.Key, err)
	}
	if e, ok := done[send.Key]; ok {
		id := from + ":" + strconv.FormatInt(e.Seq, 10)
		if _, err := ns.Corridor.Transfer(ctx, id); err == nil {
			return id, nil
		}
	}
	sent, err := ns.Corridor.Send(ctx, from, send)
	if _, isLedger := ledger.AsError(err); isLedger {
		slog.Warn("demo transfer not sent", "key", send.Key, "err", err)
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("host: demo transfer %s: %w", send.Key, err)
	}
	if opt.afterPilot != nil {
		if err := opt.afterPilot(send.Key); err != nil {
			return "", fmt.Errorf("host: demo transfer %s: %w", send.Key, err)
		}
	}
	if err := ns.Corridor.Run(ctx); err != nil {
		return "", fmt.Errorf("host: demo transfer %s: %w", send.Key, err)
	}
	return sent.ID, nil
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

// demoCodes are the codes of every demo registry, served and stopped.
func demoCodes() []string {
	codes := demo.Codes()
	for _, r := range demo.Stopped {
		codes = append(codes, r.Code)
	}
	return codes
}

// TokensFile is where Open writes the demo tokens it seeds.
func (s Storage) TokensFile() string { return filepath.Join(s.DataDir, "demo-tokens.json") }

// writeTokens adds tokens to the file, keeping the tokens an earlier start
// wrote for other registries or organisations: a start that seeds only some
// registries (a new one in --registries) must not lose the others' tokens.
// A token for the same registry, organisation and role replaces the old
// one (its registry was seeded again).
func writeTokens(dataDir string, tokens []demo.Token) error {
	path := Storage{DataDir: dataDir}.TokensFile()
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("host: write demo tokens: %w", err)
	}
	var file struct {
		Tokens []demo.Token `json:"tokens"`
	}
	switch old, err := os.ReadFile(path); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("host: write demo tokens: %w", err)
	default:
		if err := json.Unmarshal(old, &file); err != nil {
			return fmt.Errorf("host: write demo tokens: %s is not a tokens file (move it away): %w", path, err)
		}
	}
	kept := slices.DeleteFunc(file.Tokens, func(o demo.Token) bool {
		return slices.ContainsFunc(tokens, func(t demo.Token) bool {
			return t.Registry == o.Registry && t.Organisation == o.Organisation && t.Role == o.Role
		})
	})
	raw, err := json.MarshalIndent(map[string]any{"tokens": append(kept, tokens...)}, "", "  ")
	if err != nil {
		return fmt.Errorf("host: write demo tokens: %w", err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return fmt.Errorf("host: write demo tokens: %w", err)
	}
	slog.Info("demo API tokens written (keep them private)", "file", path)
	return nil
}
