//go:build linux

package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// openTerminal opens a pseudo-terminal's follower side, a *os.File that
// isTerminal takes for a terminal; it skips the test where none can be had.
func openTerminal(t *testing.T) *os.File {
	t.Helper()
	leader, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { leader.Close() })
	const tiocsptlck, tiocgptn = 0x40045431, 0x80045430
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, leader.Fd(), tiocsptlck, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Skipf("unlockpt: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, leader.Fd(), tiocgptn, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Skipf("ptsname: %v", e)
	}
	f, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pts: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	if !isTerminal(f) {
		t.Skip("the pseudo-terminal is not a character device here")
	}
	return f
}

// TestXLSXRefusedOnTerminal: `article6 aef --format xlsx` without --out (or
// with --out -) refuses to write binary to a terminal, as `export` does,
// before it opens any database.
func TestXLSXRefusedOnTerminal(t *testing.T) {
	tty := openTerminal(t)
	for _, args := range [][]string{
		{"article6", "aef", "--hub-db", "/nonexistent/hub.db", "--party", "ID", "--year", "2026", "--format", "xlsx"},
		{"article6", "aef", "--hub-db", "/nonexistent/hub.db", "--party", "ID", "--year", "2026", "--format", "xlsx", "--out", "-"},
		{"export", "--format", "xlsx", "--what", "holdings", "--registry", "CN"},
	} {
		root := newRootCmd()
		root.SetOut(tty)
		root.SetErr(tty)
		root.SetArgs(args)
		err := root.Execute()
		r := cliRun{err: err}
		if r.code() != exitUsage || !strings.Contains(err.Error(), "XLSX file is binary") {
			t.Errorf("%v: exit %d, %v; want %d and the binary-on-terminal message", args, r.code(), err, exitUsage)
		}
	}
}
