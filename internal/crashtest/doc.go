// Package crashtest runs a corridor server as a child process under a load
// of transfers (by quantity and by serials), retirements and escrows, cuts
// it short again and again, and checks after each restart that no
// acknowledged transaction was lost and no unit was created, destroyed or
// moved twice. Its tests cut with SIGKILL; internal/powerloss reuses Run to
// cut the power under a SQLite database.
package crashtest
