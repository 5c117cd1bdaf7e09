package proxy

import (
	"crypto/tls"
	"errors"
	"github.com/varde-lb/varde/core/sample"
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
	// asapLogged: option logasap logged this transaction already
	// (logasap.go); finish then only accounts for it.
	asapLogged bool
	e          *Engine
	f          *Frontend
	conn       net.Conn
	in         []byte // client bytes; in[:n] are pending
	n          int
	out        []byte // head being built, then coalesced body bytes
	sb         []byte // server bytes / copy buffer
	req        httpx.Request
	resp       httpx.Response
	view       reqView
	pick       core.PickContext
	ck         httpx.Chunked
	bodyDec    []byte  // a chunked body's data for the req.body fetches (waitbody.go)
	up         *upConn // upstream connection kept for this client between requests
	lane       int     // the servers' lane this connection's loop uses (0: goroutines)
	rec        logrec.Record

	comp compState // compress.go: this request's compression

	reqE edits
	rspE edits
	scr  scriptTx // what lua-load scripts changed in this transaction
	// respEnd is the http-response deny/return that replaces the server's
	// answer (respaction.go); set by the response rules, nil otherwise.
	respEnd *HTTPRule
	idle    atomic.Bool
	h2      bool // an HTTP/2 stream (h2stream.go): logged as HTTP/2.0
	// h2Scheme is the stream's :scheme when it gave an :authority: its
	// request line is logged in absolute form, as HAProxy logs it.
	h2Scheme string

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

	// A tcp frontend upgraded to HTTP (modeupgrade.go): upgrade is the `mode
	// http` backend the TCP stream chose, forced the one the first HTTP
	// request goes to.
	upgrade, forced *Backend

	x  xchg  // the current exchange with a server
	tx txLog // the transaction's log record, written once by finish

	// The sanitised view (see sanitize): the hop-by-hop fields taken out
	// of req.Fields, scratch marks, and whether this is a WebSocket
	// upgrade (its Upgrade field stays visible).
	hop       []httpx.Field
	hidden    []bool
	wsUpgrade bool

	tls   *tls.ConnectionState // the client connection's TLS state; nil in cleartext
	th    int32                // TLS handshake time in ms (%Th of the first request)
	st    scState              // stick counters (stick.go)
	uid   uniqueID             // the transaction's unique id (uniqueid.go)
	addrs addrSave             // the connection's addresses before set-src/set-dst (setsrc.go)
	cache cacheTx              // cache-use/cache-store (cache.go)
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
	s.hop = make([]httpx.Field, 0, e.limits.MaxHeaders)
	s.hidden = make([]bool, 0, e.limits.MaxHeaders)
	s.view.s = s
	return s
}

func (e *Engine) serveHTTP(f *Frontend, c net.Conn, pp bool) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	f.connOpen()
	e.actconn.Add(1)
	e.runHTTP(&parked{f: f, c: c, accept: time.Now(), src: addrPort(c.RemoteAddr()), dst: addrPort(c.LocalAddr()), pp: pp})
}

// parked is what a client connection keeps while it has no session: idle
// keep-alive connections hand their buffers back and wait in the parker
// (one epoll set for all of them) instead of holding a goroutine.
type parked struct {
	f        *Frontend
	c        net.Conn
	accept   time.Time
	src, dst netip.AddrPort
	pp       bool // the connection starts with a PROXY header (accept-proxy)
	admitted bool // admit ran: connection rules, PROXY header
	nreq     int
	fd       int
	deadline time.Time            // end of timeout http-keep-alive
	tls      *tls.ConnectionState // TLS clients (tls_front.go)
	vars     *sample.SessVars     // the connection's sess. variables (vars.go)
	th       int32                // TLS handshake time, ms
	// up is a server connection private to this client (an NTLM login,
	// send-proxy): kept while the client idles, as HAProxy keeps it in
	// the session, and closed with the client.
	up *upConn
	// A connection upgraded from `mode tcp` (modeupgrade.go): the bytes read
	// and the backend chosen before the upgrade, for its first request.
	pre    []byte
	forced *Backend
}

// closeHTTP ends a client connection for good.
func (e *Engine) closeHTTP(f *Frontend, c net.Conn) {
	f.closeConnCounters(c)
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
	s.accept, s.src, s.dst, s.tls, s.th = p.accept, p.src, p.dst, p.tls, p.th
	s.scr.vars.Sess = p.vars
	s.up, p.up = p.up, nil
	s.resume(p)
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
		if s.up != nil && s.up.private {
			p.up = s.up
		} else if s.up != nil {
			s.up.s.putIdle(s.up, time.Now())
		}
		s.up = nil
		e.mu.Lock()
		delete(e.conns, s)
		e.mu.Unlock()
		park := s.park && !e.stopping.Load()
		if s.linger && !park {
			s.lingerClose()
		}
		p.nreq = s.nreq
		p.deadline = s.kaDeadline
		if s.st.nreq > 0 { // a panic skipped the transaction's end
			s.stickEnd(0, 0, 0)
		}
		s.conn, s.f, s.tls, s.st.conn, s.forced = nil, nil, nil, nil, nil
		p.vars = s.detachVars()
		e.pool.Put(s)
		if !park || !(parkInLoop(p) || e.parker.park(p)) {
			e.closeConn(p)
		}
	}()
	if !p.admitted {
		// Before anything else on the connection (and before any TLS
		// handshake): the addresses every later step sees.
		p.admitted = true
		if !f.admit(c, s.in, p.pp, &p.src, &p.dst, &p.vars) {
			return
		}
		s.src, s.dst = p.src, p.dst
		s.scr.vars.Sess = p.vars // set by the connection's rules (tcpl4.go)
	}
	if f.cfg.stick != nil {
		s.st.conn = f.connCountersOf(c)
	}
	// On stop, a keep-alive answer already sent is not the end: the
	// client may have sent its next request before learning of the stop,
	// and gets it answered, with Connection: close (headDeadline).
	for s.transaction() {
		if e.stopping.Load() && !e.isLingering() {
			return
		}
	}
}

// clientTimeout returns t, else the frontend's timeout client; 0 is no
// timeout at all, as in HAProxy when neither is set (varde check warns
// about it, as HAProxy does).
func (s *session) clientTimeout(t time.Duration) time.Duration {
	if t > 0 {
		return t
	}
	return s.f.cfg.Timeouts.Client
}

// serverTimeout is the backend's timeout server, 0 for none.
func serverTimeout(b *Backend) time.Duration {
	return b.cfg.Timeouts.Server
}

// after is the deadline d from now, or none (the zero time) for d <= 0:
// an unset HAProxy timeout waits forever.
func after(d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return time.Now().Add(d)
}

// longest is the larger of two timeouts, where 0 (none) is the largest.
func longest(a, b time.Duration) time.Duration {
	if a <= 0 || b <= 0 {
		return 0
	}
	return max(a, b)
}

// readHead reads until a whole request head is in s.in. It returns false
// when the connection must end (after answering, if an answer is due).
func (s *session) readHead() bool {
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
			if done, ok := s.parseHead(wait, got); done {
				return ok
			}
		}
		dl, parkable, ok := s.headDeadline(first, wait, got)
		if !ok {
			return false
		}
		m, err := s.conn.Read(s.in[s.n:])
		s.idle.Store(false)
		if m == 0 && parkable && isTimeout(err) {
			if s.e.stopping.Load() {
				continue // not parked: headDeadline lingers, then it ends
			}
			s.park, s.kaDeadline = true, dl
			return false
		}
		if m == 0 && s.e.stopping.Load() && isTimeout(err) && s.e.isLingering() {
			continue // the wait before parking ended in a drain: linger instead
		}
		if m > 0 {
			if s.n == 0 {
				got = time.Now()
			}
			s.n += m
			continue
		}
		if err != nil {
			return s.headReadFailed(first, err)
		}
	}
}

// parseHead parses what s.in holds; done is false when more bytes are
// needed. A bad request is answered (HAProxy's mux answers it outside any
// stream: its %B for <BADREQ> is 0) and logged.
func (s *session) parseHead(wait, got time.Time) (done, ok bool) {
	err := s.req.Parse(s.in[:s.n], s.e.limits)
	if err == nil {
		now := time.Now()
		s.rec.Request = got.UnixNano()
		s.rec.Ti = ms(got.Sub(wait))
		s.rec.TR = ms(now.Sub(got))
		return true, true
	}
	if err == httpx.ErrIncomplete {
		return false, false
	}
	var he *httpx.Error
	status := 400
	if errors.As(err, &he) {
		status = he.Status
	}
	s.f.ReqErrors.Add(1)
	s.rec.SetTerm(logrec.TermProxy, logrec.StateRequest)
	s.rec.RequestLine.Set([]byte("<BADREQ>"))
	s.rec.Request = got.UnixNano()
	s.sendError(status, nil)
	s.rec.BytesOut = 0
	s.log(nil, nil)
	return true, false
}

// headDeadline sets the read deadline for the next read of the head:
// timeout http-request once bytes came (or for a first request), timeout
// http-keep-alive between requests; an idle keep-alive connection first
// waits parkAfter with its session, then parks. ok is false when the
// engine stops with nothing pending.
func (s *session) headDeadline(first bool, wait, got time.Time) (dl time.Time, parkable, ok bool) {
	f := s.f
	from, d := got, s.clientTimeout(f.cfg.Timeouts.HTTPRequest)
	if s.n == 0 {
		from = wait
		if !first && f.cfg.Timeouts.HTTPKeepAlive > 0 {
			d = f.cfg.Timeouts.HTTPKeepAlive
		}
	}
	// A connection's first request is awaited even when the engine stops:
	// the client was accepted (perhaps from a socket a successor shares, a
	// binary upgrade) and has sent or is sending it. Between two requests,
	// a stopping engine waits only while its linger runs (a drain's, or
	// stopLinger) for a request already on its way; then Stop closes the
	// idle ones.
	s.idle.Store(s.n == 0 && !first)
	if s.n == 0 && !first && s.e.stopping.Load() {
		if until, linger := s.e.lingering(); linger {
			s.conn.SetReadDeadline(until)
			return until, false, true
		}
		s.idle.Store(false)
		return dl, false, false
	}
	if d > 0 {
		dl = from.Add(d) // else none: the zero time
	}
	loopConn := isLoopConn(s.conn)
	parkable = s.n == 0 && !first && (loopConn || s.e.parker.canPark(s.conn))
	hold := parkAfter
	if loopConn {
		hold = loopParkAfter
	}
	if parkable && (d <= 0 || d > hold) {
		// Wait a little with the session at hand (busy clients send
		// their next request within microseconds), then park.
		s.conn.SetReadDeadline(from.Add(hold))
	} else {
		s.conn.SetReadDeadline(dl)
		parkable = false
	}
	return dl, parkable, true
}

// headReadFailed ends a connection whose head read failed: nothing to say
// when keep-alive ended, the client left between requests or we stop, or
// (option http-ignore-probes) when a first request never sent a byte; a
// 408 on timeout; a client abort otherwise. It returns false.
func (s *session) headReadFailed(first bool, err error) bool {
	if s.n == 0 && first && s.f.cfg.IgnoreProbes && s.forced == nil {
		return false // a pre-connect that sent nothing: no 408, no log (option http-ignore-probes)
	}
	if s.n == 0 && (!first || s.e.stopping.Load() || !isTimeout(err)) {
		if first && !s.e.stopping.Load() && !isTimeout(err) && s.forced == nil {
			s.logHeadAbort() // HAProxy logs a silent connection too (not an upgraded one: modeupgrade.go)
		}
		return false
	}
	s.rec.RequestLine.Set([]byte("<BADREQ>"))
	s.f.ReqErrors.Add(1)
	if isTimeout(err) {
		s.rec.SetTerm(logrec.TermClientTimeout, logrec.StateRequest)
		s.sendError(408, nil)
		s.rec.BytesOut = 0 // sent by HAProxy's mux too: %B is 0
	} else {
		s.logHeadAbort()
		return false
	}
	s.log(nil, nil)
	return false
}

func ms(d time.Duration) int32 { return int32(d / time.Millisecond) }

// transaction serves one request: begin, serve, finish. It returns whether
// the client connection stays open for another one.
func (s *session) transaction() bool {
	s.begin()
	keep := s.serve()
	s.stickServed()
	s.finish()
	if s.stickActive() {
		s.stickEnd(int(s.rec.Status), s.rec.BytesIn, s.rec.BytesOut)
	}
	return keep
}

// begin resets the per-transaction state.
func (s *session) begin() {
	s.rec.Reset()
	s.rec.Mode = logrec.ModeHTTP
	s.rec.Accept = s.accept.UnixNano()
	s.rec.Client, s.rec.FrontendAddr = s.src, s.dst
	s.rec.Frontend = s.f.Name
	if s.tls != nil {
		noteTLS(&s.rec, s.tls)
		s.rec.Th = 0 // the handshake counts once, on the first request
		if s.nreq == 0 {
			s.rec.Th = s.th
		}
	}
	s.reqE.reset()
	s.rspE.reset()
	s.scr.reset()
	s.uid.reset()
	s.addrs.restore(s) // set-src/set-dst last one transaction (setsrc.go)
	s.cache.reset()
	s.errKeep = false
	s.req.HeadLen = 0
	s.tx = txLog{}
}

// serve reads the request, runs the frontend's services and rules, chooses
// the backend and forwards. Every path that ends the transaction with
// something to log marks the record due (s.log); finish writes it.
func (s *session) serve() bool {
	f := s.f
	if !s.readHead() {
		return false
	}
	s.nreq++
	start := time.Now()
	f.Requests.Add(1)
	f.Meters.Req.Add(start.UnixNano())
	s.prepare()
	s.stickBegin()
	b, done, keep := s.front(start)
	if done {
		return keep
	}
	s.rec.Backend = b.Name
	b.Requests.Add(1)
	s.st.table = b.cfg.Table // src_* without a table: the backend's now
	if b.cfg.Listen && b.Name == f.Name {
		// A listen section's rules ran as its frontend's, once (HAProxy).
	} else if b.cfg.BufferRequest && !f.cfg.BufferRequest && !s.bufferRequest(b) {
		return false
	} else if len(b.cfg.TCPContent) > 0 && !s.backContentRules(b) { // stick_content.go
		return false
	} else if done, keep := s.runRequestRules(b.cfg.HTTPRequest, start); done {
		return keep
	} else if done, keep := s.backendService(b, start); done { // its stats page, as the frontend's
		return keep
	} else if done, keep := s.runRequestRules(b.cfg.Redirects, start); done {
		return keep
	}
	return s.forward(b)
}

// front runs the frontend's part of a request: its content rules, monitor,
// http-request rules, services and redirects, then the backend choice.
// done reports that the request ended there (keep: the connection stays).
// An upgraded tcp frontend has a part of its own (modeupgrade.go).
func (s *session) front(start time.Time) (b *Backend, done, keep bool) {
	f := s.f
	if s.forced != nil { // chosen by the TCP stream before the upgrade
		b, s.forced = s.forced, nil
		return b, false, false
	}
	if f.cfg.Mode == ModeTCP {
		return s.upgradedFront()
	}
	if len(f.cfg.TCPContent) > 0 && !s.httpContentRules() { // stick_content.go
		return nil, true, false
	}
	s.stickCountRequest()
	if m := f.cfg.Monitor; m != nil { // before any rule (monitor.go)
		if done, keep := s.monitor(m); done {
			return nil, true, keep
		}
	}
	if f.cfg.BufferRequest && !s.bufferRequest(nil) { // waitbody.go
		return nil, true, false
	}
	if done, keep := s.runRequestRules(f.cfg.HTTPRequest, start); done {
		return nil, true, keep
	}
	if s.cache.hit != nil {
		return nil, true, s.serveCached(nil) // cache_serve.go: HAProxy's frontend hit chooses no backend
	}
	// Services (stats page, metrics) answer before any backend is chosen,
	// after the frontend's http-request rules, as HAProxy checks `stats
	// uri` once its rules accepted the request: a `deny` restricting the
	// page by source address holds for it too.
	if p := f.services.Load(); p != nil {
		for _, sv := range *p {
			if sv.match(&s.view) {
				return nil, true, s.serveHandler(sv.h, start)
			}
		}
	}
	if done, keep := s.runRequestRules(f.cfg.Redirects, start); done { // bare `redirect`
		return nil, true, keep
	}
	b = f.chooseBackend(&s.view)
	if b == nil {
		s.rec.SetTerm(logrec.TermProxy, logrec.StateRequest)
		return nil, true, s.answer(503, nil)
	}
	return b, false, false
}

// keepLogHeaders keeps, in the order they came, the lines of the request
// headers the log-format reads (names: FrontendConfig.LogHeaders). Each
// name gets an equal share of the buffer, so a long header never leaves
// another one empty; a value longer than what is left of its share is cut,
// as a capture's len cuts.
func keepLogHeaders(f *logrec.Fields, h *httpx.Head, names []string) {
	if len(names) == 0 {
		return
	}
	var left [logrec.MaxCaptures]int
	for j := range names {
		left[j] = logrec.FieldBytes / len(names)
	}
	for i := range h.Fields {
		n := h.Name(i)
		for j, name := range names {
			if !httpx.EqualFold(n, name) {
				continue
			}
			v := h.Value(i)
			if !f.Add(j, v, left[j]) {
				return
			}
			left[j] -= min(len(v), left[j])
			break
		}
	}
}

// prepare records the request line and captures (from the head as the
// client sent it, as HAProxy captures), then sanitises the head: from here
// on, nothing sees a hop-by-hop field.
func (s *session) prepare() {
	r := &s.req
	if s.h2 {
		s.rec.RequestLine.SetParts(r.Method.Of(s.in), s.h2URI(), http20)
	} else {
		s.rec.RequestLine.SetParts(r.Method.Of(s.in), r.Target.Of(s.in), versionText(r.Minor))
	}
	for _, c := range s.f.cfg.CaptureRequest {
		v := lastField(&r.Head, c.Name)
		s.rec.ReqHeaders.Add(v, c.Len)
	}
	keepLogHeaders(&s.rec.LogHeaders, &r.Head, s.f.cfg.LogHeaders)
	if cc := &s.f.cfg.CaptureCookie; cc.Name != "" {
		captureCookie(&s.rec.ReqCookie, &r.Head, "cookie", cc)
	}
	if !r.KeepAlive() {
		s.closeAfter = true
	}
	s.sanitize()
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
	http20 = []byte("HTTP/2.0")
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
			s.st.denied = true // counts in http_err_* (stick.go)
			if rule.Reply != nil {
				return true, s.reply(rule, logrec.TermProxy)
			}
			s.rec.SetTerm(logrec.TermProxy, logrec.StateRequest)
			return true, s.answer(st, nil)
		case ActReturn:
			return true, s.reply(rule, logrec.TermLocal)
		case ActRedirect:
			return true, s.redirect(rule)
		case ActAuth:
			s.rec.SetTerm(logrec.TermProxy, logrec.StateRequest)
			return true, s.answerAuth(rule)
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
		case ActScript:
			if stop, done, keep := s.scriptVerdictRequest(s.runScript(rule, false)); stop {
				return done, keep
			}
		case ActTrack:
			s.stickRule(rule.Track)
		case ActActor:
			if v := rule.Actor.Do(s, false); v.Stop {
				return v.Done, v.Keep
			}
		default:
			s.applyHeaderRule(rule, false)
		}
	}
	return false, false
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

// txLog is what the transaction's one log record needs at finish.
type txLog struct {
	due bool
	b   *Backend
	srv *server
}

// log marks the transaction's record due, with the backend and server it
// is about; finish writes it. Calling it again only updates them, so a
// transaction is logged exactly once whatever path it took.
func (s *session) log(b *Backend, srv *server) {
	s.tx = txLog{due: true, b: b, srv: srv}
}

// finish hands the transaction's record to the sink, once, after the
// backend and server slots were released (HAProxy releases its own before
// logging, so %bc/%sc exclude the logged transaction itself). Counters for
// actconn etc. are taken now, as HAProxy does at log time.
func (s *session) finish() {
	if !s.tx.due {
		return
	}
	b, srv := s.tx.b, s.tx.srv
	s.tx = txLog{}
	r := &s.rec
	s.noteExtra(r) // %ID and var() in log-format (uniqueid.go)
	if r.ResHeaders.Len() == 0 && r.RequestLine.Len() > 0 && string(r.RequestLine.Bytes()) != "<BADREQ>" {
		// HAProxy allocates the response captures with the stream: an
		// answer varde made itself logs them empty ({} or ""), not absent;
		// a bad request, answered outside any stream, has none.
		for range s.f.cfg.CaptureResponse {
			r.ResHeaders.Add(nil, 0)
		}
	}
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
	b.observeLatency(r.Request) // per-backend histogram, latency.go
	s.f.BytesIn.Add(uint64(r.BytesIn))
	s.f.BytesOut.Add(uint64(r.BytesOut))
	account(&s.f.Counters, b, srv, r)
	if s.asapLogged {
		s.asapLogged = false
		return
	}
	r.ASAP = s.f.cfg.LogASAP && r.Mode == logrec.ModeHTTP // '+' on every line (logasap.go)
	s.e.sink.Log(r)
}

// stopLinger is how long a stopping engine lets an idle keep-alive client
// deliver a request it sent before it could learn of the stop (a client
// that just received a keep-alive answer sends its next request within
// microseconds on a LAN). The request is answered with Connection: close.
const stopLinger = 100 * time.Millisecond

// hasClients reports whether any client connection is open (served or
// parked): a stop without clients has nothing to linger for.
func (e *Engine) hasClients() bool {
	e.mu.Lock()
	n := len(e.conns)
	e.mu.Unlock()
	return n > 0 || e.Parked() > 0
}
