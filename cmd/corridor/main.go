// Command corridor runs and operates Corridor: registry nodes, the web
// dashboard and the calculation tools (CBAM, MRV, rulebook, linkage). It
// parses flags and prints; the wiring lives in internal/host.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/corridor-carbon/corridor/internal/host"
	"github.com/corridor-carbon/corridor/internal/hub/hubhttp"
	"github.com/corridor-carbon/corridor/internal/ledger"
)

// Exit codes of every command (README, "exit codes").
const (
	exitFailure     = 1 // it could not run (an internal or I/O error)
	exitUsage       = 2 // a flag, argument or input file is wrong; nothing was done
	exitRejected    = 3 // the input was valid but rejected by the rules (or verify found a violation)
	exitUnreachable = 4 // no answer from the server
)

// exitError carries a process exit code chosen by a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// hostError gives a host error its exit code: 2 for bad input, 3 for a
// refusal by the registry's rules or a hub that refuses this node's
// settings (another protocol than --hub-url's, another key than the pin),
// 1 otherwise.
func hostError(err error) error {
	if errors.Is(err, host.ErrInvalid) {
		return &exitError{code: exitUsage, err: err}
	}
	if errors.Is(err, host.ErrAlreadyBootstrapped) || errors.Is(err, hubhttp.ErrProtocolMismatch) || errors.Is(err, hubhttp.ErrTrustRefused) {
		return &exitError{code: exitRejected, err: err}
	}
	if e, ok := ledger.AsError(err); ok && e.Kind != ledger.KindOther && e.Kind != ledger.KindTransient {
		return &exitError{code: exitRejected, err: err}
	}
	return err
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "corridor:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(exitFailure)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "corridor",
		Short:         "Link carbon markets across China and Southeast Asia",
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		// Without Args cobra would call an unknown command's error a plain
		// failure (exit 1); it is a usage error.
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			msg := fmt.Sprintf("unknown command %q", args[0])
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, ", "))
			}
			return &exitError{code: exitUsage, err: fmt.Errorf("%s (see corridor --help)", msg)}
		},
	}
	root.SuggestionsMinimumDistance = 2
	root.SetVersionTemplate("corridor {{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: fmt.Errorf("%w (see %s --help)", plainFlagError(c, err), c.CommandPath())}
	})
	root.AddCommand(newServeCmd(), newVerifyCmd(), newBootstrapCmd(), newCBAMCmd(), newLinkCmd())
	root.AddCommand(registryCommands()...)
	root.AddCommand(newBenchCmd(), newExportCmd(), newRulebookCmd())
	root.AddCommand(newMRVCmd(), newHeadCmd(), newHubCmd(), newKeygenCmd())
	root.AddCommand(newArticle6Cmd())
	// cobra adds help and completion only when it executes; adding them
	// now lets the pass below give them exit code 2 for bad input too.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "help" {
			c.Args = helpTopicArgs
		}
		withUsageExit(c)
	}
	return root
}

// version is the module version and the VCS revision the binary was built
// from, as the Go toolchain recorded them.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown version)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = ", modified"
			}
		}
	}
	if rev != "" {
		v += fmt.Sprintf(" (revision %s, %s%s)", rev, at, dirty)
	}
	return v + ", " + bi.GoVersion
}

// envDefault returns the environment variable's value, or def when unset;
// flags take it as their default so that --help documents both.
func envDefault(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// storageFlags are --data-dir and --database-url, for every command that
// opens registry databases itself.
type storageFlags struct {
	host.Storage
}

func (f *storageFlags) add(fs *pflag.FlagSet) {
	f.addDataDir(fs)
	fs.StringVar(&f.DatabaseURL, "database-url", envDefault("CORRIDOR_DATABASE_URL", ""),
		"PostgreSQL URL (postgres://…): Corridor creates its own schemas in that database, registry_<code> per registry and corridor_hub for the hub, and refuses a search_path parameter; empty uses SQLite under --data-dir (env CORRIDOR_DATABASE_URL)")
}

func (f *storageFlags) addDataDir(fs *pflag.FlagSet) {
	fs.StringVar(&f.DataDir, "data-dir", envDefault("CORRIDOR_DATA_DIR", "./corridor-data"),
		"data directory: SQLite registries in registries/<CODE>.db, demo-tokens.json (env CORRIDOR_DATA_DIR)")
}

// isTerminal reports whether w is a terminal (a character device), for
// progress bars and for refusing binary output to a screen.
// refuseBinaryOnTerminal refuses to write a binary file (XLSX) to standard
// output (out empty or "-") when that is a terminal.
func refuseBinaryOnTerminal(cmd *cobra.Command, out string) error {
	if (out == "" || out == "-") && isTerminal(cmd.OutOrStdout()) {
		return usageError(cmd, "an XLSX file is binary: give --out FILE or redirect stdout")
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
