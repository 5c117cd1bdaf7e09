package proxy

import (
	"bytes"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/httpx"
	"github.com/varde-lb/varde/core/logrec"
)

// compResponse decides whether this response is compressed (HAProxy 2.6's
// select_compression_response_header, on the server's head as it came,
// before the response rules' edits) and takes an encoder if so; then
// transformsResponseBody reports true.
func (s *session) compResponse(x *xchg) {
	s.comp.on = false
	if s.comp.algo == compNone || !s.compressible(x) || s.compRateOver() || s.compCPUOver() {
		return
	}
	e, err := takeEncoder(s.comp.algo, s.comp.level)
	if err != nil {
		return // HAProxy: an algorithm that fails to start compresses nothing
	}
	s.comp.enc, s.comp.on = e, true
}

// compressible is the list of HAProxy's reasons not to compress.
func (s *session) compressible(x *xchg) bool {
	resp := &s.resp
	switch {
	case x.switching, s.req.Minor < 1, resp.Minor < 1:
		return false // HTTP/1.0 on either side
	case httpx.EqualFold(s.req.Method.Of(s.in), "head"):
		return false
	case resp.Status < 200 || resp.Status > 203:
		return false
	case x.rkind != httpx.BodyChunked && x.rkind != httpx.BodyLength:
		return false // no length and no chunking: a close-delimited body
	case x.rkind == httpx.BodyLength && resp.ContentLength == 0:
		return false // HTX marks it bodyless
	}
	if _, ok := resp.Field("content-encoding"); ok {
		return false // already encoded
	}
	etags := 0
	for i := range resp.Fields {
		name, v := resp.Name(i), resp.Value(i)
		switch {
		case httpx.EqualFold(name, "cache-control") && hasNoTransform(v):
			return false
		case httpx.EqualFold(name, "etag"):
			if etags++; etags > 1 || !validETag(v) {
				return false
			}
		}
	}
	_, types, _ := compSettings(s.f.cfg.comp, x.b.cfg.comp)
	return typeCompressible(resp, types)
}

func hasNoTransform(v []byte) (found bool) {
	for rest := v; rest != nil && !found; {
		var e []byte
		e, rest = httpx.NextElement(rest)
		found = wordMatch(e, "no-transform")
	}
	return found
}

// validETag is HAProxy's http_get_etag_type != ETAG_INVALID.
func validETag(v []byte) bool {
	if len(v) < 2 || v[len(v)-1] != '"' {
		return false
	}
	return v[0] == '"' || (len(v) >= 3 && string(v[:3]) == `W/"`)
}

// typeCompressible: never multipart; with `compression type`, the first
// Content-Type must start with one of the types (ASCII case-insensitive)
// and a response without one is not compressed.
func typeCompressible(resp *httpx.Response, types []string) bool {
	ct, ok := resp.Field("content-type")
	if !ok {
		return len(types) == 0
	}
	if hasPrefixFold(ct, "multipart") {
		return false
	}
	if len(types) == 0 {
		return true
	}
	for _, t := range types {
		if hasPrefixFold(ct, t) {
			return true
		}
	}
	return false
}

// compField rewrites one response field of a compressed response: the
// Content-Length goes (the body is re-chunked), a strong ETag becomes weak.
func (s *session) compField(o, name, value []byte) ([]byte, bool) {
	switch {
	case httpx.EqualFold(name, "content-length"):
		return o, true
	case httpx.EqualFold(name, "etag") && len(value) > 0 && value[0] == '"':
		o = append(o, name...)
		o = append(o, ": W/"...)
		o = append(o, value...)
		return append(o, '\r', '\n'), true
	}
	return o, false
}

// appendCompFields adds what HAProxy adds, in its order.
func (s *session) appendCompFields(o []byte, x *xchg) []byte {
	if x.rkind != httpx.BodyChunked {
		o = append(o, "Transfer-Encoding: chunked\r\n"...)
	}
	o = append(o, "Vary: Accept-Encoding\r\n"...)
	if s.comp.algo != compIdentity {
		o = append(o, "Content-Encoding: "...)
		o = append(o, s.comp.algo.token()...)
		o = append(o, '\r', '\n')
	}
	return o
}

// relayCompressed is relayResponse for a compressed response: the head
// (rewritten by compField/appendCompFields), then the body through the
// encoder, re-chunked.
func (s *session) relayCompressed(x *xchg) bool {
	e := s.comp.enc
	defer func() { s.comp.enc, s.comp.on = nil, false; e.release() }()
	// HAProxy's %B counts the response as it entered its channel from the
	// server, before the filter compressed it: the server's head in HTX
	// form, then the payload read (see htxbytes.go).
	srvHead := int64(s.resp.HeadLen - htxHeadAdjust(s.sb[:s.resp.HeadLen]))
	o, headLen, extra, rremain, respDone := s.responseHead(x)
	s.out = o
	base, headHTX, err := s.writeResponseHead(o[:headLen], headLen, nil)
	if err != nil {
		x.up.c.Close()
		s.rec.SetTerm(logrec.TermClientAbort, logrec.StateData)
		s.f.ReqErrors.Add(1)
		s.log(x.b, x.srv)
		return false
	}
	cr := compRelay{s: s, x: x, e: e, dc: dechunk{keep: true}}
	ok := cr.run(o[headLen:], extra, rremain, respDone)
	if headHTX >= 0 {
		s.rec.BytesOut = base + srvHead + cr.in
	}
	if !ok {
		x.up.c.Close()
		s.log(x.b, x.srv)
		return false
	}
	s.f.Meters.CompRsp.Add(1)
	x.b.Meters.CompRsp.Add(1)
	s.endExchange(x)
	return x.clientKeep
}

// compRelay streams one compressed body.
type compRelay struct {
	s       *session
	x       *xchg
	e       *compEncoder
	dc      dechunk // keep: its trailer is forwarded
	in      int64   // payload bytes fed (and the end of a chunked body): %B
	cIn     int64   // comp_in, comp_out, comp_byp so far
	cOut    int64
	byp     int64
	pending bool // bytes given to the encoder since its last flush
}

// run feeds the body bytes that came with the head, then reads the rest
// from the server (framing checked by s.ck as in copyBody).
func (cr *compRelay) run(first, extra []byte, remain int64, done bool) bool {
	s, x := cr.s, cr.x
	defer cr.count()
	if !cr.feed(first, done && len(extra) == 0) || !cr.feed(extra, done && len(extra) > 0) {
		return false
	}
	for !done {
		want := len(s.sb)
		if x.rkind == httpx.BodyLength && int64(want) > remain {
			want = int(remain)
		}
		x.up.c.SetReadDeadline(after(serverTimeout(x.b)))
		m, err := x.up.c.Read(s.sb[:want])
		chunk := s.sb[:m]
		if x.rkind == httpx.BodyChunked && m > 0 {
			k, cerr := s.ck.Scan(chunk)
			if cerr != nil {
				return cr.s.bodyEnded(cr.x, copyBadChunk)
			}
			if k < m {
				x.srvKeep = false
			}
			chunk, done = chunk[:k], s.ck.Done()
		} else {
			remain -= int64(m)
			done = remain <= 0
		}
		if m > 0 && !cr.feed(chunk, done) {
			return false
		}
		if m == 0 && err != nil {
			if isTimeout(err) {
				return cr.s.bodyEnded(cr.x, copyReadTimeout)
			}
			return cr.s.bodyEnded(cr.x, copyReadErr)
		}
	}
	return true
}

// feed compresses the payload in p (its chunk framing removed), flushes,
// and sends the output as one chunk; last finishes the stream.
func (cr *compRelay) feed(p []byte, last bool) bool {
	e := cr.e
	in := cr.in
	for len(p) > 0 {
		var data []byte
		if cr.x.rkind == httpx.BodyChunked {
			var done bool
			if data, p, done = cr.dc.next(p); done {
				p = nil // nothing of the body is left behind its end
			}
		} else {
			data, p = p, nil
		}
		cr.in += int64(len(data))
		cr.s.cacheTee(data, false) // cache.go: stored as the server sent it, uncompressed
		cr.pending = cr.pending || len(data) > 0
		if err := e.add(data); err != nil {
			return cr.s.bodyEnded(cr.x, copyWriteErr)
		}
	}
	if last {
		cr.s.cacheCommit() // cache.go: whole, stored before its end is sent
	}
	var err error
	switch {
	case last:
		err = e.finish()
	case cr.pending:
		if err = e.flush(); err == nil {
			err = e.setLevel(cr.s.compLevelFor(e)) // maxcomprate, at a block boundary
		}
	}
	cr.pending = false
	if err != nil {
		return cr.s.bodyEnded(cr.x, copyWriteErr)
	}
	block, n := e.chunk()
	cr.account(cr.in-in, int64(n), last)
	if last {
		block = append(block, "0\r\n"...)
		block = append(block, cr.dc.trailer...)
		block = append(block, '\r', '\n')
	}
	if len(block) == 0 {
		return true
	}
	s := cr.s
	s.conn.SetWriteDeadline(after(s.clientTimeout(0)))
	nw, werr := s.conn.Write(block)
	s.rec.BytesOut += int64(nw)
	if werr != nil {
		return cr.s.bodyEnded(cr.x, copyWriteErr)
	}
	return true
}

// account classifies one block's bytes as HAProxy's comp_http_payload
// does, by the level after its flush: comp_in/comp_out (and the process
// rates) above level 0, comp_byp at level 0 and for identity. The end of
// a chunked body counts as passing through: its trailers (name and value
// bytes) and the one-byte end-of-trailers block, in and out alike.
func (cr *compRelay) account(in, out int64, last bool) {
	if last && cr.dc.st == dcDone {
		n := int64(1 + htxTrailerSize(cr.dc.trailer))
		cr.in += n
		in += n
		out += n
	}
	if cr.e.w == nil || cr.e.cur == 0 {
		cr.byp += in
		return
	}
	cr.cIn += in
	cr.cOut += out
	now := time.Now()
	compBpsIn.add(uint64(in), now)
	compBpsOut.add(uint64(out), now)
}

// count adds the response's bytes to the frontend's and backend's meters.
func (cr *compRelay) count() {
	for _, m := range []*core.Meters{&cr.s.f.Meters, &cr.x.b.Meters} {
		m.CompIn.Add(uint64(cr.cIn))
		m.CompOut.Add(uint64(cr.cOut))
		m.CompByp.Add(uint64(cr.byp))
	}
}

// htxTrailerSize is the size of trailer fields in HAProxy's HTX: name and
// value bytes, without ": " and line ends.
func htxTrailerSize(t []byte) int {
	n := 0
	for len(t) > 0 {
		line := t
		if i := bytes.IndexByte(t, '\n'); i >= 0 {
			line, t = t[:i], t[i+1:]
		} else {
			t = nil
		}
		name, value, ok := bytes.Cut(bytes.TrimRight(line, "\r"), []byte(":"))
		if ok {
			n += len(bytes.TrimSpace(name)) + len(bytes.Trim(value, " \t"))
		}
	}
	return n
}
