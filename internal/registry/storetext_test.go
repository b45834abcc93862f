package registry

import (
	"context"
	"errors"
	"testing"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestTextNoStoreTakes: text the store refuses on every driver (invalid
// UTF-8, NUL) is refused as bad input before it reaches a batch; if it
// reached the store, the whole group commit would fail and every call in
// it would be answered "unavailable, retry", forever for the bad one.
func TestTextNoStoreTakes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		t.Parallel()
		n := openNode(t, tg)
		ctx := context.Background()
		for _, tc := range []struct {
			name, key string
			req       Request
		}{
			{"NUL in a name", "k-nul-name", CreateOrganisation{Name: "Steel\x00Co", Country: "CN"}},
			{"invalid UTF-8 in a name", "k-bad-name", CreateOrganisation{Name: "Steel\xffCo", Country: "CN"}},
			{"NUL in the key", "k\x00", CreateOrganisation{Name: "Steel", Country: "CN"}},
			{"invalid UTF-8 in the key", "k\xff", CreateOrganisation{Name: "Steel", Country: "CN"}},
		} {
			_, err := n.Do(ctx, system, tc.key, tc.req)
			var le *ledger.Error
			if !errors.As(err, &le) || le.Kind != ledger.KindInvalid {
				t.Errorf("%s: Do = %v, want a KindInvalid error", tc.name, err)
			}
		}
		if got := n.Stats().Failed.Load(); got != 0 {
			t.Errorf("%d calls lost to failed commits", got)
		}
	})
}
