package proxy

import (
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCPUMeter: the idle share is 100 minus the CPU used over the wall
// time and the threads, clamped to 0..100.
func TestCPUMeter(t *testing.T) {
	var cpu time.Duration
	t0 := time.Unix(1000, 0)
	m := &cpuMeter{cpu: func() time.Duration { return cpu }, procs: 2, at: t0}
	cases := []struct {
		used, wall time.Duration
		idle       int32
	}{
		{0, time.Second, 100},
		{time.Second, time.Second, 50},            // one of two threads busy
		{2 * time.Second, time.Second, 0},         // both busy
		{3 * time.Second, time.Second, 0},         // more than the threads: clamped
		{10 * time.Millisecond, time.Second, 100}, // 0.5 %: rounds to idle 100
		{20 * time.Millisecond, time.Second, 99},
	}
	now := t0
	for _, c := range cases {
		cpu += c.used
		now = now.Add(c.wall)
		if got := m.sample(now); got != c.idle {
			t.Errorf("%v CPU in %v over 2 threads: idle %d, want %d", c.used, c.wall, got, c.idle)
		}
	}
}

// TestMaxCompCPUUsage: with maxcompcpuusage 1 (compression needs 99 %
// idle) a response is not compressed while the process burns its CPUs,
// and is with the limit off (maxcompcpuusage 100) under the same load.
func TestMaxCompCPUUsage(t *testing.T) {
	addr, _ := startCompBackend(t, map[string]string{"/": clResp("Content-Type: text/plain\r\n", compBody(20000))})
	var stop atomic.Bool
	var wg sync.WaitGroup
	for i := 0; i < runtime.GOMAXPROCS(0); i++ {
		wg.Add(1)
		go func() { // burn CPU until the test ends
			defer wg.Done()
			x := 0
			for !stop.Load() {
				for j := 0; j < 1e5; j++ {
					x += j
				}
			}
			_ = x
		}()
	}
	defer func() { stop.Store(true); wg.Wait() }()
	for _, c := range []struct {
		minIdle int
		want    string
	}{{99, ""}, {0, "gzip"}} {
		cfg := compConfig(addr, algosOf("gzip"), nil)
		cfg.CompMinIdle = c.minIdle
		_, eaddr := startEngine(t, cfg)
		time.Sleep(3 * cpuSampleEvery) // two samples under load
		resp := compExchange(t, eaddr, "GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n", "GET")
		io.ReadAll(resp.Body)
		if got := resp.Header.Get("Content-Encoding"); got != c.want {
			t.Errorf("min idle %d under load (idle %d%%): Content-Encoding %q, want %q", c.minIdle, cpuIdle.Load(), got, c.want)
		}
	}
}
