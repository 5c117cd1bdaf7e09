package proxy

import (
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
)

// maxcompcpuusage N (global): HAProxy 2.6 compresses a response only while
// its thread's idle share (th_ctx->idle_pct, measured by the polling loop)
// is at least 100-N percent (flt_http_comp.c: "limit cpu usage"), and
// steps the level of running compressions down while it is below
// (compression.c). varde runs one process over GOMAXPROCS threads, so its
// measure is the process's: the CPU time it consumed (getrusage, user and
// system) over the wall time of the last sample, divided by GOMAXPROCS,
// sampled every cpuSampleEvery while a limit is configured. Idle is 100
// minus that share; it starts at 100, as HAProxy's.

const cpuSampleEvery = 500 * time.Millisecond

// cpuIdle is the process's measured idle percentage.
var cpuIdle atomic.Int32

func init() { cpuIdle.Store(100) }

// cpuMeter turns cumulative CPU readings into the idle percentage.
type cpuMeter struct {
	cpu   func() time.Duration // cumulative CPU time of the process
	procs int
	at    time.Time
	used  time.Duration
}

// sample records the idle share since the previous sample.
func (m *cpuMeter) sample(now time.Time) int32 {
	used := m.cpu()
	wall := now.Sub(m.at)
	idle := int32(100)
	if wall > 0 && m.procs > 0 {
		busy := int64(used-m.used) * 100 / (int64(wall) * int64(m.procs))
		idle = int32(100 - min(max(busy, 0), 100))
	}
	m.at, m.used = now, used
	return idle
}

// processCPU is the CPU time the process used so far (0 when unknown,
// which reads as idle: compression goes on, as without the limit).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// meterCPU samples the process's CPU until the engine stops; Start runs
// it when maxcompcpuusage is below 100.
func (e *Engine) meterCPU() {
	m := &cpuMeter{cpu: processCPU, procs: runtime.GOMAXPROCS(0), at: time.Now()}
	m.used = m.cpu()
	t := time.NewTicker(cpuSampleEvery)
	defer t.Stop()
	for {
		select {
		case <-e.stopCh:
			cpuIdle.Store(100)
			return
		case now := <-t.C:
			cpuIdle.Store(m.sample(now))
		}
	}
}

// compCPUOver reports the process too busy for compression: a response
// starting then is not compressed, and running compressions go on at
// level 0.
func (s *session) compCPUOver() bool {
	need := s.e.cfg.CompMinIdle
	return need > 0 && int(cpuIdle.Load()) < need
}
