package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestNumberFlagsSayWhatTheyTake: every integer flag of every command
// answers a fraction or a number too large for it with exit 2 and a
// sentence naming the flag, never Go's "strconv.ParseInt: parsing …".
func TestNumberFlagsSayWhatTheyTake(t *testing.T) {
	type flagOf struct {
		path []string
		name string
	}
	var flags []flagOf
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if strings.HasPrefix(f.Value.Type(), "int") || strings.HasPrefix(f.Value.Type(), "uint") {
				flags = append(flags, flagOf{path, f.Name})
			}
		})
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string{}, path...), sub.Name()))
		}
	}
	walk(newRootCmd(), nil)
	if len(flags) < 10 {
		t.Fatalf("only %d integer flags found", len(flags))
	}
	for _, f := range flags {
		for _, v := range []string{"1.5", "99999999999999999999"} {
			r := run(append(append([]string{}, f.path...), "--"+f.name, v)...)
			if r.code() != exitUsage || strings.Contains(r.err.Error(), "strconv") || !strings.Contains(r.err.Error(), "--"+f.name+" must be") {
				t.Errorf("%s --%s %s: exit %d, %v", strings.Join(f.path, " "), f.name, v, r.code(), r.err)
			}
		}
	}
	r := run("transfer", "--from", "1", "--to", "2", "--unit-type", "VCU", "--quantity", "1.5")
	if want := "--quantity must be a positive whole number of units of at most"; r.err == nil || !strings.Contains(r.err.Error(), want) {
		t.Errorf("--quantity 1.5: %v, want the sentence of --quantity -5", r.err)
	}
}
