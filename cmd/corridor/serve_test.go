package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runFor runs the command line like run, but cancels it after d: a serve
// that should have refused to start ends instead of serving forever.
func runFor(d time.Duration, args ...string) cliRun {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return cliRun{stdout: out.String(), stderr: errb.String(), err: err}
}

// TestServeWritesNothingWhenItCannotListen: serve binds its address before
// it opens (and seeds) any registry, so a busy port or a malformed --addr
// fails with nothing written to the data directory.
func TestServeWritesNothingWhenItCannotListen(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		addr string
		code int
		want string
	}{
		{busy.Addr().String(), exitFailure, "address already in use"},
		{"bogus", exitUsage, "--addr"},
	} {
		dir := filepath.Join(t.TempDir(), "data")
		r := runFor(30*time.Second, "serve", "--addr", tc.addr, "--data-dir", dir, "--reconcile-every", "0")
		if r.code() != tc.code || r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
			t.Errorf("serve --addr %s: exit %d, %v; want exit %d naming %q", tc.addr, r.code(), r.err, tc.code, tc.want)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("serve --addr %s wrote %s", tc.addr, dir)
		}
	}
}

// TestServeUnknownDemoRegistry: seeding the demo, a registry code the demo
// does not know (a typo) is a usage error naming the known codes, and
// nothing is created; --seed-demo=false runs a registry of one's own.
func TestServeUnknownDemoRegistry(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	r := runFor(30*time.Second, "serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--registries", "CN,XX", "--reconcile-every", "0")
	if r.code() != exitUsage || r.err == nil || !strings.Contains(r.err.Error(), "XX") || !strings.Contains(r.err.Error(), "CNETS") || !strings.Contains(r.err.Error(), "LA") {
		t.Fatalf("serve --registries CN,XX: exit %d, %v", r.code(), r.err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("serve --registries CN,XX wrote %s", dir)
	}
}

// TestBootstrapUnknownCountry: --country must be an assigned ISO 3166-1
// alpha-2 code; ZZ (user-assigned) and lower case are usage errors and
// nothing is created.
func TestBootstrapUnknownCountry(t *testing.T) {
	for _, c := range []string{"ZZ", "vn", "VNM"} {
		dir := filepath.Join(t.TempDir(), "data")
		r := run("bootstrap", "--data-dir", dir, "--registry", "VN", "--org-name", "Viet Nam registry (test)", "--country", c)
		if r.code() != exitUsage || r.err == nil || !strings.Contains(r.err.Error(), "ISO 3166-1") {
			t.Errorf("bootstrap --country %s: exit %d, %v", c, r.code(), r.err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("bootstrap --country %s wrote %s", c, dir)
		}
	}
}
