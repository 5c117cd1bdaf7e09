package listen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Opts are the socket options of one bind line, HAProxy's meaning:
// `v6only` (an IPv6 socket refusing IPv4-mapped clients), `interface
// NAME` (SO_BINDTODEVICE: only connections arriving on that interface)
// and `transparent` (IP_TRANSPARENT: accept connections for addresses
// not local to the host, redirected by TPROXY rules).
type Opts struct {
	V6Only      bool
	Device      string
	Transparent bool
}

// Zero reports a bind asking for none of them.
func (o Opts) Zero() bool { return o == Opts{} }

// ListenOpts is Listen for a bind with socket options: a kept socket bound
// to the same address with exactly these options, else a new one set up
// with them before bind(2). Without options it is Listen.
func (inv *Inventory) ListenOpts(network, addr string, o Opts) (net.Listener, error) {
	if o.Zero() {
		return inv.Listen(network, addr)
	}
	want, ok := resolve(network, addr)
	if ok && inv != nil {
		if l := inv.takeOpts(network, want, o); l != nil {
			return l, nil
		}
	}
	lc := net.ListenConfig{Control: func(sockNet, _ string, rc syscall.RawConn) error {
		var serr error
		v6 := strings.HasSuffix(sockNet, "6") // the socket's family, as Go chose it
		if err := rc.Control(func(fd uintptr) { serr = o.apply(int(fd), v6) }); err != nil {
			return err
		}
		return serr
	}}
	l, err := lc.Listen(context.Background(), family(network, addr), addr)
	if err != nil {
		return nil, err
	}
	if inv == nil {
		return l, nil
	}
	return inv.track(l), nil
}

// apply sets o on a socket about to be bound; v6: an AF_INET6 socket.
func (o Opts) apply(fd int, v6 bool) error {
	if o.V6Only && v6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
			return fmt.Errorf("v6only: %w", err)
		}
	}
	if o.Device != "" {
		if err := unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, o.Device); err != nil {
			return fmt.Errorf("interface %s: %w", o.Device, err)
		}
	}
	if o.Transparent {
		lvl, opt := unix.IPPROTO_IP, unix.IP_TRANSPARENT
		if v6 {
			lvl, opt = unix.IPPROTO_IPV6, unix.IPV6_TRANSPARENT
		}
		if err := unix.SetsockoptInt(fd, lvl, opt, 1); err != nil {
			if errors.Is(err, unix.EPERM) {
				return fmt.Errorf("transparent: IP_TRANSPARENT needs the CAP_NET_ADMIN capability (run as root or grant it, e.g. AmbientCapabilities=CAP_NET_ADMIN): %w", err)
			}
			return fmt.Errorf("transparent: %w", err)
		}
	}
	return nil
}

// takeOpts returns the kept socket bound to want whose options are
// exactly o (as the kernel reports them), or nil.
func (inv *Inventory) takeOpts(network string, want netip.AddrPort, o Opts) net.Listener {
	inv.mu.Lock()
	i := -1
	for j, k := range inv.free {
		if k.fd < 0 && k.network == network && k.addr == want && k.props.sameAs(o, want) {
			i = j
			break
		}
	}
	if i < 0 {
		inv.mu.Unlock()
		return nil
	}
	k := inv.free[i]
	inv.free = append(inv.free[:i], inv.free[i+1:]...)
	inv.mu.Unlock()
	l, err := FileListener(k.f)
	k.f.Close()
	if err != nil {
		return nil // bind anew
	}
	return inv.track(l)
}

// sameAs reports whether a kept socket's properties are those a bind with
// o at want would set.
func (p Props) sameAs(o Opts, want netip.AddrPort) bool {
	v6 := want.Addr().Is6() && !want.Addr().Is4In6()
	if p.Interface != "" && p.Interface != o.Device || p.Namespace != "" {
		return false
	}
	// A specific IPv6 address refuses IPv4 whatever IPV6_V6ONLY says; only
	// the wildcard differs.
	v6onlyOK := !v6 || !want.Addr().IsUnspecified() || p.V6Only == o.V6Only
	return p.Device == o.Device && p.Transparent == o.Transparent && v6onlyOK
}
