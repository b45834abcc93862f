package main

import (
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/host"
)

// TestRegistriesStoppedAndHub: on the embedded demo (LA stopped), the
// table says LA is not served and the hub is, and --json has the embedded
// hub served.
func TestRegistriesStoppedAndHub(t *testing.T) {
	nodes, err := host.Open(t.Context(), host.Storage{DataDir: filepath.Join(t.TempDir(), "data")}, host.OpenOptions{SeedDemo: true})
	if err != nil {
		t.Fatal(err)
	}
	defer nodes.Close()
	srv := httptest.NewServer(host.Handler(nodes.List, nodes.Link))
	defer srv.Close()
	r := mustRun(t, "registries", "--server", srv.URL)
	rows := map[string]string{}
	for _, line := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			rows[f[0]] = line
		}
	}
	if !regexp.MustCompile(`^LA\s+node\s+not served here\s`).MatchString(rows["LA"]) {
		t.Errorf("LA (stopped) row: %q\n%s", rows["LA"], r.stdout)
	}
	if !regexp.MustCompile(`^CN\s+node\s+serving\s`).MatchString(rows["CN"]) {
		t.Errorf("CN row: %q\n%s", rows["CN"], r.stdout)
	}
	var hubRow string
	for code, line := range rows {
		if strings.Contains(line, " hub ") {
			hubRow = code
		}
	}
	// The API says the embedded hub is served (served true) without totals
	// (serving false): the CLI says the same, not "serving".
	if hubRow == "" || !regexp.MustCompile(`^\S+\s+hub\s+served here\s`).MatchString(rows[hubRow]) {
		t.Errorf("hub row %q: %q\n%s", hubRow, rows[hubRow], r.stdout)
	}
	var doc struct {
		Registries []struct {
			Code, Role      string
			Served, Serving bool
		}
	}
	if err := json.Unmarshal([]byte(mustRun(t, "registries", "--server", srv.URL, "--json").stdout), &doc); err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, e := range doc.Registries {
		served[e.Role+"/"+e.Code] = e.Served
		// The table says serving exactly where the JSON does.
		if row := rows[e.Code]; e.Serving != regexp.MustCompile(`^\S+\s+\S+\s+serving\s`).MatchString(row) {
			t.Errorf("%s: JSON serving %v, table row %q", e.Code, e.Serving, row)
		}
	}
	if !served["hub/"+hubRow] || served["node/LA"] || !served["node/CN"] {
		t.Errorf("registries --json served: %v", served)
	}
}
