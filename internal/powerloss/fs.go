// Package powerloss is a FUSE file system that keeps everything written to
// it in memory and, on a simulated power cut, throws away what was not
// fsynced; its tests run a registry node on it and cut the power under load.
package powerloss

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// The durability model is the strict POSIX one (fsync(2), "Application
// usage" in POSIX.1-2017; Linux fsync(2): "Calling fsync() does not
// necessarily ensure that the entry in the directory containing the file has
// also reached disk. For that an explicit fsync() on a file descriptor for
// the directory is also needed."):
//   - a file's contents (and size) survive a cut as of its last fsync or
//     fdatasync; a file never synced survives, if at all, empty;
//   - a directory's names (created, renamed, removed) survive as of the
//     directory's last fsync; a file whose name was never synced vanishes.
//
// Writes reach this process synchronously (FUSE without writeback caching:
// each write(2) returns after the daemon has it), so once every process using
// the mount is dead, the daemon holds all they wrote.

// node is one file or directory. Nodes outlive their names: a node unlinked
// since the last directory sync comes back at a cut.
type node struct {
	ino  uint64
	dir  bool
	mode uint32

	// Files: data now, and as of the last fsync.
	data, synced []byte
	// Directories: names now, and as of the last fsync of the directory.
	entries, syncedEntries map[string]*node
}

// FS is the in-memory state of the file system, kept across mounts. Its
// methods are safe for concurrent use.
type FS struct {
	mu      sync.Mutex
	root    *node
	nextIno uint64
	stats   Stats
}

// Stats counts what the file system saw, so a test can check that the
// workload did what it claims (synced files, grew a WAL).
type Stats struct {
	Writes, FileSyncs, DirSyncs, Cuts int
	// Lost is the number of bytes of file content and of names thrown away
	// by cuts.
	LostBytes, LostNames int
}

// New returns an empty file system.
func New() *FS {
	root := &node{ino: 1, dir: true, mode: syscall.S_IFDIR | 0o755, entries: map[string]*node{}, syncedEntries: map[string]*node{}}
	return &FS{root: root, nextIno: 2}
}

// Stats returns the counters so far.
func (f *FS) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// Cut throws away everything not synced: every file reachable through
// synced names reverts to its synced contents, every directory to its
// synced names. The file system must not be mounted (Unmount first).
func (f *FS) Cut() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stats.Cuts++
	var revert func(d *node)
	revert = func(d *node) {
		for name, n := range d.entries {
			if d.syncedEntries[name] != n {
				f.stats.LostNames++
			}
		}
		d.entries = maps.Clone(d.syncedEntries)
		for _, n := range d.entries {
			if n.dir {
				revert(n)
				continue
			}
			f.stats.LostBytes += lost(n.data, n.synced)
			n.data = slices.Clone(n.synced)
		}
	}
	revert(f.root)
}

// SyncAll makes everything written so far durable, as sync(2) or the
// kernel's periodic writeback would. Call it only while the writers are
// idle, or it may catch a file half-way through an update.
func (f *FS) SyncAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	var walk func(d *node)
	walk = func(d *node) {
		d.syncedEntries = maps.Clone(d.entries)
		for _, n := range d.entries {
			if n.dir {
				walk(n)
			} else {
				n.synced = slices.Clone(n.data)
			}
		}
	}
	walk(f.root)
}

// lost counts the bytes a revert from data to synced changes: those that
// differ, and the length difference.
func lost(data, synced []byte) int {
	n := max(len(data), len(synced)) - min(len(data), len(synced))
	for i := range min(len(data), len(synced)) {
		if data[i] != synced[i] {
			n++
		}
	}
	return n
}

// Mount is the file system mounted on a directory.
type Mount struct {
	fs     *FS
	dir    string
	server *fuse.Server
}

// Available reports why FUSE cannot be used here (nil when it can).
func Available() error {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return fmt.Errorf("powerloss: no /dev/fuse (install fuse3: apt-get install -y fuse3): %w", err)
	}
	if os.Geteuid() != 0 {
		for _, p := range []string{"/usr/bin/fusermount3", "/bin/fusermount3", "/usr/bin/fusermount"} {
			if _, err := os.Stat(p); err == nil {
				return nil
			}
		}
		return errors.New("powerloss: not root and no fusermount3 (install fuse3)")
	}
	return nil
}

// Mount mounts f on dir, which must exist and be empty.
func (f *FS) Mount(dir string) (*Mount, error) {
	zero := time.Duration(0)
	opts := &fs.Options{
		MountOptions: fuse.MountOptions{
			FsName:      "powerloss",
			Name:        "powerloss",
			DirectMount: true, // mount(2) directly when root; fusermount3 otherwise
		},
		// Names and attributes change only through this mount, so the
		// kernel may cache them for go-fuse's default second; a cut
		// remounts, which drops every cache, page cache included.
		NegativeTimeout: &zero,
		RootStableAttr:  &fs.StableAttr{Ino: f.root.ino},
	}
	server, err := fs.Mount(dir, &fuseNode{fs: f, n: f.root}, opts)
	if err != nil {
		return nil, fmt.Errorf("powerloss: mount on %s: %w", dir, err)
	}
	return &Mount{fs: f, dir: dir, server: server}, nil
}

// Unmount unmounts; every process that used the mount must be gone (open
// files make it busy), so it retries for a few seconds.
func (m *Mount) Unmount() error {
	var err error
	for range 100 {
		if err = m.server.Unmount(); err == nil {
			m.server.Wait()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("powerloss: unmount %s: %w", m.dir, err)
}

// PowerCut unmounts, throws away everything not synced and mounts the file
// system again on the same directory. Kill every process using the mount
// first: it is what a power cut does to them.
func (m *Mount) PowerCut() (*Mount, error) {
	if err := m.Unmount(); err != nil {
		return nil, err
	}
	m.fs.Cut()
	return m.fs.Mount(m.dir)
}

// fuseNode is a node as go-fuse sees it; one per node per mount.
type fuseNode struct {
	fs.Inode
	fs *FS
	n  *node
}

var (
	_ fs.NodeLookuper  = (*fuseNode)(nil)
	_ fs.NodeReaddirer = (*fuseNode)(nil)
	_ fs.NodeGetattrer = (*fuseNode)(nil)
	_ fs.NodeSetattrer = (*fuseNode)(nil)
	_ fs.NodeCreater   = (*fuseNode)(nil)
	_ fs.NodeMkdirer   = (*fuseNode)(nil)
	_ fs.NodeUnlinker  = (*fuseNode)(nil)
	_ fs.NodeRmdirer   = (*fuseNode)(nil)
	_ fs.NodeRenamer   = (*fuseNode)(nil)
	_ fs.NodeOpener    = (*fuseNode)(nil)
	_ fs.NodeReader    = (*fuseNode)(nil)
	_ fs.NodeWriter    = (*fuseNode)(nil)
	_ fs.NodeFsyncer   = (*fuseNode)(nil)
	_ fs.NodeFlusher   = (*fuseNode)(nil)
)

func (fn *fuseNode) attr(n *node, out *fuse.Attr) {
	out.Ino = n.ino
	out.Mode = n.mode
	out.Nlink = 1
	if n.dir {
		out.Nlink = 2
	}
	out.Size = uint64(len(n.data))
	out.Blksize = 4096
	out.Blocks = (out.Size + 511) / 512
}

func (fn *fuseNode) child(ctx context.Context, n *node, out *fuse.EntryOut) *fs.Inode {
	fn.attr(n, &out.Attr)
	return fn.NewInode(ctx, &fuseNode{fs: fn.fs, n: n}, fs.StableAttr{Mode: n.mode & syscall.S_IFMT, Ino: n.ino})
}

func (fn *fuseNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	fn.fs.mu.Lock()
	defer fn.fs.mu.Unlock()
	n, ok := fn.n.entries[name]
	if !ok {
		return nil, syscall.ENOENT
	}
	return fn.child(ctx, n, out), 0
}

func (fn *fuseNode) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	fn.fs.mu.Lock()
	defer fn.fs.mu.Unlock()
	names := slices.Sorted(maps.Keys(fn.n.entries))
	list := make([]fuse.DirEntry, 0, len(names))
	for _, name := range names {
		n := fn.n.entries[name]
		list = append(list, fuse.DirEntry{Name: name, Ino: n.ino, Mode: n.mode})
	}
	return fs.NewListDirStream(list), 0
}

func (fn *fuseNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	fn.fs.mu.Lock()
	defer fn.fs.mu.Unlock()
	fn.attr(fn.n, &out.Attr)
	return 0
}

func (fn *fuseNode) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	fn.fs.mu.Lock()
	defer fn.fs.mu.Unlock()
	if size, ok := in.GetSize(); ok {
		if fn.n.dir {
			return syscall.EISDIR
		}
		fn.n.data = resize(fn.n.data, int(size))
	}
	if mode, ok := in.GetMode(); ok {
		fn.n.mode = fn.n.mode&syscall.S_IFMT | mode&0o7777
	}
	fn.attr(fn.n, &out.Attr)
	return 0
}

// resize grows b with zeros or cuts it to size, never sharing memory with a
// synced copy.
func resize(b []byte, size int) []byte {
	if size <= len(b) {
		return b[:size]
	}
	return append(b, make([]byte, size-len(b))...)
}

func (fn *fuseNode) newNode(mode uint32, dir bool) *node {
	n := &node{ino: fn.fs.nextIno, dir: dir, mode: mode}
	fn.fs.nextIno++
	if dir {
		n.entries, n.syncedEntries = map[string]*node{}, map[string]*node{}
	}
	return n
}

func (fn *fuseNode) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	fn.fs.mu.Lock()
	defer fn.fs.mu.Unlock()
	if n, ok := fn.n.entries[name]; ok {
		// O_CREAT without O_EXCL on an existing name opens it.
		if flags&syscall.O_EXCL != 0 {
			return nil, nil, 0, syscall.EEXIST
		}
		if flags&syscall.O_TRUNC != 0 {
			n.data = n.data[:0]
		}
		return fn.child(ctx, n, out), nil, 0, 0
	}
	n := fn.newNode(syscall.S_IFREG|mode&0o7777, false)
	fn.n.entries[name] = n
	return fn.child(ctx, n, out), nil, 0, 0
}

func (fn *fuseNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	fn.fs.mu.Lock()
	defer fn.fs.mu.Unlock()
	if _, ok := fn.n.entries[name]; ok {
		return nil, syscall.EEXIST
	}
	n := fn.newNode(syscall.S_IFDIR|mode&0o7777, true)
	fn.n.entries[name] = n
	return fn.child(ctx, n, out), 0
}

func (fn *fuseNode) Unlink(ctx context.Context, name string) syscall.Errno {
	fn.fs.mu.Lock()
	defer fn.fs.mu.Unlock()
	n, ok := fn.n.entries[name]
	if !ok {
		return syscall.ENOENT
	}
	if n.dir {
		return syscall.EISDIR
	}
	delete(fn.n.entries, name)
	return 0
}

func (fn *fuseNode) Rmdir(ctx context.Context, name string) syscall.Errno {
	fn.fs.mu.Lock()
	defer fn.fs.mu.Unlock()
	n, ok := fn.n.entries[name]
	if !ok {
		return syscall.ENOENT
	}
	if !n.dir {
		return syscall.ENOTDIR
	}
	if len(n.entries) > 0 {
		return syscall.ENOTEMPTY
	}
	delete(fn.n.entries, name)
	return 0
}

func (fn *fuseNode) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	fn.fs.mu.Lock()
	defer fn.fs.mu.Unlock()
	dst, ok := newParent.(*fuseNode)
	if !ok || flags != 0 {
		return syscall.EINVAL // RENAME_EXCHANGE and RENAME_NOREPLACE are not needed by SQLite
	}
	n, ok := fn.n.entries[name]
	if !ok {
		return syscall.ENOENT
	}
	if old, ok := dst.n.entries[newName]; ok && old.dir && len(old.entries) > 0 {
		return syscall.ENOTEMPTY
	}
	delete(fn.n.entries, name)
	dst.n.entries[newName] = n
	return 0
}

func (fn *fuseNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	fn.fs.mu.Lock()
	defer fn.fs.mu.Unlock()
	if flags&syscall.O_TRUNC != 0 && !fn.n.dir {
		fn.n.data = fn.n.data[:0]
	}
	return nil, 0, 0
}

func (fn *fuseNode) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	fn.fs.mu.Lock()
	defer fn.fs.mu.Unlock()
	data := fn.n.data
	if off >= int64(len(data)) {
		return fuse.ReadResultData(nil), 0
	}
	end := min(off+int64(len(dest)), int64(len(data)))
	n := copy(dest, data[off:end]) // copied: data changes once the lock is released
	return fuse.ReadResultData(dest[:n]), 0
}

func (fn *fuseNode) Write(ctx context.Context, fh fs.FileHandle, buf []byte, off int64) (uint32, syscall.Errno) {
	fn.fs.mu.Lock()
	defer fn.fs.mu.Unlock()
	if end := int(off) + len(buf); end > len(fn.n.data) {
		fn.n.data = resize(fn.n.data, end)
	}
	copy(fn.n.data[off:], buf)
	fn.fs.stats.Writes++
	return uint32(len(buf)), 0
}

// Fsync serves fsync and fdatasync on files and directories alike: both
// make the node's current state the one a cut keeps.
func (fn *fuseNode) Fsync(ctx context.Context, fh fs.FileHandle, flags uint32) syscall.Errno {
	fn.fs.mu.Lock()
	defer fn.fs.mu.Unlock()
	if fn.n.dir {
		fn.n.syncedEntries = maps.Clone(fn.n.entries)
		fn.fs.stats.DirSyncs++
		return 0
	}
	fn.n.synced = slices.Clone(fn.n.data)
	fn.fs.stats.FileSyncs++
	return 0
}

// Flush (close(2)) syncs nothing, as on a real disk.
func (fn *fuseNode) Flush(ctx context.Context, fh fs.FileHandle) syscall.Errno { return 0 }
