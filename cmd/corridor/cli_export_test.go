package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/corridor-carbon/corridor/internal/demo"
	"github.com/corridor-carbon/corridor/internal/export"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

var updateCLIGolden = flag.Bool("update-cli", false, "rewrite testdata/cli_export_*.golden")

func readCSV(t *testing.T, text string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v\n%s", err, text)
	}
	return rows
}

// column returns the values of a named column, header excluded.
func column(t *testing.T, rows [][]string, name string) []string {
	t.Helper()
	for i, h := range rows[0] {
		if h == name {
			out := make([]string, 0, len(rows)-1)
			for _, r := range rows[1:] {
				out = append(out, r[i])
			}
			return out
		}
	}
	t.Fatalf("no column %s in %v", name, rows[0])
	return nil
}

func sumColumn(t *testing.T, rows [][]string, name string) int64 {
	t.Helper()
	var sum int64
	for _, v := range column(t, rows, name) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("%s %q is not an integer", name, v)
		}
		sum += n
	}
	return sum
}

// TestCLIExportGolden compares CSV exports of the seeded demo corridor,
// run on a fixed clock, with testdata/cli_export_*.golden
// (go test -run TestCLIExportGolden -update-cli rewrites them).
func TestCLIExportGolden(t *testing.T) {
	s := startCLIServer(t)
	tests := []struct {
		reg, what, token string
	}{
		{"CN", "holdings", s.tokens["CN/auditor"]},
		{"CN", "transactions", s.tokens["CN/auditor"]},
		{"CN", "retirements", ""},
		{"TH", "retirements", ""},
	}
	for _, tt := range tests {
		t.Run(tt.reg+"-"+tt.what, func(t *testing.T) {
			r := mustRun(t, "export", "--registry", tt.reg, "--what", tt.what, "--format", "csv", "--token", tt.token)
			path := filepath.Join("testdata", fmt.Sprintf("cli_export_%s_%s.golden", strings.ToLower(tt.reg), tt.what))
			if *updateCLIGolden {
				if err := os.WriteFile(path, []byte(r.stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update-cli to create it)", err)
			}
			if r.stdout != string(want) {
				t.Errorf("export differs from %s (rerun with -update-cli after checking the change)\n--- got\n%s", path, r.stdout)
			}
			rows := readCSV(t, r.stdout)
			if strings.Join(rows[0], ",") != strings.Join(export.Columns(export.Kind(tt.what)), ",") {
				t.Errorf("header %v", rows[0])
			}
			if !strings.Contains(r.stderr, fmt.Sprintf("exported %s (%s)", count(len(rows)-1, "row", "rows"), tt.what)) || strings.Contains(r.stderr, " 1 rows") {
				t.Errorf("summary on stderr: %q", r.stderr)
			}
		})
	}
}

// TestCLIExportConservation: the holdings export of every registry plus
// its final states adds up to what was issued, and each account's rows add
// up to its balances; the transactions export lists every journal entry
// once, in order; the retirements export adds up to the retired units.
func TestCLIExportConservation(t *testing.T) {
	s := startCLIServer(t)
	for code, n := range s.nodes {
		tot := n.Totals()
		admin := s.tokens[code+"/admin"]
		holdings := readCSV(t, mustRun(t, "export", "--registry", code, "--what", "holdings", "--token", admin).stdout)
		final := tot.ByState[ledger.Retired] + tot.ByState[ledger.Cancelled] + tot.ByState[ledger.Exported]
		if got := sumColumn(t, holdings, "unitCount"); got+final != tot.Issued {
			t.Errorf("%s: holdings %d + final states %d ≠ issued %d", code, got, final, tot.Issued)
		}
		perAccount := map[string]int64{}
		counts := column(t, holdings, "unitCount")
		for i, acc := range column(t, holdings, "accountId") {
			q, _ := strconv.ParseInt(counts[i], 10, 64)
			perAccount[acc] += q
		}
		accs, err := n.Accounts(registry.Operator)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range accs {
			var want int64
			for _, b := range a.Balances {
				if b.State == ledger.Held || b.State == ledger.Reserved {
					want += b.Quantity
				}
			}
			if got := perAccount[fmt.Sprint(a.ID)]; got != want {
				t.Errorf("%s account %d: export rows sum to %d, balances %d", code, a.ID, got, want)
			}
		}
		spec, _ := demo.Spec(code)
		for _, c := range column(t, holdings, "countryJurisdictionOfOwner") {
			if c != spec.Country {
				t.Errorf("%s: owner country %q", code, c)
			}
		}

		journal := readCSV(t, mustRun(t, "export", "--registry", code, "--what", "transactions", "--token", s.tokens[code+"/auditor"]).stdout)
		for i, seq := range column(t, journal, "seq") {
			if seq != fmt.Sprint(i+1) {
				t.Fatalf("%s: journal row %d has seq %s", code, i+1, seq)
			}
		}
		if int64(len(journal)-1) != tot.JournalSeq {
			t.Errorf("%s: %d journal rows, head %d", code, len(journal)-1, tot.JournalSeq)
		}

		ret := readCSV(t, mustRun(t, "export", "--registry", code, "--what", "retirements").stdout)
		if got := sumColumn(t, ret, "unitCount"); got != tot.ByState[ledger.Retired] {
			t.Errorf("%s: retirement rows sum to %d, retired %d", code, got, tot.ByState[ledger.Retired])
		}
	}
}

// TestCLIExportHolder: a holder's holdings export lists its own account
// only, with its owner's country (from the account, as organisations are
// admin/auditor reads).
func TestCLIExportHolder(t *testing.T) {
	s := startCLIServer(t)
	rows := readCSV(t, mustRun(t, "export", "--what", "holdings", "--token", s.tokens["CN/holder/4"]).stdout)
	if len(rows) < 2 {
		t.Fatal("holder export is empty")
	}
	for _, acc := range column(t, rows, "accountId") {
		if acc != "4" {
			t.Errorf("holder export lists account %s", acc)
		}
	}
	for _, c := range column(t, rows, "countryJurisdictionOfOwner") {
		if c != "CN" {
			t.Errorf("holder export has country %q, want the owner's CN", c)
		}
	}
	if got := sumColumn(t, rows, "unitCount"); got != s.balance(t, "CN", 4, "CCER", ledger.Held) {
		t.Errorf("holder rows sum to %d", got)
	}
	// The journal is not a holder's to read: exit 3.
	if r := run("export", "--what", "transactions", "--token", s.tokens["CN/holder/4"]); r.code() != exitRejected || !strings.Contains(r.err.Error(), "forbidden") {
		t.Errorf("holder journal export: exit %d %v", r.code(), r.err)
	}
}

// TestCLIExportXLSX: the XLSX export to a file holds the same cells as the
// CSV export, numbers as numbers; a failed export leaves no file behind.
func TestCLIExportXLSX(t *testing.T) {
	s := startCLIServer(t)
	dir := t.TempDir()
	auditor := s.tokens["CN/auditor"]
	for _, what := range []string{"holdings", "transactions", "retirements"} {
		out := filepath.Join(dir, what+".xlsx")
		mustRun(t, "export", "--what", what, "--format", "xlsx", "--out", out, "--token", auditor)
		f, err := excelize.OpenFile(out)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.GetRows(what)
		if err != nil {
			t.Fatal(err)
		}
		if typ, _ := f.GetCellType(what, "B2"); typ != excelize.CellTypeUnset {
			t.Errorf("%s B2 (an id) is stored as type %v, not a number", what, typ)
		}
		f.Close()
		want := readCSV(t, mustRun(t, "export", "--what", what, "--token", auditor).stdout)
		if len(got) != len(want) {
			t.Fatalf("%s: xlsx %d rows, csv %d", what, len(got), len(want))
		}
		for i := range want {
			g := append(got[i], make([]string, len(want[i])-len(got[i]))...)
			if strings.Join(g, "\x1f") != strings.Join(want[i], "\x1f") {
				t.Errorf("%s row %d:\nxlsx %q\ncsv  %q", what, i, g, want[i])
			}
		}
	}
	bad := filepath.Join(dir, "refused.csv")
	if r := run("export", "--what", "transactions", "--out", bad, "--token", "cor_wrong"); r.code() != exitRejected {
		t.Errorf("export with a bad token: exit %d %v", r.code(), r.err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".xlsx") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// TestCLIExportPages: a journal longer than one API page is exported whole,
// in order and without repeats, with a progress bar when asked.
func TestCLIExportPages(t *testing.T) {
	s := startCLIServer(t)
	n := s.nodes["CN"]
	shanxi := registry.Actor{OrgID: 2, Role: ledger.RoleHolder}
	// Concurrent submissions share commits, so 2,100 transfers stay fast.
	const transfers = 2*exportPage + 100
	var wg sync.WaitGroup
	errs := make(chan error, transfers)
	for i := range transfers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := n.Do(context.Background(), shanxi, fmt.Sprintf("pages-%d", i),
				registry.Transfer{From: 2, To: 4, Units: registry.Units{Quantity: 1, UnitType: "CCER"}})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	head := n.Totals().JournalSeq
	out := filepath.Join(t.TempDir(), "journal.csv")
	r := mustRun(t, "export", "--what", "transactions", "--out", out, "--progress", "always", "--token", s.tokens["CN/auditor"])
	if !strings.Contains(r.stderr, "export transactions") {
		t.Errorf("no progress bar on stderr: %q", r.stderr)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, string(raw))
	seqs := column(t, rows, "seq")
	if int64(len(seqs)) != head {
		t.Fatalf("%d rows for %d journal entries", len(seqs), head)
	}
	for i, seq := range seqs {
		if seq != fmt.Sprint(i+1) {
			t.Fatalf("row %d has seq %s", i+1, seq)
		}
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("export file mode %v", st.Mode().Perm())
	}
	var moved int64
	from, qty := column(t, rows, "fromAccount"), column(t, rows, "quantity")
	for i, kind := range column(t, rows, "kind") {
		if kind == "transfer" && from[i] == "2" && qty[i] == "1" {
			moved++
		}
	}
	if moved != transfers {
		t.Errorf("%d one-unit transfers exported, %d made", moved, transfers)
	}
}

// BenchmarkCLIExportJournal exports a 10,000-entry journal through the
// HTTP API (10 pages) as CSV and as XLSX; ns/row is the end-to-end cost
// of one row, from the database read to the written file.
func BenchmarkCLIExportJournal(b *testing.B) {
	for _, format := range []string{"csv", "xlsx"} {
		b.Run(format, func(b *testing.B) {
			s := startCLIServerTB(b)
			n := s.nodes["CN"]
			shanxi := registry.Actor{OrgID: 2, Role: ledger.RoleHolder}
			var wg sync.WaitGroup
			for i := range 10000 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := n.Do(context.Background(), shanxi, fmt.Sprintf("bench-%d", i),
						registry.Transfer{From: 2, To: 4, Units: registry.Units{Quantity: 1, UnitType: "CCER"}}); err != nil {
						b.Error(err)
					}
				}()
			}
			wg.Wait()
			rows := n.Totals().JournalSeq
			out := filepath.Join(b.TempDir(), "journal."+format)
			b.ResetTimer()
			for b.Loop() {
				r := run("export", "--what", "transactions", "--format", format, "--out", out, "--progress", "never", "--token", s.tokens["CN/auditor"])
				if r.err != nil {
					b.Fatal(r.err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows), "ns/row")
		})
	}
}
