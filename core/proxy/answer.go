package proxy

import (
	"bytes"
	"net"
	"time"

	"github.com/varde-lb/varde/core/httpx"
	"github.com/varde-lb/varde/core/logrec"
)

func (s *session) redirect(rule *HTTPRule) bool {
	code := rule.Status
	if code == 0 {
		code = 302
	}
	o := s.out[:0]
	o = httpx.AppendStatusLine(o, code, httpx.StatusText(code))
	o = append(o, "content-length: 0\r\nlocation: "...)
	switch rule.RedirectKind {
	case RedirectPrefix:
		if rule.Target != "/" { // HAProxy: prefix "/" redirects to the same path
			o = rule.appendTarget(o, s)
		}
		o = rule.appendPath(o, s)
	case RedirectScheme:
		o = rule.appendTarget(o, s)
		o = append(o, "://"...)
		if h, ok := s.req.Field("host"); ok {
			o = append(o, h...)
		}
		o = rule.appendPath(o, s)
	default:
		o = rule.appendTarget(o, s)
	}
	if code == 302 || code == 303 || code == 307 {
		o = append(o, "\r\ncache-control: no-cache"...)
	}
	if rule.SetCookie != "" {
		o = append(o, "\r\nset-cookie: "...)
		o = append(o, rule.SetCookie...)
	}
	o = append(o, '\r', '\n')
	// The body, if any, was not read: the connection cannot be reused.
	keep := !s.closeAfter && s.req.RequestBody() == httpx.BodyNone && !s.e.stopping.Load()
	if !keep {
		o = append(o, "connection: close\r\n"...)
	}
	o = append(o, '\r', '\n')
	s.out = o
	n, sent, _ := s.writeLocal(o, code, nil)
	s.rec.BytesOut += countHTX(n, sent)
	// HAProxy 2.6 logs no captured request cookie for a redirect (it does
	// for deny); measured, see TestCaptureCookieLogged.
	s.rec.ReqCookie = logrec.Cookie{}
	s.rec.SetTerm(logrec.TermLocal, logrec.StateRequest)
	s.rec.BytesIn = int64(s.req.HeadLen)
	s.consume(s.req.HeadLen)
	s.log(nil, nil)
	return keep
}

// appendPath appends the request's path for a prefix or scheme redirect,
// as HAProxy 2.6 builds it (http_apply_redirect_rule): the path and query
// of the target (of an absolute-form target too), "/" when there is none,
// the query cut at the first '?' with drop-query, and a '/' appended with
// append-slash when the location does not end with one yet (after the
// query, when it is kept: HAProxy's own order).
func (r *HTTPRule) appendPath(o []byte, s *session) []byte {
	path := requestPath(s.req.Target.Of(s.in))
	if r.DropQuery {
		if i := bytes.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
	}
	if len(path) == 0 {
		path = slash
	}
	o = append(o, path...)
	if r.AppendSlash && o[len(o)-1] != '/' {
		o = append(o, '/')
	}
	return o
}

var slash = []byte("/")

// requestPath is the path and query of a request target: all of an
// origin-form target, what follows the authority of an absolute-form one
// (nothing when it has no path), nothing for other forms.
func requestPath(t []byte) []byte {
	if len(t) > 0 && t[0] == '/' {
		return t
	}
	i := bytes.Index(t, []byte("://"))
	if i < 0 {
		return nil
	}
	rest := t[i+3:]
	if j := bytes.IndexByte(rest, '/'); j >= 0 {
		return rest[j:]
	}
	return nil
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
	n, sent, err := s.writeLocal(keepAlivePages[code], code, b)
	s.rec.BytesOut += countHTX(n, sent)
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
	n, sent, _ := s.writeLocal(s.errorPage(code, b), code, b)
	s.rec.BytesOut += countHTX(n, sent)
}
