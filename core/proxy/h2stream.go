package proxy

import (
	"errors"
	"github.com/varde-lb/varde/core/sample"
	"io"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/varde-lb/varde/core/httpx"
)

// h2stream is one HTTP/2 stream as the session sees it: a net.Conn whose
// Read yields the request body (re-framed as chunked when the client gave
// no content-length) and whose Write takes the HTTP/1.1 response the
// session produces and sends it as HEADERS and DATA frames.
type h2stream struct {
	h    *h2conn
	id   uint32
	s    *session
	wake chan struct{} // the reader signals data, window or reset
	t    *time.Timer

	// guarded by h.mu
	recv       []byte // body bytes received, not yet read
	roff       int
	remoteDone bool  // END_STREAM received
	reset      bool  // reads and writes fail from now on
	peerReset  bool  // the client sent RST_STREAM
	localDone  bool  // END_STREAM sent (or about to be)
	counted    bool  // counts against SETTINGS_MAX_CONCURRENT_STREAMS
	sendWin    int64 // what we may still send
	recvWin    int64 // what the client may still send
	consumed   int64 // bytes read (or padding) not yet returned with WINDOW_UPDATE
	cl, got    int64 // announced content-length (-1 none), DATA bytes received

	// set with the head, then owned by the stream goroutine
	chunked   bool
	isHead    bool
	lastChunk bool
	pending   bool // frames written by this stream, not yet flushed
	rdl, wdl  time.Time
	out       *h2out
}

// h2out is the response side of a stream: the HTTP/1.1 response being
// turned into frames. Pooled: its Fields slice is sized for a full head.
type h2out struct {
	state  uint8
	head   []byte // a response head split across writes
	resp   httpx.Response
	kind   httpx.BodyKind
	remain int64
	ck     dechunk
	ended  bool // END_STREAM sent
}

const (
	outHead uint8 = iota
	outBody
	outDone
)

var (
	errH2Reset  = errors.New("http2: stream reset")
	errH2Closed = errors.New("http2: connection closed")
	h2outPool   = sync.Pool{New: func() any { return &h2out{resp: httpx.Response{Head: httpx.Head{Fields: make([]httpx.Field, 0, 128)}}} }}
	respLimits  = httpx.Limits{MaxHead: 1 << 20, MaxHeaders: 1 << 10}
)

// newStream opens stream id with a pooled session (h.mu held).
func (h *h2conn) newStream(id uint32) *h2stream {
	st := &h2stream{h: h, id: id, wake: make(chan struct{}, 1), sendWin: h.peerWin, recvWin: h2Window, cl: -1, counted: true}
	h.open++
	s := h.e.pool.Get().(*session)
	s.f, s.conn, s.n, s.closeAfter, s.park, s.linger = h.f, st, 0, false, false, false
	// Only a connection's first stream is a "first request" (http-reuse
	// safe: it never takes another client's idle server connection).
	s.nreq = min(h.nstreams, 1)
	h.nstreams++
	s.lane = 0
	s.accept, s.src, s.dst, s.tls, s.th = h.accept, h.src, h.dst, h.tls, h.th
	s.h2 = true
	if h.vars == nil {
		h.vars = sample.NewSessVars() // pooled: shared by the streams, locked
	}
	s.scr.vars.Sess = h.vars
	st.s = s
	return st
}

// dropStream forgets a stream that never ran (reader goroutine).
func (h *h2conn) dropStream(st *h2stream) {
	h.releaseSession(st.s)
	st.s = nil
	h.forget(st)
}

func (h *h2conn) releaseSession(s *session) {
	if s.up != nil {
		s.up.s.putIdle(s.up, time.Now())
		s.up = nil
	}
	s.conn, s.f, s.h2, s.h2Scheme = nil, nil, false, ""
	s.detachVars() // the connection's, released when it closes
	h.e.pool.Put(s)
}

// forget removes a stream; when none is left, the connection's idle
// timeout runs again (or a draining connection ends).
func (h *h2conn) forget(st *h2stream) {
	h.mu.Lock()
	st.reset = true
	h.uncount(st)
	delete(h.streams, st.id)
	h.closedIDs.add(st.id)
	if len(h.streams) == 0 && !h.closed {
		if h.goingAway {
			h.c.SetReadDeadline(time.Now())
		} else {
			h.c.SetReadDeadline(after(h.idleTimeout()))
		}
	}
	h.mu.Unlock()
}

// startStream runs the stream's transaction on a goroutine: an idle
// worker when there is one, else a new one.
func (h *h2conn) startStream(st *h2stream) {
	h.wg.Add(1)
	if w := h2workers.take(); w != nil {
		w.next <- st
		return
	}
	go h2worker(&h2w{next: make(chan *h2stream, 1)}, st)
}

// h2workers holds the idle stream workers. A worker keeps its goroutine,
// its grown stack and its timer for the next stream (a new goroutine per
// stream spends measurable time growing its stack). The most recently idle
// is reused first; one idle for h2WorkerIdle is ended by the reaper. Each
// worker waits on its own channel, without a timer: a shared channel and a
// per-stream idle timer cost a select and two timer updates per stream.
var h2workers h2idleStack

const h2WorkerIdle = 10 * time.Second

type h2w struct {
	next chan *h2stream // the next stream; nil ends the worker
	gen  uint64         // the reaper's tick when it went idle
}

type h2idleStack struct {
	mu     sync.Mutex
	idle   []*h2w // oldest first
	gen    uint64 // reaper ticks (a clock without time.Now per stream)
	reaper sync.Once
}

// take pops the most recently idle worker, or nil.
func (p *h2idleStack) take() *h2w {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.idle)
	if n == 0 {
		return nil
	}
	w := p.idle[n-1]
	p.idle[n-1] = nil
	p.idle = p.idle[:n-1]
	return w
}

// put makes w available for the next stream.
func (p *h2idleStack) put(w *h2w) {
	p.reaper.Do(func() { go p.reap() })
	p.mu.Lock()
	w.gen = p.gen
	p.idle = append(p.idle, w)
	p.mu.Unlock()
}

// reap ends the workers idle for h2WorkerIdle to 1.5 x h2WorkerIdle,
// forever (one goroutine per process, started with the first worker).
func (p *h2idleStack) reap() {
	for range time.Tick(h2WorkerIdle / 2) {
		p.tick()
	}
}

// tick advances the reaper's clock and ends the workers idle since two
// ticks or more (oldest first: they are at the bottom of the stack).
func (p *h2idleStack) tick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gen++
	k := 0
	for k < len(p.idle) && p.idle[k].gen+2 <= p.gen {
		p.idle[k].next <- nil
		k++
	}
	p.idle = append(p.idle[:0], p.idle[k:]...)
}

func h2worker(w *h2w, st *h2stream) {
	t := time.NewTimer(time.Hour)
	t.Stop()
	for st != nil {
		st.t = t
		st.h.runStream(st)
		h2workers.put(w)
		st = <-w.next
	}
}

func (h *h2conn) runStream(st *h2stream) {
	defer h.wg.Done()
	st.out = h2outPool.Get().(*h2out)
	st.out.state, st.out.head, st.out.ended = outHead, st.out.head[:0], false
	s := st.s
	defer h.endStream(st)
	defer func() {
		if r := recover(); r != nil {
			// A bug must cost one stream, not the process.
			h.e.Panics.Add(1)
			h.e.log.Error("panic in http2 stream, reset it", "frontend", h.f.Name, "client", h.src.String(), "panic", r, "stack", string(debug.Stack()))
			if s.up != nil {
				s.up.c.Close()
				s.up = nil
			}
		}
	}()
	h.stickStream(s) // the connection's stick counters (stick.go)
	defer stickStreamEnd(s)
	s.transaction()
}

// endStream completes the stream after its transaction: END_STREAM for a
// response delimited by the server's close, RST_STREAM for one cut short,
// NO_ERROR reset when the response ended before the request did.
func (h *h2conn) endStream(st *h2stream) {
	o := st.out
	switch {
	case o.ended:
	case o.state == outBody && o.kind == httpx.BodyEOF:
		if st.sendData(nil, true) == nil {
			o.ended = true
		}
		st.flush()
	}
	h.mu.Lock()
	reset, done := st.reset, st.remoteDone
	h.mu.Unlock()
	switch {
	case reset:
	case !o.ended:
		h.streamError(st.id, http2.ErrCodeInternal)
	case !done:
		h.streamError(st.id, http2.ErrCodeNo)
	}
	h.releaseSession(st.s)
	st.s = nil
	st.out = nil
	h2outPool.Put(o)
	h.forget(st)

}

// signal wakes the stream goroutine (h.mu held or not).
func (st *h2stream) signal() {
	select {
	case st.wake <- struct{}{}:
	default:
	}
}

// wait blocks until signalled, the deadline passes or the connection ends.
func (st *h2stream) wait(dl time.Time) error {
	if dl.IsZero() {
		select {
		case <-st.wake:
			return nil
		case <-st.h.done:
			return errH2Closed
		}
	}
	d := time.Until(dl)
	if d <= 0 {
		return os.ErrDeadlineExceeded
	}
	st.t.Reset(d)
	select {
	case <-st.wake:
		st.t.Stop()
		return nil
	case <-st.t.C:
		return os.ErrDeadlineExceeded
	case <-st.h.done:
		st.t.Stop()
		return errH2Closed
	}
}

// receive queues a DATA frame of n bytes, padding included (h.mu held);
// it returns the stream error to send, if any.
func (st *h2stream) receive(f *http2.DataFrame, n int64) http2.ErrCode {
	if n > st.recvWin {
		return http2.ErrCodeFlowControl
	}
	st.recvWin -= n
	data := f.Data()
	st.consumed += n - int64(len(data)) // padding is returned with the next update
	st.got += int64(len(data))
	if st.cl >= 0 && st.got > st.cl {
		return http2.ErrCodeProtocol // more DATA than content-length (RFC 9113 8.1.1)
	}
	if len(data) > 0 {
		if st.roff > 0 && len(st.recv)+len(data) > cap(st.recv) {
			k := copy(st.recv, st.recv[st.roff:])
			st.recv, st.roff = st.recv[:k], 0
		}
		st.recv = append(st.recv, data...)
	}
	if f.StreamEnded() {
		return st.endRemote()
	}
	st.signal()
	return 0
}

// endRemote marks END_STREAM (h.mu held): the body must have exactly the
// announced content-length.
func (st *h2stream) endRemote() http2.ErrCode {
	if st.cl >= 0 && st.got != st.cl {
		return http2.ErrCodeProtocol
	}
	st.remoteDone = true
	st.h.uncount(st)
	st.signal()
	return 0
}

// uncount stops counting a stream against the concurrency limit once it is
// closed in the protocol's sense, both ends done or reset (h.mu held): the
// client may open the next one as soon as it has our END_STREAM.
func (h *h2conn) uncount(st *h2stream) {
	if st.counted && (st.reset || (st.localDone && st.remoteDone)) {
		st.counted = false
		h.open--
	}
}

// Read yields the request body.
func (st *h2stream) Read(p []byte) (int, error) {
	h := st.h
	for {
		h.mu.Lock()
		if st.reset {
			h.mu.Unlock()
			return 0, errH2Reset
		}
		if st.roff < len(st.recv) {
			n, used := st.take(p)
			refund := st.returnWindow(used)
			h.mu.Unlock()
			if refund > 0 {
				h.lockW()
				h.fr.WriteWindowUpdate(st.id, uint32(refund))
				h.unlockW()
			}
			return n, nil
		}
		done := st.remoteDone
		h.mu.Unlock()
		if done {
			if st.chunked && !st.lastChunk {
				st.lastChunk = true
				return copy(p, "0\r\n\r\n"), nil
			}
			return 0, io.EOF
		}
		if err := st.wait(st.rdl); err != nil {
			return 0, err
		}
	}
}

// take copies pending body bytes into p, inside one chunk when the body is
// re-framed as chunked (h.mu held). used is the body bytes taken.
func (st *h2stream) take(p []byte) (n, used int) {
	src := st.recv[st.roff:]
	if !st.chunked {
		used = copy(p, src)
		n = used
	} else {
		if len(p) < 16 {
			return 0, 0
		}
		m := min(len(src), len(p)-14)
		b := strconv.AppendInt(p[:0], int64(m), 16)
		b = append(b, '\r', '\n')
		b = append(b, src[:m]...)
		b = append(b, '\r', '\n')
		n, used = len(b), m
	}
	st.roff += used
	if st.roff == len(st.recv) {
		st.recv, st.roff = st.recv[:0], 0
	}
	return n, used
}

// returnWindow accounts consumed bytes and returns how much window to give
// back now (h.mu held).
func (st *h2stream) returnWindow(used int) int64 {
	st.consumed += int64(used)
	if st.remoteDone || st.consumed < h2RefundAt {
		return 0
	}
	r := st.consumed
	st.consumed = 0
	st.recvWin += r
	return r
}

// Write takes HTTP/1.1 response bytes from the session.
func (st *h2stream) Write(p []byte) (int, error) {
	n := len(p)
	o := st.out
	defer st.flush()
	for len(p) > 0 {
		var err error
		switch o.state {
		case outHead:
			p, err = st.writeHead(p)
		case outBody:
			p, err = st.writeBody(p)
		default:
			return n, nil // bytes behind the response's end are dropped
		}
		if err != nil {
			return 0, err
		}
	}
	return n, nil
}

// flush sends what this stream's Write left buffered.
func (st *h2stream) flush() {
	if st.pending {
		st.pending = false
		st.h.kickFlush()
	}
}

// writeHead parses a response head (completing one split across writes)
// and sends it; it returns the bytes behind the head.
func (st *h2stream) writeHead(p []byte) ([]byte, error) {
	o := st.out
	buf := p
	if len(o.head) > 0 {
		o.head = append(o.head, p...)
		buf = o.head
	}
	r := &o.resp
	err := r.Parse(buf, respLimits)
	if err == httpx.ErrIncomplete {
		if len(o.head) == 0 {
			o.head = append(o.head, p...)
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rest := buf[r.HeadLen:]
	if len(o.head) > 0 {
		// rest aliases o.head: keep it, the next head starts over.
		rest = append([]byte(nil), rest...)
		o.head = o.head[:0]
	}
	if r.Status < 200 {
		return rest, st.sendHead(r, false)
	}
	o.kind = r.ResponseBody(st.isHead)
	o.remain = r.ContentLength
	o.ck = dechunk{}
	end := o.kind == httpx.BodyNone
	if err := st.sendHead(r, end); err != nil {
		return nil, err
	}
	o.state = outBody
	if end {
		o.state, o.ended = outDone, true
	}
	return rest, nil
}

// writeBody sends body bytes as DATA, decoding a chunked body.
func (st *h2stream) writeBody(p []byte) ([]byte, error) {
	o := st.out
	switch o.kind {
	case httpx.BodyLength:
		take := min(int64(len(p)), o.remain)
		o.remain -= take
		end := o.remain == 0
		if err := st.sendData(p[:take], end); err != nil {
			return nil, err
		}
		if end {
			o.state, o.ended = outDone, true
		}
		return nil, nil
	case httpx.BodyChunked:
		data, rest, done := o.ck.next(p)
		if len(data) > 0 || done {
			if err := st.sendData(data, done); err != nil {
				return nil, err
			}
		}
		if done {
			o.state, o.ended = outDone, true
		}
		return rest, nil
	}
	return nil, st.sendData(p, false)
}

// sendData sends p as DATA frames within the flow-control windows.
func (st *h2stream) sendData(p []byte, end bool) error {
	h := st.h
	for {
		h.mu.Lock()
		if st.reset || h.closed {
			h.mu.Unlock()
			return errH2Reset
		}
		avail := min(st.sendWin, h.sendWin, int64(h.peerFrame), int64(len(p)))
		if len(p) > 0 && avail <= 0 {
			h.mu.Unlock()
			st.flush() // the client must see our data to return window
			if err := st.wait(st.wdl); err != nil {
				return err
			}
			continue
		}
		st.sendWin -= avail
		h.sendWin -= avail
		last := end && int(avail) == len(p)
		if last {
			st.localDone = true
			h.uncount(st)
		}
		h.mu.Unlock()
		chunk := p[:avail]
		p = p[avail:]
		h.lockW()
		h.fr.WriteData(st.id, last, chunk)
		st.pending = true
		if err := h.unlockWFlush(false); err != nil {
			return err
		}
		if len(p) == 0 {
			return nil
		}
	}
}

// sendHead encodes the response head as HEADERS (and CONTINUATION), lower
// case and without the connection-specific fields.
func (st *h2stream) sendHead(r *httpx.Response, end bool) error {
	h := st.h
	if end {
		h.mu.Lock()
		st.localDone = true
		h.uncount(st)
		h.mu.Unlock()
	}
	h.lockW()
	h.encBuf.Reset()
	h.enc.WriteField(hpack.HeaderField{Name: ":status", Value: h2Status(r.Status)})
	for i := range r.Fields {
		name := r.Name(i)
		if h2DropField(name) || r.ListedInConnection(name) {
			continue
		}
		h.lname = append(h.lname[:0], name...)
		for j, c := range h.lname {
			if 'A' <= c && c <= 'Z' {
				h.lname[j] = c + 'a' - 'A'
			}
		}
		// Safe without copies: the encoder keeps no dynamic table.
		h.enc.WriteField(hpack.HeaderField{Name: bytesString(h.lname), Value: bytesString(r.Value(i))})
	}
	h.writeBlock(st.id, h.encBuf.Bytes(), end)
	st.pending = true
	return h.unlockWFlush(false)
}

// writeBlock writes a header block, split at the client's frame size
// (h.wmu held).
func (h *h2conn) writeBlock(id uint32, block []byte, end bool) {
	h.mu.Lock()
	max := h.peerFrame
	h.mu.Unlock()
	first := block[:min(len(block), max)]
	block = block[len(first):]
	h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: first, EndStream: end, EndHeaders: len(block) == 0})
	for len(block) > 0 {
		k := min(len(block), max)
		h.fr.WriteContinuation(id, k == len(block), block[:k])
		block = block[k:]
	}
}

// answerLocal answers a stream with an empty response (CONNECT: 501).
func (h *h2conn) answerLocal(id uint32, status int) {
	h.lockW()
	h.encBuf.Reset()
	h.enc.WriteField(hpack.HeaderField{Name: ":status", Value: h2Status(status)})
	h.enc.WriteField(hpack.HeaderField{Name: "content-length", Value: "0"})
	h.writeBlock(id, h.encBuf.Bytes(), true)
	h.unlockW()
	h.mu.Lock()
	h.ignored.add(id)
	h.mu.Unlock()
}

// h2URI is the request target as HAProxy 2.6 logs an HTTP/2 request
// (%r, %HU, %HP): scheme://authority/path when the client sent :authority,
// else the path. Built in s.out, free until the server head is written.
func (s *session) h2URI() []byte {
	target := s.req.Target.Of(s.in)
	host, ok := s.req.Field("host")
	if s.h2Scheme == "" || !ok {
		return target
	}
	o := append(s.out[:0], s.h2Scheme...)
	o = append(o, "://"...)
	o = append(o, host...)
	o = append(o, target...)
	s.out = o
	return o
}

func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// h2DropField: connection-specific fields never sent in HTTP/2.
func h2DropField(name []byte) bool {
	switch len(name) {
	case 2:
		return httpx.EqualFold(name, "te")
	case 7:
		return httpx.EqualFold(name, "upgrade")
	case 10:
		return httpx.EqualFold(name, "connection") || httpx.EqualFold(name, "keep-alive")
	case 16:
		return httpx.EqualFold(name, "proxy-connection")
	case 17:
		return httpx.EqualFold(name, "transfer-encoding")
	}
	return false
}

var h2StatusText = func() (t [1000]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

func h2Status(code int) string {
	if code < 0 || code >= len(h2StatusText) {
		return "500"
	}
	return h2StatusText[code]
}

// net.Conn plumbing: deadlines are the stream's own.

func (st *h2stream) Close() error                       { return nil }
func (st *h2stream) LocalAddr() net.Addr                { return st.h.c.LocalAddr() }
func (st *h2stream) RemoteAddr() net.Addr               { return st.h.c.RemoteAddr() }
func (st *h2stream) SetReadDeadline(t time.Time) error  { st.rdl = t; return nil }
func (st *h2stream) SetWriteDeadline(t time.Time) error { st.wdl = t; return nil }
func (st *h2stream) SetDeadline(t time.Time) error {
	st.rdl, st.wdl = t, t
	return nil
}

var noDeadline time.Time

// dechunk decodes a chunked body the session has already validated. With
// keep set it also keeps the trailer section (bounded), which the
// compressed relay forwards after its last chunk as HAProxy does; HTTP/2
// streams drop trailers.
type dechunk struct {
	st      uint8
	n       int64
	keep    bool
	trailer []byte
}

// maxTrailer bounds a kept trailer section.
const maxTrailer = 4096

const (
	dcSize uint8 = iota
	dcExt
	dcData
	dcDataEnd
	dcTrailer
	dcTrailerLine
	dcDone
)

// next returns the next data bytes of p, the input left behind them, and
// whether the body ended (trailers are dropped).
func (d *dechunk) next(p []byte) (data, rest []byte, done bool) {
	for len(p) > 0 {
		c := p[0]
		switch d.st {
		case dcSize:
			if v := unhexByte(c); v >= 0 {
				d.n = d.n<<4 | int64(v)
				p = p[1:]
				continue
			}
			d.st = dcExt
		case dcExt:
			if c == '\n' {
				d.st = dcData
				if d.n == 0 {
					d.st = dcTrailer
				}
			}
			p = p[1:]
		case dcData:
			k := min(int64(len(p)), d.n)
			d.n -= k
			if d.n == 0 {
				d.st = dcDataEnd
			}
			return p[:k], p[k:], false
		case dcDataEnd:
			if c == '\n' {
				d.st, d.n = dcSize, 0
			}
			p = p[1:]
		case dcTrailer, dcTrailerLine:
			if p = d.trailerByte(p); d.st == dcDone {
				return nil, p, true
			}
		default:
			return nil, p, true
		}
	}
	return nil, nil, d.st == dcDone
}

// trailerByte consumes one byte of the trailer section, keeping it when
// asked, until the blank line that ends the body.
func (d *dechunk) trailerByte(p []byte) []byte {
	c := p[0]
	if d.st == dcTrailer && (c == '\r' || c == '\n') {
		if c == '\n' {
			d.st = dcDone
		}
		return p[1:]
	}
	d.st = dcTrailerLine
	if c == '\n' {
		d.st = dcTrailer
	}
	if d.keep && len(d.trailer) < maxTrailer {
		d.trailer = append(d.trailer, c)
	}
	return p[1:]
}

func unhexByte(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
