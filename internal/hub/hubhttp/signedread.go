package hubhttp

import (
	"log/slog"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
)

// SignedRead is what a node's endpoint for the hub's signed read
// requests (the snapshot, the Article 6 facts) needs to check them: the
// hub it trusts, the clock and the window, and the request ids it has
// taken.
type SignedRead struct {
	// HubCode is the hub's code (the trust list's issuer).
	HubCode string
	Trust   func() envelope.TrustList
	// Now is the node's clock (time.Now when nil); Skew the request's
	// window (hub.SnapshotSkew when 0).
	Now  func() time.Time
	Skew time.Duration
	Log  *slog.Logger

	seen seenRequests
}

func (s *SignedRead) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *SignedRead) skew() time.Duration {
	if s.Skew > 0 {
		return s.Skew
	}
	return hub.SnapshotSkew
}

func (s *SignedRead) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}
