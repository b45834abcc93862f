package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestJSONEverywhere: every command with machine output takes --json, and
// --json prints what the older --format json printed.
func TestJSONEverywhere(t *testing.T) {
	// Commands whose --format picks a file format (csv, xlsx), not JSON.
	fileFormats := map[string]bool{"corridor export": true, "corridor article6 aef": true}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if f := c.Flags().Lookup("format"); f != nil && !fileFormats[c.CommandPath()] && c.Flags().Lookup("json") == nil {
			t.Errorf("%s has --format but no --json", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	root := newRootCmd()
	walk(root)

	for _, args := range [][]string{
		{"mrv", "--file", exampleInstallation},
		{"rulebook", "jurisdictions"},
		{"rulebook"},
		{"link"},
	} {
		viaJSON := mustRun(t, append(args, "--json")...).stdout
		viaFormat := mustRun(t, append(args, "--format", "json")...).stdout
		if !json.Valid([]byte(viaJSON)) || viaJSON != viaFormat {
			t.Errorf("%v --json is not the JSON of --format json:\n%.300s\n---\n%.300s", args, viaJSON, viaFormat)
		}
		if r := run(append(args, "--json", "--format", "text")...); r.code() != exitUsage {
			t.Errorf("%v --json --format text: exit %d, %v", args, r.code(), r.err)
		}
	}
}

// TestLinkRunsFlag: --runs is a whole number: a fraction, a word or a
// negative number is a usage error, as is a CORRIDOR_LINK_RUNS that is
// not one; a flag given overrides the environment.
func TestLinkRunsFlag(t *testing.T) {
	for _, v := range []string{"1.5", "many", "-1"} {
		if r := run("link", "--runs", v); r.code() != exitUsage || !strings.Contains(r.err.Error(), "--runs") {
			t.Errorf("link --runs %s: exit %d, %v", v, r.code(), r.err)
		}
	}
	t.Setenv("CORRIDOR_LINK_RUNS", "ten")
	if r := run("link"); r.code() != exitUsage || !strings.Contains(r.err.Error(), "CORRIDOR_LINK_RUNS") {
		t.Errorf("CORRIDOR_LINK_RUNS=ten: exit %d, %v", r.code(), r.err)
	}
	if r := run("link", "--runs", "0", "--json"); r.code() != 0 {
		t.Errorf("CORRIDOR_LINK_RUNS=ten, link --runs 0: exit %d, %v", r.code(), r.err)
	}
}
