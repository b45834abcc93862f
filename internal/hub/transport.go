// Package hub is the corridor's transaction log and the registry nodes'
// side of its protocol: cross-registry transfers checked, recorded and
// relayed by a hub that never holds units (DESIGN.md, linking).
package hub

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/corridor-carbon/corridor/internal/hub/envelope"
)

// Transport carries sealed envelopes between participants. Send queues a
// message for its receiver; the receiver's synchronous answer is only an
// acknowledgement (nil, or a refusal with its code), the outcome comes
// later as a message the other way. An HTTP transport will implement the
// same interface; the envelopes are signed and verified either way.
type Transport interface {
	Send(ctx context.Context, to, compact string) error
}

// Receiver is a participant's inbound side: it verifies the envelope,
// records it and acts, or refuses it (*envelope.Refusal).
type Receiver interface {
	Receive(ctx context.Context, compact string) error
}

// Refused is a delivery its receiver refused at acknowledgement.
type Refused struct {
	To   string
	Code envelope.Code
	Err  error
}

// Local is the in-process transport of the embedded corridor: a queue of
// envelopes delivered in order by Run. Delivery is in-process but the
// envelopes are the same signed bytes an HTTP transport would carry.
type Local struct {
	mu        sync.Mutex
	receivers map[string]Receiver
	queue     []delivery
	refused   []Refused
}

type delivery struct{ to, compact string }

// NewLocal returns an empty in-process transport.
func NewLocal() *Local { return &Local{receivers: map[string]Receiver{}} }

// Attach makes r the receiver of messages to code.
func (l *Local) Attach(code string, r Receiver) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.receivers[code] = r
}

// Send implements Transport: it queues the envelope.
func (l *Local) Send(_ context.Context, to, compact string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.receivers[to] == nil {
		return fmt.Errorf("hub: transport: no participant %q", to)
	}
	l.queue = append(l.queue, delivery{to, compact})
	return nil
}

// Run delivers queued envelopes, and those their receivers send in turn,
// until the queue is empty or max deliveries were made; it returns the
// number delivered. A refusal is recorded (Refusals), not retried: the
// in-process transport loses nothing, so a refusal is a protocol error.
func (l *Local) Run(ctx context.Context, max int) (int, error) {
	n := 0
	for ; n < max; n++ {
		l.mu.Lock()
		if len(l.queue) == 0 {
			l.mu.Unlock()
			return n, nil
		}
		d := l.queue[0]
		l.queue = l.queue[1:]
		r := l.receivers[d.to]
		l.mu.Unlock()
		if err := r.Receive(ctx, d.compact); err != nil {
			code := envelope.RefusalCode(err)
			if code == "" {
				return n, fmt.Errorf("hub: transport: delivering to %s: %w", d.to, err)
			}
			l.mu.Lock()
			l.refused = append(l.refused, Refused{To: d.to, Code: code, Err: err})
			l.mu.Unlock()
		}
	}
	return n, fmt.Errorf("%w after %d deliveries", ErrBusy, max)
}

// ErrBusy: Run stopped at its bound with messages still queued.
var ErrBusy = errors.New("hub: transport: still busy")

// Refusals returns the deliveries refused so far.
func (l *Local) Refusals() []Refused {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Refused(nil), l.refused...)
}

// Drop empties the queue without delivering (a crash of every sender
// before its outbox was relayed, for restart tests).
func (l *Local) Drop() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.queue)
	l.queue = nil
	return n
}
