package proxy

import (
	"bytes"

	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/core/httpx"
)

// `option checkcache` (a backend option): a response a shared cache could
// store that carries a Set-Cookie is blocked, so that one client's cookie
// is never served to others. HAProxy 2.6 (http_ana.c, after the
// http-response rules): the transaction is cacheable when the method is
// GET, HEAD, OPTIONS or TRACE and the status is one RFC 7231 makes
// cacheable by default; the response's first Pragma equal to "no-cache"
// makes it not cacheable; its Cache-Control values, in order, "public"
// make it cacheable (whatever the method and status), "private",
// "no-cache", "no-store", "max-age=0", "s-maxage=0" not, and
// `no-cache="set-cookie..."` keeps it cacheable but not with a cookie.
// At the end (HAProxy 2.6.10 and later, commit 879debeec), a response
// with no freshness information (a Cache-Control value starting with
// max-age or s-maxage, other than max-age=0, or an Expires field) and no
// validator (ETag, Last-Modified) is not cacheable.
//
// A blocked response is replaced as by an http-response deny, logged PH
// and counted as a denied response, and an alert names the backend and
// server in the backend's log and the process log. HAProxy's
// documentation says the replacement is a 502; HAProxy 2.6 (measured,
// TestCheckcacheAgainstHAProxy) answers with its error page for the
// server's status instead (the "200 OK Service ready" page for a 200, the
// 500 page for a status it has no page for), and varde does the same.

// checkcachePages are the statuses a blocked response can have for which
// HAProxy 2.6 has an error page; the others get the 500 page.
var checkcachePages = map[int]bool{200: true, 404: true, 405: true, 410: true, 501: true}

// checkcacheDeny is the deny that replaces a blocked response of status.
func checkcacheDeny(status int) *HTTPRule {
	if !checkcachePages[status] {
		status = 500
	}
	return &HTTPRule{Action: ActDeny, Status: status}
}

// checkCache blocks x's response when the backend checks for cacheable
// cookies and it is one; it reports whether it did.
func (s *session) checkCache(x *xchg) bool {
	if !x.b.cfg.CheckCache || !s.cacheableCookie() {
		return false
	}
	s.respEnd = checkcacheDeny(s.resp.Status)
	srv := "<dispatch>"
	if x.srv != nil {
		srv = x.srv.Name
	}
	msg := "Blocking cacheable cookie in response from instance " + x.b.Name + ", server " + srv + "."
	s.e.log.Error(msg)
	if es, ok := s.e.sink.(health.EventSink); ok {
		// An admin-style event: the text as is, at LOG_ALERT.
		es.HealthEvent(health.ResolveEvent(x.b.Name, srv, false, msg, true))
	}
	return true
}

// cacheableCookie reports whether the response, as the rules left it, is
// cacheable with the Set-Cookie (or Set-Cookie2) it carries.
func (s *session) cacheableCookie() bool {
	m := s.view.Method()
	cacheable := httpx.EqualFold(m, "get") || httpx.EqualFold(m, "head") ||
		httpx.EqualFold(m, "options") || httpx.EqualFold(m, "trace")
	switch s.resp.Status {
	case 200, 203, 204, 206, 300, 301, 404, 405, 410, 414, 501:
	default:
		cacheable = false
	}
	if s.pragmaNoCache() {
		return false // not cacheable, and HAProxy reads no Cache-Control then
	}
	withCookie, setCookie, fresh := cacheable, false, false
	s.eachRespField(func(name, value []byte) bool {
		switch {
		case httpx.EqualFold(name, "set-cookie"), httpx.EqualFold(name, "set-cookie2"):
			setCookie = true
		case httpx.EqualFold(name, "expires"), httpx.EqualFold(name, "etag"), httpx.EqualFold(name, "last-modified"):
			fresh = true
		case httpx.EqualFold(name, "cache-control"):
			for _, v := range bytes.Split(value, []byte(",")) {
				v = bytes.TrimSpace(v)
				cacheable, withCookie = cacheControl(v, cacheable, withCookie)
				fresh = fresh || freshness(v)
			}
		}
		return true
	})
	return setCookie && cacheable && withCookie && fresh
}

// freshness reports a Cache-Control value giving an expiration time.
func freshness(v []byte) bool {
	if httpx.EqualFold(v, "max-age=0") {
		return false
	}
	return hasPrefixFold(v, "max-age") || hasPrefixFold(v, "s-maxage")
}

// cacheControl applies one Cache-Control value to the two flags.
func cacheControl(v []byte, cacheable, withCookie bool) (bool, bool) {
	switch {
	case httpx.EqualFold(v, "public"):
		return true, true
	case httpx.EqualFold(v, "private"), httpx.EqualFold(v, "no-cache"), httpx.EqualFold(v, "no-store"),
		httpx.EqualFold(v, "max-age=0"), httpx.EqualFold(v, "s-maxage=0"):
		return false, false
	case hasPrefixFold(v, `no-cache="set-cookie`):
		return cacheable, false
	}
	return cacheable, withCookie
}

// pragmaNoCache reports whether the response's first Pragma is "no-cache".
func (s *session) pragmaNoCache() bool {
	no := false
	s.eachRespField(func(name, value []byte) bool {
		if httpx.EqualFold(name, "pragma") {
			no = httpx.EqualFold(bytes.TrimSpace(value), "no-cache")
			return false
		}
		return true
	})
	return no
}

// eachRespField calls fn with the response's fields as the rules left
// them, in order, until fn returns false.
func (s *session) eachRespField(fn func(name, value []byte) bool) {
	if e := &s.rspE; e.on {
		for i := range e.f {
			if !fn(e.name(i), e.value(i)) {
				return
			}
		}
		return
	}
	h := &s.resp.Head
	for i := range h.Fields {
		if !fn(h.Name(i), h.Value(i)) {
			return
		}
	}
}
