package proxy

import (
	"net"
	"net/netip"
	"syscall"
)

// noteBackendSrc records the server connection's local address for %bi
// and %bp, when the frontend's log-format reads them (HAProxy's backend
// source: the address varde connected from).
func (s *session) noteBackendSrc(up *upConn) {
	if s.f.cfg.LogBackendSrc {
		s.rec.BackendSrc = up.localAddr()
	}
}

// localAddr is the connection's own address, read once (a reused
// connection keeps it): from the net.Conn, or getsockname(2) for an event
// loop's socket, which does not keep it.
func (u *upConn) localAddr() netip.AddrPort {
	if u.local.IsValid() {
		return u.local
	}
	if fc, ok := u.c.(*fdConn); ok {
		if sa, err := syscall.Getsockname(fc.fd); err == nil {
			u.local = sockaddrPort(sa)
		}
		return u.local
	}
	if tc, ok := u.c.LocalAddr().(*net.TCPAddr); ok && tc != nil {
		ap := tc.AddrPort()
		u.local = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return u.local
}
