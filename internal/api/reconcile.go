package api

import (
	"net/http"

	"github.com/corridor-carbon/corridor/internal/registry"
)

// The reads the hub's reconciliation needs of a node over HTTP (issue 9,
// scope 5): the node's blocks by origin issuance with its active freezes,
// all at one journal position (registry.Snapshot), and the freezes alone.
// They show accounts, so only administrators and auditors (the hub reads
// with an auditor token) may make them.

func (s *Server) handleSnapshot(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	out, err := n.Snapshot(viewer(r))
	if err != nil {
		ledgerError(w, r, err, false)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleFreezes(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	out, err := n.Freezes(viewer(r))
	if err != nil {
		ledgerError(w, r, err, false)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"freezes": out})
}
