package proxy

import (
	"crypto/tls"
	"net"
	"syscall"
	"time"
	"unsafe"
)

// peekFD looks at fd without consuming or waiting.
func peekFD(fd uintptr) peekState {
	var b [1]byte
	for {
		n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1,
			syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
		switch {
		case e == syscall.EINTR:
			continue
		case e == syscall.EAGAIN:
			return peekEmpty
		case e != 0 || n == 0:
			return peekClosed
		}
		return peekData
	}
}

// alive reports whether a held or pooled server connection may carry a
// request: not when the server closed or reset it while it was idle, nor
// (in clear text) when it spoke unasked, which HTTP/1.1 servers do only
// before closing. Under TLS waiting bytes may be a session ticket, so only
// a close counts. An event loop's socket is peeked only when the loop saw
// it become readable while idle (fdConn.idleEv); a goroutine lane's is
// peeked each time.
func (u *upConn) alive() bool {
	var st peekState
	switch c := u.raw().(type) {
	case *fdConn:
		if c.closed {
			return false
		}
		if !c.idleEv {
			return true
		}
		c.idleEv = false
		st = peekFD(uintptr(c.fd))
	case *net.TCPConn:
		st = u.peekTCP(c)
	case *net.UnixConn:
		st = u.peekTCP(c) // a Unix-domain server (dial_via.go)
	default:
		return true
	}
	return st == peekEmpty || (st == peekData && u.tls != nil)
}

// peekable is a goroutine lane's server socket: TCP or Unix.
type peekable interface {
	syscall.Conn
	SetReadDeadline(time.Time) error
}

// peekTCP peeks a goroutine lane's socket; the raw connection and the
// callback are made once per connection so a reuse allocates nothing.
func (u *upConn) peekTCP(c peekable) peekState {
	if u.rc == nil {
		rc, err := c.SyscallConn()
		if err != nil {
			return peekClosed
		}
		u.rc = rc
		u.peekFn = func(fd uintptr) bool {
			u.peeked = peekFD(fd)
			return true
		}
	}
	// A deadline that passed while the connection sat idle would fail the
	// peek itself; the exchange sets its own afterwards.
	c.SetReadDeadline(time.Time{})
	if err := u.rc.Read(u.peekFn); err != nil {
		return peekClosed
	}
	return u.peeked
}

// peerClosed reports whether the client has closed its side (option
// abortonclose); bytes waiting (a pipelined request) mean it has not.
func peerClosed(c net.Conn) bool {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	switch cc := c.(type) {
	case *fdConn:
		return cc.closed || peekFD(uintptr(cc.fd)) == peekClosed
	case syscall.Conn:
		rc, err := cc.SyscallConn()
		if err != nil {
			return false
		}
		st := peekEmpty
		if rc.Read(func(fd uintptr) bool { st = peekFD(fd); return true }) != nil {
			return true
		}
		return st == peekClosed
	}
	return false
}
