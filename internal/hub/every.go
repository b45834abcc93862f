package hub

import (
	"context"
	"time"
)

// Every calls f every interval until ctx ends: the loop behind the
// participants' protocol timers, the trust list's refresh and the
// reconciler. A failure of f other than ctx ending goes to failed (when
// it is not nil) and the next tick calls f again.
func Every(ctx context.Context, interval time.Duration, f func(context.Context) error, failed func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := f(ctx); err != nil && ctx.Err() == nil && failed != nil {
			failed(err)
		}
	}
}
