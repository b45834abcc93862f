// Package crashtest kills a running corridor server with SIGKILL, again and
// again at random moments under load, and checks after each restart that
// no acknowledged transaction was lost and no unit was created, destroyed
// or moved twice. It has only tests; go test ./... runs them.
package crashtest
