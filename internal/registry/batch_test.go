package registry

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// newCall builds a call as Do would queue it, for tests that hand the
// writer a batch of their own making.
func newCall(actor Actor, key string, req Request) *call {
	return &call{actor: actor, key: key, req: req, hash: requestHash(actor, req), ready: make(chan struct{})}
}

// TestDoAfterClose: a transaction submitted after Close is answered with
// ErrClosed; it must never wait forever for a writer that has stopped.
func TestDoAfterClose(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	f.n.Close()
	for i := 0; i < 50; i++ {
		done := make(chan error, 1)
		go func() {
			_, err := f.n.Do(context.Background(), system, fmt.Sprintf("after-close-%d", i), CreateOrganisation{Name: "Late", Country: "CN"})
			done <- err
		}()
		select {
		case err := <-done:
			if err != ErrClosed {
				t.Fatalf("Do after Close: %v, want ErrClosed", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("Do after Close (attempt %d) still waiting after 2s", i)
		}
	}
}
