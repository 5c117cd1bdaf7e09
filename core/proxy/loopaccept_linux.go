package proxy

import (
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"
)

// Accepting on the event loops (issue 16 item 2). A plain HTTP listener's
// socket is put in every loop's epoll set with EPOLLEXCLUSIVE: a new client
// wakes one loop, which accepts it and starts its session on the spot, on
// its own thread, instead of an accept goroutine taking it and posting it to
// a loop (a goroutine wake-up and a loop wake-up per connection). The loops
// share the one listening socket the listener inventory (core/listen)
// already holds and hands over on reload or upgrade, so nothing changes
// there: the loops only hold a duplicate of its descriptor, closed when the
// engine stops.
//
// The accept goroutine stays the way for what the loops do not take: TLS,
// HTTP/2 and mode tcp listeners, a frontend with rate-limit sessions, and
// any listener once a loop found the connection limits (maxconn) full or
// accept failing: the goroutine then waits for a free slot, pausing the
// listener as before, and the loops leave the socket alone for good.

// epollExclusive is EPOLLEXCLUSIVE (Linux 4.5): one waiter woken per event.
const epollExclusive = 1 << 28

// acceptBatch bounds the clients one wake-up accepts, so a flood of new
// connections does not hold the loop away from its sessions.
const acceptBatch = 16

// loopListener is a listening socket the loops accept on.
type loopListener struct {
	fd  int // a duplicate of the listener's socket
	f   *Frontend
	l   net.Listener
	pp  bool
	off atomic.Bool // handed to the accept goroutine: loops leave it
	dst netip.AddrPort
}

// loopAccepts reports whether the loops can accept for listener l of f.
func (e *Engine) loopAccepts(f *Frontend, l net.Listener) bool {
	if len(e.loops) == 0 || f.cfg.Mode == ModeTCP || f.tls[l] != nil || f.isH2(l) || f.cfg.SessRate != nil {
		return false
	}
	// A TCP listener, bare or as the listener inventory's wrapper
	// (core/listen.Listener embeds *net.TCPListener).
	_, ok := l.(syscall.Conn)
	_, tcp := l.Addr().(*net.TCPAddr)
	return ok && tcp
}

// startLoopAccept puts l in every loop's epoll set; false when it could not
// (the caller then starts the accept goroutine).
func (e *Engine) startLoopAccept(f *Frontend, l net.Listener, pp bool) bool {
	fd, err := detachFD(l.(syscall.Conn))
	if err != nil {
		return false
	}
	ll := &loopListener{fd: fd, f: f, l: l, pp: pp, dst: addrPort(l.Addr())}
	for i, lp := range e.loops {
		c := &fdConn{fd: fd, l: lp, lsn: ll}
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | epollExclusive, Fd: int32(fd)}
		if err := syscall.EpollCtl(lp.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
			for _, done := range e.loops[:i] {
				syscall.EpollCtl(done.epfd, syscall.EPOLL_CTL_DEL, fd, nil)
			}
			syscall.Close(fd)
			e.log.Warn("event loops cannot accept, an accept goroutine does", "err", err)
			return false
		}
		done := make(chan struct{})
		if !lp.post(func() { lp.setFD(c); close(done) }) {
			break
		}
		<-done
	}
	e.loopLsn = append(e.loopLsn, ll)
	return true
}

// setFD records c as the connection of its descriptor.
func (l *loop) setFD(c *fdConn) {
	for c.fd >= len(l.fds) {
		l.fds = append(l.fds, make([]*fdConn, max(64, len(l.fds)))...)
	}
	l.fds[c.fd] = c
}

// acceptOn takes up to acceptBatch clients from a readable listener and
// starts their sessions on this loop.
func (l *loop) acceptOn(c *fdConn) {
	ll, e := c.lsn, l.e
	if ll.off.Load() || e.stopping.Load() {
		l.leave(c)
		return
	}
	for i := 0; i < acceptBatch && !e.stopping.Load(); i++ {
		if !e.tryAcquire(ll.f) {
			l.handBack(c)
			return
		}
		nfd, sa, err := syscall.Accept4(ll.fd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
		if err != nil {
			e.release(ll.f)
			switch err {
			case syscall.EAGAIN, syscall.EINTR, syscall.ECONNABORTED:
				return
			}
			e.log.Warn("accept failed", "frontend", ll.f.Name, "err", err)
			l.handBack(c)
			return
		}
		l.startClient(ll, nfd, sa)
	}
}

// startClient starts the session of an accepted client socket.
func (l *loop) startClient(ll *loopListener, fd int, sa syscall.Sockaddr) {
	e, f := l.e, ll.f
	e.wg.Add(1)
	syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	if f.cfg.TCPKeepAlive {
		setClientKeepAlive(fd)
	}
	src := sockaddrPort(sa)
	dst := ll.dst
	if dst.Addr().IsUnspecified() {
		if la, err := syscall.Getsockname(fd); err == nil {
			dst = sockaddrPort(la)
		}
	}
	fc := &fdConn{fd: fd, l: l, laddr: net.TCPAddrFromAddrPort(dst), raddr: net.TCPAddrFromAddrPort(src)}
	f.connOpen()
	e.actconn.Add(1)
	if err := l.register(fc); err != nil {
		e.log.Warn("event loop: cannot watch a client connection", "err", err)
		e.closeHTTP(f, fc)
		return
	}
	p := &parked{f: f, c: fc, accept: time.Now(), src: src, dst: dst, pp: ll.pp}
	l.spawn(func() { e.runHTTP(p) })
}

func sockaddrPort(sa syscall.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *syscall.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port))
	}
	return netip.AddrPort{}
}

// handBack gives the listener to an accept goroutine for the rest of the
// engine's life: it waits for a free slot (or backs off after an accept
// error) where a loop must not block.
func (l *loop) handBack(c *fdConn) {
	ll, e := c.lsn, l.e
	l.leave(c)
	if ll.off.Swap(true) {
		return
	}
	e.lwg.Add(1)
	go e.acceptLoop(ll.f, ll.l, ll.pp)
}

// leave takes the listener out of this loop's epoll set.
func (l *loop) leave(c *fdConn) {
	if c.fd < len(l.fds) && l.fds[c.fd] == c {
		l.fds[c.fd] = nil
		syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
	}
}

// stopLoopAccept takes the listeners out of every loop and closes the
// loops' descriptors; Stop calls it before waiting for sessions, so no
// loop accepts after.
func (e *Engine) stopLoopAccept() {
	for _, lp := range e.loops {
		done := make(chan struct{})
		if lp.post(func() {
			for _, ll := range e.loopLsn {
				if ll.fd < len(lp.fds) {
					if c := lp.fds[ll.fd]; c != nil && c.lsn == ll {
						lp.leave(c)
					}
				}
			}
			close(done)
		}) {
			<-done
		}
	}
	for _, ll := range e.loopLsn {
		syscall.Close(ll.fd)
	}
	e.loopLsn = nil
}

// tryAcquire is acquire without waiting.
func (e *Engine) tryAcquire(f *Frontend) bool {
	if e.slots != nil {
		select {
		case e.slots <- struct{}{}:
		default:
			return false
		}
	}
	if f.slots != nil {
		select {
		case f.slots <- struct{}{}:
		default:
			if e.slots != nil {
				<-e.slots
			}
			return false
		}
	}
	return true
}

// setClientKeepAlive gives a client accepted here, under `option
// clitcpka`/`tcpka`, the TCP keep-alive Go's listener gives the clients it
// accepts (15 s idle, 15 s between probes), the same on either accept
// path. Without the option there is none, as in HAProxy (and three system
// calls fewer per connection).
func setClientKeepAlive(fd int) {
	syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1)
	syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, 15)
	syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, 15)
}
