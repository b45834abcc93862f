package main

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

// pflagNumberError is pflag's error for a number flag whose value does not
// parse: `invalid argument "1.5" for "--quantity" flag: strconv.ParseInt:
// parsing "1.5": invalid syntax`.
var pflagNumberError = regexp.MustCompile(`^invalid argument "(.*)" for "(?:-\w, )?--([\w-]+)" flag: strconv\.Parse(?:Int|Uint|Float)`)

// numberFlagSentence says what a number flag takes, by flag name, in the
// words the commands' own checks use for a value that parses but is out of
// bounds (--quantity -5), so that 1.5 and -5 read the same.
func numberFlagSentence(name string) string {
	switch name {
	case "quantity":
		return fmt.Sprintf("a positive whole number of units of at most %d", ledger.MaxSerial)
	case "from", "to", "to-account", "account", "issuance", "org", "id":
		return "a positive id"
	case "vintage", "year":
		return "a year"
	}
	return "a whole number"
}

// plainFlagError rewrites pflag's parse error of a number flag as a sentence
// naming the flag and what it takes; other errors are returned unchanged.
func plainFlagError(c *cobra.Command, err error) error {
	m := pflagNumberError.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	f := c.Flags().Lookup(m[2])
	if f != nil && strings.HasPrefix(f.Value.Type(), "float") {
		return fmt.Errorf("--%s must be a number, not %q", m[2], m[1])
	}
	return errors.New("--" + m[2] + " must be " + numberFlagSentence(m[2]) + ", not " + m[1])
}
