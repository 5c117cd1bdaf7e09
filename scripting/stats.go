// Package scripting holds what every policy engine shares: per-policy call
// statistics and error reasons, the rate-limited error log, the shared
// table with TTL that survives reloads, and the fallback bookkeeping.
// Engines live in sub-packages (scripting/lua, scripting/wasm) and register
// themselves with core.RegisterPolicyEngine.
package scripting

import (
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/varde-lb/varde/core"
)

// Reasons a policy call's verdict was not used. They are the `reason` label
// of varde_policy_errors_total.
const (
	ReasonError    = "error"    // the script raised an error / the module trapped
	ReasonTimeout  = "timeout"  // wall-clock deadline or instruction budget exceeded
	ReasonMemory   = "memory"   // memory cap exceeded
	ReasonType     = "type"     // wrong return type
	ReasonUnknown  = "unknown"  // named a backend/server that does not exist
	ReasonUnusable = "unusable" // named a server that is down, in maintenance or full
	ReasonPanic    = "panic"    // the engine itself panicked (a varde bug, recovered)
)

// Reasons lists every reason, in the order stats print them.
var Reasons = []string{ReasonError, ReasonTimeout, ReasonMemory, ReasonType, ReasonUnknown, ReasonUnusable, ReasonPanic}

// latency buckets in nanoseconds: powers of two from 256 ns to ~67 ms.
const nBuckets = 19

// Entry counts the calls of one entry point of one policy. Safe for
// concurrent use; recording a call takes no lock.
type Entry struct {
	Calls    atomic.Uint64
	Declined atomic.Uint64 // returned nil: "no opinion"
	errs     [7]atomic.Uint64
	buckets  [nBuckets + 1]atomic.Uint64
}

// Observe records one call's duration.
func (e *Entry) Observe(d time.Duration) {
	e.Calls.Add(1)
	e.Sample(d)
}

// Sample records a duration in the histogram without counting a call:
// engines that time one call in N (reading the clock costs more than a
// small script on some machines) count every call with Calls.Add and
// sample durations; P99 is then the sample's.
func (e *Entry) Sample(d time.Duration) {
	i := 0
	for n := int64(d) >> 8; n > 0 && i < nBuckets; n >>= 1 {
		i++
	}
	e.buckets[i].Add(1)
}

// Error records a call whose verdict was not used, by reason.
func (e *Entry) Error(reason string) {
	for i, r := range Reasons {
		if r == reason {
			e.errs[i].Add(1)
			return
		}
	}
	e.errs[0].Add(1)
}

// Errors returns the error count per reason.
func (e *Entry) Errors() map[string]uint64 {
	out := make(map[string]uint64, len(Reasons))
	for i, r := range Reasons {
		out[r] = e.errs[i].Load()
	}
	return out
}

// ErrorTotal is the number of calls of any error reason.
func (e *Entry) ErrorTotal() uint64 {
	var n uint64
	for i := range e.errs {
		n += e.errs[i].Load()
	}
	return n
}

// P99 is an upper bound of the 99th percentile call time (the bucket's
// upper edge), or 0 when there were no calls.
func (e *Entry) P99() time.Duration {
	var counts [nBuckets + 1]uint64
	var total uint64
	for i := range e.buckets {
		counts[i] = e.buckets[i].Load()
		total += counts[i]
	}
	if total == 0 {
		return 0
	}
	want := total - total/100
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen >= want {
			return time.Duration(int64(256) << i)
		}
	}
	return time.Duration(int64(256) << nBuckets)
}

// Stats are the counters of one policy, by entry point name.
type Stats struct {
	Policy string // file name as configured
	Proxy  string
	Engine string // "lua", "wasm"

	mu      sync.Mutex
	entries map[string]*Entry
}

// NewStats returns the statistics of a policy.
func NewStats(policy, proxy, engine string) *Stats {
	return &Stats{Policy: policy, Proxy: proxy, Engine: engine, entries: map[string]*Entry{}}
}

// Entry returns the counters of entry point name, creating them. Engines
// look entries up once at compile time and keep the pointer.
func (s *Stats) Entry(name string) *Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[name]
	if e == nil {
		e = &Entry{}
		s.entries[name] = e
	}
	return e
}

// Names lists the entry points with counters, sorted.
func (s *Stats) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.entries))
	for n := range s.entries {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ErrorLog logs a policy's failures at a bounded rate: the first at once,
// then at most one line per Every with the number suppressed meanwhile.
type ErrorLog struct {
	Log   *slog.Logger
	Every time.Duration // 0 means 10 s

	mu         sync.Mutex
	last       time.Time
	suppressed uint64
}

// Report logs err for entry of policy unless the rate bound holds it back.
func (l *ErrorLog) Report(policy, entry, reason string, err error) {
	if l == nil || l.Log == nil {
		return
	}
	if n, ok := l.Allow(); ok {
		l.Log.Warn("policy failed, built-in decided", "policy", policy, "entry", entry,
			"reason", reason, "err", err, "suppressed_since_last", n)
	}
}

// Allow reports whether a line may be logged now, and how many were held
// back since the last one. Callers with their own line format (HAProxy
// lua-load errors) share the bound through it.
func (l *ErrorLog) Allow() (suppressed uint64, ok bool) {
	every := l.Every
	if every <= 0 {
		every = 10 * time.Second
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if !l.last.IsZero() && now.Sub(l.last) < every {
		l.suppressed++
		return 0, false
	}
	n := l.suppressed
	l.last, l.suppressed = now, 0
	return n, true
}

// PolicyStats returns every entry point's counters (core.PolicyStatser).
func (s *Stats) PolicyStats() []core.PolicyEntryStats {
	var out []core.PolicyEntryStats
	for _, name := range s.Names() {
		e := s.Entry(name)
		out = append(out, core.PolicyEntryStats{
			Policy: s.Policy, Proxy: s.Proxy, Engine: s.Engine, Entry: name,
			Calls: e.Calls.Load(), Declined: e.Declined.Load(), Errors: e.Errors(), P99: e.P99(),
		})
	}
	return out
}
