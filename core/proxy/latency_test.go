package proxy

import (
	"io"
	"net/http"
	"testing"
	"time"
)

func TestLatencyBuckets(t *testing.T) {
	for _, tc := range []struct {
		d      time.Duration
		bucket int // index into counts; len(LatencyBounds) is +Inf
	}{
		{-time.Millisecond, 0}, // clock step: counted as 0
		{0, 0},
		{time.Millisecond, 0}, // le is inclusive
		{time.Millisecond + 1, 1},
		{7 * time.Millisecond, 3},
		{time.Second, 9},
		{60 * time.Second, len(LatencyBounds) - 1},
		{time.Hour, len(LatencyBounds)},
	} {
		var h latencyHist
		h.observe(tc.d)
		for i := range h.counts {
			want := uint64(0)
			if i == tc.bucket {
				want = 1
			}
			if got := h.counts[i].Load(); got != want {
				t.Errorf("%v: bucket %d = %d, want %d", tc.d, i, got, want)
			}
		}
	}
}

// The hook on the request finish path must not allocate.
func TestLatencyObserveAllocs(t *testing.T) {
	b := &Backend{Name: "be"}
	start := time.Now().UnixNano()
	if n := testing.AllocsPerRun(1000, func() { b.observeLatency(start) }); n != 0 {
		t.Fatalf("%v allocations per observation", n)
	}
	var nilBackend *Backend
	nilBackend.observeLatency(start) // answered by the frontend: no backend, no panic
	b.observeLatency(0)              // no request start (TCP): not recorded
	if s := b.Latency(); s.Count != 1001 {
		t.Fatalf("count %d, want 1001 (AllocsPerRun's warm-up run included)", s.Count)
	}
}

// TestLatencyOfProxiedRequests times real proxied requests: slow ones land
// above their sleep, every one is counted once, and the sum covers them.
func TestLatencyOfProxiedRequests(t *testing.T) {
	const slow = 120 * time.Millisecond
	srv, _ := backend(t, "s1", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(slow)
		}
		io.WriteString(w, "ok")
	})
	e, addr := startEngine(t, simpleConfig(hostport(srv)))
	paths := []string{"/fast", "/slow", "/fast", "/slow", "/fast"}
	for _, p := range paths {
		resp, err := http.Get("http://" + addr + p)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// The record is finished after the response is written: wait for it.
	var s LatencySnapshot
	deadline := time.Now().Add(5 * time.Second)
	for s = e.Backend("be").Latency(); s.Count < uint64(len(paths)) && time.Now().Before(deadline); s = e.Backend("be").Latency() {
		time.Sleep(5 * time.Millisecond)
	}
	if s.Count != uint64(len(paths)) {
		t.Fatalf("count %d, want %d", s.Count, len(paths))
	}
	le100ms := s.Cumulative[6]
	if LatencyBounds[6] != 100*time.Millisecond || le100ms > 3 {
		t.Errorf("%d requests within 100ms; the 2 slow ones (%v) cannot be", le100ms, slow)
	}
	if s.Sum < 2*slow {
		t.Errorf("sum %v < the slow requests' %v", s.Sum, 2*slow)
	}
	for i := 1; i < len(s.Cumulative); i++ {
		if s.Cumulative[i] < s.Cumulative[i-1] || s.Cumulative[i] > s.Count {
			t.Fatalf("buckets not cumulative: %v (count %d)", s.Cumulative, s.Count)
		}
	}
}

// BenchmarkObserveLatency is the hook's cost on the finish path.
func BenchmarkObserveLatency(b *testing.B) {
	be := &Backend{Name: "be"}
	start := time.Now().UnixNano()
	b.ReportAllocs()
	for b.Loop() {
		be.observeLatency(start)
	}
}
