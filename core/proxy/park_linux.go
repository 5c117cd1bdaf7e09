package proxy

import (
	"net"
	"sync"
	"syscall"
	"time"
)

// parkAfter is how long an idle keep-alive connection keeps its session
// (buffers and goroutine) before it is parked. Busy clients never reach it,
// so the fast path is unaffected; idle ones cost a few hundred bytes
// instead of buffers plus a goroutine stack, which is what lets 10,000 idle
// keep-alive clients fit in HAProxy-like memory.
const parkAfter = 50 * time.Millisecond

// loopParkAfter is parkAfter for a client served by an event loop: the
// socket already sits in the loop's epoll set, so parking it only ends its
// coroutine and hands the session's buffers (3 x tune.bufsize) back. A
// short hold keeps keep-alive clients that answer at once (wrk, a browser
// fetching a page's objects) on their session, which the CPU per request
// shows (parking at once: +15-20 % for 50 keep-alive clients); a long one
// keeps every client that connected in the last hold on 48 KiB of buffers,
// which is what idle memory measured (10,000 clients arriving one after
// the other: 51 MiB RSS with 50 ms, 33 MiB with 2 ms; docs/performance.md).
const loopParkAfter = 2 * time.Millisecond

// parker holds idle client connections in one epoll set. When one becomes
// readable (next request, or close) a goroutine resumes it with a fresh
// session; timeout http-keep-alive is enforced by a sweep.
type parker struct {
	e      *Engine
	epfd   int
	mu     sync.Mutex
	conns  map[int]*parked
	closed bool
	done   chan struct{}
}

func newParker(e *Engine) *parker {
	p := &parker{e: e, epfd: -1, conns: map[int]*parked{}, done: make(chan struct{})}
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		e.log.Warn("idle connection parking disabled", "err", err)
		close(p.done)
		return p
	}
	p.epfd = fd
	return p
}

func (p *parker) enabled() bool { return p.epfd >= 0 }

// release closes the epoll set of a parker whose loop never started.
func (p *parker) release() {
	if p.enabled() {
		syscall.Close(p.epfd)
		p.epfd = -1
	}
}

func (p *parker) start() {
	if p.enabled() {
		go p.loop()
	}
}

// park registers the connection; false means it could not be parked and
// the caller closes it.
func (p *parker) park(pc *parked) bool {
	if !p.enabled() {
		return false
	}
	tc, ok := parkableTCP(pc.c)
	if !ok {
		return false
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return false
	}
	fd := -1
	rc.Control(func(f uintptr) { fd = int(f) })
	if fd < 0 {
		return false
	}
	pc.fd = fd
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return false
	}
	p.conns[fd] = pc
	p.mu.Unlock()
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT, Fd: int32(fd)}
	if err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		p.mu.Lock()
		delete(p.conns, fd)
		p.mu.Unlock()
		return false
	}
	return true
}

// parkableTCP finds the socket under a client connection: the
// connection itself, or what wrappers expose through NetConn (a TLS client
// parks after a read that returned nothing: any record it holds is
// incomplete, so only its next bytes on the socket make progress, and
// those wake it).
func parkableTCP(c net.Conn) (*net.TCPConn, bool) {
	for i := 0; i < 4; i++ {
		if tc, ok := c.(*net.TCPConn); ok {
			return tc, true
		}
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return nil, false
		}
		c = u.NetConn()
	}
	return nil, false
}

// canPark reports whether an idle client can be parked rather than kept
// waiting with its session.
func (p *parker) canPark(c net.Conn) bool {
	if !p.enabled() {
		return false
	}
	_, ok := parkableTCP(c)
	return ok
}

// take removes fd from the set; the caller then owns the connection.
func (p *parker) take(fd int) *parked {
	p.mu.Lock()
	pc := p.conns[fd]
	if pc != nil {
		delete(p.conns, fd)
	}
	p.mu.Unlock()
	if pc != nil {
		syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, fd, nil)
	}
	return pc
}

func (p *parker) loop() {
	defer close(p.done)
	defer syscall.Close(p.epfd)
	events := make([]syscall.EpollEvent, 256)
	lastSweep := time.Now()
	for {
		n, err := syscall.EpollWait(p.epfd, events, 200)
		if err != nil && err != syscall.EINTR {
			p.e.log.Error("epoll wait failed; parked connections closed", "err", err)
			p.closeAll()
			return
		}
		for i := 0; i < n; i++ {
			if pc := p.take(int(events[i].Fd)); pc != nil {
				go p.e.runHTTP(pc)
			}
		}
		select {
		case <-p.e.stopCh:
			if p.e.isLingering() {
				break // a drain: parked clients may still send a request
			}
			p.closeAll()
			return
		default:
		}
		if now := time.Now(); now.Sub(lastSweep) >= 100*time.Millisecond {
			lastSweep = now
			p.sweep(now)
		}
	}
}

// sweep closes the connections whose keep-alive wait is over.
func (p *parker) sweep(now time.Time) {
	var expired []*parked
	p.mu.Lock()
	for fd, pc := range p.conns {
		if !pc.deadline.IsZero() && !now.Before(pc.deadline) { // zero: no timeout
			delete(p.conns, fd)
			expired = append(expired, pc)
		}
	}
	p.mu.Unlock()
	for _, pc := range expired {
		syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, pc.fd, nil)
		p.e.closeConn(pc)
	}
}

// closeAll closes every parked connection (graceful stop: they are idle).
func (p *parker) closeAll() {
	p.mu.Lock()
	p.closed = true
	list := make([]*parked, 0, len(p.conns))
	for fd, pc := range p.conns {
		delete(p.conns, fd)
		list = append(list, pc)
	}
	p.mu.Unlock()
	for _, pc := range list {
		if p.epfd >= 0 {
			syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, pc.fd, nil)
		}
		p.e.closeConn(pc)
	}
}

// Parked reports how many idle connections are parked.
func (e *Engine) Parked() int {
	e.parker.mu.Lock()
	n := len(e.parker.conns)
	e.parker.mu.Unlock()
	return n + e.loopParked()
}
