package proxy

import (
	"bytes"

	"github.com/varde-lb/varde/core/httpx"
)

// HAProxy's %B is not the byte count on the wire: it is the size of the
// response in HAProxy's internal HTX representation, which the H1 mux
// turns into bytes only when writing. Measured against HAProxy 2.6 (see
// logpipe's TestHTTPLogMatchesHAProxy), for a response head that is:
//
//	htxStartLine + len(version) + len(status) + len(reason)
//	+ Σ len(name) + len(value) over the header fields
//	+ htxEOH
//
// and then the payload bytes of the body. Connection headers are not in
// the HTX message (the mux consumes the server's and writes its own), so
// they count for nothing.
const (
	htxStartLine = 20 // struct htx_sl: flags, info, three lengths
	htxEOH       = 1  // the end-of-headers block
)

// htxHeadAdjust returns how many bytes of the serialised head hd
// ("HTTP/1.1 200 OK\r\n" ... "\r\n", lines separated by CRLF and fields
// written as "Name: value") are not counted by HAProxy's %B: the wire
// size minus the HTX size. It allocates nothing.
func htxHeadAdjust(hd []byte) int {
	i := bytes.Index(hd, crlf)
	if i < 0 {
		return 0
	}
	// Status line: "V SSS R" -> the two spaces and CRLF are framing.
	htx := htxStartLine + i - 2
	if i < 13 { // "HTTP/1.1 200" without reason or space
		htx = htxStartLine + i - 1
	}
	rest := hd[i+2:]
	for len(rest) > 0 {
		j := bytes.Index(rest, crlf)
		if j <= 0 {
			break // the empty line ending the head
		}
		line := rest[:j]
		rest = rest[j+2:]
		c := bytes.IndexByte(line, ':')
		if c < 0 {
			continue
		}
		name := line[:c]
		if httpx.EqualFold(name, "connection") {
			continue
		}
		v := bytes.TrimLeft(line[c+1:], " \t")
		htx += len(name) + len(v)
	}
	htx += htxEOH
	return len(hd) - htx
}

var crlf = []byte("\r\n")

// htxAdjust is htxHeadAdjust for a whole serialised message (head and
// body), as the generated answers are kept.
func htxAdjust(msg []byte) int {
	i := bytes.Index(msg, crlfcrlf)
	if i < 0 {
		return 0
	}
	return htxHeadAdjust(msg[:i+4])
}

var crlfcrlf = []byte("\r\n\r\n")

// countHTX adds n bytes written of msg to the record's %B, minus what
// HAProxy does not count (see htxHeadAdjust) once the head went out whole.
func countHTX(n int, msg []byte) int64 {
	if n < headEnd(msg) {
		return int64(n)
	}
	return int64(n - htxAdjust(msg))
}

func headEnd(msg []byte) int {
	if i := bytes.Index(msg, crlfcrlf); i >= 0 {
		return i + 4
	}
	return len(msg)
}

// chunkedHTX sets %B for a chunked response as HAProxy counts it: HTX
// holds the payload without the chunk framing, plus one end-of-trailers
// block once the last chunk came (trailer fields are not counted here).
// base is %B before the head, headHTX the head's HTX size (-1 when the
// head did not go out whole).
func (s *session) chunkedHTX(kind httpx.BodyKind, base, headHTX int64) {
	if kind != httpx.BodyChunked || headHTX < 0 {
		return
	}
	s.rec.BytesOut = base + headHTX + s.ck.Data
	if s.ck.Done() {
		s.rec.BytesOut++
	}
}
