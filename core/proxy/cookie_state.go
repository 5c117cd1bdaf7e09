package proxy

import (
	"bytes"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/httpx"
)

// CookieLog is the part of a backend's Hook that fills the cookie
// characters of the termination state (%tsc's third and fourth), as
// HAProxy logs them for a backend with cookie persistence.
type CookieLog struct {
	// Request is the third character for a request (persist.Cookie's
	// RequestState).
	Request func(req core.Request, servers []*core.Server) byte
	// Response is the fourth: whether the server set our cookie, whether
	// varde inserted one, whether the cookie chose the server.
	Response func(serverSet, inserted, persisted bool) byte
	// SetsOurs reports whether a Set-Cookie value sets our cookie.
	SetsOurs func(value []byte) bool
}

// noteCookieRequest sets the third character when b logs cookies, and
// the fourth to N until the response says otherwise.
func (s *session) noteCookieRequest(b *Backend, req core.Request) {
	if h := b.hook.Load(); h != nil && h.Cookie != nil && req != nil {
		st := h.Cookie.Request(req, b.Servers())
		s.rec.Term[2], s.rec.Term[3] = st, 'N'
		if st == '-' {
			s.rec.Term[3] = '-'
		}
	}
}

// noteCookieResponse sets the fourth character once the response head is
// built; added is what the hook's ResponseFields appended.
func (s *session) noteCookieResponse(x *xchg, added []byte) {
	if x.hook == nil || x.hook.Cookie == nil {
		return
	}
	serverSet := false
	for i := range s.resp.Fields {
		if httpx.EqualFold(s.resp.Name(i), "set-cookie") && x.hook.Cookie.SetsOurs(s.resp.Value(i)) {
			serverSet = true
			break
		}
	}
	inserted := bytes.Contains(added, setCookiePrefix)
	s.rec.Term[3] = x.hook.Cookie.Response(serverSet, inserted, x.persisted)
}

var setCookiePrefix = []byte("Set-Cookie:")
