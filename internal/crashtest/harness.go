package crashtest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"testing"

	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// BuildBinary builds ./cmd/corridor of this module into dir, with the given
// build tags (the power-loss test builds with corridor_powerloss).
func BuildBinary(dir string, tags ...string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "corridor")
	args := []string{"build", "-o", out}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.Command(goTool(), append(args, "./cmd/corridor")...)
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("crashtest: go build ./cmd/corridor: %w\n%s", err, msg)
	}
	return out, nil
}

func goTool() string {
	if p, err := exec.LookPath(filepath.Join(os.Getenv("GOROOT"), "bin", "go")); err == nil && os.Getenv("GOROOT") != "" {
		return p
	}
	return "go"
}

// moduleRoot is the directory of go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("crashtest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Server is one corridor serve process, started and killed again and again
// on the same data directory, database and address.
type Server struct {
	Binary               string
	DataDir, DBURL, Addr string
	LogPath              string
	// Env is added to the server's environment (not to verify's).
	Env []string

	cmd    *exec.Cmd
	exited chan struct{}
	starts int
}

func (s *Server) BaseURL() string { return "http://" + s.Addr }

func (s *Server) args(sub string) []string {
	a := []string{sub, "--data-dir", s.DataDir}
	if s.DBURL != "" {
		a = append(a, "--database-url", s.DBURL)
	}
	return a
}

// Start launches the server without waiting for it to be ready.
func (s *Server) Start() error {
	logf, err := os.OpenFile(s.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	s.starts++
	fmt.Fprintf(logf, "---- start %d ----\n", s.starts)
	cmd := exec.Command(s.Binary, append(s.args("serve"), "--addr", s.Addr)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Empty the variables serve falls back to, so flags alone decide.
	cmd.Env = append(os.Environ(), "CORRIDOR_DATABASE_URL=", "CORRIDOR_DATA_DIR=", "CORRIDOR_ADDR=")
	cmd.Env = append(cmd.Env, s.Env...)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("crashtest: start server: %w", err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(s.exited)
	}()
	return nil
}

// WaitReady polls /healthz until the server answers or timeout passes.
func (s *Server) WaitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	hc := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("crashtest: server exited during start-up (%s); log:\n%s", s.cmd.ProcessState, s.LogTail())
		default:
		}
		resp, err := hc.Get(s.BaseURL() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("crashtest: server not ready after %s; log:\n%s", timeout, s.LogTail())
}

// Kill sends SIGKILL and waits for the process to be gone.
func (s *Server) Kill() error {
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("crashtest: kill server: %w", err)
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("crashtest: server did not die within 10s of SIGKILL")
	}
}

// Stop asks the server to shut down (SIGTERM), killing it if it lingers.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.Kill()
	}
}

// Verify runs corridor verify on the stopped server's databases.
func (s *Server) Verify(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Binary, s.args("verify")...)
	cmd.Env = append(os.Environ(), "CORRIDOR_DATABASE_URL=", "CORRIDOR_DATA_DIR=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// LogTail is the end of the server's log, for failure messages.
func (s *Server) LogTail() string {
	raw, _ := os.ReadFile(s.LogPath)
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}

// ScratchDatabase creates a database crash_<random> on base's server and
// drops it when the test ends; serve puts its registries in schemas there.
func ScratchDatabase(t testing.TB, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse database URL: %v", err)
	}
	raw := make([]byte, 5)
	_, _ = rand.Read(raw)
	name := "crash_" + hex.EncodeToString(raw)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
		admin.Close()
	})
	u.Path = "/" + name
	return u.String()
}
