package store

import (
	"context"
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
