package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// mkdirAllDurable is os.MkdirAll that also fsyncs the parent of every
// directory it creates. A new name is durable only once its directory is
// synced (Linux fsync(2): "Calling fsync() does not necessarily ensure that
// the entry in the directory containing the file has also reached disk");
// SQLite syncs the directory of its WAL, not the directories above it, so
// without this a power cut soon after a node's first start could lose the
// whole data directory, every acknowledged commit in it included.
func mkdirAllDurable(dir string) error {
	var created []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		created = append(created, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, d := range created {
		if err := syncDir(filepath.Dir(d)); err != nil {
			return err
		}
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("store: open %s to sync it: %w", dir, err)
	}
	defer f.Close()
	// Some file systems cannot sync a directory (EINVAL); there is nothing
	// more to do on them.
	if err := f.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("store: sync directory %s: %w", dir, err)
	}
	return nil
}
