package proxy

import (
	"errors"
	"strconv"
	"time"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/httpx"
)

// http-request wait-for-body time T [at-least N], as HAProxy 2.6's
// http_wait_for_msg_body: the rule waits until the whole body is in the
// request buffer, the buffer is full, or (at-least) N body bytes came,
// then the rules after it run and the req.body fetches see it. If T
// passes first, the client gets a 408 and the connection is closed (log
// state cD). A request without a body, or sent with Expect:
// 100-continue (its client waits for the server's 100), does not wait.

func init() {
	registerActor(buildWaitBody, "wait-for-body")
}

type waitBodyActor struct {
	time    time.Duration
	atLeast int64
}

func buildWaitBody(r *config.HTTPRule) (Actor, error) {
	if r.WaitBody == nil {
		return nil, errors.New("wait-for-body without its time")
	}
	return &waitBodyActor{time: r.WaitBody.Time, atLeast: r.WaitBody.AtLeast}, nil
}

func (a *waitBodyActor) Do(s *session, resp bool) Verdict {
	if resp || s.waitBody(a.time, a.atLeast, nil) {
		return Verdict{}
	}
	return Verdict{Stop: true, Done: true}
}

// waitBody reads the body into s.in (see above); false: the client was
// answered (408) or left, the transaction is over.
func (s *session) waitBody(d time.Duration, atLeast int64, b *Backend) bool {
	r := &s.req
	if r.Expect100 || r.RequestBody() == httpx.BodyNone {
		return true
	}
	defer s.conn.SetReadDeadline(time.Time{})
	return s.readBody(time.Now().Add(d), atLeast, b)
}

// bufferRequest is option http-buffer-request at the stage HAProxy's
// analyser runs it: a frontend's before its http-request rules, a
// backend's before the backend's, so that the rules' req.body fetches see
// the body. It waits as wait-for-body does, under timeout http-request,
// except for HTTP/2 streams (retry_buffer.go has the same rule).
func (s *session) bufferRequest(b *Backend) bool {
	if s.h2 {
		return true
	}
	return s.waitBody(s.clientTimeout(s.f.cfg.Timeouts.HTTPRequest), 0, b)
}

// ReqBody implements sample.BodyReader: the body bytes in the buffer.
func (v *reqView) ReqBody() []byte { return v.s.bufferedBody() }

// bufferedBody is the request body in s.in so far: at most Content-Length
// bytes, or the data of the chunks received (dechunked into s.bodyDec).
func (s *session) bufferedBody() []byte {
	r := &s.req
	if r.HeadLen > s.n {
		return nil
	}
	b := s.in[r.HeadLen:s.n]
	switch r.RequestBody() {
	case httpx.BodyLength:
		if int64(len(b)) > r.ContentLength {
			b = b[:r.ContentLength]
		}
		return b
	case httpx.BodyChunked:
		s.bodyDec = dechunkBody(s.bodyDec[:0], b)
		return s.bodyDec
	}
	return nil
}

// dechunkBody appends the data of the chunks in p (the last one possibly
// incomplete) to dst; it stops at the last chunk or at anything malformed
// (the exchange refuses a malformed body on its own).
func dechunkBody(dst, p []byte) []byte {
	for len(p) > 0 {
		i := 0
		for i < len(p) && p[i] != ';' && p[i] != '\r' && p[i] != ' ' && p[i] != '\t' {
			i++
		}
		size, err := strconv.ParseInt(string(p[:i]), 16, 64)
		if err != nil || size < 0 {
			return dst
		}
		eol := indexCRLF(p)
		if eol < 0 || size == 0 {
			return dst
		}
		p = p[eol+2:]
		if int64(len(p)) < size {
			return append(dst, p...)
		}
		dst = append(dst, p[:size]...)
		p = p[size:]
		if len(p) < 2 {
			return dst
		}
		p = p[2:]
	}
	return dst
}

func indexCRLF(p []byte) int {
	for i := 0; i+1 < len(p); i++ {
		if p[i] == '\r' && p[i+1] == '\n' {
			return i
		}
	}
	return -1
}
