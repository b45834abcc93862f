package hubhttp

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
)

// Transport is the hub.Transport of a networked corridor. Send only
// queues: the hub and the endpoints call it while holding their own lock,
// and the receiver's acknowledgement of one message may itself send one
// back (the acquirer answers the hub's notice), so a synchronous POST
// would deadlock two participants waiting on each other. One worker per
// receiver delivers its queue in order (the sequence rule needs order per
// sender and receiver), retrying failures with backoff for RetryFor; a
// refusal is logged and not retried (re-sending the same envelope gets
// the same refusal). Lost messages are recovered by the protocol (the hub
// re-sends unfinished transfers' messages when it opens; status polls).
type Transport struct {
	Client *Client
	// Trust names each receiver's endpoint.
	Trust func() envelope.TrustList
	// RetryFor bounds the retries of one message (default 1 min, well
	// inside the receivers' clock-skew window: the envelope's sent_at does
	// not change on retry).
	RetryFor time.Duration
	Log      *slog.Logger

	ctx     context.Context
	mu      sync.Mutex
	queues  map[string]*queue
	refused []hub.Refused
	wg      sync.WaitGroup
}

type queue struct {
	items   []string
	running bool
	busy    bool
}

// NewTransport returns a transport whose workers stop when ctx ends.
func NewTransport(ctx context.Context, c *Client, trust func() envelope.TrustList, log *slog.Logger) *Transport {
	if log == nil {
		log = slog.Default()
	}
	return &Transport{Client: c, Trust: trust, Log: log, RetryFor: time.Minute, ctx: ctx, queues: map[string]*queue{}}
}

// Send implements hub.Transport: it queues compact for to.
func (t *Transport) Send(_ context.Context, to, compact string) error {
	if _, ok := t.Trust().Entry(to); !ok {
		return fmt.Errorf("hubhttp: %w: %q is not in the trust list", hub.ErrUnknownRegistry, to)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	q := t.queues[to]
	if q == nil {
		q = &queue{}
		t.queues[to] = q
	}
	q.items = append(q.items, compact)
	if !q.running {
		q.running = true
		t.wg.Add(1)
		go t.work(to, q)
	}
	return nil
}

// Pending is the number of messages queued or in flight.
func (t *Transport) Pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, q := range t.queues {
		n += len(q.items)
		if q.busy {
			n++
		}
	}
	return n
}

// Refusals returns the deliveries refused so far.
func (t *Transport) Refusals() []hub.Refused {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]hub.Refused(nil), t.refused...)
}

// Wait returns when every worker has stopped (after ctx ended).
func (t *Transport) Wait() { t.wg.Wait() }

func (t *Transport) work(to string, q *queue) {
	defer t.wg.Done()
	for {
		t.mu.Lock()
		if len(q.items) == 0 || t.ctx.Err() != nil {
			q.running = false
			t.mu.Unlock()
			return
		}
		compact := q.items[0]
		q.items = q.items[1:]
		q.busy = true
		t.mu.Unlock()
		t.deliver(to, compact)
		t.mu.Lock()
		q.busy = false
		t.mu.Unlock()
	}
}

func (t *Transport) deliver(to, compact string) {
	deadline := time.Now().Add(t.RetryFor)
	backoff := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := t.post(to, compact)
		if err == nil {
			return
		}
		if code := envelope.RefusalCode(err); code != "" {
			t.Log.Warn("hubhttp: delivery refused", "to", to, "code", code, "err", err)
			t.mu.Lock()
			t.refused = append(t.refused, hub.Refused{To: to, Code: code, Err: err})
			t.mu.Unlock()
			return
		}
		if time.Now().Add(backoff).After(deadline) {
			t.Log.Error("hubhttp: delivery failed, giving up (the protocol's re-sends recover it)", "to", to, "attempts", attempt, "err", err)
			return
		}
		if attempt == 1 || attempt%10 == 0 {
			t.Log.Warn("hubhttp: delivery failed, retrying", "to", to, "attempt", attempt, "err", err)
		}
		select {
		case <-t.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (t *Transport) post(to, compact string) error {
	e, ok := t.Trust().Entry(to)
	if !ok {
		return &envelope.Refusal{Code: envelope.CodeMisaddressed, Detail: fmt.Sprintf("%q left the trust list", to)}
	}
	url, err := Join(e.Endpoint, PathMessages)
	if err != nil {
		return err
	}
	return t.Client.Post(t.ctx, url, compact)
}

var _ hub.Transport = (*Transport)(nil)

// Direct is the synchronous hub.Transport: Send POSTs at once and returns
// the receiver's answer (nil, a *envelope.Refusal, or a failure). It is
// for a caller that sends outside its own lock, such as an outbox relay
// with its own retries; the hub and endpoints as they are call Send under
// their lock and need Transport.
type Direct struct {
	Client *Client
	Trust  func() envelope.TrustList
}

// Send implements hub.Transport.
func (d Direct) Send(ctx context.Context, to, compact string) error {
	e, ok := d.Trust().Entry(to)
	if !ok {
		return fmt.Errorf("hubhttp: %w: %q is not in the trust list", hub.ErrUnknownRegistry, to)
	}
	url, err := Join(e.Endpoint, PathMessages)
	if err != nil {
		return err
	}
	return d.Client.Post(ctx, url, compact)
}

var _ hub.Transport = Direct{}
