package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newLinkCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "link",
		Short: "(being built)",
		RunE:  func(cmd *cobra.Command, args []string) error { return errors.New("link: not built yet") },
	}
}
