package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Rejection is a request refused by a rule, recorded under its idempotency
// key so a replay returns the same refusal.
type Rejection struct {
	Key         string
	RequestHash string
	// AfterSeq is the journal head when the request was decided.
	AfterSeq int64
	At       time.Time
	// Body is the refusal as JSON (the registry's encoding).
	Body string
}

func (b *Batch) rejectionRow(i int, a []any) []any {
	r := b.Rejections[i]
	return append(a, r.Key, r.RequestHash, r.AfterSeq, timeText(r.At), r.Body)
}

// RejectionsByKey returns the rejections recorded under the given keys. A
// key that cannot be stored (ErrInvalidText) matches nothing.
func (d *DB) RejectionsByKey(ctx context.Context, keys []string) (map[string]Rejection, error) {
	out := map[string]Rejection{}
	for _, args := range keyChunks(keys) {
		rows, err := d.rq.QueryContext(ctx, d.q(`SELECT idem_key, request_hash, after_seq, at, body FROM rejections WHERE idem_key IN (?`+strings.Repeat(", ?", len(args)-1)+`)`), args...)
		if err != nil {
			return nil, fmt.Errorf("store: read rejections by key: %w", err)
		}
		for rows.Next() {
			var r Rejection
			var at string
			if err := rows.Scan(&r.Key, &r.RequestHash, &r.AfterSeq, &at, &r.Body); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: read rejections by key: %w", err)
			}
			r.At = parseTime(at)
			out[r.Key] = r
		}
		if err := closeRows(rows); err != nil {
			return nil, err
		}
	}
	return out, nil
}
