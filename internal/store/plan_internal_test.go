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
			if strings.HasPrefix(step, "SCAN ") && !strings.Contains(step, "json_each") && !strings.Contains(step, "CONSTANT ROW") && !strings.Contains(step, "VALUES CLAUSE") {
				t.Errorf("%.80s…: plan %q scans a table", q, plan)
			}
		}
	}
}

// writtenIndexes are the indexes of the tables a transfer's commit writes,
// each with its reader: an index no query reads costs every commit an
// entry (migration 0012_drop_unread_indexes dropped two on PostgreSQL;
// SQLite's foreign keys read them, see the migration).
var writtenIndexes = map[string]string{
	"blocks":    "the key (EachBlock's order, the writes' searches); SQLite: blocks_account (accounts inserted search their blocks)",
	"journal":   "the key (head, Entry, joins), idem_key (Outcomes), journal_kind (Entries by kind, FirstFinalMove)",
	"movements": "movements_span (RangeHistory); SQLite: movements_seq (journal entries inserted search their movements)",
}

// indexCounts are how many indexes each driver lists per table of
// writtenIndexes (both list the primary key's and UNIQUE's; a SQLite
// INTEGER PRIMARY KEY is the rowid, no index).
var indexCounts = map[Dialect]map[string]int{
	Postgres: {"blocks": 1, "journal": 3, "movements": 1},
	SQLite:   {"blocks": 2, "journal": 2, "movements": 2},
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
