package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newBenchCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "bench",
		Short: "(being built)",
		RunE:  func(cmd *cobra.Command, args []string) error { return errors.New("bench: not built yet") },
	}
}
