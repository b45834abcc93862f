package store

import "context"

// BackendPID returns the PostgreSQL server process serving w, so a test can
// terminate that session from another connection.
func BackendPID(ctx context.Context, w *WriteTx) (int, error) {
	var pid int
	err := w.tx.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid)
	return pid, err
}
