package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestTransferPageEscrowExpiryOnlyWhileOpen: a transfer in flight shows
// when its escrow expires; a completed one does not (its escrow is
// settled: "Escrow expires" read as still pending).
func TestTransferPageEscrowExpiryOnlyWhileOpen(t *testing.T) {
	cs := newCorridorSite(t, storetest.SQLite(t))
	done, flying := cs.completedAndInFlight(t)
	anon := cs.visitor(t)
	for id, open := range map[string]bool{done: false, flying: true} {
		p := anon.get("/corridor/transfers/" + url.PathEscape(id))
		if p.status != http.StatusOK {
			t.Fatalf("%s: %d", id, p.status)
		}
		if got := strings.Contains(p.body, "Escrow expires"); got != open {
			t.Errorf("transfer %s (open %v): expiry shown %v", id, open, got)
		}
	}
}
