package proxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/httpx"
	"github.com/varde-lb/varde/core/logrec"
)

// session is one client connection in HTTP mode with every buffer it
// needs. Sessions are pooled: once warm, a keep-alive transaction allocates
// nothing.
type session struct {
	e    *Engine
	f    *Frontend
	conn net.Conn
	in   []byte // client bytes; in[:n] are pending
	n    int
	out  []byte // head being built, then coalesced body bytes
	sb   []byte // server bytes / copy buffer
	req  httpx.Request
	resp httpx.Response
	view reqView
	pick core.PickContext
	ck   httpx.Chunked
	up   *upConn // upstream connection kept for this client between requests
	lane int     // the servers' lane this connection's loop uses (0: goroutines)
	rec  logrec.Record
	reqE edits
	rspE edits
	idle atomic.Bool

	src, dst   netip.AddrPort
	accept     time.Time
	nreq       int
	closeAfter bool
	park       bool      // the connection went idle: park it
	errKeep    bool      // the last generated error kept the connection
	linger     bool      // an error answer was sent: drain before closing
	kaDeadline time.Time // when the idle keep-alive wait ends

	// The backend slot (CurConns) and server slot (Active) this
	// transaction holds, if any: HAProxy releases its own before logging,
	// so %bc/%sc exclude the logged transaction itself.
	heldBe  *Backend
	heldSrv *server
}

func (e *Engine) newSession() *session {
	bs := e.cfg.bufSize()
	s := &session{
		e:   e,
		in:  make([]byte, bs),
		out: make([]byte, 0, bs),
		sb:  make([]byte, bs),
	}
	s.req.Fields = make([]httpx.Field, 0, e.limits.MaxHeaders)
	s.resp.Fields = make([]httpx.Field, 0, e.limits.MaxHeaders)
	s.view.s = s
	return s
}

func (e *Engine) serveHTTP(f *Frontend, c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	f.connOpen()
	e.actconn.Add(1)
	e.runHTTP(&parked{f: f, c: c, accept: time.Now(), src: addrPort(c.RemoteAddr()), dst: addrPort(c.LocalAddr())})
}

// parked is what a client connection keeps while it has no session: idle
// keep-alive connections hand their buffers back and wait in the parker
// (one epoll set for all of them) instead of holding a goroutine.
type parked struct {
	f        *Frontend
	c        net.Conn
	accept   time.Time
	src, dst netip.AddrPort
	nreq     int
	fd       int
	deadline time.Time // end of timeout http-keep-alive
}

// closeHTTP ends a client connection for good.
func (e *Engine) closeHTTP(f *Frontend, c net.Conn) {
	c.Close()
	f.CurConns.Add(-1)
	e.actconn.Add(-1)
	e.release(f)
	e.wg.Done()
}

// runHTTP serves a client connection with a pooled session until it closes
// or goes idle long enough to be parked.
func (e *Engine) runHTTP(p *parked) {
	f, c := p.f, p.c
	s := e.pool.Get().(*session)
	s.f, s.conn, s.n, s.nreq, s.closeAfter, s.park, s.linger = f, c, 0, p.nreq, false, false, false
	s.lane = laneOf(c)
	s.accept, s.src, s.dst = p.accept, p.src, p.dst
	e.mu.Lock()
	e.conns[s] = struct{}{}
	e.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			// A bug must cost one connection, not the process.
			e.Panics.Add(1)
			e.log.Error("panic in connection, closed it", "frontend", f.Name, "client", s.src.String(), "panic", r)
			if s.up != nil {
				s.up.c.Close()
				s.up = nil
			}
			s.park = false
		}
		if s.up != nil {
			s.up.s.putIdle(s.up, time.Now())
			s.up = nil
		}
		e.mu.Lock()
		delete(e.conns, s)
		e.mu.Unlock()
		park := s.park && !e.stopping.Load()
		if s.linger && !park {
			s.lingerClose()
		}
		p.nreq = s.nreq
		p.deadline = s.kaDeadline
		s.conn, s.f = nil, nil
		e.pool.Put(s)
		if !park || !(parkInLoop(p) || e.parker.park(p)) {
			e.closeHTTP(f, c)
		}
	}()
	for s.transaction() {
		if e.stopping.Load() {
			return
		}
	}
}

// clientTimeout returns t, else the frontend's timeout client, else a
// safety default so a connection can never hang forever.
func (s *session) clientTimeout(t time.Duration) time.Duration {
	if t > 0 {
		return t
	}
	if s.f.cfg.Timeouts.Client > 0 {
		return s.f.cfg.Timeouts.Client
	}
	return 50 * time.Second
}

func serverTimeout(b *Backend) time.Duration {
	if b.cfg.Timeouts.Server > 0 {
		return b.cfg.Timeouts.Server
	}
	return 50 * time.Second
}

// readHead reads until a whole request head is in s.in. It returns false
// when the connection must end (after answering, if an answer is due).
func (s *session) readHead() bool {
	e, f := s.e, s.f
	first := s.nreq == 0
	wait := time.Now()
	if !first {
		// As HAProxy, a keep-alive request's accept date is when the
		// connection became ready for it (the end of the previous one).
		s.rec.Accept = wait.UnixNano()
	}
	var got time.Time
	if s.n > 0 {
		got = wait
	}
	for {
		if s.n > 0 {
			err := s.req.Parse(s.in[:s.n], e.limits)
			if err == nil {
				now := time.Now()
				s.rec.Request = got.UnixNano()
				s.rec.Ti = ms(got.Sub(wait))
				s.rec.TR = ms(now.Sub(got))
				return true
			}
			if err != httpx.ErrIncomplete {
				var he *httpx.Error
				status := 400
				if errors.As(err, &he) {
					status = he.Status
				}
				f.ReqErrors.Add(1)
				s.rec.SetTerm(logrec.TermProxy, logrec.StateRequest)
				s.rec.RequestLine.Set([]byte("<BADREQ>"))
				s.rec.Request = got.UnixNano()
				s.sendError(status, nil)
				// HAProxy's mux answers an unparsable request itself,
				// outside any stream: its %B for <BADREQ> is 0.
				s.rec.BytesOut = 0
				s.log(nil, nil)
				return false
			}
		}
		var d time.Duration
		var from time.Time
		if s.n == 0 {
			from = wait
			if first {
				d = s.clientTimeout(f.cfg.Timeouts.HTTPRequest)
			} else {
				d = f.cfg.Timeouts.HTTPKeepAlive
				if d <= 0 {
					d = s.clientTimeout(f.cfg.Timeouts.HTTPRequest)
				}
			}
		} else {
			from = got
			d = s.clientTimeout(f.cfg.Timeouts.HTTPRequest)
		}
		s.idle.Store(s.n == 0)
		if s.n == 0 && e.stopping.Load() {
			s.idle.Store(false)
			return false
		}
		dl := from.Add(d)
		parkable := s.n == 0 && !first && (e.parker.enabled() || isLoopConn(s.conn))
		if parkable && d > parkAfter {
			// Wait a little with the session at hand (busy clients send
			// their next request within microseconds), then park.
			s.conn.SetReadDeadline(from.Add(parkAfter))
		} else {
			s.conn.SetReadDeadline(dl)
			parkable = false
		}
		m, err := s.conn.Read(s.in[s.n:])
		s.idle.Store(false)
		if m == 0 && parkable && isTimeout(err) && !e.stopping.Load() {
			s.park, s.kaDeadline = true, dl
			return false
		}
		if m > 0 {
			if s.n == 0 {
				got = time.Now()
			}
			s.n += m
			continue
		}
		if err == nil {
			continue
		}
		if s.n == 0 && (!first || e.stopping.Load() || !isTimeout(err)) {
			// Keep-alive ended, the client left, or we are stopping:
			// nothing to answer.
			return false
		}
		if isTimeout(err) {
			s.rec.SetTerm(logrec.TermClientTimeout, logrec.StateRequest)
			s.rec.RequestLine.Set([]byte("<BADREQ>"))
			f.ReqErrors.Add(1)
			s.sendError(408, nil)
			s.rec.BytesOut = 0 // sent by HAProxy's mux too: %B is 0
			s.log(nil, nil)
			return false
		}
		s.rec.SetTerm(logrec.TermClientAbort, logrec.StateRequest)
		s.rec.RequestLine.Set([]byte("<BADREQ>"))
		f.ReqErrors.Add(1)
		s.log(nil, nil)
		return false
	}
}

func ms(d time.Duration) int32 { return int32(d / time.Millisecond) }

// transaction serves one request. It returns whether the client connection
// stays open for another one.
func (s *session) transaction() bool {
	e, f := s.e, s.f
	s.rec.Reset()
	s.rec.Mode = logrec.ModeHTTP
	s.rec.Accept = s.accept.UnixNano()
	s.rec.Client, s.rec.FrontendAddr = s.src, s.dst
	s.rec.Frontend = f.Name
	s.reqE.reset()
	s.rspE.reset()
	s.errKeep = false
	s.req.HeadLen = 0
	if !s.readHead() {
		return false
	}
	s.nreq++
	start := time.Now()
	f.Requests.Add(1)
	r := &s.req
	buf := s.in
	s.rec.RequestLine.SetParts(r.Method.Of(buf), r.Target.Of(buf), versionText(r.Minor))
	for _, c := range f.cfg.CaptureRequest {
		v, _ := r.Field(c.Name)
		s.rec.ReqHeaders.Add(v, c.Len)
	}
	if cc := &f.cfg.CaptureCookie; cc.Name != "" {
		captureCookie(&s.rec.ReqCookie, &r.Head, "cookie", cc)
	}
	if !r.KeepAlive() {
		s.closeAfter = true
	}

	// Services (stats page, metrics) answer before any backend is chosen.
	if p := f.services.Load(); p != nil {
		for _, sv := range *p {
			if sv.match(&s.view) {
				return s.serveHandler(sv.h, start)
			}
		}
	}
	if done, keep := s.runRequestRules(f.cfg.HTTPRequest, start); done {
		return keep
	}
	var b *Backend
	if f.cfg.Chooser != nil {
		if name, ok := f.cfg.Chooser.ChooseBackend(&s.view); ok {
			b = e.byName[name]
		}
	}
	for i := 0; b == nil && f.cfg.Chooser == nil && i < len(f.cfg.UseBackends); i++ {
		ub := &f.cfg.UseBackends[i]
		if ub.Cond == nil || ub.Cond.Match(&s.view) {
			b = e.byName[ub.Backend]
			break
		}
	}
	if b == nil && f.cfg.Chooser == nil && f.cfg.DefaultBackend != "" {
		b = e.byName[f.cfg.DefaultBackend]
	}
	if b == nil {
		s.rec.SetTerm(logrec.TermProxy, logrec.StateRequest)
		return s.answer(503, nil)
	}
	s.rec.Backend = b.Name
	b.Requests.Add(1)
	if done, keep := s.runRequestRules(b.cfg.HTTPRequest, start); done {
		return keep
	}
	return s.forward(b, start)
}

func versionText(minor int) []byte {
	if minor == 0 {
		return http10
	}
	return http11
}

var (
	http10 = []byte("HTTP/1.0")
	http11 = []byte("HTTP/1.1")
)

// runRequestRules evaluates http-request rules in order. done means the
// transaction was answered locally (deny, redirect, service).
func (s *session) runRequestRules(rules []*HTTPRule, start time.Time) (done, keep bool) {
	for _, rule := range rules {
		if rule.Cond != nil && !rule.Cond.Match(&s.view) {
			continue
		}
		switch rule.Action {
		case ActDeny:
			st := rule.Status
			if st == 0 {
				st = 403
			}
			s.f.Denied.Add(1)
			s.rec.SetTerm(logrec.TermProxy, logrec.StateRequest)
			return true, s.answer(st, nil)
		case ActRedirect:
			return true, s.redirect(rule)
		case ActAllow:
			return false, false
		case ActService:
			h := rule.Handler
			if h == nil {
				h = s.e.serviceHandler(rule.Service)
			}
			if h == nil {
				s.rec.SetTerm(logrec.TermProxy, logrec.StateRequest)
				s.sendError(503, nil)
				s.log(nil, nil)
				return true, false
			}
			return true, s.serveHandler(h, start)
		default:
			s.reqE.apply(rule)
		}
	}
	return false, false
}

func (s *session) redirect(rule *HTTPRule) bool {
	code := rule.Status
	if code == 0 {
		code = 302
	}
	o := s.out[:0]
	o = httpx.AppendStatusLine(o, code, httpx.StatusText(code))
	o = append(o, "content-length: 0\r\nlocation: "...)
	target := s.req.Target.Of(s.in)
	switch rule.RedirectKind {
	case RedirectPrefix:
		o = rule.appendTarget(o, s)
		o = append(o, target...)
	case RedirectScheme:
		o = rule.appendTarget(o, s)
		o = append(o, "://"...)
		if h, ok := s.req.Field("host"); ok {
			o = append(o, h...)
		}
		o = append(o, target...)
	default:
		o = rule.appendTarget(o, s)
	}
	o = append(o, "\r\ncache-control: no-cache\r\n"...)
	// The body, if any, was not read: the connection cannot be reused.
	keep := !s.closeAfter && s.req.RequestBody() == httpx.BodyNone && !s.e.stopping.Load()
	if !keep {
		o = append(o, "connection: close\r\n"...)
	}
	o = append(o, '\r', '\n')
	s.out = o
	s.conn.SetWriteDeadline(time.Now().Add(s.clientTimeout(0)))
	n, _ := s.conn.Write(o)
	s.rec.BytesOut += countHTX(n, o)
	// HAProxy 2.6 logs no captured request cookie for a redirect (it does
	// for deny); measured, see TestCaptureCookieLogged.
	s.rec.ReqCookie = logrec.Cookie{}
	s.rec.Status = int32(code)
	s.f.status(code)
	s.rec.SetTerm(logrec.TermLocal, logrec.StateRequest)
	s.rec.BytesIn = int64(s.req.HeadLen)
	s.consume(s.req.HeadLen)
	s.log(nil, nil)
	return keep
}

// consume drops the first k pending client bytes (this request), keeping a
// pipelined next request at the front of the buffer.
func (s *session) consume(k int) {
	if k >= s.n {
		s.n = 0
		return
	}
	copy(s.in, s.in[k:s.n])
	s.n -= k
}

// errorPage returns the page for code: the backend's errorfile, then the
// frontend's, then HAProxy's default.
func (s *session) errorPage(code int, b *Backend) []byte {
	if b != nil {
		if p, ok := b.errPages[code]; ok {
			return p
		}
	}
	if p, ok := s.f.errPages[code]; ok {
		return p
	}
	if p := defaultPages[code]; p != nil {
		return p
	}
	return httpx.ErrorPage(code)
}

var defaultPages = func() map[int][]byte {
	m := map[int][]byte{}
	for _, c := range []int{200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 414, 421, 425, 429, 431, 500, 501, 502, 503, 504, 505} {
		m[c] = httpx.ErrorPage(c)
	}
	return m
}()

// answer sends a generated error for a request routed to no server and
// logs it; it reports whether the connection stays open.
func (s *session) answer(code int, b *Backend) bool { return s.answerB(code, b, nil) }

// answerB is answer with the backend and server for the log. Like HAProxy,
// a generated answer to a complete bodyless request keeps the connection
// (the stream is still in sync); a custom errorfile or a request with a
// body closes it.
func (s *session) answerB(code int, b *Backend, srv *server) bool {
	keep := !s.closeAfter && s.req.HeadLen > 0 && s.req.RequestBody() == httpx.BodyNone && !s.e.stopping.Load()
	custom := s.f.errPages[code] != nil || (b != nil && b.errPages[code] != nil)
	if !keep || custom || keepAlivePages[code] == nil {
		s.sendError(code, b)
		s.log(b, srv)
		s.errKeep = false
		return false
	}
	s.conn.SetWriteDeadline(time.Now().Add(s.clientTimeout(0)))
	n, err := s.conn.Write(keepAlivePages[code])
	s.rec.BytesOut += countHTX(n, keepAlivePages[code])
	s.rec.Status = int32(code)
	s.f.status(code)
	if b != nil {
		b.status(code)
	}
	s.rec.BytesIn = int64(s.req.HeadLen)
	s.consume(s.req.HeadLen)
	s.log(b, srv)
	s.errKeep = err == nil
	return s.errKeep
}

// keepAlivePages are the default pages without `connection: close`, for
// answers after which the connection stays usable (deny).
var keepAlivePages = func() map[int][]byte {
	m := map[int][]byte{}
	for c, p := range defaultPages {
		m[c] = bytes.Replace(p, []byte("connection: close\r\n"), nil, 1)
	}
	return m
}()

// lingerClose half-closes the client connection and drains what the client
// still sends for a moment, so an error answer is not destroyed by the RST
// the kernel sends when unread request bytes remain at close (HAProxy and
// nginx linger the same way).
func (s *session) lingerClose() {
	tc, ok := s.conn.(interface {
		net.Conn
		CloseWrite() error
	})
	if !ok {
		return
	}
	if tc.CloseWrite() != nil {
		return
	}
	deadline := time.Now().Add(lingerTime)
	tc.SetReadDeadline(deadline)
	for total := 0; total < lingerBytes; {
		n, err := tc.Read(s.in)
		total += n
		if err != nil {
			return
		}
	}
}

const (
	lingerTime  = 500 * time.Millisecond
	lingerBytes = 256 << 10
)

func (s *session) sendError(code int, b *Backend) {
	s.linger = true
	page := s.errorPage(code, b)
	s.conn.SetWriteDeadline(time.Now().Add(s.clientTimeout(0)))
	n, _ := s.conn.Write(page)
	s.rec.BytesOut += countHTX(n, page)
	s.rec.Status = int32(code)
	s.f.status(code)
	if b != nil {
		b.status(code)
	}
}

// log hands the finished record to the sink. Counters for actconn etc. are
// taken now, as HAProxy does at log time.
func (s *session) log(b *Backend, srv *server) {
	r := &s.rec
	r.ActConn = int32(s.e.actconn.Load())
	r.FeConn = int32(s.f.CurConns.Load())
	if b != nil {
		r.BeConn = int32(b.CurConns.Load())
		if s.heldBe == b {
			r.BeConn--
		}
		r.BackendQueue = int32(b.Queued.Load())
	}
	if srv != nil {
		r.SrvConn = int32(srv.Active.Load())
		if s.heldSrv == srv {
			r.SrvConn--
		}
		r.SrvQueue = int32(srv.Queued.Load())
	}
	if r.Request != 0 && r.Ta < 0 {
		r.Ta = ms(time.Duration(time.Now().UnixNano() - r.Request))
	}
	s.f.BytesIn.Add(uint64(r.BytesIn))
	s.f.BytesOut.Add(uint64(r.BytesOut))
	s.e.sink.Log(r)
}

// connMode combines frontend and backend settings as HAProxy does: the
// most closing one wins.
func connMode(f *Frontend, b *Backend) ConnMode {
	return max(f.cfg.ConnMode, b.cfg.ConnMode)
}

// forward sends the request to a server of b and relays the response.
func (s *session) forward(b *Backend, start time.Time) bool {
	r := &s.req
	mode := connMode(s.f, b)
	if mode == HTTPClose {
		s.closeAfter = true
	}
	upgrade := r.ConnUpgrade && r.Upgrade
	b.connOpen()
	s.heldBe = b
	defer func() {
		b.CurConns.Add(-1)
		s.heldBe, s.heldSrv = nil, nil
	}()

	s.pick.Req, s.pick.Src, s.pick.Exclude = &s.view, s.src.Addr(), nil
	srv, persisted, qwait, perr := b.pick(&s.pick, s)
	s.rec.Tw = ms(qwait)
	if perr != pickOK {
		if perr == pickQueueTimeout {
			s.rec.SetTerm(logrec.TermServerTimeout, logrec.StateQueue)
		} else {
			s.rec.SetTerm(logrec.TermServerAbort, logrec.StateConnect)
		}
		s.rec.Backend = b.Name
		return s.answerB(503, b, nil)
	}
	s.rec.Server = srv.Name
	srv.Total.Add(1)

	// Connect, with retries and redispatch on connection failures.
	tc := time.Now()
	up, err := s.connect(b, &srv)
	s.heldSrv = srv
	s.rec.Tc = ms(time.Since(tc))
	if err != nil {
		if isTimeout(err) {
			s.rec.SetTerm(logrec.TermServerTimeout, logrec.StateConnect)
		} else {
			s.rec.SetTerm(logrec.TermServerAbort, logrec.StateConnect)
		}
		if srv != nil {
			s.rec.Server = srv.Name
		}
		keep := s.answerB(503, b, srv)
		if srv != nil {
			b.done(srv)
		}
		return keep
	}
	s.rec.Server = srv.Name
	s.rec.ServerAddr = srv.Addr
	srv.bind(s, s.lane, s.conn, up)
	keep, _ := s.exchange(b, srv, up, mode, upgrade, persisted, false)
	srv.unbind(s, s.lane)
	b.done(srv)
	return keep
}

// connect returns a connection to *srvp: the one this client already holds
// to that server, an idle one (not for a client's first request, as in
// HAProxy's `http-reuse safe`), or a new one. On failure it retries and
// redispatches, updating *srvp.
func (s *session) connect(b *Backend, srvp **server) (*upConn, error) {
	srv := *srvp
	if s.up != nil {
		if s.up.s == srv {
			u := s.up
			s.up = nil
			return u, nil
		}
		s.up.s.putIdle(s.up, time.Now())
		s.up = nil
	}
	if s.nreq > 1 {
		if u := srv.getIdle(s.lane); u != nil {
			return u, nil
		}
	}
	tries := 0
	for {
		u, err := dialFor(s.conn, srv, b.cfg.Timeouts.Connect)
		if err == nil {
			return u, nil
		}
		srv.ConnErrors.Add(1)
		b.ConnErrors.Add(1)
		if h := b.hook.Load(); h != nil && h.Observe != nil {
			h.Observe(srv.Server, Observation{ConnFailed: true, Timeout: isTimeout(err)})
		}
		if tries >= b.retries || s.e.stopping.Load() {
			return nil, err
		}
		tries++
		s.rec.Retries++
		b.Retries.Add(1)
		srv.Retries.Add(1)
		if b.cfg.Redispatch && tries == b.retries && !b.forced(s.pick.Req) {
			// HAProxy's option redispatch: the last retry goes elsewhere
			// (never under force-persist).
			b.done(srv)
			s.pick.Exclude = srv.Server
			nsrv, _, _, perr := b.pick(&s.pick, s)
			if perr != pickOK {
				*srvp = nil
				return nil, err
			}
			if nsrv != srv {
				s.rec.Redispatched = true
				b.Redispatch.Add(1)
				srv.Redispatch.Add(1)
			}
			srv = nsrv
			*srvp = srv
			s.rec.Server = srv.Name
		}
	}
}

// exchange writes the request to up and relays the response. It returns
// whether the client connection stays open.
func (s *session) exchange(b *Backend, srv *server, up *upConn, mode ConnMode, upgrade, persisted, isRetry bool) (bool, bool) {
	e := s.e
	r := &s.req
	hook := b.hook.Load()
	sto := serverTimeout(b)
	now := time.Now()
	up.c.SetDeadline(now.Add(sto))

	// Request head.
	o := s.out[:0]
	o = append(o, r.Method.Of(s.in)...)
	o = append(o, ' ')
	o = append(o, r.Target.Of(s.in)...)
	o = append(o, ' ')
	o = append(o, versionText(r.Minor)...)
	o = append(o, '\r', '\n')
	ff := b.cfg.ForwardFor
	if ff == nil {
		ff = s.f.cfg.ForwardFor
	}
	ffName := "x-forwarded-for"
	if ff != nil && ff.Header != "" {
		ffName = ff.Header
	}
	hasFF := false
	for i := range r.Fields {
		if !r.Forwardable(i, upgrade) {
			continue
		}
		name, val := r.Name(i), r.Value(i)
		if s.reqE.nDel > 0 && s.reqE.deleted(name) {
			continue
		}
		if ff != nil && httpx.EqualFold(name, ffName) {
			hasFF = true
		}
		if hook != nil && hook.RequestField != nil {
			var handled bool
			if o, handled = hook.RequestField(o, name, val, srv.Server); handled {
				continue
			}
		}
		o = httpx.AppendField(o, name, val)
	}
	if ff != nil && !(ff.IfNone && hasFF) && !(ff.Except.IsValid() && ff.Except.Contains(s.src.Addr())) {
		o = append(o, ffName...)
		o = append(o, ':', ' ')
		o = s.src.Addr().AppendTo(o)
		o = append(o, '\r', '\n')
	}
	o = s.reqE.appendAdds(o, s)
	switch {
	case upgrade:
		o = append(o, "Connection: upgrade\r\n"...)
	case mode != KeepAlive:
		o = append(o, "Connection: close\r\n"...)
	case r.Minor == 0:
		o = append(o, "Connection: keep-alive\r\n"...)
	}
	o = append(o, '\r', '\n')

	// Request body bytes already read.
	consumed := r.HeadLen
	kind := r.RequestBody()
	var remain int64 // body bytes still to read from the client (CL)
	bodyDone := true
	switch kind {
	case httpx.BodyLength:
		have := int64(s.n - r.HeadLen)
		take := min(have, r.ContentLength)
		o = append(o, s.in[r.HeadLen:r.HeadLen+int(take)]...)
		consumed += int(take)
		remain = r.ContentLength - take
		bodyDone = remain == 0
	case httpx.BodyChunked:
		s.ck.Reset()
		k, err := s.ck.Scan(s.in[r.HeadLen:s.n])
		if err != nil {
			return s.badChunk(b, srv, up)
		}
		o = append(o, s.in[r.HeadLen:r.HeadLen+k]...)
		consumed += k
		bodyDone = s.ck.Done()
	}
	s.out = o
	s.rec.BytesIn = int64(consumed)
	tsend := time.Now()
	if _, err := up.c.Write(o); err != nil {
		up.c.Close()
		if up.used && bodyDone && !isRetry {
			// A reused connection the server closed meanwhile: safe to
			// replay on a fresh one since nothing was processed.
			nu, derr := dialFor(s.conn, srv, b.cfg.Timeouts.Connect)
			if derr == nil {
				return s.exchange(b, srv, nu, mode, upgrade, persisted, true)
			}
		}
		return s.serverFailed(b, srv, 502, logrec.TermServerAbort, logrec.StateConnect), false
	}

	// Expect: 100-continue with the body still at the client: let the
	// server answer first so the client is not stuck waiting for us.
	expectWait := r.Expect100 && !bodyDone && consumed == s.req.HeadLen && r.Minor >= 1
	if !bodyDone && !expectWait {
		if !s.streamRequestBody(b, srv, up, kind, remain) {
			return false, false
		}
		bodyDone = true
	}

	// Response head(s).
	sn := 0
	for {
		ok, interim, res := s.readResponseHead(b, srv, up, &sn, isRetry, bodyDone)
		if res == retryFresh {
			nu, derr := dialFor(s.conn, srv, b.cfg.Timeouts.Connect)
			if derr == nil {
				return s.exchange(b, srv, nu, mode, upgrade, persisted, true)
			}
			return s.serverFailed(b, srv, 502, logrec.TermServerAbort, logrec.StateHeaders), false
		}
		if !ok {
			return res == headFailed && s.errKeep, false
		}
		if !interim {
			break
		}
		// 1xx: relay (HTTP/1.1 clients only) and read the next head.
		hl := s.resp.HeadLen
		if r.Minor >= 1 {
			s.conn.SetWriteDeadline(time.Now().Add(s.clientTimeout(0)))
			nw, _ := s.conn.Write(s.sb[:hl])
			s.rec.BytesOut += countHTX(nw, s.sb[:hl])
		}
		copy(s.sb, s.sb[hl:sn])
		sn -= hl
		if s.resp.Status == 100 && expectWait {
			expectWait = false
			if sn > 0 {
				// The final answer came right behind the 100: the server
				// does not want the body, and s.sb (the copy buffer) holds
				// that answer. Relay it and close the client side.
				s.closeAfter = true
			} else {
				if !s.streamRequestBody(b, srv, up, kind, remain) {
					return false, false
				}
				bodyDone = true
			}
		}
	}
	if expectWait {
		// Final answer without 100 Continue: the body never came, so the
		// client connection cannot carry another request.
		s.closeAfter = true
	}
	tr := time.Now()
	s.rec.Tr = ms(tr.Sub(tsend))
	resp := &s.resp
	s.rec.Status = int32(resp.Status)
	s.f.status(resp.Status)
	b.status(resp.Status)
	if hook != nil && hook.Observe != nil {
		hook.Observe(srv.Server, Observation{Status: resp.Status})
	}
	for _, c := range s.f.cfg.CaptureResponse {
		v, _ := resp.Field(c.Name)
		s.rec.ResHeaders.Add(v, c.Len)
	}
	if cc := &s.f.cfg.CaptureCookie; cc.Name != "" {
		captureCookie(&s.rec.ResCookie, &resp.Head, "set-cookie", cc)
	}
	isHead := httpx.EqualFold(r.Method.Of(s.in), "head")
	rkind := resp.ResponseBody(isHead)
	switching := upgrade && resp.Status == 101

	// Response rules: backend's, then frontend's.
	s.runResponseRules(b.cfg.HTTPResponse)
	s.runResponseRules(s.f.cfg.HTTPResponse)

	clientKeep := !s.closeAfter && mode != HTTPClose && !e.stopping.Load() && rkind != httpx.BodyEOF && !switching
	// A request body the server never got leaves its connection unusable.
	srvKeep := mode == KeepAlive && resp.KeepAlive() && rkind != httpx.BodyEOF && !switching && bodyDone

	o = s.out[:0]
	o = append(o, "HTTP/1.1 "...)
	o = append(o, s.sb[9:12]...)
	o = append(o, ' ')
	o = append(o, resp.Reason.Of(s.sb)...)
	o = append(o, '\r', '\n')
	for i := range resp.Fields {
		if !resp.Forwardable(i, switching) {
			continue
		}
		name := resp.Name(i)
		if s.rspE.nDel > 0 && s.rspE.deleted(name) {
			continue
		}
		if hook != nil && hook.ResponseField != nil {
			var done bool
			if o, done = hook.ResponseField(o, name, resp.Value(i), srv.Server); done {
				continue
			}
		}
		o = httpx.AppendField(o, name, resp.Value(i))
	}
	o = s.rspE.appendAdds(o, s)
	if hook != nil && hook.ResponseFields != nil {
		o = hook.ResponseFields(o, &s.view, resp.Status, srv.Server, persisted)
	}
	switch {
	case switching:
		o = append(o, "Connection: upgrade\r\n"...)
	case !clientKeep:
		o = append(o, "Connection: close\r\n"...)
	case r.Minor == 0:
		o = append(o, "Connection: keep-alive\r\n"...)
	}
	o = append(o, '\r', '\n')
	headLen := len(o)
	hl := resp.HeadLen
	extra := s.sb[hl:sn]
	var rremain int64
	respDone := true
	switch rkind {
	case httpx.BodyLength:
		take := min(int64(len(extra)), resp.ContentLength)
		if int64(len(extra)) > take {
			srvKeep = false // the server sent more than it announced
		}
		extra = extra[:take]
		rremain = resp.ContentLength - take
		respDone = rremain == 0
	case httpx.BodyChunked:
		s.ck.Reset()
		k, err := s.ck.Scan(extra)
		if err != nil {
			srvKeep, clientKeep = false, false
			s.rec.SetTerm(logrec.TermServerAbort, logrec.StateData)
		}
		if k < len(extra) {
			srvKeep = false
		}
		extra = extra[:k]
		respDone = s.ck.Done()
	case httpx.BodyEOF:
		respDone = false
	case httpx.BodyNone:
		if len(extra) > 0 && !switching {
			srvKeep = false
		}
		if !switching {
			extra = extra[:0]
		}
	}
	if len(o)+len(extra) <= cap(o) {
		o = append(o, extra...)
		extra = nil
	}
	s.out = o
	s.conn.SetWriteDeadline(time.Now().Add(s.clientTimeout(0)))
	base := s.rec.BytesOut
	nw, err := s.conn.Write(o)
	s.rec.BytesOut += int64(nw)
	headHTX := int64(-1)
	if nw >= headLen {
		// %B counts the head as HAProxy's HTX does (see htxHeadAdjust).
		adj := htxHeadAdjust(o[:headLen])
		s.rec.BytesOut -= int64(adj)
		headHTX = int64(headLen - adj)
	}
	if err == nil && len(extra) > 0 {
		nw, err = s.conn.Write(extra)
		s.rec.BytesOut += int64(nw)
	}
	if err != nil {
		up.c.Close()
		s.rec.SetTerm(logrec.TermClientAbort, logrec.StateData)
		s.f.ReqErrors.Add(1)
		s.log(b, srv)
		return false, false
	}
	if switching {
		s.consume(consumed)
		s.tunnel(b, up)
		s.log(b, srv)
		return false, false
	}
	if !respDone {
		ok := s.streamResponseBody(b, srv, up, rkind, rremain)
		if !ok {
			up.c.Close()
			s.chunkedHTX(rkind, base, headHTX)
			s.log(b, srv)
			return false, false
		}
		if rkind == httpx.BodyEOF {
			srvKeep = false
		}
	}
	s.chunkedHTX(rkind, base, headHTX)
	srv.BytesIn.Add(uint64(s.rec.BytesIn))
	srv.BytesOut.Add(uint64(s.rec.BytesOut))
	b.BytesIn.Add(uint64(s.rec.BytesIn))
	b.BytesOut.Add(uint64(s.rec.BytesOut))
	if srvKeep && clientKeep {
		up.used = true
		s.up = up
	} else if srvKeep {
		up.used = true
		srv.putIdle(up, time.Now())
	} else {
		up.c.Close()
	}
	s.consume(consumed)
	s.log(b, srv)
	return clientKeep, false
}

func (s *session) badChunk(b *Backend, srv *server, up *upConn) (bool, bool) {
	s.e.log.Debug("bad chunked request body", "frontend", s.f.Name)
	s.f.ReqErrors.Add(1)
	s.putBack(srv, up)
	s.rec.SetTerm(logrec.TermProxy, logrec.StateRequest)
	s.sendError(400, nil)
	s.log(b, srv)
	return false, false
}

// putBack returns an unused upstream connection.
func (s *session) putBack(srv *server, up *upConn) {
	if up.used {
		srv.putIdle(up, time.Now())
	} else {
		up.c.Close()
	}
}

// serverFailed answers the client after a server-side failure.
func (s *session) serverFailed(b *Backend, srv *server, code int, ev, st byte) bool {
	s.rec.SetTerm(ev, st)
	srv.RespErrors.Add(1)
	b.RespErrors.Add(1)
	if h := b.hook.Load(); h != nil && h.Observe != nil {
		h.Observe(srv.Server, Observation{Timeout: ev == logrec.TermServerTimeout, BadResp: code == 502})
	}
	return s.answerB(code, b, srv)
}

type headResult uint8

const (
	headOK headResult = iota
	headFailed
	retryFresh
)

// readResponseHead reads and parses one response head into s.sb[:*sn].
func (s *session) readResponseHead(b *Backend, srv *server, up *upConn, sn *int, isRetry, bodySent bool) (ok, interim bool, res headResult) {
	for {
		if *sn > 0 {
			err := s.resp.Parse(s.sb[:*sn], s.e.limits)
			if err == nil {
				st := s.resp.Status
				return true, st >= 100 && st < 200 && st != 101, headOK
			}
			if err != httpx.ErrIncomplete {
				up.c.Close()
				s.serverFailed(b, srv, 502, logrec.TermProxy, logrec.StateHeaders)
				return false, false, headFailed
			}
			if *sn == len(s.sb) {
				up.c.Close()
				s.serverFailed(b, srv, 502, logrec.TermProxy, logrec.StateHeaders)
				return false, false, headFailed
			}
		}
		m, err := up.c.Read(s.sb[*sn:])
		*sn += m
		if m > 0 {
			continue
		}
		if err == nil {
			continue
		}
		up.c.Close()
		if isTimeout(err) {
			s.serverFailed(b, srv, 504, logrec.TermServerTimeout, logrec.StateHeaders)
			return false, false, headFailed
		}
		if *sn == 0 && up.used && !isRetry && bodySent && s.req.RequestBody() == httpx.BodyNone {
			return false, false, retryFresh
		}
		s.serverFailed(b, srv, 502, logrec.TermServerAbort, logrec.StateHeaders)
		return false, false, headFailed
	}
}

// streamRequestBody copies the rest of the request body from the client to
// the server, through s.sb so the request head in s.in stays valid.
func (s *session) streamRequestBody(b *Backend, srv *server, up *upConn, kind httpx.BodyKind, remain int64) bool {
	cto := s.clientTimeout(0)
	sto := serverTimeout(b)
	for {
		if kind == httpx.BodyLength && remain <= 0 {
			return true
		}
		if kind == httpx.BodyChunked && s.ck.Done() {
			return true
		}
		want := len(s.sb)
		if kind == httpx.BodyLength && int64(want) > remain {
			want = int(remain)
		}
		s.conn.SetReadDeadline(time.Now().Add(cto))
		m, err := s.conn.Read(s.sb[:want])
		if m > 0 {
			chunk := s.sb[:m]
			if kind == httpx.BodyChunked {
				k, cerr := s.ck.Scan(chunk)
				if cerr != nil {
					up.c.Close()
					s.rec.SetTerm(logrec.TermProxy, logrec.StateData)
					s.f.ReqErrors.Add(1)
					s.sendError(400, nil)
					s.log(b, srv)
					return false
				}
				if k < m {
					// A pipelined request behind a chunked body: we do not
					// keep it, so the connection closes after this response.
					s.closeAfter = true
				}
				chunk = chunk[:k]
			} else {
				remain -= int64(m)
			}
			s.rec.BytesIn += int64(len(chunk))
			up.c.SetWriteDeadline(time.Now().Add(sto))
			if _, werr := up.c.Write(chunk); werr != nil {
				up.c.Close()
				s.serverFailed(b, srv, 502, logrec.TermServerAbort, logrec.StateData)
				return false
			}
			continue
		}
		if err != nil {
			up.c.Close()
			if isTimeout(err) {
				s.rec.SetTerm(logrec.TermClientTimeout, logrec.StateData)
				s.sendError(408, nil)
			} else {
				s.rec.SetTerm(logrec.TermClientAbort, logrec.StateData)
			}
			s.f.ReqErrors.Add(1)
			s.log(b, srv)
			return false
		}
	}
}

// streamResponseBody relays the rest of the response body.
func (s *session) streamResponseBody(b *Backend, srv *server, up *upConn, kind httpx.BodyKind, remain int64) bool {
	cto := s.clientTimeout(0)
	sto := serverTimeout(b)
	for {
		if kind == httpx.BodyLength && remain <= 0 {
			return true
		}
		if kind == httpx.BodyChunked && s.ck.Done() {
			return true
		}
		want := len(s.sb)
		if kind == httpx.BodyLength && int64(want) > remain {
			want = int(remain)
		}
		up.c.SetReadDeadline(time.Now().Add(sto))
		m, err := up.c.Read(s.sb[:want])
		if m > 0 {
			chunk := s.sb[:m]
			if kind == httpx.BodyChunked {
				k, cerr := s.ck.Scan(chunk)
				if cerr != nil {
					s.rec.SetTerm(logrec.TermServerAbort, logrec.StateData)
					b.RespErrors.Add(1)
					return false
				}
				chunk = chunk[:k]
			} else if kind == httpx.BodyLength {
				remain -= int64(m)
			}
			s.conn.SetWriteDeadline(time.Now().Add(cto))
			nw, werr := s.conn.Write(chunk)
			s.rec.BytesOut += int64(nw)
			if werr != nil {
				s.rec.SetTerm(logrec.TermClientAbort, logrec.StateData)
				return false
			}
			continue
		}
		if err != nil {
			if kind == httpx.BodyEOF && errors.Is(err, io.EOF) {
				return true
			}
			if isTimeout(err) {
				s.rec.SetTerm(logrec.TermServerTimeout, logrec.StateData)
			} else {
				// Truncated body: the client sees the connection close
				// before the announced end, as with HAProxy.
				s.rec.SetTerm(logrec.TermServerAbort, logrec.StateData)
			}
			b.RespErrors.Add(1)
			srv.RespErrors.Add(1)
			return false
		}
	}
}

func (s *session) runResponseRules(rules []*HTTPRule) {
	for _, rule := range rules {
		if rule.Cond != nil && !s.responseCond(rule.Cond) {
			continue
		}
		s.rspE.apply(rule)
	}
}

// tunnel relays bytes both ways after a protocol switch (WebSocket) until
// either side closes or `timeout tunnel` passes without traffic.
func (s *session) tunnel(b *Backend, up *upConn) {
	defer up.c.Close()
	to := s.f.cfg.Timeouts.Tunnel
	if to <= 0 {
		to = b.cfg.Timeouts.Tunnel
	}
	if to <= 0 {
		to = max(s.clientTimeout(0), serverTimeout(b))
	}
	client := s.conn
	if isLoopConn(client) {
		// A tunnel is two blocking copies: it leaves the event loop for
		// Go's netpoller and goroutines, and this coroutine waits for it.
		cc, err := toNetConn(client)
		if err != nil {
			return
		}
		defer cc.Close()
		uc, err := toNetConn(up.c)
		if err != nil {
			return
		}
		up.c = uc
		client = cc
		if srv := s.heldSrv; srv != nil {
			srv.bind(s, s.lane, client, up)
		}
	}
	if s.n > 0 {
		up.c.Write(s.in[:s.n])
		s.n = 0
	}
	var in, out int64
	offloadFor(s.conn, func() { in, out = relay(client, up.c, s.in, s.sb, to) })
	s.rec.BytesIn += in
	s.rec.BytesOut += out
}
