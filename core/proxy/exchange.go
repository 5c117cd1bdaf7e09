package proxy

import (
	"strconv"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/httpx"
	"github.com/varde-lb/varde/core/logrec"
)

// The request path of one HTTP transaction, in order (each step a
// function of its own):
//
//	transaction    begin, serve, finish: the one log record
//	serve          read and sanitise the head, services, frontend rules,
//	               the backend (chooseBackend, shared with mode tcp),
//	               backend rules
//	forward        pick a server (policy seams in Backend.pick), connect
//	               with retries and redispatch
//	exchange       the exchange loop: roundTrip, replayed once on a fresh
//	               connection when a reused one turned out closed
//	  sendRequest    request head and the body bytes already read, then
//	                 the rest of the body (copyBody)
//	  awaitFinal     response heads up to the final one (1xx relayed,
//	                 Expect: 100-continue)
//	  relayResponse  response head rewritten and sent, body copied
//	                 (copyBody), connections kept or closed
//
// Error paths answer the client and mark the record due; finish logs it.

// xchg is the state of one exchange with a server; it lives in the session
// so the path allocates nothing.
type xchg struct {
	b          *Backend
	srv        *server
	up         *upConn
	hook       *Hook
	mode       ConnMode
	upgrade    bool    // the client asked for a protocol switch
	persisted  bool    // the server came from stickiness
	retryOn    RetryOn // the backend's retry-on, default resolved
	tries      int     // retries spent (connection and layer 7)
	fresh      bool    // the next connection must be a new one
	replayable bool    // the whole request was in hand when sent

	consumed int            // bytes of s.in this request used
	kind     httpx.BodyKind // request body framing
	remain   int64          // Content-Length body bytes still at the client
	bodyDone bool           // the whole request body reached the server
	expect   bool           // Expect: 100-continue with the body held back
	sn       int            // response bytes in s.sb
	tsend    time.Time

	rkind      httpx.BodyKind // response body framing
	switching  bool           // 101 to an upgrade request
	clientKeep bool
	srvKeep    bool
}

// connMode combines frontend and backend settings as HAProxy does: the
// most closing one wins.
func connMode(f *Frontend, b *Backend) ConnMode {
	return max(f.cfg.ConnMode, b.cfg.ConnMode)
}

// forward sends the request to a server of b and relays the response,
// retrying as retry-on, retries and option redispatch say (retry.go).
func (s *session) forward(b *Backend) bool {
	if s.cache.hit != nil {
		return s.serveCached(b) // cache_serve.go
	}
	r := &s.req
	mode := connMode(s.f, b)
	if mode == HTTPClose {
		s.closeAfter = true
	}
	if !s.bufferBody(b) {
		return false // option http-buffer-request: the client was answered or left
	}
	b.connOpen()
	s.heldBe = b
	defer func() {
		b.CurConns.Add(-1)
		s.heldBe, s.heldSrv = nil, nil
	}()
	srv, persisted, ok := s.pickServer(b, &s.view)
	if !ok {
		if s.rec.Term[0] == logrec.TermClientAbort {
			s.log(b, nil) // option abortonclose: nobody to answer
			return false
		}
		return s.answerB(503, b, nil)
	}
	s.x = xchg{b: b, srv: srv, hook: b.hook.Load(), mode: mode, retryOn: b.cfg.RetryOn.effective(),
		upgrade: r.ConnUpgrade && r.Upgrade, persisted: persisted}
	keep := s.attempts(&s.x)
	s.x = xchg{}
	return keep
}

// attempts runs attempts until one ends with an answer for the client
// (the server's or an error), then releases the server slot.
func (s *session) attempts(x *xchg) bool {
	for {
		keep, k, refused := s.attempt(x)
		if k == failNone {
			if x.srv != nil {
				x.b.done(x.srv)
			}
			return keep
		}
		if !s.nextTry(x, k, refused) {
			// No server left after a redispatch: x.srv was released.
			s.rec.SetTerm(logrec.TermServerAbort, logrec.StateConnect)
			return s.answerB(503, x.b, nil)
		}
	}
}

// attempt is one try on x.srv: a connection, then the round trip. k is
// failNone when the client got an answer (keep says whether its connection
// stays open), else the retryable failure that ended the try.
func (s *session) attempt(x *xchg) (keep bool, k failKind, refused bool) {
	b, srv := x.b, x.srv
	s.heldSrv = srv
	if srv.redir != "" && s.serverRedirect(x) {
		return false, failNone, false // serverredir.go
	}
	if x.b.cfg.AbortOnClose && peerClosed(s.conn) {
		return s.abortedConnect(x), failNone, false
	}
	tc := time.Now()
	up, err := s.upstream(x)
	s.rec.Tc = ms(time.Since(tc))
	if err != nil {
		s.noteConnFailed(b, srv, err)
		if s.mayRetry(x, failConnect) {
			return false, failConnect, refusedConn(err)
		}
		s.connectFailed(err, srv)
		return s.answerB(503, b, srv), failNone, false
	}
	s.rec.Server = srv.Name
	s.rec.ServerAddr = srv.Address()
	s.noteBackendSrc(up) // %bi:%bp (backendsrc.go)
	s.rec.ServerUnix = srv.unixNow()
	x.up = up
	srv.bind(s, s.lane, s.conn, up)
	keep, k = s.roundTrip(x)
	srv.unbind(s, s.lane)
	return keep, k, false
}

// pickServer chooses b's server for this connection (HTTP and TCP alike)
// and records the queue time; on failure the record says why.
func (s *session) pickServer(b *Backend, req core.Request) (*server, bool, bool) {
	s.pick.Req, s.pick.Src, s.pick.Exclude = req, s.src.Addr(), nil
	s.noteCookieRequest(b, req)
	srv, persisted, qwait, perr := b.pick(&s.pick, s)
	s.rec.Tw = ms(qwait)
	if perr != pickOK {
		switch perr {
		case pickQueueTimeout:
			s.rec.SetTerm(logrec.TermServerTimeout, logrec.StateQueue)
		case pickAborted:
			s.rec.SetTerm(logrec.TermClientAbort, logrec.StateQueue)
		default:
			s.rec.SetTerm(logrec.TermServerAbort, logrec.StateConnect)
		}
		return nil, false, false
	}
	s.rec.Server = srv.Name
	srv.Picked()
	s.stickPicked(srv) // stick store rules (stickpersist.go)
	return srv, persisted, true
}

// connectFailed records a connection that could not be established.
func (s *session) connectFailed(err error, srv *server) {
	if isTimeout(err) {
		s.rec.SetTerm(logrec.TermServerTimeout, logrec.StateConnect)
	} else {
		s.rec.SetTerm(logrec.TermServerAbort, logrec.StateConnect)
	}
	if srv != nil {
		s.rec.Server = srv.Name
	}
}

// upstream returns a connection to x.srv: the one this client already
// holds to that server, an idle one (not for a client's first request, as
// in HAProxy's `http-reuse safe`), or a new one; only a new one after a
// stale connection failed (x.fresh). Pooled connections seen closed while
// idle are dropped here rather than failing a request.
func (s *session) upstream(x *xchg) (*upConn, error) {
	srv := x.srv
	sni := s.serverSNI(srv)
	if u := s.up; u != nil {
		s.up = nil
		switch {
		case u.s != srv || u.sni != sni || u.gen != srv.AddrGen():
			u.s.putIdle(u, time.Now()) // closes it when the address moved
		case !u.alive():
			u.c.Close()
		case !x.fresh:
			srv.Meters.Reuse.Add(1)
			return u, nil
		default:
			u.s.putIdle(u, time.Now())
		}
	}
	if s.nreq > 1 && !x.fresh {
		for u := srv.getIdleFor(s.lane, sni); u != nil; u = srv.getIdleFor(s.lane, sni) {
			if u.alive() {
				return u, nil
			}
			u.c.Close()
		}
	}
	return s.dialServer(srv, x.b.cfg.Timeouts.Connect, sni)
}

// noteConnFailed counts one failed connection attempt and tells passive
// health.
func (s *session) noteConnFailed(b *Backend, srv *server, err error) {
	srv.ConnErrors.Add(1)
	b.ConnErrors.Add(1)
	if h := b.hook.Load(); h != nil && h.Observe != nil {
		h.Observe(srv.Server, Observation{ConnFailed: true, Timeout: isTimeout(err)})
	}
}

// connect is mode tcp's: a connection to *srvp with the connection
// retries and redispatch of HTTP. Of retry-on only conn-failure applies
// (HAProxy 2.6 reads it in TCP too: `retry-on none` stops connection
// retries). *srvp is updated; nil when a redispatch found no server.
func (s *session) connect(b *Backend, srvp **server) (*upConn, error) {
	x := &s.x
	*x = xchg{b: b, srv: *srvp, retryOn: b.cfg.RetryOn.effective() & RetryConnFailure}
	defer func() { *srvp = x.srv; *x = xchg{} }()
	for {
		u, err := s.upstream(x)
		if err == nil {
			return u, nil
		}
		s.noteConnFailed(b, x.srv, err)
		if !s.mayRetry(x, failConnect) || !s.nextTry(x, failConnect, refusedConn(err)) {
			return nil, err
		}
	}
}

// redispatch moves the request to another server of b (option
// redispatch; retry.go decides when). It returns nil when no server can
// be had, srv released; the same srv when it is the only one.
func (s *session) redispatch(b *Backend, srv *server) *server {
	b.done(srv)
	s.pick.Exclude = srv.Server
	nsrv, _, _, perr := b.pick(&s.pick, s)
	if perr != pickOK {
		return nil
	}
	if nsrv != srv {
		s.rec.Redispatched = true
		b.Redispatch.Add(1)
		srv.Redispatch.Add(1)
	}
	s.rec.Server = nsrv.Name
	return nsrv
}

// roundTrip sends the request over x.up and relays the answer. k is the
// retryable failure that ended it (nothing was answered then), failNone
// once the client has its answer.
func (s *session) roundTrip(x *xchg) (keep bool, k failKind) {
	x.up.c.SetDeadline(after(serverTimeout(x.b)))
	ok, k := s.sendRequest(x)
	if !ok {
		return s.errKeep && k == failNone, k
	}
	ok, k = s.awaitFinal(x)
	if !ok {
		return s.errKeep && k == failNone, k
	}
	if s.mayRetry(x, failStatus) {
		// A status retry-on lists: the answer is dropped with its
		// connection and the request goes again (HAProxy's L7 retry).
		s.observeStatus(x)
		x.up.c.Close()
		return false, failStatus
	}
	return s.relayResponse(x), failNone
}

// observeStatus tells passive health about a response that is retried
// rather than relayed.
func (s *session) observeStatus(x *xchg) {
	if x.hook != nil && x.hook.Observe != nil {
		x.hook.Observe(x.srv.Server, Observation{Status: s.resp.Status})
	}
}

// sendRequest writes the request head and the body bytes already read,
// then streams the rest of the body unless Expect: 100-continue holds it.
func (s *session) sendRequest(x *xchg) (ok bool, k failKind) {
	s.errKeep = false
	o, err := s.requestHead(x)
	if err != nil {
		s.badChunk(x)
		return false, failNone
	}
	s.out = o
	s.rec.BytesIn = int64(x.consumed)
	x.tsend = time.Now()
	// Replayable: the whole request is in hand, nothing will be streamed.
	x.replayable = x.bodyDone
	if _, err := x.up.c.Write(o); err != nil {
		x.up.c.Close()
		if x.up.used && s.mayRetry(x, failStale) {
			// A reused connection the server closed meanwhile.
			return false, failStale
		}
		if s.mayRetry(x, failEmpty) {
			return false, failEmpty
		}
		s.serverFailed(x.b, x.srv, 502, logrec.TermServerAbort, logrec.StateConnect)
		return false, failNone
	}
	r := &s.req
	// Expect: 100-continue with the body still at the client: let the
	// server answer first so the client is not stuck waiting for us.
	x.expect = r.Expect100 && !x.bodyDone && x.consumed == r.HeadLen && r.Minor >= 1
	if !x.bodyDone && !x.expect {
		if !s.sendBody(x) {
			return false, failNone
		}
	}
	return true, failNone
}

// requestHead builds the head sent upstream from the sanitised view, then
// appends the request body bytes already in s.in.
func (s *session) requestHead(x *xchg) ([]byte, error) {
	r := &s.req
	s.compRequest(x.b) // compress.go: choose the algorithm (offload drops Accept-Encoding)
	o := s.out[:0]
	o = append(o, s.view.Method()...)
	o = append(o, ' ')
	o = append(o, s.view.URI()...)
	o = append(o, ' ')
	o = append(o, versionText(r.Minor)...)
	o = append(o, '\r', '\n')
	o = s.appendRequestFields(o, x)
	o = s.appendUniqueIDHeader(o) // uniqueid.go
	switch {
	case x.upgrade:
		o = append(o, "Connection: upgrade\r\n"...)
	case x.mode != KeepAlive:
		o = append(o, "Connection: close\r\n"...)
	case r.Minor == 0:
		o = append(o, "Connection: keep-alive\r\n"...)
	}
	o = append(o, '\r', '\n')
	return s.appendReadBody(o, x)
}

// appendRequestFields appends the view's fields (after del-header rules and
// the persistence hook), X-Forwarded-For, and the hop-by-hop fields the
// engine forwards itself.
func (s *session) appendRequestFields(o []byte, x *xchg) []byte {
	r := &s.req
	ff := x.b.cfg.ForwardFor
	if ff == nil {
		ff = s.f.cfg.ForwardFor
	}
	ffName := "x-forwarded-for"
	if ff != nil && ff.Header != "" {
		ffName = ff.Header
	}
	hasFF := false
	e := &s.reqE
	n := len(r.Fields)
	if e.on {
		n = len(e.f) // as the http-request rules left them (rewrite_hdr.go)
	}
	for i := 0; i < n; i++ {
		name, val := s.view.HeaderAt(i)
		if httpx.EqualFold(name, "upgrade") && !x.upgrade {
			continue
		}
		if s.comp.dropAE && httpx.EqualFold(name, "accept-encoding") {
			continue // compression offload
		}
		if ff != nil && httpx.EqualFold(name, ffName) {
			hasFF = true
		}
		if sn := x.b.cfg.SendName; sn != "" && httpx.EqualFold(name, sn) {
			continue // replaced by the server's name below (sendname.go)
		}
		if e.on && e.f[i].orig < 0 {
			o = httpx.AppendField(o, name, val) // added by a rule
			continue
		}
		if x.hook != nil && x.hook.RequestField != nil {
			var handled bool
			if o, handled = x.hook.RequestField(o, name, val, x.srv.Server); handled {
				continue
			}
		}
		o = httpx.AppendField(o, name, val)
	}
	o = s.appendHopFields(o, x.upgrade && !s.wsUpgrade)
	if ff != nil && !(ff.IfNone && hasFF) && !(ff.Except.IsValid() && ff.Except.Contains(s.src.Addr())) {
		o = append(o, ffName...)
		o = append(o, ':', ' ')
		o = s.src.Addr().AppendTo(o)
		o = append(o, '\r', '\n')
	}
	o = s.appendOriginalTo(o, x.b) // setsrc.go
	return appendSendName(o, x)    // last, as HAProxy adds it at connect time (sendname.go)
}

// appendReadBody appends the request body bytes already read behind the
// head and sets what remains to stream.
func (s *session) appendReadBody(o []byte, x *xchg) ([]byte, error) {
	r := &s.req
	x.consumed, x.kind, x.remain, x.bodyDone = r.HeadLen, r.RequestBody(), 0, true
	switch x.kind {
	case httpx.BodyLength:
		have := int64(s.n - r.HeadLen)
		take := min(have, r.ContentLength)
		o = append(o, s.in[r.HeadLen:r.HeadLen+int(take)]...)
		x.consumed += int(take)
		x.remain = r.ContentLength - take
		x.bodyDone = x.remain == 0
	case httpx.BodyChunked:
		s.ck.Reset()
		k, err := s.ck.Scan(s.in[r.HeadLen:s.n])
		if err != nil {
			return o, err
		}
		o = append(o, s.in[r.HeadLen:r.HeadLen+k]...)
		x.consumed += k
		x.bodyDone = s.ck.Done()
	}
	return o, nil
}

// sendBody streams the rest of the request body from the client to the
// server; on failure the client was answered and the record is due.
func (s *session) sendBody(x *xchg) bool {
	read, _, res, tail := s.copyBody(s.conn, x.up.c, s.clientTimeout(0), serverTimeout(x.b), x.kind, x.remain)
	s.rec.BytesIn += read
	if tail {
		// A pipelined request behind a chunked body: we do not keep it,
		// so the connection closes after this response.
		s.closeAfter = true
	}
	if res == copyDone {
		x.bodyDone = true
		return true
	}
	x.up.c.Close()
	switch res {
	case copyWriteErr, copyWriteTimeout:
		s.serverFailed(x.b, x.srv, 502, logrec.TermServerAbort, logrec.StateData)
		return false
	case copyBadChunk:
		s.rec.SetTerm(logrec.TermProxy, logrec.StateData)
		s.sendError(400, nil)
	case copyReadTimeout:
		s.rec.SetTerm(logrec.TermClientTimeout, logrec.StateData)
		s.sendError(408, nil)
	default:
		s.rec.SetTerm(logrec.TermClientAbort, logrec.StateData)
	}
	s.f.ReqErrors.Add(1)
	s.log(x.b, x.srv)
	return false
}

// awaitFinal reads response heads until the final one, relaying 1xx
// answers to HTTP/1.1 clients and releasing a held body on 100 Continue.
func (s *session) awaitFinal(x *xchg) (ok bool, k failKind) {
	r := &s.req
	x.sn = 0
	for {
		res, k := s.readResponseHead(x)
		if res != headFinal && res != headInterim {
			return false, k // retried (k set) or answered
		}
		if res == headFinal {
			break
		}
		hl := s.resp.HeadLen
		if r.Minor >= 1 {
			s.conn.SetWriteDeadline(after(s.clientTimeout(0)))
			nw, _ := s.conn.Write(s.sb[:hl])
			s.rec.BytesOut += countHTX(nw, s.sb[:hl])
			x.replayable = false // the client saw part of this exchange
		}
		copy(s.sb, s.sb[hl:x.sn])
		x.sn -= hl
		if s.resp.Status == 100 && x.expect {
			x.expect = false
			if x.sn > 0 {
				// The final answer came right behind the 100: the server
				// does not want the body, and s.sb (the copy buffer) holds
				// that answer. Relay it and close the client side.
				s.closeAfter = true
			} else if !s.sendBody(x) {
				return false, failNone
			}
		}
	}
	if x.expect {
		// Final answer without 100 Continue: the body never came, so the
		// client connection cannot carry another request.
		s.closeAfter = true
	}
	return true, failNone
}

type headResult uint8

const (
	headFinal    headResult = iota
	headInterim             // a 1xx other than 101
	headAnswered            // failed; the client was answered (or is closed unanswered)
	headRetry               // failed; retried as k
)

// readResponseHead reads and parses one response head into s.sb[:x.sn].
func (s *session) readResponseHead(x *xchg) (headResult, failKind) {
	up := x.up
	for {
		if x.sn > 0 {
			err := s.resp.Parse(s.sb[:x.sn], s.e.limits)
			if err == nil {
				if st := s.resp.Status; st >= 100 && st < 200 && st != 101 {
					return headInterim, failNone
				}
				return headFinal, failNone
			}
			if err != httpx.ErrIncomplete || x.sn == len(s.sb) {
				up.c.Close()
				return s.headFailed(x, failJunk, 502, logrec.TermProxy)
			}
		}
		m, err := up.c.Read(s.sb[x.sn:])
		x.sn += m
		if m > 0 || err == nil {
			continue
		}
		up.c.Close()
		switch {
		case isTimeout(err):
			return s.headFailed(x, failTimeout, 504, logrec.TermServerTimeout)
		case x.sn > 0:
			return s.headFailed(x, failJunk, 502, logrec.TermServerAbort)
		case up.used && s.replaySent(x):
			return headRetry, failStale
		case up.used && !s.mayRetry(x, failEmpty):
			return s.abortKeepAlive(x)
		}
		return s.headFailed(x, failEmpty, 502, logrec.TermServerAbort)
	}
}

// abortKeepAlive ends a request sent whole over a reused connection that
// the server closed without a byte of response, when it may not be
// replayed: the client connection (not its first request, since only
// those reuse one) is closed without an answer, as HAProxy 2.6's
// abort_keep_alive does, so that the client decides whether to send it
// again. Unlike HAProxy, which logs nothing then, the record is logged
// (SH, headers) so the event is not lost.
func (s *session) abortKeepAlive(x *xchg) (headResult, failKind) {
	s.closeAfter = true
	s.rec.SetTerm(logrec.TermServerAbort, logrec.StateHeaders)
	s.log(x.b, x.srv)
	return headAnswered, failNone
}

// headFailed ends a response head that failed as k: retried when allowed,
// else the client gets code.
func (s *session) headFailed(x *xchg, k failKind, code int, ev byte) (headResult, failKind) {
	if s.mayRetry(x, k) {
		if h := x.hook; h != nil && h.Observe != nil {
			h.Observe(x.srv.Server, Observation{Timeout: k == failTimeout, BadResp: k != failTimeout})
		}
		return headRetry, k
	}
	s.serverFailed(x.b, x.srv, code, ev, logrec.StateHeaders)
	return headAnswered, failNone
}

// relayResponse sends the final response to the client and decides what
// becomes of both connections. It returns whether the client's stays open.
func (s *session) relayResponse(x *xchg) bool {
	s.noteResponse(x)
	if s.respEnd != nil {
		return s.responseRuleEnd(x) // respaction.go
	}
	if s.scr.end != endNone {
		return s.scriptResponseEnd(x)
	}
	s.compResponse(x) // compress_relay.go: HAProxy's rules, an encoder if they apply
	s.cacheAfterComp(x)
	if s.transformsResponseBody() {
		return s.relayCompressed(x)
	}
	o, headLen, extra, rremain, respDone := s.responseHead(x)
	s.out = o
	if len(s.cache.pend) > 0 {
		s.cacheTee(o[headLen:], true) // cache.go
		s.cacheTee(extra, true)
	}
	base, headHTX, err := s.writeResponseHead(o, headLen, extra)
	if err != nil {
		x.up.c.Close()
		s.rec.SetTerm(logrec.TermClientAbort, logrec.StateData)
		s.f.ReqErrors.Add(1)
		s.log(x.b, x.srv)
		return false
	}
	if s.f.cfg.LogASAP {
		s.logASAP(x) // logasap.go
	}
	if x.switching {
		s.consume(x.consumed)
		s.tunnel(x.b, x.up)
		s.log(x.b, x.srv)
		return false
	}
	if !respDone {
		if !s.receiveBody(x, rremain) {
			x.up.c.Close()
			s.chunkedHTX(x.rkind, base, headHTX)
			s.log(x.b, x.srv)
			return false
		}
		if x.rkind == httpx.BodyEOF {
			x.srvKeep = false
		}
	}
	s.chunkedHTX(x.rkind, base, headHTX)
	s.endExchange(x)
	return x.clientKeep
}

// noteResponse records the final response: timers, status counters,
// passive health, captures, then the response rules.
func (s *session) noteResponse(x *xchg) {
	resp := &s.resp
	tr := time.Since(x.tsend)
	s.rec.Tr = ms(tr)
	x.srv.Server.ObserveRTime(tr)
	x.srv.Meters.Response(resp.Status)
	s.rec.Status = int32(resp.Status)
	if x.hook != nil && x.hook.Observe != nil {
		x.hook.Observe(x.srv.Server, Observation{Status: resp.Status})
	}
	for _, c := range s.f.cfg.CaptureResponse {
		v := lastField(&resp.Head, c.Name)
		s.rec.ResHeaders.Add(v, c.Len)
	}
	if cc := &s.f.cfg.CaptureCookie; cc.Name != "" {
		captureCookie(&s.rec.ResCookie, &resp.Head, "set-cookie", cc)
	}
	if connectionAuth(resp) {
		x.up.private, x.up.login = true, true
	}
	// The server answers the method it got (set-method may have changed
	// it, rewrite.go); a HEAD client never gets a body either way.
	isHead := httpx.EqualFold(s.req.Method.Of(s.in), "head") || httpx.EqualFold(s.view.Method(), "head")
	x.rkind = resp.ResponseBody(isHead)
	x.switching = x.upgrade && resp.Status == 101
	if len(x.b.cfg.Stick) > 0 {
		s.stickStoreResponse(x.b, x.srv) // before the rules edit the head (stickresp.go)
	}
	// Response rules: backend's, then frontend's; req. variables end here.
	s.scr.vars.EnterResponse()
	s.respEnd = nil
	s.runResponseRules(x.b.cfg.HTTPResponse)
	if s.respEnd != nil {
		return // deny/return: the replacement runs http-after-response
	}
	s.runResponseRules(s.f.cfg.HTTPResponse)
	if s.respEnd != nil || s.checkCache(x) { // checkcache.go
		return
	}
	s.runAfterResponse(x.b) // afterresp.go
	x.clientKeep = !s.closeAfter && x.mode != HTTPClose && !s.e.stopping.Load() && x.rkind != httpx.BodyEOF && !x.switching
	// A request body the server never got leaves its connection unusable.
	x.srvKeep = x.mode == KeepAlive && resp.KeepAlive() && x.rkind != httpx.BodyEOF && !x.switching && x.bodyDone
}

// connectionAuth reports a server starting a connection-bound login (NTLM,
// Negotiate): HAProxy's http-reuse safe then keeps the connection private to
// its client, never handing it to another one.
func connectionAuth(resp *httpx.Response) bool {
	if resp.Status != 401 && resp.Status != 407 {
		return false
	}
	for i := range resp.Fields {
		n := resp.Name(i)
		if !httpx.EqualFold(n, "www-authenticate") && !httpx.EqualFold(n, "proxy-authenticate") {
			continue
		}
		v := resp.Value(i)
		if hasPrefixFold(v, "ntlm") || hasPrefixFold(v, "negotiate") {
			return true
		}
	}
	return false
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && httpx.EqualFold(b[:len(prefix)], prefix)
}

// appendStatusLine appends the status line the client gets: the status
// (and reason) http-response set-status left, else the server's. The
// server's code is written from resp.Status, which the parser read from
// exactly the three digits after "HTTP/1.x " (100-999), so it is those
// bytes whether the head came from the server or from the cache.
func (s *session) appendStatusLine(o []byte) []byte {
	o = append(o, "HTTP/1.1 "...)
	if st := s.scr.status; st != 0 {
		o = strconv.AppendInt(o, int64(st), 10)
		o = append(o, ' ')
		if s.scr.reason != "" {
			o = append(o, s.scr.reason...)
		} else {
			o = append(o, httpx.StatusText(st)...)
		}
	} else {
		o = strconv.AppendInt(o, int64(s.resp.Status), 10)
		o = append(o, ' ')
		o = append(o, s.resp.Reason.Of(s.sb)...)
	}
	return append(o, '\r', '\n')
}

// responseHead builds the head for the client followed, when it fits, by
// the body bytes that came with the server's head (extra is what did not
// fit). respDone tells whether those bytes complete the body.
func (s *session) responseHead(x *xchg) (o []byte, headLen int, extra []byte, rremain int64, respDone bool) {
	o = s.out[:0]
	o = s.appendStatusLine(o)
	o = s.appendResponseFields(o, x)
	switch {
	case x.switching:
		o = append(o, "Connection: upgrade\r\n"...)
	case !x.clientKeep:
		o = append(o, "Connection: close\r\n"...)
	case s.req.Minor == 0:
		o = append(o, "Connection: keep-alive\r\n"...)
	}
	o = append(o, '\r', '\n')
	headLen = len(o)
	extra, rremain, respDone = s.responseExtra(x)
	if len(o)+len(extra) <= cap(o) {
		o = append(o, extra...)
		extra = nil
	}
	return o, headLen, extra, rremain, respDone
}

func (s *session) appendResponseFields(o []byte, x *xchg) []byte {
	resp := &s.resp
	h := (*respHead)(s) // the fields as the http-response rules left them
	e := &s.rspE
	for i, n := 0, h.NumHeaders(); i < n; i++ {
		orig := i
		if e.on {
			orig = int(e.f[i].orig)
		}
		name, val := h.HeaderAt(i)
		if orig < 0 {
			o = httpx.AppendField(o, name, val) // added by a rule
			continue
		}
		if !resp.Forwardable(orig, x.switching) {
			continue
		}
		if s.comp.on {
			var done bool
			if o, done = s.compField(o, name, val); done {
				continue
			}
		}
		if x.hook != nil && x.hook.ResponseField != nil {
			var done bool
			if o, done = x.hook.ResponseField(o, name, val, x.srv.Server); done {
				continue
			}
		}
		o = httpx.AppendField(o, name, val)
	}
	if x.hook != nil && x.hook.ResponseFields != nil {
		n := len(o)
		o = x.hook.ResponseFields(o, &s.view, resp.Status, x.srv.Server, x.persisted)
		s.noteCookieResponse(x, o[n:])
	}
	if s.comp.on {
		o = s.appendCompFields(o, x)
	}
	return o
}

// responseExtra returns the body bytes read with the response head that
// belong to this response, and what remains to read.
func (s *session) responseExtra(x *xchg) (extra []byte, rremain int64, respDone bool) {
	resp := &s.resp
	extra = s.sb[resp.HeadLen:x.sn]
	respDone = true
	switch x.rkind {
	case httpx.BodyLength:
		take := min(int64(len(extra)), resp.ContentLength)
		if int64(len(extra)) > take {
			x.srvKeep = false // the server sent more than it announced
		}
		extra = extra[:take]
		rremain = resp.ContentLength - take
		respDone = rremain == 0
	case httpx.BodyChunked:
		s.ck.Reset()
		k, err := s.ck.Scan(extra)
		if err != nil {
			x.srvKeep, x.clientKeep = false, false
			s.rec.SetTerm(logrec.TermServerAbort, logrec.StateData)
		}
		if k < len(extra) {
			x.srvKeep = false
		}
		extra = extra[:k]
		respDone = s.ck.Done()
	case httpx.BodyEOF:
		respDone = false
	case httpx.BodyNone:
		if len(extra) > 0 && !x.switching {
			x.srvKeep = false
		}
		if !x.switching {
			extra = extra[:0]
		}
	}
	return extra, rremain, respDone
}

// writeResponseHead writes o (head and leading body bytes) then extra,
// counting %B as HAProxy's HTX does (see htxHeadAdjust).
func (s *session) writeResponseHead(o []byte, headLen int, extra []byte) (base, headHTX int64, err error) {
	s.conn.SetWriteDeadline(after(s.clientTimeout(0)))
	base = s.rec.BytesOut
	nw, err := s.conn.Write(o)
	s.rec.BytesOut += int64(nw)
	headHTX = -1
	if nw >= headLen {
		adj := htxHeadAdjust(o[:headLen])
		s.rec.BytesOut -= int64(adj)
		headHTX = int64(headLen - adj)
	}
	if err == nil && len(extra) > 0 {
		nw, err = s.conn.Write(extra)
		s.rec.BytesOut += int64(nw)
	}
	return base, headHTX, err
}

// receiveBody relays the rest of the response body to the client.
func (s *session) receiveBody(x *xchg, remain int64) bool {
	_, written, res, _ := s.copyBody(x.up.c, s.conn, serverTimeout(x.b), s.clientTimeout(0), x.rkind, remain)
	s.rec.BytesOut += written
	return s.bodyEnded(x, res)
}

// bodyEnded records how a response body relay ended (the log's
// termination state and the backend's and server's response errors);
// true when the body was relayed whole. Every relay path (plain, spliced,
// compressed) ends here.
func (s *session) bodyEnded(x *xchg, res copyResult) bool {
	switch res {
	case copyDone:
		return true
	case copyBadChunk:
		s.rec.SetTerm(logrec.TermServerAbort, logrec.StateData)
		x.b.RespErrors.Add(1)
	case copyWriteErr:
		s.rec.SetTerm(logrec.TermClientAbort, logrec.StateData)
	case copyWriteTimeout:
		s.rec.SetTerm(logrec.TermClientTimeout, logrec.StateData) // cD, as HAProxy
	case copyReadTimeout:
		s.rec.SetTerm(logrec.TermServerTimeout, logrec.StateData)
		x.b.RespErrors.Add(1)
		x.srv.RespErrors.Add(1)
	default:
		// Truncated body: the client sees the connection close before
		// the announced end, as with HAProxy.
		s.rec.SetTerm(logrec.TermServerAbort, logrec.StateData)
		x.b.RespErrors.Add(1)
		x.srv.RespErrors.Add(1)
	}
	return false
}

// endExchange accounts the bytes, keeps or closes the server connection
// and marks the record due.
func (s *session) endExchange(x *xchg) {
	srv, b, up := x.srv, x.b, x.up
	srv.BytesIn.Add(uint64(s.rec.BytesIn))
	srv.BytesOut.Add(uint64(s.rec.BytesOut))
	b.BytesIn.Add(uint64(s.rec.BytesIn))
	b.BytesOut.Add(uint64(s.rec.BytesOut))
	switch {
	case x.srvKeep && x.clientKeep:
		up.used = true
		s.up = up
	case x.srvKeep:
		up.used = true
		srv.putIdle(up, time.Now())
	default:
		up.c.Close()
	}
	s.cacheCommit() // cache.go: the response was relayed whole
	s.consume(x.consumed)
	s.log(b, srv)
}

func (s *session) badChunk(x *xchg) {
	s.e.log.Debug("bad chunked request body", "frontend", s.f.Name)
	s.f.ReqErrors.Add(1)
	s.putBack(x.srv, x.up)
	s.rec.SetTerm(logrec.TermProxy, logrec.StateRequest)
	s.sendError(400, nil)
	s.log(x.b, x.srv)
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

func (s *session) runResponseRules(rules []*HTTPRule) {
	for _, rule := range rules {
		if rule.Cond != nil && !s.responseCond(rule.Cond) {
			continue
		}
		switch rule.Action {
		case ActScript:
			if s.scriptVerdictResponse(s.runScript(rule, true)) {
				return
			}
			continue
		case ActActor:
			if rule.Actor.Do(s, true).Stop {
				return
			}
			continue
		case ActDeny, ActReturn:
			s.respEnd = rule
			return
		}
		s.applyHeaderRule(rule, true)
	}
}
