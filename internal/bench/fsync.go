// Package bench measures a registry node: the raw fsync rate of the disk
// under it, durable transfers per second with many concurrent clients
// (in-process or through the HTTP API, on SQLite or PostgreSQL), and read
// latency on a registry of a million blocks. The corridor bench command and
// the go test -bench benchmarks both drive these functions.
package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// FsyncParams configure Fsync.
type FsyncParams struct {
	// Dir is where the scratch file is written (the data directory, so the
	// figure describes the disk the database lives on).
	Dir string
	// Duration of the append+sync loop.
	Duration time.Duration
	// WriteSize is the size of each append; 4096 when zero.
	WriteSize int
}

// FsyncResult is the outcome of Fsync.
type FsyncResult struct {
	Syncs     int64         `json:"syncs"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	PerSecond float64       `json:"syncs_per_second"`
	Latency   Latency       `json:"latency"`
}

// Fsync appends WriteSize bytes to a scratch file in Dir and forces them to
// disk (fdatasync where the system has it), again and again for Duration.
// Each sync is one round trip to stable storage, which is what a database
// commit costs at least; the rate is the ceiling of a one-commit-per-
// transaction design, and the figure group commit is measured against.
func Fsync(ctx context.Context, p FsyncParams) (FsyncResult, error) {
	if p.WriteSize <= 0 {
		p.WriteSize = 4096
	}
	if p.Duration <= 0 {
		return FsyncResult{}, fmt.Errorf("bench: fsync duration must be positive, not %s", p.Duration)
	}
	sf, err := NewSyncFile(p.Dir, p.WriteSize)
	if err != nil {
		return FsyncResult{}, err
	}
	defer sf.Close()
	var lat Latency
	start := time.Now()
	deadline := start.Add(p.Duration)
	for now := start; now.Before(deadline); {
		if err := ctx.Err(); err != nil {
			return FsyncResult{}, err
		}
		if err := sf.Step(); err != nil {
			return FsyncResult{}, err
		}
		t := time.Now()
		lat.Add(t.Sub(now))
		now = t
	}
	elapsed := time.Since(start)
	lat.Finish()
	return FsyncResult{Syncs: int64(lat.N), Elapsed: elapsed, PerSecond: float64(lat.N) / elapsed.Seconds(), Latency: lat}, nil
}

// SyncFile is a scratch file that grows by one synced append per Step.
type SyncFile struct {
	f   *os.File
	buf []byte
}

// NewSyncFile creates a scratch file in dir for appends of size bytes.
func NewSyncFile(dir string, size int) (*SyncFile, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: fsync: %w", err)
	}
	f, err := os.CreateTemp(dir, "corridor-fsync-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("bench: fsync: %w", err)
	}
	buf := make([]byte, size)
	for i := range buf {
		buf[i] = byte(i)
	}
	return &SyncFile{f: f, buf: buf}, nil
}

// Step appends one buffer and syncs it to stable storage.
func (s *SyncFile) Step() error {
	if _, err := s.f.Write(s.buf); err != nil {
		return fmt.Errorf("bench: fsync: write %s: %w", filepath.Base(s.f.Name()), err)
	}
	if err := dataSync(s.f); err != nil {
		return fmt.Errorf("bench: fsync: sync %s: %w", filepath.Base(s.f.Name()), err)
	}
	return nil
}

// Close closes and removes the file.
func (s *SyncFile) Close() error {
	err := s.f.Close()
	if rerr := os.Remove(s.f.Name()); err == nil {
		err = rerr
	}
	return err
}
