package proxy

// HTTP/2 on the client side (docs/http2.md). One connection is served by
// goroutines over Go's netpoller: this reader goroutine decodes frames and
// each stream runs the ordinary HTTP/1.1 session code (http.go) on its own
// goroutine, over an h2stream (a net.Conn whose Read yields the request body
// and whose Write turns the HTTP/1.1 response back into frames). Frames are
// written by whoever has them under one write lock; the last writer waiting
// flushes, so concurrent streams share syscalls.

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/varde-lb/varde/core/sample"
	"io"
	"net"
	"net/netip"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/varde-lb/varde/core/proxyproto"
)

// Limits of the HTTP/2 side (docs/http2.md).
const (
	h2MaxStreams       = 100     // default SETTINGS_MAX_CONCURRENT_STREAMS (tune.h2.max-concurrent-streams: Engine.h2Streams)
	h2Window           = 65535   // stream receive window (HAProxy's tune.h2.initial-window-size)
	h2ConnWindow       = 1 << 20 // connection receive window
	h2MaxFrame         = 16384   // SETTINGS_MAX_FRAME_SIZE, both ways unless the client asks for less
	h2MaxHeaderList    = 65536   // SETTINGS_MAX_HEADER_LIST_SIZE (RFC 7541 4.1 sizes)
	h2MaxHeaderBlock   = 2 * h2MaxHeaderList
	h2MaxContinuations = 32   // CONTINUATION frames in one header block (CVE-2024-27316)
	h2ResetBudget      = 100  // client resets (or refused streams) per h2BudgetPeriod (CVE-2023-44487)
	h2MaxResetBudget   = 1000 // the budget's ceiling, however large tune.h2.max-concurrent-streams is
	h2BudgetPeriod     = time.Second
	h2RefundAt         = 16384 // receive-window bytes consumed before a WINDOW_UPDATE
)

var h2Preface = []byte(http2.ClientPreface)

type h2conn struct {
	e        *Engine
	f        *Frontend
	c        net.Conn
	br       *bufio.Reader
	bw       *bufio.Writer
	fr       *http2.Framer
	dec      *hpack.Decoder
	enc      *hpack.Encoder
	encBuf   bytes.Buffer
	lname    []byte // lower-cased response field name scratch
	accept   time.Time
	src, dst netip.AddrPort
	vars     *sample.SessVars     // sess. variables its streams share (vars.go)
	tls      *tls.ConnectionState // over TLS (ALPN h2): what ssl_fc* and the log see
	th       int32                // TLS handshake time, ms (%Th of the first stream)
	done     chan struct{}
	wg       sync.WaitGroup // stream goroutines

	wmu     sync.Mutex
	waiting atomic.Int32
	werr    error
	wdl     time.Time     // last write deadline set
	flushQ  atomic.Bool   // a flush is queued for the flusher
	flushCh chan struct{} // wakes the flusher

	mu         sync.Mutex
	streams    map[uint32]*h2stream
	sendWin    int64 // connection send window
	peerWin    int64 // the client's SETTINGS_INITIAL_WINDOW_SIZE
	peerFrame  int   // the client's SETTINGS_MAX_FRAME_SIZE
	goingAway  bool
	goawaySent bool
	closed     bool
	nstreams   int // streams served so far (the first takes no pooled upstream)
	open       int // streams counted against SETTINGS_MAX_CONCURRENT_STREAMS
	maxID      uint32
	ignored    idRing // streams we reset: their frames in flight are ignored (RFC 9113 5.4.2)
	closedIDs  idRing // streams closed otherwise: their frames are STREAM_CLOSED errors

	// reader goroutine only
	recvWin     int64 // connection receive window left
	refund      int64 // connection bytes consumed, not yet returned
	hb          h2hdr // header block being decoded
	budgetStart time.Time
	budgetUsed  int
}

// serveH2 serves an HTTP/2 connection (prior knowledge on `bind ... proto
// h2`, or ALPN "h2" after a TLS handshake) on any net.Conn. Like serveHTTP,
// it owns c and the accept slot: it counts the connection, and closes and
// releases it at the end (closeHTTP).
func (e *Engine) serveH2(f *Frontend, c net.Conn, a admission) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	if !a.done {
		// tcp-request connection rules and the PROXY header come before
		// the connection preface, as before a TLS handshake.
		a.src, a.dst = addrPort(c.RemoteAddr()), addrPort(c.LocalAddr())
		e.track(c) // a stop past its grace closes a header still awaited
		admitted := !(a.pp || f.hasL4Rules()) || f.admit(c, make([]byte, proxyproto.MaxV2Len), a.pp, &a.src, &a.dst)
		e.untrack(c)
		if !admitted {
			c.Close()
			e.release(f)
			e.wg.Done()
			return
		}
	}
	f.connOpen()
	e.actconn.Add(1)
	h := newH2conn(e, f, c)
	h.src, h.dst = a.src, a.dst
	if a.tls != nil {
		h.tls, h.accept, h.th = a.tls, a.accept, a.th
	}
	e.track(c) // closed at the end of a graceful stop's grace
	defer func() {
		if r := recover(); r != nil {
			e.Panics.Add(1)
			e.log.Error("panic in http2 connection, closed it", "frontend", f.Name, "client", h.src.String(), "panic", r, "stack", string(debug.Stack()))
		}
		h.shutdown()
		e.untrack(c)
		h.vars.Release()
		e.closeHTTP(f, c)
	}()
	go h.flusher()
	h.serve()
}

func newH2conn(e *Engine, f *Frontend, c net.Conn) *h2conn {
	h := &h2conn{
		e: e, f: f, c: c, accept: time.Now(), done: make(chan struct{}),
		src: addrPort(c.RemoteAddr()), dst: addrPort(c.LocalAddr()),
		streams: map[uint32]*h2stream{}, sendWin: 65535, peerWin: 65535, peerFrame: 16384,
		recvWin: h2ConnWindow, flushCh: make(chan struct{}, 1),
	}
	// Small enough for idle connections; a DATA frame larger than the
	// writer's buffer goes straight to the socket.
	h.br = bufio.NewReaderSize(c, 4<<10)
	h.bw = bufio.NewWriterSize(c, 8<<10)
	h.fr = http2.NewFramer(h.bw, h.br)
	h.fr.SetMaxReadFrameSize(h2MaxFrame)
	h.dec = hpack.NewDecoder(4096, h.hb.emit)
	h.dec.SetMaxStringLength(h2MaxHeaderList)
	h.enc = hpack.NewEncoder(&h.encBuf)
	// No dynamic table on the way out (as HAProxy's encoder): responses
	// are encoded from the session's buffers without copying them.
	h.enc.SetMaxDynamicTableSizeLimit(0)
	h.enc.SetMaxDynamicTableSize(0)
	h.hb.h = h
	return h
}

// serve reads the preface, sends our settings, then reads frames until
// the connection ends.
func (h *h2conn) serve() {
	h.c.SetReadDeadline(after(h.idleTimeout()))
	var pre [24]byte
	n, err := io.ReadFull(h.br, pre[:])
	if n == 0 && err != nil {
		return // connected and left (or idle) without a byte: nothing to say
	}
	if err != nil || !bytes.Equal(pre[:], h2Preface) {
		h.f.ReqErrors.Add(1)
		h.goAway(http2.ErrCodeProtocol)
		return
	}
	h.lockW()
	h.fr.WriteSettings(
		http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: uint32(h.e.h2Streams)},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: h2MaxHeaderList},
	)
	h.fr.WriteWindowUpdate(0, h2ConnWindow-65535)
	h.unlockW()
	for {
		fr, err := h.fr.ReadFrame()
		if err != nil {
			if !h.readFailed(err) {
				return
			}
			continue
		}
		if !h.handle(fr) {
			return
		}
	}
}

// readFailed handles a ReadFrame error: a stream error resets the stream
// and reading goes on; anything else ends the connection.
func (h *h2conn) readFailed(err error) bool {
	var se http2.StreamError
	var ce http2.ConnectionError
	switch {
	case errors.As(err, &se):
		h.streamError(se.StreamID, se.Code)
		return true
	case errors.As(err, &ce):
		h.goAway(http2.ErrCode(ce))
	case errors.Is(err, http2.ErrFrameTooLarge):
		h.goAway(http2.ErrCodeFrameSize)
	case isTimeout(err):
		h.mu.Lock()
		quiet := len(h.streams) == 0
		h.mu.Unlock()
		if quiet {
			h.goAway(http2.ErrCodeNo)
		}
	}
	return false
}

// handle processes one frame; false ends the connection.
func (h *h2conn) handle(fr http2.Frame) bool {
	switch f := fr.(type) {
	case *http2.DataFrame:
		return h.onData(f)
	case *http2.HeadersFrame:
		return h.onHeaders(f)
	case *http2.ContinuationFrame:
		return h.onContinuation(f)
	case *http2.RSTStreamFrame:
		return h.onReset(f)
	case *http2.SettingsFrame:
		return h.onSettings(f)
	case *http2.PingFrame:
		if !f.IsAck() {
			h.lockW()
			h.fr.WritePing(true, f.Data)
			h.unlockW()
		}
		return true
	case *http2.WindowUpdateFrame:
		return h.onWindowUpdate(f)
	case *http2.PriorityFrame:
		if f.StreamDep == f.StreamID {
			h.streamError(f.StreamID, http2.ErrCodeProtocol)
		}
		return true
	case *http2.GoAwayFrame:
		h.mu.Lock()
		h.goingAway = true
		idle := len(h.streams) == 0
		h.mu.Unlock()
		return !idle
	case *http2.PushPromiseFrame:
		return h.goAway(http2.ErrCodeProtocol)
	}
	return true // unknown frame types are ignored (RFC 9113 5.5)
}

// onSettings applies the client's settings and acknowledges them.
func (h *h2conn) onSettings(f *http2.SettingsFrame) bool {
	if f.IsAck() {
		return true
	}
	var bad http2.ErrCode
	f.ForeachSetting(func(s http2.Setting) error {
		if err := s.Valid(); err != nil {
			var ce http2.ConnectionError
			if errors.As(err, &ce) {
				bad = http2.ErrCode(ce)
			} else {
				bad = http2.ErrCodeProtocol
			}
			return err
		}
		switch s.ID {
		case http2.SettingInitialWindowSize:
			h.setPeerWindow(int64(s.Val))
		case http2.SettingMaxFrameSize:
			h.mu.Lock()
			h.peerFrame = int(min(s.Val, h2MaxFrame))
			h.mu.Unlock()
		}
		return nil
	})
	if bad != 0 {
		return h.goAway(bad)
	}
	h.lockW()
	h.fr.WriteSettingsAck()
	h.unlockW()
	return true
}

// setPeerWindow applies a new SETTINGS_INITIAL_WINDOW_SIZE to every open
// stream's send window (RFC 9113 6.9.2; a window may become negative).
func (h *h2conn) setPeerWindow(v int64) {
	h.mu.Lock()
	delta := v - h.peerWin
	h.peerWin = v
	for _, st := range h.streams {
		st.sendWin += delta
		st.signal()
	}
	h.mu.Unlock()
}

func (h *h2conn) onWindowUpdate(f *http2.WindowUpdateFrame) bool {
	inc := int64(f.Increment)
	h.mu.Lock()
	if f.StreamID == 0 {
		h.sendWin += inc
		over := h.sendWin > 1<<31-1
		for _, st := range h.streams {
			st.signal()
		}
		h.mu.Unlock()
		if over {
			return h.goAway(http2.ErrCodeFlowControl)
		}
		return true
	}
	st := h.streams[f.StreamID]
	if st == nil {
		idle := f.StreamID > h.maxID
		h.mu.Unlock()
		if idle {
			return h.goAway(http2.ErrCodeProtocol)
		}
		return true
	}
	st.sendWin += inc
	over := st.sendWin > 1<<31-1
	st.signal()
	h.mu.Unlock()
	if over {
		h.streamError(f.StreamID, http2.ErrCodeFlowControl)
	}
	return true
}

// onReset ends a stream the client cancelled. Resets of live streams count
// against the rapid-reset budget.
func (h *h2conn) onReset(f *http2.RSTStreamFrame) bool {
	h.mu.Lock()
	st := h.streams[f.StreamID]
	idle := st == nil && f.StreamID > h.maxID
	if st != nil && !st.reset {
		st.reset, st.peerReset = true, true
		h.uncount(st)
		st.signal()
	}
	h.mu.Unlock()
	if idle {
		return h.goAway(http2.ErrCodeProtocol)
	}
	if st != nil {
		return h.spend()
	}
	return true
}

// spend takes one unit of the abuse budget (client resets of live streams,
// streams refused over the concurrency limit); beyond it the connection is
// closed with ENHANCE_YOUR_CALM.
func (h *h2conn) spend() bool {
	now := time.Now()
	if now.Sub(h.budgetStart) > h2BudgetPeriod {
		h.budgetStart, h.budgetUsed = now, 0
	}
	h.budgetUsed++
	// A larger stream limit lets a client cancel as many streams at once;
	// the budget stays bounded whatever the limit.
	if h.budgetUsed > min(max(h2ResetBudget, h.e.h2Streams), h2MaxResetBudget) {
		h.f.ReqErrors.Add(1)
		return h.goAway(http2.ErrCodeEnhanceYourCalm)
	}
	return true
}

// onData queues request body bytes for their stream, enforcing both
// receive windows and the announced content-length.
func (h *h2conn) onData(f *http2.DataFrame) bool {
	n := int64(f.Length)
	if n > h.recvWin {
		return h.goAway(http2.ErrCodeFlowControl)
	}
	h.recvWin -= n
	// The stream windows bound what is buffered; the connection window is
	// returned as soon as bytes arrive.
	h.refund += n
	if h.refund >= h2RefundAt {
		h.lockW()
		h.fr.WriteWindowUpdate(0, uint32(h.refund))
		h.unlockW()
		h.recvWin += h.refund
		h.refund = 0
	}
	id := f.StreamID
	h.mu.Lock()
	st := h.streams[id]
	if st == nil || st.remoteDone || st.reset {
		idle := st == nil && id > h.maxID
		ignore := (st == nil && h.ignored.has(id)) || (st != nil && st.reset && !st.peerReset)
		h.mu.Unlock()
		switch {
		case idle:
			return h.goAway(http2.ErrCodeProtocol)
		case ignore:
			return true
		}
		h.streamError(id, http2.ErrCodeStreamClosed)
		return true
	}
	code := st.receive(f, n)
	h.mu.Unlock()
	if code != 0 {
		h.streamError(id, code)
	}
	return true
}

// idRing remembers the last few closed stream ids.
type idRing struct {
	ids [16]uint32
	n   int
}

func (r *idRing) add(id uint32) {
	r.ids[r.n%len(r.ids)] = id
	r.n++
}

func (r *idRing) has(id uint32) bool {
	for _, v := range r.ids {
		if v == id && id != 0 {
			return true
		}
	}
	return false
}

// streamError sends RST_STREAM and makes the stream's reads and writes fail.
func (h *h2conn) streamError(id uint32, code http2.ErrCode) {
	h.mu.Lock()
	if st := h.streams[id]; st != nil {
		st.reset = true
		h.uncount(st)
		st.signal()
	}
	h.ignored.add(id)
	h.mu.Unlock()
	h.lockW()
	h.fr.WriteRSTStream(id, code)
	h.unlockW()
}

// goAway sends GOAWAY with code (once) and returns false: the caller ends
// the connection, except for a graceful NO_ERROR drain.
func (h *h2conn) goAway(code http2.ErrCode) bool {
	h.mu.Lock()
	sent := h.goawaySent
	h.goawaySent, h.goingAway = true, true
	last := h.maxID
	h.mu.Unlock()
	if !sent {
		h.lockW()
		h.fr.WriteGoAway(last, code, nil)
		h.unlockW()
	}
	return false
}

// idleTimeout is how long a connection without streams may stay silent:
// timeout http-keep-alive, else timeout client (HAProxy's h2 idle timeout).
func (h *h2conn) idleTimeout() time.Duration {
	return h.f.idleH2Timeout()
}

func (f *Frontend) idleH2Timeout() time.Duration {
	if t := f.cfg.Timeouts.HTTPKeepAlive; t > 0 {
		return t
	}
	return f.cfg.Timeouts.Client // 0: none, as HAProxy
}

// drain starts a graceful stop of the connection (engine Stop): GOAWAY
// with the last stream id, no new streams, close once the streams in
// flight have ended.
func (h *h2conn) drain() {
	h.goAway(http2.ErrCodeNo)
	h.mu.Lock()
	if len(h.streams) == 0 {
		h.c.SetReadDeadline(time.Now())
	}
	h.mu.Unlock()
}

// shutdown ends the connection: every stream's reads and writes fail, the
// stream goroutines are awaited, and the socket lingers briefly so the
// GOAWAY is read rather than destroyed by a reset.
func (h *h2conn) shutdown() {
	h.mu.Lock()
	h.closed = true
	close(h.done)
	for _, st := range h.streams {
		st.reset = true
	}
	h.mu.Unlock()
	h.lockW()
	h.unlockW()
	if tc, ok := h.c.(interface{ CloseWrite() error }); ok && tc.CloseWrite() == nil {
		h.c.SetReadDeadline(time.Now().Add(lingerTime))
		io.CopyN(io.Discard, h.c, lingerBytes)
	}
	h.c.Close()
	h.wg.Wait()
}

// kickFlush asks the flusher to send what streams left buffered. Streams
// whose answers are ready at about the same time then share one write.
func (h *h2conn) kickFlush() {
	if h.flushQ.CompareAndSwap(false, true) {
		h.flushCh <- struct{}{}
	}
}

// flusher flushes on request until the connection ends. It yields once
// before flushing so that streams ready to write join the batch.
// It also drains the connection when the engine stops (one goroutine for
// both).
func (h *h2conn) flusher() {
	stop := h.e.stopCh
	for {
		select {
		case <-h.flushCh:
		case <-h.done:
			return
		case <-stop:
			stop = nil
			h.drain()
			continue
		}
		runtime.Gosched()
		h.flushQ.Store(false)
		h.lockW()
		h.unlockW()
	}
}

// lockW takes the frame writer.
func (h *h2conn) lockW() {
	h.waiting.Add(1)
	h.wmu.Lock()
	h.waiting.Add(-1)
	// The buffered writer may flush in the middle of a write: the deadline
	// is set before any write, refreshed at most every 100 ms.
	if now := time.Now(); now.Sub(h.wdl) > 100*time.Millisecond {
		h.wdl = now
		h.c.SetWriteDeadline(after(h.writeTimeout()))
	}
}

// unlockW releases the frame writer, flushing unless another writer is
// waiting (it will flush). A write failure closes the connection.
func (h *h2conn) unlockW() error { return h.unlockWFlush(true) }

// unlockWFlush is unlockW that may leave the frames buffered: a stream's
// Write sends its HEADERS and DATA with one flush at the end.
func (h *h2conn) unlockWFlush(flush bool) error {
	if flush && h.werr == nil && h.waiting.Load() == 0 && h.bw.Buffered() > 0 {
		if err := h.bw.Flush(); err != nil {
			h.werr = err
			h.c.Close()
		}
	}
	err := h.werr
	h.wmu.Unlock()
	return err
}

func (h *h2conn) writeTimeout() time.Duration {
	return h.f.cfg.Timeouts.Client // 0: none, as HAProxy
}

// openH2 opens the frontend's `proto h2` binds and marks its HTTP/2
// listeners (engine Start).
func (f *Frontend) openH2(opened *[]net.Listener) error {
	if len(f.cfg.H2Binds)+len(f.cfg.H2Listeners) == 0 {
		return nil
	}
	if f.cfg.Mode == ModeTCP {
		return fmt.Errorf("proxy: frontend %s: proto h2 needs mode http", f.Name)
	}
	f.h2l = map[net.Listener]bool{}
	for i, addr := range f.cfg.H2Binds {
		l, err := f.e.cfg.Sockets.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("proxy: frontend %s: bind %s: %w", f.Name, addr, err)
		}
		*opened = append(*opened, l)
		f.listeners = append(f.listeners, l)
		f.pp = append(f.pp, i < len(f.cfg.H2AcceptProxy) && f.cfg.H2AcceptProxy[i])
		f.h2l[l] = true
	}
	for _, l := range f.cfg.H2Listeners {
		f.listeners = append(f.listeners, l)
		f.pp = append(f.pp, false)
		f.h2l[l] = true
	}
	return nil
}

// isH2 reports whether l serves HTTP/2 with prior knowledge.
func (f *Frontend) isH2(l net.Listener) bool { return f.h2l[l] }
