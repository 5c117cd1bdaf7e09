package core

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"time"
)

// Via is how connections to a server are opened when it is not a plain
// TCP connect (HAProxy 2.6: a unix@/abns@ server address, `source`,
// `socks4` and `check-via-socks4`). Traffic and health checks share it, so
// a check reaches the server the way its connections do.
type Via struct {
	// Unix is the socket path of a Unix-domain server; an abstract
	// (abns@) name starts with '@', the kernel's leading NUL.
	Unix string
	// Source is the local address bound before connecting (`source`);
	// port 0 lets the kernel pick one. Zero: no bind.
	Source netip.AddrPort
	// UseSrc is `source ... usesrc` (full transparent proxying): traffic
	// binds the client's address (UseSrcClient: address and port,
	// UseSrcClientIP: address) or UseAddr, a foreign address bound with
	// IP_TRANSPARENT; health checks keep Source, as HAProxy's.
	UseSrc  UseSrcMode
	UseAddr netip.AddrPort
	// Interface is `source ... interface NAME`: connections and checks
	// leave through that interface only (SO_BINDTODEVICE).
	Interface string
	// SOCKS4 is the SOCKS4 proxy the connection goes through (`socks4`);
	// CheckSOCKS4 makes health checks go through it too
	// (`check-via-socks4`), which HAProxy does not do by default.
	SOCKS4      netip.AddrPort
	CheckSOCKS4 bool
}

// UseSrcMode is how `usesrc` picks the address traffic connects from.
type UseSrcMode uint8

// The `usesrc` forms.
const (
	UseSrcNone     UseSrcMode = iota
	UseSrcClient              // usesrc client
	UseSrcClientIP            // usesrc clientip
	UseSrcAddr                // usesrc ADDR[:PORT]
)

// ClientBound reports whether a connection names its client (usesrc
// client|clientip): it must never serve another client.
func (v *Via) ClientBound() bool {
	return v != nil && (v.UseSrc == UseSrcClient || v.UseSrc == UseSrcClientIP)
}

// BindAddr is the local address a connection for a client at src binds
// (invalid: none), and whether it is foreign (IP_TRANSPARENT). Without a
// valid src (a health check) it is Source.
func (v *Via) BindAddr(src netip.AddrPort) (netip.AddrPort, bool) {
	if v == nil {
		return netip.AddrPort{}, false
	}
	ip := src.Addr().Unmap()
	switch {
	case v.UseSrc == UseSrcClient && ip.IsValid():
		return netip.AddrPortFrom(ip, src.Port()), true
	case v.UseSrc == UseSrcClientIP && ip.IsValid():
		return netip.AddrPortFrom(ip, 0), true
	case v.UseSrc == UseSrcAddr && src.IsValid():
		return v.UseAddr, true
	}
	return v.Source, false
}

// IsUnix reports whether v reaches a Unix-domain socket.
func (v *Via) IsUnix() bool { return v != nil && v.Unix != "" }

// UnixSockaddr is the socket address of a Unix-domain server.
func (v *Via) UnixSockaddr() *syscall.SockaddrUnix {
	return &syscall.SockaddrUnix{Name: v.Unix}
}

// UnixAddr is v's Unix socket as a net address ('@' abstract names are
// understood by Go's dialer as by the kernel).
func (v *Via) UnixAddr() *net.UnixAddr { return &net.UnixAddr{Name: v.Unix, Net: "unix"} }

// Dial opens a connection to dst, or to v's Unix socket when dst is not
// valid, for a client at src (invalid for a health check), with v's source
// address and SOCKS4 proxy (socks: go through it). It blocks for at most
// timeout and honours ctx.
func (v *Via) Dial(ctx context.Context, dst, src netip.AddrPort, timeout time.Duration, socks bool) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	if v == nil {
		return d.DialContext(ctx, "tcp", dst.String())
	}
	if !dst.IsValid() && v.Unix != "" {
		return d.DialContext(ctx, "unix", v.Unix)
	}
	bind, foreign := v.BindAddr(src)
	if bind.IsValid() {
		d.LocalAddr = net.TCPAddrFromAddrPort(bind)
	}
	if foreign || v.Interface != "" {
		d.Control = func(network, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = v.PrepareSocket(int(fd), foreign, strings.HasSuffix(network, "6"))
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	hop := dst
	socks = socks && v.SOCKS4.IsValid()
	if socks {
		hop = v.SOCKS4
	}
	c, err := d.DialContext(ctx, "tcp", hop.String())
	if err != nil || !socks {
		return c, err
	}
	deadline := time.Now().Add(timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	c.SetDeadline(deadline)
	err = SOCKS4Handshake(c, dst)
	c.SetDeadline(time.Time{})
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// ErrSOCKS4Denied is a SOCKS4 proxy's refusal (reply code other than 90).
var ErrSOCKS4Denied = errors.New("socks4: request rejected by the proxy")

// SOCKS4Handshake asks the SOCKS4 proxy at the other end of c to connect
// to dst, as HAProxy does: a CONNECT with the user id "HAProxy", then the
// proxy's 8-byte reply, whose second byte must be 90 (granted). SOCKS4
// carries IPv4 destinations only.
func SOCKS4Handshake(c io.ReadWriter, dst netip.AddrPort) error {
	ip := dst.Addr().Unmap()
	if !ip.Is4() {
		return fmt.Errorf("socks4: destination %s is not an IPv4 address", dst)
	}
	var req [16]byte
	req[0], req[1] = 4, 1
	binary.BigEndian.PutUint16(req[2:4], dst.Port())
	a4 := ip.As4()
	copy(req[4:8], a4[:])
	copy(req[8:], "HAProxy\x00")
	if _, err := c.Write(req[:]); err != nil {
		return fmt.Errorf("socks4: send request: %w", err)
	}
	var rsp [8]byte
	if _, err := io.ReadFull(c, rsp[:]); err != nil {
		return fmt.Errorf("socks4: read reply: %w", err)
	}
	if rsp[1] != 90 {
		return fmt.Errorf("%w (code %d)", ErrSOCKS4Denied, rsp[1])
	}
	return nil
}

// PrepareSocket readies a server socket before its bind and connect:
// IP_TRANSPARENT for a foreign source (usesrc; needs CAP_NET_ADMIN), and
// SO_BINDTODEVICE for `interface` (needs CAP_NET_RAW).
func (v *Via) PrepareSocket(fd int, foreign, v6 bool) error {
	if foreign {
		if err := SetTransparent(fd, v6); err != nil {
			return err
		}
	}
	if v != nil && v.Interface != "" {
		if err := syscall.SetsockoptString(fd, syscall.SOL_SOCKET, syscall.SO_BINDTODEVICE, v.Interface); err != nil {
			return fmt.Errorf("source interface %s: %w", v.Interface, os.NewSyscallError("setsockopt", err))
		}
	}
	return nil
}

// SetTransparent sets IP_TRANSPARENT (IPV6_TRANSPARENT when v6) on fd.
func SetTransparent(fd int, v6 bool) error {
	lvl, opt := syscall.IPPROTO_IP, syscall.IP_TRANSPARENT
	if v6 {
		lvl, opt = syscall.IPPROTO_IPV6, 75 // IPV6_TRANSPARENT
	}
	if err := syscall.SetsockoptInt(fd, lvl, opt, 1); err != nil {
		return fmt.Errorf("usesrc: transparent socket: %w", os.NewSyscallError("setsockopt", err))
	}
	return nil
}
