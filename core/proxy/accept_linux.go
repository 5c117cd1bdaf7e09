package proxy

import (
	"net"
	"net/netip"
	"os"
	"syscall"

	"github.com/varde-lb/varde/core/tlsx"
)

// rawAccept takes plain HTTP clients off a TCP listener for the event
// loops without making a net.Conn of them. Accepting through net.Listener
// costs, per connection, a registration in Go's netpoller, four
// keep-alive setsockopts, a getsockname, then (handoff) a dup, the
// netpoller deregistration and a close before the loop registers the
// socket itself: about ten system calls that connection-per-request
// traffic pays on every request (strace -c, docs/performance.md).
//
// A listener's RawConn only offers Control (its Read is EINVAL), so the
// raw accept cannot wait: it takes what the backlog holds, and when that
// is empty the accept loop waits in net.Listener.Accept as before (the one
// connection that wakes it takes the ordinary path). Under load the
// backlog is rarely empty; when idle, the cost does not matter.
type rawAccept struct {
	rc    syscall.RawConn
	laddr netip.AddrPort // the listener's address; unspecified: ask each socket
}

// rawAccepter returns the raw accept path for listener l when its clients
// go to the event loops (plain HTTP/1 over TCP), nil otherwise.
func (e *Engine) rawAccepter(f *Frontend, l net.Listener, tb *tlsx.Bind) *rawAccept {
	tl, ok := l.(*net.TCPListener)
	if !ok || tb != nil || f.isH2(l) || f.cfg.Mode == ModeTCP || len(e.loops) == 0 {
		return nil
	}
	rc, err := tl.SyscallConn()
	if err != nil {
		return nil
	}
	return &rawAccept{rc: rc, laddr: addrPort(tl.Addr())}
}

// accept takes one waiting client, if any, and hands its socket to a
// loop: ok is false when the backlog was empty (the caller then waits in
// Accept). The caller took the connection slots; when ok is false they
// are still its own.
func (ra *rawAccept) accept(e *Engine, f *Frontend, pp bool) (ok bool, err error) {
	fd := -1
	var sa syscall.Sockaddr
	var aerr error
	err = ra.rc.Control(func(lfd uintptr) {
		for {
			fd, sa, aerr = syscall.Accept4(int(lfd), syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
			if aerr != syscall.EINTR && aerr != syscall.ECONNABORTED {
				return // ECONNABORTED: the next client, as Go's Accept does
			}
		}
	})
	switch {
	case err != nil:
		return false, err
	case aerr == syscall.EAGAIN:
		return false, nil
	case aerr != nil:
		return false, os.NewSyscallError("accept4", aerr)
	}
	dst := ra.laddr
	if !dst.Addr().IsValid() || dst.Addr().IsUnspecified() {
		// A wildcard bind: the address the client reached is the socket's.
		if lsa, gerr := syscall.Getsockname(fd); gerr == nil {
			dst = addrPort(sockaddrToTCP(lsa))
		}
	}
	e.wg.Add(1)
	e.rawAccepted.Add(1)
	e.handoffFD(f, fd, addrPort(sockaddrToTCP(sa)), dst, pp)
	return true, nil
}
