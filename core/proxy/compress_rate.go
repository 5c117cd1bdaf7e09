package proxy

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/varde-lb/varde/core/stats"
)

// freqCtr is HAProxy's 1-second frequency counter (freq_ctr.h): events of
// the current second plus the previous second's, weighted by the part of
// the current second still to come.
type freqCtr struct {
	mu         sync.Mutex
	sec        int64
	curr, prev uint64
}

func (f *freqCtr) rotate(now time.Time) {
	sec := now.Unix()
	switch {
	case sec == f.sec:
	case sec == f.sec+1:
		f.prev, f.curr = f.curr, 0
	default:
		f.prev, f.curr = 0, 0
	}
	f.sec = sec
}

func (f *freqCtr) add(n uint64, now time.Time) {
	f.mu.Lock()
	f.rotate(now)
	f.curr += n
	f.mu.Unlock()
}

func (f *freqCtr) read(now time.Time) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rotate(now)
	left := uint64(time.Second - time.Duration(now.Nanosecond()))
	return f.curr + f.prev*left/uint64(time.Second)
}

// The process's compression rates (HAProxy's global comp_bps_in and
// comp_bps_out), fed only by bytes compressed at a level above 0, and the
// running engine's maxcomprate, for the process metrics.
var (
	compBpsIn, compBpsOut freqCtr
	compLimit             atomic.Int64
)

func init() {
	stats.CompressionRates = func() [3]float64 {
		now := time.Now()
		return [3]float64{float64(compBpsIn.read(now)), float64(compBpsOut.read(now)), float64(compLimit.Load())}
	}
}

// compRateOver reports the input rate above maxcomprate: a response
// starting then is not compressed.
func (s *session) compRateOver() bool {
	lim := s.e.cfg.CompRateLimit
	return lim > 0 && compBpsIn.read(time.Now()) > uint64(lim)
}

// compLevelFor is the level for the next block: 0 while the output rate is
// above maxcomprate, else the configured one (HAProxy steps one level at a
// time between 0 and tune.comp.maxlevel; with Debian's libslz that is
// between 0 and 1).
func (s *session) compLevelFor(e *compEncoder) int {
	lim := s.e.cfg.CompRateLimit
	if lim > 0 && compBpsOut.read(time.Now()) > uint64(lim) || s.compCPUOver() {
		return 0 // maxcomprate, maxcompcpuusage (compress_cpu.go)
	}
	return e.level
}
