//go:build unix

package registry

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
)

// The SQLite serving lock is an flock on the database file itself. A lock
// file beside the database could be deleted while a server ran, and the
// next server would create a new one and lock it; the database file cannot
// go away from under its server without taking the data with it. SQLite's
// own locks on that file are POSIX record locks (fcntl), which on Linux and
// the BSDs are independent of flock (flock(2), "NOTES"), so the two never
// block each other.
//
// POSIX record locks have one trap: closing any descriptor of a file drops
// every record lock the process holds on it, SQLite's included (fcntl(2),
// "Advisory record locking"). The descriptor opened here is therefore never
// closed: release unlocks it and keeps it for the next node on the same
// file, one descriptor per database file per process.

// errLocked: another open file description holds the flock.
var errLocked = errors.New("database file is locked")

var dbLocks = struct {
	sync.Mutex
	files map[fileID]*dbLock
}{files: map[fileID]*dbLock{}}

// dbLock is the descriptor of one database file and whether a node of
// this process holds its flock: a second flock on the same open file
// description succeeds, so a second node here is refused by held.
type dbLock struct {
	f    *os.File
	held bool
}

type fileID struct{ dev, ino uint64 }

// lockDatabaseFile takes an exclusive flock on the database file at path
// without waiting.
func lockDatabaseFile(path string) (release func(), err error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return nil, fmt.Errorf("database file: %w", err)
	}
	id := fileID{uint64(st.Dev), uint64(st.Ino)}
	dbLocks.Lock()
	defer dbLocks.Unlock()
	l := dbLocks.files[id]
	if l == nil {
		f, err := os.OpenFile(path, os.O_RDONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("database file: %w", err)
		}
		l = &dbLock{f: f}
		dbLocks.files[id] = l
	}
	if l.held {
		return nil, errLocked
	}
	if err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLocked
		}
		return nil, fmt.Errorf("database file: flock: %w", err)
	}
	l.held = true
	var once sync.Once
	return func() {
		once.Do(func() {
			dbLocks.Lock()
			defer dbLocks.Unlock()
			_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
			l.held = false
		})
	}, nil
}
