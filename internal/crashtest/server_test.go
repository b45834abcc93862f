package crashtest

import (
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

// binary is the corridor binary built by TestMain.
var binary string

// buildBinary builds ./cmd/corridor of this module into dir.
func buildBinary(dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "corridor")
	cmd := exec.Command(goTool(), "build", "-o", out, "./cmd/corridor")
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

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// server is one corridor serve process, started and killed again and again
// on the same data directory, database and address.
type server struct {
	dataDir, dbURL, addr string
	logPath              string

	cmd    *exec.Cmd
	exited chan struct{}
	starts int
}

func (s *server) baseURL() string { return "http://" + s.addr }

func (s *server) args(sub string) []string {
	a := []string{sub, "--data-dir", s.dataDir}
	if s.dbURL != "" {
		a = append(a, "--database-url", s.dbURL)
	}
	return a
}

// start launches the server without waiting for it to be ready.
func (s *server) start() error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	s.starts++
	fmt.Fprintf(logf, "---- start %d ----\n", s.starts)
	cmd := exec.Command(binary, append(s.args("serve"), "--addr", s.addr)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Empty the variables serve falls back to, so flags alone decide.
	cmd.Env = append(os.Environ(), "CORRIDOR_DATABASE_URL=", "CORRIDOR_DATA_DIR=", "CORRIDOR_ADDR=")
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

// waitReady polls /healthz until the server answers or timeout passes.
func (s *server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	hc := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("crashtest: server exited during start-up (%s); log:\n%s", s.cmd.ProcessState, s.logTail())
		default:
		}
		resp, err := hc.Get(s.baseURL() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("crashtest: server not ready after %s; log:\n%s", timeout, s.logTail())
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill() error {
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

// stop asks the server to shut down (SIGTERM), killing it if it lingers.
func (s *server) stop() {
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
		_ = s.kill()
	}
}

// verify runs corridor verify on the stopped server's databases.
func (s *server) verify(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, s.args("verify")...)
	cmd.Env = append(os.Environ(), "CORRIDOR_DATABASE_URL=", "CORRIDOR_DATA_DIR=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// logTail is the end of the server's log, for failure messages.
func (s *server) logTail() string {
	raw, _ := os.ReadFile(s.logPath)
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}
