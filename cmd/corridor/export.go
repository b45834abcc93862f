package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newExportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "export",
		Short: "(being built)",
		RunE:  func(cmd *cobra.Command, args []string) error { return errors.New("export: not built yet") },
	}
}
