package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// NodeKey is the node's signing key (ed25519) as stored: the private
// key's seed and the public key, with the kid derived from it.
type NodeKey struct {
	KID       string
	Seed      []byte
	Public    []byte
	CreatedAt time.Time
}

// EnsureNodeKey stores candidate as the node's key unless it already has
// one, and returns the key the database holds. Two processes opening a new
// database at once both get the same key: the insert does nothing when the
// slot is taken.
func (d *DB) EnsureNodeKey(ctx context.Context, candidate NodeKey) (NodeKey, error) {
	args := []any{candidate.KID, b64(candidate.Seed), b64(candidate.Public), timeText(candidate.CreatedAt)}
	if err := checkRow("node_keys", "kid, seed, public_key, created_at", args); err != nil {
		return NodeKey{}, err
	}
	if _, err := d.rq.ExecContext(ctx, d.q(`INSERT INTO node_keys (slot, kid, seed, public_key, created_at) VALUES (1, ?, ?, ?, ?) ON CONFLICT (slot) DO NOTHING`), args...); err != nil {
		return NodeKey{}, fmt.Errorf("store: store node key: %w", err)
	}
	k, found, err := d.NodeKey(ctx)
	if err == nil && !found {
		err = errors.New("store: node key missing just after it was stored")
	}
	return k, err
}

// NodeKey returns the node's key (found false before the node first opened).
func (d *DB) NodeKey(ctx context.Context) (NodeKey, bool, error) {
	var k NodeKey
	var seed, pub, at string
	err := d.rq.QueryRowContext(ctx, `SELECT kid, seed, public_key, created_at FROM node_keys WHERE slot = 1`).Scan(&k.KID, &seed, &pub, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return NodeKey{}, false, nil
	}
	if err != nil {
		return NodeKey{}, false, fmt.Errorf("store: read node key: %w", err)
	}
	if k.Seed, err = unb64(seed); err == nil {
		k.Public, err = unb64(pub)
	}
	if err != nil {
		return NodeKey{}, false, fmt.Errorf("store: node key %s is not base64url: %w", k.KID, err)
	}
	k.CreatedAt = parseTime(at)
	return k, true, nil
}

// PublishedHead is a journal head the node signed and handed out.
type PublishedHead struct {
	Seq       int64
	Hash      string
	At        time.Time
	KID       string
	Signature string
}

// ErrHeadConflict means a head was already published at that seq with
// another hash: the journal was rewritten there.
var ErrHeadConflict = errors.New("store: a head with another hash was already published at this seq")

// RecordHead records h in a commit of its own, before the node hands it
// out. Recording the same seq again keeps the first row (its time and
// signature); recording another hash at a published seq is ErrHeadConflict
// and writes nothing.
func (d *DB) RecordHead(ctx context.Context, h PublishedHead) (PublishedHead, error) {
	args := []any{h.Seq, h.Hash, timeText(h.At), h.KID, h.Signature}
	if err := checkRow("published_heads", "seq, hash, at, kid, signature", args); err != nil {
		return PublishedHead{}, err
	}
	if _, err := d.rq.ExecContext(ctx, d.q(`INSERT INTO published_heads (seq, hash, at, kid, signature) VALUES (?, ?, ?, ?, ?) ON CONFLICT (seq) DO NOTHING`), args...); err != nil {
		return PublishedHead{}, fmt.Errorf("store: record published head %d: %w", h.Seq, err)
	}
	got, err := scanHead(d.rq.QueryRowContext(ctx, d.q(`SELECT `+headCols+` FROM published_heads WHERE seq = ?`), h.Seq))
	if err != nil {
		return PublishedHead{}, fmt.Errorf("store: read published head %d: %w", h.Seq, err)
	}
	if got.Hash != h.Hash {
		return got, fmt.Errorf("%w: seq %d was published with hash %s at %s, now %s", ErrHeadConflict, h.Seq, got.Hash, got.At.Format(time.RFC3339), h.Hash)
	}
	return got, nil
}

const headCols = `seq, hash, at, kid, signature`

func scanHead(sc interface{ Scan(...any) error }) (PublishedHead, error) {
	var h PublishedHead
	var at string
	err := sc.Scan(&h.Seq, &h.Hash, &at, &h.KID, &h.Signature)
	h.At = parseTime(at)
	return h, err
}

// LatestPublishedHead returns the published head with the highest seq.
func (d *DB) LatestPublishedHead(ctx context.Context) (PublishedHead, bool, error) {
	h, err := scanHead(d.rq.QueryRowContext(ctx, `SELECT `+headCols+` FROM published_heads ORDER BY seq DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return PublishedHead{}, false, nil
	}
	if err != nil {
		return PublishedHead{}, false, fmt.Errorf("store: read latest published head: %w", err)
	}
	return h, true, nil
}

// HeadMismatch is a published head the journal does not bear out: no
// entry at its seq (JournalHash empty), or one with another hash.
type HeadMismatch struct {
	Head        PublishedHead
	JournalHash string
}

// PublishedHeadsOffJournal returns up to limit published heads, lowest seq
// first, that the journal does not reach or has another hash at. The
// database does the join, so verify need not hold every head in memory.
func (d *DB) PublishedHeadsOffJournal(ctx context.Context, limit int) ([]HeadMismatch, error) {
	rows, err := d.rq.QueryContext(ctx, d.q(`SELECT p.seq, p.hash, p.at, p.kid, p.signature, COALESCE(j.hash, '')
		FROM published_heads p LEFT JOIN journal j ON j.seq = p.seq
		WHERE j.seq IS NULL OR j.hash <> p.hash ORDER BY p.seq LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("store: compare published heads with the journal: %w", err)
	}
	var out []HeadMismatch
	for rows.Next() {
		var m HeadMismatch
		var at string
		if err := rows.Scan(&m.Head.Seq, &m.Head.Hash, &at, &m.Head.KID, &m.Head.Signature, &m.JournalHash); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: compare published heads with the journal: %w", err)
		}
		m.Head.At = parseTime(at)
		out = append(out, m)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("store: compare published heads with the journal: %w", err)
	}
	return out, nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func unb64(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

// HubHead is a head of this node's journal that the hub recorded at a
// reconciliation and told the node about, with the hub's signed message.
type HubHead struct {
	PublishedHead
	Reconciliation string
	// Message is the hub's sealed head_seen envelope (compact JWS).
	Message string
}

// RecordHubHead records h; recording the same head again keeps the first
// row. Another hash at a seq already recorded is a second row: both are
// the hub's records, and verify reports the one the journal differs from.
func (d *DB) RecordHubHead(ctx context.Context, h HubHead) error {
	args := []any{h.Seq, h.Hash, timeText(h.At), h.KID, h.Signature, h.Reconciliation, h.Message}
	if err := checkRow("hub_heads", "seq, hash, at, kid, signature, reconciliation, message", args); err != nil {
		return err
	}
	if _, err := d.rq.ExecContext(ctx, d.q(`INSERT INTO hub_heads (seq, hash, at, kid, signature, reconciliation, message) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (seq, hash) DO NOTHING`), args...); err != nil {
		return fmt.Errorf("store: record hub head %d: %w", h.Seq, err)
	}
	return nil
}

// HubHeadMismatch is a hub head the journal does not bear out.
type HubHeadMismatch struct {
	Head        HubHead
	JournalHash string
}

// HubHeadsOffJournal returns up to limit hub heads, lowest seq first, that
// the journal does not reach or has another hash at.
func (d *DB) HubHeadsOffJournal(ctx context.Context, limit int) ([]HubHeadMismatch, error) {
	rows, err := d.rq.QueryContext(ctx, d.q(`SELECT p.seq, p.hash, p.at, p.kid, p.signature, p.reconciliation, COALESCE(j.hash, '')
		FROM hub_heads p LEFT JOIN journal j ON j.seq = p.seq
		WHERE j.seq IS NULL OR j.hash <> p.hash ORDER BY p.seq LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("store: compare hub heads with the journal: %w", err)
	}
	var out []HubHeadMismatch
	for rows.Next() {
		var m HubHeadMismatch
		var at string
		if err := rows.Scan(&m.Head.Seq, &m.Head.Hash, &at, &m.Head.KID, &m.Head.Signature, &m.Head.Reconciliation, &m.JournalHash); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: compare hub heads with the journal: %w", err)
		}
		m.Head.At = parseTime(at)
		out = append(out, m)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("store: compare hub heads with the journal: %w", err)
	}
	return out, nil
}
