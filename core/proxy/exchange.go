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
	b         *Backend
	srv       *server
	up        *upConn
	hook      *Hook
	mode      ConnMode
	upgrade   bool // the client asked for a protocol switch
	persisted bool // the server came from stickiness
	isRetry   bool // this is the replay on a fresh connection

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

// forward sends the request to a server of b and relays the response.
func (s *session) forward(b *Backend) bool {
	r := &s.req
	mode := connMode(s.f, b)
	if mode == HTTPClose {
		s.closeAfter = true
	}
	b.connOpen()
	s.heldBe = b
	defer func() {
		b.CurConns.Add(-1)
		s.heldBe, s.heldSrv = nil, nil
	}()
	srv, persisted, ok := s.pickServer(b, &s.view)
	if !ok {
		return s.answerB(503, b, nil)
	}
	tc := time.Now()
	up, err := s.connect(b, &srv)
	s.heldSrv = srv
	s.rec.Tc = ms(time.Since(tc))
	if err != nil {
		s.connectFailed(err, srv)
		keep := s.answerB(503, b, srv)
		if srv != nil {
			b.done(srv)
		}
		return keep
	}
	s.rec.Server = srv.Name
	s.rec.ServerAddr = srv.Addr
	srv.bind(s, s.lane, s.conn, up)
	s.x = xchg{b: b, srv: srv, up: up, hook: b.hook.Load(), mode: mode,
		upgrade: r.ConnUpgrade && r.Upgrade, persisted: persisted}
	keep := s.exchange(&s.x)
	srv.unbind(s, s.lane)
	b.done(srv)
	s.x = xchg{}
	return keep
}

// pickServer chooses b's server for this connection (HTTP and TCP alike)
// and records the queue time; on failure the record says why.
func (s *session) pickServer(b *Backend, req core.Request) (*server, bool, bool) {
	s.pick.Req, s.pick.Src, s.pick.Exclude = req, s.src.Addr(), nil
	srv, persisted, qwait, perr := b.pick(&s.pick, s)
	s.rec.Tw = ms(qwait)
	if perr != pickOK {
		if perr == pickQueueTimeout {
			s.rec.SetTerm(logrec.TermServerTimeout, logrec.StateQueue)
		} else {
			s.rec.SetTerm(logrec.TermServerAbort, logrec.StateConnect)
		}
		return nil, false, false
	}
	s.rec.Server = srv.Name
	srv.Total.Add(1)
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

// connect returns a connection to *srvp: the one this client already holds
// to that server, an idle one (not for a client's first request, as in
// HAProxy's `http-reuse safe`), or a new one. On failure it retries and
// redispatches, updating *srvp.
func (s *session) connect(b *Backend, srvp **server) (*upConn, error) {
	srv := *srvp
	sni := s.serverSNI(srv)
	if s.up != nil {
		if s.up.s == srv && s.up.sni == sni {
			u := s.up
			s.up = nil
			return u, nil
		}
		s.up.s.putIdle(s.up, time.Now())
		s.up = nil
	}
	if s.nreq > 1 {
		if u := srv.getIdleFor(s.lane, sni); u != nil {
			return u, nil
		}
	}
	for tries := 0; ; {
		u, err := s.dialServer(srv, b.cfg.Timeouts.Connect, sni)
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
			if srv = s.redispatch(b, srv); srv == nil {
				*srvp = nil
				return nil, err
			}
			*srvp = srv
			sni = s.serverSNI(srv)
		}
	}
}

// redispatch is HAProxy's option redispatch: the last retry goes to
// another server (never under force-persist). It returns nil when no
// server can be had.
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

// exchange is the exchange loop: one round trip, and when a reused
// connection turns out to have been closed by the server before it
// processed anything, one replay on a fresh connection. It returns whether
// the client connection stays open.
func (s *session) exchange(x *xchg) bool {
	for {
		keep, replay := s.roundTrip(x)
		if replay == logrec.StateNone {
			return keep
		}
		nu, err := s.dialServer(x.srv, x.b.cfg.Timeouts.Connect, s.serverSNI(x.srv))
		if err != nil {
			return s.serverFailed(x.b, x.srv, 502, logrec.TermServerAbort, replay)
		}
		x.up, x.isRetry = nu, true
		x.srv.bind(s, s.lane, s.conn, nu)
	}
}

// roundTrip sends the request over x.up and relays the answer. replay is
// the state a failed replay is logged in, StateNone when no replay is due.
func (s *session) roundTrip(x *xchg) (keep bool, replay byte) {
	x.up.c.SetDeadline(time.Now().Add(serverTimeout(x.b)))
	ok, replay := s.sendRequest(x)
	if !ok {
		return s.errKeep && replay == logrec.StateNone, replay
	}
	ok, replay = s.awaitFinal(x)
	if !ok {
		return s.errKeep && replay == logrec.StateNone, replay
	}
	return s.relayResponse(x), logrec.StateNone
}

// sendRequest writes the request head and the body bytes already read,
// then streams the rest of the body unless Expect: 100-continue holds it.
func (s *session) sendRequest(x *xchg) (ok bool, replay byte) {
	s.errKeep = false
	o, err := s.requestHead(x)
	if err != nil {
		s.badChunk(x)
		return false, logrec.StateNone
	}
	s.out = o
	s.rec.BytesIn = int64(x.consumed)
	x.tsend = time.Now()
	if _, err := x.up.c.Write(o); err != nil {
		x.up.c.Close()
		if x.up.used && x.bodyDone && !x.isRetry {
			// A reused connection the server closed meanwhile: safe to
			// replay on a fresh one since nothing was processed.
			return false, logrec.StateConnect
		}
		s.serverFailed(x.b, x.srv, 502, logrec.TermServerAbort, logrec.StateConnect)
		return false, logrec.StateNone
	}
	r := &s.req
	// Expect: 100-continue with the body still at the client: let the
	// server answer first so the client is not stuck waiting for us.
	x.expect = r.Expect100 && !x.bodyDone && x.consumed == r.HeadLen && r.Minor >= 1
	if !x.bodyDone && !x.expect {
		if !s.sendBody(x) {
			return false, logrec.StateNone
		}
	}
	return true, logrec.StateNone
}

// requestHead builds the head sent upstream from the sanitised view, then
// appends the request body bytes already in s.in.
func (s *session) requestHead(x *xchg) ([]byte, error) {
	r := &s.req
	o := s.out[:0]
	o = append(o, s.view.Method()...)
	o = append(o, ' ')
	o = append(o, s.view.URI()...)
	o = append(o, ' ')
	o = append(o, versionText(r.Minor)...)
	o = append(o, '\r', '\n')
	o = s.appendRequestFields(o, x)
	o = s.reqE.appendAdds(o, s)
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
	for i := range r.Fields {
		name, val := r.Name(i), r.Value(i)
		if httpx.EqualFold(name, "upgrade") && !x.upgrade {
			continue
		}
		if s.reqE.nDel > 0 && s.reqE.deleted(name) {
			continue
		}
		if ff != nil && httpx.EqualFold(name, ffName) {
			hasFF = true
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
	return o
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
	case copyWriteErr:
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
func (s *session) awaitFinal(x *xchg) (ok bool, replay byte) {
	r := &s.req
	x.sn = 0
	for {
		interim, res := s.readResponseHead(x)
		if res == retryFresh {
			return false, logrec.StateHeaders
		}
		if res != headOK {
			return false, logrec.StateNone
		}
		if !interim {
			break
		}
		hl := s.resp.HeadLen
		if r.Minor >= 1 {
			s.conn.SetWriteDeadline(time.Now().Add(s.clientTimeout(0)))
			nw, _ := s.conn.Write(s.sb[:hl])
			s.rec.BytesOut += countHTX(nw, s.sb[:hl])
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
				return false, logrec.StateNone
			}
		}
	}
	if x.expect {
		// Final answer without 100 Continue: the body never came, so the
		// client connection cannot carry another request.
		s.closeAfter = true
	}
	return true, logrec.StateNone
}

type headResult uint8

const (
	headOK headResult = iota
	headFailed
	retryFresh
)

// readResponseHead reads and parses one response head into s.sb[:x.sn].
// On headFailed the client was answered.
func (s *session) readResponseHead(x *xchg) (interim bool, res headResult) {
	up := x.up
	for {
		if x.sn > 0 {
			err := s.resp.Parse(s.sb[:x.sn], s.e.limits)
			if err == nil {
				st := s.resp.Status
				return st >= 100 && st < 200 && st != 101, headOK
			}
			if err != httpx.ErrIncomplete || x.sn == len(s.sb) {
				up.c.Close()
				s.serverFailed(x.b, x.srv, 502, logrec.TermProxy, logrec.StateHeaders)
				return false, headFailed
			}
		}
		m, err := up.c.Read(s.sb[x.sn:])
		x.sn += m
		if m > 0 || err == nil {
			continue
		}
		up.c.Close()
		if isTimeout(err) {
			s.serverFailed(x.b, x.srv, 504, logrec.TermServerTimeout, logrec.StateHeaders)
			return false, headFailed
		}
		if x.sn == 0 && up.used && !x.isRetry && x.bodyDone && s.req.RequestBody() == httpx.BodyNone {
			return false, retryFresh
		}
		s.serverFailed(x.b, x.srv, 502, logrec.TermServerAbort, logrec.StateHeaders)
		return false, headFailed
	}
}

// relayResponse sends the final response to the client and decides what
// becomes of both connections. It returns whether the client's stays open.
func (s *session) relayResponse(x *xchg) bool {
	s.noteResponse(x)
	if s.scr.end != endNone {
		return s.scriptResponseEnd(x)
	}
	o, headLen, extra, rremain, respDone := s.responseHead(x)
	s.out = o
	base, headHTX, err := s.writeResponseHead(o, headLen, extra)
	if err != nil {
		x.up.c.Close()
		s.rec.SetTerm(logrec.TermClientAbort, logrec.StateData)
		s.f.ReqErrors.Add(1)
		s.log(x.b, x.srv)
		return false
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
	s.rec.Status = int32(resp.Status)
	s.f.status(resp.Status)
	x.b.status(resp.Status)
	if x.hook != nil && x.hook.Observe != nil {
		x.hook.Observe(x.srv.Server, Observation{Status: resp.Status})
	}
	for _, c := range s.f.cfg.CaptureResponse {
		v, _ := resp.Field(c.Name)
		s.rec.ResHeaders.Add(v, c.Len)
	}
	if cc := &s.f.cfg.CaptureCookie; cc.Name != "" {
		captureCookie(&s.rec.ResCookie, &resp.Head, "set-cookie", cc)
	}
	if connectionAuth(resp) {
		x.up.private = true
	}
	isHead := httpx.EqualFold(s.req.Method.Of(s.in), "head")
	x.rkind = resp.ResponseBody(isHead)
	x.switching = x.upgrade && resp.Status == 101
	// Response rules: backend's, then frontend's.
	s.runResponseRules(x.b.cfg.HTTPResponse)
	s.runResponseRules(s.f.cfg.HTTPResponse)
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

// responseHead builds the head for the client followed, when it fits, by
// the body bytes that came with the server's head (extra is what did not
// fit). respDone tells whether those bytes complete the body.
func (s *session) responseHead(x *xchg) (o []byte, headLen int, extra []byte, rremain int64, respDone bool) {
	resp := &s.resp
	o = s.out[:0]
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
		o = append(o, s.sb[9:12]...)
		o = append(o, ' ')
		o = append(o, resp.Reason.Of(s.sb)...)
	}
	o = append(o, '\r', '\n')
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
	for i := range resp.Fields {
		if !resp.Forwardable(i, x.switching) {
			continue
		}
		name := resp.Name(i)
		if s.rspE.nDel > 0 && s.rspE.deleted(name) {
			continue
		}
		if x.hook != nil && x.hook.ResponseField != nil {
			var done bool
			if o, done = x.hook.ResponseField(o, name, resp.Value(i), x.srv.Server); done {
				continue
			}
		}
		o = httpx.AppendField(o, name, resp.Value(i))
	}
	o = s.rspE.appendAdds(o, s)
	if x.hook != nil && x.hook.ResponseFields != nil {
		o = x.hook.ResponseFields(o, &s.view, resp.Status, x.srv.Server, x.persisted)
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
	s.conn.SetWriteDeadline(time.Now().Add(s.clientTimeout(0)))
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
	switch res {
	case copyDone:
		return true
	case copyBadChunk:
		s.rec.SetTerm(logrec.TermServerAbort, logrec.StateData)
		x.b.RespErrors.Add(1)
	case copyWriteErr:
		s.rec.SetTerm(logrec.TermClientAbort, logrec.StateData)
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
		if rule.Action == ActScript {
			if s.scriptVerdictResponse(s.runScript(rule, true)) {
				return
			}
			continue
		}
		s.rspE.apply(rule)
	}
}
