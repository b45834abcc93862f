package store

import (
	"context"
	"os"
	"strings"
	"testing"
)

// openPostgres opens a new scratch schema on CORRIDOR_TEST_DATABASE_URL,
// or skips (storetest cannot be imported here: it imports this package).
func openPostgres(t *testing.T) *DB {
	t.Helper()
	url := os.Getenv("CORRIDOR_TEST_DATABASE_URL")
	if url == "" {
		t.Skip("SKIPPED: set CORRIDOR_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run it")
	}
	cfg, remove, err := Scratch(url, t.TempDir(), "t")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = remove() })
	db, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// genericPlan is the plan PostgreSQL keeps for query once a prepared
// statement has run five times, made on the tables as they are now
// (plan_cache_mode force_generic_plan, PostgreSQL documentation, "PREPARE",
// Notes).
func genericPlan(t *testing.T, db *DB, query string, args ...string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{"SET plan_cache_mode = force_generic_plan", "PREPARE plan_check AS " + query} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	defer conn.ExecContext(ctx, "DEALLOCATE plan_check; RESET plan_cache_mode")
	rows, err := conn.QueryContext(ctx, "EXPLAIN EXECUTE plan_check("+strings.Join(args, ", ")+")")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}

// TestPostgresKeyedSearchesByIndex: the writer's key lookup (Outcomes),
// prepared on a new node's empty tables, searches the keys' indexes rather
// than scanning the journal, which grows with every transfer.
func TestPostgresKeyedSearchesByIndex(t *testing.T) {
	t.Parallel()
	db := openPostgres(t)
	query, _ := db.outcomesQuery([]string{"k"})
	plan := genericPlan(t, db, query, `'{k1,k2}'`, `'{k1,k2}'`)
	if strings.Contains(plan, "Seq Scan") || !strings.Contains(plan, "journal_idem_key_key") || !strings.Contains(plan, "rejections_pkey") {
		t.Errorf("generic plan of Outcomes on empty tables scans a table or uses no key index:\n%s", plan)
	}
}

// TestPostgresWritesSearchByKey: every statement a transfer's commit runs
// on PostgreSQL, planned generic on a new node's empty tables (as pgx
// prepares and caches the WriteTx path's statements), finds its rows
// through an index or writes without reading, so a commit's cost does not
// grow with the registry.
func TestPostgresWritesSearchByKey(t *testing.T) {
	t.Parallel()
	db := openPostgres(t)
	specs := []*tableSpec{journalTable, blockDeletes, blocksTable, movementsTable, rejectionsTable}
	var all []string // the parameters of the statement combining them all
	for _, spec := range specs {
		spec.init()
		args := make([]string, len(spec.types))
		for i, typ := range spec.types {
			args[i] = "'{1}'::" + typ + "[]"
		}
		all = append(all, args...)
		plan := genericPlan(t, db, db.drv.rebind(spec.postgres), args...)
		if strings.Contains(plan, "Seq Scan") {
			t.Errorf("%.60s…: generic plan on empty tables scans a table:\n%s", spec.postgres, plan)
		}
	}
	var writes []tableWrite
	for _, spec := range specs {
		writes = append(writes, tableWrite{spec: spec})
	}
	combined := db.drv.(*pgDriver).combine(pgStatements(writes))
	if len(combined) != 1 {
		t.Fatalf("%d statements, want the writes combined in one", len(combined))
	}
	if plan := genericPlan(t, db, combined[0].sql, all...); strings.Contains(plan, "Seq Scan") {
		t.Errorf("the combined writes' generic plan on empty tables scans a table:\n%s", plan)
	}
}
