package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSQLiteWritesSearchByKey: every statement a transfer's commit runs
// on SQLite finds its rows through an index, whatever the chunk size, so
// a commit's cost does not grow with the registry. (Writes to the small
// parent tables, organisations and accounts, scan their children for the
// foreign keys; they are not in a transfer's commit.)
func TestSQLiteWritesSearchByKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "plan.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	specs := []*tableSpec{journalTable, blockDeletes, blocksTable, movementsTable, rejectionsTable}
	queries := map[string]int{}
	for _, s := range specs {
		s.init()
		for _, n := range sqliteChunks {
			queries[s.sqlite[n]] = len(s.cols) * n
		}
	}
	journal, _ := db.drv.keyed("journal", []string{"k"})
	rejections, _ := db.drv.keyed("rejections", []string{"k"})
	queries[`SELECT seq FROM `+journal+` UNION ALL SELECT after_seq FROM `+rejections] = 2
	for q, params := range queries {
		args := make([]any, params)
		for i := range args {
			args[i] = 1
		}
		if strings.Contains(q, "json_each") {
			args = []any{`["k"]`, `["k"]`}
		}
		rows, err := db.sql.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		for _, step := range plan {
			// A journal entry inserted is a parent row of movements: the
			// plan lists the child scan that SQLite runs only while the
			// statement has a foreign key violation outstanding
			// (TestSQLiteParentInsertsSkipChildren).
			if step == "SCAN movements" && strings.HasPrefix(q, "INSERT INTO journal ") {
				continue
			}
			if strings.HasPrefix(step, "SCAN ") && !strings.Contains(step, "json_each") && !strings.Contains(step, "CONSTANT ROW") && !strings.Contains(step, "VALUES CLAUSE") {
				t.Errorf("%.80s…: plan %q scans a table", q, plan)
			}
		}
	}
}

// TestSQLiteParentInsertsSkipChildren: inserting journal entries does not
// read movements, though movements.seq references the journal and has no
// index since migration 0013. SQLite's code for a row inserted into a
// parent table searches the children for orphans the row now resolves,
// and jumps over that search when the statement's (or, for a deferred
// key, the transaction's) violation counter is zero (OP_FkIfZero,
// https://www.sqlite.org/opcode.html#FkIfZero); a commit's statements
// abort on the first violation, so the counter is zero whenever it is
// tested. Checked on the statement's program: every cursor opened on
// movements lies inside the range a FkIfZero jumps over.
func TestSQLiteParentInsertsSkipChildren(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "fk.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var root int
	if err := db.sql.QueryRowContext(ctx, `SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name = 'movements'`).Scan(&root); err != nil {
		t.Fatal(err)
	}
	journalTable.init()
	all := 0
	for _, n := range sqliteChunks {
		q := journalTable.sqlite[n]
		args := make([]any, n*len(journalTable.cols))
		unguarded, opened := sqliteChildReads(ctx, t, db, q, args, root)
		if unguarded > 0 {
			t.Errorf("%d rows: %d of %d cursors on movements are opened outside a FkIfZero's jump: inserting entries reads movements", n, unguarded, opened)
		}
		all += opened
	}
	// (A one-row INSERT has no child search at all.) None at any size
	// would mean the foreign key is gone, or the test reads the wrong
	// table: then it checks nothing.
	if all == 0 {
		t.Error("no journal INSERT opens a cursor on movements: is this test still reading the right table?")
	}
}

// sqliteChildReads lists q's program (EXPLAIN) and counts the OpenRead
// instructions on the table at root page root, and those of them no
// FkIfZero jumps over.
func sqliteChildReads(ctx context.Context, t *testing.T, db *DB, q string, args []any, root int) (unguarded, opened int) {
	t.Helper()
	rows, err := db.sql.QueryContext(ctx, "EXPLAIN "+q, args...)
	if err != nil {
		t.Fatalf("%.60s: %v", q, err)
	}
	defer rows.Close()
	type skip struct{ from, to int }
	var skips []skip
	var reads []int
	for rows.Next() {
		var addr, p1, p2, p3, p5 int
		var op string
		var p4, comment any
		if err := rows.Scan(&addr, &op, &p1, &p2, &p3, &p4, &p5, &comment); err != nil {
			t.Fatal(err)
		}
		switch {
		case op == "FkIfZero":
			skips = append(skips, skip{addr, p2})
		case op == "OpenRead" && p2 == root && p3 == 0:
			reads = append(reads, addr)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, a := range reads {
		guarded := false
		for _, s := range skips {
			guarded = guarded || s.from < a && a < s.to
		}
		if !guarded {
			unguarded++
		}
	}
	return unguarded, len(reads)
}

// writtenIndexes are the indexes of the tables a transfer's commit writes,
// each with its reader: an index no query reads costs every commit an
// entry (migrations postgres/0012 and sqlite/0013, drop_unread_indexes,
// dropped two: blocks_account and movements_seq).
var writtenIndexes = map[string]string{
	"blocks":    "the key (EachBlock's order, the writes' searches)",
	"journal":   "the key (head, Entry, joins), idem_key (Outcomes), journal_kind (Entries by kind, FirstFinalMove)",
	"movements": "movements_span (RangeHistory)",
}

// indexCounts are how many indexes each driver lists per table of
// writtenIndexes (both list the primary key's and UNIQUE's; a SQLite
// INTEGER PRIMARY KEY is the rowid, no index).
var indexCounts = map[Dialect]map[string]int{
	Postgres: {"blocks": 1, "journal": 3, "movements": 1},
	SQLite:   {"blocks": 1, "journal": 2, "movements": 1},
}

// TestWrittenTablesIndexes: the tables a transfer writes carry only the
// indexes some query reads (writtenIndexes), on both drivers.
func TestWrittenTablesIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sqlite, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "idx.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer sqlite.Close()
	dbs := []*DB{sqlite}
	if os.Getenv("CORRIDOR_TEST_DATABASE_URL") != "" {
		dbs = append(dbs, openPostgres(t))
	}
	for _, db := range dbs {
		for table := range writtenIndexes {
			q := `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1`
			if db.Dialect() == SQLite {
				q = `SELECT count(*) FROM pragma_index_list(?)`
			}
			var n int
			if err := db.sql.QueryRowContext(ctx, q, table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if want := indexCounts[db.Dialect()][table]; n != want {
				t.Errorf("%s: %s has %d indexes, want %d: %s", db.Dialect(), table, n, want, writtenIndexes[table])
			}
		}
	}
}
