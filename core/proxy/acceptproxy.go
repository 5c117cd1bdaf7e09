package proxy

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/varde-lb/varde/core/proxyproto"
)

// PROXY protocol on accepted connections (`bind ... accept-proxy`).
//
// As HAProxy, the header is read before anything else on the connection
// (before any TLS handshake, before the first request), under `timeout
// client`. The socket is peeked, never over-read: once the header is
// parsed exactly its bytes are consumed, so whatever follows (a request, a
// TLS ClientHello) is still in the socket for the next layer. A connection
// that closes, times out or sends anything that is not a valid header is
// closed without an answer (nothing HTTP was read, so HAProxy sends no
// 400 either) and counted in the frontend's ProxyErrors.

// admission is what a connection's server needs to know before serving it:
// pp, it starts with a PROXY header; done, admit already ran (before a TLS
// handshake) and src/dst are the addresses it settled.
type admission struct {
	pp, done bool
	src, dst netip.AddrPort
	// Over TLS (serveTLS): the handshake's state, when the connection was
	// accepted and how long the handshake took (%t, %Th).
	tls    *tls.ConnectionState
	accept time.Time
	th     int32
}

// admit runs what happens once per client connection before anything is
// read from it, in HAProxy's order: tcp-request connection rules (on the
// socket's own addresses), then the PROXY header of an accept-proxy bind,
// which replaces *src and *dst. A TLS handshake belongs after it. false:
// the caller closes the connection (already counted).
func (f *Frontend) admit(c net.Conn, buf []byte, pp bool, src, dst *netip.AddrPort) bool {
	if len(f.cfg.TCPConnection) > 0 && !f.connectionRules(c, *src, *dst) {
		return false
	}
	if pp && f.acceptProxy(c, buf, src, dst) != nil {
		f.closeConnCounters(c) // tracked by a connection rule (stick.go)
		return false
	}
	if len(f.cfg.TCPSession) > 0 && !f.sessionRules(c, *src, *dst) { // stick.go
		return false
	}
	f.countSession(c)
	return true
}

// hasL4Rules reports whether admit has rules to run: callers that skip
// admit without a PROXY header ask it.
func (f *Frontend) hasL4Rules() bool {
	return len(f.cfg.TCPConnection) > 0 || len(f.cfg.TCPSession) > 0
}

// connectionRules evaluates tcp-request connection rules: the first whose
// condition matches decides; none matching accepts. A rejected connection
// is reset (HAProxy closes it with a single RST) and counted.
func (f *Frontend) connectionRules(c net.Conn, src, dst netip.AddrPort) bool {
	v := &tcpView{src: src, dst: dst, final: true}
	for _, r := range f.cfg.TCPConnection {
		if r.Cond != nil && !r.Cond.Match(v) {
			continue
		}
		if r.Track != nil {
			f.connTrack(r.Track, v) // and on to the next rule
			continue
		}
		f.keepConn(c, v, r.Reject)
		if r.Reject {
			f.DeniedConns.Add(1)
			if l, ok := c.(interface{ SetLinger(int) error }); ok {
				l.SetLinger(0)
			}
			return false
		}
		return true
	}
	f.keepConn(c, v, false)
	return true
}

// errProxyTooLong: the peek buffer filled without a complete header.
var errProxyTooLong = errors.New("proxy: PROXY header longer than the buffer")

// acceptProxy reads the PROXY header of c and returns the client and
// destination addresses to use: the header's, or src and dst unchanged for
// a LOCAL/UNKNOWN header. buf is scratch space.
func (f *Frontend) acceptProxy(c net.Conn, buf []byte, src, dst *netip.AddrPort) error {
	c.SetReadDeadline(after(f.cfg.Timeouts.Client)) // none when unset, as HAProxy
	var h proxyproto.Header
	n, err := peekProxy(c, buf[:min(len(buf), proxyproto.MaxV2Len)], &h)
	if err == nil {
		_, err = io.ReadFull(c, buf[:n])
	}
	c.SetReadDeadline(time.Time{})
	if err != nil {
		if !errors.Is(err, io.EOF) {
			// A connection closed before its first byte (a port
			// probe, a TCP check) sent no bad header: not counted,
			// as a TLS bind does not count it as a failed handshake.
			f.ProxyErrors.Add(1)
		}
		return err
	}
	if !h.Local {
		*src, *dst = h.Src, h.Dst
	}
	return nil
}

// peekProxy peeks at c until buf holds a complete header (its length is
// returned), an invalid one, EOF, or the deadline.
func peekProxy(c net.Conn, buf []byte, h *proxyproto.Header) (int, error) {
	if fc, ok := c.(peekWaiter); ok {
		return peekLoop(fc, buf, h)
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, errors.New("proxy: accept-proxy needs a socket")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var perr error
	err = rc.Read(func(fd uintptr) bool {
		n, perr = peekOnce(int(fd), buf, h)
		// false: wait until the socket is readable again (more bytes).
		return perr != syscall.EAGAIN && perr != proxyproto.ErrIncomplete
	})
	if err != nil {
		return 0, err
	}
	return n, perr
}

// peekWaiter is an event-loop connection: it peeks and waits for more
// bytes without blocking its loop.
type peekWaiter interface {
	fdNum() int
	waitReadable() error
}

func peekLoop(c peekWaiter, buf []byte, h *proxyproto.Header) (int, error) {
	for {
		n, err := peekOnce(c.fdNum(), buf, h)
		if err != syscall.EAGAIN && err != proxyproto.ErrIncomplete {
			return n, err
		}
		if werr := c.waitReadable(); werr != nil {
			return 0, werr
		}
	}
}

// peekOnce peeks what fd holds and parses it: the header length, or
// EAGAIN (nothing yet), ErrIncomplete (a prefix), io.EOF, a parse error.
func peekOnce(fd int, buf []byte, h *proxyproto.Header) (int, error) {
	m, _, err := syscall.Recvfrom(fd, buf, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	switch {
	case err == syscall.EINTR || err == syscall.EAGAIN:
		return 0, syscall.EAGAIN
	case err != nil:
		return 0, os.NewSyscallError("recvfrom", err)
	case m == 0:
		return 0, io.EOF
	}
	n, perr := proxyproto.Parse(buf[:m], h)
	if perr == proxyproto.ErrIncomplete && m == len(buf) {
		return 0, errProxyTooLong
	}
	return n, perr
}
