package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

// WebSession is a signed-in dashboard session as this registry stores it:
// the hash of its id, the actor it signed in as here, and when it ends.
type WebSession struct {
	IDHash    string
	OrgID     int64
	Role      ledger.Role
	CreatedAt time.Time
	Expires   time.Time
}

// SaveWebSession stores s (a new id hash; saving one already stored
// replaces it). Each call commits on its own, outside the journal: a
// session is not a ledger fact and never reaches verify.
func (d *DB) SaveWebSession(ctx context.Context, s WebSession) error {
	args := []any{s.IDHash, s.OrgID, string(s.Role), timeText(s.CreatedAt), s.Expires.UnixMilli()}
	if err := checkRow("web_sessions", "id_hash, org_id, role, created_at, expires_at", args); err != nil {
		return err
	}
	_, err := d.sql.ExecContext(ctx, d.q(`INSERT INTO web_sessions (id_hash, org_id, role, created_at, expires_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (id_hash) DO UPDATE SET org_id = excluded.org_id, role = excluded.role, created_at = excluded.created_at, expires_at = excluded.expires_at`), args...)
	if err != nil {
		return fmt.Errorf("store: save web session: %w", err)
	}
	return nil
}

// WebSessionAt returns the session with idHash if it is live at now
// (found false when there is none or it has expired).
func (d *DB) WebSessionAt(ctx context.Context, idHash string, now time.Time) (WebSession, bool, error) {
	if !storable(idHash) {
		return WebSession{}, false, nil
	}
	s := WebSession{IDHash: idHash}
	var role, at string
	var exp int64
	err := d.sql.QueryRowContext(ctx, d.q(`SELECT org_id, role, created_at, expires_at FROM web_sessions WHERE id_hash = ? AND expires_at > ?`),
		idHash, now.UnixMilli()).Scan(&s.OrgID, &role, &at, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return WebSession{}, false, nil
	}
	if err != nil {
		return WebSession{}, false, fmt.Errorf("store: read web session: %w", err)
	}
	s.Role, s.CreatedAt, s.Expires = ledger.Role(role), parseTime(at), time.UnixMilli(exp).UTC()
	return s, true, nil
}

// DeleteWebSession removes the session with idHash (none: no error).
func (d *DB) DeleteWebSession(ctx context.Context, idHash string) error {
	if !storable(idHash) {
		return nil
	}
	if _, err := d.sql.ExecContext(ctx, d.q(`DELETE FROM web_sessions WHERE id_hash = ?`), idHash); err != nil {
		return fmt.Errorf("store: delete web session: %w", err)
	}
	return nil
}

// SweepWebSessions deletes the sessions expired at now and says how many.
func (d *DB) SweepWebSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := d.sql.ExecContext(ctx, d.q(`DELETE FROM web_sessions WHERE expires_at <= ?`), now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: sweep web sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
