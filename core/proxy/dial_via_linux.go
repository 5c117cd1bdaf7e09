package proxy

import (
	"net"
	"net/netip"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/varde-lb/varde/core"
)

// The event loop's side of dial_via.go: the socket a server connection
// opens, its source bind and the SOCKS4 handshake on the loop.

// dialHop is the socket a dial opens and where it connects first.
type dialHop struct {
	family int
	sa     syscall.Sockaddr
	raddr  net.Addr
	net    string
	socks  bool // the hop is the SOCKS4 proxy: the handshake follows
}

// hop is where a connection to ap starts: the Unix socket of a Unix
// server (ap then carries no address), the SOCKS4 proxy, or ap itself.
func (s *server) hop(ap netip.AddrPort) dialHop {
	v := s.Via
	if !ap.Addr().IsValid() && v.IsUnix() {
		return dialHop{family: syscall.AF_UNIX, sa: v.UnixSockaddr(), raddr: v.UnixAddr(), net: "unix"}
	}
	socks := v != nil && v.SOCKS4.IsValid()
	if socks {
		ap = v.SOCKS4
	}
	h := inetHop(ap)
	h.socks = socks
	return h
}

func inetHop(ap netip.AddrPort) dialHop {
	h := dialHop{family: syscall.AF_INET, raddr: net.TCPAddrFromAddrPort(ap), net: "tcp"}
	if ap.Addr().Is4() || ap.Addr().Is4In6() {
		h.sa = &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().Unmap().As4()}
	} else {
		h.family = syscall.AF_INET6
		h.sa = &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	}
	return h
}

// bindSource binds the socket to the server's `source` address before it
// connects, or with `usesrc` to the client's (or a fixed foreign) one. Without a fixed port the kernel picks it at connect time
// (IP_BIND_ADDRESS_NO_PORT, as HAProxy sets it), so many connections
// from one source address to different servers share ports.
func (s *server) bindSource(fd int, h dialHop, client netip.AddrPort) error {
	v := s.Via
	if v == nil || h.family == syscall.AF_UNIX {
		return nil
	}
	src, foreign := v.BindAddr(client)
	if err := v.PrepareSocket(fd, foreign, h.family == syscall.AF_INET6); err != nil {
		return err
	}
	if !src.IsValid() {
		return nil
	}
	var sa syscall.Sockaddr
	if h.family == syscall.AF_INET {
		if !src.Addr().Unmap().Is4() {
			return &net.AddrError{Err: "source address is not IPv4 like the server's", Addr: src.String()}
		}
		sa = &syscall.SockaddrInet4{Port: int(src.Port()), Addr: src.Addr().Unmap().As4()}
	} else {
		if !src.Addr().Is6() {
			return &net.AddrError{Err: "source address is not IPv6 like the server's", Addr: src.String()}
		}
		sa = &syscall.SockaddrInet6{Port: int(src.Port()), Addr: src.Addr().As16()}
	}
	if src.Port() == 0 {
		syscall.SetsockoptInt(fd, syscall.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	} else {
		syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	}
	if err := syscall.Bind(fd, sa); err != nil {
		return os.NewSyscallError("bind", err)
	}
	return nil
}

// socks4Loop runs the SOCKS4 handshake on a loop connection; its reads
// and writes yield to the loop like any other.
func socks4Loop(c *fdConn, dst netip.AddrPort, deadline int64) error {
	c.rdl, c.wdl = deadline, deadline
	err := core.SOCKS4Handshake(c, dst)
	c.rdl, c.wdl = 0, 0
	return err
}
