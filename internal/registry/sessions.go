package registry

import (
	"context"
	"time"

	"github.com/corridor-carbon/corridor/internal/store"
)

// Dashboard sessions live in the registry's own database, beside the
// tokens they were opened with: a session acts on this registry only, so
// it is kept, backed up and moved with it, and a server running several
// registries (the demo) needs no database of its own for them. Only the
// hash of a session's id is stored.

// StartSession records that the session whose id hashes to idHash is
// signed in here as a from now until expires, and sweeps this registry's
// sessions expired by now.
func (n *Node) StartSession(ctx context.Context, idHash string, a Actor, now, expires time.Time) error {
	if _, err := n.SweepSessions(ctx, now); err != nil {
		n.log.Warn("registry: sweeping expired web sessions", "err", err)
	}
	return n.db.SaveWebSession(ctx, store.WebSession{IDHash: idHash, OrgID: a.OrgID, Role: a.Role, CreatedAt: now, Expires: expires})
}

// SweepSessions deletes this registry's sessions expired by now and says
// how many there were (the dashboard also sweeps on a timer, so a
// registry nobody signs in to keeps no expired rows).
func (n *Node) SweepSessions(ctx context.Context, now time.Time) (int64, error) {
	return n.db.SweepWebSessions(ctx, now)
}

// Session returns the actor the session whose id hashes to idHash is
// signed in as here at time at, and when that ends (found false: not
// signed in here, or expired by then).
func (n *Node) Session(ctx context.Context, idHash string, at time.Time) (Actor, time.Time, bool, error) {
	s, found, err := n.db.WebSessionAt(ctx, idHash, at)
	if err != nil || !found {
		return Actor{}, time.Time{}, false, err
	}
	return Actor{OrgID: s.OrgID, Role: s.Role}, s.Expires, true, nil
}

// EndSession signs the session whose id hashes to idHash out of here.
func (n *Node) EndSession(ctx context.Context, idHash string) error {
	return n.db.DeleteWebSession(ctx, idHash)
}
