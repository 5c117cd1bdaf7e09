package proxy

import (
	"bytes"

	"github.com/varde-lb/varde/core/httpx"
	"github.com/varde-lb/varde/core/logrec"
)

// `server NAME ADDR redir PREFIX`, as HAProxy 2.6's
// http_perform_server_redirect: once the server is chosen for a GET or
// HEAD request (the method as received), the client gets
//
//	HTTP/1.1 302 Found / Cache-Control: no-cache / Connection: close /
//	Content-Length: 0 / Location: PREFIX + the request's path and query
//
// and the connection closes; nothing is sent to the server. PREFIX "/"
// alone keeps the path as is. A request whose target has no path (`*`,
// an authority alone) is proxied normally, as are other methods.
// http-after-response rules apply to the 302 (writeLocal), and the log
// names the server with status 302 and termination state "LC".

// serverRedirect answers x's request with the server's redirect and
// reports whether it did.
func (s *session) serverRedirect(x *xchg) bool {
	m := s.req.Method.Of(s.in)
	if !bytes.Equal(m, []byte("GET")) && !bytes.Equal(m, []byte("HEAD")) {
		return false
	}
	path, ok := targetPath(s.view.URI())
	if !ok {
		return false
	}
	o := s.out[:0]
	o = httpx.AppendStatusLine(o, 302, "Found")
	o = append(o, "cache-control: no-cache\r\nconnection: close\r\ncontent-length: 0\r\nlocation: "...)
	if x.srv.redir != "/" {
		o = append(o, x.srv.redir...)
	}
	o = append(o, path...)
	o = append(o, "\r\n\r\n"...)
	s.out = o
	s.rec.Server = x.srv.Name
	s.rec.SetTerm(logrec.TermLocal, logrec.StateConnect)
	n, sent, _ := s.writeLocal(o, 302, x.b)
	s.rec.BytesOut += countHTX(n, sent)
	s.rec.BytesIn = int64(s.req.HeadLen)
	s.linger = true // the request's body, if any, was not read
	s.log(x.b, x.srv)
	return true
}

// targetPath is the request target from its first '/' on (HAProxy's
// http_parse_path): the target itself in origin form, what follows the
// authority in absolute form; false when there is no path.
func targetPath(t []byte) ([]byte, bool) {
	if len(t) > 0 && t[0] == '/' {
		return t, true
	}
	i := bytes.Index(t, []byte("://"))
	if i <= 0 {
		return nil, false
	}
	rest := t[i+3:]
	j := bytes.IndexByte(rest, '/')
	if j < 0 {
		return nil, false
	}
	return rest[j:], true
}
