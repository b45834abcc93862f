package main

import "testing"

// TestProblemExit: the one mapping from a server problem's status to the
// exit code README and --help document.
func TestProblemExit(t *testing.T) {
	for _, c := range []struct{ status, want int }{
		{400, exitUsage}, {413, exitUsage}, {415, exitUsage},
		{401, exitRejected}, {403, exitRejected}, {404, exitRejected}, {409, exitRejected}, {422, exitRejected},
		{503, exitUnreachable},
	} {
		if got := problemExit(c.status); got != c.want {
			t.Errorf("HTTP %d: exit %d, want %d", c.status, got, c.want)
		}
	}
}
