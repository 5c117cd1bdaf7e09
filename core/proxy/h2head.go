package proxy

import (
	"strconv"
	"strings"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2hdr decodes one header block (HEADERS and its CONTINUATIONs) and, for
// a new stream, writes the HTTP/1.1 request head the session will parse
// straight into the session's input buffer. Everything RFC 9113 8.2 and 8.3
// call malformed is caught here, before any rule, ACL or chooser sees the
// request: the stream is reset with PROTOCOL_ERROR.
type h2hdr struct {
	h        *h2conn
	st       *h2stream // the new stream, nil when decoding only
	tst      *h2stream // the stream whose trailers these are
	id       uint32
	end      bool // END_STREAM on the HEADERS frame
	trailers bool
	refused  bool
	bad      http2.ErrCode // stream error to answer
	frags    int
	bytes    int
	listSize int
	tooBig   bool // over SETTINGS_MAX_HEADER_LIST_SIZE or the session's head limit

	pseudo     uint8 // pseudo-header fields seen (bits below)
	sawRegular bool
	lineDone   bool
	connect    bool
	host       bool
	method     string
	path       string
	authority  string
	scheme     string
	cl         int64
	n          int    // bytes written into the session's buffer
	cookies    []byte // cookie crumbs, joined with "; " (RFC 9113 8.2.3)
}

const (
	pMethod = 1 << iota
	pPath
	pScheme
	pAuthority
)

func (hb *h2hdr) begin(id uint32, end bool) {
	*hb = h2hdr{h: hb.h, id: id, end: end, cl: -1, cookies: hb.cookies[:0]}
}

// onHeaders starts a header block: a new stream, or trailers.
func (h *h2conn) onHeaders(f *http2.HeadersFrame) bool {
	id := f.StreamID
	hb := &h.hb
	hb.begin(id, f.StreamEnded())
	if f.HasPriority() && f.Priority.StreamDep == id {
		hb.bad = http2.ErrCodeProtocol // RFC 9113 5.3.1: a stream cannot depend on itself
	}
	h.mu.Lock()
	st := h.streams[id]
	switch {
	case st != nil && (st.remoteDone || st.peerReset):
		hb.bad = http2.ErrCodeStreamClosed
	case st != nil:
		hb.trailers, hb.tst = true, st
		if !f.StreamEnded() {
			hb.bad = http2.ErrCodeProtocol // trailers must end the stream
		}
	case id%2 == 1 && id <= h.maxID && h.ignored.has(id):
		// reset by us: decoded for HPACK's sake, then ignored
	case id%2 == 1 && id <= h.maxID && h.closedIDs.has(id):
		h.mu.Unlock()
		return h.goAway(http2.ErrCodeStreamClosed) // RFC 9113 5.1, "closed"
	case id%2 == 0 || id <= h.maxID:
		h.mu.Unlock()
		return h.goAway(http2.ErrCodeProtocol)
	default:
		h.maxID = id
		if h.goingAway || h.open >= h.e.h2Streams {
			hb.refused = true
		} else if hb.bad == 0 {
			hb.st = h.newStream(id)
			h.streams[id] = hb.st
			if len(h.streams) == 1 {
				h.c.SetReadDeadline(noDeadline)
			}
		}
	}
	h.mu.Unlock()
	return h.fragment(f.HeaderBlockFragment(), f.HeadersEnded())
}

func (h *h2conn) onContinuation(f *http2.ContinuationFrame) bool {
	h.hb.frags++
	if h.hb.frags > h2MaxContinuations {
		h.f.ReqErrors.Add(1)
		return h.goAway(http2.ErrCodeEnhanceYourCalm)
	}
	return h.fragment(f.HeaderBlockFragment(), f.HeadersEnded())
}

// fragment decodes a piece of the header block. HPACK state is shared by
// the connection, so a block is always decoded, even for a refused stream.
func (h *h2conn) fragment(p []byte, ended bool) bool {
	hb := &h.hb
	hb.bytes += len(p)
	if hb.bytes > h2MaxHeaderBlock {
		h.f.ReqErrors.Add(1)
		h.dropNew()
		return h.goAway(http2.ErrCodeEnhanceYourCalm)
	}
	if _, err := h.dec.Write(p); err != nil {
		h.dropNew()
		return h.goAway(http2.ErrCodeCompression)
	}
	if !ended {
		return true
	}
	if err := h.dec.Close(); err != nil {
		h.dropNew()
		return h.goAway(http2.ErrCodeCompression)
	}
	return h.finishBlock()
}

// dropNew forgets the stream a failed header block was opening.
func (h *h2conn) dropNew() {
	if st := h.hb.st; st != nil {
		h.hb.st = nil
		h.dropStream(st)
	}
}

// finishBlock acts on a complete header block.
func (h *h2conn) finishBlock() bool {
	hb := &h.hb
	switch {
	case hb.trailers:
		// Trailer fields are dropped: the request reaches the server with
		// Content-Length or as chunked without trailers.
		code := hb.bad
		if code == 0 {
			h.mu.Lock()
			code = hb.tst.endRemote()
			h.mu.Unlock()
		}
		if code != 0 {
			h.streamError(hb.id, code)
		}
		return true
	case hb.refused:
		h.streamError(hb.id, http2.ErrCodeRefusedStream)
		return h.spend()
	case hb.st == nil:
		if hb.bad != 0 {
			h.f.ReqErrors.Add(1)
			h.streamError(hb.id, hb.bad)
		}
		return true
	}
	st := hb.st
	if hb.bad == 0 {
		hb.endHead(st)
	}
	hb.st = nil
	if hb.bad != 0 {
		h.dropStream(st)
		h.f.ReqErrors.Add(1)
		h.streamError(hb.id, hb.bad)
		return true
	}
	if hb.connect {
		h.dropStream(st)
		h.answerLocal(hb.id, 501)
		return true
	}
	h.startStream(st)
	return true
}

// emit receives each decoded field (hpack's callback).
func (hb *h2hdr) emit(f hpack.HeaderField) {
	hb.listSize += int(f.Size())
	if hb.listSize > h2MaxHeaderList {
		hb.tooBig = true
	}
	if hb.bad != 0 {
		return
	}
	if !validH2Value(f.Value) {
		hb.bad = http2.ErrCodeProtocol
		return
	}
	if strings.HasPrefix(f.Name, ":") {
		if hb.sawRegular || hb.trailers {
			hb.bad = http2.ErrCodeProtocol
			return
		}
		hb.pseudoField(f.Name, f.Value)
		return
	}
	hb.sawRegular = true
	if !validH2Name(f.Name) {
		hb.bad = http2.ErrCodeProtocol
		return
	}
	if hb.trailers || hb.st == nil || hb.tooBig {
		return
	}
	hb.regularField(f.Name, f.Value)
}

func (hb *h2hdr) pseudoField(name, value string) {
	var bit uint8
	switch name {
	case ":method":
		bit, hb.method = pMethod, value
	case ":path":
		bit, hb.path = pPath, value
	case ":scheme":
		bit, hb.scheme = pScheme, value
	case ":authority":
		bit, hb.authority = pAuthority, value
		if strings.IndexByte(value, '@') >= 0 {
			hb.bad = http2.ErrCodeProtocol // no userinfo (RFC 9113 8.3.1)
		}
	default: // :status, :protocol (no extended CONNECT), unknown
		hb.bad = http2.ErrCodeProtocol
	}
	if hb.pseudo&bit != 0 || value == "" {
		hb.bad = http2.ErrCodeProtocol
	}
	hb.pseudo |= bit
}

// regularField checks one field against the downgrade rules and writes it.
func (hb *h2hdr) regularField(name, value string) {
	switch name {
	case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
		hb.bad = http2.ErrCodeProtocol // connection-specific (RFC 9113 8.2.2)
		return
	case "te":
		if value != "trailers" {
			hb.bad = http2.ErrCodeProtocol
			return
		}
	case "host":
		if hb.pseudo&pAuthority != 0 {
			if !strings.EqualFold(value, hb.authority) {
				hb.bad = http2.ErrCodeProtocol // RFC 9113 8.3.1
			}
			return // the line written from :authority stands for it
		}
		if hb.host {
			hb.bad = http2.ErrCodeProtocol
			return
		}
		hb.host = true
	case "content-length":
		v, ok := parseCL(value)
		if !ok || (hb.cl >= 0 && v != hb.cl) {
			hb.bad = http2.ErrCodeProtocol
			return
		}
		if hb.cl >= 0 {
			return // an equal repeat
		}
		hb.cl = v
	case "cookie":
		if len(hb.cookies) > 0 {
			hb.cookies = append(hb.cookies, "; "...)
		}
		hb.cookies = append(hb.cookies, value...)
		return
	}
	if !hb.requestLine() {
		return
	}
	hb.put(name)
	hb.put(": ")
	hb.put(value)
	hb.put("\r\n")
}

func parseCL(v string) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// requestLine checks the pseudo-header fields (RFC 9113 8.3.1) and writes
// the request line and Host once, before the first regular field.
func (hb *h2hdr) requestLine() bool {
	if hb.lineDone {
		return hb.bad == 0
	}
	hb.lineDone = true
	if hb.method == "CONNECT" {
		if hb.pseudo != pMethod|pAuthority {
			hb.bad = http2.ErrCodeProtocol
		}
		hb.connect = true
		return false
	}
	if hb.pseudo&(pMethod|pPath|pScheme) != pMethod|pPath|pScheme ||
		!(hb.path[0] == '/' || (hb.path == "*" && hb.method == "OPTIONS")) {
		hb.bad = http2.ErrCodeProtocol
		return false
	}
	hb.put(hb.method)
	hb.put(" ")
	hb.put(hb.path)
	hb.put(" HTTP/1.1\r\n")
	if hb.authority != "" {
		hb.put("host: ")
		hb.put(hb.authority)
		hb.put("\r\n")
	}
	return true
}

// endHead completes the HTTP/1.1 head: cookies, body framing, blank line.
// A body without content-length is re-framed as chunked for the session.
// A head over the session's limit is cut so that the session answers 431
// exactly as it does for HTTP/1.1.
func (hb *h2hdr) endHead(st *h2stream) {
	if !hb.requestLine() {
		return
	}
	if len(hb.cookies) > 0 {
		hb.put("cookie: ")
		hb.putB(hb.cookies)
		hb.put("\r\n")
	}
	if hb.cl > 0 && hb.end {
		hb.bad = http2.ErrCodeProtocol // content-length with no DATA (RFC 9113 8.1.1)
		return
	}
	st.cl = hb.cl
	st.remoteDone = hb.end
	st.isHead = hb.method == "HEAD"
	if hb.authority != "" {
		st.s.h2Scheme = hb.scheme
	}
	if hb.cl < 0 && !hb.end {
		st.chunked = true
		hb.put("transfer-encoding: chunked\r\n")
	}
	hb.put("\r\n")
	s := st.s
	if lim := hb.h.e.limits.MaxHead; hb.tooBig || hb.n > lim {
		// No blank line within the limit: the session's parser answers 431.
		for i := min(hb.n, lim); i < lim; i++ {
			s.in[i] = 'x'
		}
		hb.n = lim
	}
	s.n = hb.n
}

// put appends to the session's input, stopping at its end (endHead then
// cuts the head).
func (hb *h2hdr) put(p string) {
	in := hb.st.s.in
	if hb.n >= len(in) {
		hb.tooBig = true
		return
	}
	k := copy(in[hb.n:], p)
	hb.n += k
	if k < len(p) {
		hb.tooBig = true
	}
}

func (hb *h2hdr) putB(p []byte) {
	in := hb.st.s.in
	k := copy(in[hb.n:], p)
	hb.n += k
	if k < len(p) {
		hb.tooBig = true
	}
}

// validH2Name: a lower-case token (RFC 9113 8.2.1; RFC 9110 5.1).
func validH2Name(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		if !h2NameChar[n[i]] {
			return false
		}
	}
	return true
}

// validH2Value: no NUL, CR or LF, and no leading or trailing SP/HTAB
// (RFC 9113 8.2.1). Other controls are left to the HTTP/1.1 parser (400).
func validH2Value(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == 0 || c == '\r' || c == '\n' {
			return false
		}
	}
	if n := len(v); n > 0 && (v[0] == ' ' || v[0] == '\t' || v[n-1] == ' ' || v[n-1] == '\t') {
		return false
	}
	return true
}

var h2NameChar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()
