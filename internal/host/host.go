// Package host wires a Corridor process together: where each registry's
// database lives, which registries a database holds, opening (and seeding)
// nodes, bootstrapping a new registry and verifying without writing.
// cmd/corridor only parses flags, calls host and prints.
package host

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for discovery

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
)

// ErrInvalid marks bad input to a host call (a malformed registry code):
// the command line exits 2 for it.
var ErrInvalid = errors.New("invalid input")

// ErrNoRegistry means the storage holds no registry (or not the one asked
// for).
var ErrNoRegistry = errors.New("no registry")

// Storage says where registry databases live: one SQLite file per registry
// under DataDir, or, when DatabaseURL is set, one PostgreSQL schema per
// registry in that database.
type Storage struct {
	// DataDir holds registries/<CODE>.db and demo-tokens.json.
	DataDir string
	// DatabaseURL is a postgres:// URL; empty means SQLite under DataDir.
	DatabaseURL string
}

// Check refuses a DatabaseURL that sets search_path: Corridor keeps each
// registry in its own schema (registry_<code>, the hubs in corridor_hub and
// network_hub) and sets search_path itself per connection, so the
// parameter would be silently overridden.
func (s Storage) Check() error {
	if s.DatabaseURL == "" {
		return nil
	}
	u, err := url.Parse(s.DatabaseURL)
	if err != nil || u.Scheme != "postgres" && u.Scheme != "postgresql" {
		// Keyword/value form or a malformed URL: look for the word.
		if strings.Contains(strings.ToLower(s.DatabaseURL), "search_path") {
			return errSearchPath
		}
		return nil
	}
	for k, vs := range u.Query() {
		if strings.EqualFold(k, "search_path") {
			return errSearchPath
		}
		for _, v := range vs {
			if strings.EqualFold(k, "options") && strings.Contains(strings.ToLower(v), "search_path") {
				return errSearchPath
			}
		}
	}
	return nil
}

var errSearchPath = fmt.Errorf("host: --database-url sets search_path, which Corridor does not use: each registry lives in its own schema registry_<code> and the hub in corridor_hub (network_hub for 'serve --role hub'), created in the database the URL names; remove the parameter (to keep Corridor apart, give it a database of its own): %w", ErrInvalid)

// schemaPrefix starts the PostgreSQL schema of every registry node.
const schemaPrefix = "registry_"

// Store is the store configuration of registry code's database.
func (s Storage) Store(code string) store.Config {
	if s.DatabaseURL != "" {
		return store.Config{URL: s.DatabaseURL, Schema: schemaPrefix + strings.ToLower(code)}
	}
	return store.Config{Path: filepath.Join(s.DataDir, "registries", code+".db")}
}

// hubSchema is the PostgreSQL schema of the embedded hub (outside the
// registry_ prefix, so discovery never takes it for a registry).
const hubSchema = "corridor_hub"

// HubStore is the store configuration of the embedded hub's own database:
// DataDir/hub.db, or the schema corridor_hub.
func (s Storage) HubStore() store.Config {
	if s.DatabaseURL != "" {
		return store.Config{URL: s.DatabaseURL, Schema: hubSchema}
	}
	return store.Config{Path: filepath.Join(s.DataDir, "hub.db")}
}

// Where describes the storage for messages, without a password.
func (s Storage) Where() string {
	if s.DatabaseURL == "" {
		return "SQLite under " + filepath.Join(s.DataDir, "registries")
	}
	u, err := url.Parse(s.DatabaseURL)
	if err != nil {
		return "the PostgreSQL database given"
	}
	u.User = nil
	u.RawQuery = ""
	return "PostgreSQL " + u.Redacted()
}

// Discover lists the codes of the registries the storage holds, sorted,
// without writing anything: the SQLite files registries/<CODE>.db under
// DataDir, or the registry_<code> schemas of the PostgreSQL database, whose
// node has recorded that code (a database or schema with no code, such as
// the empty one an older verify created, is not a registry). An empty
// storage is not an error: the list is empty.
func (s Storage) Discover(ctx context.Context) ([]string, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	if s.DatabaseURL != "" {
		return s.discoverPostgres(ctx)
	}
	dir := filepath.Join(s.DataDir, "registries")
	files, err := filepath.Glob(filepath.Join(dir, "*.db"))
	if err != nil {
		return nil, fmt.Errorf("host: list %s: %w", dir, err)
	}
	var codes []string
	for _, f := range files {
		code := strings.TrimSuffix(filepath.Base(f), ".db")
		if !ledger.ValidCode(code) {
			continue
		}
		ok, err := hasCode(ctx, store.Config{Path: f}, code)
		if err != nil {
			return nil, err
		}
		if ok {
			codes = append(codes, code)
		}
	}
	slices.Sort(codes)
	return codes, nil
}

// hasCode reports whether the SQLite database at cfg is registry code's
// node (it recorded that code), reading it read-only.
func hasCode(ctx context.Context, cfg store.Config, code string) (bool, error) {
	db, err := store.OpenReadOnly(ctx, cfg)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("host: open %s: %w", cfg.Path, err)
	}
	defer db.Close()
	got, err := db.Meta(ctx, "registry_code")
	if err != nil {
		return false, fmt.Errorf("host: read the registry code of %s: %w", cfg.Path, err)
	}
	return got == code, nil
}

func (s Storage) discoverPostgres(ctx context.Context) ([]string, error) {
	u := s.DatabaseURL
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	db, err := sql.Open("pgx", u+sep+"default_transaction_read_only=on")
	if err != nil {
		return nil, fmt.Errorf("host: open %s: %w", s.Where(), err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT nspname FROM pg_namespace
		WHERE starts_with(nspname, $1) AND to_regclass(quote_ident(nspname) || '.meta') IS NOT NULL
		ORDER BY nspname`, schemaPrefix)
	if err != nil {
		return nil, fmt.Errorf("host: list the schemas of %s: %w", s.Where(), err)
	}
	var schemas []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("host: list the schemas of %s: %w", s.Where(), err)
		}
		schemas = append(schemas, name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("host: list the schemas of %s: %w", s.Where(), err)
	}
	rows.Close()
	var codes []string
	for _, schema := range schemas {
		var code string
		// The schema name comes from pg_namespace and is quoted, so it
		// cannot inject anything.
		err := db.QueryRowContext(ctx, `SELECT value FROM `+quoteIdent(schema)+`.meta WHERE key = 'registry_code'`).Scan(&code)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("host: read the registry code in schema %s: %w", schema, err)
		}
		if ledger.ValidCode(code) && schemaPrefix+strings.ToLower(code) == schema {
			codes = append(codes, code)
		}
	}
	slices.Sort(codes)
	return codes, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// checkCode refuses a malformed registry code before anything is opened.
func checkCode(code string) error {
	if !ledger.ValidCode(code) {
		return fmt.Errorf("host: registry code %q must be 2-12 upper-case letters or digits: %w", code, ErrInvalid)
	}
	return nil
}
