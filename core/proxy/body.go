package proxy

import (
	"errors"
	"io"
	"net"
	"time"

	"github.com/varde-lb/varde/core/httpx"
)

// copyResult is how a body copy ended.
type copyResult uint8

const (
	copyDone         copyResult = iota
	copyBadChunk                // the sender's chunked coding is invalid
	copyReadTimeout             // the sender was silent for its whole timeout
	copyReadErr                 // the sender closed or failed before the end
	copyWriteErr                // the receiver failed
	copyWriteTimeout            // the receiver took nothing for its whole timeout
)

// copySlice is how long a copy runs before it lets its event loop serve
// other connections; a wait on a socket also does.
const copySlice = int64(2 * time.Millisecond)

// copyBody relays the rest of a message body from src to dst through s.sb
// (so the request head in s.in stays valid) until its framing says it
// ended: the one body-copy loop of both directions. rto bounds each read
// from src, wto each write to dst. read counts the body bytes taken from
// src, written those dst accepted; tail reports bytes behind the end of a
// chunked body (a pipelined request), which are dropped.
func (s *session) copyBody(src, dst net.Conn, rto, wto time.Duration, kind httpx.BodyKind, remain int64) (read, written int64, res copyResult, tail bool) {
	if kind == httpx.BodyLength && remain >= spliceMin && s.spliceable(src == s.conn) {
		if read, written, res, ok := s.trySplice(src, dst, rto, wto, remain); ok {
			return read, written, res, false
		}
	}
	splice := kind == httpx.BodyChunked && s.spliceable(src == s.conn)
	var since int64
	for {
		// A transfer that never waits shares its loop (loop.pause).
		pauseFor(src, &since, copySlice)
		if (kind == httpx.BodyLength && remain <= 0) || (kind == httpx.BodyChunked && s.ck.Done()) {
			return read, written, copyDone, tail
		}
		if n := s.ck.InData(); splice && n >= spliceMin {
			// A large chunk's payload: splice it, the framing around it
			// stays in user space where the scanner checks it.
			r, w, res, ok := s.trySplice(src, dst, rto, wto, n)
			s.ck.SkipData(r)
			read, written = read+r, written+w
			if res != copyDone {
				return read, written, res, tail
			}
			splice = ok
			continue
		}
		want := len(s.sb)
		if kind == httpx.BodyLength && int64(want) > remain {
			want = int(remain)
		}
		src.SetReadDeadline(after(rto))
		m, err := src.Read(s.sb[:want])
		if m > 0 {
			chunk := s.sb[:m]
			switch kind {
			case httpx.BodyChunked:
				k, cerr := s.ck.Scan(chunk)
				if cerr != nil {
					return read, written, copyBadChunk, tail
				}
				tail = tail || k < m
				chunk = chunk[:k]
			case httpx.BodyLength:
				remain -= int64(m)
			}
			read += int64(len(chunk))
			if len(s.cache.pend) > 0 && dst == s.conn {
				s.cacheTee(chunk, true) // cache.go: a response being stored
			}
			dst.SetWriteDeadline(after(wto))
			nw, werr := dst.Write(chunk)
			written += int64(nw)
			if werr != nil {
				if isTimeout(werr) {
					return read, written, copyWriteTimeout, tail
				}
				return read, written, copyWriteErr, tail
			}
			continue
		}
		switch {
		case err == nil:
		case kind == httpx.BodyEOF && errors.Is(err, io.EOF):
			return read, written, copyDone, tail
		case isTimeout(err):
			return read, written, copyReadTimeout, tail
		default:
			return read, written, copyReadErr, tail
		}
	}
}

// tunnel relays bytes both ways after a protocol switch (WebSocket) until
// either side closes or `timeout tunnel` passes without traffic.
func (s *session) tunnel(b *Backend, up *upConn) {
	defer up.c.Close()
	to := s.f.cfg.Timeouts.Tunnel
	if to <= 0 {
		to = b.cfg.Timeouts.Tunnel
	}
	if to <= 0 {
		to = longest(s.clientTimeout(0), serverTimeout(b))
	}
	client := s.conn
	if isLoopConn(client) {
		// A tunnel is two blocking copies: it leaves the event loop for
		// Go's netpoller and goroutines, and this coroutine waits for it.
		cc, err := toNetConn(client)
		if err != nil {
			return
		}
		defer cc.Close()
		s.e.track(cc) // a stop past its grace (hard-stop-after) closes it
		defer s.e.untrack(cc)
		uc, err := up.detach()
		if err != nil {
			return
		}
		up.c = uc
		client = cc
		if srv := s.heldSrv; srv != nil {
			srv.bind(s, s.lane, client, up)
		}
	}
	if s.n > 0 {
		up.c.Write(s.in[:s.n])
		s.n = 0
	}
	var in, out int64
	offloadFor(s.conn, func() { in, out = relay(client, up.c, s.in, s.sb, to, s.spliceDirs(b)) })
	s.rec.BytesIn += in
	s.rec.BytesOut += out
}
