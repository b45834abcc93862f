package api

import (
	"errors"
	"net/http"

	"github.com/corridor-carbon/corridor/internal/registry"
)

// handleHead answers the node's journal head signed with its key
// (ledger.SignedHead), recorded by the node before it is answered. It is
// public: a head reveals only how many entries the journal has and the
// last one's hash, and anyone who keeps it can later hold the node to it.
func (s *Server) handleHead(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	h, err := n.PublishHead(r.Context())
	if errors.Is(err, registry.ErrJournalBelowHead) {
		writeProblem(w, Problem{Status: http.StatusInternalServerError, Code: "journal_below_published_head",
			Detail: "The registry's journal does not reach a head it published earlier; it will sign no head until an administrator has run corridor verify. " + err.Error()})
		return
	}
	if err != nil {
		ledgerError(w, r, err, false)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, h)
}

// handleKey answers the public key heads are signed with, as a JWK.
func (s *Server) handleKey(w http.ResponseWriter, r *http.Request, n *registry.Node) {
	writeJSON(w, http.StatusOK, n.PublicKey())
}
