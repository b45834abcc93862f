package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// TestSerialShowsFrozen: 'corridor serial' marks a held block that meets
// a freeze as frozen with the freeze's id, and leaves the others held.
func TestSerialShowsFrozen(t *testing.T) {
	var out bytes.Buffer
	blocks := []registry.BlockView{{Serial: "CN-A-1-10", Start: 1, End: 10, Quantity: 10, State: ledger.Held, AccountID: 2},
		{Serial: "CN-A-11-20", Start: 11, End: 20, Quantity: 10, State: ledger.Held, AccountID: 2}}
	if err := printSerialBlocks(&out, blocks, []registry.SerialFreeze{{Freeze: 42, Start: 5, End: 10, Code: "reconcile_unexpected"}}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	if !strings.Contains(lines[1], "held, frozen (freeze 42)") || strings.Contains(lines[2], "frozen") {
		t.Fatalf("blocks:\n%s", out.String())
	}
}
