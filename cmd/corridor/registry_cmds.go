package main

import "github.com/spf13/cobra"

// registryCommands are the CLI commands that drive a running server's
// registry API through the client package (owned by the CLI work).
func registryCommands() []*cobra.Command { return nil }
