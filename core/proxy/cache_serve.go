package proxy

import (
	"net/http"
	"strconv"

	"github.com/varde-lb/varde/core/httpx"
	"github.com/varde-lb/varde/core/logrec"
)

// cacheServer is the server name logged for an answer from the cache.
const cacheServer = "<CACHE>"

// serveCached answers the request from the entry cache-use found, as
// HAProxy's cache applet does (measured against HAProxy 2.6): the stored
// head plus an Age field, then the response rules of the proxies the
// request went through (b nil: the frontend's cache-use hit before any
// backend was chosen, logged as frontend/<CACHE>), http-after-response,
// and the body unless the request is HEAD or a conditional request the
// entry satisfies (304). Timers are 0, the termination state LR. It
// allocates nothing.
func (s *session) serveCached(b *Backend) bool {
	t := &s.cache
	e := t.hit
	t.hit, t.served = nil, true
	if b == nil {
		s.rec.Backend = s.f.Name
	}
	s.rec.Server = cacheServer
	s.rec.Tw, s.rec.Tc, s.rec.Tr = 0, 0, 0
	notMod := s.notModified(e)
	if !s.cachedHead(e, t.hitBy.now(), notMod) {
		return s.answerB(500, b, nil) // cannot happen: the head fit when stored
	}
	s.rec.Status = int32(s.resp.Status)
	// HAProxy's %B counts what the cache produced (its head with Age, in
	// HTX form, and the payload sent), not what the rules then changed.
	produced := int64(s.resp.HeadLen - htxHeadAdjust(s.sb[:s.resp.HeadLen]))
	s.scr.vars.EnterResponse()
	s.respEnd = nil
	if b != nil && !(b.cfg.Listen && b.Name == s.f.Name) {
		s.runResponseRules(b.cfg.HTTPResponse)
	}
	if s.respEnd == nil {
		s.runResponseRules(s.f.cfg.HTTPResponse)
	}
	s.rec.SetTerm(logrec.TermLocal, logrec.StateRequest)
	if s.respEnd != nil {
		return s.cachedRuleEnd(b)
	}
	s.runAfterResponse(b)
	keep := !s.closeAfter && !s.e.stopping.Load() && (b == nil || connMode(s.f, b) != HTTPClose) && s.f.cfg.ConnMode != HTTPClose
	withBody := !notMod && !httpx.EqualFold(s.view.Method(), "head")
	if withBody && s.cacheCompresses(b, e) { // cache_comp.go
		s.out = s.cachedClientHead(e, keep)
		err := s.writeCachedCompressed(e, s.out, produced)
		return s.cachedEnd(b, keep, err)
	}
	o := s.cachedClientHead(e, keep)
	headLen := len(o)
	if withBody {
		o = appendCachedBody(o, e)
	}
	s.out = o
	s.conn.SetWriteDeadline(after(s.clientTimeout(0)))
	nw, err := s.conn.Write(o)
	if cap(s.out) > maxKeptOut {
		// A large object passed through the session's buffer: let it go
		// rather than keep a buffer that size with every idle session.
		s.out = nil
	}
	if nw >= headLen {
		s.rec.BytesOut += produced
		if withBody {
			s.rec.BytesOut += int64(min(len(e.body), nw-headLen))
			if e.chunked && nw == len(o) {
				s.rec.BytesOut++ // HTX's end-of-trailers block, as HAProxy counts it
			}
		}
	} else {
		s.rec.BytesOut += int64(nw)
	}
	return s.cachedEnd(b, keep, err)
}

// cachedEnd consumes the request and marks the record due.
func (s *session) cachedEnd(b *Backend, keep bool, err error) bool {
	s.rec.BytesIn = int64(s.req.HeadLen)
	s.consume(s.req.HeadLen)
	if err != nil {
		s.rec.SetTerm(logrec.TermClientAbort, logrec.StateData)
		keep = false
	}
	s.log(b, nil)
	return keep
}

// cachedHead writes the entry's head and its Age into s.sb and parses it
// as the response, so the response rules see it as a server's.
func (s *session) cachedHead(e *cacheEntry, now int64, notMod bool) bool {
	age := max(0, now-e.validated) + e.age
	age = min(age, cacheEntryMaxAge)
	if len(e.head)+len("HTTP/1.1 304 Not Modified\r\nage: 2147483648\r\n\r\n") > len(s.sb) {
		return false // never with a head that fit when it was stored
	}
	o := s.sb[:0]
	if notMod {
		o = append(o, "HTTP/1.1 304 Not Modified\r\n"...)
		i := 0
		for i < len(e.head) && e.head[i] != '\n' {
			i++
		}
		o = append(o, e.head[min(i+1, len(e.head)):]...)
	} else {
		o = append(o, e.head...)
	}
	o = append(o, "age: "...)
	o = strconv.AppendInt(o, age, 10)
	o = append(o, "\r\n\r\n"...)
	return s.resp.Parse(o, s.e.limits) == nil
}

// cachedClientHead renders the answer's head as the rules left it.
func (s *session) cachedClientHead(e *cacheEntry, keep bool) []byte {
	o := s.out[:0]
	if st := s.scr.status; st != 0 {
		s.rec.Status = int32(st)
	}
	o = s.appendStatusLine(o)
	h := (*respHead)(s)
	for i, n := 0, h.NumHeaders(); i < n; i++ {
		name, val := h.HeaderAt(i)
		if s.comp.on {
			var done bool
			if o, done = s.compField(o, name, val); done {
				continue
			}
		}
		o = httpx.AppendField(o, name, val)
	}
	if s.comp.on {
		o = s.appendCompFields(o, &s.x)
	}
	switch {
	case !keep:
		o = append(o, "connection: close\r\n"...)
	case s.req.Minor == 0:
		o = append(o, "connection: keep-alive\r\n"...)
	}
	return append(o, '\r', '\n')
}

// appendCachedBody appends the payload, in one chunk when it was chunked.
// maxKeptOut is the largest output buffer a session keeps after a cache
// hit wrote a whole object through it.
const maxKeptOut = 64 << 10

func appendCachedBody(o []byte, e *cacheEntry) []byte {
	if !e.chunked {
		return append(o, e.body...)
	}
	if len(e.body) > 0 {
		o = strconv.AppendInt(o, int64(len(e.body)), 16)
		o = append(o, '\r', '\n')
		o = append(o, e.body...)
		o = append(o, '\r', '\n')
	}
	return append(o, "0\r\n\r\n"...)
}

// notModified is should_send_notmodified_response: If-None-Match against
// the entry's ETag (weak comparison; * matches), else If-Modified-Since
// against its Last-Modified (or Date, or storage time).
func (s *session) notModified(e *cacheEntry) bool {
	found := false
	for i, n := 0, s.view.NumHeaders(); i < n; i++ {
		name, val := s.view.HeaderAt(i)
		if !httpx.EqualFold(name, "if-none-match") {
			continue
		}
		found = true
		for rest := val; rest != nil; {
			var tag []byte
			tag, rest = httpx.NextElement(rest)
			if string(tag) == "*" {
				return true
			}
			if len(e.etag) == 0 {
				return false
			}
			if weakETagEqual(e.etag, tag) {
				return true
			}
		}
	}
	if found {
		return false
	}
	if v, ok := s.view.Header("if-modified-since"); ok {
		if t, err := http.ParseTime(string(v)); err == nil {
			return e.lastModified <= t.Unix()
		}
	}
	return false
}

// weakETagEqual compares two entity tags ignoring W/ (HAProxy's
// http_compare_etags); both must be quoted.
func weakETagEqual(a, b []byte) bool {
	a, b = trimWeak(a), trimWeak(b)
	if len(a) < 2 || len(b) < 2 || a[0] != '"' || b[0] != '"' || a[len(a)-1] != '"' || b[len(b)-1] != '"' {
		return false
	}
	return string(a) == string(b)
}

func trimWeak(t []byte) []byte {
	if len(t) >= 2 && t[0] == 'W' && t[1] == '/' {
		return t[2:]
	}
	return t
}

// cachedRuleEnd answers an http-response deny or return met by a cached
// answer: the rule's page replaces it (through http-after-response).
func (s *session) cachedRuleEnd(b *Backend) bool {
	rule := s.respEnd
	s.respEnd = nil
	s.scr.status = 0
	code := rule.Status
	if rule.Action == ActDeny {
		s.rec.SetTerm(logrec.TermProxy, logrec.StateHeaders)
	} else {
		s.rec.SetTerm(logrec.TermLocal, logrec.StateHeaders)
	}
	keep := !s.closeAfter && !s.e.stopping.Load()
	var page []byte
	switch rp := rule.Reply; {
	case rp == nil || rp.DefaultPage:
		page = keepAlivePages[code]
		if !keep || page == nil || s.f.errPages[code] != nil || (b != nil && b.errPages[code] != nil) {
			keep, page = false, s.errorPage(code, b)
		}
	case rp.Raw != nil:
		keep, page = false, rp.Raw
	default:
		page = s.replyBytes(rp, code, keep, true)
	}
	n, sent, err := s.writeLocal(page, code, b)
	s.rec.BytesOut += countHTX(n, sent)
	s.rec.BytesIn = int64(s.req.HeadLen)
	s.consume(s.req.HeadLen)
	s.log(b, nil)
	return keep && err == nil
}

// cacheName is the cache this transaction's answer came from, "" when
// none (res.cache_hit, res.cache_name).
func (s *session) cacheName() string {
	if t := &s.cache; t.served && t.hitBy != nil {
		return t.hitBy.Name
	}
	return ""
}
