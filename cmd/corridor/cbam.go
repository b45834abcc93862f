package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newCBAMCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cbam",
		Short: "(being built)",
		RunE:  func(cmd *cobra.Command, args []string) error { return errors.New("cbam: not built yet") },
	}
}
