package vip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/varde-lb/varde/vip/vrrp"
)

// Transport sends and receives VRRP messages on one interface. The real one
// uses raw IP sockets; tests may inject another.
type Transport interface {
	// Send writes one VRRP message from src to dst.
	Send(msg []byte, src, dst netip.Addr) error
	// Recv blocks for the next VRRP message addressed to this host.
	Recv() (vrrp.Received, error)
	Close() error
}

// ErrCapability is wrapped by errors caused by missing privileges.
var ErrCapability = errors.New("missing capability")

func capErr(capName, what string, err error) error {
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		return fmt.Errorf("vip: %s needs %s (run as root or grant it, e.g. AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN): %w: %w", what, capName, ErrCapability, err)
	}
	return fmt.Errorf("vip: %s: %w", what, err)
}

// rawTransport4 is VRRP over IPv4: a raw socket of protocol 112 with
// IP_HDRINCL, so source, TOS 0xC0 and TTL 255 are exactly keepalived's.
type rawTransport4 struct {
	c   *ipv4.RawConn
	pc  net.PacketConn
	ifi *net.Interface
	id  atomic.Uint32
}

func bindToDevice(ifname string) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if serr = unix.BindToDevice(int(fd), ifname); serr != nil {
				return
			}
			// Only groups joined on this socket, not every group the host joined.
			if network == "ip4:112" {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}
}

func openTransport4(ifi *net.Interface, multicast bool) (Transport, error) {
	lc := net.ListenConfig{Control: bindToDevice(ifi.Name)}
	pc, err := lc.ListenPacket(context.Background(), "ip4:112", "0.0.0.0")
	if err != nil {
		return nil, capErr("CAP_NET_RAW", "opening the raw VRRP socket", err)
	}
	rc, err := ipv4.NewRawConn(pc)
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("vip: raw conn: %w", err)
	}
	t := &rawTransport4{c: rc, pc: pc, ifi: ifi}
	if err := rc.SetMulticastInterface(ifi); err != nil {
		t.Close()
		return nil, fmt.Errorf("vip: multicast interface %s: %w", ifi.Name, err)
	}
	_ = rc.SetMulticastLoopback(false)
	if multicast {
		// Joining makes the kernel deliver the group and send IGMP
		// reports, which snooping switches need.
		if err := rc.JoinGroup(ifi, &net.IPAddr{IP: vrrp.Group4.AsSlice()}); err != nil {
			t.Close()
			return nil, fmt.Errorf("vip: join 224.0.0.18 on %s: %w", ifi.Name, err)
		}
	}
	return t, nil
}

func (t *rawTransport4) Send(msg []byte, src, dst netip.Addr) error {
	h := &ipv4.Header{
		Version:  4,
		Len:      ipv4.HeaderLen,
		TOS:      0xc0, // CS6, as keepalived
		TotalLen: ipv4.HeaderLen + len(msg),
		ID:       int(uint16(t.id.Add(1))),
		TTL:      255,
		Protocol: vrrp.Protocol,
		Src:      src.AsSlice(),
		Dst:      dst.AsSlice(),
	}
	return t.c.WriteTo(h, msg, nil)
}

func (t *rawTransport4) Recv() (vrrp.Received, error) {
	buf := make([]byte, 1500)
	for {
		h, p, _, err := t.c.ReadFrom(buf)
		if err != nil {
			return vrrp.Received{}, err
		}
		if h == nil || h.Protocol != vrrp.Protocol {
			continue
		}
		src, _ := netip.AddrFromSlice(h.Src.To4())
		dst, _ := netip.AddrFromSlice(h.Dst.To4())
		return vrrp.Received{Payload: append([]byte(nil), p...), Src: src, Dst: dst, TTL: h.TTL}, nil
	}
}

func (t *rawTransport4) Close() error { return t.pc.Close() }

// rawTransport6 is VRRPv3 over IPv6; the kernel computes and verifies the
// checksum (IPV6_CHECKSUM offset 6) and reports the hop limit.
type rawTransport6 struct {
	c   *ipv6.PacketConn
	pc  net.PacketConn
	ifi *net.Interface
}

func openTransport6(ifi *net.Interface, multicast bool) (Transport, error) {
	lc := net.ListenConfig{Control: bindToDevice(ifi.Name)}
	pc, err := lc.ListenPacket(context.Background(), "ip6:112", "::")
	if err != nil {
		return nil, capErr("CAP_NET_RAW", "opening the raw VRRP socket", err)
	}
	c := ipv6.NewPacketConn(pc)
	t := &rawTransport6{c: c, pc: pc, ifi: ifi}
	for _, err := range []error{
		c.SetChecksum(true, 6),
		c.SetMulticastHopLimit(255),
		c.SetTrafficClass(0xc0),
		c.SetMulticastInterface(ifi),
		c.SetMulticastLoopback(false),
		c.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst, true),
	} {
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("vip: ipv6 socket options: %w", err)
		}
	}
	if multicast {
		if err := c.JoinGroup(ifi, &net.IPAddr{IP: vrrp.Group6.AsSlice()}); err != nil {
			t.Close()
			return nil, fmt.Errorf("vip: join ff02::12 on %s: %w", ifi.Name, err)
		}
	}
	return t, nil
}

func (t *rawTransport6) Send(msg []byte, src, dst netip.Addr) error {
	cm := &ipv6.ControlMessage{Src: src.AsSlice(), IfIndex: t.ifi.Index}
	_, err := t.c.WriteTo(msg, cm, &net.IPAddr{IP: dst.AsSlice(), Zone: t.ifi.Name})
	return err
}

func (t *rawTransport6) Recv() (vrrp.Received, error) {
	buf := make([]byte, 1500)
	for {
		n, cm, from, err := t.c.ReadFrom(buf)
		if err != nil {
			return vrrp.Received{}, err
		}
		ia, ok := from.(*net.IPAddr)
		if !ok {
			continue
		}
		src, _ := netip.AddrFromSlice(ia.IP)
		r := vrrp.Received{Payload: append([]byte(nil), buf[:n]...), Src: src.WithZone(""), TTL: -1}
		if cm != nil {
			r.TTL = cm.HopLimit
			// The kernel checked the checksum; without Dst, Check skips it.
			r.Dst, _ = netip.AddrFromSlice(cm.Dst)
			if r.Dst.IsValid() {
				r.Dst = r.Dst.WithZone("")
			}
		}
		return r, nil
	}
}

func (t *rawTransport6) Close() error { return t.pc.Close() }
