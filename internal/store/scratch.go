package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// Scratch makes a throw-away database for a test or a benchmark: with url
// set, a new schema <prefix>_<random> in that PostgreSQL database;
// otherwise a SQLite file in a new directory <prefix>-<random> under dir.
// Nothing is created until Open; remove drops the schema or deletes the
// directory. It is the one place scratch databases are named and removed.
func Scratch(url, dir, prefix string) (cfg Config, remove func() error, err error) {
	raw := make([]byte, 6)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails (Go 1.24+)
	suffix := hex.EncodeToString(raw)
	if url != "" {
		schema := prefix + "_" + suffix
		if !validIdent(schema) {
			return Config{}, nil, fmt.Errorf("store: scratch schema %q must be lower-case letters, digits and _", schema)
		}
		return Config{URL: url, Schema: schema}, func() error { return dropSchema(url, schema) }, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Config{}, nil, fmt.Errorf("store: scratch directory: %w", err)
	}
	sub, err := os.MkdirTemp(dir, prefix+"-"+suffix+"-")
	if err != nil {
		return Config{}, nil, fmt.Errorf("store: scratch directory: %w", err)
	}
	return Config{Path: filepath.Join(sub, "node.db")}, func() error { return os.RemoveAll(sub) }, nil
}

func dropSchema(url, schema string) error {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return fmt.Errorf("store: drop scratch schema %s: %w", schema, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
		return fmt.Errorf("store: drop scratch schema %s: %w", schema, err)
	}
	return nil
}
