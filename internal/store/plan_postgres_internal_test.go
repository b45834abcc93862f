package store

import (
	"context"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
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
	specs := []*tableSpec{journalTable, pgBlockDeletes, pgBlockUpdates, pgBlockInserts, blocksTable, movementsTable, rejectionsTable}
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

// TestPostgresColumnsBinary: the commit's columns, written in PostgreSQL's
// binary array format by hand (pgColumn.binary), are read by the server as
// the values they were made from: NULLs, empty and multi-byte text, and
// the whole range of bigint.
func TestPostgresColumnsBinary(t *testing.T) {
	t.Parallel()
	db := openPostgres(t)
	ctx := context.Background()
	spec := &tableSpec{table: "t", cols: []string{"i", "s"}, types: []string{"bigint", "text"}}
	rows := []any{int64(math.MinInt64), "", int64(-1), nil, 0, "碳信用 ✓", int64(math.MaxInt64), strings.Repeat("x", 70000)}
	w := tableWrite{spec: spec, n: 4, args: rows}
	ints, err := pgColumn{w: w, c: 0}.binary(pgInt8ArrayOID)
	if err != nil {
		t.Fatal(err)
	}
	texts, err := pgColumn{w: w, c: 1}.binary(pgTextArrayOID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (pgColumn{w: w, c: 1}).binary(pgInt8ArrayOID); err == nil {
		t.Error("a text column encoded as a bigint[] parameter")
	}
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn().PgConn()
		const q = `SELECT i, s IS NULL, COALESCE(s, ''), cardinality($1::bigint[]) FROM unnest($1::bigint[], $2::text[]) AS r(i, s)`
		res := pc.ExecParams(ctx, q, [][]byte{ints, texts}, []uint32{pgInt8ArrayOID, pgTextArrayOID}, []int16{1, 1}, nil).Read()
		if res.Err != nil {
			return res.Err
		}
		if len(res.Rows) != 4 {
			t.Fatalf("%d rows, want 4", len(res.Rows))
		}
		for r, row := range res.Rows {
			wantInt := strconv.FormatInt(pgInt(rows[2*r]), 10)
			wantText, wantNull := pgText(rows[2*r+1])
			if string(row[0]) != wantInt || string(row[1]) != map[bool]string{true: "t", false: "f"}[wantNull] || string(row[2]) != wantText || string(row[3]) != "4" {
				t.Errorf("row %d: got %q %q %.20q %q, want %s %v %.20q 4", r, row[0], row[1], row[2], row[3], wantInt, wantNull, wantText)
			}
		}
		empty := tableWrite{spec: spec}
		for _, c := range []struct {
			col int
			oid uint32
			typ string
		}{{0, pgInt8ArrayOID, "bigint"}, {1, pgTextArrayOID, "text"}} {
			raw, err := pgColumn{w: empty, c: c.col}.binary(c.oid)
			if err != nil {
				return err
			}
			res := pc.ExecParams(ctx, `SELECT cardinality($1::`+c.typ+`[])`, [][]byte{raw}, []uint32{c.oid}, []int16{1}, nil).Read()
			if res.Err != nil || len(res.Rows) != 1 || string(res.Rows[0][0]) != "0" {
				t.Errorf("empty %s[]: %v %q", c.typ, res.Err, res.Rows)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
