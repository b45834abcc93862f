package bench

import (
	"os"
	"syscall"
)

// dataSync flushes f's data (and the metadata needed to read it back), as
// SQLite and PostgreSQL (wal_sync_method=fdatasync) do at commit.
func dataSync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
