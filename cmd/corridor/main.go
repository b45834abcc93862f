// Command corridor runs and operates Corridor: registry nodes, the hub, the
// web dashboard and the calculation tools (CBAM, linkage).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code chosen by a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

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
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "corridor",
		Short:         "Link carbon markets across China and Southeast Asia",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCmd(), newVerifyCmd(), newBootstrapCmd(), newCBAMCmd(), newLinkCmd())
	root.AddCommand(registryCommands()...)
	root.AddCommand(newBenchCmd(), newExportCmd(), newRulebookCmd())
	root.AddCommand(newMRVCmd())
	return root
}

// envDefault returns the environment variable's value, or def when unset;
// flags take it as their default so that --help documents both.
func envDefault(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}
