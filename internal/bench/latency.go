package bench

import (
	"slices"
	"time"
)

// Latency summarises a set of timed operations.
type Latency struct {
	N    int           `json:"n"`
	P50  time.Duration `json:"p50_ns"`
	P99  time.Duration `json:"p99_ns"`
	Max  time.Duration `json:"max_ns"`
	Mean time.Duration `json:"mean_ns"`

	samples []time.Duration
}

// Add records one operation's duration.
func (l *Latency) Add(d time.Duration) {
	l.samples = append(l.samples, d)
	l.N = len(l.samples)
}

// Merge adds other's samples to l.
func (l *Latency) Merge(other *Latency) {
	l.samples = append(l.samples, other.samples...)
	l.N = len(l.samples)
}

// Finish computes N, the percentiles (nearest rank), the maximum and the
// mean from the samples added so far.
func (l *Latency) Finish() {
	s := l.samples
	l.N = len(s)
	if len(s) == 0 {
		return
	}
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	l.P50, l.P99, l.Max, l.Mean = rank(s, 50), rank(s, 99), s[len(s)-1], sum/time.Duration(len(s))
}

// rank is the nearest-rank percentile p of sorted s.
func rank(s []time.Duration, p int) time.Duration {
	i := (len(s)*p + 99) / 100 // ceil(n·p/100), 1-based
	return s[max(i, 1)-1]
}

func (l Latency) String() string {
	return "p50 " + round(l.P50).String() + ", p99 " + round(l.P99).String() + ", max " + round(l.Max).String()
}

// round keeps three significant digits or so, for printing.
func round(d time.Duration) time.Duration {
	switch {
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= 100*time.Microsecond:
		return d.Round(10 * time.Microsecond)
	case d >= time.Microsecond:
		return d.Round(100 * time.Nanosecond)
	}
	return d
}
