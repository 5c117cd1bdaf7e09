package proxy

import (
	"errors"
	"net"
	"net/netip"
)

// Server addresses without a fixed destination (HAProxy 2.6): an address
// 0.0.0.0 or :: connects to the address the client connected to (a
// transparent forward), and a server without a port, with port 0 or with
// +N / -N connects to the client's destination port plus the offset
// (SRV_F_MAPPORTS). Connections to such servers are private to their
// client: another client may have another destination.

// errNoAddress is a dial to a server that has no address yet (init-addr
// none before the first answer); RMAINT keeps such servers unpicked, this
// is the guard for a race with a resolution that removed the address.
var errNoAddress = errors.New("server has no address (waiting for DNS resolution)")

// mapped reports whether the destination depends on the client's.
func (s *server) mapped() bool { return s.dstIP || s.portMap }

// destination is where a connection for a client whose destination was
// dst goes, and the address generation it belongs to.
func (s *server) destination(dst netip.AddrPort) (netip.AddrPort, uint32, error) {
	ap, gen := s.Target()
	if !ap.Addr().IsValid() {
		if s.Via.IsUnix() {
			return netip.AddrPort{}, gen, nil // the Unix socket (dial_via.go)
		}
		return ap, gen, &net.OpError{Op: "dial", Net: "tcp", Err: errNoAddress}
	}
	if !s.mapped() {
		return ap, gen, nil
	}
	ip, port := ap.Addr(), ap.Port()
	if ip.IsUnspecified() && dst.Addr().IsValid() {
		ip = dst.Addr().Unmap()
	}
	if s.portMap {
		port = uint16(int(dst.Port()) + s.portOff) // HAProxy's set_host_port wraps at 16 bits too
	}
	return netip.AddrPortFrom(ip, port), gen, nil
}
