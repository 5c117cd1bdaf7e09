package core

import (
	"sync"
	"sync/atomic"
	"time"
)

// Rate counts events over the last second, as HAProxy's freq_ctr: the
// events of the current second plus the previous second's, weighted by
// the part of the previous second still inside the one-second window. It
// also keeps the highest rate seen (HAProxy's *_max columns). Lock-free and
// allocation-free; a rotation racing with an increment may lose that one
// event, which a rate can afford.
type Rate struct {
	sec  atomic.Int64 // unix second counted by cur
	cur  atomic.Uint32
	prev atomic.Uint32
	max  atomic.Uint32
}

// Add counts one event at now (unix nanoseconds) and updates the maximum.
func (r *Rate) Add(now int64) {
	sec := now / int64(time.Second)
	if s := r.sec.Load(); s != sec && r.sec.CompareAndSwap(s, sec) {
		old := r.cur.Swap(0)
		if s != sec-1 {
			old = 0
		}
		r.prev.Store(old)
	}
	r.cur.Add(1)
	v := r.At(now)
	for {
		m := r.max.Load()
		if v <= m || r.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// At is the number of events over the second before now.
func (r *Rate) At(now int64) uint32 {
	sec := now / int64(time.Second)
	left := uint64(int64(time.Second) - now%int64(time.Second)) // of the previous second still in the window
	switch s := r.sec.Load(); s {
	case sec:
		return r.cur.Load() + uint32(uint64(r.prev.Load())*left/uint64(time.Second))
	case sec - 1:
		return uint32(uint64(r.cur.Load()) * left / uint64(time.Second))
	}
	return 0
}

// Max is the highest rate seen since start.
func (r *Rate) Max() uint32 { return r.max.Load() }

// TimeSamples is HAProxy's TIME_STATS_SAMPLES: the window of the response
// time averages (HAProxy's documentation says 1024; 2.6's code uses 512).
const TimeSamples = 512

// swrate is HAProxy's sliding window average: a sum that loses 1/n of
// itself at each new sample.
type swrate struct{ sum atomic.Uint32 }

func (w *swrate) add(n, v uint32) {
	for {
		old := w.sum.Load()
		nv := old + v
		if n > 0 {
			nv -= (old + n - 1) / n
		}
		if w.sum.CompareAndSwap(old, nv) {
			return
		}
	}
}

func updateMax(m *atomic.Uint32, v uint32) {
	for {
		old := m.Load()
		if v <= old || m.CompareAndSwap(old, v) {
			return
		}
	}
}

// TimeStats are the queue, connect, response and total time averages of a
// backend or server (HAProxy's qtime, ctime, rtime, ttime and their _max),
// in milliseconds, over the last TimeSamples requests.
type TimeStats struct {
	q, c, d, t             swrate
	qmax, cmax, dmax, tmax atomic.Uint32
}

// Observe folds one finished request's timers (milliseconds) in. samples
// is the object's request count (HTTP) or load-balanced connection count
// (TCP): until it passes TimeSamples the sums only grow, and the average
// divides by the count, as HAProxy's stream_update_time_stats.
func (ts *TimeStats) Observe(samples uint64, q, c, d, t int32) {
	var n uint32
	if samples > TimeSamples {
		n = TimeSamples
	}
	vals := [4]uint32{uint32(max(q, 0)), uint32(max(c, 0)), uint32(max(d, 0)), uint32(max(t, 0))}
	ts.q.add(n, vals[0])
	ts.c.add(n, vals[1])
	ts.d.add(n, vals[2])
	ts.t.add(n, vals[3])
	updateMax(&ts.qmax, vals[0])
	updateMax(&ts.cmax, vals[1])
	updateMax(&ts.dmax, vals[2])
	updateMax(&ts.tmax, vals[3])
}

// Averages returns qtime, ctime, rtime, ttime for an object with samples
// requests (HAProxy's swrate_avg over min(samples, TimeSamples)).
func (ts *TimeStats) Averages(samples uint64) [4]uint32 {
	n := uint32(TimeSamples)
	if samples > 0 && samples < TimeSamples {
		n = uint32(samples)
	}
	avg := func(w *swrate) uint32 { return (w.sum.Load() + n - 1) / n }
	return [4]uint32{avg(&ts.q), avg(&ts.c), avg(&ts.d), avg(&ts.t)}
}

// Maxima returns qtime_max, ctime_max, rtime_max, ttime_max.
func (ts *TimeStats) Maxima() [4]uint32 {
	return [4]uint32{ts.qmax.Load(), ts.cmax.Load(), ts.dmax.Load(), ts.tmax.Load()}
}

// Meters are the counters HAProxy's `show stat` reports beyond plain
// totals: rates, time averages, aborts, the time of the last session. A
// frontend, a backend and a server each have one; the engine feeds them
// from the request path (allocation-free) and core/stats reads them.
type Meters struct {
	Sess Rate // sessions: frontend connections, backend and server assignments
	Conn Rate // accepted connections (frontends)
	Req  Rate // HTTP requests (frontends)

	HTTPReq atomic.Uint64 // server: responses received (HAProxy's srv cum_req)
	Resp    [6]atomic.Uint64
	CliAbrt atomic.Uint64
	SrvAbrt atomic.Uint64
	Eint    atomic.Uint64
	// Intercepted counts requests a frontend answered itself (redirects,
	// the stats page and other services, script replies; HAProxy's
	// intercepted_req).
	Intercepted atomic.Uint64
	// DeniedResp counts responses denied by a response rule.
	DeniedResp atomic.Uint64
	// Connect and Reuse count new connections to a server (attempts) and
	// reuses of an existing one (HAProxy\'s connect, reuse).
	Connect, Reuse atomic.Uint64
	// MaintDowns counts a server put in maintenance while it was up.
	MaintDowns atomic.Uint64
	Last       atomic.Int64 // unix nanos of the last session assigned, 0 never
	// Applet is when the frontend last answered a request with a service
	// (stats page, exporter): in a listen, HAProxy\'s BACKEND lastsess.
	Applet atomic.Int64
	Times  TimeStats
	Up     UpDown // backends

	// CompIn, CompOut and CompByp are HAProxy's comp_in/comp_out/comp_byp
	// (response bytes fed to the compressor, emitted by it, passed through
	// by the identity algorithm) and CompRsp its comp_rsp (responses
	// compressed); core/proxy/compress*.go counts them.
	CompIn, CompOut, CompByp, CompRsp atomic.Uint64
	// CacheLookups and CacheHits are HAProxy's cache_lookups/cache_hits:
	// cache-use rules of the proxy that looked a request up and found it
	// (core/proxy/cache.go).
	CacheLookups, CacheHits atomic.Uint64
}

// Session counts one new session (connection on a frontend, assignment on
// a backend or server) at now.
func (m *Meters) Session(now int64) {
	m.Sess.Add(now)
	m.Last.Store(now)
}

// Response counts one HTTP response received from a server, by class.
func (m *Meters) Response(status int) {
	k := status / 100
	if k < 1 || k > 5 {
		k = 0
	}
	m.Resp[k].Add(1)
	m.HTTPReq.Add(1)
}

// Ended accounts one finished transaction by its termination event (the
// first letter of HAProxy's termination state) and the state it ended in:
// aborts by the client once a backend was chosen, by the server while
// sending data, and internal errors.
func (m *Meters) Ended(event, state byte) {
	switch {
	case event == 'I':
		m.Eint.Add(1)
	case (event == 'C' || event == 'c') && state != 'R' && state != '-':
		m.CliAbrt.Add(1)
	case event == 'S' && (state == 'D' || state == 'L'):
		m.SrvAbrt.Add(1)
	}
}

// Picked counts a session assigned to s by load balancing or persistence.
func (s *Server) Picked() {
	s.Total.Add(1)
	s.Meters.Session(time.Now().UnixNano())
}

// UpDown tracks a backend's own state as HAProxy's stats report it: UP
// while at least one server can take new traffic, DOWN otherwise, with
// the number of UP->DOWN transitions (chkdown), the time of the last
// change (lastchg) and the time spent DOWN (downtime). Whoever changes a
// server's state calls Update; readers call it too, so a missed call is
// corrected at the next read.
type UpDown struct {
	mu         sync.Mutex
	init       bool
	down       bool
	lastChange int64 // unix nanos
	downTotal  int64 // nanos spent down before the current period
	downTrans  uint64
}

// Update records the backend's state at now.
func (u *UpDown) Update(usable bool, now int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.init {
		// HAProxy starts a backend UP at process start.
		u.init, u.lastChange = true, now
	}
	if u.down == !usable {
		return
	}
	if usable {
		u.downTotal += now - u.lastChange
	} else {
		u.downTrans++
	}
	u.down, u.lastChange = !usable, now
}

// Read returns whether the backend is down, its transitions to DOWN, the
// seconds since its last change and its total downtime in seconds at now.
func (u *UpDown) Read(now int64) (down bool, trans uint64, lastchg, downtime int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	dt := u.downTotal
	if u.down {
		dt += now - u.lastChange
	}
	return u.down, u.downTrans, (now - u.lastChange) / int64(time.Second), dt / int64(time.Second)
}

// Totals lists m's monotonic counters in a fixed order, for a reload to
// carry them to the next generation's meters and to add what the old
// generation counted while it drained.
func (m *Meters) Totals() []*atomic.Uint64 {
	cells := []*atomic.Uint64{&m.HTTPReq, &m.CliAbrt, &m.SrvAbrt, &m.Eint, &m.Intercepted,
		&m.DeniedResp, &m.Connect, &m.Reuse, &m.MaintDowns}
	for i := range m.Resp {
		cells = append(cells, &m.Resp[i])
	}
	return cells
}

// Adopt takes over from old, the meters of the same object in the
// generation a reload replaces (m has not started counting): the time
// averages' sums go on from old's (the request counts that weigh them are
// carried with the totals, so an average does not restart from 0 divided
// by the full window), and the maxima, rate maxima and last-session times
// are kept. sameMode is false when the object's mode changed (http/tcp):
// its time averages were weighted by another count and start afresh.
func (m *Meters) Adopt(old *Meters, sameMode bool) {
	if sameMode {
		m.Times.q.sum.Store(old.Times.q.sum.Load())
		m.Times.c.sum.Store(old.Times.c.sum.Load())
		m.Times.d.sum.Store(old.Times.d.sum.Load())
		m.Times.t.sum.Store(old.Times.t.sum.Load())
	}
	m.KeepMaxima(old)
	for _, p := range [][2]*atomic.Int64{{&m.Last, &old.Last}, {&m.Applet, &old.Applet}} {
		if v := p[1].Load(); v > p[0].Load() {
			p[0].Store(v)
		}
	}
}

// KeepMaxima raises m's maxima (time and rate) to old's where old's are
// higher: a draining generation's last requests may set a new maximum.
func (m *Meters) KeepMaxima(old *Meters) {
	mx := old.Times.Maxima()
	for i, cell := range []*atomic.Uint32{&m.Times.qmax, &m.Times.cmax, &m.Times.dmax, &m.Times.tmax} {
		updateMax(cell, mx[i])
	}
	updateMax(&m.Sess.max, old.Sess.Max())
	updateMax(&m.Conn.max, old.Conn.Max())
	updateMax(&m.Req.max, old.Req.Max())
}
