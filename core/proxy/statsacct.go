package proxy

import (
	"time"

	"github.com/varde-lb/varde/core/logrec"
)

// opened feeds a new connection on a frontend (or session on a backend)
// into the rate columns (HAProxy's conn_rate, rate) and lastsess.
func (c *Counters) opened() {
	now := time.Now().UnixNano()
	c.Meters.Conn.Add(now)
	c.Meters.Session(now)
}

// account feeds one finished transaction into the stats meters of its
// frontend, backend and server: aborts and internal errors by termination
// state, and the queue/connect/response/total time averages (HAProxy's
// stream_update_time_stats: only transactions that got a connection and,
// in HTTP, a response head count). Called once per logged transaction,
// allocation-free.
func account(f *Counters, b *Backend, srv *server, r *logrec.Record) {
	if r.Term[0] == logrec.TermInternal {
		f.Meters.Eint.Add(1)
	}
	if r.Mode == logrec.ModeHTTP && r.Status > 0 {
		f.countStatus(int(r.Status))
		if b != nil {
			b.countStatus(int(r.Status))
		}
	}
	if b == nil {
		if r.Term[0] == logrec.TermLocal {
			f.Meters.Intercepted.Add(1)
		}
		return
	}
	b.Meters.Ended(r.Term[0], r.Term[1])
	if srv == nil && (r.Term[0] == logrec.TermServerAbort || r.Term[0] == logrec.TermServerTimeout) &&
		(r.Term[1] == logrec.StateConnect || r.Term[1] == logrec.StateQueue) {
		// No server could be given the request (none usable, or the
		// queue timed out): HAProxy counts a failed connection (econ).
		b.ConnErrors.Add(1)
	}
	if srv != nil {
		srv.Meters.Ended(r.Term[0], r.Term[1])
	}
	http := b.Mode() == ModeHTTP
	if r.Tc < 0 || (http && r.Tr < 0) || srv == nil {
		return
	}
	d, t := r.Tr, r.Tt
	if !http || d < 0 {
		d = 0
	}
	if t < 0 {
		t = max(r.Th, 0) + max(r.Ti, 0) + max(r.Ta, 0)
	}
	bs, ss := b.TotalConns.Load(), srv.Total.Load()
	if http {
		bs, ss = b.Requests.Load(), srv.Meters.HTTPReq.Load()
	}
	b.Meters.Times.Observe(bs, r.Tw, r.Tc, d, t)
	srv.Meters.Times.Observe(ss, r.Tw, r.Tc, d, t)
}

// staleAddr closes u when it was dialled before the server's address last
// changed (`set server addr`: HAProxy drops such connections too) and
// reports it; the caller then does not pool or reuse it.
func (s *server) staleAddr(u *upConn) bool {
	if u.gen == s.AddrGen() {
		return false
	}
	u.c.Close()
	return true
}

// deniedResp counts a response denied by a response rule (HAProxy's dresp
// on the frontend, the backend and the server).
func deniedResp(f *Counters, b *Backend, srv *server) {
	f.Meters.DeniedResp.Add(1)
	b.Meters.DeniedResp.Add(1)
	if srv != nil {
		srv.Meters.DeniedResp.Add(1)
	}
}

// countStatus counts one final answer in its class: [1] 1xx ... [5] 5xx,
// [0] anything else (hrsp_other).
func (c *Counters) countStatus(code int) {
	k := code / 100
	if k < 1 || k > 5 {
		k = 0
	}
	c.Status[k].Add(1)
}
