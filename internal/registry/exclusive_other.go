//go:build !unix

package registry

import "os"

// lockFile is a no-op where flock is missing: one serving process per
// SQLite database is then the operator's to ensure.
func lockFile(*os.File) error { return nil }
