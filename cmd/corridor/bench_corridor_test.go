package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"
	"time"
)

// TestBenchCorridor: a small run completes every transfer both ways and
// reports a rate and latency for each.
func TestBenchCorridor(t *testing.T) {
	var out bytes.Buffer
	f := benchCorridorFlags{transfers: 12, clients: 3, single: 200 * time.Millisecond}
	f.DataDir = t.TempDir()
	if err := benchCorridor(context.Background(), &out, f); err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{`single node .*: \d+ transfers/s`, `embedded, 3 clients: [\d.]+ completed transfers/s \(12 completed, 0 not`, `loopback-http, 3 clients: [\d.]+ completed transfers/s \(12 completed, 0 not.*p50`} {
		if !regexp.MustCompile(re).Match(out.Bytes()) {
			t.Fatalf("output lacks %q:\n%s", re, out.String())
		}
	}
}
