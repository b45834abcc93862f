package web

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

var (
	serialHistoryRE = regexp.MustCompile(`<tr data-registry="([A-Z]+)" data-seq="\d+" data-kind="([a-z_]+)"`)
	serialBlockRE   = regexp.MustCompile(`<tr data-registry="([A-Z]+)"><td class="registry">[A-Z]+</td><td class="serial">([^<]+)</td><td class="state" data-state="([a-z]+)">`)
)

// TestSerialLookupAcrossRegistries: a CN serial that went to TH is looked
// up on the dashboard (which reads its origin, CN): the blocks list TH's
// held block besides CN's exported one, and the history is CN's events and
// TH's import in one list, in time order, each naming its registry (the
// page showed CN's events only). A range with one event says "1 event".
func TestSerialLookupAcrossRegistries(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		cs := newCorridorSite(t, tg)
		cs.completedAndInFlight(t)
		anon := cs.visitor(t)
		p := anon.get("/serials?q=CN-CCER-CCER-14-2024-001-2024-1-1-300")
		if p.status != http.StatusOK {
			t.Fatalf("serial page: %d", p.status)
		}
		var events []string
		for _, m := range serialHistoryRE.FindAllStringSubmatch(p.body, -1) {
			events = append(events, m[1]+"/"+m[2])
		}
		if got, want := strings.Join(events, " "), "CN/issue CN/reserve CN/complete TH/import"; got != want {
			t.Errorf("history %q, want %q", got, want)
		}
		var blocks []string
		for _, m := range serialBlockRE.FindAllStringSubmatch(p.body, -1) {
			blocks = append(blocks, m[1]+" "+m[2]+" "+m[3])
		}
		if got, want := strings.Join(blocks, "; "), "CN CN-CCER-CCER-14-2024-001-2024-1-1-300 exported; TH CN-CCER-CCER-14-2024-001-2024-1-1-300 held"; got != want {
			t.Errorf("blocks %q, want %q", got, want)
		}
		if !strings.Contains(p.body, "History of the range (4 events)") {
			t.Error("history heading does not count 4 events")
		}

		// A unit that never moved: its issuance only.
		one := anon.get("/serials?q=CN-CCER-CCER-14-2024-001-2024-1-9000-9000")
		if !strings.Contains(one.body, "History of the range (1 event)") || strings.Contains(one.body, "1 events") {
			t.Errorf("one event is not said in the singular:\n%s", one.body)
		}
	})
}

// TestSerialLookupStatus: a serial that does not parse is a 400 page with
// the reason, a well-formed one nobody issued (or of a registry not on
// this server) a 404, a real one 200; the htmx fragment answers with the
// same status (it was 200 for all of them).
func TestSerialLookupStatus(t *testing.T) {
	cs := newCorridorSite(t, storetest.SQLite(t))
	anon := cs.visitor(t)
	for _, c := range []struct {
		q      string
		status int
		code   string
	}{
		{"BOGUS", http.StatusBadRequest, "serial_invalid"},
		{"CN-CCER-CCER-14-2024-001-2024-1-0-5", http.StatusBadRequest, "serial_invalid"},
		{"CN-CCER-NOPE-2024-7-1-1", http.StatusNotFound, "not_found"},
		{"XX-CCER-CCER-14-2024-001-2024-1-1-5", http.StatusNotFound, "registry_not_found"},
		{"CN-CCER-CCER-14-2024-001-2024-1-1-5", http.StatusOK, ""},
	} {
		p := anon.get("/serials?q=" + c.q)
		if p.status != c.status || (c.code != "") != strings.Contains(p.body, `id="lookup-error" data-code="`+c.code+`"`) {
			t.Errorf("%s: %d, want %d with error code %q", c.q, p.status, c.status, c.code)
		}
		req, _ := http.NewRequest(http.MethodGet, anon.base+"/serials?q="+c.q, nil)
		req.Header.Set("HX-Request", "true")
		if f := anon.do(req); f.status != c.status || strings.Contains(f.body, "<html") {
			t.Errorf("%s (htmx): %d, want %d (fragment)", c.q, f.status, c.status)
		}
	}
}
