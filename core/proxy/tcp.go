package proxy

import (
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/varde-lb/varde/core/logrec"
)

// serveTCP forwards one `mode tcp` connection: pick a server (same
// balancers, maxconn, queue, retries and redispatch as HTTP), connect, then
// relay both ways under timeout client/server, with client-fin/server-fin
// once one side has closed.
func (e *Engine) serveTCP(f *Frontend, c net.Conn, a admission) {
	if p := e.serveTCPConn(f, c, a); p != nil {
		e.runHTTP(p) // upgraded to HTTP (modeupgrade.go): it closes the connection
		return
	}
	e.release(f)
	e.wg.Done()
}

// serveTCPConn serves the connection in `mode tcp` and closes it, or
// returns what the HTTP session needs when the chosen backend is `mode
// http` (HAProxy upgrades the stream): the connection then stays open and
// counted.
func (e *Engine) serveTCPConn(f *Frontend, c net.Conn, a admission) (up *parked) {
	start := time.Now()
	f.connOpen()
	e.actconn.Add(1)
	e.mu.Lock()
	e.tconns[c] = struct{}{}
	e.mu.Unlock()
	s := e.pool.Get().(*session)
	s.f, s.conn, s.n, s.nreq = f, c, 0, 0
	s.src, s.dst = addrPort(c.RemoteAddr()), addrPort(c.LocalAddr())
	defer func() {
		if r := recover(); r != nil {
			e.Panics.Add(1)
			e.log.Error("panic in tcp connection, closed it", "frontend", f.Name, "panic", r)
		}
		if s.stickActive() {
			s.stickEnd(0, s.rec.BytesIn, s.rec.BytesOut)
		}
		s.st.conn = nil
		e.mu.Lock()
		delete(e.tconns, c)
		e.mu.Unlock()
		if s.upgrade != nil {
			up = s.handOver(a, start)
		} else {
			f.closeConnCounters(c)
			c.Close()
			f.CurConns.Add(-1)
			e.actconn.Add(-1)
			s.detachVars().Release()
		}
		s.conn, s.f, s.upgrade = nil, nil, nil
		e.pool.Put(s)
	}()
	if a.done {
		s.src, s.dst = a.src, a.dst
		s.scr.vars.Sess = a.vars
	} else if !f.admit(c, s.in, a.pp, &s.src, &s.dst, &s.scr.vars.Sess) {
		return nil
	}
	if f.cfg.stick != nil {
		s.st.conn = f.connCountersOf(c)
	}
	s.st.table, s.st.tables = f.cfg.Table, e.cfg.StickTables
	rec := &s.rec
	rec.Reset()
	rec.Mode = logrec.ModeTCP
	rec.Accept = start.UnixNano()
	rec.Client, rec.FrontendAddr, rec.Frontend = s.src, s.dst, f.Name
	noteTLS(rec, a.tls)
	s.serveTCP(start)
	return nil // set by the deferred hand-over when upgrading
}

// serveTCP chooses the backend and the server through the same path as
// HTTP (chooseBackend, pickServer, connect), relays, then logs once (the
// slots still held, as before) and releases.
func (s *session) serveTCP(start time.Time) {
	f, rec := s.f, &s.rec
	var b *Backend
	var srv *server
	defer func() {
		if srv != nil {
			b.done(srv)
		}
		if b != nil {
			b.CurConns.Add(-1)
		}
		s.heldBe, s.heldSrv = nil, nil
	}()
	defer func() {
		if s.upgrade != nil {
			return // the HTTP session logs its requests
		}
		rec.Tt = ms(time.Since(start))
		s.log(b, srv)
		s.finish()
	}()
	s.reqE.reset() // the pooled session's last HTTP edits: the view's HTTP fetches read none
	// The connection's variables (set by its connection and session
	// rules, tcpl4.go) for the content rules and use_backend.
	v := &tcpView{src: s.src, dst: s.dst, st: &s.st, s: s, vars: &s.scr.vars}
	if !s.inspect(v) {
		f.Denied.Add(1)
		rec.SetTerm(logrec.TermProxy, logrec.StateRequest)
		return
	}
	b = f.chooseBackend(v)
	if b == nil {
		rec.SetTerm(logrec.TermProxy, logrec.StateRequest)
		return
	}
	if b.cfg.Mode == ModeHTTP {
		s.upgrade, b = b, nil // modeupgrade.go
		return
	}
	rec.Backend = b.Name
	// Counted in the backend once chosen (scur, stot, and the load
	// fullconn scales by), before its rules, as HAProxy counts it: the
	// deferred release above pairs with this.
	b.connOpen()
	s.heldBe = b
	if !s.backInspect(b, v) { // stick_content.go
		f.Denied.Add(1)
		rec.SetTerm(logrec.TermProxy, logrec.StateRequest)
		return
	}
	// No request view for the balancer: `mode tcp` has no HTTP request.
	picked, _, ok := s.pickServer(b, nil)
	if !ok {
		return
	}
	tc := time.Now()
	up, err := s.connect(b, &picked)
	srv, s.heldSrv = picked, picked
	rec.Tc = ms(time.Since(tc))
	if err != nil {
		s.connectFailed(err, srv)
		return
	}
	srv.bind(s, 0, s.conn, up)
	defer srv.unbind(s, 0)
	s.relayConn(b, srv, up)
}

// relayConn relays the connection with srv and records the outcome.
func (s *session) relayConn(b *Backend, srv *server, up *upConn) {
	rec := &s.rec
	rec.Server, rec.ServerAddr = srv.Name, srv.Address()
	s.noteBackendSrc(up) // %bi:%bp (backendsrc.go)
	rec.ServerUnix = srv.unixNow()
	// The bytes content inspection read go first, unchanged.
	var pre int64
	if s.n > 0 {
		up.c.SetWriteDeadline(after(serverTimeout(b)))
		if _, err := up.c.Write(s.in[:s.n]); err != nil {
			up.c.Close()
			rec.BytesIn = int64(s.n)
			rec.SetTerm(logrec.TermServerAbort, logrec.StateData)
			return
		}
		pre, s.n = int64(s.n), 0
	}
	var ri *resInspect
	if len(b.cfg.TCPResponse) > 0 {
		ri = &resInspect{s: s, b: b, srv: srv} // tcpresponse.go
	}
	in, out, term := relayTCP(s.conn, up.c, s.in, s.sb, s.clientTimeout(0), serverTimeout(b), s.f.cfg.Timeouts.ClientFin, b.cfg.Timeouts.ServerFin, s.spliceDirs(b), ri)
	in += pre
	up.c.Close()
	rec.BytesIn, rec.BytesOut = in, out
	rec.Term[0], rec.Term[1] = term, logrec.StateData
	if term == logrec.TermNone {
		rec.Term[1] = logrec.StateNone
	}
	srv.BytesIn.Add(uint64(in))
	srv.BytesOut.Add(uint64(out))
	b.BytesIn.Add(uint64(in))
	b.BytesOut.Add(uint64(out))
}

// relayTCP copies client<->server. Each direction has its own idle timeout
// (client side: timeout client, server side: timeout server) which a read
// only hits when neither direction moved for that long; after one side
// closes, the other continues under client-fin/server-fin if set.
//
// ri, when set, inspects the server's first bytes before they flow
// (tcp-response content rules, tcpresponse.go).
func relayTCP(client, srv net.Conn, cbuf, sbuf []byte, cto, sto, cfin, sfin time.Duration, sp spliceDirs, ri *resInspect) (in, out int64, term byte) {
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	type res struct {
		n    int64
		term byte
	}
	done := make(chan res, 1)
	var cClosed, sClosed atomic.Bool
	go func() {
		var pre int64
		var t byte
		stop := false
		if ri != nil {
			pre, t, stop = ri.run(srv, client, sbuf, sto)
		}
		var n int64
		if !stop {
			n, t = pipe(srv, client, sbuf, sto, &last, &cClosed, cfin, logrec.TermServerTimeout, logrec.TermServerAbort, sp.response, sp.count)
		}
		sClosed.Store(true)
		done <- res{pre + n, t}
	}()
	in, t1 := pipe(client, srv, cbuf, cto, &last, &sClosed, sfin, logrec.TermClientTimeout, logrec.TermClientAbort, sp.request, sp.count)
	cClosed.Store(true)
	if t1 != logrec.TermNone {
		// An error on the client side ends everything.
		srv.Close()
		client.Close()
	}
	r := <-done
	out = r.n
	term = t1
	if term == logrec.TermNone {
		term = r.term
	}
	return in, out, term
}

// pipe copies src to dst until EOF, error or idle timeout, then half-closes
// dst. finTimeout applies once the other direction has finished. splice
// lets plain TCP ends move the bytes through a kernel pipe instead
// (pipeSpliced, same outcomes), counted in spliced.
func pipe(src, dst net.Conn, buf []byte, idle time.Duration, last *atomic.Int64, otherDone *atomic.Bool, finTimeout time.Duration, termTimeout, termAbort byte, splice bool, spliced *atomic.Uint64) (int64, byte) {
	if splice {
		if n, t, ok := pipeSpliced(src, dst, idle, last, otherDone, finTimeout, termTimeout, termAbort); ok {
			spliced.Add(uint64(n))
			return n, t
		}
	}
	var n int64
	for {
		d := idle
		if otherDone.Load() && finTimeout > 0 {
			d = finTimeout
		}
		src.SetReadDeadline(after(d))
		m, err := src.Read(buf)
		if m > 0 {
			last.Store(time.Now().UnixNano())
			dst.SetWriteDeadline(after(idle))
			if _, werr := dst.Write(buf[:m]); werr != nil {
				return n, termAbort
			}
			n += int64(m)
		}
		if err != nil {
			if t, end := pipeEnd(err, dst, d, last, otherDone, termTimeout, termAbort); end {
				return n, t
			}
		}
	}
}

// pipeEnd is what a failed read from src means for the direction: end it
// (with its termination event) or, for a timeout while the other
// direction moved within d, carry on.
func pipeEnd(err error, dst net.Conn, d time.Duration, last *atomic.Int64, otherDone *atomic.Bool, termTimeout, termAbort byte) (byte, bool) {
	if isTimeout(err) {
		// Traffic the other way keeps the session alive.
		if !otherDone.Load() && time.Since(time.Unix(0, last.Load())) < d {
			return 0, false
		}
		return termTimeout, true
	}
	if errors.Is(err, io.EOF) {
		// TCP and Unix sockets half-close; a TLS connection sends
		// close_notify (a TLS server's EOF).
		if hc, ok := dst.(interface{ CloseWrite() error }); ok {
			hc.CloseWrite()
		}
		return logrec.TermNone, true
	}
	if errors.Is(err, net.ErrClosed) {
		// Closed from outside (a stop past its grace, shutdown
		// sessions): the other direction ends too, not at its
		// idle timeout.
		dst.Close()
		return logrec.TermNone, true
	}
	return termAbort, true
}

// relay is relayTCP for a tunnel with one timeout for both directions.
func relay(client, srv net.Conn, cbuf, sbuf []byte, to time.Duration, sp spliceDirs) (in, out int64) {
	in, out, _ = relayTCP(client, srv, cbuf, sbuf, to, to, 0, 0, sp, nil)
	return in, out
}
