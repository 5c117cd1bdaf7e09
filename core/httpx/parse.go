// Package httpx is varde's HTTP/1.1 message codec (RFC 9112 framing, RFC 9110
// semantics) written for the forwarding fast path: heads are parsed in place
// over a caller-owned buffer into offsets, nothing is allocated, and every
// ambiguity a request-smuggling attack relies on (duplicate or conflicting
// Content-Length, Content-Length with Transfer-Encoding, obfuscated codings,
// obs-fold, whitespace before the colon, bare CR/LF/NUL) is rejected rather
// than guessed at.
package httpx

import (
	"bytes"
	"errors"
)

// Error is a rejected message with the status the peer gets (400, 414, 431,
// 501, 505 for requests; responses always become 502 at the proxy).
// The values below are package-level so returning one never allocates.
type Error struct {
	Status int
	Reason string
}

func (e *Error) Error() string { return "httpx: " + e.Reason }

// ErrIncomplete means the buffer does not yet hold a whole head: read more.
var ErrIncomplete = errors.New("httpx: incomplete message head")

// Rejections. Callers compare with == or read Status.
var (
	ErrBadRequestLine   = &Error{400, "invalid request line"}
	ErrBadMethod        = &Error{400, "invalid character in method"}
	ErrBadTarget        = &Error{400, "invalid character in request target"}
	ErrTargetForm       = &Error{400, "request target is not in a form the method allows"}
	ErrBadVersion       = &Error{400, "invalid HTTP version"}
	ErrVersion          = &Error{505, "unsupported HTTP version"}
	ErrH2Preface        = &Error{400, "HTTP/2 connection preface on an HTTP/1 listener"}
	ErrURITooLong       = &Error{414, "request line too long"}
	ErrHeadTooLarge     = &Error{431, "request header section too large"}
	ErrTooManyHeaders   = &Error{431, "too many header fields"}
	ErrBadHeaderName    = &Error{400, "invalid character in header name"}
	ErrSpaceBeforeColon = &Error{400, "whitespace between header name and colon"}
	ErrObsFold          = &Error{400, "obsolete line folding"}
	ErrBadHeaderValue   = &Error{400, "invalid character in header value"}
	ErrBareLineEnd      = &Error{400, "bare CR or LF"}
	ErrBadContentLength = &Error{400, "invalid Content-Length"}
	ErrDupContentLength = &Error{400, "duplicate Content-Length"}
	ErrCLAndTE          = &Error{400, "both Content-Length and Transfer-Encoding"}
	ErrBadTE            = &Error{400, "invalid or unsupported Transfer-Encoding"}
	ErrTENotChunked     = &Error{400, "Transfer-Encoding does not end with chunked"}
	ErrMissingHost      = &Error{400, "missing Host header"}
	ErrMultipleHost     = &Error{400, "multiple Host headers"}
	ErrHostMismatch     = &Error{400, "request target authority differs from Host"}
	ErrBadStatusLine    = &Error{502, "invalid status line"}
	ErrBadChunk         = &Error{400, "invalid chunked encoding"}
)

// Span is a slice of the head buffer as offsets, so a parsed head holds no
// pointers the garbage collector must scan per header.
type Span struct{ Off, Len uint32 }

// Of returns the bytes of s in buf.
func (s Span) Of(buf []byte) []byte { return buf[s.Off : s.Off+s.Len] }

// Field is one header line.
type Field struct{ Name, Value Span }

// Limits bounds what a head may use. HAProxy derives them from tune.bufsize
// minus tune.maxrewrite; the engine does the same.
type Limits struct {
	MaxHead    int // bytes of request/status line plus headers, including the blank line
	MaxHeaders int // header lines (HAProxy's tune.http.maxhdr, default 101)
}

// DefaultLimits matches HAProxy's defaults: bufsize 16384 - maxrewrite 1024.
var DefaultLimits = Limits{MaxHead: 16384 - 1024, MaxHeaders: 101}

// Head is what requests and responses share: the header fields and the
// framing facts derived from them.
type Head struct {
	Buf     []byte // the head's bytes (caller's buffer), valid until the caller reuses it
	Fields  []Field
	HeadLen int // bytes from the start of the message to the end of the blank line
	Minor   int // HTTP/1.x minor version

	ContentLength int64 // -1 when absent
	Chunked       bool
	TE            bool // Transfer-Encoding present
	ConnClose     bool // Connection: close
	ConnKeepAlive bool // Connection: keep-alive
	ConnUpgrade   bool // Connection: upgrade
	Upgrade       bool // an Upgrade header is present
	connIdx       [4]int16
	nConn         int
}

// Request is a parsed request head.
type Request struct {
	Head
	Method, Target Span
	HostIdx        int // index of the Host field, -1 when none
	Expect100      bool
}

// Response is a parsed response head.
type Response struct {
	Head
	Status int
	Reason Span
}

// Field returns the value of the first field named name (ASCII
// case-insensitive) and whether it exists.
func (h *Head) Field(name string) ([]byte, bool) {
	for i := range h.Fields {
		if EqualFold(h.Fields[i].Name.Of(h.Buf), name) {
			return h.Fields[i].Value.Of(h.Buf), true
		}
	}
	return nil, false
}

// Name and Value of the i-th field.
func (h *Head) Name(i int) []byte  { return h.Fields[i].Name.Of(h.Buf) }
func (h *Head) Value(i int) []byte { return h.Fields[i].Value.Of(h.Buf) }

// KeepAlive reports whether the peer wants the connection kept after this
// message: HTTP/1.1 unless Connection: close, HTTP/1.0 only with keep-alive.
func (h *Head) KeepAlive() bool {
	if h.ConnClose {
		return false
	}
	return h.Minor >= 1 || h.ConnKeepAlive
}

// ListedInConnection reports whether name is one of the tokens of the
// Connection header(s), which makes it hop-by-hop for this message.
func (h *Head) ListedInConnection(name []byte) bool {
	for k := 0; k < h.nConn; k++ {
		v := h.Fields[h.connIdx[k]].Value.Of(h.Buf)
		found := false
		eachToken(v, func(tok []byte) bool {
			if equalFoldBytes(tok, name) {
				found = true
				return false
			}
			return true
		})
		if found {
			return true
		}
	}
	return false
}

func (h *Head) reset(buf []byte) {
	fields := h.Fields[:0]
	*h = Head{Buf: buf, Fields: fields, ContentLength: -1}
}

// Parse parses a request head at the start of buf. It returns ErrIncomplete
// when more bytes are needed, an *Error when the request must be rejected,
// and nil with r filled otherwise (r.HeadLen bytes of buf form the head).
func (r *Request) Parse(buf []byte, lim Limits) error {
	r.Head.reset(buf)
	r.Method, r.Target, r.HostIdx, r.Expect100 = Span{}, Span{}, -1, false
	// RFC 9112 2.2: a server SHOULD ignore at least one empty line before
	// the request line.
	start := 0
	for k := 0; k < 2 && len(buf) >= start+2 && buf[start] == '\r' && buf[start+1] == '\n'; k++ {
		start += 2
	}
	end := bytes.Index(buf[start:], crlfcrlf)
	if end < 0 {
		if len(buf) >= lim.MaxHead {
			if bytes.IndexByte(buf[start:], '\n') < 0 {
				return ErrURITooLong
			}
			return ErrHeadTooLarge
		}
		// Reject a garbage request line early rather than waiting for a
		// blank line that may never come.
		if nl := bytes.IndexByte(buf[start:], '\n'); nl >= 0 {
			if _, err := r.requestLine(buf, start, start+nl+1); err != nil {
				return err
			}
		} else if err := r.methodPrefix(buf[start:]); err != nil {
			return err
		}
		return ErrIncomplete
	}
	end += start + 4
	if end > lim.MaxHead {
		if bytes.IndexByte(buf[start:lim.MaxHead], '\n') < 0 {
			return ErrURITooLong
		}
		return ErrHeadTooLarge
	}
	p, err := r.requestLine(buf, start, end)
	if err != nil {
		return err
	}
	if err := r.Head.fields(buf, p, end, lim); err != nil {
		return err
	}
	// Request-specific fields.
	hosts := 0
	for i := range r.Fields {
		name := r.Fields[i].Name.Of(buf)
		switch {
		case EqualFold(name, "host"):
			hosts++
			r.HostIdx = i
		case EqualFold(name, "expect"):
			if EqualFold(trimOWS(r.Fields[i].Value.Of(buf)), "100-continue") {
				r.Expect100 = true
			}
		}
	}
	if hosts > 1 {
		return ErrMultipleHost
	}
	if hosts == 0 && r.Minor >= 1 {
		return ErrMissingHost
	}
	if err := r.absoluteForm(buf); err != nil {
		return err
	}
	if r.TE && r.ContentLength >= 0 {
		return ErrCLAndTE
	}
	if r.TE && !r.Chunked {
		// A request body whose end cannot be determined (RFC 9112 6.3).
		return ErrTENotChunked
	}
	if r.TE && r.Minor == 0 {
		// Transfer-Encoding did not exist in HTTP/1.0: a 1.0 message carrying
		// it is a classic smuggling vector.
		return ErrBadTE
	}
	r.HeadLen = end
	return nil
}

var (
	crlfcrlf  = []byte("\r\n\r\n")
	h2Preface = []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
)

// IsH2Preface reports whether buf starts like the HTTP/2 connection preface
// (possibly cut short).
func IsH2Preface(buf []byte) bool {
	n := min(len(buf), len(h2Preface))
	return n >= 4 && bytes.Equal(buf[:n], h2Preface[:n])
}

func (r *Request) methodPrefix(b []byte) error {
	for _, c := range b {
		if c == ' ' {
			return nil
		}
		if !isTchar(c) {
			return ErrBadMethod
		}
	}
	return nil
}

// requestLine parses "METHOD SP TARGET SP HTTP/1.x CRLF" starting at off
// and returns the offset of the first header line.
func (r *Request) requestLine(buf []byte, off, end int) (int, error) {
	if IsH2Preface(buf[off:]) {
		return 0, ErrH2Preface
	}
	i := off
	for i < end && buf[i] != ' ' {
		if !isTchar(buf[i]) {
			return 0, ErrBadMethod
		}
		i++
	}
	if i == off || i >= end {
		return 0, ErrBadRequestLine
	}
	r.Method = Span{uint32(off), uint32(i - off)}
	i++
	t := i
	for i < end && buf[i] != ' ' {
		c := buf[i]
		if c <= 0x20 || c >= 0x7f {
			if c == '\r' || c == '\n' {
				return 0, ErrBadRequestLine // HTTP/0.9 style, no version
			}
			return 0, ErrBadTarget
		}
		i++
	}
	if i == t || i >= end {
		return 0, ErrBadRequestLine
	}
	r.Target = Span{uint32(t), uint32(i - t)}
	if err := targetForm(r.Method.Of(buf), r.Target.Of(buf)); err != nil {
		return 0, err
	}
	i++
	if end-i < 10 {
		return 0, ErrBadRequestLine
	}
	v := buf[i : i+8]
	if buf[i+8] != '\r' || buf[i+9] != '\n' {
		if buf[i+8] == '\n' {
			return 0, ErrBareLineEnd
		}
		return 0, ErrBadVersion
	}
	minor, err := parseVersion(v)
	if err != nil {
		return 0, err
	}
	r.Minor = minor
	return i + 10, nil
}

// parseVersion accepts "HTTP/1.0" and "HTTP/1.1"; another well-formed
// HTTP/d.d is 505, anything else 400.
func parseVersion(v []byte) (int, error) {
	if len(v) != 8 || string(v[:5]) != "HTTP/" || !isDigit(v[5]) || v[6] != '.' || !isDigit(v[7]) {
		return 0, ErrBadVersion
	}
	if v[5] != '1' || v[7] > '1' {
		return 0, ErrVersion
	}
	return int(v[7] - '0'), nil
}

// fields parses header lines from p up to end (which includes the final
// CRLF CRLF) and derives framing.
func (h *Head) fields(buf []byte, p, end int, lim Limits) error {
	for p < end {
		if buf[p] == '\r' {
			if p+1 < end && buf[p+1] == '\n' {
				return nil // blank line: end of head
			}
			return ErrBareLineEnd
		}
		if buf[p] == ' ' || buf[p] == '\t' {
			return ErrObsFold
		}
		if len(h.Fields) >= lim.MaxHeaders {
			return ErrTooManyHeaders
		}
		n := p
		for n < end && tcharTable[buf[n]] {
			n++
		}
		for n < end && buf[n] != ':' {
			c := buf[n]
			if !isTchar(c) {
				if c == ' ' || c == '\t' {
					return ErrSpaceBeforeColon
				}
				if c == '\r' || c == '\n' {
					return ErrBadHeaderName // a line without a colon
				}
				return ErrBadHeaderName
			}
			n++
		}
		if n == p || n >= end {
			return ErrBadHeaderName
		}
		v := n + 1
		for v < end && (buf[v] == ' ' || buf[v] == '\t') {
			v++
		}
		e := v
		for e < end && valueTable[buf[e]] {
			e++ // the common case: plain visible bytes, one table load each
		}
		for {
			if e >= end {
				return ErrBadHeaderValue
			}
			c := buf[e]
			if c == '\r' {
				if e+1 >= end || buf[e+1] != '\n' {
					return ErrBareLineEnd
				}
				break
			}
			if c == '\n' {
				return ErrBareLineEnd
			}
			if (c < 0x20 && c != '\t') || c == 0x7f {
				return ErrBadHeaderValue
			}
			e++
		}
		ve := e
		for ve > v && (buf[ve-1] == ' ' || buf[ve-1] == '\t') {
			ve--
		}
		f := Field{Name: Span{uint32(p), uint32(n - p)}, Value: Span{uint32(v), uint32(ve - v)}}
		if err := h.framing(buf, f); err != nil {
			return err
		}
		h.Fields = append(h.Fields, f)
		p = e + 2
	}
	return ErrIncomplete
}

// framing records what a field says about message framing and connection
// management, rejecting the ambiguous forms.
func (h *Head) framing(buf []byte, f Field) error {
	name := f.Name.Of(buf)
	val := f.Value.Of(buf)
	switch len(name) {
	case len("content-length"):
		if !EqualFold(name, "content-length") {
			return nil
		}
		if h.ContentLength >= 0 {
			return ErrDupContentLength
		}
		n, ok := ParseUint(val)
		if !ok {
			return ErrBadContentLength
		}
		h.ContentLength = n
	case len("transfer-encoding"):
		if !EqualFold(name, "transfer-encoding") {
			return nil
		}
		h.TE = true
		var bad bool
		eachToken(val, func(tok []byte) bool {
			if h.Chunked {
				bad = true // chunked must be the final coding, applied once
				return false
			}
			switch {
			case EqualFold(tok, "chunked"):
				h.Chunked = true
			case EqualFold(tok, "gzip"), EqualFold(tok, "deflate"), EqualFold(tok, "compress"), EqualFold(tok, "x-gzip"):
			default:
				bad = true
				return false
			}
			return true
		})
		// Empty list elements are legal in lists, but an empty field, or
		// one with characters outside tokens and commas, is obfuscation.
		if bad || !validList(val) {
			return ErrBadTE
		}
	case len("connection"):
		if !EqualFold(name, "connection") {
			return nil
		}
		if h.nConn < len(h.connIdx) {
			h.connIdx[h.nConn] = int16(len(h.Fields))
			h.nConn++
		}
		eachToken(val, func(tok []byte) bool {
			switch {
			case EqualFold(tok, "close"):
				h.ConnClose = true
			case EqualFold(tok, "keep-alive"):
				h.ConnKeepAlive = true
			case EqualFold(tok, "upgrade"):
				h.ConnUpgrade = true
			}
			return true
		})
	case len("upgrade"):
		if EqualFold(name, "upgrade") {
			h.Upgrade = true
		}
	}
	return nil
}

// validList reports whether v is a non-empty comma list of tokens with OWS.
func validList(v []byte) bool {
	tokens := 0
	for _, c := range v {
		switch {
		case c == ',' || c == ' ' || c == '\t':
		case isTchar(c):
			tokens++
		default:
			return false
		}
	}
	return tokens > 0
}

// Parse parses a response head at the start of buf. Errors are *Error with
// Status 502, or ErrIncomplete.
func (r *Response) Parse(buf []byte, lim Limits) error {
	r.Head.reset(buf)
	r.Status, r.Reason = 0, Span{}
	end := bytes.Index(buf, crlfcrlf)
	if end < 0 {
		if len(buf) >= lim.MaxHead {
			return ErrBadStatusLine
		}
		if len(buf) >= 5 && string(buf[:5]) != "HTTP/" {
			return ErrBadStatusLine
		}
		return ErrIncomplete
	}
	end += 4
	if end > lim.MaxHead {
		return ErrBadStatusLine
	}
	// HTTP/1.x SP 3DIGIT SP reason CRLF
	if end < 14 {
		return ErrBadStatusLine
	}
	minor, err := parseVersion(buf[:8])
	if err != nil || buf[8] != ' ' || !isDigit(buf[9]) || !isDigit(buf[10]) || !isDigit(buf[11]) {
		return ErrBadStatusLine
	}
	r.Minor = minor
	r.Status = int(buf[9]-'0')*100 + int(buf[10]-'0')*10 + int(buf[11]-'0')
	if r.Status < 100 {
		return ErrBadStatusLine
	}
	p := 12
	if buf[p] == ' ' {
		p++
	} else if buf[p] != '\r' {
		return ErrBadStatusLine
	}
	rs := p
	for buf[p] != '\r' {
		c := buf[p]
		if c == '\n' || (c < 0x20 && c != '\t') || c == 0x7f {
			return ErrBadStatusLine
		}
		p++
	}
	if buf[p+1] != '\n' {
		return ErrBadStatusLine
	}
	r.Reason = Span{uint32(rs), uint32(p - rs)}
	if err := r.Head.fields(buf, p+2, end, lim); err != nil {
		return asResponseError(err)
	}
	if r.TE && r.ContentLength >= 0 {
		return &respCLTE
	}
	r.HeadLen = end
	return nil
}

var respCLTE = Error{502, "response with both Content-Length and Transfer-Encoding"}

// asResponseError turns a header rejection into its 502 twin: a bad
// response is the server's fault, not the client's.
func asResponseError(err error) error {
	var e *Error
	if errors.As(err, &e) && e.Status != 502 {
		return ErrBadStatusLine
	}
	return err
}

// BodyKind says how a message body is delimited.
type BodyKind uint8

const (
	BodyNone    BodyKind = iota // no body
	BodyLength                  // Content-Length bytes
	BodyChunked                 // chunked coding up to the last chunk and trailers
	BodyEOF                     // until the server closes (responses only)
)

// RequestBody returns how the request body is delimited.
func (r *Request) RequestBody() BodyKind {
	switch {
	case r.Chunked:
		return BodyChunked
	case r.ContentLength > 0:
		return BodyLength
	}
	return BodyNone
}

// ResponseBody returns how the response body is delimited given the request
// method (RFC 9112 6.3): HEAD, 1xx, 204 and 304 have none whatever the
// headers say.
func (r *Response) ResponseBody(head bool) BodyKind {
	switch {
	case head, r.Status < 200, r.Status == 204, r.Status == 304:
		return BodyNone
	case r.Chunked:
		return BodyChunked
	case r.TE:
		return BodyEOF // a non-chunked final coding: read until close
	case r.ContentLength == 0:
		return BodyNone
	case r.ContentLength > 0:
		return BodyLength
	}
	return BodyEOF
}

// ParseUint parses 1*DIGIT without sign, spaces or overflow.
func ParseUint(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// eachToken calls fn for each non-empty element of a comma-separated list,
// trimmed of OWS, until fn returns false.
func eachToken(v []byte, fn func([]byte) bool) {
	for len(v) > 0 {
		i := bytes.IndexByte(v, ',')
		var tok []byte
		if i < 0 {
			tok, v = v, nil
		} else {
			tok, v = v[:i], v[i+1:]
		}
		tok = trimOWS(tok)
		if len(tok) > 0 && !fn(tok) {
			return
		}
	}
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// EqualFold compares b with the lower-case ASCII string s, ignoring ASCII
// case in b, without allocating.
func EqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		d := s[i]
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

func equalFoldBytes(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		c, d := a[i], b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// tchar per RFC 9110 5.6.2.
var tcharTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

func isTchar(c byte) bool { return tcharTable[c] }

// valueTable marks the field-value bytes that need no further check:
// HTAB, SP..~ and obs-text (0x80-0xff).
var valueTable = func() (t [256]bool) {
	t['\t'] = true
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	for c := 0x80; c <= 0xff; c++ {
		t[c] = true
	}
	return t
}()
