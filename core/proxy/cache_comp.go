package proxy

import (
	"github.com/varde-lb/varde/core/httpx"
)

// Compression of the cache's answers. HAProxy stores what the server sent
// (its compression filter comes after the cache's) and compresses a cached
// answer for the client that accepts it, as it compresses a server's
// (measured against HAProxy 2.6: a hit to `Accept-Encoding: gzip` comes
// gzipped, re-chunked, with Vary and a weak ETag; one without comes plain).

// cacheNoBackend stands for the backend of a frontend's hit, which chose
// none: no compression settings of its own, counters nobody reads.
var cacheNoBackend = &Backend{cfg: &BackendConfig{}}

// cacheCompresses decides, as for a server's response, whether this
// cached answer is compressed, and takes the encoder when it is.
func (s *session) cacheCompresses(b *Backend, e *cacheEntry) bool {
	if b == nil {
		b = cacheNoBackend
	}
	if s.f.cfg.comp == nil && b.cfg.comp == nil {
		return false
	}
	s.compRequest(b)
	if s.comp.algo == compNone {
		return false
	}
	s.x = xchg{b: b, rkind: httpx.BodyLength}
	if e.chunked {
		s.x.rkind = httpx.BodyChunked
	}
	s.compResponse(&s.x)
	if !s.comp.on {
		s.x = xchg{}
	}
	return s.comp.on
}

// writeCachedCompressed sends the head (built with the compression's
// field changes) and the body through the encoder, in chunks. %B counts
// what the cache produced, as HAProxy's does before its filter.
func (s *session) writeCachedCompressed(e *cacheEntry, head []byte, produced int64) error {
	enc := s.comp.enc
	defer func() { s.comp.enc, s.comp.on, s.x = nil, false, xchg{}; enc.release() }()
	s.conn.SetWriteDeadline(after(s.clientTimeout(0)))
	if _, err := s.conn.Write(head); err != nil {
		return err
	}
	s.x.rkind = httpx.BodyLength // the stored body has no chunk framing
	cr := compRelay{s: s, x: &s.x, e: enc, dc: dechunk{keep: true}}
	base := s.rec.BytesOut
	ok := cr.feed(e.body, true) // counts what it wrote: replaced below
	cr.count()
	s.rec.BytesOut = base + produced + int64(len(e.body))
	if !ok {
		return errWriteCached
	}
	s.f.Meters.CompRsp.Add(1)
	s.x.b.Meters.CompRsp.Add(1)
	return nil
}

type cacheError string

func (e cacheError) Error() string { return string(e) }

const errWriteCached = cacheError("client write failed")
