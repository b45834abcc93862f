package registry

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// openSharedNode opens a node that shares its database with other nodes
// (tests of several writers on one database).
func openSharedNode(t *testing.T, tg storetest.Target) *Node {
	t.Helper()
	n, err := Open(context.Background(), tg.Open(t), Options{Code: "CN", SharedDatabase: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	return n
}

// TestSecondServingProcessRefused: a second node on a database another
// node serves is refused at Open with a message saying so (before, a second
// process served units the first had already moved); once the first closes,
// the database can be served again.
func TestSecondServingProcessRefused(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		a := openNode(t, tg)
		_, err := Open(context.Background(), tg.Open(t), Options{Code: "CN"})
		if !errors.Is(err, ErrDatabaseInUse) || !strings.Contains(err.Error(), "one serving process") {
			t.Fatalf("second Open: %v, want ErrDatabaseInUse", err)
		}
		a.Close()
		b := openNode(t, tg)
		b.Close()
	})
}
