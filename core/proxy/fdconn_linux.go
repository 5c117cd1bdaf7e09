package proxy

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
	"unsafe"
)

var errNotInLoop = errors.New("proxy: event-loop connection used outside its loop")

// fdConn is a non-blocking socket served by a loop. It implements net.Conn
// for the session code; every method runs on the loop's thread (inside the
// session's coroutine or a posted function), so it needs no locking.
type fdConn struct {
	fd       int
	l        *loop
	t        *task // the coroutine waiting on it
	closed   bool
	detached bool // handed to Go's netpoller (tunnel): fd belongs elsewhere
	// idleEv: the loop saw the socket readable while no coroutine waited
	// on it; for a pooled server connection that means the server closed
	// it or spoke unasked (upConn.alive checks before reuse).
	idleEv   bool
	rdl, wdl int64
	laddr    net.Addr
	raddr    net.Addr
	lsn      *loopListener // a listening socket the loop accepts on (loopaccept_linux.go)
}

func (c *fdConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if c.closed {
			return 0, net.ErrClosed
		}
		n, err := rawRead(c.fd, p)
		if n > 0 {
			return n, nil
		}
		switch err {
		case nil:
			return 0, io.EOF
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			if c.rdl != 0 && time.Now().UnixNano() >= c.rdl {
				return 0, c.opErr("read", os.ErrDeadlineExceeded)
			}
			if werr := c.l.wait(c, waitRead, c.rdl); werr != nil {
				return 0, c.opErr("read", werr)
			}
		default:
			return 0, c.opErr("read", err)
		}
	}
}

func (c *fdConn) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		if c.closed {
			return done, net.ErrClosed
		}
		n, err := rawWrite(c.fd, p[done:])
		if n > 0 {
			done += n
			continue
		}
		switch err {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			if c.wdl != 0 && time.Now().UnixNano() >= c.wdl {
				return done, c.opErr("write", os.ErrDeadlineExceeded)
			}
			if werr := c.l.wait(c, waitWrite, c.wdl); werr != nil {
				return done, c.opErr("write", werr)
			}
		case nil:
			return done, c.opErr("write", io.ErrShortWrite)
		default:
			return done, c.opErr("write", err)
		}
	}
	return done, nil
}

func (c *fdConn) opErr(op string, err error) error {
	if err == net.ErrClosed {
		return err
	}
	if errno, ok := err.(syscall.Errno); ok {
		err = os.NewSyscallError(op, errno)
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.laddr, Addr: c.raddr, Err: err}
}

// Close releases the socket. A coroutine waiting on it (another session's,
// via `shutdown sessions`) is woken and sees the connection closed.
func (c *fdConn) Close() error {
	if c.closed {
		return net.ErrClosed
	}
	c.closed = true
	if c.detached {
		return nil
	}
	l := c.l
	if c.fd < len(l.fds) && l.fds[c.fd] == c {
		l.fds[c.fd] = nil
	}
	delete(l.parked, c)
	err := syscall.Close(c.fd)
	if t := c.t; t != nil && t != l.cur {
		if l.cur == nil {
			l.resume(t)
		} else {
			l.post(func() {
				if t.wc == c {
					l.resume(t)
				}
			})
		}
	}
	return err
}

func (c *fdConn) fdNum() int { return c.fd }

// SetLinger is net.TCPConn's: 0 makes Close reset the connection.
func (c *fdConn) SetLinger(sec int) error {
	if c.closed {
		return net.ErrClosed
	}
	l := syscall.Linger{Onoff: 1, Linger: int32(sec)}
	if sec < 0 {
		l = syscall.Linger{}
	}
	return syscall.SetsockoptLinger(c.fd, syscall.SOL_SOCKET, syscall.SO_LINGER, &l)
}

// waitReadable waits for the socket's next readiness (more bytes after a
// peek) or the read deadline.
func (c *fdConn) waitReadable() error {
	if c.closed {
		return net.ErrClosed
	}
	if c.rdl != 0 && time.Now().UnixNano() >= c.rdl {
		return c.opErr("read", os.ErrDeadlineExceeded)
	}
	if err := c.l.wait(c, waitRead, c.rdl); err != nil {
		return c.opErr("read", err)
	}
	return nil
}

// CloseWrite half-closes the connection (lingering close, tunnels).
func (c *fdConn) CloseWrite() error {
	if c.closed {
		return net.ErrClosed
	}
	return syscall.Shutdown(c.fd, syscall.SHUT_WR)
}

func (c *fdConn) LocalAddr() net.Addr {
	if c.laddr == nil && !c.closed {
		if sa, err := syscall.Getsockname(c.fd); err == nil {
			c.laddr = sockaddrToTCP(sa)
		}
	}
	return c.laddr
}

func (c *fdConn) RemoteAddr() net.Addr { return c.raddr }

func (c *fdConn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func (c *fdConn) SetReadDeadline(t time.Time) error {
	c.rdl = unixNano(t)
	return nil
}

func (c *fdConn) SetWriteDeadline(t time.Time) error {
	c.wdl = unixNano(t)
	return nil
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// netConn moves the socket to Go's netpoller (for work offloaded to a
// goroutine, such as a tunnel) and returns it as an ordinary net.Conn; c is
// then closed for the loop's purposes.
func (c *fdConn) netConn() (net.Conn, error) {
	if c.closed {
		return nil, net.ErrClosed
	}
	l := c.l
	syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
	if c.fd < len(l.fds) && l.fds[c.fd] == c {
		l.fds[c.fd] = nil
	}
	f := os.NewFile(uintptr(c.fd), "tcp")
	nc, err := net.FileConn(f)
	f.Close()
	c.closed, c.detached = true, true
	return nc, err
}

// dialLoop connects to the server from loop l without blocking the loop.
func (s *server) dialLoop(l *loop, dst, src netip.AddrPort, timeout time.Duration) (*upConn, error) {
	s.Meters.Connect.Add(1)
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ap, gen, err := s.destination(dst)
	if err != nil {
		return nil, err
	}
	hop := s.hop(ap)
	fd, err := syscall.Socket(hop.family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: hop.net, Addr: hop.raddr, Err: os.NewSyscallError("socket", err)}
	}
	if hop.family != syscall.AF_UNIX {
		syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
		if s.b.cfg.TCPKeepAlive {
			setKeepAlive(fd)
		}
	}
	c := &fdConn{fd: fd, l: l, raddr: hop.raddr}
	fail := func(err error) (*upConn, error) {
		c.Close()
		return nil, &net.OpError{Op: "dial", Net: hop.net, Addr: hop.raddr, Err: err}
	}
	deadline := time.Now().Add(timeout).UnixNano()
	if err := s.bindSource(fd, hop, src); err != nil {
		return fail(err)
	}
	if err := l.connect(c, hop.sa, deadline); err != nil {
		return fail(err)
	}
	if hop.socks {
		if err := socks4Loop(c, ap, deadline); err != nil {
			return fail(err)
		}
	}
	return &upConn{c: c, s: s, lane: l.idx, gen: gen}, nil
}

// connect connects c's socket to sa without blocking the loop, and
// watches it in the loop's epoll set. The socket joins the set only once
// connect(2) started: an unconnected socket reports itself writable, so
// registered earlier its first wake-up would come before the connection
// (HAProxy too sends as soon as the socket turns writable, with no
// getpeername(2) to tell a spurious wake-up).
func (l *loop) connect(c *fdConn, sa syscall.Sockaddr, deadline int64) error {
	err := syscall.Connect(c.fd, sa)
	switch err {
	case nil, syscall.EINPROGRESS, syscall.EALREADY, syscall.EINTR:
	default:
		return os.NewSyscallError("connect", err)
	}
	if rerr := l.register(c); rerr != nil {
		return rerr
	}
	if err == nil {
		return nil
	}
	if werr := l.wait(c, waitWrite, deadline); werr != nil {
		return werr
	}
	soerr, gerr := syscall.GetsockoptInt(c.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
	if gerr != nil {
		return os.NewSyscallError("getsockopt", gerr)
	}
	if soerr != 0 {
		return os.NewSyscallError("connect", syscall.Errno(soerr))
	}
	return nil
}

// setKeepAlive gives a server socket the TCP keep-alive Go's own dialer
// and listeners give theirs (15s idle, 15s interval, 9 probes), so a server
// that vanished without a FIN is noticed on idle connections: what
// `option srvtcpka` asks of HAProxy, and what docs/config.md promises for
// every connection.
func setKeepAlive(fd int) {
	syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1)
	syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, 15)
	syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, 15)
	syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT, 9)
}

func sockaddrToTCP(sa syscall.Sockaddr) net.Addr {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]).To16(), Port: a.Port}
	case *syscall.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
	}
	return nil
}

// dialFor dials srv in the lane of the client connection c, whose
// destination was dst (for servers that map it, resolve_addr.go) and
// source src (usesrc, dial_via.go).
func dialFor(c net.Conn, srv *server, dst, src netip.AddrPort, timeout time.Duration) (*upConn, error) {
	if fc, ok := c.(*fdConn); ok && fc.l.cur != nil {
		return srv.dialLoop(fc.l, dst, src, timeout)
	}
	return srv.dial(dst, src, timeout)
}

// toNetConn returns c as a connection usable from any goroutine.
func toNetConn(c net.Conn) (net.Conn, error) {
	if fc, ok := c.(*fdConn); ok {
		return fc.netConn()
	}
	return c, nil
}

// isLoopConn reports whether c is served by an event loop.
func isLoopConn(c net.Conn) bool {
	_, ok := c.(*fdConn)
	return ok
}

// rawRead and rawWrite skip the scheduler's syscall bookkeeping: the
// socket is non-blocking, so the call never parks the thread.
func rawRead(fd int, p []byte) (int, error) {
	r, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

func rawWrite(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}
