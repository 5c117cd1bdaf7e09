package proxy

import (
	"sync/atomic"
	"time"
)

// LatencyBounds are the upper bounds of the request-duration histogram's
// buckets (Prometheus `le`), from a fast local hop to a slow report: 1 ms
// resolution at the bottom, where most proxied requests are, and a 60 s
// top for long polls and uploads. Fixed so dashboards can rely on them.
var LatencyBounds = [...]time.Duration{
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second,
	10 * time.Second, 30 * time.Second, 60 * time.Second,
}

// latencyHist is a backend's request-duration histogram: one atomic
// counter per bucket (the last one is +Inf) and the sum in nanoseconds.
// Observing is a short scan and two atomic adds, no allocation, so it can
// sit on every request's finish.
type latencyHist struct {
	counts [len(LatencyBounds) + 1]atomic.Uint64
	sumNs  atomic.Uint64
}

func (h *latencyHist) observe(d time.Duration) {
	if d < 0 {
		d = 0
	}
	i := 0
	for i < len(LatencyBounds) && d > LatencyBounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sumNs.Add(uint64(d))
}

// observeLatency records one HTTP transaction of b that started (request
// head begun) at start, Unix nanoseconds, and ends now. Called once per
// transaction from session.finish; a nil backend (answered by the frontend
// itself) or an unknown start records nothing.
func (b *Backend) observeLatency(start int64) {
	if b == nil || start == 0 {
		return
	}
	b.latency.observe(time.Duration(time.Now().UnixNano() - start))
}

// LatencySnapshot is a backend's histogram as Prometheus wants it.
type LatencySnapshot struct {
	Backend string
	// Cumulative[i] counts the transactions that took at most
	// LatencyBounds[i]; Count counts them all (the +Inf bucket).
	Cumulative [len(LatencyBounds)]uint64
	Count      uint64
	Sum        time.Duration
}

// Latency reads b's histogram. The buckets are read one by one while
// requests finish, so a snapshot may miss a request that is in the sum;
// Count is derived from the buckets so that it always equals the +Inf
// bucket, as Prometheus requires.
func (b *Backend) Latency() LatencySnapshot {
	s := LatencySnapshot{Backend: b.Name}
	var n uint64
	for i := range b.latency.counts {
		n += b.latency.counts[i].Load()
		if i < len(s.Cumulative) {
			s.Cumulative[i] = n
		}
	}
	s.Count = n
	s.Sum = time.Duration(b.latency.sumNs.Load())
	return s
}
