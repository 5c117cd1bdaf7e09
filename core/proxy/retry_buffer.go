package proxy

import (
	"time"

	"github.com/varde-lb/varde/core/httpx"
	"github.com/varde-lb/varde/core/logrec"
)

// option http-buffer-request (frontend or backend): before a server is
// picked, varde waits for the whole request body, up to what its request
// buffer holds (tune.bufsize) and within timeout http-request. A body
// that fits is then sent with the head, which makes the request
// replayable (retry.go): retry-on may retry it, like a request without a
// body. A larger body is streamed as without the option. Not applied to
// requests sent with Expect: 100-continue (their client waits for the
// server's 100 before sending the body) nor to HTTP/2 streams.

// bufferBody waits for the body in s.in. It returns false when the client
// was answered (408 on timeout) or left; the record is then due.
func (s *session) bufferBody(b *Backend) bool {
	r := &s.req
	if s.h2 || r.Expect100 || !(s.f.cfg.BufferRequest || b.cfg.BufferRequest) {
		return true
	}
	return s.readBody(after(s.clientTimeout(s.f.cfg.Timeouts.HTTPRequest)), 0, b)
}

// readBody reads the request body into s.in until it is complete, s.in is
// full, or (atLeast > 0) atLeast bytes of it are there, each read under
// deadline dl (zero: none). It returns false when the client was answered
// (408 on timeout) or left; the record is then logged. Shared by
// option http-buffer-request and http-request wait-for-body
// (waitbody.go), which differ only in the deadline and the bound.
func (s *session) readBody(dl time.Time, atLeast int64, b *Backend) bool {
	for !s.bodyInBuffer() && s.n < len(s.in) && !(atLeast > 0 && int64(len(s.bufferedBody())) >= atLeast) {
		s.conn.SetReadDeadline(dl)
		m, err := s.conn.Read(s.in[s.n:])
		s.n += m
		if m > 0 || err == nil {
			continue
		}
		s.f.ReqErrors.Add(1)
		s.closeAfter = true
		if isTimeout(err) {
			s.rec.SetTerm(logrec.TermClientTimeout, logrec.StateData)
			s.sendError(408, nil)
		} else {
			s.rec.SetTerm(logrec.TermClientAbort, logrec.StateData)
		}
		s.log(b, nil)
		return false
	}
	return true
}

// bodyInBuffer reports whether the request's body is complete in s.in
// (or is malformed: the exchange then answers 400 as usual).
func (s *session) bodyInBuffer() bool {
	r := &s.req
	switch r.RequestBody() {
	case httpx.BodyLength:
		return int64(s.n-r.HeadLen) >= r.ContentLength
	case httpx.BodyChunked:
		s.ck.Reset()
		_, err := s.ck.Scan(s.in[r.HeadLen:s.n])
		return err != nil || s.ck.Done()
	}
	return true
}
